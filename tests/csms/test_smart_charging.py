"""K Smart charging at the CSMS: stations' reports stored, ISO 15118 needs answered with a
TxProfile, EV schedules checked against it, and the operator's use cases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.csms import smart_charging
from kilowatt.csms.smart_charging import ProfileRefused, plan_tx_profile, same_schedule
from kilowatt.csms.store import VariableRecord
from kilowatt.messages import v201

from .conftest import Station, World

T0 = datetime(2025, 1, 1, tzinfo=UTC)  # the ManualClock's start
A = v201.ChargingRateUnitEnumType.A
W = v201.ChargingRateUnitEnumType.W
TX = v201.ChargingProfilePurposeEnumType.TX_PROFILE
ACCEPTED = v201.ChargingProfileStatusEnumType.ACCEPTED


def period(start: int, limit: float) -> v201.ChargingSchedulePeriodType:
    return v201.ChargingSchedulePeriodType(start_period=start, limit=limit)


def tx_profile(
    profile_id: int, transaction_id: str, *periods: tuple[int, float], unit: Any = A
) -> v201.ChargingProfileType:
    return v201.ChargingProfileType(
        id=profile_id,
        stack_level=0,
        charging_profile_purpose=TX,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=T0,
                charging_rate_unit=unit,
                charging_schedule_period=[period(s, limit) for s, limit in periods],
            )
        ],
        transaction_id=transaction_id,
    )


def variable(component: str, name: str, value: str, evse: int = -1, **kw: Any) -> VariableRecord:
    return VariableRecord("CP-1", component, name, evse_id=evse, value=value, **kw)


DEVICE_MODEL = [
    variable("ChargingStation", "SupplyPhases", "3"),
    variable("EVSE", "Power", "11040", evse=1, attribute_type="MaxSet"),
    variable("EVSE", "Power", "0", evse=1),
    variable("EVSE", "SupplyPhases", "3", evse=1),
    variable("SmartChargingCtrlr", "RateUnit", "A,W"),
    variable("SmartChargingCtrlr", "ProfileStackLevel", "10"),
    variable("SmartChargingCtrlr", "PeriodsPerSchedule", "24"),
]


class Answers:
    """The station's side of CSMS calls: records them, answers with ``status``."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.arrived = asyncio.Event()
        self.set_status = ACCEPTED

    async def __call__(self, request: object) -> object:
        self.calls.append(request)
        self.arrived.set()
        match request:
            case v201.SetChargingProfileRequest():
                return v201.SetChargingProfileResponse(status=self.set_status)
            case v201.ClearChargingProfileRequest():
                return v201.ClearChargingProfileResponse(
                    status=v201.ClearChargingProfileStatusEnumType.ACCEPTED
                )
        raise AssertionError(f"unexpected {request!r}")

    async def next_call(self) -> Any:
        async with asyncio.timeout(5):
            while not self.calls:
                self.arrived.clear()
                await self.arrived.wait()
        return self.calls.pop(0)


async def started(station: Station, transaction_id: str = "TX-1", evse_id: int = 1) -> None:
    await station.call(
        v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnumType.STARTED,
            timestamp=T0,
            trigger_reason=v201.TriggerReasonEnumType.CABLE_PLUGGED_IN,
            seq_no=0,
            transaction_info=v201.TransactionType(transaction_id=transaction_id),
            evse=v201.EVSEType(id=evse_id, connector_id=1),
        )
    )


async def follow_ups(world: World) -> None:
    """Wait for the handlers' follow-ups (ctx.then) to end."""
    async with asyncio.timeout(5):
        while world.csms.services.background:
            await asyncio.gather(*world.csms.services.background)


@pytest.fixture
async def answers() -> Answers:
    return Answers()


@pytest.fixture
async def booted(world: World, answers: Answers) -> Station:
    await world.store.put_variables(DEVICE_MODEL)
    station = await world.station(handler=answers)
    await station.boot()
    return station


# -- reports ------------------------------------------------------------------------------------


