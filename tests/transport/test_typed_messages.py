"""The generated message types over the real endpoint and codec, in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from kilowatt.clock import ManualClock
from kilowatt.messages import VERSIONS, PayloadCodec, v16, v201
from kilowatt.rpc import CallFailed, Endpoint, FrameRecord, counting_message_ids
from kilowatt.transport import Connection, MemoryChannel, channel_pair

NOW = ManualClock().now()
Handler = Callable[[object], Awaitable[object]]


async def csms_handler(request: object) -> object:
    match request:
        case v201.BootNotificationRequest():
            return v201.BootNotificationResponse(
                current_time=NOW, interval=300, status=v201.RegistrationStatusEnumType.ACCEPTED
            )
        case v16.HeartbeatRequest():
            return v16.HeartbeatResponse(current_time=NOW)
    raise AssertionError(f"unexpected {request!r}")


async def station_handler(request: object) -> object:
    match request:
        case v201.ResetRequest():
            return v201.ResetResponse(status=v201.ResetStatusEnumType.ACCEPTED)
    raise AssertionError(f"unexpected {request!r}")


class Side:
    """A Connection for one role, with the trace of its frames."""

    def __init__(self, version: str, role: str, channel: MemoryChannel, handler: Handler) -> None:
        spec = VERSIONS[version]
        self.frames: list[FrameRecord] = []
        endpoint = Endpoint(
            PayloadCodec(spec, role),  # type: ignore[arg-type]
            spec.dialect,
            new_message_id=counting_message_ids(role[0]),
            trace=self.frames.append,
        )
        self.connection = Connection(channel, endpoint, ManualClock(), handler)
        self.task = asyncio.create_task(self.connection.run())

    async def stop(self) -> None:
        await self.connection.close()
        await self.task


@pytest.fixture
async def sides() -> AsyncIterator[Callable[[str], tuple[Side, Side]]]:
    made: list[Side] = []

    def make(version: str) -> tuple[Side, Side]:
        station_end, csms_end = channel_pair()
        pair = (
            Side(version, "station", station_end, station_handler),
            Side(version, "csms", csms_end, csms_handler),
        )
        made.extend(pair)
        return pair

    yield make
    for side in made:
        await side.stop()


async def test_typed_call_and_answer(sides: Callable[[str], tuple[Side, Side]]) -> None:
    station, _ = sides("2.0.1")
    request = v201.BootNotificationRequest(
        charging_station=v201.ChargingStationType(model="M1", vendor_name="Acme"),
        reason=v201.BootReasonEnumType.POWER_UP,
    )
    response = await station.connection.call(request)
    # The response is typed as a BootNotificationResponse: mypy checks the attribute uses.
    assert response.interval == 300
    assert response.status is v201.RegistrationStatusEnumType.ACCEPTED
    assert [f.text for f in station.frames] == [
        '[2,"s1","BootNotification",{"chargingStation":{"model":"M1","vendorName":"Acme"},'
        '"reason":"PowerUp"}]',
        '[3,"s1",{"currentTime":"2025-01-01T00:00:00Z","interval":300,"status":"Accepted"}]',
    ]


async def test_ocpp16_call_and_csms_initiated_call(
    sides: Callable[[str], tuple[Side, Side]],
) -> None:
    station, csms = sides("1.6")
    heartbeat = await station.connection.call(v16.HeartbeatRequest())
    assert heartbeat.current_time == NOW
    # The station handler knows no 1.6 Reset: its failure reaches the CSMS as an InternalError.
    with pytest.raises(CallFailed) as caught:
        await csms.connection.call(v16.ResetRequest(type=v16.ResetRequestType.SOFT))
    assert caught.value.code == "InternalError"


async def test_csms_initiated_call_in_201(sides: Callable[[str], tuple[Side, Side]]) -> None:
    _, csms = sides("2.0.1")
    response = await csms.connection.call(v201.ResetRequest(type=v201.ResetEnumType.IMMEDIATE))
    assert response.status is v201.ResetStatusEnumType.ACCEPTED


@pytest.mark.parametrize(
    ("version", "payload", "code"),
    [
        ("2.0.1", '{"chargingStation": {"model": "M1"}, "reason": "PowerUp"}',
         "OccurrenceConstraintViolation"),
        ("1.6", '{"chargePointVendor": "V"}', "OccurenceConstraintViolation"),
        ("1.6", '{"chargePointVendor": "V", "chargePointModel": "M", "x": 1}',
         "FormationViolation"),
        ("2.0.1", '{"chargingStation": {"model": "M1", "vendorName": "V"}, "reason": 1}',
         "TypeConstraintViolation"),
    ],
)  # fmt: skip
async def test_schema_violation_is_answered_with_the_versions_code(
    version: str, payload: str, code: str
) -> None:
    station_end, csms_end = channel_pair()
    csms = Side(version, "csms", csms_end, csms_handler)
    await station_end.send(f'[2,"x1","BootNotification",{payload}]')
    answer = await station_end.recv()
    assert answer.startswith(f'[4,"x1","{code}","')
    await csms.stop()


async def test_station_only_action_sent_to_a_station_is_not_supported() -> None:
    csms_end, station_end = channel_pair()
    station = Side("2.0.1", "station", station_end, station_handler)
    await csms_end.send('[2,"x2","Heartbeat",{}]')
    assert (await csms_end.recv()).startswith('[4,"x2","NotSupported","')
    await station.stop()
