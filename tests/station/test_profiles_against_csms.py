"""Charging profiles end to end: kilowatt's CSMS sets, checks, fetches and predicts the profiles
of kilowatt's station, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kilowatt.csms import smart_charging
from kilowatt.csms.smart_charging import ProfileRefused
from kilowatt.messages import v201
from kilowatt.station.station import Station
from tests.station.test_against_csms import TOKEN, Csms_, csms, running, until

__all__ = ["csms", "running"]  # the fixtures, imported for pytest

W = v201.ChargingRateUnitEnumType.W
A = v201.ChargingRateUnitEnumType.A


async def knows_the_station(csms: Csms_) -> None:
    """Ask the station's device model (GetBaseReport) and wait until the CSMS stored it."""
    answer = await asyncio.wait_for(
        csms.csms.commands.call(
            "CS-1",
            v201.GetBaseReportRequest(
                request_id=1, report_base=v201.ReportBaseEnumType.FULL_INVENTORY
            ),
        ),
        10,
    )
    assert answer.status == v201.GenericDeviceModelStatusEnumType.ACCEPTED

    async def reported() -> bool:
        names = {(v.component, v.variable) for v in await csms.store.variables("CS-1")}
        return {("EVSE", "Power"), ("SmartChargingCtrlr", "RateUnit")} <= names

    await until(reported)


async def charging(csms: Csms_, station: Station) -> str:
    """Start a transaction on EVSE 1; return its id once the CSMS knows it is running."""
    station.plug_in(1)
    assert await station.present_token(1, TOKEN)
    tx = station.evses[1].transaction
    assert tx is not None

    async def known() -> bool:
        record = await csms.store.get_transaction("CS-1", tx.id)
        return record is not None and record.evse_id == 1

    await until(known)
    return tx.id


async def test_a_tx_profile_set_checked_fetched_and_predicted(
    csms: Csms_, running: Station
) -> None:
    await knows_the_station(csms)
    transaction_id = await charging(csms, running)
    now = csms.csms.clock.now().replace(microsecond=0)
    profile = v201.ChargingProfileType(
        id=11,
        stack_level=1,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=now - timedelta(seconds=5),
                charging_rate_unit=A,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=10.0),
                    v201.ChargingSchedulePeriodType(start_period=900, limit=6.0),
                ],
            )
        ],
        transaction_id=transaction_id,
    )

    answer = await smart_charging.set_charging_profile(csms.csms, "CS-1", 1, profile)

    assert answer.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert [entry.profile for entry in running.profiles.installed] == [profile]
    [stored] = await csms.store.charging_profiles("CS-1")
    assert (stored.source, stored.evse_id, stored.transaction_id) == ("csms", 1, transaction_id)
    assert smart_charging.profile_of(stored) == profile

    # The station's composite schedule is the one the CSMS expects, in both units and for the
    # station as a whole (10 A on three phases at 230 V is 6900 W, 6 A is 4140 W).
    for evse_id, unit in ((1, W), (1, A), (0, W)):
        compared = await smart_charging.composite_schedules(csms.csms, "CS-1", evse_id, 1800, unit)
        assert compared.station.status == v201.GenericStatusEnumType.ACCEPTED
        assert compared.matches is True, (compared.station, compared.expected)
    periods = compared.station.schedule.charging_schedule_period  # type: ignore[union-attr]
    assert [(p.start_period, p.limit) for p in periods][-1][1] == 4140.0
    assert await csms.store.notifications("CS-1", action="CompositeScheduleMismatch") == []

    # The profiles the station reports are stored as its own.
    request_id, got = await smart_charging.get_charging_profiles(csms.csms, "CS-1")
    assert got.status == v201.GetChargingProfileStatusEnumType.ACCEPTED

    async def reported() -> bool:
        return bool(await csms.store.charging_profiles("CS-1", source="station"))

    await until(reported)
    [report] = await csms.store.charging_profiles("CS-1", source="station")
    assert (report.profile_id, report.request_id) == (11, request_id)
    assert smart_charging.profile_of(report) == profile


async def test_an_invalid_profile_never_reaches_the_station(csms: Csms_, running: Station) -> None:
    await knows_the_station(csms)
    await charging(csms, running)
    await csms.store.flush()
    frames_before = len(await csms.store.frames("CS-1"))
    station_max = v201.ChargingProfileType(
        id=12,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.CHARGING_STATION_MAX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=csms.csms.clock.now(),
                charging_rate_unit=W,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=5000.0)
                ],
            )
        ],
    )
    with pytest.raises(ProfileRefused) as refused:
        await smart_charging.set_charging_profile(csms.csms, "CS-1", 1, station_max)
    assert refused.value.requirement == "K04.FR.03"
    # An EVSE the station does not have (it reported one only).
    with pytest.raises(ProfileRefused, match=r"K01\.FR\.28"):
        await smart_charging.set_charging_profile(csms.csms, "CS-1", 2, station_max)

    assert running.profiles.installed == ()
    assert await csms.store.charging_profiles("CS-1") == []
    await csms.store.flush()
    sent = [
        frame
        for frame in (await csms.store.frames("CS-1"))[frames_before:]
        if frame.action == "SetChargingProfile"
    ]
    assert sent == []
