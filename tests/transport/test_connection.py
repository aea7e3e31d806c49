"""Two Connections over an in-memory channel pair, with a ManualClock: no sockets, no sleeping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import msgspec
import pytest

from kilowatt.clock import ManualClock
from kilowatt.messages.base import Request, Response
from kilowatt.rpc import (
    OCPP21,
    OCPP201,
    ActionNotImplemented,
    CallFailed,
    CallTimeout,
    ConnectionLost,
    Dialect,
    Endpoint,
    FormatViolation,
    FrameRecord,
    InvalidResponse,
    InvalidState,
    NotSupported,
    counting_message_ids,
)
from kilowatt.transport import (
    INTERNAL_ERROR_DESCRIPTION,
    Connection,
    TextChannel,
    channel_pair,
)

TIME = "2025-01-01T00:00:00Z"
T = TypeVar("T")


class HeartbeatResponse(Response, frozen=True, kw_only=True, gc=False, rename="camel"):
    ACTION: ClassVar[str] = "Heartbeat"
    current_time: str


class HeartbeatRequest(Request[HeartbeatResponse], frozen=True, kw_only=True, gc=False):
    ACTION: ClassVar[str] = "Heartbeat"
    RESPONSE_TYPE: ClassVar[type[Response] | None] = HeartbeatResponse


class EchoResponse(Response, frozen=True, kw_only=True, gc=False):
    ACTION: ClassVar[str] = "Echo"
    text: str


class EchoRequest(Request[EchoResponse], frozen=True, kw_only=True, gc=False):
    """Answered with its text; with ``hold``, only once the test opens the handler's gate."""

    ACTION: ClassVar[str] = "Echo"
    RESPONSE_TYPE: ClassVar[type[Response] | None] = EchoResponse
    text: str
    hold: bool = False
    wrong_answer: bool = False


class FailResponse(Response, frozen=True, kw_only=True, gc=False):
    ACTION: ClassVar[str] = "Fail"


class FailRequest(Request[FailResponse], frozen=True, kw_only=True, gc=False):
    """Its handler raises: an RpcError when ``rpc``, else a RuntimeError holding a secret."""

    ACTION: ClassVar[str] = "Fail"
    RESPONSE_TYPE: ClassVar[type[Response] | None] = FailResponse
    rpc: bool


class MeterStream(Request[Response], frozen=True, kw_only=True, gc=False):
    """An OCPP 2.1 SEND payload: no response."""

    ACTION: ClassVar[str] = "MeterStream"
    RESPONSE_TYPE: ClassVar[type[Response] | None] = None
    value: int


REQUESTS: dict[str, type[msgspec.Struct]] = {
    cls.ACTION: cls for cls in (HeartbeatRequest, EchoRequest, FailRequest, MeterStream)
}
RESPONSES: dict[str, type[msgspec.Struct]] = {
    cls.ACTION: cls for cls in (HeartbeatResponse, EchoResponse, FailResponse)
}


class StructCodec:
    """Decodes payloads into the Structs above, as the generated codecs do."""

    def decode_call(self, action: str, payload: bytes) -> object:
        if action not in REQUESTS:
            raise ActionNotImplemented(f"{action} is not implemented")
        return _decode(payload, REQUESTS[action])

    def decode_result(self, action: str, payload: bytes, request: object) -> object:
        return _decode(payload, RESPONSES[action])

    def encode(self, payload: object) -> bytes:
        return msgspec.json.encode(payload)


def _decode(payload: bytes, cls: type[msgspec.Struct]) -> object:
    try:
        return msgspec.json.decode(payload, type=cls)
    except msgspec.ValidationError as error:
        raise FormatViolation(str(error)) from None


