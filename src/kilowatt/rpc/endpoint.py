"""The OCPP-J endpoint: the RPC rules of one connection, as a plain object without I/O.

Rule 1: nothing here awaits or reads a clock. The owner feeds in each received text with the
current time and drains out texts to send and events, in the sans-I/O style of ``h11`` and of the
``websockets`` Protocol, so one core serves the asyncio shell, tests and simulations alike.
Rule 2: nothing here knows a payload's type: payloads go through the PayloadCodec.

The rules it keeps, both ways:

* OCPP-J 4.1.1: one CALL in flight per direction. Our further CALLs wait in a queue; the peer's
  are delivered even if it breaks the rule (tolerant), with an OverlappingCall event.
* Every CALL of ours ends with exactly one event: its answer, a broken answer, a timeout, or the
  endpoint closing.
* A broken request is answered with a CALLERROR; a broken answer never is (in OCPP 2.1 a broken
  CALLRESULT gets a CALLRESULTERROR), and a SEND is never answered at all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import msgspec

from kilowatt.rpc.dialect import (
    CALL,
    CALLERROR,
    CALLRESULT,
    CALLRESULTERROR,
    SEND,
    Dialect,
    PayloadCodec,
)
from kilowatt.rpc.errors import (
    MAX_DESCRIPTION,
    FormatViolation,
    FrameTooLarge,
    InvalidState,
    RpcError,
    RpcFrameworkError,
    error_class,
)
from kilowatt.rpc.events import (
    BadFrame,
    CallAborted,
    CallReceived,
    CallResultErrorReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    InvalidResponseReceived,
    OverlappingCall,
    ResultReceived,
    SendReceived,
    UnmatchedResponse,
)
from kilowatt.rpc.framing import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    FrameRecord,
    MalformedFrame,
    Send,
    encode_frame,
    parse_frame,
    read_header,
)
from kilowatt.rpc.message_ids import MAX_MESSAGE_ID_LENGTH, uuid4_message_id

__all__ = ["Endpoint"]

# The messageId OCPP-J gives a CALLERROR when the refused frame's own messageId cannot be read.
UNKNOWN_MESSAGE_ID = "-1"


def _utf8_size(text: str) -> int:
    # "surrogatepass" counts a lone surrogate (which has no UTF-8 form) instead of raising.
    return len(text.encode(errors="surrogatepass"))


@dataclass(slots=True)
class _OutgoingCall:
    message_id: str
    action: str
    text: str
    request: object  # the payload, for the codec to decode its answer as the matching type
    deadline: float = 0.0  # set when the CALL goes out


class Endpoint:
    """One side of an OCPP-J connection: calls out, calls in, and the rules between them.

    Args:
        codec: decodes received payloads and encodes payloads to send.
        dialect: the OCPP version's message types and error code spellings.
        call_timeout: seconds our CALL may wait for its answer once sent.
        max_frame_size: the largest frame, in bytes of UTF-8, received or sent (our refusals
            of bad frames excepted: see ``_answer_with_error``).
        new_message_id: makes the messageId of each CALL and SEND we send (at most 36 chars).
        trace: called with a FrameRecord for every frame sent or received.

    Raises:
        ValueError: ``call_timeout`` or ``max_frame_size`` is not positive.
    """

    def __init__(
        self,
        codec: PayloadCodec,
        dialect: Dialect,
        *,
        call_timeout: float = 30.0,
        max_frame_size: int = 65536,
        new_message_id: Callable[[], str] = uuid4_message_id,
        trace: Callable[[FrameRecord], None] | None = None,
    ) -> None:
        if call_timeout <= 0:
            raise ValueError(f"call_timeout must be positive, not {call_timeout}")
        if max_frame_size <= 0:
            raise ValueError(f"max_frame_size must be positive, not {max_frame_size}")
        self._codec = codec
        self._dialect = dialect
        self._call_timeout = call_timeout
        self._max_frame_size = max_frame_size
        self._new_message_id = new_message_id
        self._trace = trace
        self._closed = False
        self._in_flight: _OutgoingCall | None = None
        self._queued: deque[_OutgoingCall] = deque()
        self._unanswered: dict[str, str] = {}  # the peer's CALLs: message id -> action
        self._texts: list[str] = []
        self._events: list[Event] = []

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    # -- input -------------------------------------------------------------------------------

    def receive_text(self, text: str | bytes, now: float) -> None:
        """Take in one received WebSocket message; a closed endpoint ignores it.

        Args:
            text: the message; bytes are read as UTF-8.
            now: the current time on the clock that ``expire`` gets.
        """
        if self._closed:
            return
        limit = self._max_frame_size
        if isinstance(text, bytes):
            data = text
            if len(data) > limit:
                self._refuse_oversized(data.decode(errors="replace"), len(data), now)
                return
            try:
                text = data.decode()
            except UnicodeDecodeError:
                error = RpcFrameworkError("frame is not valid UTF-8")
                self._refuse(data.decode(errors="replace"), error, None, None, now)
                return
        # UTF-8 takes 1 to 4 bytes a character: encode to count only when the length leaves doubt.
        elif len(text) > limit or (len(text) * 4 > limit and _utf8_size(text) > limit):
            self._refuse_oversized(text, _utf8_size(text), now)
            return
        try:
            frame = parse_frame(text, self._dialect.message_types)
        except MalformedFrame as bad:
            self._refuse(text, bad.error, bad.message_type, bad.message_id, now)
            return
        self._dispatch(frame, text, now)

    def expire(self, now: float) -> None:
        """Time out our CALL in flight if its deadline has passed, and send the next one.

        Args:
            now: the current time; call this at ``next_deadline()`` or later.
        """
        call = self._in_flight
        if call is None or now < call.deadline:
            return
        self._in_flight = None
        self._events.append(CallTimedOut(call.message_id, call.action))
        self._send_next(now)

    def next_deadline(self) -> float | None:
        """When ``expire`` should next be called; None while no CALL of ours is in flight."""
        return None if self._in_flight is None else self._in_flight.deadline

    def close(self) -> None:
        """The connection is gone: end our CALLs with CallAborted events and drop unsent texts.

        Later sends raise InvalidState; later received texts are ignored.
        """
        if self._closed:
            return
        self._closed = True
        if self._in_flight is not None:
            self._events.append(CallAborted(self._in_flight.message_id, self._in_flight.action))
            self._in_flight = None
        self._events.extend(CallAborted(call.message_id, call.action) for call in self._queued)
        self._queued.clear()
        self._unanswered.clear()
        self._texts.clear()

    # -- output ------------------------------------------------------------------------------

    def send_call(self, action: str, payload: object, now: float) -> str:
        """Send a CALL, or queue it while another CALL of ours is in flight.

        Args:
            action: the action name, e.g. "BootNotification".
            payload: the request, encoded by the codec.
            now: the current time; the timeout runs from when the CALL goes out.

        Returns:
            The CALL's messageId, which its ending event carries.

        Raises:
            InvalidState: the endpoint is closed, or the id factory made an id over 36 chars.
            FrameTooLarge: the frame exceeds ``max_frame_size``; nothing was sent or queued.
        """
        self._check_open()
        message_id = self._next_message_id()
        text = self._encode(Call(message_id, action, msgspec.Raw(self._codec.encode(payload))))
        self._queued.append(_OutgoingCall(message_id, action, text, payload))
        self._send_next(now)
        return message_id

    def send_result(self, message_id: str, payload: object) -> None:
        """Answer the peer's CALL with a CALLRESULT.

        Args:
            message_id: the id of a CallReceived not answered yet.
            payload: the response, encoded by the codec.

        Raises:
            InvalidState: the endpoint is closed, or no CALL with that id awaits an answer.
            FrameTooLarge: the frame exceeds ``max_frame_size``; the CALL is still unanswered.
        """
        action = self._unanswered_action(message_id)
        text = self._encode(CallResult(message_id, msgspec.Raw(self._codec.encode(payload))))
        del self._unanswered[message_id]
        self._put(text, CALLRESULT, message_id, action)

    def send_error(self, message_id: str, error: RpcError) -> None:
        """Answer the peer's CALL with a CALLERROR.

        Args:
            message_id: the id of a CallReceived not answered yet.
            error: its code (spelled for the dialect), description (cut to 255 characters)
                and details are sent.

        Raises:
            InvalidState: the endpoint is closed, or no CALL with that id awaits an answer.
            FrameTooLarge: the frame exceeds ``max_frame_size``; the CALL is still unanswered.
        """
        action = self._unanswered_action(message_id)
        text = self._encode(self._call_error(message_id, error))
        del self._unanswered[message_id]
        self._put(text, CALLERROR, message_id, action)

    def send_unanswered(self, action: str, payload: object) -> str:
        """Send an OCPP 2.1 SEND: a request the peer never answers, sent even while a CALL waits.

        Args:
            action: the action name, e.g. "NotifyPeriodicEventStream".
            payload: the request, encoded by the codec.

        Returns:
            The SEND's messageId.

        Raises:
            InvalidState: the endpoint is closed, the dialect has no SEND, or the id factory
                made an id over 36 chars.
            FrameTooLarge: the frame exceeds ``max_frame_size``; nothing was sent.
        """
        self._check_open()
        if not self._dialect.has_send:
            raise InvalidState(f"{self._dialect.subprotocol} has no SEND message")
        message_id = self._next_message_id()
        text = self._encode(Send(message_id, action, msgspec.Raw(self._codec.encode(payload))))
        self._put(text, SEND, message_id, action)
        return message_id

    def texts_to_send(self) -> list[str]:
        """Take the texts to send, in order; each is one WebSocket text message."""
        texts, self._texts = self._texts, []
        return texts

    def events_received(self) -> list[Event]:
        """Take the events that happened since the last call, in order."""
        events, self._events = self._events, []
        return events

    # -- received frames ---------------------------------------------------------------------

    def _dispatch(self, frame: Frame, text: str, now: float) -> None:
        match frame:
            case Call():
                self._on_call(frame, text)
            case CallResult():
                self._on_call_result(frame, text, now)
            case CallError():
                self._on_call_error(frame, text, now)
            case Send():
                self._on_send(frame, text)
            case CallResultError():
                self._trace_frame("in", CALLRESULTERROR, frame.message_id, None, text)
                error = error_class(frame.code)(frame.description, frame.details)
                self._events.append(CallResultErrorReceived(frame.message_id, error))

    def _on_call(self, frame: Call, text: str) -> None:
        message_id, action = frame.message_id, frame.action
        self._trace_frame("in", CALL, message_id, action, text)
        if len(message_id) > MAX_MESSAGE_ID_LENGTH:
            error = RpcFrameworkError(f"messageId is over {MAX_MESSAGE_ID_LENGTH} characters")
            self._answer_with_error(text, message_id, action, error)
            return
        if message_id in self._unanswered:
            # An answer would be taken for the answer to the first CALL with this id: drop it.
            error = RpcFrameworkError(f"messageId {message_id} is already in use")
            self._events.append(BadFrame(text, error, answered=False))
            return
        if self._unanswered:
            self._events.append(OverlappingCall(message_id, action, tuple(self._unanswered)))
        try:
            request = self._codec.decode_call(action, bytes(frame.payload))
        except RpcError as error:
            self._answer_with_error(text, message_id, action, error)
            return
        self._unanswered[message_id] = action
        self._events.append(CallReceived(message_id, action, request))

    def _on_call_result(self, frame: CallResult, text: str, now: float) -> None:
        call = self._awaiting(frame.message_id)
        if call is None:
            self._trace_frame("in", CALLRESULT, frame.message_id, None, text)
            self._events.append(UnmatchedResponse(frame.message_id, text))
            return
        self._trace_frame("in", CALLRESULT, call.message_id, call.action, text)
        try:
            response = self._codec.decode_result(call.action, bytes(frame.payload), call.request)
        except RpcError as error:
            self._refuse_response(call, CALLRESULT, error, now)
            return
        self._in_flight = None
        self._events.append(ResultReceived(call.message_id, call.action, response))
        self._send_next(now)

    def _on_call_error(self, frame: CallError, text: str, now: float) -> None:
        call = self._awaiting(frame.message_id)
        if call is None:
            self._trace_frame("in", CALLERROR, frame.message_id, None, text)
            self._events.append(UnmatchedResponse(frame.message_id, text))
            return
        self._trace_frame("in", CALLERROR, call.message_id, call.action, text)
        self._in_flight = None
        # error_class reads both the 1.6 and the 2.x spellings of the codes.
        error = error_class(frame.code)(frame.description, frame.details)
        self._events.append(ErrorReceived(call.message_id, call.action, error))
        self._send_next(now)

    def _on_send(self, frame: Send, text: str) -> None:
        self._trace_frame("in", SEND, frame.message_id, frame.action, text)
        try:
            request = self._codec.decode_call(frame.action, bytes(frame.payload))
        except RpcError as error:
            # OCPP 2.1: a SEND is never answered, not even with a CALLERROR.
            self._events.append(BadFrame(text, error, answered=False))
            return
        self._events.append(SendReceived(frame.message_id, frame.action, request))

    def _refuse_oversized(self, text: str, size: int, now: float) -> None:
        message_type, message_id = read_header(text)
        # OCPP 2.0.1 answers a request over its BytesPerMessage limit with FormatViolation too.
        error = FormatViolation(
            f"frame of {size} bytes exceeds the limit of {self._max_frame_size} bytes"
        )
        self._refuse(text, error, message_type, message_id, now)

    def _refuse(
        self,
        text: str,
        error: RpcError,
        message_type: int | None,
        message_id: str | None,
        now: float,
    ) -> None:
        """Deal with a frame that cannot be taken, from whatever of it could be read."""
        if message_type in (CALLRESULT, CALLERROR):
            call = self._awaiting(message_id)
            action = None if call is None else call.action
            self._trace_frame("in", message_type, message_id, action, text)
            if call is None:
                self._events.append(BadFrame(text, error, answered=False))
            else:
                self._refuse_response(call, message_type, error, now)
            return
        self._trace_frame("in", message_type, message_id, None, text)
        if message_type in (SEND, CALLRESULTERROR) and message_type in self._dialect.message_types:
            # OCPP 2.1: a SEND or a CALLRESULTERROR is never answered, not even with a CALLERROR.
            self._events.append(BadFrame(text, error, answered=False))
            return
        if message_id is None:
            message_id = UNKNOWN_MESSAGE_ID
        self._answer_with_error(text, message_id, None, error)

    def _refuse_response(
        self, call: _OutgoingCall, message_type: int, error: RpcError, now: float
    ) -> None:
        """End our CALL whose answer cannot be taken.

        A CALLERROR only ever answers a CALL (OCPP-J 4.2.3), so a broken answer gets none; OCPP 2.1
        added the CALLRESULTERROR to refuse a CALLRESULT.
        """
        self._in_flight = None
        self._events.append(InvalidResponseReceived(call.message_id, call.action, error))
        if message_type == CALLRESULT and CALLRESULTERROR in self._dialect.message_types:
            frame = CallResultError(
                call.message_id,
                self._dialect.wire_code(error),
                error.description[:MAX_DESCRIPTION],
                error.details,
            )
            text = encode_frame(frame).decode()  # not size-checked: see _answer_with_error
            self._put(text, CALLRESULTERROR, call.message_id, call.action)
        self._send_next(now)

    # -- helpers -----------------------------------------------------------------------------

    def _awaiting(self, message_id: str | None) -> _OutgoingCall | None:
        """Our CALL in flight if ``message_id`` is its id."""
        call = self._in_flight
        return call if call is not None and call.message_id == message_id else None

    def _send_next(self, now: float) -> None:
        # OCPP-J 4.1.1: one CALL in flight per direction; the next waits for the end of this one.
        if self._in_flight is None and self._queued:
            call = self._queued.popleft()
            call.deadline = now + self._call_timeout
            self._in_flight = call
            self._put(call.text, CALL, call.message_id, call.action)

    def _next_message_id(self) -> str:
        message_id = self._new_message_id()
        if len(message_id) > MAX_MESSAGE_ID_LENGTH:
            raise InvalidState(f"message id {message_id!r} is over {MAX_MESSAGE_ID_LENGTH} chars")
        return message_id

    def _unanswered_action(self, message_id: str) -> str:
        self._check_open()
        action = self._unanswered.get(message_id)
        if action is None:
            raise InvalidState(f"no received CALL {message_id!r} awaits an answer")
        return action

    def _call_error(self, message_id: str, error: RpcError) -> CallError:
        return CallError(
            message_id,
            self._dialect.wire_code(error),
            error.description[:MAX_DESCRIPTION],
            error.details,
        )

    def _answer_with_error(
        self, text: str, message_id: str, action: str | None, error: RpcError
    ) -> None:
        """Refuse a received frame with a CALLERROR.

        Unlike the frames the owner sends, a refusal is not checked against max_frame_size: it
        must not raise out of receive_text, and its size is bounded all the same, by the echoed
        messageId (no longer than the received frame) plus a 255-character description.
        """
        answer = encode_frame(self._call_error(message_id, error)).decode()
        self._put(answer, CALLERROR, message_id, action)
        self._events.append(BadFrame(text, error, answered=True))

    def _encode(self, frame: Frame) -> str:
        data = encode_frame(frame)
        if len(data) > self._max_frame_size:
            raise FrameTooLarge(len(data), self._max_frame_size)
        return data.decode()

    def _put(self, text: str, message_type: int, message_id: str, action: str | None) -> None:
        self._texts.append(text)
        self._trace_frame("out", message_type, message_id, action, text)

    def _trace_frame(
        self,
        direction: Literal["in", "out"],
        message_type: int | None,
        message_id: str | None,
        action: str | None,
        text: str,
    ) -> None:
        if self._trace is not None:
            self._trace(FrameRecord(direction, message_type, message_id, action, text))

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidState("the endpoint is closed")
