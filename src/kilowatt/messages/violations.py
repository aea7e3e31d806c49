"""The exact schema check, run only when the fast decode refuses a payload (or may have been lax).

msgspec decides most payloads on its own in one pass, but it does not say which JSON-schema rule
broke, and a few of its rules differ from the schema's (see docs/validation.md). This module
walks the parsed JSON against the same generated Structs, read through their type hints, and
finds the first violation as the schema would, with the OCPP-J error code from one table.

It also normalizes what the schema accepts and msgspec's strict decoding does not: under
JSON-schema draft 6 (every OCPP 2.x schema and part of 1.6) ``1.0`` is an integer.
"""

from __future__ import annotations

import calendar
import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from kilowatt.messages.base import CustomData, Message, MultipleOf
from kilowatt.rpc.errors import (
    FormatViolation,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    RpcError,
    TypeConstraintViolation,
)

__all__ = ["CODE_FOR_KEYWORD", "find_violation"]

# The one table from the JSON-schema keyword a payload breaks to the OCPP-J error code.
# Item counts are occurrence constraints in OCPP-J's own words ("violates occurrence
# constraints"); whatever is not named here is a FormatViolation.
CODE_FOR_KEYWORD: dict[str, type[RpcError]] = {
    "required": OccurrenceConstraintViolation,
    "minItems": OccurrenceConstraintViolation,
    "maxItems": OccurrenceConstraintViolation,
    "type": TypeConstraintViolation,
    "maxLength": PropertyConstraintViolation,
    "enum": PropertyConstraintViolation,
    "minimum": PropertyConstraintViolation,
    "maximum": PropertyConstraintViolation,
    "multipleOf": PropertyConstraintViolation,
    "additionalProperties": FormatViolation,
    "format": FormatViolation,
}

# RFC 3339 §5.6 date-time, upper-case T and Z as the schema's format checker wants them.
_DATE_TIME = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


class _Violation(Exception):
    def __init__(self, keyword: str, path: str, problem: str) -> None:
        self.keyword = keyword
        self.path = path
        self.problem = problem


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# A checker validates one value at one path and returns it, normalized.
Checker = Callable[[Any, str, int], Any]


@dataclass(frozen=True)
class _Field:
    python_name: str
    check: Checker
    required: bool


def _fail_type(expected: str, value: object, path: str) -> typing.NoReturn:
    raise _Violation("type", path, f"expected {expected}, got {_json_type(value)}")


def _string_checker(max_length: int | None) -> Checker:
    def check(value: Any, path: str, draft: int) -> Any:
        if not isinstance(value, str):
            _fail_type("string", value, path)
        if max_length is not None and len(value) > max_length:
            raise _Violation(
                "maxLength", path, f"{len(value)} characters, at most {max_length} allowed"
            )
        return value

    return check


def _date_time_checker() -> Checker:
    def check(value: Any, path: str, draft: int) -> Any:
        if not isinstance(value, str):
            _fail_type("string", value, path)
        match = _DATE_TIME.fullmatch(value)
        if match is None or not _calendar_day(match):
            raise _Violation("format", path, f"{value[:40]!r} is not an RFC 3339 date-time")
        return value

    return check


def _calendar_day(match: re.Match[str]) -> bool:
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    return year > 0 and 1 <= day <= calendar.monthrange(year, month)[1]


def _bounds(value: float, ge: float | None, le: float | None, path: str) -> None:
    if ge is not None and value < ge:
        raise _Violation("minimum", path, f"{value} is below the minimum {ge}")
    if le is not None and value > le:
        raise _Violation("maximum", path, f"{value} is above the maximum {le}")


def _integer_checker(ge: float | None, le: float | None) -> Checker:
    def check(value: Any, path: str, draft: int) -> Any:
        # Draft 4 knows no integral floats; from draft 6 on, 1.0 is the integer 1.
        if isinstance(value, float) and draft >= 6 and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            _fail_type("integer", value, path)
        _bounds(value, ge, le, path)
        return value

    return check