class Side:
    """One end: its connection, what its handler saw, and the frames it traced."""

    def __init__(
        self, channel: TextChannel, clock: ManualClock, dialect: Dialect, prefix: str
    ) -> None:
        self.gate = asyncio.Event()  # opens the handler of an EchoRequest with hold=True
        self.received: list[object] = []
        self.traces: list[FrameRecord] = []
        endpoint = Endpoint(
            StructCodec(),
            dialect,
            new_message_id=counting_message_ids(prefix),
            trace=self.traces.append,
        )
        self.connection = Connection(channel, endpoint, clock, self.handle)

    async def handle(self, request: object) -> object:
        self.received.append(request)
        match request:
            case HeartbeatRequest():
                return HeartbeatResponse(current_time=TIME)
            case EchoRequest(hold=hold, wrong_answer=wrong_answer):
                if hold:
                    await self.gate.wait()
                if wrong_answer:
                    return HeartbeatResponse(current_time=TIME)
                return EchoResponse(text=request.text)
            case FailRequest(rpc=True):
                raise NotSupported("not here")
            case FailRequest():
                raise RuntimeError("secret: the database password is hunter2")
        return None

    def sent(self) -> list[tuple[int | None, str | None]]:
        """(messageTypeId, messageId) of each frame this side sent."""
        return [(r.message_type, r.message_id) for r in self.traces if r.direction == "out"]


@dataclass
class Link:
    a: Side
    b: Side
    clock: ManualClock
    runs: list[asyncio.Task[None]]
    calls: list[asyncio.Task[Any]]

    def start(self, call: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``call`` in a task, cancelled at teardown if a failed test leaves it waiting."""
        task = asyncio.create_task(call)
        self.calls.append(task)
        return task


async def settle(condition: Callable[[], bool] = lambda: False, rounds: int = 50) -> None:
    """Let the other tasks run, until ``condition`` holds or for ``rounds`` loop turns."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)


@pytest.fixture(params=[OCPP201])
async def link(request: pytest.FixtureRequest) -> AsyncIterator[Link]:
    clock = ManualClock()
    left, right = channel_pair()
    a = Side(left, clock, request.param, "a")
    b = Side(right, clock, request.param, "b")
    runs = [asyncio.create_task(side.connection.run()) for side in (a, b)]
    link = Link(a, b, clock, runs, [])
    yield link
    for task in link.calls:
        task.cancel()
    await a.connection.close()
    await b.connection.close()
    await asyncio.gather(*runs, *link.calls, return_exceptions=True)


async def test_calls_go_both_ways_at_once(link: Link) -> None:
    heartbeat, echo = await asyncio.gather(
        link.a.connection.call(HeartbeatRequest()),
        link.b.connection.call(EchoRequest(text="hi")),
    )

    assert heartbeat == HeartbeatResponse(current_time=TIME)
    assert echo == EchoResponse(text="hi")
    assert link.b.received == [HeartbeatRequest()]
    assert link.a.received == [EchoRequest(text="hi")]


async def test_second_call_goes_out_when_the_first_is_answered(link: Link) -> None:
    first = link.start(link.a.connection.call(EchoRequest(text="1", hold=True)))
    second = link.start(link.a.connection.call(HeartbeatRequest()))
    await settle()

    assert link.a.sent() == [(2, "a1")]
    assert link.b.received == [EchoRequest(text="1", hold=True)]

    link.b.gate.set()

    assert await first == EchoResponse(text="1")
    assert await second == HeartbeatResponse(current_time=TIME)
    assert link.a.sent() == [(2, "a1"), (2, "a2")]
    assert [(r.direction, r.message_id) for r in link.a.traces] == [
        ("out", "a1"),
        ("in", "a1"),
        ("out", "a2"),
        ("in", "a2"),
    ]


async def test_slow_handler_does_not_stop_the_other_direction(link: Link) -> None:
    held = link.start(link.a.connection.call(EchoRequest(text="slow", hold=True)))
    await settle(lambda: bool(link.b.received))

    # b's handler still waits; b's own CALL and a's answer to it go through meanwhile.
    assert await link.b.connection.call(HeartbeatRequest()) == HeartbeatResponse(current_time=TIME)
    assert not held.done()

    link.b.gate.set()
    assert await held == EchoResponse(text="slow")


async def test_call_times_out_on_the_clock_and_a_late_answer_is_dropped(link: Link) -> None:
    held = link.start(link.a.connection.call(EchoRequest(text="late", hold=True)))
    await settle(lambda: bool(link.b.received))

    await link.clock.advance(29.0)
    await settle()
    assert not held.done()
    await link.clock.advance(1.0)
    await settle(held.done)

    assert held.done()
    with pytest.raises(CallTimeout) as raised:
        held.result()
    assert (raised.value.action, raised.value.message_id) == ("Echo", "a1")

    link.b.gate.set()  # the answer comes after the timeout: dropped, and a goes on
    assert await link.a.connection.call(HeartbeatRequest()) == HeartbeatResponse(current_time=TIME)


async def test_queued_call_gets_its_own_timeout_from_when_it_went_out(link: Link) -> None:
    first = link.start(link.a.connection.call(EchoRequest(text="1", hold=True)))
    second = link.start(link.a.connection.call(EchoRequest(text="2", hold=True)))
    await settle(lambda: bool(link.b.received))

    await link.clock.advance(30.0)
    await settle(first.done)
    with pytest.raises(CallTimeout):
        first.result()
    await settle(lambda: len(link.b.received) == 2)  # the second went out at 30 s
    await link.clock.advance(29.0)
    await settle()
    assert not second.done()
    await link.clock.advance(1.0)
    await settle(second.done)
    with pytest.raises(CallTimeout):
        second.result()


async def test_rpc_error_of_a_handler_is_sent_as_it_is(link: Link) -> None:
    with pytest.raises(CallFailed) as raised:
        await link.a.connection.call(FailRequest(rpc=True))

    assert raised.value.code == "NotSupported"
    assert raised.value.error.description == "not here"


async def test_other_handler_exception_is_logged_and_sent_as_a_bare_internal_error(
    link: Link, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="kilowatt.transport.connection"),
        pytest.raises(CallFailed) as raised,
    ):
        await link.a.connection.call(FailRequest(rpc=False))

    assert raised.value.code == "InternalError"
    assert raised.value.error.description == INTERNAL_ERROR_DESCRIPTION
    assert link.b.traces[-1].text == '[4,"a1","InternalError","internal error",{}]'
    [record] = caplog.records
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


