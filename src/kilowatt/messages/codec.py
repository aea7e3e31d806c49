"""Decode and validate payloads in one pass; encode them back.

The fast path is one msgspec decode into the generated Struct, which checks every schema rule as
it builds the object. Only when it refuses a payload does the exact checker (violations.py) run,
to name the rule that broke and its OCPP-J error code, or to accept what msgspec's strict mode
refuses and the schema allows (``1.0`` as an integer under draft 6). The accept/reject decision
is the schema's in every case; docs/validation.md lists the few deliberate exceptions.
"""

from __future__ import annotations

import json
import re
import types
import typing
from datetime import datetime
from typing import Any, TypeVar, get_args, get_origin

import msgspec

from kilowatt.messages.base import CustomData, Message
from kilowatt.messages.violations import find_violation
from kilowatt.rpc.errors import FormatViolation

__all__ = ["decode", "encode"]

M = TypeVar("M", bound=Message)

# msgspec reads a few date-time spellings that RFC 3339's grammar (and the schema's format
# check) refuse: a lower-case "t" or a space between date and time, a lower-case "z", an offset
# without its colon. A payload whose text may hold one of them goes to the exact checker: a
# date's "-DD" followed by a lax separator, or by "T", a time and a lax zone; or any \u escape,
# which could spell either. The screen is anchored on the literal "-" so that it stays cheap on
# long payloads (bench/codec.py); when it matches harmless text the exact checker accepts it.
_LAX_DATE_TIME = re.compile(rb'-\d\d(?:[t ]\d|T\d\d:\d\d:\d\d(?:\.\d+)?(?:z|[+-]\d{4})")')
_ESCAPE = re.compile(rb"\\u")  # a compiled literal search beats bytes.find on short needles


def _may_hold_lax_date_time(raw: bytes) -> bool:
    return _ESCAPE.search(raw) is not None or _LAX_DATE_TIME.search(raw) is not None


def _dec_hook(type_: type, value: Any) -> Any:
    if type_ is CustomData:
        if not isinstance(value, dict) or not isinstance(value.get("vendorId"), str):
            raise ValueError("invalid customData")
        if len(value["vendorId"]) > 255:
            raise ValueError("customData.vendorId too long")
        extra = {k: v for k, v in value.items() if k != "vendorId"}
        return CustomData(value["vendorId"], extra)
    raise TypeError(f"no decoder for {type_!r}")


def _enc_hook(value: Any) -> Any:
    if isinstance(value, CustomData):
        return value.to_json()
    raise TypeError(f"cannot encode {type(value).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)
_DECODERS: dict[type[Message], msgspec.json.Decoder[Any]] = {}
_HAS_DATE_TIME: dict[type[Message], bool] = {}


def _decoder(cls: type[M]) -> msgspec.json.Decoder[M]:
    decoder = _DECODERS.get(cls)
    if decoder is None:
        decoder = _DECODERS[cls] = msgspec.json.Decoder(cls, dec_hook=_dec_hook)
        _HAS_DATE_TIME[cls] = _contains_date_time(cls, set())
    return decoder


def _contains_date_time(annotation: Any, seen: set[type]) -> bool:
    origin = get_origin(annotation)
    if origin is not None:
        return any(_contains_date_time(arg, seen) for arg in get_args(annotation))
    if annotation is datetime:
        return True
    if isinstance(annotation, type) and issubclass(annotation, Message):
        if annotation in seen:
            return False
        seen.add(annotation)
        hints = typing.get_type_hints(annotation, include_extras=True)
        return any(_contains_date_time(hint, seen) for hint in hints.values())
    return isinstance(annotation, types.UnionType) and any(
        _contains_date_time(arg, seen) for arg in get_args(annotation)
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode(payload: bytes | str, cls: type[M]) -> M:
    """Decode a payload's JSON text into its message type, validating it against its schema.

    Args:
        payload: the JSON text of the payload object.
        cls: the generated request or response class.

    Raises:
        RpcError: the payload breaks the schema; the subclass is the OCPP-J error code
            (FormatViolation, OccurrenceConstraintViolation, PropertyConstraintViolation,
            TypeConstraintViolation) and the description names the field path.
    """
    decoder = _decoder(cls)
    try:
        message = decoder.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _decode_exactly(payload, cls, None)
    if _HAS_DATE_TIME[cls]:
        raw = payload.encode() if isinstance(payload, str) else payload
        if _may_hold_lax_date_time(raw):
            return _decode_exactly(payload, cls, message)
    return message


def _decode_exactly(payload: bytes | str, cls: type[M], decoded: M | None) -> M:
    try:
        value = json.loads(payload, parse_constant=_reject_constant)
        # A lone surrogate cannot be encoded as UTF-8: such text is not a valid payload.
        json.dumps(value, ensure_ascii=False).encode()
    except (ValueError, UnicodeError) as exc:
        raise FormatViolation(f"payload is not valid JSON text: {exc}") from None
    draft = getattr(cls, "JSON_SCHEMA_DRAFT", 6)
    normalized, error = find_violation(value, cls, draft)
    if error is not None:
        raise error
    if decoded is not None:
        return decoded
    try:
        return msgspec.convert(normalized, cls, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        # The exact checker accepted what msgspec refuses: a gap between the two that the
        # differential tests are there to catch. Refuse rather than guess.
        raise FormatViolation(f"payload refused: {exc}") from None


def encode(message: Message) -> bytes:
    """The JSON text of a message, with the wire names of its fields; unset fields are left out."""
    return _ENCODER.encode(message)
