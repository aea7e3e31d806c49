"""Smart charging routes: profiles set (checked first), listed, cleared, reported; the composite
schedule compared with the CSMS's; external limits."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest

from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.csms.store import StationRecord
from kilowatt.messages import Response, encode, v201

from .conftest import Connect
from .station import SimulatedStation

STATION = "/api/v1/stations/CS1"
PROFILES = f"{STATION}/charging-profiles"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def wire(message: Any) -> Any:
    return msgspec.json.decode(encode(message))


def station_max(profile_id: int = 1, limit: float = 20000.0) -> dict[str, Any]:
    return {
        "id": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2025-01-01T00:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }


class Smart:
    """A station's answers to the smart-charging CALLs; anything else, the default."""

    def __init__(self) -> None:
        self.station: SimulatedStation | None = None
        self.composite = [v201.ChargingSchedulePeriodType(start_period=0, limit=20000.0)]
        self.set_status = v201.ChargingProfileStatusEnumType.ACCEPTED

    async def __call__(self, request: Any) -> Response:
        match request:
            case v201.SetChargingProfileRequest():
                return v201.SetChargingProfileResponse(status=self.set_status)
            case v201.ClearChargingProfileRequest():
                return v201.ClearChargingProfileResponse(
                    status=v201.ClearChargingProfileStatusEnumType.ACCEPTED
                )
            case v201.GetChargingProfilesRequest():
                return v201.GetChargingProfilesResponse(
                    status=v201.GetChargingProfileStatusEnumType.ACCEPTED
                )
            case v201.GetCompositeScheduleRequest():
                return v201.GetCompositeScheduleResponse(
                    status=v201.GenericStatusEnumType.ACCEPTED,
                    schedule=v201.CompositeScheduleType(
                        charging_schedule_period=self.composite,
                        evse_id=request.evse_id,
                        duration=request.duration,
                        schedule_start=T0,
                        charging_rate_unit=request.charging_rate_unit
                        or v201.ChargingRateUnitEnumType.W,
                    ),
                )
        assert self.station is not None
        return await self.station.default_answer(request)


@pytest.fixture
async def smart(connect: Connect) -> tuple[SimulatedStation, Smart]:
    answers = Smart()
    station = await connect("CS1", answer=answers)
    answers.station = station
    await station.boot()
    return station, answers


async def test_a_profile_is_sent_stored_and_listed(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, _ = smart
    answer = await client.post(PROFILES, json={"evseId": 0, "chargingProfile": station_max()})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"action": "SetChargingProfile", "response": {"status": "Accepted"}}
    [sent] = station.received
    assert wire(sent) == {"evseId": 0, "chargingProfile": station_max()}

    listed = (await client.get(PROFILES)).json()
    assert [(p["source"], p["evse_id"], p["profile_id"], p["purpose"]) for p in listed] == [
        ("csms", 0, 1, "ChargingStationMaxProfile")
    ]
    assert listed[0]["profile"] == station_max()
    assert (await client.get(PROFILES, params={"source": "station"})).json() == []
    assert (await client.get(PROFILES, params={"evseId": 1})).json() == []
    assert len((await client.get(PROFILES, params={"evseId": 0})).json()) == 1


