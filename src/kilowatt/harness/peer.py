"""The harness's end of a connection to the implementation under test.

A Peer plays the other side of OCPP-J over one WebSocket (or memory channel): it sends the CALLs
a test case makes, answers the implementation's CALLs (with a case's own answer where it set
one, else a plain valid one), keeps every request it received for the case to look at, and
records every frame both ways and every rule the implementation broke:

- a frame that breaks the OCPP-J framing or its action's schema (the endpoint refuses it with
  a CALLERROR, as the rules say, and the harness notes it);
- a CALL sent while another CALL of the same side is unanswered (OCPP-J 4.1.1);
- a messageId used for a second CALL (OCPP-J: ids are unique per sender and station);
- an answer to no CALL, or an answer that breaks its response schema.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import msgspec
import msgspec.inspect as mi

from kilowatt.clock import SystemClock
from kilowatt.messages import VERSIONS, PayloadCodec, Request, Response, decode
from kilowatt.rpc import Endpoint, FrameRecord
from kilowatt.rpc.dialect import CALL
from kilowatt.rpc.errors import NotSupported
from kilowatt.rpc.events import (
    BadFrame,
    CallResultErrorReceived,
    Event,
    InvalidResponseReceived,
    OverlappingCall,
    UnmatchedResponse,
)
from kilowatt.transport.channel import TextChannel
from kilowatt.transport.connection import Connection
from kilowatt.transport.server import Handshake

__all__ = ["Answer", "Frame", "Peer", "Violation", "minimal"]

Q = TypeVar("Q", bound=Request[Any])
R = TypeVar("R", bound=Response)
DEFAULT_HEARTBEAT_INTERVAL = 300
Answer = Callable[[Any], Response]  # a request of the implementation -> the harness's answer


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame as the harness saw it: seconds since the case started, which way, the text."""

    at: float
    direction: Literal["sent", "received"]
    text: str


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule the implementation under test broke, with the frame that broke it."""

    rule: str
    detail: str


@dataclass
class _Received:
    requests: list[Any] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class Peer:
    """One connection of the harness to the implementation under test.

    Args:
        channel: the open connection.
        subprotocol: the OCPP version negotiated ("ocpp2.0.1").
        role: the side the harness plays: "station" when a CSMS is under test, "csms" when a
            station is.
        started: the ``time.monotonic()`` the case started at, for frame times.
        call_timeout: seconds the implementation has to answer a CALL of the harness.
        answers: the case's own answers, shared with other connections (a StationLink's
            connections share one, so that an answer a case set holds on the connection the
            station opens after a reboot, from its first request on).
    """

    def __init__(
        self,
        channel: TextChannel,
        subprotocol: str,
        role: Literal["station", "csms"],
        started: float,
        call_timeout: float = 30.0,
        answers: dict[type[Any], Answer] | None = None,
    ) -> None:
        self.role = role
        self.opened = time.monotonic()
        self.subprotocol = subprotocol
        # What the station's opening handshake brought (TLS, its certificate, its Basic auth),
        # on a connection of a station to the harness (a StationLink's); None on the others.
        self.handshake: Handshake | None = None
        self.frames: list[Frame] = []
        self.violations: list[Violation] = []
        self._started = started
        self._call_ids: set[str] = set()
        self._answers: dict[type[Any], Answer] = answers if answers is not None else {}
        self._received = _Received()
        version = VERSIONS[subprotocol.removeprefix("ocpp")]
        self._requests = version.requests
        endpoint = Endpoint(
            PayloadCodec(version, role),
            version.dialect,
            call_timeout=call_timeout,
            max_frame_size=2**20,
            trace=self._trace,
        )
        self._connection = Connection(
            channel, endpoint, SystemClock(), self._on_call, on_event=self._on_event
        )
        self._task = asyncio.create_task(self._connection.run(), name="harness peer")

    # -- what a case does ------------------------------------------------------------------

    async def call(self, request: Request[R]) -> R:
        """Send a CALL and wait for the implementation's answer (CallFailed on a CALLERROR,
        CallTimeout without an answer in time, InvalidResponse on a broken one)."""
        return await self._connection.call(request)

    def answer(self, request_type: type[Q], answer: Callable[[Q], Response]) -> None:
        """Answer the implementation's requests of this type so from now on."""
        self._answers[request_type] = answer

    def mark(self) -> int:
        """A place in the list of received requests: ``next(..., since=mark)`` looks after it."""
        return len(self._received.requests)

    async def next(
        self,
        request_type: type[Q],
        *,
        timeout: float = 10.0,
        since: int = 0,
        where: Callable[[Q], bool] = lambda _: True,
    ) -> Q:
        """The first request of this type received after ``since`` that ``where`` accepts,
        waiting up to ``timeout`` seconds for it.

        Raises:
            TimeoutError: none came in time.
        """
        async with asyncio.timeout(timeout):
            index = since
            while True:
                found = self._received.requests
                while index < len(found):
                    request = found[index]
                    index += 1
                    if isinstance(request, request_type) and where(request):
                        return request
                self._received.arrived.clear()
                await self._received.arrived.wait()

    def received(self, request_type: type[Q], since: int = 0) -> list[Q]:
        """Every request of this type received after ``since``, in order."""
        return [r for r in self._received.requests[since:] if isinstance(r, request_type)]

    @property
    def closed(self) -> bool:
        return self._task.done()

    async def wait_closed(self, timeout: float) -> bool:
        """Whether the implementation closed the connection within ``timeout`` seconds."""
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            return False
        except Exception:  # the connection ended: its error is not the question
            return True
        return True

    async def close(self) -> None:
        await self._connection.close()
        await asyncio.gather(self._task, return_exceptions=True)

    # -- the connection's callbacks ----------------------------------------------------------

    async def _on_call(self, request: object) -> object:
        self._received.requests.append(request)
        self._received.arrived.set()
        answer = self._answers.get(type(request))
        if answer is not None:
            return answer(request)
        response_type = getattr(request, "RESPONSE_TYPE", None)
        if response_type is None:
            raise NotSupported(f"the harness has no answer to {type(request).__name__}")
        response = minimal(response_type)
        if getattr(request, "ACTION", "") == "BootNotification":
            # A heartbeat interval of 0 would leave a station guessing; 300 s is a usual one.
            response = msgspec.structs.replace(response, interval=DEFAULT_HEARTBEAT_INTERVAL)
        return response

    def _trace(self, record: FrameRecord) -> None:
        direction: Literal["sent", "received"] = "received" if record.direction == "in" else "sent"
        self.frames.append(Frame(time.monotonic() - self._started, direction, record.text))
        if direction == "received" and record.message_type == CALL and record.message_id:
            if record.message_id in self._call_ids:
                self.violations.append(
                    Violation(
                        "OCPP-J: a messageId is used for one CALL only",
                        f"messageId {record.message_id} used again: {record.text[:200]}",
                    )
                )
            self._call_ids.add(record.message_id)

    def _on_event(self, event: Event) -> None:
        match event:
            case BadFrame():
                self.violations.append(
                    Violation(f"schema or framing ({event.error.code})", f"{event.error}")
                )
            case OverlappingCall():
                self.violations.append(
                    Violation(
                        "OCPP-J 4.1.1: one CALL in flight per side",
                        f"{event.action} [{event.message_id}] while {event.unanswered} unanswered",
                    )
                )
            case InvalidResponseReceived():
                self.violations.append(
                    Violation(
                        f"response schema ({event.error.code})", f"{event.action}: {event.error}"
                    )
                )
            case UnmatchedResponse():
                self.violations.append(
                    Violation("an answer to no CALL", f"messageId {event.message_id}")
                )
            case CallResultErrorReceived():
                self.violations.append(Violation("CALLRESULTERROR received", f"{event.error}"))
            case _:
                pass


