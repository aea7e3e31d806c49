"""OCPP 2.1 through the API: the actions 2.1 adds on the raw OCPP route (to 2.1 stations only),
a running transaction's tariff changed (I12), the cost's tariffs, and tariffs re-sent to the
stations connected over 2.1 when one is written or deleted (I07/I11)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kilowatt.api.services import CSMS_ACTIONS_21
from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.csms.store import StationRecord, TariffRecord
from kilowatt.messages import VERSIONS, Response, v21, v201
from kilowatt.rpc import GenericError

from .conftest import Connect
from .minimal import minimal_message, minimal_payload
from .station import SimulatedStation

OCPP21 = VERSIONS["2.1"]
ACTIONS_21 = sorted(CSMS_ACTIONS_21)
GET_TARIFFS = "/api/v1/stations/{}/ocpp/GetTariffs"

DAY = {"tariffId": "day", "currency": "EUR", "energy": {"prices": [{"priceKwh": 0.25}]}}
NIGHT = {"tariffId": "night", "currency": "EUR", "energy": {"prices": [{"priceKwh": 0.10}]}}
DOLLARS = {"tariffId": "dollars", "currency": "USD", "energy": {"prices": [{"priceKwh": 0.3}]}}


async def answer_minimally(request: Any) -> Response:
    response: Response = minimal_message(request.RESPONSE_TYPE)
    return response


async def accepted(station_id: str, csms: Csms) -> None:
    """Register a station as booted and Accepted: it may send TransactionEvents at once (a 2.1
    station's BootNotification would make the CSMS send it its tariffs)."""
    await csms.store.put_station(StationRecord(station_id=station_id, boot_status="Accepted"))


async def settled(csms: Csms) -> None:
    """Wait for the CSMS's background work (tariffs sent after a change) to end."""
    async with asyncio.timeout(5):
        while csms.services.background:
            await asyncio.wait(set(csms.services.background))


async def start_transaction(
    station: SimulatedStation, clock: ManualClock, transaction_id: str = "TX-1"
) -> None:
    """A transaction started half an hour ago, 1 kWh charged since, in the OCPP version the
    station speaks."""
    ocpp: Any = v21 if station.subprotocol == "ocpp2.1" else v201
    started = clock.now() - timedelta(minutes=30)

    def meter(at: Any, wh: float) -> list[Any]:
        return [
            ocpp.MeterValueType(
                timestamp=at,
                sampled_value=[
                    ocpp.SampledValueType(
                        value=wh,
                        measurand=ocpp.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER,
                        unit_of_measure=ocpp.UnitOfMeasureType(unit="Wh"),
                    )
                ],
            )
        ]

    for seq_no, (kind, at, wh) in enumerate(
        [
            (ocpp.TransactionEventEnumType.STARTED, started, 10_000.0),
            (ocpp.TransactionEventEnumType.UPDATED, clock.now(), 11_000.0),
        ]
    ):
        await station.connection.call(
            ocpp.TransactionEventRequest(
                event_type=kind,
                timestamp=at,
                trigger_reason=ocpp.TriggerReasonEnumType.CHARGING_STATE_CHANGED,
                seq_no=seq_no,
                transaction_info=ocpp.TransactionType(
                    transaction_id=transaction_id,
                    charging_state=ocpp.ChargingStateEnumType.CHARGING,
                ),
                evse=ocpp.EVSEType(id=1, connector_id=1),
                meter_value=meter(at, wh),
            )
        )


async def put_tariff(client: httpx.AsyncClient, tariff: dict[str, Any], **scope: Any) -> None:
    written = await client.put(
        f"/api/v1/tariffs/{tariff['tariffId']}", json={"tariff": tariff, **scope}
    )
    assert written.status_code == 200, written.text


# -- the raw OCPP route: the actions 2.1 adds ---------------------------------------------------


def test_ocpp_21_adds_15_csms_actions() -> None:
    assert len(ACTIONS_21) == 15
    assert {"GetTariffs", "SetDefaultTariff", "ClearTariffs", "ChangeTransactionTariff"} <= set(
        ACTIONS_21
    )
    assert not CSMS_ACTIONS_21 & VERSIONS["2.0.1"].sent_by("csms")


@pytest.mark.parametrize("action", ACTIONS_21)
async def test_every_21_action_reaches_a_station_connected_over_21(
    client: httpx.AsyncClient, connect: Connect, action: str
) -> None:
    station = await connect("CS21", answer=answer_minimally, subprotocol="ocpp2.1")
    payload = minimal_payload(OCPP21.requests[action])
    answer = await client.post(f"/api/v1/stations/CS21/ocpp/{action}", json=payload)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "action": action,
        "response": minimal_payload(OCPP21.responses[action]),
    }
    [received] = station.received
    assert isinstance(received, OCPP21.requests[action])


