"""Checking an attribute value against its variable's characteristics (Part 1 §4 data types).

Values travel as strings. A value is refused with a reason: an OCPP reasonCode (the names of the
2.1 reason code list, which 2.0.1 leaves free) and a sentence for additionalInfo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kilowatt.devicemodel.model import Characteristics, DataType, split_list

__all__ = ["Refusal", "check_value", "parse_number"]

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# RFC 3339 date-time with a time zone (Part 2 §2.1.1); fromisoformat alone accepts more.
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


@dataclass(frozen=True, slots=True)
class Refusal:
    reason_code: str
    additional_info: str


def parse_number(value: str, data_type: DataType) -> Decimal | None:
    """The number an integer or decimal value spells, or None if it spells none."""
    pattern = _INTEGER if data_type == DataType.INTEGER else _DECIMAL
    if pattern.fullmatch(value) is None:
        return None
    return Decimal(value)


def check_value(characteristics: Characteristics, value: str) -> Refusal | None:
    """None if the value fits the characteristics, else why not."""
    data_type = characteristics.data_type
    if data_type in (DataType.INTEGER, DataType.DECIMAL):
        return _check_number(characteristics, value)
    if data_type == DataType.BOOLEAN:
        if value not in ("true", "false"):
            return Refusal("InvalidValue", f"{value!r} is not a boolean (true or false)")
        return None
    if data_type == DataType.DATE_TIME:
        return _check_date_time(value)
    if data_type == DataType.STRING:
        if characteristics.max_limit is not None and len(value) > characteristics.max_limit:
            return Refusal(
                "TooLargeElement",
                f"{len(value)} characters, at most {characteristics.max_limit} allowed",
            )
        return None
    return _check_list(characteristics, value)


def _check_number(characteristics: Characteristics, value: str) -> Refusal | None:
    number = parse_number(value, characteristics.data_type)
    if number is None:
        return Refusal("InvalidValue", f"{value!r} is not a {characteristics.data_type.value}")
    if characteristics.min_limit is not None and number < characteristics.min_limit:
        return Refusal("ValueTooLow", f"{value} is below the minimum {characteristics.min_limit}")
    if characteristics.max_limit is not None and number > characteristics.max_limit:
        return Refusal("ValueTooHigh", f"{value} is above the maximum {characteristics.max_limit}")
    return None


def _check_date_time(value: str) -> Refusal | None:
    if _DATE_TIME.fullmatch(value) is None:
        return Refusal("InvalidValue", f"{value!r} is not an RFC 3339 date-time with an offset")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return Refusal("InvalidValue", f"{value!r} is not a valid date-time")
    return None


def _check_list(characteristics: Characteristics, value: str) -> Refusal | None:
    allowed = characteristics.values_list
    if characteristics.data_type == DataType.OPTION_LIST:
        if allowed is not None and value not in allowed:
            return Refusal("InvalidValue", f"{value!r} is not one of {','.join(allowed)}")
        return None
    # MemberList: a set of members; SequenceList: an ordered list. Both are comma-separated and
    # each member must be in valuesList when there is one.
    members = split_list(value)
    if any(not member for member in members):
        return Refusal("InvalidValue", f"{value!r} has an empty member")
    if len(set(members)) != len(members):
        return Refusal("InvalidValue", f"{value!r} lists a member twice")
    if allowed is not None:
        unknown = [member for member in members if member not in allowed]
        if unknown:
            return Refusal(
                "InvalidValue", f"{','.join(unknown)} not in the allowed {','.join(allowed)}"
            )
    return None