async def test_a_profile_the_station_rejects_is_answered_and_not_stored(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    _, answers = smart
    answers.set_status = v201.ChargingProfileStatusEnumType.REJECTED
    answer = await client.post(PROFILES, json={"evseId": 0, "chargingProfile": station_max()})
    assert answer.json()["response"] == {"status": "Rejected"}
    assert (await client.get(PROFILES)).json() == []


async def test_an_invalid_profile_is_a_422_naming_the_requirement_and_is_not_sent(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, _ = smart
    answer = await client.post(PROFILES, json={"evseId": 1, "chargingProfile": station_max()})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "profile_refused"
    assert body["requirement"] == "K04.FR.03"
    assert body["reason_code"] == "InvalidProfile"
    assert "ChargingStationMaxProfile only on evseId 0" in body["detail"]
    assert station.received == []


async def test_a_payload_breaking_the_schema_is_a_422_naming_the_field(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, _ = smart
    profile = station_max()
    del profile["stackLevel"]
    answer = await client.post(PROFILES, json={"evseId": 0, "chargingProfile": profile})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "schema_violation"
    assert "stackLevel" in body["detail"]
    assert station.received == []


async def test_unknown_and_unconnected_stations(csms: Csms, client: httpx.AsyncClient) -> None:
    body = {"evseId": 0, "chargingProfile": station_max()}
    assert (await client.post(PROFILES, json=body)).status_code == 404
    assert (await client.get(PROFILES)).status_code == 404
    await csms.store.put_station(StationRecord(station_id="CS1"))
    answer = await client.post(PROFILES, json=body)
    assert answer.status_code == 409
    assert answer.json()["error"] == "station_not_connected"
    assert (await client.get(f"{STATION}/composite-schedule")).status_code == 409


async def test_an_unanswered_profile_is_a_504(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart], clock: ManualClock
) -> None:
    station, _ = smart
    station.hold = asyncio.Event()
    call = asyncio.create_task(
        client.post(PROFILES, json={"evseId": 0, "chargingProfile": station_max()})
    )
    await station.call_arrived.wait()
    await clock.advance(11)
    async with asyncio.timeout(5):
        answer = await call
    assert answer.status_code == 504
    assert "SetChargingProfile" in answer.json()["detail"]
    assert (await client.get(PROFILES)).json() == []


async def test_delete_and_clear_forget_what_the_station_cleared(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, _ = smart
    for profile_id, level in ((1, 0), (2, 1), (3, 2)):
        profile = {**station_max(profile_id), "stackLevel": level}
        answer = await client.post(PROFILES, json={"evseId": 0, "chargingProfile": profile})
        assert answer.status_code == 200, answer.text
    station.received.clear()

    deleted = await client.delete(f"{PROFILES}/2")
    assert deleted.json() == {"action": "ClearChargingProfile", "response": {"status": "Accepted"}}
    assert wire(station.received[-1]) == {"chargingProfileId": 2}
    assert [p["profile_id"] for p in (await client.get(PROFILES)).json()] == [1, 3]

    criteria = {"chargingProfileCriteria": {"evseId": 0, "stackLevel": 2}}
    cleared = await client.post(f"{PROFILES}/clear", json=criteria)
    assert cleared.status_code == 200, cleared.text
    assert wire(station.received[-1]) == criteria
    assert [p["profile_id"] for p in (await client.get(PROFILES)).json()] == [1]

    bad = await client.post(f"{PROFILES}/clear", json={"chargingProfileCriteria": {"evseId": "x"}})
    assert bad.status_code == 422


async def test_report_asks_the_station_and_stores_its_reports(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, _ = smart
    answer = await client.post(f"{PROFILES}/report", json={"evseId": 0})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    [sent] = station.received
    assert wire(sent) == {"requestId": body["request_id"], "evseId": 0, "chargingProfile": {}}
    assert body["response"] == {"status": "Accepted"}

    profile = msgspec.json.decode(json.dumps(station_max(9)), type=v201.ChargingProfileType)
    await station.connection.call(
        v201.ReportChargingProfilesRequest(
            request_id=body["request_id"],
            charging_limit_source=v201.ChargingLimitSourceEnumType.CSO,
            charging_profile=[profile],
            evse_id=0,
        )
    )
    listed = (await client.get(PROFILES, params={"source": "station"})).json()
    assert [(p["profile_id"], p["request_id"]) for p in listed] == [(9, body["request_id"])]

    given = await client.post(
        f"{PROFILES}/report",
        json={"requestId": 77, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}},
    )
    assert given.json()["request_id"] == 77
    assert wire(station.received[-1]) == {
        "requestId": 77,
        "chargingProfile": {"chargingProfilePurpose": "TxProfile"},
    }
    assert (await client.post(f"{PROFILES}/report", json=[1])).status_code == 422


async def test_the_composite_schedule_is_compared_with_the_expected_one(
    csms: Csms, client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, answers = smart
    await client.post(PROFILES, json={"evseId": 0, "chargingProfile": station_max()})

    same = await client.get(
        f"{STATION}/composite-schedule", params={"evseId": 0, "duration": 600, "unit": "W"}
    )
    assert same.status_code == 200, same.text
    body = same.json()
    assert wire(station.received[-1]) == {"duration": 600, "chargingRateUnit": "W", "evseId": 0}
    assert body["matches"] is True
    assert body["station"]["status"] == "Accepted"
    assert body["expected"] == {
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20000.0}],
        "evseId": 0,
        "duration": 600,
        "scheduleStart": "2025-01-01T00:00:00Z",
        "chargingRateUnit": "W",
    }
    assert await csms.store.notifications("CS1", action="CompositeScheduleMismatch") == []

    answers.composite = [v201.ChargingSchedulePeriodType(start_period=0, limit=22000.0)]
    differs = (
        await client.get(f"{STATION}/composite-schedule", params={"evseId": 0, "unit": "W"})
    ).json()
    assert differs["matches"] is False
    [flagged] = await csms.store.notifications("CS1", action="CompositeScheduleMismatch")
    payload = json.loads(flagged.payload)
    assert payload["station"]["chargingSchedulePeriod"][0]["limit"] == 22000.0
    assert payload["expected"]["chargingSchedulePeriod"][0]["limit"] == 20000.0


async def test_external_limits_are_listed(
    client: httpx.AsyncClient, smart: tuple[SimulatedStation, Smart]
) -> None:
    station, _ = smart
    assert (await client.get(f"{STATION}/charging-limits")).json() == []
    await station.connection.call(
        v201.NotifyChargingLimitRequest(
            charging_limit=v201.ChargingLimitType(
                charging_limit_source=v201.ChargingLimitSourceEnumType.EMS, is_grid_critical=False
            ),
            evse_id=1,
        )
    )
    listed = (await client.get(f"{STATION}/charging-limits")).json()
    assert [(x["evse_id"], x["charging_limit_source"], x["is_grid_critical"]) for x in listed] == [
        (1, "EMS", False)
    ]
    assert listed[0]["schedules"] is None


async def test_the_routes_are_documented_with_the_ocpp_schemas(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    post = paths["/api/v1/stations/{station_id}/charging-profiles"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/SetChargingProfileRequest"}
    assert {"404", "409", "422", "502", "504"} <= post["responses"].keys()
    assert "/api/v1/stations/{station_id}/composite-schedule" in paths
    assert "/api/v1/stations/{station_id}/charging-limits" in paths