def minimal(response_type: type[R]) -> R:
    """A valid response with only its required fields: statuses Accepted where the enum has
    it, the first value otherwise; now for times; empty texts; the least allowed numbers."""
    return decode(msgspec.json.encode(_build(mi.type_info(response_type))), response_type)


def _build(t: mi.Type) -> Any:
    if isinstance(t, mi.Metadata):
        return _build(t.type)
    if isinstance(t, mi.StructType):
        return {f.encode_name: _build(f.type) for f in t.fields if f.required}
    if isinstance(t, mi.ListType):
        return [_build(t.item_type) for _ in range(t.min_length or 0)]
    if isinstance(t, mi.EnumType):
        values = [member.value for member in t.cls]
        return "Accepted" if "Accepted" in values else values[0]
    if isinstance(t, mi.StrType):
        return "x" * (t.min_length or 0)
    if isinstance(t, mi.IntType):
        return max(t.ge if t.ge is not None else 0, t.gt + 1 if t.gt is not None else 0)
    if isinstance(t, mi.FloatType):
        return float(t.ge if t.ge is not None else 0)
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.DateTimeType):
        return _now()
    if isinstance(t, mi.UnionType):
        return _build(t.types[0])
    raise TypeError(f"no minimal value for {t!r}")


def _now() -> str:
    return datetime.now(UTC).isoformat()
