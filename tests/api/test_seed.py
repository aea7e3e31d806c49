"""Seeding stations, id tokens and local lists: idempotent, precise errors, via seed() and
the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from kilowatt.csms.app import Csms
from kilowatt.csms.auth import verify_password
from kilowatt.csms.seed import Counts, SeedError, load_document, parse_document, seed
from kilowatt.csms.store import LocalList, LocalListEntry
from kilowatt.messages import v201

from .conftest import Connect

YAML = """\
stations:
  - id: CS-001
    password: "s3cret-pass"
    security_profile: 2
    registration_status: Pending
    heartbeat_interval: 120
  - id: CS-002
id_tokens:
  - id_token: "04A1B2C3"
    type: ISO14443
    status: Accepted
    group_id_token: FLEET-1
    expiry: 2030-01-01T00:00:00Z
    language1: en
    language2: de
    personal_message: {format: UTF8, language: en, content: Welcome}
  - id_token: "0815"
    type: Central
local_lists:
  - station: CS-001
    version: 3
    entries:
      - id_token: "04A1B2C3"
        type: ISO14443
        group_id_token: FLEET-1
        expiry: 2030-01-01T00:00:00+01:00
        personal_message: {format: UTF8, content: Hallo}
      - {id_token: "0815", type: Central, status: Blocked, language1: nl}
"""

TOML = """\
[[stations]]
id = "CS-001"
password = "s3cret-pass"
security_profile = 2
registration_status = "Pending"
heartbeat_interval = 120

[[stations]]
id = "CS-002"

[[id_tokens]]
id_token = "04A1B2C3"
type = "ISO14443"
status = "Accepted"
group_id_token = "FLEET-1"
expiry = 2030-01-01T00:00:00Z
language1 = "en"
language2 = "de"
personal_message = {format = "UTF8", language = "en", content = "Welcome"}

[[id_tokens]]
id_token = "0815"
type = "Central"

[[local_lists]]
station = "CS-001"
version = 3

[[local_lists.entries]]
id_token = "04A1B2C3"
type = "ISO14443"
group_id_token = "FLEET-1"
expiry = 2030-01-01T00:00:00+01:00
personal_message = {format = "UTF8", content = "Hallo"}

