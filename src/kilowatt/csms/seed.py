"""Seeding: stations, id tokens, local authorization lists and tariffs from a YAML, TOML or
JSON document, idempotently.

The document (YAML shown; TOML and JSON hold the same tables)::

    stations:
      - id: CS-001                 # at most 48 characters, no ":" nor "/"
        password: "s3cret-pass"    # 8 to 40 printable characters; stored only as a hash
        security_profile: 1        # 1, 2 or 3
        registration_status: Accepted   # Accepted, Pending or Rejected
        heartbeat_interval: 300    # seconds
    id_tokens:
      - id_token: "04A1B2C3"
        type: ISO14443             # IdTokenEnumType
        status: Accepted           # AuthorizationStatusEnumType
        group_id_token: FLEET-1
        expiry: 2030-01-01T00:00:00Z
        language1: en
        language2: de
        personal_message: {format: UTF8, language: en, content: "Welcome"}
    local_lists:                   # the local authorization list the CSMS keeps for a station
      - station: CS-001            # a station of this document or one registered already
        version: 1                 # 1 or more (D01.FR.18)
        entries:                   # the whole list: the fields of id_tokens, per entry
          - {id_token: "04A1B2C3", type: ISO14443, status: Accepted, group_id_token: FLEET-1}
    tariffs:
      - tariff:                    # an OCPP 2.1 TariffType, as on the wire
          tariffId: standard
          currency: EUR
          description: [{format: UTF8, language: en, content: "0.30 EUR/kWh"}]
          energy: {prices: [{priceKwh: 0.30}]}
        default: true              # everyone no other tariff names
        stations: [CS-001]         # these stations
        groups: [FLEET-1]          # these id-token groups
        sites: [garage]            # the stations of these sites
        evses: [CS-001/2]          # these EVSEs

A field left out keeps its current value, and a new entry gets the default; ``null`` clears a
field that may be empty (a station's password, a token's optional fields). So seeding the same
document twice leaves everything as the first run left it, and the second run counts every entry
as unchanged. A station's password is hashed again only when it differs from the stored one.
A local list's ``entries`` replace its entries whole (left out: kept; null: none); in them, a
field left out or null is empty, and ``status`` is Accepted unless given. Seeding a list
changes what the CSMS keeps; ``POST /api/v1/stations/{id}/local-list/send`` sends it.

The whole document is checked before anything is written: an error leaves the store as it was.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import yaml

from kilowatt.csms.auth import MAX_PASSWORD, MIN_PASSWORD, hash_password, verify_password
from kilowatt.csms.store import IdTokenRecord, LocalListEntry, StationRecord, Store, TariffRecord
from kilowatt.messages import v21, v201
from kilowatt.transport.server import MAX_STATION_ID_LENGTH

if TYPE_CHECKING:
    from kilowatt.csms.app import Csms

__all__ = [
    "ID_TOKEN_TYPES",
    "MAX_HEARTBEAT_INTERVAL",
    "MAX_ID_TOKEN_LENGTH",
    "MAX_LANGUAGE_LENGTH",
    "MAX_LOCAL_LIST_VERSION",
    "MAX_MESSAGE_LENGTH",
    "MAX_STATION_ID_LENGTH",
    "MESSAGE_FORMATS",
    "REGISTRATION_STATUSES",
    "SECURITY_PROFILES",
    "TOKEN_STATUSES",
    "Counts",
    "DocumentFormat",
    "SeedError",
    "SeedResult",
    "check_password",
    "check_station_id",
    "load_document",
    "parse_document",
    "seed",
]

# The limits of the OCPP 2.0.1 types these fields end up in (IdTokenType, IdTokenInfoType,
# MessageContentType, BootNotificationResponse), so that what is seeded can be sent.
MAX_ID_TOKEN_LENGTH = 36
MAX_LANGUAGE_LENGTH = 8
MAX_MESSAGE_LENGTH = 512
# BootNotificationResponse.interval and SendLocalListRequest.versionNumber are OCPP integers
# (32 bits); a list's version is at least 1 (D01.FR.18).
MAX_HEARTBEAT_INTERVAL = 2**31 - 1
MAX_LOCAL_LIST_VERSION = 2**31 - 1
SECURITY_PROFILES = (1, 2, 3)
REGISTRATION_STATUSES = tuple(status.value for status in v201.RegistrationStatusEnumType)
ID_TOKEN_TYPES = tuple(kind.value for kind in v201.IdTokenEnumType)
TOKEN_STATUSES = tuple(status.value for status in v201.AuthorizationStatusEnumType)
MESSAGE_FORMATS = tuple(kind.value for kind in v201.MessageFormatEnumType)

DocumentFormat = Literal["yaml", "toml", "json"]

_SUFFIXES: dict[str, DocumentFormat] = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_SECTIONS = ("stations", "id_tokens", "local_lists", "tariffs")


class SeedError(ValueError):
    """A seed document that cannot be applied; the message names the entry and the field.

    Attributes:
        entry: e.g. ``stations[2] (CS-003)``; None for the document as a whole.
        field: the field of the entry (or the section) at fault; None when it is the entry.
        problem: what is wrong, without the entry and field.
    """

    def __init__(self, problem: str, *, entry: str | None = None, field: str | None = None) -> None:
        where = ": ".join(part for part in (entry, field) if part)
        super().__init__(f"{where}: {problem}" if where else problem)
        self.entry = entry
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Counts:
    """How many entries of a section were created, updated, or already as the document says."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True)
