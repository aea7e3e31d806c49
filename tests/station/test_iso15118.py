"""ISO 15118 EVs at the station (K15-K17): the needs and the EV's plan as pure functions; the
exchange on a ManualClock against a scripted CSMS (needs at transaction start, a plan within a
TxProfile, renegotiation after Rejected); and end to end against kilowatt's own CSMS."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.clock import ManualClock
from kilowatt.messages import v201
from kilowatt.station.config import StationConfig
from kilowatt.station.ev import EvSpec
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.iso15118 import MAX_ATTEMPTS, MAX_PLAN_PERIODS, charging_needs, ev_schedule
from kilowatt.station.station import Station
from tests.station.live import QUICK, running_station
from tests.station.rig import shape
from tests.station.test_against_csms import PASSWORD, TOKEN as TAG, Csms_, csms, until
from tests.station.test_runtime import T0, TOKEN, ScriptedCsms, Setup, actions, settle

__all__ = ["csms"]  # the fixture, imported for pytest

A = v201.ChargingRateUnitEnumType.A
Status = v201.GenericStatusEnumType
Period = v201.ChargingSchedulePeriodType
# Charges 30 kWh (30 % to 80 % of 60 kWh), at 6 A to 16 A on three phases, and leaves 4 h after
# plug-in.
EV = EvSpec(
    battery_wh=60_000.0,
    max_power_w=11_000.0,
    min_power_w=4_140.0,
    initial_soc=30.0,
    target_soc=80.0,
    iso15118=True,
    departure_seconds=4 * 3600,
)


# -- the pure parts ----------------------------------------------------------------------------


def test_needs_of_a_three_phase_ev_with_a_departure() -> None:
    departure = T0 + timedelta(hours=4, microseconds=500)
    needs = charging_needs(EV, evse_id=2, phases=3, voltage=230.0, soc=40.0, departure=departure)
    assert needs == v201.NotifyEVChargingNeedsRequest(
        evse_id=2,
        max_schedule_tuples=24,
        charging_needs=v201.ChargingNeedsType(
            requested_energy_transfer=v201.EnergyTransferModeEnumType.AC_THREE_PHASE,
            departure_time=T0 + timedelta(hours=4),
            ac_charging_parameters=v201.ACChargingParametersType(
                energy_amount=24_000,  # from 40 % (now) to 80 % of 60 kWh
                ev_min_current=6,  # 4140 W / (3 x 230 V)
                ev_max_current=16,  # 11 kW / 690 V is 15.94 A, rounded up
                ev_max_voltage=230,
            ),
        ),
    )


def test_needs_of_a_single_phase_ev_that_names_its_energy() -> None:
    ev = EvSpec(iso15118=True, energy_wh=7_500.4)
    needs = charging_needs(ev, evse_id=1, phases=1, voltage=230.0, soc=None, departure=None)
    assert needs.charging_needs.requested_energy_transfer == "AC_single_phase"
    assert needs.charging_needs.departure_time is UNSET
    assert needs.charging_needs.ac_charging_parameters == v201.ACChargingParametersType(
        energy_amount=7_500, ev_min_current=6, ev_max_current=48, ev_max_voltage=230
    )


def test_the_plan_stays_within_the_offer() -> None:
    offer = [
        Period(start_period=0, limit=10.55),
        Period(start_period=600, limit=10.5),  # the same at 0.1 A: merged
        Period(start_period=900, limit=5.9),  # below the EV's 6 A: it does not charge
        Period(start_period=1200, limit=31.8),  # above its 16 A: 16 A
        Period(start_period=5000, limit=8.0),  # after its departure
    ]
    plan = ev_schedule(EV, offer, voltage=230.0, phases=3, duration=4000, schedule_id=3)
    assert plan == v201.ChargingScheduleType(
        id=3,
        charging_rate_unit=A,
        duration=4000,
        charging_schedule_period=[
            Period(start_period=0, limit=10.5),
            Period(start_period=900, limit=0.0),
            Period(start_period=1200, limit=16.0),
        ],
    )
    renegotiated = ev_schedule(EV, offer, voltage=230.0, phases=3, duration=None, attempt=2)
    assert [(p.start_period, p.limit) for p in renegotiated.charging_schedule_period] == [
        (0, 10.0),
        (900, 0.0),
        (1200, 16.0),
        (5000, 8.0),
    ]
    assert renegotiated.duration is UNSET


def test_the_plan_has_at_most_max_plan_periods() -> None:
    offer = [Period(start_period=60 * n, limit=6.0 + n % 2) for n in range(40)]
    plan = ev_schedule(EV, offer, voltage=230.0, phases=3, duration=None)
    assert len(plan.charging_schedule_period) == MAX_PLAN_PERIODS


# -- against a scripted CSMS on a ManualClock --------------------------------------------------


@dataclass
class Iso15118Csms(ScriptedCsms):
    """A scripted CSMS that also answers the EV's needs and schedules."""

    needs_status: v201.NotifyEVChargingNeedsStatusEnumType = (
        v201.NotifyEVChargingNeedsStatusEnumType.ACCEPTED
    )
    schedule_answers: list[Status] = field(default_factory=lambda: [Status.ACCEPTED])

    async def answer(self, request: object) -> object:
        if isinstance(request, v201.NotifyEVChargingNeedsRequest):
            self.received.append(request)
            return v201.NotifyEVChargingNeedsResponse(status=self.needs_status)
        if isinstance(request, v201.NotifyEVChargingScheduleRequest):
            self.received.append(request)
            answers = self.schedule_answers
            return v201.NotifyEVChargingScheduleResponse(
                status=answers.pop(0) if len(answers) > 1 else answers[0]
            )
        return await super().answer(request)

    @property
    def schedules(self) -> list[v201.NotifyEVChargingScheduleRequest]:
        return self.of(v201.NotifyEVChargingScheduleRequest)

    async def set_profile(self, profile: v201.ChargingProfileType) -> None:
        assert self.connection is not None
        answer = await self.connection.call(
            v201.SetChargingProfileRequest(evse_id=1, charging_profile=profile)
        )
        assert answer.status == v201.ChargingProfileStatusEnumType.ACCEPTED


