"""/api/v1/sites: site documents written, read, refused with the field at fault, a node's
limit schedule pushed on its own, the allocation and history read, sites deleted."""

from __future__ import annotations

from typing import Any

import httpx

SITE: dict[str, Any] = {
    "name": "Garage",
    "limit": {"watts": 100000},
    "children": [
        {"group": "feeder", "limit": {"watts": 60000}, "children": [{"station": "CS1"}]},
        {"station": "CS2", "evses": [{"id": 1, "max_power": 11000}]},
    ],
}


async def test_a_site_is_written_read_and_deleted(client: httpx.AsyncClient) -> None:
    written = await client.put("/api/v1/sites/garage", json=SITE)
    assert written.status_code == 200, written.text
    body = written.json()
    assert (body["id"], body["name"], body["stations"]) == ("garage", "Garage", ["CS1", "CS2"])
    assert body["document"]["limit"] == {"watts": 100000}
    assert [site["id"] for site in (await client.get("/api/v1/sites")).json()] == ["garage"]
    assert (await client.get("/api/v1/sites/garage/history")).json() == []
    assert (await client.delete("/api/v1/sites/garage")).status_code == 204
    missing = await client.get("/api/v1/sites/garage")
    assert (missing.status_code, missing.json()["error"]) == (404, "site_not_found")
    assert (await client.delete("/api/v1/sites/garage")).status_code == 404


async def test_a_broken_document_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    broken = {**SITE, "limit": {"watts": -1}}
    answer = await client.put("/api/v1/sites/garage", json=broken)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "invalid_site",
        "detail": "site.limit.watts: must be a finite number >= 0",
    }
    other = await client.put("/api/v1/sites/garage", json={**SITE, "id": "elsewhere"})
    assert (other.status_code, other.json()["error"]) == (422, "site_id_mismatch")


async def test_a_station_belongs_to_one_site(client: httpx.AsyncClient) -> None:
    assert (await client.put("/api/v1/sites/garage", json=SITE)).status_code == 200
    second = {"children": [{"station": "CS2"}]}
    answer = await client.put("/api/v1/sites/depot", json=second)
    assert (answer.status_code, answer.json()["error"]) == (409, "station_in_another_site")


async def test_a_grid_signal_is_pushed_to_one_node(client: httpx.AsyncClient) -> None:
    assert (await client.put("/api/v1/sites/garage", json=SITE)).status_code == 200
    signal = [{"start": "2026-11-25T18:00:00Z", "watts": 40000}]
    answer = await client.put("/api/v1/sites/garage/nodes/feeder/schedule", json=signal)
    assert answer.status_code == 200, answer.text
    (group,) = [c for c in answer.json()["document"]["children"] if c.get("group") == "feeder"]
    assert group["schedule"] == signal
    unknown = await client.put("/api/v1/sites/garage/nodes/attic/schedule", json=signal)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "node_not_found")
    bad = await client.put(
        "/api/v1/sites/garage/nodes/feeder/schedule", json=[{"start": "soon", "watts": 1}]
    )
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_schedule")


async def test_the_planned_limits_follow_the_schedules(client: httpx.AsyncClient) -> None:
    site = {**SITE, "schedule": [{"start": "2025-01-01T06:00:00Z", "watts": 70000}]}
    assert (await client.put("/api/v1/sites/garage", json=site)).status_code == 200
    plan = (await client.get("/api/v1/sites/garage/plan", params={"hours": 24})).json()
    assert [point["limits_w"].get("garage") for point in plan] == [None, 70000]
    assert plan[1]["start"].startswith("2025-01-01T06:00:00")