class SeedResult:
    stations: Counts
    id_tokens: Counts
    local_lists: Counts  # a list counts once, however many entries it has
    tariffs: Counts = Counts()

    @property
    def total(self) -> Counts:
        return self.stations + self.id_tokens + self.local_lists + self.tariffs

    def as_dict(self) -> dict[str, Any]:
        """The totals and the counts per section, as JSON-ready values."""
        return {
            **asdict(self.total),
            "stations": asdict(self.stations),
            "id_tokens": asdict(self.id_tokens),
            "local_lists": asdict(self.local_lists),
            "tariffs": asdict(self.tariffs),
        }


# -- the rules, shared with the REST API ----------------------------------------------------


def check_station_id(value: str) -> str:
    """The station id if it can be one, else ValueError saying why.

    OCPP-J 2.0.1: at most 48 characters and no ":" (the id is the Basic-auth user name).
    A "/" is refused too: the id is one path segment of the REST API's URLs.
    """
    if not value:
        raise ValueError("a station id may not be empty")
    if len(value) > MAX_STATION_ID_LENGTH:
        raise ValueError(f"a station id has at most {MAX_STATION_ID_LENGTH} characters")
    if ":" in value or "/" in value:
        raise ValueError('a station id may not contain ":" or "/"')
    return value


def check_password(value: str) -> str:
    """The password if a station may have it, else ValueError saying why."""
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise ValueError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if not value.isprintable():
        raise ValueError("a password has printable characters only")
    return value


# -- reading the document --------------------------------------------------------------------


def load_document(path: str | Path) -> dict[str, Any]:
    """Read a seed document from a .yaml, .yml or .toml file.

    Raises:
        SeedError: another suffix, an unreadable file, a syntax error, or no mapping at the top.
    """
    file = Path(path)
    kind = _SUFFIXES.get(file.suffix.lower())
    if kind is None:
        raise SeedError(f"{file}: a seed document is a .yaml, .yml or .toml file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(f"{file}: {error}") from None
    try:
        return parse_document(text, kind)
    except SeedError as error:
        raise SeedError(f"{file}: {error}") from None


def parse_document(text: str, kind: DocumentFormat) -> dict[str, Any]:
    """Parse a seed document's text.

    Raises:
        SeedError: a syntax error, or a document that is not a mapping.
    """
    document: object
    try:
        if kind == "yaml":
            document = yaml.safe_load(text)
        elif kind == "toml":
            document = tomllib.loads(text)
        else:
            document = json.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError, RecursionError) as error:
        raise SeedError(f"not valid {kind.upper()}: {error}") from None
    if document is None:  # an empty YAML file
        return {}
    if not isinstance(document, dict):
        raise SeedError(f"a seed document is a mapping of sections, not {_kind(document)}")
    return document


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return names.get(type(value), type(value).__name__)