def report(request_id: int, evse_id: int, *ids: int, tbc: bool = False, source: str = "CSO") -> Any:
    return v201.ReportChargingProfilesRequest(
        request_id=request_id,
        charging_limit_source=v201.ChargingLimitSourceEnumType(source),
        charging_profile=[tx_profile(i, "TX-1", (0, 16.0)) for i in ids],
        tbc=tbc,
        evse_id=evse_id,
    )


async def test_reported_profiles_are_stored_and_replaced_by_a_later_report(
    world: World, booted: Station
) -> None:
    await booted.call(report(5, 1, 1, 2, tbc=True))
    await booted.call(report(5, 1, 3, source="EMS"))
    stored = await world.store.charging_profiles("CP-1")
    assert [(r.source, r.profile_id, r.charging_limit_source, r.request_id) for r in stored] == [
        ("station", 1, "CSO", 5),
        ("station", 2, "CSO", 5),
        ("station", 3, "EMS", 5),
    ]
    assert smart_charging.profile_of(stored[0]) == tx_profile(1, "TX-1", (0, 16.0))
    assert stored[0].purpose == "TxProfile" and stored[0].transaction_id == "TX-1"

    await booted.call(report(6, 1, 2))
    assert [r.profile_id for r in await world.store.charging_profiles("CP-1")] == [2]
    # The reports are kept as they came, too.
    kept = await world.store.notifications("CP-1", action="ReportChargingProfiles")
    assert [n.request_id for n in kept] == [6, 5, 5]


async def test_external_limits_are_stored_and_cleared(world: World, booted: Station) -> None:
    schedule = v201.ChargingScheduleType(
        id=3, charging_rate_unit=W, charging_schedule_period=[period(0, 7000.0)]
    )
    await booted.call(
        v201.NotifyChargingLimitRequest(
            charging_limit=v201.ChargingLimitType(
                charging_limit_source=v201.ChargingLimitSourceEnumType.SO, is_grid_critical=True
            ),
            charging_schedule=[schedule],
            evse_id=1,
        )
    )
    await booted.call(
        v201.NotifyChargingLimitRequest(
            charging_limit=v201.ChargingLimitType(
                charging_limit_source=v201.ChargingLimitSourceEnumType.EMS
            )
        )
    )
    limits = await world.store.charging_limits("CP-1")
    assert [(r.evse_id, r.charging_limit_source, r.is_grid_critical) for r in limits] == [
        (0, "EMS", None),
        (1, "SO", True),
    ]
    assert limits[1].schedules == [
        {
            "id": 3,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}],
        }
    ]
    assert limits[1].received_at == T0

    await booted.call(
        v201.ClearedChargingLimitRequest(
            charging_limit_source=v201.ChargingLimitSourceEnumType.SO, evse_id=1
        )
    )
    assert [r.charging_limit_source for r in await world.store.charging_limits("CP-1")] == ["EMS"]
    await booted.call(
        v201.ClearedChargingLimitRequest(charging_limit_source=v201.ChargingLimitSourceEnumType.EMS)
    )
    assert await world.store.charging_limits("CP-1") == []
    kept = await world.store.notifications("CP-1")
    assert [n.action for n in kept].count("NotifyChargingLimit") == 2


# -- K15: the EV's needs ---------------------------------------------------------------------


def ac_needs(
    max_current: int = 32,
    *,
    min_current: int = 6,
    energy: int = 20000,
    departure: datetime | None = None,
    evse_id: int = 1,
    tuples: int | None = None,
) -> v201.NotifyEVChargingNeedsRequest:
    return v201.NotifyEVChargingNeedsRequest(
        charging_needs=v201.ChargingNeedsType(
            ac_charging_parameters=v201.ACChargingParametersType(
                energy_amount=energy,
                ev_min_current=min_current,
                ev_max_current=max_current,
                ev_max_voltage=400,
            ),
            requested_energy_transfer=v201.EnergyTransferModeEnumType.AC_THREE_PHASE,
            departure_time=departure if departure is not None else UNSET,
        ),
        evse_id=evse_id,
        max_schedule_tuples=tuples if tuples is not None else UNSET,
    )


