"""The local list the CSMS keeps for a station (GET/PUT) and sending it (D01, D02), against a
simulated station that applies the updates as a conforming station does."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from kilowatt.csms.app import Csms
from kilowatt.csms.store import LocalList, LocalListEntry, StationRecord
from kilowatt.messages import Response, encode, v201

from .conftest import Connect
from .station import SimulatedStation

LIST = "/api/v1/stations/CS1/local-list"
SEND = f"{LIST}/send"


def wire(message: Any) -> Any:
    return msgspec.json.decode(encode(message))


class LocalListStation:
    """The station's side of D01 and D02, answering a SimulatedStation's SendLocalList and
    GetLocalListVersion; everything else gets the simulated station's default answer.

    Attributes:
        version: the list's version (0: no list, D02).
        entries: idToken -> the idTokenInfo it holds, as on the wire.
        fail: the numbers (from 0) of the SendLocalList requests to answer Failed.
    """

    def __init__(self, station: SimulatedStation) -> None:
        self.station = station
        self.version = 0
        self.entries: dict[str, Any] = {}
        self.fail: set[int] = set()
        self._requests = 0
        station.answer = self.answer

    async def answer(self, request: Any) -> Response:
        match request:
            case v201.SendLocalListRequest():
                return v201.SendLocalListResponse(status=self._apply(request))
            case v201.GetLocalListVersionRequest():
                return v201.GetLocalListVersionResponse(version_number=self.version)
        return await self.station.default_answer(request)

    def _apply(self, request: v201.SendLocalListRequest) -> v201.SendLocalListStatusEnumType:
        number, self._requests = self._requests, self._requests + 1
        items = request.local_authorization_list or []
        if number in self.fail or request.version_number <= 0:  # D01.FR.18
            return v201.SendLocalListStatusEnumType.FAILED
        if request.update_type == v201.UpdateEnumType.FULL:
            if any(not item.id_token_info for item in items):
                return v201.SendLocalListStatusEnumType.FAILED
            self.entries = {}
        elif request.version_number <= self.version:  # D01.FR.19
            return v201.SendLocalListStatusEnumType.VERSION_MISMATCH
        for item in items:
            if item.id_token_info:  # D01.FR.16
                self.entries[item.id_token.id_token] = wire(item.id_token_info)
            else:  # D01.FR.17
                self.entries.pop(item.id_token.id_token, None)
        self.version = request.version_number
        return v201.SendLocalListStatusEnumType.ACCEPTED

    def sent(self) -> list[v201.SendLocalListRequest]:
        return [r for r in self.station.received if isinstance(r, v201.SendLocalListRequest)]


@pytest.fixture
async def station(connect: Connect) -> LocalListStation:
    """CS1, connected, with LocalAuthListCtrlr.ItemsPerMessage 2."""
    simulated = await connect("CS1")
    simulated.variables["LocalAuthListCtrlr", "ItemsPerMessage"] = "2"
    simulated.variables["LocalAuthListCtrlr", "BytesPerMessage"] = "65000"
    return LocalListStation(simulated)


def token(id_token: str, **fields: Any) -> dict[str, Any]:
    return {"id_token": id_token, "type": "ISO14443", **fields}


async def put(client: httpx.AsyncClient, version: int, *entries: dict[str, Any]) -> None:
    answer = await client.put(LIST, json={"version": version, "entries": list(entries)})
    assert answer.status_code == 200, answer.text


async def send(client: httpx.AsyncClient, update_type: str) -> dict[str, Any]:
    answer = await client.post(SEND, json={"update_type": update_type})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def parts(answer: dict[str, Any]) -> list[tuple[int, str, int, str]]:
    return [
        (m["version_number"], m["update_type"], m["entries"], m["status"])
        for m in answer["messages"]
    ]


ACCEPTED = {"status": "Accepted"}

# -- the list the CSMS keeps ---------------------------------------------------------------------


async def test_a_put_list_is_kept_and_read_back(client: httpx.AsyncClient, csms: Csms) -> None:
    await csms.store.put_station(StationRecord(station_id="CS1"))
    missing = await client.get(LIST)
    assert missing.status_code == 404
    assert missing.json()["error"] == "local_list_not_found"

    full = token(
        "T01",
        type="Central",
        status="Blocked",
        group_id_token="FLEET",
        expiry="2030-01-01T01:00:00+01:00",
        language1="en",
        language2="de",
        personal_message={"format": "UTF8", "language": "en", "content": "Hi"},
    )
    answer = await client.put(LIST, json={"version": 5, "entries": [token("T02"), full]})
    assert answer.status_code == 200, answer.text
    expected = {
        "version": 5,
        "entries": [
            {**full, "expiry": "2030-01-01T00:00:00.000Z"},
            {
                **token("T02"),
                "status": "Accepted",
                "group_id_token": None,
                "expiry": None,
                "language1": None,
                "language2": None,
                "personal_message": None,
            },
        ],
        "accepted_version": None,
    }
    assert answer.json() == expected
    assert (await client.get(LIST)).json() == expected

    emptied = await client.put(LIST, json={"version": 6})
    assert emptied.json() == {"version": 6, "entries": [], "accepted_version": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": 0}, "body.version"),
        ({"version": "3"}, "body.version"),
        ({"version": 2**31}, "body.version"),
        ({"entries": []}, "body.version"),
        ({"version": 1, "entries": [token("T01"), token("T01", status="Blocked")]}, "body.entries"),
        ({"version": 1, "entries": [token("T01", status="Maybe")]}, "body.entries.0.status"),
        ({"version": 1, "entries": [{"id_token": "T01"}]}, "body.entries.0.type"),
        ({"version": 1, "colour": "red"}, "body.colour"),
    ],
)
async def test_an_invalid_list_is_a_422_naming_the_field(
    client: httpx.AsyncClient, csms: Csms, body: dict[str, Any], field: str
) -> None:
    await csms.store.put_station(StationRecord(station_id="CS1"))
    answer = await client.put(LIST, json=body)
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]
    assert await csms.store.local_list("CS1") is None


async def test_the_routes_of_an_unknown_station_are_404(client: httpx.AsyncClient) -> None:
    for answer in (
        await client.get(LIST),
        await client.put(LIST, json={"version": 1}),
        await client.post(SEND, json={"update_type": "Full"}),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"] == "station_not_found"


# -- sending it ----------------------------------------------------------------------------------


async def test_a_full_update_goes_in_parts_of_items_per_message(
    client: httpx.AsyncClient, csms: Csms, station: LocalListStation
) -> None:
    blocked = token("T01", status="Blocked", group_id_token="FLEET", language1="en")
    await put(client, 7, blocked, token("T02"), token("T03"), token("T04"), token("T05"))

    answer = await send(client, "Full")

    # D01.FR.11: the first part Full, the others Differential, each version one higher
    # (D01.FR.19), the last the list's.
    assert parts(answer) == [
        (5, "Full", 2, "Accepted"),
        (6, "Differential", 2, "Accepted"),
        (7, "Differential", 1, "Accepted"),
    ]
    assert (answer["update_type"], answer["version"], answer["status"]) == ("Full", 7, "Accepted")
    assert answer["station_version"] == 7
    assert station.version == 7
    assert station.entries == {
        "T01": {
            "status": "Blocked",
            "groupIdToken": {"idToken": "FLEET", "type": "Central"},
            "language1": "en",
        },
        **{name: ACCEPTED for name in ("T02", "T03", "T04", "T05")},
    }
    # The limits (LocalAuthListCtrlr's variables have no instance), the parts, the version.
    limits, *sent, version = station.station.received
    assert wire(limits) == {
        "getVariableData": [
            {"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": name}}
            for name in ("ItemsPerMessage", "BytesPerMessage")
        ]
    }
    assert sent == station.sent()
    assert isinstance(version, v201.GetLocalListVersionRequest)
    assert (await client.get(LIST)).json()["accepted_version"] == 7
    accepted = await csms.store.accepted_local_list("CS1")
    assert accepted is not None and accepted.version == 7
    assert [entry.id_token for entry in accepted.entries] == ["T01", "T02", "T03", "T04", "T05"]


async def test_a_differential_update_sends_what_changed_since_the_accepted_list(
    client: httpx.AsyncClient, csms: Csms, station: LocalListStation
) -> None:
    await put(client, 2, token("T01"), token("T02"), token("T03"))
    await send(client, "Full")
    await put(client, 4, token("T02", status="Blocked"), token("T03"), token("T04"))
    station.station.received.clear()

    answer = await send(client, "Differential")

    assert parts(answer) == [(3, "Differential", 2, "Accepted"), (4, "Differential", 1, "Accepted")]
    assert answer["station_version"] is None
    assert [wire(request) for request in station.sent()] == [
        {
            "versionNumber": 3,
            "updateType": "Differential",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "T02", "type": "ISO14443"},
                    "idTokenInfo": {"status": "Blocked"},
                },
                {"idToken": {"idToken": "T04", "type": "ISO14443"}, "idTokenInfo": ACCEPTED},
            ],
        },
        # D01.FR.17: a removed token goes without idTokenInfo.
        {
            "versionNumber": 4,
            "updateType": "Differential",
            "localAuthorizationList": [{"idToken": {"idToken": "T01", "type": "ISO14443"}}],
        },
    ]
    assert station.version == 4
    assert station.entries == {"T02": {"status": "Blocked"}, "T03": ACCEPTED, "T04": ACCEPTED}
    assert await csms.store.accepted_local_list("CS1") == await csms.store.local_list("CS1")

    # D01.FR.05: nothing changed but the version: an update without entries.
    await put(client, 5, token("T02", status="Blocked"), token("T03"), token("T04"))
    assert parts(await send(client, "Differential")) == [(5, "Differential", 0, "Accepted")]
    assert wire(station.sent()[-1]) == {"versionNumber": 5, "updateType": "Differential"}
    assert station.version == 5


async def test_a_version_mismatch_is_returned_and_the_accepted_list_left(
    client: httpx.AsyncClient, csms: Csms, station: LocalListStation
) -> None:
    await put(client, 1, token("T01"))
    await send(client, "Full")
    before = await csms.store.accepted_local_list("CS1")
    await put(client, 1, token("T01"), token("T02"))  # changed, but not its version

    answer = await send(client, "Differential")

    assert parts(answer) == [(1, "Differential", 1, "VersionMismatch")]
    assert answer["status"] == "VersionMismatch"
    assert station.entries == {"T01": ACCEPTED}
    assert await csms.store.accepted_local_list("CS1") == before
    assert (await client.get(LIST)).json()["accepted_version"] == 1

    await put(client, 2, token("T01"), token("T02"))
    assert (await send(client, "Differential"))["status"] == "Accepted"
    assert station.entries == {"T01": ACCEPTED, "T02": ACCEPTED}


async def test_a_part_refused_leaves_the_accepted_list_as_the_parts_before_it(
    client: httpx.AsyncClient, csms: Csms, station: LocalListStation
) -> None:
    await put(client, 1, token("T09"))
    await send(client, "Full")
    await put(client, 4, token("T01"), token("T02"), token("T03"), token("T04"))
    station.fail = {2}  # the second part of the next update

    refused = await send(client, "Full")

    assert parts(refused) == [(3, "Full", 2, "Accepted"), (4, "Differential", 2, "Failed")]
    assert (refused["status"], refused["station_version"]) == ("Failed", None)
    assert await csms.store.accepted_local_list("CS1") == LocalList(
        "CS1",
        3,
        (
            LocalListEntry("T01", "ISO14443", "Accepted"),
            LocalListEntry("T02", "ISO14443", "Accepted"),
        ),
    )
    # So a Differential update sends what the station lacks.
    answer = await send(client, "Differential")
    assert parts(answer) == [(4, "Differential", 2, "Accepted")]
    assert station.entries == {name: ACCEPTED for name in ("T01", "T02", "T03", "T04")}


async def test_bytes_per_message_splits_too(
    client: httpx.AsyncClient, station: LocalListStation
) -> None:
    del station.station.variables["LocalAuthListCtrlr", "ItemsPerMessage"]
    station.station.variables["LocalAuthListCtrlr", "BytesPerMessage"] = "200"
    await put(client, 9, token("T01"), token("T02"), token("T03"))

    answer = await send(client, "Full")

    assert parts(answer) == [
        (7, "Full", 1, "Accepted"),
        (8, "Differential", 1, "Accepted"),
        (9, "Differential", 1, "Accepted"),
    ]
    sent = station.sent()
    assert all(len(encode(request)) <= 200 for request in sent)
    two = v201.SendLocalListRequest(
        version_number=9,
        update_type=v201.UpdateEnumType.DIFFERENTIAL,
        local_authorization_list=[
            *(sent[1].local_authorization_list or []),
            *(sent[2].local_authorization_list or []),
        ],
    )
    assert len(encode(two)) > 200  # two entries would not have fitted


async def test_an_empty_full_update_empties_the_stations_list(
    client: httpx.AsyncClient, station: LocalListStation
) -> None:
    await put(client, 1, token("T01"))
    await send(client, "Full")
    await put(client, 2)

    answer = await send(client, "Full")

    assert parts(answer) == [(2, "Full", 0, "Accepted")]
    assert wire(station.sent()[-1]) == {"versionNumber": 2, "updateType": "Full"}
    assert (station.version, station.entries, answer["station_version"]) == (2, {}, 2)


async def test_a_differential_update_needs_an_accepted_list(
    client: httpx.AsyncClient, station: LocalListStation
) -> None:
    await put(client, 1, token("T01"))
    answer = await client.post(SEND, json={"update_type": "Differential"})
    assert answer.status_code == 409
    assert answer.json()["error"] == "local_list_not_synchronized"
    assert "send a Full one" in answer.json()["detail"]
    assert station.station.received == []


async def test_a_version_too_low_for_the_parts_is_refused_before_sending(
    client: httpx.AsyncClient, station: LocalListStation
) -> None:
    await put(client, 2, token("T01"), token("T02"), token("T03"), token("T04"), token("T05"))
    answer = await client.post(SEND, json={"update_type": "Full"})
    assert answer.status_code == 409
    body = answer.json()
    assert (body["error"], body["version"], body["messages"]) == (
        "local_list_version_too_low",
        2,
        3,
    )
    assert "give the list a version of at least 3" in body["detail"]
    assert station.sent() == []


async def test_sending_needs_a_list_and_a_connection(client: httpx.AsyncClient, csms: Csms) -> None:
    await csms.store.put_station(StationRecord(station_id="CS1"))
    no_list = await client.post(SEND, json={"update_type": "Full"})
    assert (no_list.status_code, no_list.json()["error"]) == (404, "local_list_not_found")
    await put(client, 1, token("T01"))
    offline = await client.post(SEND, json={"update_type": "Full"})
    assert (offline.status_code, offline.json()["error"]) == (409, "station_not_connected")
    invalid = await client.post(SEND, json={"update_type": "Partial"})
    assert invalid.status_code == 422
    assert [error["field"] for error in invalid.json()["errors"]] == ["body.update_type"]
