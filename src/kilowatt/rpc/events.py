"""What an endpoint reports about received frames and about its own CALLs.

Every CALL the endpoint sends ends with exactly one of ResultReceived, ErrorReceived,
InvalidResponseReceived, CallTimedOut or CallAborted. Every frame received while the endpoint is
open gives exactly one event, plus an OverlappingCall before the CallReceived of a CALL that broke
the one-call rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from kilowatt.rpc.errors import RpcError

__all__ = [
    "BadFrame",
    "CallAborted",
    "CallReceived",
    "CallResultErrorReceived",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "InvalidResponseReceived",
    "OverlappingCall",
    "ResultReceived",
    "SendReceived",
    "UnmatchedResponse",
]


@dataclass(frozen=True, slots=True)
class CallReceived:
    """The peer called us; answer with ``send_result`` or ``send_error``.

    Attributes:
        request: the payload as the codec decoded it.
    """

    message_id: str
    action: str
    request: object


@dataclass(frozen=True, slots=True)
class SendReceived:
    """The peer sent an OCPP 2.1 SEND: a request that must not be answered."""

    message_id: str
    action: str
    request: object


@dataclass(frozen=True, slots=True)
class ResultReceived:
    """Our CALL got its CALLRESULT.

    Attributes:
        response: the payload as the codec decoded it.
    """

    message_id: str
    action: str
    response: object


@dataclass(frozen=True, slots=True)
class ErrorReceived:
    """Our CALL got a CALLERROR; ``error`` is of the class of its errorCode."""

    message_id: str
    action: str
    error: RpcError


@dataclass(frozen=True, slots=True)
class InvalidResponseReceived:
    """Our CALL got an answer we cannot accept: a CALLRESULT whose payload breaks the response
    schema, or a broken CALLRESULT or CALLERROR frame. In OCPP 2.1 a CALLRESULTERROR was sent.
    """

    message_id: str
    action: str
    error: RpcError


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """Our CALL got no answer within the call timeout; a late answer is an UnmatchedResponse."""

    message_id: str
    action: str


@dataclass(frozen=True, slots=True)
class CallAborted:
    """The endpoint closed while our CALL was in flight or queued."""

    message_id: str
    action: str


@dataclass(frozen=True, slots=True)
class CallResultErrorReceived:
    """The peer refused a CALLRESULT we sent (OCPP 2.1 CALLRESULTERROR)."""

    message_id: str
    error: RpcError


@dataclass(frozen=True, slots=True)
class UnmatchedResponse:
    """A CALLRESULT or CALLERROR for no CALL of ours in flight (unknown, or timed out): dropped."""

    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A received frame was refused; for logs.

    Attributes:
        text: the frame as received.
        error: what is wrong with it.
        answered: whether a CALLERROR was sent. Broken responses and SENDs are never answered.
    """

    text: str
    error: RpcError
    answered: bool


@dataclass(frozen=True, slots=True)
class OverlappingCall:
    """The peer sent a CALL while CALLs of its own were still unanswered.

    OCPP-J 4.1.1 allows one CALL in flight per direction. The CALL is delivered anyway (the
    CallReceived follows); this event lets a compliance check flag the peer.

    Attributes:
        unanswered: the message ids of the peer's CALLs not yet answered.
    """

    message_id: str
    action: str
    unanswered: tuple[str, ...]


Event: TypeAlias = (
    CallReceived
    | SendReceived
    | ResultReceived
    | ErrorReceived
    | InvalidResponseReceived
    | CallTimedOut
    | CallAborted
    | CallResultErrorReceived
    | UnmatchedResponse
    | BadFrame
    | OverlappingCall
)
