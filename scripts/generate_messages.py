#!/usr/bin/env python3
"""Generate kilowatt.messages.v16, v201 and v21 from the OCA JSON schemas.

The schemas come from the PyPI package ocpp==2.1.0 (a pinned dev dependency); nothing of them is
copied into the repository but the constraints they state, written as msgspec Structs.

    python scripts/generate_messages.py           write the modules
    python scripts/generate_messages.py --check   exit 1 when a module is not what it would write

Naming rules (no heuristic conversion at run time: every wire name is written out):
- a field is the snake_case of its schema property and carries the exact wire name;
- a class keeps the schema's definition name (``ChargingStationType``); OCPP 1.6 declares its
  objects and enumerations inline, so they are named after their property, widened with the names
  of their parents until the name is unique (``IdTagInfo``, ``ResetRequestType``);
- enumeration members are the UPPER_SNAKE_CASE of their values (``Energy.Active.Import.Register`` is
  ``ENERGY_ACTIVE_IMPORT_REGISTER``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import keyword
import math
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "kilowatt" / "messages"
OCPP_RELEASE = "2.1.0"

# Who sends each CALL: the schemas do not say, the specifications' message lists do.
# DataTransfer goes both ways.
_CS_16 = (
    "Authorize BootNotification DataTransfer DiagnosticsStatusNotification"
    " FirmwareStatusNotification Heartbeat MeterValues StartTransaction StatusNotification"
    " StopTransaction"
    " LogStatusNotification SecurityEventNotification SignCertificate"
    " SignedFirmwareStatusNotification"
)
_CSMS_16 = (
    "CancelReservation ChangeAvailability ChangeConfiguration ClearCache ClearChargingProfile"
    " DataTransfer GetCompositeSchedule GetConfiguration GetDiagnostics GetLocalListVersion"
    " RemoteStartTransaction RemoteStopTransaction ReserveNow Reset SendLocalList"
    " SetChargingProfile TriggerMessage UnlockConnector UpdateFirmware CertificateSigned"
    " DeleteCertificate ExtendedTriggerMessage GetInstalledCertificateIds GetLog"
    " InstallCertificate SignedUpdateFirmware"
)
_CS_201 = (
    "SignCertificate SecurityEventNotification BootNotification NotifyReport Authorize"
    " TransactionEvent StatusNotification Heartbeat ReservationStatusUpdate MeterValues"
    " ReportChargingProfiles NotifyChargingLimit ClearedChargingLimit NotifyEVChargingNeeds"
    " NotifyEVChargingSchedule FirmwareStatusNotification PublishFirmwareStatusNotification"
    " Get15118EVCertificate GetCertificateStatus LogStatusNotification NotifyMonitoringReport"
    " NotifyEvent NotifyCustomerInformation NotifyDisplayMessages DataTransfer"
)
_CSMS_201 = (
    "CertificateSigned GetBaseReport GetReport GetVariables SetVariables SetNetworkProfile Reset"
    " ClearCache SendLocalList GetLocalListVersion GetTransactionStatus RequestStartTransaction"
    " RequestStopTransaction UnlockConnector TriggerMessage ChangeAvailability ReserveNow"
    " CancelReservation CostUpdated SetChargingProfile GetChargingProfiles ClearChargingProfile"
    " GetCompositeSchedule UpdateFirmware PublishFirmware UnpublishFirmware InstallCertificate"
    " GetInstalledCertificateIds DeleteCertificate GetLog SetMonitoringBase SetMonitoringLevel"
    " SetVariableMonitoring ClearVariableMonitoring GetMonitoringReport CustomerInformation"
    " SetDisplayMessage GetDisplayMessages ClearDisplayMessage DataTransfer"
)
_CS_21_NEW = (
    "NotifySettlement VatNumberValidation NotifyPriorityCharging PullDynamicScheduleUpdate"
    " GetCertificateChainStatus OpenPeriodicEventStream ClosePeriodicEventStream"
    " NotifyPeriodicEventStream ReportDERControl NotifyDERAlarm NotifyDERStartStop BatterySwap"
)
_CSMS_21_NEW = (
    "NotifyWebPaymentStarted SetDefaultTariff GetTariffs ClearTariffs ChangeTransactionTariff"
    " UsePriorityCharging UpdateDynamicSchedule GetPeriodicEventStream AdjustPeriodicEventStream"
    " NotifyAllowedEnergyTransfer AFRRSignal SetDERControl GetDERControl ClearDERControl"
    " RequestBatterySwap"
)


@dataclass(frozen=True)
class Version:
    module: str
    name: str
    schema_dir: str
    from_station: frozenset[str]
    from_csms: frozenset[str]


VERSIONS = (
    Version("v16", "1.6", "v16", frozenset(_CS_16.split()), frozenset(_CSMS_16.split())),
    Version("v201", "2.0.1", "v201", frozenset(_CS_201.split()), frozenset(_CSMS_201.split())),
    Version(
        "v21",
        "2.1",
        "v21",
        frozenset((_CS_201 + " " + _CS_21_NEW).split()),
        frozenset((_CSMS_201 + " " + _CSMS_21_NEW).split()),
    ),
)

DRAFT_04 = "http://json-schema.org/draft-04/schema#"
DRAFT_06 = "http://json-schema.org/draft-06/schema#"
CUSTOM_DATA = "CustomDataType"
# Keywords that carry no constraint (documentation, code-generation hints, or inert here:
# additionalItems only acts when items is a list, which no OCPP schema uses).
INERT = {
    "description",
    "javaType",
    "title",
    "$schema",
    "$id",
    "comment",
    "default",
    "additionalItems",
}


_WORDS = re.compile(r"[A-Z0-9]+(?=[A-Z][a-z]|[^A-Za-z0-9]|$)|[A-Z]?[a-z0-9]+|[A-Z0-9]+")


def snake_case(name: str) -> str:
    """``chargingStation`` → ``charging_station``; runs of capitals and digits stay one word:
    ``responderURL`` → ``responder_url``, ``V2GCertificate`` → ``v2g_certificate``."""
    # "SoC" (state of charge) is one word, not "So" and "C".
    name = re.sub(r"SoC(?![a-z])", "Soc", name)
    s = "_".join(word.lower() for word in _WORDS.findall(name))
    return s + "_" if keyword.iskeyword(s) else s


def member_name(value: str) -> str:
    name = snake_case(value).upper()
    return name if name[0].isalpha() else "V_" + name


def pascal_case(name: str) -> str:
    return name[0].upper() + name[1:]


@dataclass
class StructDef:
    name: str
    forbid_unknown: bool
    fields: list[tuple[str, str, str, bool]] = field(default_factory=list)  # py, wire, type, req
    multiple_of: list[tuple[str, str]] = field(default_factory=list)  # py name, step


@dataclass
class Schema:
    action: str
    kind: str  # "request" or "response"
    draft: int
    root: dict[str, Any]

    @property
    def class_name(self) -> str:
        return self.action + ("Request" if self.kind == "request" else "Response")


class ModuleBuilder:
    """Turns the schemas of one OCPP version into the text of one Python module."""

    def __init__(self, version: Version, schemas: list[Schema]) -> None:
        self.version = version
        self.schemas = schemas
        self.enums: dict[str, list[str]] = {}
        self.structs: dict[str, StructDef] = {}
        self.string_aliases: set[int] = set()
        self.inline_names = self._name_inline_types()
        self._root_types: list[str] = []

    # Inline types (OCPP 1.6): group identical nodes, then widen names until unique.
    def _name_inline_types(self) -> dict[str, str]:
        found: dict[str, list[list[str]]] = {}  # signature -> paths

        def visit(node: dict[str, Any], path: list[str]) -> None:
            for prop, sub in node.get("properties", {}).items():
                target = sub["items"] if sub.get("type") == "array" else sub
                if "$ref" in target:
                    continue
                if target.get("type") == "object" or "enum" in target:
                    found.setdefault(self._signature(target), []).append([*path, prop])
                if target.get("type") == "object":
                    visit(target, [*path, prop])

        for schema in self.schemas:
            visit(schema.root, [schema.class_name])
        reserved = {s.class_name for s in self.schemas}
        for schema in self.schemas:
            reserved.update(schema.root.get("definitions", {}))
        width = dict.fromkeys(found, 1)
        while True:
            names = {
                sig: "".join(pascal_case(p) for p in paths[0][-width[sig] :])
                for sig, paths in found.items()
            }
            clash = {
                sig
                for sig, name in names.items()
                if name in reserved or list(names.values()).count(name) > 1
            }
            if not clash:
                return names
            for sig in clash:
                if width[sig] >= len(found[sig][0]):
                    raise SystemExit(f"cannot name inline type at {found[sig][0]}")
                width[sig] += 1

    @staticmethod
    def _signature(node: dict[str, Any]) -> str:
        return json.dumps(node, sort_keys=True)

    def _check_keywords(self, node: dict[str, Any], allowed: set[str], where: str) -> None:
        unknown = set(node) - allowed - INERT
        if unknown:
            raise SystemExit(f"{where}: unsupported schema keywords {sorted(unknown)}")

    def type_of(self, node: dict[str, Any], defs: dict[str, Any], where: str) -> str:
        if "$ref" in node:
            self._check_keywords(node, {"$ref"}, where)
            name = node["$ref"].removeprefix("#/definitions/")
            if name == CUSTOM_DATA:
                return "CustomData"
            self.define(name, defs[name], defs, name)
            return name
        kind = node.get("type")
        if "enum" in node:
            self._check_keywords(node, {"type", "enum", "additionalProperties"}, where)
            assert kind == "string", where
            name = self.inline_names[self._signature(node)]
            self.define(name, node, defs, where)
            return name
        if kind == "object":
            name = self.inline_names[self._signature(node)]
            self.define(name, node, defs, where)
            return name
        if kind == "array":
            self._check_keywords(node, {"type", "items", "minItems", "maxItems"}, where)
            item = self.type_of(node["items"], defs, where + "[]")
            meta = self._meta(min_length=node.get("minItems"), max_length=node.get("maxItems"))
            return f"Annotated[list[{item}], {meta}]" if meta else f"list[{item}]"
        if kind == "string":
            self._check_keywords(
                node, {"type", "maxLength", "format", "additionalProperties"}, where
            )
            if node.get("format") == "date-time":
                assert "maxLength" not in node, where
                return "DateTime"
            # OCPP 1.6 marks two URLs with format "uri"; like the reference validator without an
            # optional URI package, we do not check that format (see docs/validation.md).
            if "maxLength" in node:
                self.string_aliases.add(node["maxLength"])
                return f"String{node['maxLength']}"
            return "str"
        if kind in ("integer", "number"):
            self._check_keywords(node, {"type", "minimum", "maximum", "multipleOf"}, where)
            base = "int" if kind == "integer" else "float"
            extras = []
            low, high = node.get("minimum"), node.get("maximum")
            if kind == "integer":
                # An integer is >= 0.5 exactly when it is >= 1: msgspec wants integer bounds here.
                low = None if low is None else math.ceil(low)
                high = None if high is None else math.floor(high)
            meta = self._meta(ge=low, le=high)
            if meta:
                extras.append(meta)
            if "multipleOf" in node:
                assert kind == "number", where
                extras.append(f'MultipleOf(Decimal("{node["multipleOf"]}"))')
            return f"Annotated[{base}, {', '.join(extras)}]" if extras else base
        if kind == "boolean":
            self._check_keywords(node, {"type"}, where)
            return "bool"
        if kind is None:
            # No constraint at all (DataTransfer.data): any JSON value, null included.
            self._check_keywords(node, set(), where)
            return "Any"
        raise SystemExit(f"{where}: unsupported schema node {node}")

    @staticmethod
    def _meta(**bounds: Any) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in bounds.items() if v is not None)
        return f"Meta({args})" if args else ""

    def define(self, name: str, node: dict[str, Any], defs: dict[str, Any], where: str) -> None:
        if name in self.enums or name in self.structs:
            return
        if "enum" in node:
            self.enums[name] = list(node["enum"])
            return
        self.structs[name] = StructDef(name, False)  # placeholder against recursion
        self.structs[name] = self.build_struct(name, node, defs)

    def build_struct(self, name: str, node: dict[str, Any], defs: dict[str, Any]) -> StructDef:
        self._check_keywords(
            node, {"type", "properties", "required", "additionalProperties", "definitions"}, name
        )
        assert node.get("type") == "object", name
        additional = node.get("additionalProperties", True)
        assert additional is False, f"{name}: only customData may allow extra properties"
        struct = StructDef(name, forbid_unknown=True)
        required = set(node.get("required", []))
        seen: set[str] = set()
        for prop, sub in node.get("properties", {}).items():
            py = snake_case(prop)
            assert py not in seen, f"{name}: two properties map to {py}"
            seen.add(py)
            type_ = self.type_of(sub, defs, f"{name}.{prop}")
            struct.fields.append((py, prop, type_, prop in required))
            mult = (sub.get("items", sub) if sub.get("type") == "array" else sub).get("multipleOf")
            if mult is not None:
                struct.multiple_of.append((py, str(mult)))
        assert required <= set(node.get("properties", {})), name
        return struct

    def render(self) -> str:
        roots = {}
        for schema in self.schemas:
            defs = schema.root.get("definitions", {})
            for def_name, def_node in defs.items():
                if def_name != CUSTOM_DATA:
                    self.define(def_name, def_node, defs, def_name)
            roots[(schema.action, schema.kind)] = (
                self.build_struct(schema.class_name, schema.root, defs),
                schema,
            )
        self._root_types = [t for r, _ in roots.values() for _, _, t, _ in r.fields]
        out = [self._header()]
        for length in sorted(self.string_aliases):
            out.append(f"String{length} = Annotated[str, Meta(max_length={length})]")
        out.append("")
        for name in sorted(self.enums):
            out.append(self._render_enum(name, self.enums[name]))
        # Dependencies first: mypy's dataclass_transform analysis gives up on long forward chains.
        for name in self._dependency_order():
            out.append(self._render_struct(self.structs[name], "Message", []))
        actions = sorted({action for action, _ in roots})
        for action in actions:
            response = roots.get((action, "response"))
            request_def, request_schema = roots[(action, "request")]
            response_name = "None"
            if response is not None:
                response_def, response_schema = response
                response_name = response_def.name
                out.append(
                    self._render_struct(
                        response_def,
                        "Response",
                        [f'ACTION = "{action}"', *self._draft_line(response_schema)],
                    )
                )
            base = f"Request[{response_name}]" if response is not None else "Request[Response]"
            out.append(
                self._render_struct(
                    request_def,
                    base,
                    [
                        f'ACTION = "{action}"',
                        f"RESPONSE_TYPE = {response_name}",
                        *self._draft_line(request_schema),
                    ],
                )
            )
        out.append(self._render_tables(actions, roots))
        return "\n".join(out)

    def _dependency_order(self) -> list[str]:
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            for _, _, type_, _ in self.structs[name].fields:
                for ref in re.findall(r"[A-Za-z0-9_]+", type_):
                    if ref in self.structs and ref != name:
                        visit(ref)
            order.append(name)

        for name in sorted(self.structs):
            visit(name)
        return order

    @staticmethod
    def _draft_line(schema: Schema) -> list[str]:
        return [] if schema.draft == 6 else [f"JSON_SCHEMA_DRAFT = {schema.draft}"]

    def _header(self) -> str:
        typing_names = ["Annotated", "Any"] if self._uses("Any") else ["Annotated"]
        imports = [
            "from __future__ import annotations",
            "",
            *(["from decimal import Decimal"] if self._uses("Decimal(") else []),
            "from enum import StrEnum",
            f"from typing import {', '.join(typing_names)}",
            "",
            "from msgspec import UNSET, Meta, UnsetType, field",
            "",
            f"from kilowatt.messages.base import {', '.join(self._base_imports())}",
        ]
        return "\n".join(
            [
                "# Generated by scripts/generate_messages.py from the OCA JSON schemas of OCPP"
                f" {self.version.name}",
                f"# (as shipped in the PyPI package ocpp=={OCPP_RELEASE}). DO NOT EDIT: run"
                " `make generate`.",
                "# tests/messages/test_generated.py fails when this file differs from what the"
                " script writes.",
                f'"""OCPP {self.version.name} payload types: one request and one response class'
                ' per action."""',
                "",
                *imports,
                "",
                '__all__ = ["ACTIONS", "FROM_CSMS", "FROM_STATION", "REQUESTS", "RESPONSES"]',
                "",
            ]
        )

    def _uses(self, token: str) -> bool:
        return any(
            token in type_ for s in self.structs.values() for _, _, type_, _ in s.fields
        ) or any(token in t for t in self._root_types)

    def _base_imports(self) -> list[str]:
        names = ["Message", "Request", "Response"]
        for token in ("CustomData", "DateTime", "MultipleOf"):
            if self._uses(token):
                names.append(token)
        if self._uses("MultipleOf"):
            names.append("check_multiple_of")
        return sorted(names)

    @staticmethod
    def _render_enum(name: str, values: list[str]) -> str:
        lines = [f"class {name}(StrEnum):"]
        members = [member_name(v) for v in values]
        assert len(set(members)) == len(members), name
        lines += [
            f"    {m} = {v!r}".replace("'", '"') for m, v in zip(members, values, strict=True)
        ]
        return "\n".join(lines) + "\n\n"

    @staticmethod
    def _render_struct(struct: StructDef, base: str, class_lines: list[str]) -> str:
        options = "frozen=True, kw_only=True, gc=False"
        if struct.forbid_unknown:
            options += ", forbid_unknown_fields=True"
        lines = [f"class {struct.name}({base}, {options}):"]
        lines += [f"    {line}" for line in class_lines]
        for py, wire, type_, required in struct.fields:
            name_arg = f'name="{wire}"' if wire != py else ""
            if required:
                default = f" = field({name_arg})" if name_arg else ""
                lines.append(f"    {py}: {type_}{default}")
            else:
                args = ", ".join(a for a in (name_arg, "default=UNSET") if a)
                lines.append(f"    {py}: {type_} | UnsetType = field({args})")
        if struct.multiple_of:
            lines.append("")
            lines.append("    def __post_init__(self) -> None:")
            for py, step in struct.multiple_of:
                lines.append(f'        check_multiple_of(self.{py}, Decimal("{step}"), "{py}")')
        if len(lines) == 1:
            lines.append("    pass")
        return "\n".join(lines) + "\n\n"

    def _render_tables(self, actions: list[str], roots: dict[tuple[str, str], Any]) -> str:
        v = self.version
        missing = set(actions) - v.from_station - v.from_csms
        extra = (v.from_station | v.from_csms) - set(actions)
        if missing or extra:
            raise SystemExit(f"{v.name}: direction table off: missing {missing}, unknown {extra}")
        reqs = ",\n".join(f'    "{a}": {a}Request' for a in actions)
        resps = ",\n".join(f'    "{a}": {a}Response' for a in actions if (a, "response") in roots)
        station = ",\n".join(f'    "{a}"' for a in sorted(v.from_station))
        csms = ",\n".join(f'    "{a}"' for a in sorted(v.from_csms))
        return f"""REQUESTS: dict[str, type[Request[Response]]] = {{
{reqs},
}}
RESPONSES: dict[str, type[Response]] = {{
{resps},
}}
ACTIONS: tuple[str, ...] = tuple(REQUESTS)
# Actions whose CALL the charging station sends, and those the CSMS sends (DataTransfer: both).
FROM_STATION: frozenset[str] = frozenset({{
{station},
}})
FROM_CSMS: frozenset[str] = frozenset({{
{csms},
}})
"""


