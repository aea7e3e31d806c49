"""Seeding stations and id tokens: idempotent, precise errors, via seed() and the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from kilowatt.csms.app import Csms
from kilowatt.csms.auth import verify_password
from kilowatt.csms.seed import Counts, SeedError, load_document, parse_document, seed
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
"""


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

    second = await seed(csms, document)
    assert second.stations == Counts(unchanged=2)
    assert second.id_tokens == Counts(unchanged=2)
    assert second.total == Counts(unchanged=4)
    assert json.loads(json.dumps(second.as_dict())) == {
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "stations": {"created": 0, "updated": 0, "unchanged": 2},
        "id_tokens": {"created": 0, "updated": 0, "unchanged": 2},
    }
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
    assert (await seed(csms, from_toml)).total == Counts(unchanged=4)


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
        ({"local_lists": [{"version": 1}]}, None, "local_lists", "not supported yet"),
        ({"tariffs": [{"id": "T1"}]}, None, "tariffs", "not supported yet"),
        ({"chargers": []}, None, "chargers", "unknown section"),
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
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "stations": {"created": 2, "updated": 0, "unchanged": 0},
        "id_tokens": {"created": 2, "updated": 0, "unchanged": 0},
    }
    for text, content_type in ((YAML, "application/yaml"), (TOML, "application/toml")):
        again = await client.post(
            "/api/v1/seed", content=text, headers={"Content-Type": content_type}
        )
        assert again.status_code == 200, again.text
        assert again.json()["unchanged"] == 4
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
            '{"local_lists": [{"version": 1}]}',
            "application/json",
            422,
            "invalid_seed",
            "local_lists: not supported yet",
        ),
        (
            '{"tariffs": [{"id": "T"}]}',
            "application/json",
            422,
            "invalid_seed",
            "tariffs: not supported yet",
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
