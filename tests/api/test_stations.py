"""Station CRUD, live connection state, run-time changes, status history, the detail view."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.csms.auth import verify_password
from kilowatt.csms.store import VariableRecord
from kilowatt.messages import v201

from .conftest import Connect

PASSWORD = "correct horse battery"
STATION = {
    "id": "CS-001",
    "password": PASSWORD,
    "security_profile": 2,
    "registration_status": "Pending",
    "heartbeat_interval": 120,
}


async def test_create_get_list_delete(csms: Csms, client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/stations", json=STATION)
    assert created.status_code == 201
    body = created.json()
    assert body["id"] == "CS-001"
    assert body["security_profile"] == 2
    assert body["registration_status"] == "Pending"
    assert body["heartbeat_interval"] == 120
    assert body["has_password"] is True
    assert "password" not in body and "password_hash" not in body
    assert body["connected"] is False
    assert body["created_at"] == "2025-01-01T00:00:00.000Z"

    stored = await csms.store.get_station("CS-001")
    assert stored is not None and stored.password_hash is not None
    assert PASSWORD not in stored.password_hash
    assert verify_password(PASSWORD, stored.password_hash)

    listed = (await client.get("/api/v1/stations")).json()
    assert [station["id"] for station in listed] == ["CS-001"]
    detail = (await client.get("/api/v1/stations/CS-001")).json()
    assert detail["evses"] == [] and detail["device_model"] == []

    assert (await client.delete("/api/v1/stations/CS-001")).status_code == 204
    assert await csms.store.get_station("CS-001") is None
    gone = await client.get("/api/v1/stations/CS-001")
    assert gone.status_code == 404
    assert gone.json() == {"error": "station_not_found", "detail": "no station 'CS-001'"}
    assert (await client.delete("/api/v1/stations/CS-001")).status_code == 404


async def test_defaults_come_from_the_settings(csms: Csms, client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/v1/stations", json={"id": "CS-2"})).json()
    assert body["heartbeat_interval"] == csms.settings.heartbeat_interval
    assert body["security_profile"] == 1
    assert body["registration_status"] == "Accepted"
    assert body["has_password"] is False


async def test_an_existing_station_is_a_conflict(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/stations", json=STATION)).status_code == 201
    again = await client.post("/api/v1/stations", json={"id": "CS-001"})
    assert again.status_code == 409
    assert again.json()["error"] == "station_exists"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "C" * 49}, "body.id"),
        ({"id": "CS:1"}, "body.id"),
        ({"id": "CS/1"}, "body.id"),
        ({"id": ""}, "body.id"),
        ({"password": "short"}, "body.password"),
        ({"password": "p" * 41}, "body.password"),
        ({"password": "tab\there-password"}, "body.password"),
        ({"security_profile": 0}, "body.security_profile"),
        ({"security_profile": 4}, "body.security_profile"),
        ({"security_profile": "2"}, "body.security_profile"),
        ({"registration_status": "Maybe"}, "body.registration_status"),
        ({"heartbeat_interval": 0}, "body.heartbeat_interval"),
        ({"heartbeat_interval": True}, "body.heartbeat_interval"),
        ({"colour": "red"}, "body.colour"),
    ],
)
async def test_an_invalid_station_is_refused_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    answer = await client.post("/api/v1/stations", json={**STATION, **change})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "validation_error"
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["detail"].startswith(f"{field}: ")


async def test_a_body_that_is_not_json_is_a_422(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/stations", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "validation_error"


async def test_a_station_id_of_48_characters_is_fine(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/stations", json={"id": "C" * 48})
    assert answer.status_code == 201


async def test_live_state_of_a_connected_station(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.boot()
    await station.connection.call(v201.HeartbeatRequest())
    session = csms.registry.get("CS1")
    assert session is not None

    listed = (await client.get("/api/v1/stations")).json()
    assert len(listed) == 1
    live = listed[0]
    assert live["connected"] is True
    assert live["connection_id"] == session.connection_id
    assert live["connected_since"] == "2025-01-01T00:00:00.000Z"
    assert live["subprotocol"] == "ocpp2.0.1"
    assert live["remote"] == "memory"
    assert live["last_heartbeat_at"] == "2025-01-01T00:00:00.000Z"
    assert live["boot_status"] == "Accepted"
    assert (live["vendor_name"], live["model"], live["firmware_version"]) == ("Acme", "M1", "1.2.3")

    await station.close()
    offline = (await client.get("/api/v1/stations/CS1")).json()
    assert offline["connected"] is False
    assert offline["connection_id"] is None
    # The heartbeat is kept when the session ends.
    assert offline["last_heartbeat_at"] == "2025-01-01T00:00:00.000Z"


async def test_connected_since_has_millisecond_resolution(
    client: httpx.AsyncClient, connect: Connect, clock: ManualClock
) -> None:
    await clock.advance(1.2345)
    await connect("CS1")
    live = (await client.get("/api/v1/stations/CS1")).json()
    assert live["connected_since"] == "2025-01-01T00:00:01.234Z"


async def test_patch_at_run_time_answers_the_next_boot(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    first = await station.boot()
    assert first.status == v201.RegistrationStatusEnumType.ACCEPTED

    changed = await client.patch(
        "/api/v1/stations/CS1", json={"registration_status": "Rejected", "heartbeat_interval": 42}
    )
    assert changed.status_code == 200
    assert changed.json()["registration_status"] == "Rejected"
    assert changed.json()["connected"] is True

    second = await station.boot()
    assert second.status == v201.RegistrationStatusEnumType.REJECTED
    assert second.interval == 42
    detail = (await client.get("/api/v1/stations/CS1")).json()
    assert detail["boot_status"] == "Rejected"
    stored = await csms.store.get_station("CS1")
    assert stored is not None and stored.registration_status == "Rejected"


async def test_patch_password_and_profile(csms: Csms, client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/stations", json=STATION)
    before = await csms.store.get_station("CS-001")
    answer = await client.patch(
        "/api/v1/stations/CS-001", json={"password": "a new password", "security_profile": 1}
    )
    assert answer.status_code == 200
    after = await csms.store.get_station("CS-001")
    assert before is not None and after is not None
    assert after.security_profile == 1
    assert after.password_hash is not None and verify_password(
        "a new password", after.password_hash
    )
    assert after.registration_status == before.registration_status  # left out: kept

    removed = await client.patch("/api/v1/stations/CS-001", json={"password": None})
    assert removed.json()["has_password"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"registration_status": None}, "body.registration_status"),
        ({"heartbeat_interval": -1}, "body.heartbeat_interval"),
        ({"password": "short"}, "body.password"),
        ({"id": "other"}, "body.id"),
    ],
)
async def test_an_invalid_patch_is_refused(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    await client.post("/api/v1/stations", json=STATION)
    answer = await client.patch("/api/v1/stations/CS-001", json=change)
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]


async def test_patch_of_an_unknown_station_is_a_404(client: httpx.AsyncClient) -> None:
    answer = await client.patch("/api/v1/stations/nope", json={"heartbeat_interval": 60})
    assert answer.status_code == 404


async def test_delete_disconnects_and_does_not_come_back(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.boot()
    await station.connection.call(v201.HeartbeatRequest())
    assert (await client.delete("/api/v1/stations/CS1")).status_code == 204
    async with asyncio.timeout(5):
        await station.serve_task  # the CSMS closed the connection
    assert csms.registry.get("CS1") is None
    # The ended session did not write the station back.
    assert await csms.store.get_station("CS1") is None
    assert (await client.get("/api/v1/stations/CS1")).status_code == 404


async def test_detail_has_connectors_and_the_device_model(
    csms: Csms, client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    await station.boot()
    at = datetime(2025, 1, 1, 0, 0, 5, 678000, tzinfo=UTC)
    for evse, connector, status in [(1, 1, "Available"), (2, 1, "Occupied"), (1, 2, "Faulted")]:
        await station.connection.call(
            v201.StatusNotificationRequest(
                timestamp=at,
                connector_status=v201.ConnectorStatusEnumType(status),
                evse_id=evse,
                connector_id=connector,
            )
        )
    await csms.store.put_variables(
        [
            VariableRecord(
                station_id="CS1",
                component="OCPPCommCtrlr",
                variable="HeartbeatInterval",
                value="300",
                mutability="ReadWrite",
            ),
            VariableRecord(
                station_id="CS1",
                component="Connector",
                variable="Available",
                evse_id=1,
                connector_id=1,
                value="true",
            ),
        ]
    )
    detail = (await client.get("/api/v1/stations/CS1")).json()
    assert detail["evses"] == [
        {
            "evse_id": 1,
            "connectors": [
                {"connector_id": 1, "status": "Available", "timestamp": "2025-01-01T00:00:05.678Z"},
                {"connector_id": 2, "status": "Faulted", "timestamp": "2025-01-01T00:00:05.678Z"},
            ],
        },
        {
            "evse_id": 2,
            "connectors": [
                {"connector_id": 1, "status": "Occupied", "timestamp": "2025-01-01T00:00:05.678Z"}
            ],
        },
    ]
    model = {(v["component"], v["variable"]): v for v in detail["device_model"]}
    assert model["OCPPCommCtrlr", "HeartbeatInterval"]["value"] == "300"
    assert model["OCPPCommCtrlr", "HeartbeatInterval"]["evse_id"] is None
    assert model["OCPPCommCtrlr", "HeartbeatInterval"]["mutability"] == "ReadWrite"
    assert model["Connector", "Available"]["evse_id"] == 1
    assert model["Connector", "Available"]["connector_id"] == 1

    history = await client.get("/api/v1/stations/CS1/status-history")
    assert history.status_code == 200
    changes = history.json()
    assert len(changes) == 3
    assert {(c["evse_id"], c["connector_id"], c["status"]) for c in changes} == {
        (1, 1, "Available"),
        (2, 1, "Occupied"),
        (1, 2, "Faulted"),
    }
    limited = await client.get("/api/v1/stations/CS1/status-history", params={"limit": 1})
    assert len(limited.json()) == 1


@pytest.mark.parametrize("suffix", ["", "/status-history", "/messages", "/notifications"])
async def test_unknown_station_is_a_404(client: httpx.AsyncClient, suffix: str) -> None:
    answer = await client.get(f"/api/v1/stations/nope{suffix}")
    assert answer.status_code == 404
    assert answer.json()["error"] == "station_not_found"


async def test_a_bad_query_is_a_422_naming_it(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/stations", params={"limit": 0})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "query.limit"