def periods(profile: v201.ChargingProfileType) -> list[tuple[int, float]]:
    schedule = profile.charging_schedule[0]
    return [(p.start_period, p.limit) for p in schedule.charging_schedule_period]


async def test_ev_needs_without_a_transaction_are_rejected(
    booted: Station, answers: Answers
) -> None:
    answer = await booted.call(ac_needs())
    assert answer.status == v201.NotifyEVChargingNeedsStatusEnumType.REJECTED
    assert answer.status_info.reason_code == "TxNotFound"
    await asyncio.sleep(0.05)
    assert answers.calls == []


async def test_ev_needs_get_a_tx_profile_within_the_evse_maximum(
    world: World, booted: Station, answers: Answers
) -> None:
    await started(booted)
    answer = await booted.call(ac_needs(32))
    assert answer.status == v201.NotifyEVChargingNeedsStatusEnumType.ACCEPTED

    sent = await answers.next_call()
    assert isinstance(sent, v201.SetChargingProfileRequest)
    assert sent.evse_id == 1
    profile = sent.charging_profile
    assert profile.charging_profile_purpose == TX
    assert profile.transaction_id == "TX-1"
    assert profile.charging_schedule[0].charging_rate_unit == A
    # 11040 W over 3 x 230 V is 16 A, below the EV's 32 A.
    assert periods(profile) == [(0, 16.0)]
    await follow_ups(world)
    [stored] = await world.store.charging_profiles("CP-1", source="csms")
    assert stored.profile_id == profile.id and stored.transaction_id == "TX-1"

    # Needs again: the same TxProfile is replaced (same id), not a second one added.
    await booted.call(ac_needs(10))
    again = (await answers.next_call()).charging_profile
    assert again.id == profile.id and periods(again) == [(0, 10.0)]
    await follow_ups(world)
    assert len(await world.store.charging_profiles("CP-1", source="csms")) == 1


async def test_the_allowance_hook_limits_the_tx_profile(
    world: World, booted: Station, answers: Answers
) -> None:
    asked: list[tuple[str, int]] = []

    async def allowance(station_id: str, evse_id: int) -> float | None:
        asked.append((station_id, evse_id))
        return 4140.0  # 6 A on three phases

    world.csms.services.charging_allowance = allowance
    await started(booted)
    await booted.call(ac_needs(32))
    assert periods((await answers.next_call()).charging_profile) == [(0, 6.0)]
    assert asked == [("CP-1", 1)]


async def test_a_departure_time_spreads_the_energy(
    world: World, booted: Station, answers: Answers
) -> None:
    await started(booted)
    # 20 kWh in 4 h: 5 kW, 7.25 A on three phases: 7.3 A, then the 16 A maximum.
    await booted.call(ac_needs(32, departure=T0 + timedelta(hours=4)))
    assert periods((await answers.next_call()).charging_profile) == [(0, 7.3), (14400, 16.0)]
    # One schedule tuple only: the steady rate.
    await booted.call(ac_needs(32, departure=T0 + timedelta(hours=4), tuples=1))
    assert periods((await answers.next_call()).charging_profile) == [(0, 7.3)]
    # Too little time to deliver it below the maximum: the maximum throughout.
    await booted.call(ac_needs(32, departure=T0 + timedelta(minutes=30)))
    assert periods((await answers.next_call()).charging_profile) == [(0, 16.0)]