def _number_checker(ge: float | None, le: float | None, step: MultipleOf | None) -> Checker:
    def check(value: Any, path: str, draft: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail_type("number", value, path)
        if not math.isfinite(value):
            raise _Violation("maximum", path, "number out of the range of a double")
        _bounds(value, ge, le, path)
        if step is not None and not step.holds(value):
            raise _Violation("multipleOf", path, f"{value} is not a multiple of {step.step}")
        return value

    return check


def _boolean_check(value: Any, path: str, draft: int) -> Any:
    if not isinstance(value, bool):
        _fail_type("boolean", value, path)
    return value


def _any_check(value: Any, path: str, draft: int) -> Any:
    return value


def _enum_checker(enum: type[Enum]) -> Checker:
    allowed = frozenset(member.value for member in enum)

    def check(value: Any, path: str, draft: int) -> Any:
        if not isinstance(value, str):
            _fail_type("string", value, path)
        if value not in allowed:
            raise _Violation("enum", path, f"{value[:40]!r} is not one of the allowed values")
        return value

    return check


def _custom_data_check(value: Any, path: str, draft: int) -> Any:
    if not isinstance(value, dict):
        _fail_type("object", value, path)
    if "vendorId" not in value:
        raise _Violation("required", _join(path, "vendorId"), "required property missing")
    _string_checker(255)(value["vendorId"], _join(path, "vendorId"), draft)
    return value


def _list_checker(item: Checker, min_length: int | None, max_length: int | None) -> Checker:
    def check(value: Any, path: str, draft: int) -> Any:
        if not isinstance(value, list):
            _fail_type("array", value, path)
        if min_length is not None and len(value) < min_length:
            raise _Violation("minItems", path, f"{len(value)} items, at least {min_length}")
        if max_length is not None and len(value) > max_length:
            raise _Violation("maxItems", path, f"{len(value)} items, at most {max_length}")
        return [item(element, f"{path}[{i}]", draft) for i, element in enumerate(value)]

    return check


class _StructChecker:
    def __init__(self, cls: type[Message]) -> None:
        self.cls = cls
        self.fields: dict[str, _Field] = {}
        self.forbid_unknown = cls.__struct_config__.forbid_unknown_fields

    def __call__(self, value: Any, path: str, draft: int) -> Any:
        if not isinstance(value, dict):
            _fail_type("object", value, path or "payload")
        for wire, spec in self.fields.items():
            if spec.required and wire not in value:
                raise _Violation("required", _join(path, wire), "required property missing")
        if self.forbid_unknown:
            for key in value:
                if key not in self.fields:
                    raise _Violation(
                        "additionalProperties", _join(path, key), "property not allowed"
                    )
        return {
            key: self.fields[key].check(element, _join(path, key), draft)
            if key in self.fields
            else element
            for key, element in value.items()
        }


_STRUCT_CHECKERS: dict[type[Message], _StructChecker] = {}


def _struct_checker(cls: type[Message]) -> _StructChecker:
    checker = _STRUCT_CHECKERS.get(cls)
    if checker is None:
        # Registered before its fields are built, so self-referencing types terminate.
        checker = _STRUCT_CHECKERS[cls] = _StructChecker(cls)
        hints = typing.get_type_hints(cls, include_extras=True)
        for info in msgspec.structs.fields(cls):
            checker.fields[info.encode_name] = _Field(
                info.name, _checker_for(hints[info.name]), info.required
            )
    return checker


def _checker_for(annotation: Any) -> Checker:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not msgspec.UnsetType]
        if len(members) != 1:
            raise TypeError(f"unsupported union {annotation}")
        return _checker_for(members[0])
    metas: list[Any] = []
    if origin is Annotated:
        annotation, *metas = get_args(annotation)
        origin = get_origin(annotation)
    limits = {
        name: getattr(meta, name)
        for meta in metas
        if isinstance(meta, msgspec.Meta)
        for name in ("ge", "le", "min_length", "max_length")
        if getattr(meta, name) is not None
    }
    step = next((m for m in metas if isinstance(m, MultipleOf)), None)
    if origin is list:
        (item,) = get_args(annotation)
        return _list_checker(_checker_for(item), limits.get("min_length"), limits.get("max_length"))
    if annotation is str:
        return _string_checker(limits.get("max_length"))
    if annotation is datetime:
        return _date_time_checker()
    if annotation is bool:
        return _boolean_check
    if annotation is int:
        return _integer_checker(limits.get("ge"), limits.get("le"))
    if annotation is float:
        return _number_checker(limits.get("ge"), limits.get("le"), step)
    if annotation is Any:
        return _any_check
    if annotation is CustomData:
        return _custom_data_check
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum_checker(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Message):
        return _struct_checker(annotation)
    raise TypeError(f"no checker for {annotation!r}")


def find_violation(value: Any, cls: type[Message], draft: int) -> tuple[Any, RpcError | None]:
    """Check a parsed payload against its message type as the JSON schema would.

    Args:
        value: the payload as parsed JSON (dicts, lists, str, int, float, bool, None).
        cls: the generated message class.
        draft: the JSON-schema draft of the message's schema (4 or 6).

    Returns:
        The payload normalized for msgspec (integral floats that the draft calls integers made
        ints), and None; or the payload and the first violation as an RpcError whose description
        names the field path.
    """
    try:
        return _struct_checker(cls)(value, "", draft), None
    except _Violation as violation:
        error_class = CODE_FOR_KEYWORD[violation.keyword]
        error = error_class(
            f"{violation.path}: {violation.problem}",
            {"path": violation.path, "keyword": violation.keyword},
        )
        return value, error
