"""The typed command endpoints: their bodies, the requests they make, their errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from kilowatt.csms.app import Csms
from kilowatt.csms.store import StationRecord
from kilowatt.messages import encode, v201

from .conftest import Connect

COMMANDS = "/api/v1/stations/CS1/commands"


def wire(message: Any) -> Any:
    return msgspec.json.decode(encode(message))


@pytest.mark.parametrize(
    ("command", "body", "request_payload"),
    [
        ("reset", {"type": "OnIdle", "evse_id": 1}, {"type": "OnIdle", "evseId": 1}),
        ("reset", {"type": "Immediate"}, {"type": "Immediate"}),
        ("remote-stop", {"transaction_id": "tx-1"}, {"transactionId": "tx-1"}),
        ("unlock", {"evse_id": 1, "connector_id": 2}, {"evseId": 1, "connectorId": 2}),
        (
            "change-availability",
            {"operational_status": "Inoperative", "evse_id": 1, "connector_id": 1},
            {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 1}},
        ),
        (
            "change-availability",
            {"operational_status": "Operative"},
            {"operationalStatus": "Operative"},
        ),
        (
            "trigger-message",
            {"requested_message": "StatusNotification", "evse_id": 2},
            {"requestedMessage": "StatusNotification", "evse": {"id": 2}},
        ),
        ("clear-cache", None, {}),
    ],
)
async def test_a_command_sends_its_request(
    client: httpx.AsyncClient,
    connect: Connect,
    command: str,
    body: dict[str, Any] | None,
    request_payload: dict[str, Any],
) -> None:
    station = await connect("CS1")
    answer = await client.post(f"{COMMANDS}/{command}", json=body)
    assert answer.status_code == 200, answer.text
    [received] = station.received
    assert wire(received) == request_payload
    assert answer.json() == {
        "action": received.ACTION,
        "response": wire(await station.default_answer(received)),
    }


async def test_remote_start_generates_the_remote_start_id(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    body = {"id_token": "04A1B2", "id_token_type": "ISO14443", "evse_id": 1}
    first = (await client.post(f"{COMMANDS}/remote-start", json=body)).json()
    second = (await client.post(f"{COMMANDS}/remote-start", json=body)).json()
    assert first["action"] == "RequestStartTransaction"
    assert first["remote_start_id"] > 0
    assert first["remote_start_id"] != second["remote_start_id"]
    sent = [wire(request) for request in station.received]
    assert sent[0] == {
        "idToken": {"idToken": "04A1B2", "type": "ISO14443"},
        "remoteStartId": first["remote_start_id"],
        "evseId": 1,
    }
    assert sent[1]["remoteStartId"] == second["remote_start_id"]


async def test_remote_start_keeps_a_given_remote_start_id(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    body = {"id_token": "T", "id_token_type": "Central", "remote_start_id": 77}
    answer = await client.post(f"{COMMANDS}/remote-start", json=body)
    assert answer.json()["remote_start_id"] == 77
    assert wire(station.received[0])["remoteStartId"] == 77


async def test_get_variables_is_split_by_the_stations_limits(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")  # ItemsPerMessage 2
    body = {
        "variables": [
            {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
            {"component": "DeviceDataCtrlr", "variable": "ItemsPerMessage"},
            {"component": "EVSE", "evse_id": 1, "variable": "Power", "attribute_type": "MaxSet"},
        ]
    }
    answer = await client.post(f"{COMMANDS}/get-variables", json=body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["component"], r["variable"], r["attribute_status"]) for r in results] == [
        ("OCPPCommCtrlr", "HeartbeatInterval", "Accepted"),
        ("DeviceDataCtrlr", "ItemsPerMessage", "Accepted"),
        ("EVSE", "Power", "UnknownVariable"),
    ]
    assert results[0]["attribute_value"] == "300"
    assert results[2]["evse_id"] == 1
    assert results[2]["attribute_value"] is None
    # The limits first (not known from a report), then the items two by two.
    requests = [r for r in station.received if isinstance(r, v201.GetVariablesRequest)]
    assert [len(request.get_variable_data) for request in requests] == [2, 2, 1]
    assert len(requests) == len(station.received)
    assert wire(requests[2].get_variable_data[0]) == {
        "attributeType": "MaxSet",
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
    }


async def test_set_variables(client: httpx.AsyncClient, connect: Connect) -> None:
    station = await connect("CS1")
    settings = [
        {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"},
        {"component": "AuthCtrlr", "variable": "Enabled", "value": "false"},
        {"component": "TxCtrlr", "variable": "EVConnectionTimeOut", "value": "90"},
    ]
    answer = await client.post(f"{COMMANDS}/set-variables", json={"variables": settings})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["attribute_status"] for r in results] == ["Accepted"] * 3
    assert station.variables["OCPPCommCtrlr", "HeartbeatInterval"] == "60"
    assert [type(request).__name__ for request in station.received] == [
        "GetVariablesRequest",
        "SetVariablesRequest",
        "SetVariablesRequest",
    ]


async def test_send_local_list(client: httpx.AsyncClient, connect: Connect) -> None:
    station = await connect("CS1")
    body = {
        "version": 3,
        "update_type": "Differential",
        "entries": [
            {
                "id_token": "A",
                "type": "ISO14443",
                "status": "Accepted",
                "group_id_token": "G",
                "expiry": "2030-01-01T00:00:00+01:00",
                "language1": "nl",
                "personal_message": {"format": "UTF8", "content": "Hoi"},
            },
            {"id_token": "B", "type": "ISO14443"},
        ],
    }
    answer = await client.post(f"{COMMANDS}/send-local-list", json=body)
    assert answer.status_code == 200, answer.text
    [received] = station.received
    assert isinstance(received, v201.SendLocalListRequest)
    assert wire(received) == {
        "versionNumber": 3,
        "updateType": "Differential",
        "localAuthorizationList": [
            {
                "idToken": {"idToken": "A", "type": "ISO14443"},
                "idTokenInfo": {
                    "status": "Accepted",
                    "cacheExpiryDateTime": "2030-01-01T00:00:00+01:00",
                    "groupIdToken": {"idToken": "G", "type": "Central"},
                    "language1": "nl",
                    "personalMessage": {"format": "UTF8", "content": "Hoi"},
                },
            },
            {"idToken": {"idToken": "B", "type": "ISO14443"}},
        ],
    }
    assert received.local_authorization_list
    expiry = received.local_authorization_list[0].id_token_info
    assert expiry and expiry.cache_expiry_date_time == datetime(2029, 12, 31, 23, tzinfo=UTC)


async def test_an_empty_full_list_leaves_the_list_out(
    client: httpx.AsyncClient, connect: Connect
) -> None:
    station = await connect("CS1")
    body = {"version": 4, "update_type": "Full"}
    assert (await client.post(f"{COMMANDS}/send-local-list", json=body)).status_code == 200
    assert wire(station.received[0]) == {"versionNumber": 4, "updateType": "Full"}


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("reset", {"type": "Later"}, "body.type"),
        ("reset", {"type": "Immediate", "evse_id": "1"}, "body.evse_id"),
        ("remote-start", {"id_token": "T" * 37, "id_token_type": "Central"}, "body.id_token"),
        ("remote-start", {"id_token": "T", "id_token_type": "Iso"}, "body.id_token_type"),
        ("remote-stop", {}, "body.transaction_id"),
        ("unlock", {"evse_id": 1}, "body.connector_id"),
        ("change-availability", {"operational_status": "Operative", "connector_id": 1}, "body"),
        ("trigger-message", {"requested_message": "Everything"}, "body.requested_message"),
        ("get-variables", {"variables": []}, "body.variables"),
        ("get-variables", {"variables": [{"component": "C"}]}, "body.variables.0.variable"),
        (
            "set-variables",
            {"variables": [{"component": "C", "variable": "V", "value": "x" * 1001}]},
            "body.variables.0.value",
        ),
        ("send-local-list", {"version": 1, "update_type": "Partial"}, "body.update_type"),
        (
            "send-local-list",
            {"version": 1, "update_type": "Full", "entries": [{"id_token": "A"}]},
            "body.entries.0.type",
        ),
    ],
)
async def test_an_invalid_command_body_is_a_422_naming_the_field(
    client: httpx.AsyncClient, connect: Connect, command: str, body: dict[str, Any], field: str
) -> None:
    station = await connect("CS1")
    answer = await client.post(f"{COMMANDS}/{command}", json=body)
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]
    assert station.received == []


async def test_commands_share_the_error_mapping(csms: Csms, client: httpx.AsyncClient) -> None:
    unknown = await client.post("/api/v1/stations/nope/commands/reset", json={"type": "Immediate"})
    assert unknown.status_code == 404
    await csms.store.put_station(StationRecord(station_id="CS1"))
    offline = await client.post(f"{COMMANDS}/reset", json={"type": "Immediate"})
    assert offline.status_code == 409
    offline_variables = await client.post(
        f"{COMMANDS}/get-variables", json={"variables": [{"component": "C", "variable": "V"}]}
    )
    assert offline_variables.status_code == 409