async def test_answer_breaking_the_schema_is_an_invalid_response(link: Link) -> None:
    with pytest.raises(InvalidResponse) as raised:
        await link.a.connection.call(EchoRequest(text="x", wrong_answer=True))

    assert type(raised.value.error) is FormatViolation
    assert raised.value.action == "Echo"


async def test_peer_closing_fails_the_waiting_call_at_once(link: Link) -> None:
    held = link.start(link.a.connection.call(EchoRequest(text="x", hold=True)))
    await settle(lambda: bool(link.b.received))

    await link.b.connection.close()
    await settle(lambda: held.done() and link.runs[0].done())

    # At once, the clock never moved; and a's run() ended with the channel.
    assert link.clock.monotonic() == 0.0
    with pytest.raises(ConnectionLost):
        held.result()
    assert link.runs[0].done()


async def test_closing_fails_the_waiting_and_queued_calls_and_later_ones(link: Link) -> None:
    calls = [
        link.start(link.a.connection.call(EchoRequest(text="x", hold=True))),
        link.start(link.a.connection.call(HeartbeatRequest())),
    ]
    await settle(lambda: bool(link.b.received))

    await link.a.connection.close()
    await settle(lambda: all(call.done() for call in calls))

    for call in calls:
        with pytest.raises(ConnectionLost):
            call.result()
    with pytest.raises(ConnectionLost):
        await link.a.connection.call(HeartbeatRequest())


async def test_run_cannot_be_started_twice(link: Link) -> None:
    with pytest.raises(InvalidState):
        await link.a.connection.run()


async def test_request_without_a_response_cannot_be_called(link: Link) -> None:
    with pytest.raises(InvalidState):
        await link.a.connection.call(MeterStream(value=1))


@pytest.mark.parametrize("link", [OCPP21], indirect=True)
async def test_send_is_delivered_and_never_answered(link: Link) -> None:
    await link.a.connection.send_unanswered(MeterStream(value=42))
    await settle(lambda: bool(link.b.received))

    assert link.b.received == [MeterStream(value=42)]
    assert link.a.sent() == [(6, "a1")]
    assert link.b.sent() == []