async def test_get_tariffs_answer_comes_back_as_the_station_sent_it(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    async def tariffs(request: Any) -> Response:
        assert isinstance(request, v21.GetTariffsRequest)
        return v21.GetTariffsResponse(
            status=v21.TariffGetStatusEnumType.ACCEPTED,
            tariff_assignments=[
                v21.TariffAssignmentType(
                    tariff_id="day",
                    tariff_kind=v21.TariffKindEnumType.DEFAULT_TARIFF,
                    evse_ids=[request.evse_id],
                )
            ],
        )

    station = await connect("CS21", answer=tariffs, subprotocol="ocpp2.1")
    answer = await client.post(GET_TARIFFS.format("CS21"), json={"evseId": 2})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "action": "GetTariffs",
        "response": {
            "status": "Accepted",
            "tariffAssignments": [
                {"tariffId": "day", "tariffKind": "DefaultTariff", "evseIds": [2]}
            ],
        },
    }
    [received] = station.received
    assert received == v21.GetTariffsRequest(evse_id=2)


async def test_a_21_action_to_a_station_connected_over_201_is_a_409(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    answer = await client.post(GET_TARIFFS.format("CS1"), json={"evseId": 0})
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "not_supported_by_station"
    assert "OCPP 2.0.1" in body["detail"]
    assert "GetTariffs" in body["detail"]
    assert station.received == []


async def test_a_21_action_to_a_station_not_connected_is_a_409(
    csms: Csms, client: httpx.AsyncClient
) -> None:
    await csms.store.put_station(StationRecord(station_id="CS21"))
    answer = await client.post(GET_TARIFFS.format("CS21"), json={"evseId": 0})
    assert answer.status_code == 409
    assert answer.json()["error"] == "station_not_connected"


async def test_a_21_action_to_an_unknown_station_is_a_404(client: httpx.AsyncClient) -> None:
    answer = await client.post(GET_TARIFFS.format("nope"), json={"evseId": 0})
    assert (answer.status_code, answer.json()["error"]) == (404, "station_not_found")


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({}, "OccurrenceConstraintViolation", "evseId"),
        ({"evseId": -1}, "PropertyConstraintViolation", "evseId"),
        ({"evseId": 0, "colour": "red"}, "FormatViolation", "colour"),
    ],
)
async def test_a_21_schema_violation_is_a_422_with_the_field(
    client: httpx.AsyncClient, connect: Connect, payload: dict[str, Any], code: str, field: str
) -> None:
    station = await connect("CS21", subprotocol="ocpp2.1")
    answer = await client.post(GET_TARIFFS.format("CS21"), json=payload)
    assert answer.status_code == 422
    body = answer.json()
    assert (body["error"], body["code"], body["field"]) == ("schema_violation", code, field)
    assert "breaks the OCPP 2.1 schema" in body["detail"]
    assert station.received == []