[[local_lists.entries]]
id_token = "0815"
type = "Central"
status = "Blocked"
language1 = "nl"
"""

SEEDED_LIST = LocalList(
    "CS-001",
    3,
    (
        LocalListEntry(
            "04A1B2C3",
            "ISO14443",
            "Accepted",
            expiry=datetime(2029, 12, 31, 23, tzinfo=UTC),
            group_id_token="FLEET-1",
            personal_message={"format": "UTF8", "content": "Hallo"},
        ),
        LocalListEntry("0815", "Central", "Blocked", language1="nl"),
    ),
)


async def test_seed_creates_then_changes_nothing(csms: Csms) -> None:
    document = parse_document(YAML, "yaml")
    first = await seed(csms, document)
    assert first.stations == Counts(created=2)
    assert first.id_tokens == Counts(created=2)
    station = await csms.store.get_station("CS-001")
    assert station is not None and station.password_hash is not None
    assert verify_password("s3cret-pass", station.password_hash)
    assert (station.security_profile, station.registration_status) == (2, "Pending")
    assert station.heartbeat_interval == 120
    default = await csms.store.get_station("CS-002")
    assert default is not None
    assert default.heartbeat_interval == csms.settings.heartbeat_interval
    assert default.password_hash is None
    token = await csms.store.get_id_token("04A1B2C3", "ISO14443")
    assert token is not None
    assert token.personal_message == {"format": "UTF8", "language": "en", "content": "Welcome"}
    assert token.expiry is not None and token.expiry.isoformat() == "2030-01-01T00:00:00+00:00"
    assert first.local_lists == Counts(created=1)
    assert await csms.store.local_list("CS-001") == SEEDED_LIST

    second = await seed(csms, document)
    assert second.stations == Counts(unchanged=2)
    assert second.id_tokens == Counts(unchanged=2)
    assert second.local_lists == Counts(unchanged=1)
    assert second.total == Counts(unchanged=5)
    assert json.loads(json.dumps(second.as_dict())) == {
        "created": 0,
        "updated": 0,
        "unchanged": 5,
        "stations": {"created": 0, "updated": 0, "unchanged": 2},
        "id_tokens": {"created": 0, "updated": 0, "unchanged": 2},
        "local_lists": {"created": 0, "updated": 0, "unchanged": 1},
        "tariffs": {"created": 0, "updated": 0, "unchanged": 0},
    }
    assert await csms.store.local_list("CS-001") == SEEDED_LIST
    # The same password is not hashed again (a new hash would have a new salt).
    again = await csms.store.get_station("CS-001")
    assert again is not None and again.password_hash == station.password_hash


async def test_yaml_and_toml_files_seed_the_same(csms: Csms, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(YAML)
    (tmp_path / "seed.toml").write_text(TOML)
    from_yaml = load_document(tmp_path / "seed.yaml")
    from_toml = load_document(tmp_path / "seed.toml")
    assert from_yaml == from_toml
    await seed(csms, from_yaml)
    assert (await seed(csms, from_toml)).total == Counts(unchanged=5)


async def test_a_changed_entry_is_updated_and_only_a_changed_password_rehashed(
    csms: Csms,
) -> None:
    await seed(csms, parse_document(YAML, "yaml"))
    before = await csms.store.get_station("CS-001")
    assert before is not None

    result = await seed(csms, {"stations": [{"id": "CS-001", "heartbeat_interval": 60}]})
    assert result.stations == Counts(updated=1)
    after = await csms.store.get_station("CS-001")
    assert after is not None
    assert after.heartbeat_interval == 60
    assert after.password_hash == before.password_hash  # left out: kept
    assert after.registration_status == "Pending"

    result = await seed(csms, {"stations": [{"id": "CS-001", "password": "other-pass"}]})
    assert result.stations == Counts(updated=1)
    rehashed = await csms.store.get_station("CS-001")
    assert rehashed is not None and rehashed.password_hash is not None
    assert verify_password("other-pass", rehashed.password_hash)

    blocked = {"id_token": "0815", "type": "Central", "status": "Blocked"}
    assert (await seed(csms, {"id_tokens": [blocked]})).id_tokens == Counts(updated=1)
    result = await seed(
        csms, {"id_tokens": [{"id_token": "04A1B2C3", "type": "ISO14443", "expiry": None}]}
    )
    assert result.id_tokens == Counts(updated=1)
    token = await csms.store.get_id_token("04A1B2C3", "ISO14443")
    assert token is not None and token.expiry is None and token.language1 == "en"


async def test_seeding_a_connected_station_changes_its_next_boot(
    csms: Csms, connect: Connect
) -> None:
    station = await connect("CS-001")
    assert (await station.boot()).status == v201.RegistrationStatusEnumType.ACCEPTED
    result = await seed(csms, {"stations": [{"id": "CS-001", "registration_status": "Rejected"}]})
    assert result.stations == Counts(updated=1)
    assert (await station.boot()).status == v201.RegistrationStatusEnumType.REJECTED


@pytest.mark.parametrize(
    ("document", "entry", "field", "problem"),
    [
        (
            {"stations": [{"password": "s3cret-pass"}]},
            "stations[0]",
            "id",
            "required field missing",
        ),
        ({"stations": [{"id": "A:B"}]}, "stations[0]", "id", 'may not contain ":"'),
        ({"stations": [{"id": 12}]}, "stations[0]", "id", "expected a string, got an integer"),
        (
            {"stations": [{"id": "A"}, {"id": "B", "password": 12345678}]},
            "stations[1] (B)",
            "password",
            "expected a string, got an integer (quote it)",
        ),
        (
            {"stations": [{"id": "A", "password": "short"}]},
            "stations[0] (A)",
            "password",
            "8 to 40 characters",
        ),
        (
            {"stations": [{"id": "A", "security_profile": 4}]},
            "stations[0] (A)",
            "security_profile",
            "4 is not between 1 and 3",
        ),
        (
            {"stations": [{"id": "A", "security_profile": True}]},
            "stations[0] (A)",
            "security_profile",
            "expected an integer, got a boolean",
        ),
        (
            {"stations": [{"id": "A", "registration_status": "accepted"}]},
            "stations[0] (A)",
            "registration_status",
            "'accepted' is not one of Accepted, Pending, Rejected",
        ),
        (
            {"stations": [{"id": "A", "heartbeat_interval": None}]},
            "stations[0] (A)",
            "heartbeat_interval",
            "may not be null",
        ),
        ({"stations": [{"id": "A", "colour": "red"}]}, "stations[0]", "colour", "unknown field"),
        (
            {"stations": [{"id": "A"}, {"id": "A"}]},
            "stations[1] (A)",
            "id",
            "A is seeded twice (also stations[0] (A))",
        ),
        ({"stations": ["A"]}, "stations[0]", None, "an entry is a mapping, not a string"),
        ({"stations": {"id": "A"}}, None, "stations", "a section is a list of entries"),
        ({"id_tokens": [{"id_token": "T"}]}, "id_tokens[0]", "type", "required field missing"),
        (
            {"id_tokens": [{"id_token": "T", "type": "Badge"}]},
            "id_tokens[0]",
            "type",
            "'Badge' is not one of",
        ),
        (
            {"id_tokens": [{"id_token": "T", "type": "Central", "expiry": "2030-01-01T00:00:00"}]},
            "id_tokens[0] (T Central)",
            "expiry",
            "needs a time zone offset",
        ),
        (
            {"id_tokens": [{"id_token": "T", "type": "Central", "expiry": "soon"}]},
            "id_tokens[0] (T Central)",
            "expiry",
            "'soon' is not an ISO 8601 date and time",
        ),
        (
            {
                "id_tokens": [
                    {"id_token": "T", "type": "Central", "personal_message": {"format": "UTF8"}}
                ]
            },
            "id_tokens[0] (T Central)",
            "personal_message",
            "content: required field missing",
        ),
        (
            {"id_tokens": [{"id_token": "T", "type": "Central", "language1": "english-uk"}]},
            "id_tokens[0] (T Central)",
            "language1",
            "at most 8 characters",
        ),
        (
            {"local_lists": [{"version": 1}]},
            "local_lists[0]",
            "station",
            "required field missing",
        ),
        (
            {"local_lists": [{"station": "CS-9", "version": 1}]},
            "local_lists[0] (CS-9)",
            "station",
            "no station CS-9: list it under stations, or register it first",
        ),
        (
            {"stations": [{"id": "A"}], "local_lists": [{"station": "A", "version": 0}]},
            "local_lists[0] (A)",
            "version",
            "0 is not between 1 and 2147483647",
        ),
        (
            {"stations": [{"id": "A"}], "local_lists": [{"station": "A"}]},
            "local_lists[0] (A)",
            "version",
            "required field missing",
        ),
        (
            {"local_lists": [{"station": "A", "version": 1, "entries": {"id_token": "T"}}]},
            "local_lists[0] (A)",
            "entries",
            "a list of entries, not a mapping",
        ),
        (
            {"local_lists": [{"station": "A", "version": 1, "colour": "red"}]},
            "local_lists[0]",
            "colour",
            "unknown field",
        ),
        (
            {
                "stations": [{"id": "A"}],
                "local_lists": [
                    {
                        "station": "A",
                        "version": 1,
                        "entries": [{"id_token": "T", "type": "Central", "status": "Maybe"}],
                    }
                ],
            },
            "local_lists[0] (A).entries[0] (T Central)",
            "status",
            "'Maybe' is not one of Accepted, Blocked",
        ),
        (
            {
                "local_lists": [
                    {
                        "station": "A",
                        "version": 1,
                        "entries": [{"id_token": "T", "type": "Central"}, {"id_token": "U"}],
                    }
                ]
            },
            "local_lists[0] (A).entries[1]",
            "type",
            "required field missing",
        ),
        (
            {
                "local_lists": [
                    {
                        "station": "A",
                        "version": 1,
                        "entries": [
                            {"id_token": "T", "type": "Central"},
                            {"id_token": "T", "type": "Central", "status": "Blocked"},
                        ],
                    }
                ]
            },
            "local_lists[0] (A).entries[1] (T Central)",
            "id_token",
            "seeded twice (also local_lists[0] (A).entries[0] (T Central))",
        ),
        (
            {
                "local_lists": [
                    {"station": "A", "version": 1},
                    {"station": "A", "version": 2},
                ]
            },
            "local_lists[1] (A)",
            "station",
            "A has a list twice (also local_lists[0] (A))",
        ),
        ({"tariffs": [{"tariff": {"tariffId": "T1"}}]}, "tariffs[0]", "tariff", "TariffType"),
        (
            {"tariffs": [{"tariff": {"tariffId": "T", "currency": "EUR"}, "groups": "G"}]},
            "tariffs[0] (T)",
            "groups",
            "a list of ids",
        ),
        (
            {"chargers": []},
            None,
            "chargers",
            "unknown section (known: stations, id_tokens, local_lists, tariffs)",
        ),
    ],
)
async def test_an_invalid_document_names_the_entry_and_the_field(
    csms: Csms, document: dict[str, Any], entry: str | None, field: str | None, problem: str
) -> None:
    with pytest.raises(SeedError) as caught:
        await seed(csms, document)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.entry, error.field) == (entry, field)
    assert problem in error.problem
    assert str(error) == ": ".join(part for part in (entry, field, error.problem) if part)


async def test_an_invalid_document_writes_nothing(csms: Csms) -> None:
    document = {
        "stations": [{"id": "A", "password": "s3cret-pass"}],
        "id_tokens": [{"id_token": "T", "type": "Central"}, {"id_token": "U", "type": "Nope"}],
    }
    with pytest.raises(SeedError, match=r"id_tokens\[1\]: type: 'Nope'"):
        await seed(csms, document)
    assert await csms.store.list_stations() == []
    assert await csms.store.list_id_tokens() == []

    # The stations of local lists are checked against the store before anything is written.
    document = {
        "stations": [{"id": "A", "password": "s3cret-pass"}],
        "local_lists": [{"station": "A", "version": 1}, {"station": "B", "version": 1}],
    }
    with pytest.raises(SeedError, match=r"local_lists\[1\] \(B\): station: no station B"):
        await seed(csms, document)
    assert await csms.store.list_stations() == []
    assert await csms.store.local_list("A") is None


async def test_a_seeded_local_list_is_replaced_whole_and_kept_when_left_out(
    csms: Csms, connect: Connect
) -> None:
    await connect("CS-7")  # registered and connected, not in the document
    entry = {"id_token": "T01", "type": "ISO14443"}
    document: dict[str, Any] = {
        "local_lists": [{"station": "CS-7", "version": 1, "entries": [entry]}]
    }
    assert (await seed(csms, document)).local_lists == Counts(created=1)

    document["local_lists"][0]["version"] = 2
    assert (await seed(csms, document)).local_lists == Counts(updated=1)
    assert await csms.store.local_list("CS-7") == LocalList(
        "CS-7", 2, (LocalListEntry("T01", "ISO14443", "Accepted"),)
    )

    # Entries left out: kept; a new version alone is an update.
    result = await seed(csms, {"local_lists": [{"station": "CS-7", "version": 3}]})
    assert result.local_lists == Counts(updated=1)
    kept = await csms.store.local_list("CS-7")
    assert kept is not None and (kept.version, len(kept.entries)) == (3, 1)

    # Entries given: the list is replaced whole; null empties it.
    other = {"id_token": "T02", "type": "Central", "status": "Blocked"}
    await seed(csms, {"local_lists": [{"station": "CS-7", "version": 3, "entries": [other]}]})
    assert await csms.store.local_list("CS-7") == LocalList(
        "CS-7", 3, (LocalListEntry("T02", "Central", "Blocked"),)
    )
    result = await seed(csms, {"local_lists": [{"station": "CS-7", "version": 3, "entries": None}]})
    assert result.local_lists == Counts(updated=1)
    assert await csms.store.local_list("CS-7") == LocalList("CS-7", 3)


def test_load_document_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "seed.json").write_text("{}")
    with pytest.raises(SeedError, match=r"seed\.json: a seed document is a \.yaml"):
        load_document(tmp_path / "seed.json")
    (tmp_path / "broken.yaml").write_text("stations: [")
    with pytest.raises(SeedError, match=r"broken\.yaml: not valid YAML"):
        load_document(tmp_path / "broken.yaml")
    (tmp_path / "list.yml").write_text("- a\n")
    with pytest.raises(SeedError, match="a seed document is a mapping of sections, not a list"):
        load_document(tmp_path / "list.yml")
    with pytest.raises(SeedError, match=r"missing\.toml"):
        load_document(tmp_path / "missing.toml")
    (tmp_path / "empty.yaml").write_text("")
    assert load_document(tmp_path / "empty.yaml") == {}


async def test_seed_over_the_api_in_json_yaml_and_toml(
    csms: Csms, client: httpx.AsyncClient
) -> None:
    # As JSON, the expiry is a string.
    document = json.loads(json.dumps(parse_document(YAML, "yaml"), default=str))
    assert document["id_tokens"][0]["expiry"] == "2030-01-01 00:00:00+00:00"
    created = await client.post("/api/v1/seed", json=document)
    assert created.status_code == 200, created.text
    assert created.json() == {
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "stations": {"created": 2, "updated": 0, "unchanged": 0},
        "id_tokens": {"created": 2, "updated": 0, "unchanged": 0},
        "local_lists": {"created": 1, "updated": 0, "unchanged": 0},
        "tariffs": {"created": 0, "updated": 0, "unchanged": 0},
    }
    for text, content_type in ((YAML, "application/yaml"), (TOML, "application/toml")):
        again = await client.post(
            "/api/v1/seed", content=text, headers={"Content-Type": content_type}
        )
        assert again.status_code == 200, again.text
        assert again.json()["unchanged"] == 5
        assert again.json()["created"] == again.json()["updated"] == 0
    stations = (await client.get("/api/v1/stations")).json()
    assert [s["id"] for s in stations] == ["CS-001", "CS-002"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error", "detail"),
    [
        ("stations: [", "application/yaml", 422, "invalid_seed", "not valid YAML"),
        ('stations = "', "application/toml", 422, "invalid_seed", "not valid TOML"),
        ("{", "application/json", 422, "invalid_seed", "not valid JSON"),
        (
            '{"local_lists": [{"station": "X", "version": 1}]}',
            "application/json",
            422,
            "invalid_seed",
            "local_lists[0] (X): station: no station X",
        ),
        (
            '{"tariffs": [{"id": "T"}]}',
            "application/json",
            422,
            "invalid_seed",
            "tariffs[0]: id: unknown field",
        ),
        (
            '{"stations": [{"id": "A", "password": 1}]}',
            "application/json",
            422,
            "invalid_seed",
            "stations[0] (A): password: expected a string",
        ),
        ("stations: []", "text/plain", 415, "unsupported_media_type", "not text/plain"),
    ],
)
async def test_seed_errors_over_the_api(
    client: httpx.AsyncClient,
    content: str,
    content_type: str,
    status: int,
    error: str,
    detail: str,
) -> None:
    headers = {"Content-Type": content_type}
    answer = await client.post("/api/v1/seed", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert detail in answer.json()["detail"]


async def test_tariffs_are_seeded_once_and_priced_with(
    client: httpx.AsyncClient, csms: Csms
) -> None:
    document = {
        "tariffs": [
            {
                "tariff": {
                    "tariffId": "standard",
                    "currency": "EUR",
                    "energy": {"prices": [{"priceKwh": 0.3}]},
                },
                "default": True,
                "groups": ["FLEET"],
            }
        ]
    }
    first = await client.post("/api/v1/seed", json=document)
    assert first.json()["tariffs"] == {"created": 1, "updated": 0, "unchanged": 0}
    again = await client.post("/api/v1/seed", json=document)
    assert again.json()["tariffs"] == {"created": 0, "updated": 0, "unchanged": 1}
    choice = csms.pricing.tariff_for("any-station", None)
    assert choice is not None and choice.record.group_ids == ["FLEET"]
    listed = (await client.get("/api/v1/tariffs")).json()
    assert [(t["tariff_id"], t["text"]) for t in listed] == [("standard", "0.30 EUR/kWh")]
