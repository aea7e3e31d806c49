"""The message log (every frame both ways, in order) and the station reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from kilowatt.clock import ManualClock
from kilowatt.messages import Response, v201
from kilowatt.rpc import NotSupported

from .conftest import Connect

LOG = "/api/v1/stations/CS1/messages"


async def test_frames_both_ways_in_order_with_actions_on_answers(
    client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> None:
    async def answer(request: Any) -> Response:
        if isinstance(request, v201.ClearCacheRequest):
            raise NotSupported("no cache here")
        return v201.ResetResponse(status=v201.ResetStatusEnumType.ACCEPTED)

    station = await connect("CS1", answer=answer)
    await station.boot()
    await clock.advance(1.5)
    assert (
        await client.post("/api/v1/stations/CS1/ocpp/Reset", json={"type": "OnIdle"})
    ).is_success
    await clock.advance(1)
    assert (await client.post("/api/v1/stations/CS1/ocpp/ClearCache", json={})).status_code == 502

    frames = (await client.get(LOG)).json()
    summary = [
        (f["direction"], f["message_type"], f["message_type_name"], f["action"]) for f in frames
    ]
    assert summary == [
        ("in", 2, "CALL", "BootNotification"),
        ("out", 3, "CALLRESULT", "BootNotification"),
        ("out", 2, "CALL", "Reset"),
        ("in", 3, "CALLRESULT", "Reset"),
        ("out", 2, "CALL", "ClearCache"),
        ("in", 4, "CALLERROR", "ClearCache"),
    ]
    boot, booted, reset, reset_answer, clear, refused = frames
    assert clear["payload"] == {}
    assert boot["payload"]["chargingStation"] == {
        "model": "M1",
        "vendorName": "Acme",
        "firmwareVersion": "1.2.3",
    }
    assert booted["payload"]["status"] == "Accepted"
    assert booted["message_id"] == boot["message_id"] == "s1"
    assert reset["payload"] == {"type": "OnIdle"}
    assert reset_answer["message_id"] == reset["message_id"]
    assert reset_answer["payload"] == {"status": "Accepted"}
    assert refused["payload"] == {
        "errorCode": "NotSupported",
        "errorDescription": "no cache here",
        "errorDetails": {},
    }
    assert boot["at_ms"] == int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert boot["at"] == "2025-01-01T00:00:00.000Z"
    assert reset["at"] == "2025-01-01T00:00:01.500Z"
    assert reset["at_ms"] == boot["at_ms"] + 1500
    assert len({f["connection_id"] for f in frames}) == 1

    since = await client.get(LOG, params={"since": reset["at_ms"]})
    assert [f["action"] for f in since.json()] == ["Reset", "Reset", "ClearCache", "ClearCache"]
    limited = await client.get(LOG, params={"since": reset["at_ms"], "limit": 1})
    assert [f["message_type_name"] for f in limited.json()] == ["CALL"]


async def test_an_unparsable_frame_is_logged_as_its_text(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.channel.send("this is not OCPP")
    await station.boot()  # answered after the garbage: the garbage is in the log
    frames = (await client.get(LOG)).json()
    garbage = frames[0]
    assert garbage["direction"] == "in"
    assert garbage["message_type"] is None
    assert garbage["message_type_name"] is None
    assert garbage["payload"] == "this is not OCPP"


async def test_notifications_with_their_payload(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.boot()
    at = datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)
    for request_id in (7, 8):
        await station.connection.call(
            v201.NotifyReportRequest(request_id=request_id, generated_at=at, seq_no=0)
        )
    await station.connection.call(
        v201.SecurityEventNotificationRequest(type="FirmwareUpdated", timestamp=at)
    )

    everything = (await client.get("/api/v1/stations/CS1/notifications")).json()
    assert [n["action"] for n in everything] == [
        "SecurityEventNotification",
        "NotifyReport",
        "NotifyReport",
    ]
    reports = await client.get(
        "/api/v1/stations/CS1/notifications", params={"action": "NotifyReport", "request_id": 7}
    )
    [report] = reports.json()
    assert report["request_id"] == 7
    assert report["payload"] == {
        "requestId": 7,
        "generatedAt": "2025-01-01T00:00:01Z",
        "seqNo": 0,
    }
    assert report["received_at"] == "2025-01-01T00:00:00.000Z"
