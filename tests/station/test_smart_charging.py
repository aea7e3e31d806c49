"""The station's smart charging: SetChargingProfile, GetChargingProfiles, ClearChargingProfile,
GetCompositeSchedule (K01, K08-K10), limits that change with time, ChargingRateChanged."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.clock import ManualClock
from kilowatt.devicemodel import AttributeKey, ComponentKey, EvseShape, StationShape, VariableKey
from kilowatt.messages import Request, v201
from kilowatt.messages.v201 import (
    ChargingLimitSourceEnumType as Source,
    ChargingProfileKindEnumType as Kind,
    ChargingProfilePurposeEnumType as Purpose,
    ChargingRateUnitEnumType as Unit,
)
from kilowatt.smartcharging import InstalledProfile
from kilowatt.station.config import StationConfig
from kilowatt.station.evse import Transaction
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.smart_charging import (
    charging_rate_changed,
    follow_limits,
    significant_change,
)
from kilowatt.station.station import Station

T0 = datetime(2025, 1, 6, tzinfo=UTC)
SHAPE = StationShape(
    identity="CS-K",
    vendor_name="Acme",
    model="M1",
    evses=(EvseShape(22000.0), EvseShape(11000.0)),
)
SMART = ComponentKey("SmartChargingCtrlr")
ACTUAL = v201.AttributeEnumType.ACTUAL
ENTRIES = AttributeKey(SMART, VariableKey("Entries", "ChargingProfiles"), ACTUAL)
ROUTER = ocpp201_router()


@dataclass
class Rig:
    station: Station
    clock: ManualClock
    sent: list[Any] = field(default_factory=list)

    async def call(self, request: Request[Any]) -> Any:
        return await ROUTER.handler_for(request)(request, self.station)

    def set_value(self, component: ComponentKey, variable: str, value: str) -> None:
        key = AttributeKey(component, VariableKey(variable), ACTUAL)
        self.station.set_model(self.station.model.with_values({key: value}))

    def start_transaction(self, evse_id: int, transaction_id: str) -> None:
        evse = self.station.evses[evse_id]
        evse.transaction = Transaction(id=transaction_id, started_at=self.clock.now())


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Rig:
    clock = ManualClock(T0)
    station = Station(
        StationConfig(shape=SHAPE, csms_url="ws://unused"), ROUTER.handler_for, clock=clock
    )
    rig = Rig(station, clock)

    async def send(request: Request[Any]) -> Any:
        rig.sent.append(request)
        return object()  # an answer: the station only checks that there is one

    monkeypatch.setattr(station, "send", send)
    return rig


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def profile(
    profile_id: int,
    *,
    purpose: Purpose = Purpose.TX_DEFAULT_PROFILE,
    kind: Kind = Kind.ABSOLUTE,
    stack_level: int = 0,
    periods: Sequence[tuple[int, float]] = ((0, 7000.0),),
    unit: Unit = Unit.W,
    start: datetime | None = T0,
    transaction_id: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> v201.ChargingProfileType:
    return v201.ChargingProfileType(
        id=profile_id,
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        transaction_id=transaction_id if transaction_id is not None else UNSET,
        valid_from=valid_from if valid_from is not None else UNSET,
        valid_to=valid_to if valid_to is not None else UNSET,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=start if start is not None else UNSET,
                charging_rate_unit=unit,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=start_period, limit=limit)
                    for start_period, limit in periods
                ],
            )
        ],
    )


def set_profile(evse_id: int, charging_profile: v201.ChargingProfileType) -> Any:
    return v201.SetChargingProfileRequest(evse_id=evse_id, charging_profile=charging_profile)


STEP_DOWN = profile(1, periods=((0, 11000.0), (600, 4000.0)))


# -- SetChargingProfile (K01) ------------------------------------------------------------------


async def test_an_accepted_profile_is_installed_counted_and_limits_the_evses(rig: Rig) -> None:
    station = rig.station
    assert station.limit_w(station.evses[1]) == 22000.0

    response = await rig.call(set_profile(0, profile(1)))

    assert response.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert [entry.profile.id for entry in station.profiles.installed] == [1]
    assert station.model.values[ENTRIES] == "1"
    assert station.limit_w(station.evses[1]) == 7000.0
    assert station.limit_w(station.evses[2]) == 7000.0


async def test_a_profile_with_an_installed_id_replaces_it(rig: Rig) -> None:
    await rig.call(set_profile(0, profile(1)))
    response = await rig.call(set_profile(1, profile(1, periods=((0, 5000.0),))))

    assert response.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert [(e.profile.id, e.evse_id) for e in rig.station.profiles.installed] == [(1, 1)]
    assert rig.station.model.values[ENTRIES] == "1"
    assert rig.station.limit_w(rig.station.evses[1]) == 5000.0
    assert rig.station.limit_w(rig.station.evses[2]) == 11000.0


async def test_a_refused_profile_is_rejected_with_the_rule_it_breaks(rig: Rig) -> None:
    response = await rig.call(
        set_profile(1, profile(1, purpose=Purpose.CHARGING_STATION_MAX_PROFILE))
    )

    assert response.status == v201.ChargingProfileStatusEnumType.REJECTED
    assert response.status_info.reason_code == "InvalidProfile"
    assert "K04.FR.03" in response.status_info.additional_info
    assert rig.station.profiles.installed == ()
    assert rig.station.model.values[ENTRIES] == "0"


async def test_smart_charging_disabled_rejects_every_profile(rig: Rig) -> None:
    rig.set_value(SMART, "Enabled", "false")

    response = await rig.call(set_profile(0, profile(1)))

    assert response.status == v201.ChargingProfileStatusEnumType.REJECTED
    assert response.status_info.reason_code == "NotEnabled"
    assert rig.station.profiles.installed == ()


async def test_a_tx_profile_needs_the_transaction_running_on_its_evse(rig: Rig) -> None:
    rig.start_transaction(1, "tx-1")
    tx_profile = profile(
        7, purpose=Purpose.TX_PROFILE, kind=Kind.RELATIVE, start=None, transaction_id="tx-1"
    )

    wrong_evse = await rig.call(set_profile(2, tx_profile))
    right_evse = await rig.call(set_profile(1, tx_profile))

    assert wrong_evse.status == v201.ChargingProfileStatusEnumType.REJECTED
    assert wrong_evse.status_info.reason_code == "TxNotFound"
    assert right_evse.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert rig.station.limit_w(rig.station.evses[1]) == 7000.0


async def test_a_full_station_rejects_a_new_profile_but_still_replaces(rig: Rig) -> None:
    for day in range(100):
        response = await rig.call(
            set_profile(
                1,
                profile(
                    day + 1,
                    valid_from=T0 + timedelta(days=day),
                    valid_to=T0 + timedelta(days=day + 1),
                ),
            )
        )
        assert response.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert rig.station.model.values[ENTRIES] == "100"

    one_more = await rig.call(set_profile(2, profile(101)))
    replacing = await rig.call(
        set_profile(1, profile(1, valid_to=T0 + timedelta(days=1), periods=((0, 6000.0),)))
    )

    assert one_more.status == v201.ChargingProfileStatusEnumType.REJECTED
    assert one_more.status_info.reason_code == "NoCapacity"
    assert replacing.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert len(rig.station.profiles.installed) == 100


# -- GetChargingProfiles (K09) -----------------------------------------------------------------


async def install_mix(rig: Rig) -> None:
    await rig.call(set_profile(0, profile(1, stack_level=2)))
    await rig.call(
        set_profile(0, profile(2, stack_level=1, purpose=Purpose.CHARGING_STATION_MAX_PROFILE))
    )
    await rig.call(set_profile(1, profile(3, stack_level=3)))
    external = InstalledProfile(
        profile(9, purpose=Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS), 1, Source.EMS
    )
    rig.station.profiles.replace((*rig.station.profiles.installed, external))


async def test_profiles_are_reported_per_source_and_evse_after_the_answer(rig: Rig) -> None:
    await install_mix(rig)

    response = await rig.call(
        v201.GetChargingProfilesRequest(
            request_id=42, charging_profile=v201.ChargingProfileCriterionType()
        )
    )
    assert rig.sent == []  # the reports follow the response
    await settle()

    assert response.status == v201.GetChargingProfileStatusEnumType.ACCEPTED
    reports = [
        (
            r.request_id,
            r.charging_limit_source,
            r.evse_id,
            [p.id for p in r.charging_profile],
            r.tbc,
        )
        for r in rig.sent
    ]
    assert reports == [
        (42, Source.CSO, 0, [2, 1], True),  # by stackLevel, lowest first
        (42, Source.CSO, 1, [3], True),
        (42, Source.EMS, 1, [9], False),
    ]


async def test_profiles_are_reported_for_the_evse_and_criteria_asked(rig: Rig) -> None:
    await install_mix(rig)

    response = await rig.call(
        v201.GetChargingProfilesRequest(
            request_id=7,
            evse_id=1,
            charging_profile=v201.ChargingProfileCriterionType(charging_limit_source=[Source.CSO]),
        )
    )
    await settle()

    assert response.status == v201.GetChargingProfileStatusEnumType.ACCEPTED
    assert [(r.evse_id, [p.id for p in r.charging_profile], r.tbc) for r in rig.sent] == [
        (1, [3], False)
    ]


async def test_no_matching_profile_answers_no_profiles_and_sends_nothing(rig: Rig) -> None:
    await install_mix(rig)

    response = await rig.call(
        v201.GetChargingProfilesRequest(
            request_id=1,
            charging_profile=v201.ChargingProfileCriterionType(charging_limit_source=[Source.SO]),
        )
    )
    await settle()

    assert response.status == v201.GetChargingProfileStatusEnumType.NO_PROFILES
    assert rig.sent == []


# -- ClearChargingProfile (K10) ----------------------------------------------------------------


async def test_clearing_by_id_removes_the_profile_and_lifts_its_limit(rig: Rig) -> None:
    await rig.call(set_profile(0, profile(1)))
    await rig.call(set_profile(1, profile(2, stack_level=1, periods=((0, 3000.0),))))
    assert rig.station.limit_w(rig.station.evses[1]) == 3000.0

    response = await rig.call(v201.ClearChargingProfileRequest(charging_profile_id=2))

    assert response.status == v201.ClearChargingProfileStatusEnumType.ACCEPTED
    assert [e.profile.id for e in rig.station.profiles.installed] == [1]
    assert rig.station.model.values[ENTRIES] == "1"
    assert rig.station.limit_w(rig.station.evses[1]) == 7000.0


async def test_clearing_an_unknown_id_answers_unknown(rig: Rig) -> None:
    await rig.call(set_profile(0, profile(1)))

    response = await rig.call(v201.ClearChargingProfileRequest(charging_profile_id=99))

    assert response.status == v201.ClearChargingProfileStatusEnumType.UNKNOWN
    assert len(rig.station.profiles.installed) == 1


async def test_clearing_by_criteria_removes_only_the_matching_profiles(rig: Rig) -> None:
    await install_mix(rig)

    response = await rig.call(
        v201.ClearChargingProfileRequest(
            charging_profile_criteria=v201.ClearChargingProfileType(
                evse_id=0, charging_profile_purpose=Purpose.TX_DEFAULT_PROFILE
            )
        )
    )
    nothing = await rig.call(
        v201.ClearChargingProfileRequest(
            charging_profile_criteria=v201.ClearChargingProfileType(stack_level=8)
        )
    )

    assert response.status == v201.ClearChargingProfileStatusEnumType.ACCEPTED
    assert nothing.status == v201.ClearChargingProfileStatusEnumType.UNKNOWN
    assert sorted(e.profile.id for e in rig.station.profiles.installed) == [2, 3, 9]
    assert rig.station.model.values[ENTRIES] == "3"


async def test_clearing_without_id_or_criteria_clears_everything(rig: Rig) -> None:
    await install_mix(rig)

    response = await rig.call(v201.ClearChargingProfileRequest())

    assert response.status == v201.ClearChargingProfileStatusEnumType.ACCEPTED
    assert rig.station.profiles.installed == ()
    assert rig.station.model.values[ENTRIES] == "0"


# -- GetCompositeSchedule (K08) ----------------------------------------------------------------


async def test_the_composite_schedule_is_the_limit_over_time(rig: Rig) -> None:
    await rig.call(set_profile(0, STEP_DOWN))
    await rig.clock.advance(100)

    response = await rig.call(
        v201.GetCompositeScheduleRequest(duration=1200, evse_id=1, charging_rate_unit=Unit.W)
    )

    assert response.status == v201.GenericStatusEnumType.ACCEPTED
    schedule = response.schedule
    assert (schedule.evse_id, schedule.duration, schedule.charging_rate_unit) == (1, 1200, Unit.W)
    assert schedule.schedule_start == T0 + timedelta(seconds=100)
    assert [(p.start_period, p.limit) for p in schedule.charging_schedule_period] == [
        (0, 11000.0),
        (500, 4000.0),
    ]


async def test_the_station_schedule_adds_up_its_evses(rig: Rig) -> None:
    await rig.call(set_profile(1, profile(1, periods=((0, 5000.0),))))

    response = await rig.call(
        v201.GetCompositeScheduleRequest(duration=60, evse_id=0, charging_rate_unit=Unit.W)
    )

    assert response.status == v201.GenericStatusEnumType.ACCEPTED
    assert [p.limit for p in response.schedule.charging_schedule_period] == [5000.0 + 11000.0]


async def test_without_a_unit_the_schedule_is_in_the_first_rate_unit(rig: Rig) -> None:
    await rig.call(set_profile(0, profile(1, periods=((0, 6900.0),))))

    in_amps = await rig.call(v201.GetCompositeScheduleRequest(duration=60, evse_id=1))
    rig.set_value(SMART, "RateUnit", "W,A")
    in_watts = await rig.call(v201.GetCompositeScheduleRequest(duration=60, evse_id=1))

    assert in_amps.schedule.charging_rate_unit == Unit.A
    assert [p.limit for p in in_amps.schedule.charging_schedule_period] == [10.0]  # 6900/230/3
    assert in_watts.schedule.charging_rate_unit == Unit.W
    assert [p.limit for p in in_watts.schedule.charging_schedule_period] == [6900.0]


async def test_an_unknown_evse_is_rejected(rig: Rig) -> None:
    response = await rig.call(v201.GetCompositeScheduleRequest(duration=60, evse_id=3))

    assert response.status == v201.GenericStatusEnumType.REJECTED
    assert response.status_info.reason_code == "UnknownEvse"
    assert response.schedule is UNSET


async def test_an_unsupported_unit_is_rejected(rig: Rig) -> None:
    rig.set_value(SMART, "RateUnit", "W")

    response = await rig.call(
        v201.GetCompositeScheduleRequest(duration=60, evse_id=1, charging_rate_unit=Unit.A)
    )

    assert response.status == v201.GenericStatusEnumType.REJECTED
    assert response.status_info.reason_code == "UnsupportedRateUnit"


# -- limits that change with time ----------------------------------------------------------------


async def test_next_change_is_the_next_step_of_any_evse(rig: Rig) -> None:
    profiles = rig.station.profiles
    model = rig.station.model
    assert profiles.next_change(model, T0, {}) is None

    await rig.call(set_profile(0, profile(1)))
    assert profiles.next_change(model, T0, {}) is None  # a constant limit

    await rig.call(set_profile(2, profile(2, stack_level=1, periods=((0, 6000.0), (300, 2000.0)))))
    await rig.call(set_profile(1, profile(3, stack_level=1, periods=((0, 6000.0), (900, 0.0)))))
    assert profiles.next_change(model, T0 + timedelta(seconds=10), {}) == T0 + timedelta(
        seconds=300
    )
    assert profiles.next_change(model, T0, {}, evse_ids=[1]) == T0 + timedelta(seconds=900)
    assert profiles.next_change(model, T0 + timedelta(seconds=900), {}) is None


async def test_a_limit_stepping_down_wakes_the_station_at_the_step(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = rig.station
    evse = station.evses[1]
    await rig.call(set_profile(0, STEP_DOWN))
    rig.start_transaction(1, "tx-1")
    applied: list[tuple[datetime, float]] = []
    monkeypatch.setattr(
        station, "limit_changed", lambda: applied.append((rig.clock.now(), station.limit_w(evse)))
    )
    follower = asyncio.create_task(follow_limits(station))
    try:
        await settle()
        await rig.clock.advance(599)
        assert applied == []
        assert station.limit_w(evse) == 11000.0

        await rig.clock.advance(1)

        assert applied == [(T0 + timedelta(seconds=600), 4000.0)]
        assert station.limit_w(evse) == 4000.0
    finally:
        follower.cancel()


async def test_a_new_profile_makes_the_follower_look_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = rig.station
    await rig.call(set_profile(0, STEP_DOWN))
    rig.start_transaction(1, "tx-1")
    woken: list[datetime] = []
    monkeypatch.setattr(station, "limit_changed", lambda: woken.append(rig.clock.now()))
    follower = asyncio.create_task(follow_limits(station))
    try:
        await settle()
        await rig.call(
            set_profile(1, profile(2, stack_level=1, periods=((0, 9000.0), (100, 1000.0))))
        )
        await settle()
        assert woken == [T0]  # by the handler; the follower does not apply it again

        await rig.clock.advance(100)

        assert woken == [T0, T0 + timedelta(seconds=100)]
        assert station.limit_w(station.evses[1]) == 1000.0
    finally:
        follower.cancel()


async def test_the_follower_watches_only_evses_with_a_transaction(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = rig.station
    await rig.call(set_profile(0, profile(1, periods=((0, 11000.0), (600, 4000.0), (900, 2000.0)))))
    woken: list[datetime] = []
    monkeypatch.setattr(station, "limit_changed", lambda: woken.append(rig.clock.now()))
    follower = asyncio.create_task(follow_limits(station))
    try:
        await settle()
        await rig.clock.advance(700)
        assert woken == []  # a step at 600, but no transaction to apply it to

        rig.start_transaction(2, "tx-2")
        station.profiles.wake()
        await settle()
        await rig.clock.advance(200)

        assert woken == [T0 + timedelta(seconds=900)]
    finally:
        follower.cancel()


# -- LimitChangeSignificance -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (10000.0, 10000.0, False),
        (10000.0, 10099.0, False),  # 0.99 %
        (10000.0, 10100.0, False),  # exactly 1 %: not more than
        (10000.0, 10101.0, True),
        (10000.0, 9899.0, True),  # downwards too
        (0.0, 1.0, True),
        (4000.0, 0.0, True),
    ],
)
def test_a_change_is_significant_above_the_percentage(
    previous: float, current: float, expected: bool
) -> None:
    assert significant_change(previous, current, Decimal("1.0")) is expected


def test_the_rate_change_is_measured_from_the_limit_last_reported() -> None:
    tx = Transaction(id="tx-1", started_at=T0)
    significance = Decimal("1.0")

    assert charging_rate_changed(tx, 10000.0, significance) is False  # the first limit
    assert charging_rate_changed(tx, 10060.0, significance) is False
    assert tx.limit_w == 10000.0
    assert charging_rate_changed(tx, 10120.0, significance) is True  # 1.2 % since reported
    assert tx.limit_w == 10120.0
    assert charging_rate_changed(tx, 10120.0, significance) is False
