"""The smallest payload a message type's schema accepts: required fields only, each at its
smallest allowed value, built from the generated classes with msgspec.inspect."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec.inspect as mi

from kilowatt.messages import Message, decode

__all__ = ["minimal_message", "minimal_payload"]

M = TypeVar("M", bound=Message)


def _minimal(kind: mi.Type) -> Any:
    match kind:
        case mi.StructType():
            return {f.encode_name: _minimal(f.type) for f in kind.fields if f.required}
        case mi.StrType():
            return "x" * max(1, kind.min_length or 0)
        case mi.IntType():
            if kind.ge is not None:
                return kind.ge
            return 0 if kind.gt is None else kind.gt + 1
        case mi.FloatType():
            return 0 if kind.ge is None else kind.ge
        case mi.BoolType():
            return False
        case mi.EnumType():
            return next(iter(kind.cls)).value
        case mi.DateTimeType():
            return "2025-01-01T00:00:00Z"
        case mi.ListType():
            return [_minimal(kind.item_type)] * (kind.min_length or 0)
        case mi.UnionType():
            return _minimal(kind.types[0])
        case mi.Metadata():
            return _minimal(kind.type)
    raise TypeError(f"no minimal value for {kind!r}")


def minimal_payload(cls: type[Message]) -> dict[str, Any]:
    """The smallest valid payload of a message type, as JSON."""
    payload: dict[str, Any] = _minimal(mi.type_info(cls))
    return payload


def minimal_message(cls: type[M]) -> M:
    """The smallest valid message of a type."""
    return decode(json.dumps(minimal_payload(cls)), cls)