def rig(ev: EvSpec) -> Setup:
    clock = ManualClock(T0)
    station = Station(
        StationConfig(shape=shape(), csms_url="ws://unused", ev=ev),
        ocpp201_router().handler_for,
        clock=clock,
    )
    return Setup(station, Iso15118Csms(clock), clock)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    made = rig(EV)
    yield made
    for task in made.sessions:
        task.cancel()
    await asyncio.gather(*made.sessions, return_exceptions=True)


def scripted(setup: Setup) -> Iso15118Csms:
    assert isinstance(setup.csms, Iso15118Csms)
    return setup.csms


async def received(csms: ScriptedCsms, kind: type[Any], count: int = 1) -> list[Any]:
    """Wait (real time, briefly) until the CSMS has ``count`` requests of ``kind``."""
    async with asyncio.timeout(2):
        while len(csms.of(kind)) < count:
            await asyncio.sleep(0.01)
    return csms.of(kind)


async def start_charging(setup: Setup, *, needs: bool = True) -> str:
    """Plug the EV in a minute after T0, authorize, and wait for its needs to go out."""
    setup.connect()
    await settle()
    await setup.advance(60)
    setup.station.plug_in(1)
    assert await setup.station.present_token(1, TOKEN)
    tx = setup.station.evses[1].transaction
    assert tx is not None
    if needs:
        await received(setup.csms, v201.NotifyEVChargingNeedsRequest)
    return tx.id


def tx_profile(transaction_id: str, first_limit: float) -> v201.ChargingProfileType:
    return v201.ChargingProfileType(
        id=5,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=9,
                start_schedule=T0,
                charging_rate_unit=A,
                charging_schedule_period=[
                    Period(start_period=0, limit=first_limit),
                    Period(start_period=3600, limit=4.0),
                    Period(start_period=7200, limit=32.0),
                ],
            )
        ],
        transaction_id=transaction_id,
    )


def plan(request: v201.NotifyEVChargingScheduleRequest) -> list[tuple[int, float]]:
    return [(p.start_period, p.limit) for p in request.charging_schedule.charging_schedule_period]