async def test_a_201_action_is_checked_against_the_version_the_station_speaks(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    # customTrigger is a field 2.1 adds to TriggerMessage.
    payload = {"requestedMessage": "CustomTrigger", "customTrigger": "com.example.ping"}
    station21 = await connect("CS21", answer=answer_minimally, subprotocol="ocpp2.1")
    station201 = await connect("CS1", answer=answer_minimally)
    answer = await client.post("/api/v1/stations/CS21/ocpp/TriggerMessage", json=payload)
    assert answer.status_code == 200, answer.text
    [received] = station21.received
    assert isinstance(received, v21.TriggerMessageRequest)
    assert received.custom_trigger == "com.example.ping"
    refused = await client.post("/api/v1/stations/CS1/ocpp/TriggerMessage", json=payload)
    assert refused.status_code == 422
    assert "breaks the OCPP 2.0.1 schema" in refused.json()["detail"]
    assert station201.received == []


async def test_an_invalid_21_answer_is_a_502_naming_21(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    async def garble(request: Any) -> Response:
        return v21.GetTariffsResponse(status="Perhaps")  # type: ignore[arg-type]

    await connect("CS21", answer=garble, subprotocol="ocpp2.1")
    answer = await client.post(GET_TARIFFS.format("CS21"), json={"evseId": 0})
    assert answer.status_code == 502
    body = answer.json()
    assert (body["error"], body["field"]) == ("invalid_response", "status")
    assert "breaks the OCPP 2.1 schema" in body["detail"]


@pytest.mark.parametrize(
    ("action", "error"),
    [("NotifyDERAlarm", "action_not_sent_by_csms"), ("Frobnicate", "unknown_action")],
)
async def test_a_21_action_the_csms_does_not_send_is_a_404(
    client: httpx.AsyncClient, connect: Connect, action: str, error: str
) -> None:
    station = await connect("CS21", subprotocol="ocpp2.1")
    answer = await client.post(f"/api/v1/stations/CS21/ocpp/{action}", json={})
    assert (answer.status_code, answer.json()["error"]) == (404, error)
    assert action in answer.json()["detail"]
    assert station.received == []


async def test_each_21_action_is_documented_with_its_21_schemas(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    for action in ACTIONS_21:
        operation = paths[f"/api/v1/stations/{{station_id}}/ocpp/{action}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/OCPP21_{action}Request"}
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["properties"]["response"] == {
            "$ref": f"#/components/schemas/OCPP21_{action}Response"
        }
        assert {"401", "404", "409", "422", "502", "504"} <= operation["responses"].keys()
    # 2.1's IdTokenType (its type a free string) and 2.0.1's (an enumeration) both stand.
    assert schemas["OCPP21_IdTokenType"] != schemas["IdTokenType"]
    assert "OCPP21_IdTokenType" in str(schemas["OCPP21_RequestBatterySwapRequest"])


# -- a running transaction's tariff changed (I12) ---------------------------------------------


@pytest.fixture
async def transaction(
    csms: Csms, client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> SimulatedStation:
    """TX-1 running at CS1 (OCPP 2.0.1) under the default tariff "day"; "night" (EUR) and
    "dollars" (USD) exist too."""
    await put_tariff(client, DAY, default=True)
    await put_tariff(client, NIGHT)
    await put_tariff(client, DOLLARS)
    await accepted("CS1", csms)
    station = await connect("CS1")
    await start_transaction(station, clock)
    return station


def change_route(transaction_id: str = "TX-1", station_id: str = "CS1") -> str:
    return f"/api/v1/transactions/{station_id}/{transaction_id}/tariff"


async def test_a_201_transaction_changes_tariff_in_the_csms_alone(
    csms: Csms, client: httpx.AsyncClient, clock: ManualClock, transaction: SimulatedStation
) -> None:
    answer = await client.post(change_route(), json={"tariff_id": "night"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "Accepted"}
    rows = await csms.store.transaction_tariffs("CS1", "TX-1")
    assert [(row.position, row.tariff_id) for row in rows] == [(0, "day"), (1, "night")]
    assert rows[1].at == clock.now()
    # A 2.0.1 station prices nothing itself: it is told the running cost under the new
    # price at once (I02), not asked to change anything.
    await settled(csms)
    [told] = transaction.received
    assert isinstance(told, v201.CostUpdatedRequest) and told.transaction_id == "TX-1"
    record = await csms.store.get_transaction("CS1", "TX-1")
    assert record is not None
    cost = await csms.pricing.cost(record, clock.now())
    assert cost is not None and told.total_cost == float(cost.total_cost)


async def test_the_running_cost_goes_out_at_the_configured_interval(
    settings: Any, store: Any, clock: ManualClock, connect: Connect
) -> None:
    """With cost_updated_interval set, a 2.0.1 station gets a CostUpdated every interval
    during a transaction, whether meter values come or not."""
    timed = Csms(replace(settings, cost_updated_interval=60.0), store, clock)
    await timed.pricing.put(TariffRecord("day", json.dumps(DAY), True, None, None, clock.now()))
    await timed.start()
    try:
        await accepted("CS9", timed)
        station = SimulatedStation(timed, "CS9", None, "ocpp2.0.1")
        await station.start()
        await start_transaction(station, clock)
        await settled(timed)
        assert station.received == []  # no periodic reading: nothing yet
        costs: list[v201.CostUpdatedRequest] = []
        for minute in (1, 2):
            await clock.advance(60)
            async with asyncio.timeout(5):  # the timer reads the store, then sends
                while len(costs) < minute:
                    await asyncio.sleep(0.01)
                    costs = [r for r in station.received if isinstance(r, v201.CostUpdatedRequest)]
            assert len(costs) == minute
        assert costs[-1].transaction_id == "TX-1" and costs[-1].total_cost > 0
        await station.close()
    finally:
        timed.close()


async def test_the_cost_lists_every_tariff_in_force(
    client: httpx.AsyncClient, clock: ManualClock, transaction: SimulatedStation
) -> None:
    before = await client.get("/api/v1/transactions/CS1/TX-1/cost")
    assert before.status_code == 200, before.text
    assert (before.json()["tariff_id"], before.json()["tariff_ids"]) == ("day", ["day"])
    assert (await client.post(change_route(), json={"tariff_id": "night"})).status_code == 200
    await clock.advance(60)
    after = await client.get("/api/v1/transactions/CS1/TX-1/cost")
    assert after.status_code == 200, after.text
    assert (after.json()["tariff_id"], after.json()["tariff_ids"]) == ("night", ["day", "night"])


async def test_a_change_to_another_currency_is_a_409(
    csms: Csms, client: httpx.AsyncClient, transaction: SimulatedStation
) -> None:
    answer = await client.post(change_route(), json={"tariff_id": "dollars"})
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "tariff_change_refused"
    assert "EUR" in body["detail"]
    rows = await csms.store.transaction_tariffs("CS1", "TX-1")
    assert [row.tariff_id for row in rows] == ["day"]


@pytest.mark.parametrize(
    ("route", "tariff_id", "error"),
    [
        (change_route("TX-9"), "night", "transaction_not_found"),
        (change_route("TX-1", "CS9"), "night", "transaction_not_found"),
        (change_route(), "nope", "tariff_not_found"),
    ],
)
async def test_an_unknown_transaction_or_tariff_is_a_404(
    client: httpx.AsyncClient,
    transaction: SimulatedStation,
    route: str,
    tariff_id: str,
    error: str,
) -> None:
    answer = await client.post(route, json={"tariff_id": tariff_id})
    assert (answer.status_code, answer.json()["error"]) == (404, error)


async def test_an_ended_transaction_is_a_404(
    csms: Csms, client: httpx.AsyncClient, clock: ManualClock, transaction: SimulatedStation
) -> None:
    await transaction.connection.call(
        v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnumType.ENDED,
            timestamp=clock.now(),
            trigger_reason=v201.TriggerReasonEnumType.EV_DEPARTED,
            seq_no=2,
            transaction_info=v201.TransactionType(transaction_id="TX-1"),
        )
    )
    answer = await client.post(change_route(), json={"tariff_id": "night"})
    assert (answer.status_code, answer.json()["error"]) == (404, "transaction_not_found")
    assert "ended" in answer.json()["detail"]
    rows = await csms.store.transaction_tariffs("CS1", "TX-1")
    assert [row.tariff_id for row in rows] == ["day"]


@pytest.mark.parametrize(
    "body", [{}, {"tariff_id": ""}, {"tariff_id": 7}, {"tariff_id": "night", "at": "now"}]
)
async def test_a_broken_change_body_is_a_422(
    client: httpx.AsyncClient, transaction: SimulatedStation, body: dict[str, Any]
) -> None:
    answer = await client.post(change_route(), json=body)
    assert (answer.status_code, answer.json()["error"]) == (422, "validation_error")


async def running_21(
    csms: Csms, client: httpx.AsyncClient, connect: Connect, clock: ManualClock, answer: Any
) -> SimulatedStation:
    """TX-1 running at CS21, connected over OCPP 2.1, under "day"; "night" exists too."""
    await put_tariff(client, DAY, default=True)
    await put_tariff(client, NIGHT)
    await accepted("CS21", csms)
    station = await connect("CS21", answer=answer, subprotocol="ocpp2.1")
    await start_transaction(station, clock)
    return station


async def test_a_21_station_is_asked_and_its_acceptance_makes_the_change(
    csms: Csms, client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> None:
    async def accept(request: Any) -> Response:
        return v21.ChangeTransactionTariffResponse(status=v21.TariffChangeStatusEnumType.ACCEPTED)

    station = await running_21(csms, client, connect, clock, accept)
    answer = await client.post(change_route(station_id="CS21"), json={"tariff_id": "night"})
    assert answer.json() == {"status": "Accepted"}
    [asked] = station.received
    assert isinstance(asked, v21.ChangeTransactionTariffRequest)
    assert (asked.transaction_id, asked.tariff.tariff_id) == ("TX-1", "night")
    rows = await csms.store.transaction_tariffs("CS21", "TX-1")
    assert [row.tariff_id for row in rows] == ["day", "night"]


async def test_a_21_station_away_is_not_changed_behind_its_back(
    csms: Csms, client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> None:
    """It prices locally: a change it never heard of would make the two ends disagree, so the
    CSMS refuses while it is disconnected (a 2.0.1 station's change needs no one's consent)."""
    station = await running_21(csms, client, connect, clock, answer_minimally)
    await station.close()
    answer = await client.post(change_route(station_id="CS21"), json={"tariff_id": "night"})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "station_not_connected", answer.text
    rows = await csms.store.transaction_tariffs("CS21", "TX-1")
    assert [row.tariff_id for row in rows] == ["day"]


async def test_a_21_stations_refusal_is_its_status_and_no_change(
    csms: Csms, client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> None:
    async def refuse(request: Any) -> Response:
        return v21.ChangeTransactionTariffResponse(
            status=v21.TariffChangeStatusEnumType.TX_NOT_FOUND
        )

    await running_21(csms, client, connect, clock, refuse)
    answer = await client.post(change_route(station_id="CS21"), json={"tariff_id": "night"})
    assert (answer.status_code, answer.json()) == (200, {"status": "TxNotFound"})
    rows = await csms.store.transaction_tariffs("CS21", "TX-1")
    assert [row.tariff_id for row in rows] == ["day"]


async def test_a_21_stations_callerror_is_a_502(
    csms: Csms, client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> None:
    async def fail(request: Any) -> Response:
        raise GenericError("busy")

    await running_21(csms, client, connect, clock, fail)
    answer = await client.post(change_route(station_id="CS21"), json={"tariff_id": "night"})
    assert answer.status_code == 502
    assert (answer.json()["error"], answer.json()["code"]) == ("call_error", "GenericError")
    rows = await csms.store.transaction_tariffs("CS21", "TX-1")
    assert [row.tariff_id for row in rows] == ["day"]


# -- tariffs re-sent to the stations connected over 2.1 ---------------------------------------


def actions(station: SimulatedStation) -> list[str]:
    return [request.ACTION for request in station.received]


async def test_a_tariff_written_or_deleted_is_sent_to_the_21_stations(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station21 = await connect("CS21", answer=answer_minimally, subprotocol="ocpp2.1")
    station201 = await connect("CS1", answer=answer_minimally)
    await put_tariff(client, DAY, default=True)
    await settled(csms)
    assert actions(station21) == ["ClearTariffs", "SetDefaultTariff"]
    set_default = station21.received[1]
    assert isinstance(set_default, v21.SetDefaultTariffRequest)
    assert (set_default.evse_id, set_default.tariff.tariff_id) == (0, "day")

    station21.received.clear()
    await put_tariff(client, NIGHT, stations=["CS21"])
    await settled(csms)
    sent = [
        r.tariff.tariff_id for r in station21.received if isinstance(r, v21.SetDefaultTariffRequest)
    ]
    assert actions(station21)[0] == "ClearTariffs"
    assert sent == ["day", "night"]

    station21.received.clear()
    assert (await client.delete("/api/v1/tariffs/day")).status_code == 204
    await settled(csms)
    assert actions(station21) == ["ClearTariffs", "SetDefaultTariff"]
    assert station21.received[1].tariff.tariff_id == "night"  # type: ignore[attr-defined]
    assert station201.received == []


async def test_tariffs_written_in_a_row_reach_a_station_in_order(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS21", answer=answer_minimally, subprotocol="ocpp2.1")
    station.hold = asyncio.Event()
    await put_tariff(client, DAY, default=True)
    await station.call_arrived.wait()
    await put_tariff(client, NIGHT, default=True)
    assert (await client.delete("/api/v1/tariffs/day")).status_code == 204
    station.hold.set()
    await settled(csms)
    # Each sending waits for the one before: never a ClearTariffs amid another's tariffs, and
    # the last one leaves the station with "night" alone.
    assert actions(station) == ["ClearTariffs", "SetDefaultTariff"] * 3
    last = station.received[-1]
    assert isinstance(last, v21.SetDefaultTariffRequest)
    assert last.tariff.tariff_id == "night"


async def test_a_station_failing_the_sending_fails_no_request(
    csms: Csms,
    client: httpx.AsyncClient,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fail(request: Any) -> Response:
        raise GenericError("no room for tariffs")

    station = await connect("CS21", answer=fail, subprotocol="ocpp2.1")
    with caplog.at_level(logging.WARNING, logger="kilowatt.api.tariffs"):
        written = await client.put("/api/v1/tariffs/day", json={"tariff": DAY, "default": True})
        assert written.status_code == 200
        await settled(csms)
    assert actions(station) == ["ClearTariffs"]
    assert "CS21" in caplog.text
    assert "no room for tariffs" in caplog.text


async def test_a_tariff_refused_is_no_change(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS21", subprotocol="ocpp2.1")
    broken = await client.put("/api/v1/tariffs/day", json={"tariff": {"tariffId": "day"}})
    assert broken.status_code == 422
    missing = await client.delete("/api/v1/tariffs/nope")
    assert missing.status_code == 404
    await settled(csms)
    assert station.received == []
