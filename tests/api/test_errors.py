"""Every error is JSON in one shape, also those FastAPI and Starlette make."""

from __future__ import annotations

import httpx
import pytest

from kilowatt.api import create_app
from kilowatt.csms.app import Csms

from .conftest import TOKEN


async def test_an_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/chargers")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": "no route /api/v1/chargers"}


async def test_a_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    answer = await client.put("/api/v1/stations")
    assert answer.status_code == 405
    assert answer.json() == {
        "error": "method_not_allowed",
        "detail": "PUT is not allowed on /api/v1/stations",
    }


async def test_a_failure_is_a_json_500_without_internals(
    csms: Csms, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(csms.store, "list_stations", broken)
    transport = httpx.ASGITransport(app=create_app(csms), raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://kilowatt.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as api:
        answer = await api.get("/api/v1/stations")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal_error", "detail": "GET /api/v1/stations failed"}