async def test_the_needs_go_out_when_the_transaction_starts(setup: Setup) -> None:
    await start_charging(setup)
    (needs,) = setup.csms.of(v201.NotifyEVChargingNeedsRequest)
    assert needs == v201.NotifyEVChargingNeedsRequest(
        evse_id=1,
        max_schedule_tuples=24,
        charging_needs=v201.ChargingNeedsType(
            requested_energy_transfer=v201.EnergyTransferModeEnumType.AC_THREE_PHASE,
            departure_time=T0 + timedelta(seconds=60 + 4 * 3600),  # 4 h after plug-in
            ac_charging_parameters=v201.ACChargingParametersType(
                energy_amount=30_000, ev_min_current=6, ev_max_current=16, ev_max_voltage=230
            ),
        ),
    )
    # After the CSMS acknowledged the Started event: it knows the transaction.
    sent = actions(setup.csms)
    started = [
        index
        for index, request in enumerate(setup.csms.received)
        if isinstance(request, v201.TransactionEventRequest) and request.event_type == "Started"
    ]
    assert started and started[0] < sent.index("NotifyEVChargingNeeds")
    assert "EVSE 1: EV charging needs Accepted" in setup.station.log
    assert setup.station.evses[1].duty_cycle == 5


async def test_a_tx_profile_is_answered_with_a_plan_within_it(setup: Setup) -> None:
    transaction_id = await start_charging(setup)
    csms = scripted(setup)
    await csms.set_profile(tx_profile(transaction_id, 10.5))
    await settle()
    assert csms.schedules == []  # the EV takes a moment (ISO 15118 messages)
    await setup.advance(1)
    (schedule,) = await received(csms, v201.NotifyEVChargingScheduleRequest)
    now = T0 + timedelta(seconds=61)
    assert (schedule.time_base, schedule.evse_id) == (now, 1)
    assert schedule.charging_schedule.charging_rate_unit == A
    assert schedule.charging_schedule.id == 9  # the schedule of the profile it chose
    # From 61 s: 10.5 A; at 3600 s the profile's 4 A is below the EV's 6 A: 0; at 7200 s the
    # EVSE's 31.8 A is above the EV's 16 A: 16 A. Its departure is 4 h after plug-in.
    assert plan(schedule) == [(0, 10.5), (3539, 0.0), (7139, 16.0)]
    assert schedule.charging_schedule.duration == 4 * 3600 - 1
    await setup.advance(30)
    assert len(csms.schedules) == 1
    assert setup.station.log[-1] == "EVSE 1: EV charging schedule Accepted (attempt 1)"


async def test_a_rejected_plan_is_renegotiated(setup: Setup) -> None:
    transaction_id = await start_charging(setup)
    csms = scripted(setup)
    csms.schedule_answers = [Status.REJECTED, Status.ACCEPTED]
    await csms.set_profile(tx_profile(transaction_id, 10.5))
    await setup.advance(1)
    await received(csms, v201.NotifyEVChargingScheduleRequest)
    await setup.advance(1)
    first, second = await received(csms, v201.NotifyEVChargingScheduleRequest, 2)
    assert plan(first) == [(0, 10.5), (3539, 0.0), (7139, 16.0)]
    # Renegotiated a second later: lowered to whole amperes under the same profile.
    assert second.time_base == first.time_base + timedelta(seconds=1)
    assert plan(second) == [(0, 10.0), (3538, 0.0), (7138, 16.0)]
    await setup.advance(30)
    assert len(csms.schedules) == 2
    assert [line for line in setup.station.log if "schedule" in line] == [
        "EVSE 1: EV charging schedule Rejected (attempt 1)",
        "EVSE 1: renegotiating the schedule with the EV",
        "EVSE 1: EV charging schedule Accepted (attempt 2)",
    ]