def load_schemas(version: Version) -> list[Schema]:
    import ocpp  # the dev dependency that carries the schemas

    directory = Path(ocpp.__file__).parent / version.schema_dir / "schemas"
    schemas = []
    for path in sorted(directory.glob("*.json")):
        root = json.loads(path.read_text(encoding="utf-8-sig"))
        stem = path.stem
        if stem.endswith("Response"):
            action, kind = stem.removesuffix("Response"), "response"
        else:
            action, kind = stem.removesuffix("Request"), "request"
        draft = {DRAFT_04: 4, DRAFT_06: 6}[root["$schema"]]
        schemas.append(Schema(action, kind, draft, root))
    return schemas


def render(version: Version) -> str:
    text = ModuleBuilder(version, load_schemas(version)).render()
    # The committed file is what ruff format makes of the text, so `make check` stays clean.
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", f"{version.module}.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a module is out of date")
    args = parser.parse_args()
    stale = []
    for version in VERSIONS:
        target = PACKAGE / f"{version.module}.py"
        text = render(version)
        current = target.read_text() if target.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(target)
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), str(target), "regenerated", lineterm=""
            )
            print("\n".join(list(diff)[:40]))
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print(
            f"out of date: {', '.join(str(p.relative_to(ROOT)) for p in stale)}; run make generate"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
