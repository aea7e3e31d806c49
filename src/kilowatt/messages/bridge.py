"""An OCPP 2.1 connection for a side whose handlers are written for 2.0.1.

OCPP 2.1 keeps 2.0.1's messages and adds fields, enum values and actions. Until every 2.1
action is handled natively, a side serves the 2.1 wire with its 2.0.1 handlers plus the 2.1
ones it has (the tariff use cases I07-I12): :class:`BridgeCodec` validates every payload
against the 2.1 schemas, hands a 2.0.1 handler the 2.0.1 type of the action (the fields 2.0.1
does not know dropped), and sends what a 2.0.1 handler answers as the 2.1 type.
:func:`convert` is the conversion: by wire names, through JSON, validated by the target type.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec
import msgspec.inspect as mi

from kilowatt.messages import v21, v201
from kilowatt.messages.base import Message, Request, Response
from kilowatt.messages.codec import decode, encode
from kilowatt.rpc.errors import ActionNotImplemented, NotSupported, RpcError

if TYPE_CHECKING:
    from kilowatt.messages import Version

__all__ = ["BridgeCodec", "convert", "transaction_event_as_201"]

M = TypeVar("M", bound=Message)

_Shape = dict[str, Any]  # wire name -> the shape of its value (None: kept as is)


def _shape(t: mi.Type) -> Any:
    if isinstance(t, mi.Metadata):
        return _shape(t.type)
    if isinstance(t, mi.StructType):
        return {f.encode_name: _shape(f.type) for f in t.fields}
    if isinstance(t, mi.ListType):
        return [_shape(t.item_type)]
    return None


@cache
def _struct_shape(cls: type[Message]) -> _Shape:
    shape: _Shape = _shape(mi.type_info(cls))
    return shape


def _prune(value: Any, shape: Any) -> Any:
    if isinstance(shape, dict) and isinstance(value, dict):
        return {key: _prune(item, shape[key]) for key, item in value.items() if key in shape}
    if isinstance(shape, list) and isinstance(value, list):
        return [_prune(item, shape[0]) for item in value]
    return value


def convert(message: Message, target: type[M]) -> M:
    """``message`` as the same message of another version: fields matched by wire name, those
    ``target`` does not have dropped, every value checked by ``target``'s schema.

    Raises:
        RpcError: a value does not fit ``target`` (an enum value only 2.1 has, say); the
            error names the field.
    """
    if type(message) is target:
        return message
    data = msgspec.json.decode(encode(message))
    return decode(msgspec.json.encode(_prune(data, _struct_shape(target))), target)


# OCPP 2.1's trigger reasons that 2.0.1 lacks, as a 2.0.1 core takes them (the message log
# keeps the event as sent): a limit set or a mode changed alters the charging rate, a limit
# reached ends like an energy limit; the rest (TariffChanged, RunningCost...) are events of the
# transaction's own making, which 2.0.1 calls Trigger.
_TRIGGERS_21 = {
    "LimitSet": v201.TriggerReasonEnumType.CHARGING_RATE_CHANGED,
    "OperationModeChanged": v201.TriggerReasonEnumType.CHARGING_RATE_CHANGED,
    "CostLimitReached": v201.TriggerReasonEnumType.ENERGY_LIMIT_REACHED,
    "SoCLimitReached": v201.TriggerReasonEnumType.ENERGY_LIMIT_REACHED,
}
_V201_TRIGGERS = frozenset(v201.TriggerReasonEnumType)


def transaction_event_as_201(
    request: v21.TransactionEventRequest | v201.TransactionEventRequest,
) -> v201.TransactionEventRequest:
    """A 2.1 TransactionEvent as the 2.0.1 core handles it: 2.1's fields dropped, a 2.1-only
    trigger reason mapped to its nearest 2.0.1 one.

    Raises:
        RpcError: another value only 2.1 has (an IdToken type 2.0.1 lacks, say).
    """
    if isinstance(request, v201.TransactionEventRequest):
        return request
    trigger = str(request.trigger_reason)
    if trigger not in _V201_TRIGGERS:
        mapped = _TRIGGERS_21.get(trigger, v201.TriggerReasonEnumType.TRIGGER)
        request = msgspec.structs.replace(request, trigger_reason=v21.TriggerReasonEnumType(mapped))
    return convert(request, v201.TransactionEventRequest)


class BridgeCodec:
    """The payload codec of a connection whose wire speaks ``wire`` (OCPP 2.1) for a side whose
    handlers and calls are ``home``'s (2.0.1), except for the ``native`` actions.

    Args:
        wire: the version on the wire (``VERSIONS["2.1"]``).
        home: the version of this side's handlers (``VERSIONS["2.0.1"]``).
        role: the side this codec serves, as in PayloadCodec.
        native: the actions whose requests this side handles as ``wire`` types.
    """

    def __init__(
        self,
        wire: Version,
        home: Version,
        role: Literal["station", "csms"],
        native: frozenset[str],
    ) -> None:
        self.version = wire
        self._home = home
        peer: Literal["station", "csms"] = "station" if role == "csms" else "csms"
        self._incoming: frozenset[str] = wire.sent_by(peer)
        self._native = native

    def decode_call(self, action: str, payload: bytes) -> Request[Response]:
        cls = self.version.requests.get(action)
        if cls is None:
            raise ActionNotImplemented(f"unknown action {action!r}")
        if action not in self._incoming:
            raise NotSupported(f"{action} is not sent to this side")
        request = decode(payload, cls)
        home_cls = self._home.requests.get(action)
        if action in self._native or home_cls is None:
            # A 2.1-only action without a native handler is routed as is: NotSupported.
            return request
        try:
            converted: Request[Response] = convert(request, home_cls)
        except RpcError as error:
            raise NotSupported(
                f"{action}: a 2.1 value this side does not handle: {error}"
            ) from None
        return converted

    def decode_result(self, action: str, payload: bytes, request: object) -> Response:
        cls = self.version.responses.get(action)
        if cls is None:
            raise ActionNotImplemented(f"{action} has no response")
        response = decode(payload, cls)
        # The caller gets the response type of the request it made: a 2.0.1 call a 2.0.1
        # answer (2.1's extra fields dropped), a 2.1 call the 2.1 answer.
        wanted = getattr(request, "RESPONSE_TYPE", None)
        if wanted is None or wanted is cls:
            return response
        converted: Response = convert(response, wanted)
        return converted

    def encode(self, payload: object) -> bytes:
        if not isinstance(payload, Message):
            raise TypeError(f"not a message: {payload!r}")
        table = (
            self.version.requests
            if isinstance(payload, Request)
            else self.version.responses
            if isinstance(payload, Response)
            else {}
        )
        cls = table.get(getattr(payload, "ACTION", ""))
        if cls is not None and type(payload) is not cls:
            # A 2.0.1 payload goes out as the 2.1 type of its action: checked against the
            # 2.1 schema on the way.
            payload = convert(payload, cls)
        return encode(payload)
