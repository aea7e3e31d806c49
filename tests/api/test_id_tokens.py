"""Id tokens: create, read, list, change, delete; what a station is then told."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from kilowatt.csms.app import Csms
from kilowatt.messages import v201

from .conftest import Connect

TOKEN = {
    "id_token": "04A1B2C3",
    "type": "ISO14443",
    "status": "Blocked",
    "group_id_token": "FLEET-1",
    "expiry": "2030-06-01T12:00:00+02:00",
    "language1": "en",
    "language2": "de",
    "personal_message": {"format": "UTF8", "language": "en", "content": "Hello"},
}
URL = "/api/v1/id-tokens/ISO14443/04A1B2C3"


async def test_crud(csms: Csms, client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/id-tokens", json=TOKEN)
    assert created.status_code == 201
    view = created.json()
    assert view == {**TOKEN, "expiry": "2030-06-01T10:00:00.000Z"}
    stored = await csms.store.get_id_token("04A1B2C3", "ISO14443")
    assert stored is not None
    assert stored.expiry == datetime(2030, 6, 1, 10, tzinfo=UTC)
    assert stored.personal_message == {"format": "UTF8", "language": "en", "content": "Hello"}

    assert (await client.get(URL)).json() == view
    assert (await client.get("/api/v1/id-tokens")).json() == [view]

    changed = await client.patch(
        URL, json={"status": "Accepted", "expiry": None, "language2": None}
    )
    assert changed.status_code == 200
    assert changed.json() == {**view, "status": "Accepted", "expiry": None, "language2": None}
    assert (await client.get(URL)).json() == changed.json()

    assert (await client.delete(URL)).status_code == 204
    assert (await client.get(URL)).status_code == 404
    assert (await client.delete(URL)).status_code == 404
    assert await csms.store.get_id_token("04A1B2C3", "ISO14443") is None


async def test_the_same_value_of_another_type_is_another_token(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/id-tokens", json=TOKEN)).status_code == 201
    other = await client.post("/api/v1/id-tokens", json={**TOKEN, "type": "Central"})
    assert other.status_code == 201
    again = await client.post("/api/v1/id-tokens", json=TOKEN)
    assert again.status_code == 409
    assert again.json()["error"] == "id_token_exists"


async def test_minimal_token_defaults_to_accepted(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/id-tokens", json={"id_token": "X", "type": "Central"})
    assert answer.json()["status"] == "Accepted"
    assert answer.json()["expiry"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id_token": "x" * 37}, "body.id_token"),
        ({"type": "Badge"}, "body.type"),
        ({"status": "Fine"}, "body.status"),
        ({"expiry": "2030-01-01T00:00:00"}, "body.expiry"),
        ({"language1": "english-please"}, "body.language1"),
        (
            {"personal_message": {"format": "Morse", "content": "hi"}},
            "body.personal_message.format",
        ),
        ({"personal_message": {"format": "UTF8"}}, "body.personal_message.content"),
        ({"owner": "me"}, "body.owner"),
    ],
)
async def test_an_invalid_token_is_refused_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    answer = await client.post("/api/v1/id-tokens", json={**TOKEN, **change})
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]


async def test_patch_refuses_a_null_status_and_unknown_tokens(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/id-tokens", json=TOKEN)
    assert (await client.patch(URL, json={"status": None})).status_code == 422
    missing = await client.patch("/api/v1/id-tokens/Central/nope", json={"status": "Accepted"})
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "id_token_not_found",
        "detail": "no id token 'nope' of type 'Central'",
    }


async def test_a_station_is_answered_from_the_tokens(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    await client.post("/api/v1/id-tokens", json=TOKEN)
    station = await connect("CS1")
    await station.boot()
    id_token = v201.IdTokenType(id_token="04A1B2C3", type=v201.IdTokenEnumType.ISO14443)

    blocked = await station.connection.call(v201.AuthorizeRequest(id_token=id_token))
    assert blocked.id_token_info.status == v201.AuthorizationStatusEnumType.BLOCKED
    assert blocked.id_token_info.language1 == "en"

    await client.patch(URL, json={"status": "Accepted"})
    accepted = await station.connection.call(v201.AuthorizeRequest(id_token=id_token))
    assert accepted.id_token_info.status == v201.AuthorizationStatusEnumType.ACCEPTED

    await client.delete(URL)
    unknown = await station.connection.call(v201.AuthorizeRequest(id_token=id_token))
    assert unknown.id_token_info.status == v201.AuthorizationStatusEnumType.UNKNOWN