class _Absent:
    """A field the entry leaves out (as opposed to null)."""


_ABSENT = _Absent()


class _Entry:
    """One entry of a section, read field by field with errors that name it."""

    def __init__(self, section: str, index: int, raw: object, allowed: Iterable[str]) -> None:
        self.label = f"{section}[{index}]"
        if not isinstance(raw, dict):
            raise SeedError(f"an entry is a mapping, not {_kind(raw)}", entry=self.label)
        self._raw: dict[Any, Any] = raw
        known = tuple(allowed)
        unknown = sorted(str(name) for name in raw if name not in known)
        if unknown:
            problem = f"unknown field (known: {', '.join(known)})"
            raise SeedError(problem, entry=self.label, field=unknown[0])

    def name(self, key: str) -> None:
        """Name the entry by its key in later errors."""
        self.label = f"{self.label} ({key})"

    def error(self, field: str, problem: str) -> SeedError:
        return SeedError(problem, entry=self.label, field=field)

    def get(
        self,
        field: str,
        read: Callable[[Any], Any],
        *,
        required: bool = False,
        nullable: bool = False,
    ) -> Any:
        """The field read by ``read`` (which raises ValueError), None for null, or _ABSENT."""
        if field not in self._raw:
            if required:
                raise self.error(field, "required field missing")
            return _ABSENT
        value = self._raw[field]
        if value is None:
            if not nullable:
                raise self.error(field, "may not be null")
            return None
        try:
            return read(value)
        except ValueError as error:
            raise self.error(field, str(error)) from None


def _string(value: Any) -> str:
    if not isinstance(value, str):
        # YAML reads 0012 as a number and yes as a boolean: quoting keeps them strings.
        raise ValueError(f"expected a string, got {_kind(value)} (quote it)")
    return value


def _text(max_length: int) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = _string(value)
        if not text:
            raise ValueError("may not be empty")
        if len(text) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return text

    return read