def test_plan_for_a_dc_ev_is_in_watts() -> None:
    needs = v201.NotifyEVChargingNeedsRequest(
        charging_needs=v201.ChargingNeedsType(
            dc_charging_parameters=v201.DCChargingParametersType(
                ev_max_current=200, ev_max_voltage=400, energy_amount=30000
            ),
            requested_energy_transfer=v201.EnergyTransferModeEnumType.DC,
            departure_time=T0 + timedelta(hours=2),
        ),
        evse_id=1,
    )

    def plan(allowance: float | None) -> v201.ChargingProfileType | None:
        return plan_tx_profile(
            needs,
            profile_id=4,
            stack_level=2,
            transaction_id="T",
            now=T0 + timedelta(microseconds=500),
            allowance_w=allowance,
        )

    unlimited = plan(None)
    assert unlimited is not None
    assert unlimited.charging_schedule[0].charging_rate_unit == W
    assert unlimited.charging_schedule[0].start_schedule == T0
    # 30 kWh in 2 h: 15 kW, then the EV's 200 A x 400 V.
    assert periods(unlimited) == [(0, 15000.0), (7200, 80000.0)]
    limited = plan(12000.0)
    assert limited is not None and periods(limited) == [(0, 12000.0)]
    assert (limited.id, limited.stack_level, limited.transaction_id) == (4, 2, "T")


def test_plan_without_any_maximum_is_none() -> None:
    needs = v201.NotifyEVChargingNeedsRequest(
        charging_needs=v201.ChargingNeedsType(
            requested_energy_transfer=v201.EnergyTransferModeEnumType.AC_SINGLE_PHASE
        ),
        evse_id=1,
    )
    kwargs: dict[str, Any] = {"profile_id": 1, "stack_level": 0, "transaction_id": "T", "now": T0}
    assert plan_tx_profile(needs, allowance_w=None, **kwargs) is None
    single = plan_tx_profile(needs, allowance_w=2300.0, phases=1, voltage=Decimal(230), **kwargs)
    assert single is not None and periods(single) == [(0, 10.0)]


# -- K17: the EV's schedule --------------------------------------------------------------------


def ev_schedule(*spans: tuple[int, float], unit: Any = A, evse_id: int = 1) -> Any:
    return v201.NotifyEVChargingScheduleRequest(
        time_base=T0,
        charging_schedule=v201.ChargingScheduleType(
            id=1,
            charging_rate_unit=unit,
            charging_schedule_period=[period(s, limit) for s, limit in spans],
        ),
        evse_id=evse_id,
    )


async def test_an_ev_schedule_within_the_tx_profile_is_accepted_above_rejected(
    world: World, booted: Station, answers: Answers
) -> None:
    await started(booted)
    # Before the CSMS set a TxProfile there is nothing to exceed.
    free = await booted.call(ev_schedule((0, 32.0)))
    assert free.status == v201.GenericStatusEnumType.ACCEPTED

    profile = tx_profile(1, "TX-1", (0, 16.0), (3600, 10.0))
    answer = await smart_charging.set_charging_profile(world.csms, "CP-1", 1, profile)
    assert answer.status == ACCEPTED

    within = await booted.call(ev_schedule((0, 16.0), (1800, 12.0), (3600, 10.0)))
    assert within.status == v201.GenericStatusEnumType.ACCEPTED
    # In W: 16 A x 230 V x 3 = 11040 W.
    in_watts = await booted.call(ev_schedule((0, 11040.0), (3600, 6900.0), unit=W))
    assert in_watts.status == v201.GenericStatusEnumType.ACCEPTED

    over = await booted.call(ev_schedule((0, 16.0), (3000, 11.0)))
    assert over.status == v201.GenericStatusEnumType.REJECTED
    assert over.status_info.reason_code == "ExceedsProfile"
    assert "3000" in over.status_info.additional_info
    above_at_once = await booted.call(ev_schedule((0, 16.5)))
    assert above_at_once.status == v201.GenericStatusEnumType.REJECTED
    in_watts_over = await booted.call(ev_schedule((0, 11100.0), unit=W))
    assert in_watts_over.status == v201.GenericStatusEnumType.REJECTED


# -- the operator's use cases ------------------------------------------------------------------


