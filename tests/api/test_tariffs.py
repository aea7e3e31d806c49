"""/api/v1/tariffs: tariffs written, listed with their text, refused when not a TariffType,
deleted; the cost of a transaction without a tariff or unknown."""

from __future__ import annotations

import httpx

TARIFF = {
    "tariffId": "day",
    "currency": "EUR",
    "description": [{"format": "UTF8", "language": "en", "content": "Day rate"}],
    "energy": {"prices": [{"priceKwh": 0.25}]},
    "idleTime": {"prices": [{"priceMinute": 0.1, "conditions": {"minIdleTime": 3600}}]},
}


async def test_a_tariff_is_written_listed_and_deleted(client: httpx.AsyncClient) -> None:
    written = await client.put(
        "/api/v1/tariffs/day", json={"tariff": TARIFF, "stations": ["CS1"], "groups": None}
    )
    assert written.status_code == 200, written.text
    body = written.json()
    assert (body["tariff_id"], body["default"], body["stations"]) == ("day", False, ["CS1"])
    assert body["text"] == "0.25 EUR/kWh, 0.10 EUR/min after 60 min idle"
    assert [t["tariff_id"] for t in (await client.get("/api/v1/tariffs")).json()] == ["day"]
    assert (await client.delete("/api/v1/tariffs/day")).status_code == 204
    gone = await client.delete("/api/v1/tariffs/day")
    assert (gone.status_code, gone.json()["error"]) == (404, "tariff_not_found")


async def test_a_broken_tariff_is_a_422(client: httpx.AsyncClient) -> None:
    broken = await client.put("/api/v1/tariffs/day", json={"tariff": {"tariffId": "day"}})
    assert (broken.status_code, broken.json()["error"]) == (422, "invalid_tariff")
    assert "currency" in broken.json()["detail"]
    other = await client.put("/api/v1/tariffs/day", json={"tariff": {**TARIFF, "tariffId": "x"}})
    assert (other.status_code, other.json()["error"]) == (422, "tariff_id_mismatch")
    assert (await client.get("/api/v1/tariffs")).json() == []


async def test_the_cost_of_an_unknown_transaction_is_a_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/transactions/CS1/nope/cost")
    assert (answer.status_code, answer.json()["error"]) == (404, "transaction_not_found")
