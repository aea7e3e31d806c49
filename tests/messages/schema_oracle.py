"""The reference side of the differential tests: the OCA schemas, jsonschema, and generators.

The schemas are read from the ocpp package (a dev dependency); jsonschema with the schema's own
draft and date-time format checking is the judge. Where kilowatt deliberately departs from the
judge (docs/validation.md), the judge is adjusted here, in the open:

- ``multipleOf`` is decided in decimal on the number as written (jsonschema divides binary
  floats, so for it 16.1 is not a multiple of 0.1);
- a date-time followed by a newline is refused (rfc3339-validator's ``$`` lets one through).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
from hypothesis import strategies as st
from rfc3339_validator import validate_rfc3339

SCHEMA_DIRS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}


@dataclass(frozen=True)
class SchemaCase:
    version: str
    action: str
    kind: str  # "request" or "response"
    schema: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.version}-{self.action}-{self.kind}"

    @property
    def draft(self) -> int:
        return 4 if "draft-04" in self.schema["$schema"] else 6


def all_cases() -> list[SchemaCase]:
    cases = []
    for version, directory in SCHEMA_DIRS.items():
        folder = Path(ocpp.__file__).parent / directory / "schemas"
        for path in sorted(folder.glob("*.json")):
            stem = path.stem
            kind = "response" if stem.endswith("Response") else "request"
            action = stem.removesuffix("Response").removesuffix("Request")
            schema = json.loads(path.read_text(encoding="utf-8-sig"))
            cases.append(SchemaCase(version, action, kind, schema))
    return cases


def _decimal_multiple_of(
    validator: Any, step: Any, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    if Decimal(repr(instance)) % Decimal(repr(step)) != 0:
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {step}")


_format_checker = jsonschema.FormatChecker(formats=())


@_format_checker.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return validate_rfc3339(value) and not value.endswith("\n")


_VALIDATORS = {
    4: jsonschema.validators.extend(
        jsonschema.Draft4Validator, {"multipleOf": _decimal_multiple_of}
    ),
    6: jsonschema.validators.extend(
        jsonschema.Draft6Validator, {"multipleOf": _decimal_multiple_of}
    ),
}


def judge(case: SchemaCase) -> Any:
    return _VALIDATORS[case.draft](case.schema, format_checker=_format_checker)


def resolve(node: dict[str, Any], case: SchemaCase) -> dict[str, Any]:
    while "$ref" in node:
        node = case.schema["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


# --- valid instances -------------------------------------------------------------------------

_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
)


@st.composite
def date_times(draw: st.DrawFn) -> str:
    moment = draw(
        st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30))
    ).replace(tzinfo=draw(_ZONES))
    text = moment.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds"])))
    return text.replace("+00:00", "Z")


_json_scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)
json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_extra_keys = st.text(string.ascii_letters, min_size=1, max_size=8).map(lambda s: "x" + s)


def instances(node: dict[str, Any], case: SchemaCase) -> st.SearchStrategy[Any]:
    """Values that the schema node accepts."""
    node = resolve(node, case)
    kind = node.get("type")
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if kind == "object":
        props = node.get("properties", {})
        required = set(node.get("required", []))
        strategy = st.fixed_dictionaries(
            {k: instances(v, case) for k, v in props.items() if k in required},
            optional={k: instances(v, case) for k, v in props.items() if k not in required},
        )
        if node.get("additionalProperties", True) is not False:
            extras = st.dictionaries(_extra_keys, json_values, max_size=2)
            strategy = st.tuples(strategy, extras).map(lambda pair: {**pair[1], **pair[0]})
        return strategy
    if kind == "array":
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 2), low + 2)
        return st.lists(instances(node["items"], case), min_size=low, max_size=high)
    if kind == "string":
        if node.get("format") == "date-time":
            return date_times()
        return st.text(max_size=min(node.get("maxLength", 30), 30)) | st.just(
            "a" * node.get("maxLength", 3)
        )
    if kind == "integer":
        low, high = node.get("minimum", -(2**40)), node.get("maximum", 2**40)
        return st.integers(int(low), int(high))
    if kind == "number":
        if "multipleOf" in node:
            step = Decimal(repr(node["multipleOf"]))
            return st.integers(-5000, 5000).map(lambda k: float(k * step))
        low, high = node.get("minimum"), node.get("maximum")
        return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.integers(
            int(low if low is not None else -1000), int(high if high is not None else 1000)
        )
    if kind == "boolean":
        return st.booleans()
    return json_values


# --- one mutation at a time ------------------------------------------------------------------


@dataclass
class Site:
    path: tuple[str | int, ...]
    node: dict[str, Any]  # resolved schema node of the value at path
    value: Any


def sites(
    value: Any, node: dict[str, Any], case: SchemaCase, path: tuple[Any, ...] = ()
) -> list[Site]:
    node = resolve(node, case)
    found = [Site(path, node, value)]
    if node.get("type") == "object" and isinstance(value, dict):
        for key, sub in node.get("properties", {}).items():
            if key in value:
                found += sites(value[key], sub, case, (*path, key))
    elif node.get("type") == "array" and isinstance(value, list):
        for i, element in enumerate(value):
            found += sites(element, node["items"], case, (*path, i))
    return found


BAD_DATE_TIMES = [
    "2020-13-01T00:00:00Z",
    "2020-02-30T00:00:00Z",
    "2021-02-29T00:00:00Z",
    "2020-01-01t00:00:00Z",
    "2020-01-01T00:00:00z",
    "2020-01-01 00:00:00Z",
    "2020-01-01T00:00:00+0100",
    "2020-01-01T24:00:00Z",
    "2020-01-01T00:00:00",
    "2020-01-01T00:00Z",
    "0000-01-01T00:00:00Z",
    "2016-12-31T23:59:60Z",
    "2020-01-01T00:00:00Z\n",
    "yesterday",
    # valid, for contrast
    "2024-02-29T23:59:59.5-05:30",
    "2020-01-01T00:00:00.123456Z",
]


def _other_type_values(node: dict[str, Any]) -> list[Any]:
    """Two values of another JSON type; integral floats for integers (draft 4 and 6 differ)."""
    kind = node.get("type")
    return {
        "string": [7, None],
        "integer": [3.0, "3"],
        "number": ["2.5", True],
        "boolean": [1, "true"],
        "array": [{}, "x"],
        "object": [[], 0],
    }.get(kind, [])


def mutations(site: Site) -> list[tuple[str, Any]]:
    """(label, new value) pairs that change the value at the site; None value means delete."""
    node, value = site.node, site.value
    out: list[tuple[str, Any]] = [(f"type:{v!r}", v) for v in _other_type_values(node)]
    kind = node.get("type")
    if "enum" in node:
        out.append(("enum", "NotAnAllowedValue"))
        out.append(("enum-case", str(node["enum"][0]).lower()))
    if kind == "string" and "maxLength" in node:
        out.append(("maxLength+1", "y" * (node["maxLength"] + 1)))
        out.append(("maxLength", "y" * node["maxLength"]))
    if node.get("format") == "date-time":
        out += [(f"date-time:{v!r}", v) for v in BAD_DATE_TIMES]
    if kind in ("integer", "number"):
        if "minimum" in node:
            out.append(("minimum-1", node["minimum"] - 1))
            out.append(("minimum", node["minimum"]))
        if "maximum" in node:
            out.append(("maximum+1", node["maximum"] + 1))
        if kind == "number":
            out.append(("fraction", 0.15))
    if kind == "array" and isinstance(value, list):
        if value:
            if "maxItems" in node:
                out.append(("maxItems+1", value + [value[0]] * (node["maxItems"] + 1 - len(value))))
            if len(value) >= node.get("minItems", 0) and node.get("minItems", 0) > 0:
                out.append(("minItems-1", value[: node["minItems"] - 1]))
        out.append(("empty", []))
    if kind == "object" and isinstance(value, dict):
        out.append(("extra-property", {**value, "unexpectedProperty": 1}))
        for key in node.get("required", []):
            if key in value:
                out.append((f"drop:{key}", {k: v for k, v in value.items() if k != key}))
        for key in node.get("properties", {}):
            if key in value and key not in node.get("required", []):
                out.append((f"null:{key}", {**value, key: None}))
    return out


def replace(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(root, list):
        copy = list(root)
        copy[head] = replace(root[head], tuple(rest), new)
        return copy
    return {**root, head: replace(root[head], tuple(rest), new)}


def json_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