async def test_set_refuses_what_the_station_would_refuse_without_sending(
    world: World, booted: Station, answers: Answers
) -> None:
    station_max = v201.ChargingProfileType(
        id=2,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.CHARGING_STATION_MAX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=T0,
                charging_rate_unit=W,
                charging_schedule_period=[period(0, 1.0)],
            )
        ],
    )
    with pytest.raises(ProfileRefused) as refused:
        await smart_charging.set_charging_profile(world.csms, "CP-1", 1, station_max)
    assert refused.value.requirement == "K04.FR.03"
    # A TxProfile without a transaction (K01.FR.09), on an EVSE the station does not have
    # (K01.FR.28), above the stack levels it has (ProfileStackLevel 10).
    with pytest.raises(ProfileRefused, match=r"K01\.FR\.09"):
        await smart_charging.set_charging_profile(
            world.csms, "CP-1", 1, tx_profile(3, "TX-9", (0, 8.0))
        )
    with pytest.raises(ProfileRefused, match=r"K01\.FR\.28"):
        await smart_charging.set_charging_profile(world.csms, "CP-1", 2, station_max)
    await started(booted)
    high = tx_profile(3, "TX-1", (0, 8.0))
    with pytest.raises(ProfileRefused, match="ProfileStackLevel"):
        await smart_charging.set_charging_profile(
            world.csms, "CP-1", 1, v201.ChargingProfileType(**{**_fields(high), "stack_level": 11})
        )
    assert answers.calls == []
    assert await world.store.charging_profiles("CP-1") == []


def _fields(profile: v201.ChargingProfileType) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in profile.__struct_fields__}


async def test_a_profile_the_station_rejects_is_not_stored(
    world: World, booted: Station, answers: Answers
) -> None:
    await started(booted)
    answers.set_status = v201.ChargingProfileStatusEnumType.REJECTED
    answer = await smart_charging.set_charging_profile(
        world.csms, "CP-1", 1, tx_profile(3, "TX-1", (0, 8.0))
    )
    assert answer.status == v201.ChargingProfileStatusEnumType.REJECTED
    assert len(answers.calls) == 1
    assert await world.store.charging_profiles("CP-1") == []


async def test_clear_by_criteria_forgets_what_the_station_cleared(
    world: World, booted: Station, answers: Answers
) -> None:
    await started(booted)
    await smart_charging.set_charging_profile(
        world.csms, "CP-1", 1, tx_profile(1, "TX-1", (0, 8.0))
    )
    default = v201.ChargingProfileType(
        id=2,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_DEFAULT_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=T0,
                charging_rate_unit=A,
                charging_schedule_period=[period(0, 6.0)],
            )
        ],
    )
    await smart_charging.set_charging_profile(world.csms, "CP-1", 0, default)
    await booted.call(report(7, 1, 1))  # the station reports profile 1 too
    answers.calls.clear()

    answer = await smart_charging.clear_charging_profile(world.csms, "CP-1", purpose=TX)
    assert answer.status == v201.ClearChargingProfileStatusEnumType.ACCEPTED
    [sent] = answers.calls
    assert sent.charging_profile_criteria.charging_profile_purpose == TX
    assert [(r.source, r.profile_id) for r in await world.store.charging_profiles("CP-1")] == [
        ("csms", 2)
    ]


def test_same_schedule_has_a_tolerance_of_a_tenth() -> None:
    def composite(*spans: tuple[int, float], unit: Any = A) -> v201.CompositeScheduleType:
        return v201.CompositeScheduleType(
            charging_schedule_period=[period(s, limit) for s, limit in spans],
            evse_id=1,
            duration=60,
            schedule_start=T0,
            charging_rate_unit=unit,
        )

    base = composite((0, 16.0), (30, 8.0))
    assert same_schedule(composite((0, 16.1), (30, 7.9)), base)
    assert not same_schedule(composite((0, 16.2), (30, 8.0)), base)
    assert not same_schedule(composite((0, 16.0), (31, 8.0)), base)
    assert not same_schedule(composite((0, 16.0)), base)
    assert not same_schedule(composite((0, 16.0), (30, 8.0), unit=W), base)
