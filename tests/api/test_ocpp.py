"""The raw OCPP route: every CSMS-initiated action of 2.0.1, and every way a call ends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.csms.store import StationRecord
from kilowatt.messages import VERSIONS, CustomData, Response, v201
from kilowatt.rpc import GenericError

from .conftest import Connect
from .minimal import minimal_message, minimal_payload

OCPP201 = VERSIONS["2.0.1"]
CSMS_ACTIONS = sorted(OCPP201.sent_by("csms"))
RESET = "/api/v1/stations/CS1/ocpp/Reset"


def test_the_csms_sends_39_actions_and_data_transfer() -> None:
    # OCPP 2.0.1 lists 39 CSMS-initiated requests; DataTransfer goes both ways and makes 40.
    assert len(CSMS_ACTIONS) == 40
    assert "DataTransfer" in OCPP201.sent_by("station")
    assert len(set(CSMS_ACTIONS) - OCPP201.sent_by("station")) == 39


async def answer_minimally(request: Any) -> Response:
    response: Response = minimal_message(request.RESPONSE_TYPE)
    return response


@pytest.mark.parametrize("action", CSMS_ACTIONS)
async def test_every_csms_action_reaches_the_station(
    client: httpx.AsyncClient, connect: Connect, action: str
) -> None:
    station = await connect("CS1", answer=answer_minimally)
    payload = minimal_payload(OCPP201.requests[action])
    answer = await client.post(f"/api/v1/stations/CS1/ocpp/{action}", json=payload)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "action": action,
        "response": minimal_payload(OCPP201.responses[action]),
    }
    [received] = station.received
    assert isinstance(received, OCPP201.requests[action])


async def test_the_payload_goes_out_exactly_as_given(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    payload = {
        "type": "OnIdle",
        "evseId": 2,
        "customData": {"vendorId": "com.example", "extra": [1, 2]},
    }
    answer = await client.post(RESET, json=payload)
    assert answer.status_code == 200
    [received] = station.received
    assert isinstance(received, v201.ResetRequest)
    assert received.type == v201.ResetEnumType.ON_IDLE
    assert received.evse_id == 2
    assert isinstance(received.custom_data, CustomData)
    assert received.custom_data.extra == {"extra": [1, 2]}


async def test_a_pending_station_and_one_not_booted_are_reached(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    await csms.store.put_station(StationRecord(station_id="PENDING", registration_status="Pending"))
    pending = await connect("PENDING")
    assert (await pending.boot()).status == v201.RegistrationStatusEnumType.PENDING
    never_booted = await connect("FRESH")
    for station_id in ("PENDING", "FRESH"):
        answer = await client.post(
            f"/api/v1/stations/{station_id}/ocpp/Reset", json={"type": "Immediate"}
        )
        assert answer.status_code == 200, answer.text
    assert len(pending.received) == len(never_booted.received) == 1


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ("Frobnicate", "unknown_action"),
        ("reset", "unknown_action"),
        ("BootNotification", "action_not_sent_by_csms"),
        ("Heartbeat", "action_not_sent_by_csms"),
        ("TransactionEvent", "action_not_sent_by_csms"),
    ],
)
async def test_an_action_the_csms_does_not_send_is_a_404(
    client: httpx.AsyncClient, connect: Connect, action: str, error: str
) -> None:
    station = await connect("CS1")
    answer = await client.post(f"/api/v1/stations/CS1/ocpp/{action}", json={})
    assert answer.status_code == 404
    body = answer.json()
    assert body["error"] == error
    assert action in body["detail"]
    assert station.received == []


async def test_an_unknown_station_is_a_404(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/stations/nope/ocpp/Reset", json={"type": "Immediate"})
    assert answer.status_code == 404
    assert answer.json()["error"] == "station_not_found"


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({}, "OccurrenceConstraintViolation", "type"),
        ({"type": "Sometime"}, "PropertyConstraintViolation", "type"),
        ({"type": "Immediate", "evseId": "1"}, "TypeConstraintViolation", "evseId"),
        ({"type": "Immediate", "colour": "red"}, "FormatViolation", "colour"),
    ],
)
async def test_a_schema_violation_is_a_422_with_the_code_and_field(
    client: httpx.AsyncClient,
    connect: Connect,
    payload: dict[str, Any],
    code: str,
    field: str,
) -> None:
    station = await connect("CS1")
    answer = await client.post(RESET, json=payload)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "schema_violation"
    assert body["code"] == code
    assert body["field"] == field
    assert field in body["detail"]
    assert station.received == []


async def test_a_nested_field_path_is_named(client: httpx.AsyncClient, connect: Connect) -> None:
    await connect("CS1")
    answer = await client.post(
        "/api/v1/stations/CS1/ocpp/RequestStartTransaction",
        json={"idToken": {"idToken": "T1"}, "remoteStartId": 1},
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "idToken.type"
    assert answer.json()["code"] == "OccurrenceConstraintViolation"


async def test_a_body_that_is_not_json_is_a_format_violation(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    await connect("CS1")
    answer = await client.post(RESET, content=b'{"type": ')
    assert answer.status_code == 422
    assert answer.json()["code"] == "FormatViolation"


async def test_a_station_not_connected_is_a_409(csms: Csms, client: httpx.AsyncClient) -> None:
    await csms.store.put_station(StationRecord(station_id="CS1"))
    answer = await client.post(RESET, json={"type": "Immediate"})
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "station_not_connected",
        "detail": "station 'CS1' is not connected",
    }


async def test_a_callerror_is_a_502_with_code_description_details(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    async def refuse(request: Any) -> Response:
        raise GenericError("the charger is busy", {"retryIn": 30})

    await connect("CS1", answer=refuse)
    answer = await client.post(RESET, json={"type": "Immediate"})
    assert answer.status_code == 502
    body = answer.json()
    assert body["error"] == "call_error"
    assert body["code"] == "GenericError"
    assert body["description"] == "the charger is busy"
    assert body["details"] == {"retryIn": 30}
    assert "GenericError: the charger is busy" in body["detail"]


async def test_an_invalid_response_is_a_502(client: httpx.AsyncClient, connect: Connect) -> None:
    async def garble(request: Any) -> Response:
        # Structs are not checked when built: this one breaks the schema on the wire.
        return v201.ResetResponse(status="Perhaps")  # type: ignore[arg-type]

    await connect("CS1", answer=garble)
    answer = await client.post(RESET, json={"type": "Immediate"})
    assert answer.status_code == 502
    body = answer.json()
    assert body["error"] == "invalid_response"
    assert body["field"] == "status"


async def test_a_call_unanswered_in_time_is_a_504(
    client: httpx.AsyncClient, connect: Connect, clock: ManualClock, csms: Csms
) -> None:
    station = await connect("CS1")
    station.hold = asyncio.Event()
    call = asyncio.create_task(client.post(RESET, json={"type": "Immediate"}))
    await station.call_arrived.wait()
    await clock.advance(csms.settings.call_timeout - 0.5)
    assert not call.done()
    await clock.advance(1)
    async with asyncio.timeout(5):
        answer = await call
    assert answer.status_code == 504
    assert answer.json() == {
        "error": "call_timeout",
        "detail": "station 'CS1' did not answer Reset within 10 s",
    }


async def test_a_call_on_a_connection_that_drops_fails_at_once(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    station.hold = asyncio.Event()
    call = asyncio.create_task(client.post(RESET, json={"type": "Immediate"}))
    await station.call_arrived.wait()
    await station.close()
    # No clock advance: the call ends because the connection did, not by its timeout.
    async with asyncio.timeout(5):
        answer = await call
    assert answer.status_code == 502
    assert answer.json()["error"] == "connection_lost"
    assert "closed before it answered Reset" in answer.json()["detail"]


async def test_a_frame_over_the_size_limit_is_a_413(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    huge = {"vendorId": "v", "data": "x" * csms.settings.max_frame_size}
    answer = await client.post("/api/v1/stations/CS1/ocpp/DataTransfer", json=huge)
    assert answer.status_code == 413
    assert answer.json()["error"] == "frame_too_large"
    assert station.received == []
