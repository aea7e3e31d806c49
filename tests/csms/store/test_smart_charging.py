"""Charging profiles and external charging limits in SqlStore (K), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta, timezone
from typing import Any

import pytest

from kilowatt.csms.store import ChargingLimitRecord, ChargingProfileRecord
from kilowatt.csms.store.sql import SqlStore
from tests.csms.store.factories import at


def profile(
    profile_id: int, evse_id: int = 1, source: str = "csms", **changes: Any
) -> ChargingProfileRecord:
    fields: dict[str, Any] = {
        "station_id": "CS-1",
        "source": source,
        "profile_id": profile_id,
        "evse_id": evse_id,
        "purpose": "TxDefaultProfile",
        "stack_level": 0,
        "charging_limit_source": "CSO",
        "profile": f'{{"id": {profile_id}}}',
        "updated_at": at(profile_id),
        "transaction_id": None,
        "request_id": None,
    }
    return ChargingProfileRecord(**{**fields, **changes})


def reported(
    profile_id: int, evse_id: int, request_id: int, **changes: Any
) -> ChargingProfileRecord:
    return profile(profile_id, evse_id, "station", request_id=request_id, **changes)


def ids(records: list[ChargingProfileRecord]) -> list[tuple[str, int, int]]:
    return [(r.source, r.evse_id, r.profile_id) for r in records]


async def test_a_profile_is_stored_whole_and_replaced_by_id(store: SqlStore) -> None:
    first = profile(
        7,
        purpose="TxProfile",
        stack_level=3,
        transaction_id="tx-1",
        updated_at=at(1).astimezone(timezone(timedelta(hours=2))),
    )
    await store.put_charging_profile(first)
    assert await store.charging_profiles("CS-1") == [first]

    # K01.FR.05: the same id replaces it, on another EVSE too.
    second = profile(7, evse_id=2, stack_level=1)
    await store.put_charging_profile(second)
    assert await store.charging_profiles("CS-1") == [second]


async def test_profiles_are_filtered_and_ordered(store: SqlStore) -> None:
    records = [
        profile(3, evse_id=2),
        profile(1, evse_id=0, purpose="ChargingStationMaxProfile"),
        profile(2, evse_id=1, stack_level=5),
        profile(4, evse_id=1, stack_level=1),
        reported(2, 1, request_id=9),  # the same id, reported: another source
        profile(1, station_id="CS-2"),
    ]
    for record in records:
        await store.put_charging_profile(record)

    assert ids(await store.charging_profiles("CS-1")) == [
        ("csms", 0, 1),
        ("csms", 1, 4),  # stackLevel 1 before 5
        ("csms", 1, 2),
        ("csms", 2, 3),
        ("station", 1, 2),
    ]
    assert ids(await store.charging_profiles("CS-1", evse_id=1, source="csms")) == [
        ("csms", 1, 4),
        ("csms", 1, 2),
    ]
    assert ids(await store.charging_profiles("CS-1", source="station")) == [("station", 1, 2)]
    assert await store.charging_profiles("CS-3") == []


async def test_deleting_profiles_by_id_and_source(store: SqlStore) -> None:
    for record in (profile(1), profile(2), profile(3), reported(1, 1, request_id=4)):
        await store.put_charging_profile(record)

    assert await store.delete_charging_profiles("CS-1", "csms", [1, 3, 99])
    assert not await store.delete_charging_profiles("CS-1", "csms", [1])
    assert not await store.delete_charging_profiles("CS-1", "csms", [])
    assert ids(await store.charging_profiles("CS-1")) == [("csms", 1, 2), ("station", 1, 1)]


async def test_a_report_replaces_the_evses_earlier_report(store: SqlStore) -> None:
    await store.replace_reported_charging_profiles(
        "CS-1", 1, 10, [reported(1, 1, 10), reported(2, 1, 10)]
    )
    await store.replace_reported_charging_profiles("CS-1", 2, 10, [reported(3, 2, 10)])
    await store.put_charging_profile(profile(1))  # the CSMS's own are apart

    # A later report of EVSE 1: profile 2 is gone there; EVSE 2 is not touched.
    await store.replace_reported_charging_profiles("CS-1", 1, 11, [reported(1, 1, 11)])
    assert ids(await store.charging_profiles("CS-1")) == [
        ("csms", 1, 1),
        ("station", 1, 1),
        ("station", 2, 3),
    ]
    # A second part of the same report (tbc, another chargingLimitSource) adds up.
    await store.replace_reported_charging_profiles(
        "CS-1", 1, 11, [reported(5, 1, 11, charging_limit_source="EMS")]
    )
    found = await store.charging_profiles("CS-1", source="station", evse_id=1)
    assert [(r.profile_id, r.charging_limit_source, r.request_id) for r in found] == [
        (1, "CSO", 11),
        (5, "EMS", 11),
    ]


async def test_a_report_part_must_be_of_its_station_evse_and_request(store: SqlStore) -> None:
    for wrong in (
        reported(1, 2, 10),
        reported(1, 1, 9),
        profile(1),
        reported(1, 1, 10, station_id="X"),
    ):
        with pytest.raises(ValueError, match="not one reported"):
            await store.replace_reported_charging_profiles("CS-1", 1, 10, [wrong])
    assert await store.charging_profiles("CS-1") == []


async def test_writes_of_one_batch_end_as_one_by_one(store: SqlStore) -> None:
    # Queued together, they share a commit: the replacement's delete runs in its place.
    await asyncio.gather(
        store.replace_reported_charging_profiles("CS-1", 1, 1, [reported(1, 1, 1)]),
        store.replace_reported_charging_profiles("CS-1", 1, 2, [reported(2, 1, 2)]),
        store.put_charging_profile(profile(9)),
    )
    assert ids(await store.charging_profiles("CS-1")) == [("csms", 1, 9), ("station", 1, 2)]


def limit(evse_id: int = 0, source: str = "EMS", **changes: Any) -> ChargingLimitRecord:
    fields: dict[str, Any] = {
        "station_id": "CS-1",
        "evse_id": evse_id,
        "charging_limit_source": source,
        "received_at": at(5),
        "is_grid_critical": True,
        "schedules": [
            {
                "id": 1,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.5}],
            }
        ],
    }
    return ChargingLimitRecord(**{**fields, **changes})


async def test_charging_limits_are_kept_per_evse_and_source(store: SqlStore) -> None:
    await store.put_charging_limit(limit(1, "SO"))
    await store.put_charging_limit(limit(0, "EMS"))
    await store.put_charging_limit(limit(0, "SO", is_grid_critical=None, schedules=None))
    newer = limit(0, "EMS", received_at=at(9), is_grid_critical=False)
    await store.put_charging_limit(newer)

    assert await store.charging_limits("CS-1") == [
        newer,
        limit(0, "SO", is_grid_critical=None, schedules=None),
        limit(1, "SO"),
    ]
    assert await store.delete_charging_limit("CS-1", 0, "SO")
    assert not await store.delete_charging_limit("CS-1", 0, "SO")
    assert not await store.delete_charging_limit("CS-1", 2, "EMS")
    assert [(r.evse_id, r.charging_limit_source) for r in await store.charging_limits("CS-1")] == [
        (0, "EMS"),
        (1, "SO"),
    ]
    assert await store.charging_limits("CS-2") == []


async def test_a_limit_read_back_equals_the_record(store: SqlStore) -> None:
    record = limit(received_at=at(1).astimezone(timezone(timedelta(hours=-5))))
    await store.put_charging_limit(record)
    [read] = await store.charging_limits("CS-1")
    assert read == dataclasses.replace(record)
    assert read.received_at == at(1) and read.received_at.utcoffset() == timedelta(0)
