"""Bearer tokens on every /api route; /health and the OpenAPI documents stay open."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from kilowatt.api import create_app
from kilowatt.api.deps import token_is_valid
from kilowatt.csms.app import Csms

from .conftest import OTHER_TOKEN, TOKEN


def api_routes(csms: Csms) -> list[tuple[str, str]]:
    """Every documented (method, path) under /api, with placeholders filled in."""
    paths = create_app(csms).openapi()["paths"]
    return [
        (method.upper(), path.replace("{", "").replace("}", ""))
        for path, operations in paths.items()
        if path.startswith("/api")
        for method in operations
    ]


async def test_every_api_route_refuses_a_request_without_a_token(
    csms: Csms, client: httpx.AsyncClient
) -> None:
    routes = api_routes(csms)
    assert len(routes) > 50  # the 40 OCPP routes and the rest
    for method, path in routes:
        answer = await client.request(method, path, headers={"Authorization": ""})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}"],
)
async def test_a_wrong_token_is_refused(client: httpx.AsyncClient, authorization: str) -> None:
    answer = await client.get("/api/v1/stations", headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    body = answer.json()
    assert body["error"] == "unauthorized"
    assert "token" in body["detail"]


async def test_every_configured_token_is_accepted(client: httpx.AsyncClient) -> None:
    for token in (TOKEN, OTHER_TOKEN):
        answer = await client.get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200


async def test_without_configured_tokens_nobody_gets_in(csms: Csms) -> None:
    csms.settings = replace(csms.settings, api_tokens=())
    transport = httpx.ASGITransport(app=create_app(csms))
    async with httpx.AsyncClient(transport=transport, base_url="http://kilowatt.test") as api:
        for token in ("", "anything"):
            answer = await api.get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401


@pytest.mark.parametrize("path", ["/health", "/docs", "/openapi.json"])
async def test_health_and_docs_need_no_token(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path, headers={"Authorization": ""})
    assert answer.status_code == 200


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}


def test_token_is_valid() -> None:
    assert token_is_valid("b", ["a", "b"])
    assert not token_is_valid("c", ["a", "b"])
    assert not token_is_valid("", [])
    assert token_is_valid("ünïcode", ["ünïcode"])
