"""The station's control API (station/control.py): each action acts on the station; bad input
gets a 4xx with a JSON body and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kilowatt.messages import v201
from kilowatt.station.control import control_app

from .rig import Rig, make_rig


@pytest.fixture
def rig() -> Rig:
    return make_rig(evses=2)


@pytest.fixture
async def control(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=control_app(rig.station))
    async with httpx.AsyncClient(transport=transport, base_url="http://station.test") as client:
        yield client


async def test_plug_in_and_unplug(rig: Rig, control: httpx.AsyncClient) -> None:
    answer = await control.post("/actions/plug_in", json={"evse_id": 2})
    assert (answer.status_code, answer.json()) == (200, {})
    assert rig.station.evses[2].plugged == 1
    assert rig.station.evses[1].plugged is None
    assert (await control.post("/actions/unplug", json={"evse_id": 2})).status_code == 200
    assert rig.station.evses[2].plugged is None


async def test_a_card_presented_is_authorized_by_the_station(
    rig: Rig, control: httpx.AsyncClient
) -> None:
    rig.station.accepted.set()  # online: the rig answers Authorize Accepted
    rig.answers[v201.AuthorizeRequest] = v201.AuthorizeResponse(
        id_token_info=v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.ACCEPTED)
    )
    answer = await control.post("/actions/present_token", json={"evse_id": 1, "id_token": "CARD-1"})
    assert (answer.status_code, answer.json()) == (200, {"authorized": True})
    [asked] = [r for r in rig.sent if isinstance(r, v201.AuthorizeRequest)]
    assert asked.id_token == v201.IdTokenType(id_token="CARD-1", type=v201.IdTokenEnumType.ISO14443)


async def test_reboot_reboots(rig: Rig, control: httpx.AsyncClient) -> None:
    assert (await control.post("/actions/reboot", json={})).status_code == 200
    assert rig.reboots == [v201.BootReasonEnumType.POWER_UP]


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("plug_in", {"evse_id": 3}, 404),  # no such EVSE
        ("plug_in", {"evse_id": 1, "connector_id": 2}, 404),  # no such connector
        ("plug_in", {"evse_id": 1, "colour": "red"}, 422),  # unknown field
        ("plug_in", {}, 422),
        ("present_token", {"evse_id": 1, "id_token": "X", "type": "Bogus"}, 422),
        ("go_offline", {"seconds": -1}, 422),
        ("fly", {}, 404),  # no such action
    ],
)
async def test_bad_input_is_refused_with_a_json_body(
    rig: Rig, control: httpx.AsyncClient, action: str, body: dict[str, object], status: int
) -> None:
    answer = await control.post(f"/actions/{action}", json=body)
    assert answer.status_code == status
    assert "detail" in answer.json()
    assert all(evse.plugged is None for evse in rig.station.evses.values())


async def test_the_state_shows_the_evses_and_the_display(
    rig: Rig, control: httpx.AsyncClient
) -> None:
    await control.post("/actions/plug_in", json={"evse_id": 1})
    state = (await control.get("/state")).json()
    assert state["station_id"] == rig.station.config.station_id
    assert [(e["id"], e["plugged"]) for e in state["evses"]] == [(1, 1), (2, None)]
    assert state["connected"] is False