async def test_renegotiation_gives_up_after_a_few_plans(setup: Setup) -> None:
    transaction_id = await start_charging(setup)
    csms = scripted(setup)
    csms.schedule_answers = [Status.REJECTED]
    await csms.set_profile(tx_profile(transaction_id, 10.5))
    for _ in range(MAX_ATTEMPTS + 3):
        await setup.advance(1)
        await asyncio.sleep(0.01)
    assert len(csms.schedules) == MAX_ATTEMPTS
    assert setup.station.log[-1] == (
        f"EVSE 1: EV charging schedule rejected {MAX_ATTEMPTS} times, given up"
    )


async def test_a_new_profile_replaces_the_negotiation_under_way(setup: Setup) -> None:
    transaction_id = await start_charging(setup)
    csms = scripted(setup)
    csms.schedule_answers = [Status.REJECTED, Status.ACCEPTED]
    await csms.set_profile(tx_profile(transaction_id, 10.5))
    await setup.advance(1)
    await received(csms, v201.NotifyEVChargingScheduleRequest)  # rejected
    await csms.set_profile(tx_profile(transaction_id, 8.5))  # same id: replaces the first
    await setup.advance(1)
    _, second = await received(csms, v201.NotifyEVChargingScheduleRequest, 2)
    await setup.advance(30)
    assert len(csms.schedules) == 2  # the old round stopped; the new one was accepted
    assert plan(second)[0] == (0, 8.5)  # a first plan for the new profile: to 0.1 A
    assert setup.station.log[-1] == "EVSE 1: EV charging schedule Accepted (attempt 1)"


async def test_an_ev_without_iso15118_sends_neither() -> None:
    made = rig(dataclasses.replace(EV, iso15118=False))
    try:
        transaction_id = await start_charging(made, needs=False)
        await scripted(made).set_profile(tx_profile(transaction_id, 10.5))
        await made.advance(5)
        await asyncio.sleep(0.1)
        assert made.csms.of(v201.NotifyEVChargingNeedsRequest) == []
        assert scripted(made).schedules == []
        assert made.station.evses[1].duty_cycle == 17.5  # 10.5 A by PWM
    finally:
        for task in made.sessions:
            task.cancel()
        await asyncio.gather(*made.sessions, return_exceptions=True)


# -- end to end against kilowatt's CSMS --------------------------------------------------------


@pytest.fixture
async def iso_station(csms: Csms_, tmp_path: Path) -> AsyncIterator[Station]:
    no_samples = {k: v for k, v in QUICK.items() if "TxUpdatedInterval" not in k}
    async with running_station(
        csms.url, tmp_path / "station", password=PASSWORD, variables=no_samples, ev=EV
    ) as station:
        yield station


async def test_kilowatts_csms_answers_the_needs_and_accepts_the_plan(
    csms: Csms_, iso_station: Station
) -> None:
    iso_station.plug_in(1)
    assert await iso_station.present_token(1, TAG)
    tx = iso_station.evses[1].transaction
    assert tx is not None

    async def answered() -> bool:
        return any("EV charging schedule" in line for line in iso_station.log)

    await until(answered)
    assert "EVSE 1: EV charging needs Accepted" in iso_station.log
    assert "EVSE 1: EV charging schedule Accepted (attempt 1)" in iso_station.log
    # The CSMS's TxProfile: 30 kWh in 4 h is 7.5 kW, 10.9 A on three phases (rounded up),
    # then the EV's 16 A; the station installed it.
    [record] = await csms.store.charging_profiles("CS-1")
    assert (record.transaction_id, record.purpose) == (tx.id, "TxProfile")
    [installed] = iso_station.profiles.installed
    periods = installed.profile.charging_schedule[0].charging_schedule_period
    assert [p.limit for p in periods] == [10.9, 16.0]
    # The EV's plan: 10.9 A until it leaves (the 16 A come after its departure).
    plan = iso_station.iso15118.plans[1]
    assert [(p.start_period, p.limit) for p in plan.charging_schedule_period] == [(0, 10.9)]
    assert plan.duration is not UNSET and 4 * 3600 - 10 < plan.duration <= 4 * 3600
    assert iso_station.iso15118.answers[1] == Status.ACCEPTED
    await csms.store.flush()
    kept = await csms.store.notifications("CS-1", action="NotifyEVChargingSchedule")
    assert len(kept) == 1
    assert iso_station.evses[1].duty_cycle == 5