def _checked(check: Callable[[str], str]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        return check(_string(value))

    return read


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {_kind(value)}")
        if not low <= value <= high:
            raise ValueError(f"{value} is not between {low} and {high}")
        return value

    return read


def _choice(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        text = _string(value)
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    return read


def _timestamp(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date and time") from None
    if not isinstance(value, datetime):
        raise ValueError(f"expected a date and time, got {_kind(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a time zone offset (e.g. Z)")
    return value


def _message(value: Any) -> dict[str, str]:
    """A personal message as OCPP's MessageContentType on the wire."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of format, language and content, got {_kind(value)}")
    unknown = sorted(set(map(str, value)) - {"format", "language", "content"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]} (known: format, language, content)")
    parts = (
        ("format", _choice(MESSAGE_FORMATS), True),
        ("language", _text(MAX_LANGUAGE_LENGTH), False),
        ("content", _text(MAX_MESSAGE_LENGTH), True),
    )
    message: dict[str, str] = {}
    for name, read, required in parts:
        if name not in value:
            if required:
                raise ValueError(f"{name}: required field missing")
            continue
        try:
            message[name] = read(value[name])
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return message


@dataclass(frozen=True)
class _LocalListPlan:
    """A checked local list: ``entries`` None when left out (the current ones are kept)."""

    label: str
    station_id: str
    version: int
    entries: list[LocalListEntry] | None


@dataclass(frozen=True)
class _Plan:
    """A checked document: per entry its key and the fields it sets (None: clear)."""

    stations: list[tuple[str, dict[str, Any]]]
    id_tokens: list[tuple[tuple[str, str], dict[str, Any]]]
    local_lists: list[_LocalListPlan]
    tariffs: list[_TariffPlan]


def _entries(document: Mapping[str, Any], section: str) -> list[Any]:
    entries = document.get(section, [])
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise SeedError(f"a section is a list of entries, not {_kind(entries)}", field=section)
    return entries


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not _ABSENT}


def _read_stations(document: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    allowed = ("id", "password", "security_profile", "registration_status", "heartbeat_interval")
    seen: dict[str, str] = {}
    stations = []
    for index, raw in enumerate(_entries(document, "stations")):
        entry = _Entry("stations", index, raw, allowed)
        station_id: str = entry.get("id", _checked(check_station_id), required=True)
        entry.name(station_id)
        if station_id in seen:
            raise entry.error("id", f"{station_id} is seeded twice (also {seen[station_id]})")
        seen[station_id] = entry.label
        changes = _present(
            {
                "password": entry.get("password", _checked(check_password), nullable=True),
                "security_profile": entry.get(
                    "security_profile", _integer(min(SECURITY_PROFILES), max(SECURITY_PROFILES))
                ),
                "registration_status": entry.get(
                    "registration_status", _choice(REGISTRATION_STATUSES)
                ),
                "heartbeat_interval": entry.get(
                    "heartbeat_interval", _integer(1, MAX_HEARTBEAT_INTERVAL)
                ),
            }
        )
        stations.append((station_id, changes))
    return stations


_TOKEN_FIELDS = (
    "id_token",
    "type",
    "status",
    "group_id_token",
    "expiry",
    "language1",
    "language2",
    "personal_message",
)


def _read_token(entry: _Entry, seen: dict[tuple[str, str], str]) -> tuple[str, str, dict[str, Any]]:
    """An id token's value and type, and the fields its entry sets (None: clear); names the
    entry by the token. ``seen``: the entry of each token read before, to refuse it twice."""
    id_token: str = entry.get("id_token", _text(MAX_ID_TOKEN_LENGTH), required=True)
    kind: str = entry.get("type", _choice(ID_TOKEN_TYPES), required=True)
    entry.name(f"{id_token} {kind}")
    if (id_token, kind) in seen:
        raise entry.error("id_token", f"seeded twice (also {seen[id_token, kind]})")
    seen[id_token, kind] = entry.label
    language = _text(MAX_LANGUAGE_LENGTH)
    changes = _present(
        {
            "status": entry.get("status", _choice(TOKEN_STATUSES)),
            "group_id_token": entry.get(
                "group_id_token", _text(MAX_ID_TOKEN_LENGTH), nullable=True
            ),
            "expiry": entry.get("expiry", _timestamp, nullable=True),
            "language1": entry.get("language1", language, nullable=True),
            "language2": entry.get("language2", language, nullable=True),
            "personal_message": entry.get("personal_message", _message, nullable=True),
        }
    )
    return id_token, kind, changes


def _read_id_tokens(document: Mapping[str, Any]) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    seen: dict[tuple[str, str], str] = {}
    tokens = []
    for index, raw in enumerate(_entries(document, "id_tokens")):
        id_token, kind, changes = _read_token(_Entry("id_tokens", index, raw, _TOKEN_FIELDS), seen)
        tokens.append(((id_token, kind), changes))
    return tokens


def _read_local_list_entries(local_list: _Entry, raw: object) -> list[LocalListEntry]:
    """The entries of a seeded local list; each entry's errors name it inside the list."""
    if not isinstance(raw, list):
        raise local_list.error("entries", f"a list of entries, not {_kind(raw)}")
    seen: dict[tuple[str, str], str] = {}
    entries = []
    for index, item in enumerate(raw):
        entry = _Entry(f"{local_list.label}.entries", index, item, _TOKEN_FIELDS)
        id_token, kind, fields = _read_token(entry, seen)
        entries.append(LocalListEntry(id_token, kind, **{"status": "Accepted", **fields}))
    return entries


def _read_local_lists(document: Mapping[str, Any]) -> list[_LocalListPlan]:
    seen: dict[str, str] = {}
    local_lists = []
    for index, raw in enumerate(_entries(document, "local_lists")):
        entry = _Entry("local_lists", index, raw, ("station", "version", "entries"))
        station_id: str = entry.get("station", _checked(check_station_id), required=True)
        entry.name(station_id)
        if station_id in seen:
            raise entry.error("station", f"{station_id} has a list twice (also {seen[station_id]})")
        seen[station_id] = entry.label
        version: int = entry.get("version", _integer(1, MAX_LOCAL_LIST_VERSION), required=True)
        raw_entries = entry.get("entries", lambda value: value, nullable=True)
        entries = (
            None
            if raw_entries is _ABSENT
            else _read_local_list_entries(entry, [] if raw_entries is None else raw_entries)
        )
        local_lists.append(_LocalListPlan(entry.label, station_id, version, entries))
    return local_lists


@dataclass(frozen=True)
class _TariffPlan:
    tariff_id: str
    tariff: str  # canonical JSON of the TariffType
    default: bool
    stations: list[str] | None
    groups: list[str] | None
    sites: list[str] | None
    evses: list[str] | None


def _read_tariffs(document: Mapping[str, Any]) -> list[_TariffPlan]:
    seen: dict[str, str] = {}
    tariffs = []
    for index, raw in enumerate(_entries(document, "tariffs")):
        label = f"tariffs[{index}]"
        if not isinstance(raw, dict):
            raise SeedError(f"an entry is a mapping, not {_kind(raw)}", entry=label)
        fields = {"tariff", "default", "stations", "groups", "sites", "evses"}
        unknown = sorted(set(map(str, raw)) - fields)
        if unknown:
            raise SeedError("unknown field", entry=label, field=unknown[0])
        try:
            tariff = msgspec.json.decode(json.dumps(raw.get("tariff")), type=v21.TariffType)
        except (msgspec.ValidationError, TypeError) as error:
            problem = f"not an OCPP 2.1 TariffType: {error}"
            raise SeedError(problem, entry=label, field="tariff") from None
        label = f"{label} ({tariff.tariff_id})"
        if tariff.tariff_id in seen:
            raise SeedError(f"listed twice (also {seen[tariff.tariff_id]})", entry=label)
        seen[tariff.tariff_id] = label
        default = raw.get("default", False)
        if not isinstance(default, bool):
            raise SeedError("true or false", entry=label, field="default")
        lists: dict[str, list[str] | None] = {}
        for name in ("stations", "groups", "sites", "evses"):
            value = raw.get(name)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                raise SeedError("a list of ids", entry=label, field=name)
            lists[name] = value
        tariffs.append(
            _TariffPlan(
                tariff.tariff_id,
                msgspec.json.encode(tariff).decode(),
                default,
                lists["stations"],
                lists["groups"],
                lists["sites"],
                lists["evses"],
            )
        )
    return tariffs


def _plan(document: Mapping[str, Any]) -> _Plan:
    unknown = sorted(set(map(str, document)) - set(_SECTIONS))
    if unknown:
        raise SeedError(f"unknown section (known: {', '.join(_SECTIONS)})", field=unknown[0])
    return _Plan(
        _read_stations(document),
        _read_id_tokens(document),
        _read_local_lists(document),
        _read_tariffs(document),
    )


# -- applying it -----------------------------------------------------------------------------


async def seed(csms: Csms, document: Mapping[str, Any]) -> SeedResult:
    """Create or update the stations, id tokens and local lists a parsed document lists.

    Running it again with the same document changes nothing and counts every entry unchanged.
    A connected station's changes take effect at once (its next BootNotification is answered
    with the seeded registration status and interval).

    Raises:
        SeedError: the document is not valid; nothing was written.
    """
    plan = _plan(document)
    await _check_stations_known(csms, plan)
    stations = Counts()
    for station_id, changes in plan.stations:
        stations += await _seed_station(csms, station_id, changes)
    tokens = Counts()
    for (id_token, kind), changes in plan.id_tokens:
        tokens += await _seed_id_token(csms.store, id_token, kind, changes)
    local_lists = Counts()
    for local_list in plan.local_lists:
        local_lists += await _seed_local_list(csms.store, local_list)
    tariffs = Counts()
    stored = {record.tariff_id: record for record in await csms.store.tariffs()}
    for tariff in plan.tariffs:
        tariffs += await _seed_tariff(csms, tariff, stored.get(tariff.tariff_id))
    return SeedResult(stations=stations, id_tokens=tokens, local_lists=local_lists, tariffs=tariffs)


async def _seed_tariff(csms: Csms, plan: _TariffPlan, current: TariffRecord | None) -> Counts:
    if current is not None and (
        current.tariff,
        current.is_default,
        current.station_ids,
        current.group_ids,
        current.site_ids,
        current.evse_ids,
    ) == (plan.tariff, plan.default, plan.stations, plan.groups, plan.sites, plan.evses):
        return Counts(unchanged=1)
    await csms.pricing.put(
        TariffRecord(
            plan.tariff_id,
            plan.tariff,
            plan.default,
            plan.stations,
            plan.groups,
            csms.clock.now(),
            plan.sites,
            plan.evses,
        )
    )
    return Counts(created=1) if current is None else Counts(updated=1)


async def _check_stations_known(csms: Csms, plan: _Plan) -> None:
    """Refuse a local list of a station that is neither in the document nor registered."""
    seeded = {station_id for station_id, _ in plan.stations}
    for local_list in plan.local_lists:
        station_id = local_list.station_id
        if station_id in seeded or csms.registry.get(station_id) is not None:
            continue
        if await csms.store.get_station(station_id) is None:
            raise SeedError(
                f"no station {station_id}: list it under stations, or register it first",
                entry=local_list.label,
                field="station",
            )


async def _password_hash(password: str | None, current: str | None) -> str | None:
    """The hash to store: the current one when the password still matches it."""
    if password is None:
        return None
    # scrypt takes some 50 ms: off the event loop.
    if current is not None and await asyncio.to_thread(verify_password, password, current):
        return current
    return await asyncio.to_thread(hash_password, password)


async def _seed_station(csms: Csms, station_id: str, changes: dict[str, Any]) -> Counts:
    session = csms.registry.get(station_id)
    current = session.station if session is not None else await csms.store.get_station(station_id)
    values = dict(changes)
    if "password" in values:
        known = current.password_hash if current is not None else None
        password_hash = await _password_hash(values.pop("password"), known)
        if current is None or password_hash != known:
            values["password_hash"] = password_hash
    if current is None:
        defaults = {"heartbeat_interval": csms.settings.heartbeat_interval}
        record = StationRecord(
            station_id=station_id, created_at=csms.clock.now(), **{**defaults, **values}
        )
        await csms.store.put_station(record)
        return Counts(created=1)
    if replace(current, **values) == current:
        return Counts(unchanged=1)
    await csms.update_station(station_id, **values)
    return Counts(updated=1)


async def _seed_id_token(store: Store, id_token: str, kind: str, changes: dict[str, Any]) -> Counts:
    current = await store.get_id_token(id_token, kind)
    if current is None:
        await store.put_id_token(IdTokenRecord(id_token=id_token, type=kind, **changes))
        return Counts(created=1)
    record = replace(current, **changes)
    if record == current:
        return Counts(unchanged=1)
    await store.put_id_token(record)
    return Counts(updated=1)


async def _seed_local_list(store: Store, plan: _LocalListPlan) -> Counts:
    current = await store.local_list(plan.station_id)
    entries = plan.entries
    if entries is None:
        entries = list(current.entries) if current is not None else []
    if current is None:
        await store.put_local_list(plan.station_id, plan.version, entries, full=True)
        return Counts(created=1)
    # By key: the store's order of the entries is the database's collation.
    same_entries = {e.key: e for e in current.entries} == {e.key: e for e in entries}
    if current.version == plan.version and same_entries:
        return Counts(unchanged=1)
    await store.put_local_list(plan.station_id, plan.version, entries, full=True)
    return Counts(updated=1)
