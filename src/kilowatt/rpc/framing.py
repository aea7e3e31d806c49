"""OCPP-J frames: parse a received text into a typed frame, encode a frame to send.

A frame is a JSON array whose first element, the messageTypeId, says what the rest is
(OCPP-J 4.2; CALLRESULTERROR and SEND are new in OCPP 2.1)::

    CALL             [2, messageId, action, payload]
    CALLRESULT       [3, messageId, payload]
    CALLERROR        [4, messageId, errorCode, errorDescription, errorDetails]
    CALLRESULTERROR  [5, messageId, errorCode, errorDescription, errorDetails]   (2.1)
    SEND             [6, messageId, action, payload]                             (2.1)

Each shape is an array-like msgspec Struct tagged with its messageTypeId, so one C-level decode
checks the shape of a frame and picks its type. Payloads stay ``msgspec.Raw``: their JSON text is
handed to the payload codec as it came, and written into outgoing frames without re-encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

import msgspec

from kilowatt.rpc.dialect import CALL, CALLERROR, CALLRESULT, CALLRESULTERROR, SEND
from kilowatt.rpc.errors import MessageTypeNotSupported, RpcError, RpcFrameworkError

__all__ = [
    "Call",
    "CallError",
    "CallResult",
    "CallResultError",
    "Frame",
    "FrameRecord",
    "MalformedFrame",
    "Send",
    "encode_frame",
    "parse_frame",
    "read_header",
]


class Call(msgspec.Struct, array_like=True, tag=CALL, forbid_unknown_fields=True, frozen=True):
    """``[2, messageId, action, payload]``: a request that gets exactly one answer."""

    message_type: ClassVar[int] = CALL
    message_id: str
    action: str
    payload: msgspec.Raw


class CallResult(
    msgspec.Struct, array_like=True, tag=CALLRESULT, forbid_unknown_fields=True, frozen=True
):
    """``[3, messageId, payload]``: the answer to a CALL."""

    message_type: ClassVar[int] = CALLRESULT
    message_id: str
    payload: msgspec.Raw


class CallError(
    msgspec.Struct, array_like=True, tag=CALLERROR, forbid_unknown_fields=True, frozen=True
):
    """``[4, messageId, errorCode, errorDescription, errorDetails]``: a CALL refused."""

    message_type: ClassVar[int] = CALLERROR
    message_id: str
    code: str
    description: str
    details: dict[str, Any]


class CallResultError(
    msgspec.Struct, array_like=True, tag=CALLRESULTERROR, forbid_unknown_fields=True, frozen=True
):
    """``[5, messageId, errorCode, errorDescription, errorDetails]``: a CALLRESULT refused (2.1)."""

    message_type: ClassVar[int] = CALLRESULTERROR
    message_id: str
    code: str
    description: str
    details: dict[str, Any]


class Send(msgspec.Struct, array_like=True, tag=SEND, forbid_unknown_fields=True, frozen=True):
    """``[6, messageId, action, payload]``: a request that is never answered (2.1)."""

    message_type: ClassVar[int] = SEND
    message_id: str
    action: str
    payload: msgspec.Raw


Frame: TypeAlias = Call | CallResult | CallError | CallResultError | Send

_FRAME_DECODER: msgspec.json.Decoder[Frame] = msgspec.json.Decoder(Frame)
_ITEMS_DECODER = msgspec.json.Decoder(list[msgspec.Raw])
_INT_DECODER = msgspec.json.Decoder(int)
_STR_DECODER = msgspec.json.Decoder(str)

# messageTypeId -> (name, number of elements), to say what is wrong with a broken frame.
_SHAPES: dict[int, tuple[str, int]] = {
    CALL: ("CALL", 4),
    CALLRESULT: ("CALLRESULT", 3),
    CALLERROR: ("CALLERROR", 5),
    CALLRESULTERROR: ("CALLRESULTERROR", 5),
    SEND: ("SEND", 4),
}


class MalformedFrame(Exception):
    """A received text is not a frame the dialect accepts.

    Attributes:
        error: what to tell the peer (RpcFrameworkError or MessageTypeNotSupported).
        message_type: the messageTypeId, when it could be read.
        message_id: the messageId, when it could be read.
    """

    def __init__(self, error: RpcError, message_type: int | None, message_id: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.message_type = message_type
        self.message_id = message_id


def parse_frame(text: str | bytes, message_types: frozenset[int]) -> Frame:
    """Parse a received text into its frame.

    Args:
        text: the JSON text of one WebSocket message.
        message_types: the messageTypeIds the dialect accepts.

    Raises:
        MalformedFrame: the text is not JSON, not an array of a known shape, or its type is not
            one of ``message_types``.
    """
    try:
        frame = _FRAME_DECODER.decode(text)
    except msgspec.MsgspecError as failure:
        raise _diagnose(text, message_types, failure) from None
    except UnicodeEncodeError:  # a str with lone surrogates has no UTF-8 form
        raise MalformedFrame(RpcFrameworkError("frame is not valid UTF-8"), None, None) from None
    if frame.message_type not in message_types:
        raise MalformedFrame(
            MessageTypeNotSupported(f"messageTypeId {frame.message_type} is not supported"),
            frame.message_type,
            frame.message_id,
        )
    return frame


def _diagnose(
    text: str | bytes, message_types: frozenset[int], failure: msgspec.MsgspecError
) -> MalformedFrame:
    """Explain why ``text`` failed to parse; the slow path, taken for broken frames only."""
    try:
        items = _ITEMS_DECODER.decode(text)
    except msgspec.ValidationError:  # a subclass of DecodeError: catch it first
        return MalformedFrame(RpcFrameworkError("frame is not a JSON array"), None, None)
    except msgspec.DecodeError:
        return MalformedFrame(RpcFrameworkError("frame is not valid JSON"), None, None)
    if not items:
        return MalformedFrame(RpcFrameworkError("frame is an empty array"), None, None)
    message_type = _read(_INT_DECODER, items[0])
    message_id = _read(_STR_DECODER, items[1]) if len(items) > 1 else None
    if message_type is None:
        error: RpcError = RpcFrameworkError("messageTypeId is not an integer")
    elif message_type not in message_types or message_type not in _SHAPES:
        error = MessageTypeNotSupported(f"messageTypeId {message_type} is not supported")
    else:
        name, length = _SHAPES[message_type]
        if len(items) != length:
            error = RpcFrameworkError(f"a {name} has {length} elements, not {len(items)}")
        else:
            error = RpcFrameworkError(f"invalid {name}: {failure}")
    return MalformedFrame(error, message_type, message_id)


def _read(decoder: msgspec.json.Decoder[Any], item: msgspec.Raw) -> Any:
    try:
        return decoder.decode(item)
    except msgspec.ValidationError:
        return None


# An oversized frame is not parsed; its type and id are read from its first characters so that
# the refusal can name the message. Ids with escapes are not read (they get "-1").
_HEADER = re.compile(r'\s*\[\s*(\d{1,9})\s*(?:,\s*"([^"\\]*)")?')
_HEADER_SCAN = 128


def read_header(text: str) -> tuple[int | None, str | None]:
    """The messageTypeId and messageId at the start of ``text``, without parsing the rest.

    Returns:
        ``(message_type, message_id)``, each None when it cannot be read.
    """
    match = _HEADER.match(text, 0, _HEADER_SCAN)
    if match is None:
        return None, None
    return int(match[1]), match[2]


def encode_frame(frame: Frame) -> bytes:
    """The JSON text of a frame; Raw payloads are copied in as they are."""
    return msgspec.json.encode(frame)


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One frame sent or received, for message logs (see the endpoint's ``trace``).

    Attributes:
        direction: "in" for a received frame, "out" for a sent one.
        message_type: the messageTypeId; None when a received text has none that can be read.
        message_id: the messageId; None when it cannot be read.
        action: the action of a CALL or SEND, or of the CALL that a response answers;
            None when unknown.
        text: the frame's text as it was received or sent.
    """

    direction: Literal["in", "out"]
    message_type: int | None
    message_id: str | None
    action: str | None
    text: str
