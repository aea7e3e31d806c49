"""Transactions as the station's TransactionEvents build them, with meter values and energy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from kilowatt.messages import v201

from .conftest import Connect
from .station import SimulatedStation

START = datetime(2025, 1, 1, 8, tzinfo=UTC)


def energy(at: datetime, wh: float) -> v201.MeterValueType:
    return v201.MeterValueType(
        timestamp=at,
        sampled_value=[
            v201.SampledValueType(
                value=wh,
                measurand=v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER,
                unit_of_measure=v201.UnitOfMeasureType(unit="Wh"),
            )
        ],
    )


async def send_event(
    station: SimulatedStation,
    kind: v201.TransactionEventEnumType,
    seq_no: int,
    minutes: int,
    wh: float,
    **info: object,
) -> None:
    at = START + timedelta(minutes=minutes)
    await station.connection.call(
        v201.TransactionEventRequest(
            event_type=kind,
            timestamp=at,
            trigger_reason=v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
            seq_no=seq_no,
            transaction_info=v201.TransactionType(transaction_id="TX-1", **info),  # type: ignore[arg-type]
            evse=v201.EVSEType(id=1, connector_id=1),
            id_token=v201.IdTokenType(id_token="04A1", type=v201.IdTokenEnumType.ISO14443),
            meter_value=[energy(at, wh)],
        )
    )


async def test_a_transaction_with_its_events_meter_values_and_energy(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.boot()
    await send_event(station, v201.TransactionEventEnumType.STARTED, 0, 0, 12000)
    await send_event(
        station,
        v201.TransactionEventEnumType.UPDATED,
        1,
        30,
        13500,
        charging_state=v201.ChargingStateEnumType.CHARGING,
    )

    [active] = (await client.get("/api/v1/transactions", params={"active": True})).json()
    assert active["transaction_id"] == "TX-1"
    assert active["active"] is True
    assert active["energy_wh"] == 1500
    assert active["charging_state"] == "Charging"
    assert (await client.get("/api/v1/transactions", params={"active": False})).json() == []

    await send_event(
        station,
        v201.TransactionEventEnumType.ENDED,
        2,
        60,
        15250,
        stopped_reason=v201.ReasonEnumType.EV_DISCONNECTED,
    )
    [ended] = (await client.get("/api/v1/transactions", params={"station_id": "CS1"})).json()
    assert ended["active"] is False
    assert ended["started_at"] == "2025-01-01T08:00:00.000Z"
    assert ended["ended_at"] == "2025-01-01T09:00:00.000Z"
    assert (ended["meter_start_wh"], ended["meter_last_wh"], ended["energy_wh"]) == (
        12000,
        15250,
        3250,
    )
    assert ended["stopped_reason"] == "EVDisconnected"
    assert (ended["evse_id"], ended["connector_id"]) == (1, 1)
    assert (ended["id_token"], ended["id_token_type"]) == ("04A1", "ISO14443")
    assert ended["event_count"] == 3
    assert ended["seq_nos_missing"] == []

    detail = (await client.get("/api/v1/transactions/CS1/TX-1")).json()
    assert detail["energy_wh"] == 3250
    assert [(e["seq_no"], e["event_type"]) for e in detail["events"]] == [
        (0, "Started"),
        (1, "Updated"),
        (2, "Ended"),
    ]
    assert detail["events"][2]["payload"]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert [(m["timestamp"], m["value"]) for m in detail["meter_values"]] == [
        ("2025-01-01T08:00:00.000Z", 12000),
        ("2025-01-01T08:30:00.000Z", 13500),
        ("2025-01-01T09:00:00.000Z", 15250),
    ]
    assert {m["measurand"] for m in detail["meter_values"]} == {"Energy.Active.Import.Register"}
    assert detail["meter_values"][0]["unit"] == "Wh"


async def test_filters_and_unknown_transactions(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.boot()
    await send_event(station, v201.TransactionEventEnumType.STARTED, 0, 0, 0)
    assert (await client.get("/api/v1/transactions", params={"station_id": "CS2"})).json() == []
    missing = await client.get("/api/v1/transactions/CS1/TX-2")
    assert missing.status_code == 404
    assert missing.json()["error"] == "transaction_not_found"
    assert (await client.get("/api/v1/transactions/CS2/TX-1")).status_code == 404
    bad = await client.get("/api/v1/transactions", params={"active": "perhaps"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.active"
