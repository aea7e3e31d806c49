"""Properties of the composite schedule over random profiles, against a point-by-point oracle.

The oracle reads each profile at one instant straight from the rules (validity, anchor,
recurrence, duration, the last period started), without the spans and boundaries of the module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from hypothesis import given, strategies as st
from msgspec import UNSET, UnsetType

from kilowatt.messages.v201 import CompositeScheduleType
from kilowatt.smartcharging import (
    ActiveTransaction,
    EvseLimits,
    InstalledProfile,
    StationLimits,
    composite_schedule,
    limit_at,
)
from tests.smartcharging.builders import (
    T0,
    Kind,
    Period,
    Purpose,
    Recurrency,
    Unit,
    at,
    profile,
)

DAY = 86_400
STATION = StationLimits(evses={1: EvseLimits(), 2: EvseLimits()})
MAX = Purpose.CHARGING_STATION_MAX_PROFILE
EXTERNAL = Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
TX = Purpose.TX_PROFILE
TX_DEFAULT = Purpose.TX_DEFAULT_PROFILE
RECURRENCE = {Recurrency.DAILY: DAY, Recurrency.WEEKLY: 7 * DAY}


@st.composite
def installed_profiles(draw: st.DrawFn) -> tuple[InstalledProfile, ...]:
    """Up to five profiles of any purpose and kind, each on its own stackLevel."""
    entries = []
    for stack_level in range(draw(st.integers(0, 5))):
        purpose = draw(st.sampled_from(list(Purpose)))
        evse_id = {
            MAX: 0,
            EXTERNAL: draw(st.sampled_from([0, 1, 2])),
            TX_DEFAULT: draw(st.sampled_from([0, 1, 2])),
            TX: draw(st.sampled_from([1, 2])),
        }[purpose]
        kind = draw(st.sampled_from(list(Kind)))
        starts = sorted(draw(st.sets(st.integers(1, 2 * DAY), max_size=4)))
        schedule: list[Period] = []
        for start in [0, *starts]:
            limit = draw(st.integers(0, 640)) / 10
            phases = draw(st.sampled_from([None, 1, 2, 3]))
            schedule.append((start, limit) if phases is None else (start, limit, phases))
        offset = st.integers(-2 * DAY, 2 * DAY)
        entries.append(
            InstalledProfile(
                profile=profile(
                    stack_level + 1,
                    purpose=purpose,
                    kind=kind,
                    stack_level=stack_level,
                    schedule=schedule,
                    unit=draw(st.sampled_from(list(Unit))),
                    start_schedule=None
                    if kind == Kind.RELATIVE
                    else at(draw(st.integers(-8 * DAY, DAY))),
                    duration=draw(st.none() | st.integers(1, 2 * DAY)),
                    recurrency=draw(st.sampled_from(list(Recurrency)))
                    if kind == Kind.RECURRING
                    else None,
                    valid_from=draw(st.none() | offset.map(at)),
                    valid_to=draw(st.none() | offset.map(at)),
                    transaction_id="T1" if purpose == TX else None,
                ),
                evse_id=evse_id,
            )
        )
    return tuple(entries)


@dataclass(frozen=True)
class Scenario:
    installed: tuple[InstalledProfile, ...]
    start: int  # seconds from T0
    duration: int
    unit: Unit
    transactions: dict[int, ActiveTransaction]


scenarios = st.builds(
    Scenario,
    installed=installed_profiles(),
    start=st.integers(-DAY, DAY),
    duration=st.integers(0, 3 * DAY),
    unit=st.sampled_from(list(Unit)),
    transactions=st.dictionaries(
        st.sampled_from([1, 2]),
        st.builds(
            ActiveTransaction,
            transaction_id=st.sampled_from(["T1", "T2"]),
            started_at=st.integers(-3 * DAY, DAY).map(at),
        ),
    ),
)


def composite(scenario: Scenario, evse_id: int) -> CompositeScheduleType:
    return composite_schedule(
        scenario.installed,
        evse_id=evse_id,
        start=at(scenario.start),
        duration=scenario.duration,
        unit=scenario.unit,
        station=STATION,
        transactions=scenario.transactions,
    )


def value_at(schedule: CompositeScheduleType, offset: int) -> Decimal:
    """The limit of the composite period holding ``offset`` seconds from its start."""
    started = [p for p in schedule.charging_schedule_period if p.start_period <= offset]
    return Decimal(repr(started[-1].limit))


# The oracle.


def seconds(instant: datetime | UnsetType) -> int:
    assert isinstance(instant, datetime)
    return (instant - T0) // timedelta(seconds=1)


def profile_limit(
    entry: InstalledProfile, second: int, unit: Unit, relative_base: int
) -> Fraction | None:
    """The limit the profile sets at ``second`` (from T0), in ``unit``; None if it sets none."""
    chosen = entry.profile
    if chosen.valid_from is not UNSET and second < seconds(chosen.valid_from):
        return None
    if chosen.valid_to is not UNSET and second >= seconds(chosen.valid_to):
        return None
    schedule = chosen.charging_schedule[0]
    anchor = relative_base if schedule.start_schedule is UNSET else seconds(schedule.start_schedule)
    length = None if schedule.duration is UNSET else schedule.duration
    elapsed = second - anchor
    if chosen.recurrency_kind is not UNSET:
        every = RECURRENCE[chosen.recurrency_kind]
        elapsed %= every
        length = every if length is None else min(length, every)
    if elapsed < 0 or (length is not None and elapsed >= length):
        return None
    period = [p for p in schedule.charging_schedule_period if p.start_period <= elapsed][-1]
    limit = Fraction(Decimal(repr(period.limit)))
    phases = 3 if period.number_phases is UNSET else period.number_phases
    if schedule.charging_rate_unit == unit:
        return limit
    return limit * 230 * phases if unit == Unit.W else limit / (230 * phases)


def highest(
    entries: Iterable[InstalledProfile], second: int, unit: Unit, relative_base: int
) -> Fraction | None:
    """Of the profiles with a limit at ``second``, the limit of the highest stackLevel."""
    limits = [
        (entry.profile.stack_level, limit)
        for entry in entries
        if (limit := profile_limit(entry, second, unit, relative_base)) is not None
    ]
    return max(limits)[1] if limits else None


def applicable_limits(scenario: Scenario, evse_id: int, second: int) -> list[Fraction]:
    """The limit of each purpose that applies on the EVSE at ``second``."""
    transaction = scenario.transactions.get(evse_id)
    base = scenario.start if transaction is None else seconds(transaction.started_at)

    def of(
        purpose: Purpose, evse_ids: tuple[int, ...], *, tx: str | None = None
    ) -> Fraction | None:
        entries = [
            entry
            for entry in scenario.installed
            if entry.profile.charging_profile_purpose == purpose
            and entry.evse_id in evse_ids
            and (tx is None or entry.profile.transaction_id == tx)
        ]
        return highest(entries, second, scenario.unit, base if evse_id else scenario.start)

    limits = [of(MAX, (0,)), of(EXTERNAL, (0,))]
    if evse_id:
        limits.append(of(EXTERNAL, (evse_id,)))
        tx = of(TX, (evse_id,), tx=transaction.transaction_id) if transaction else None
        limits.append(tx if tx is not None else of(TX_DEFAULT, (0, evse_id)))
    return [limit for limit in limits if limit is not None]


def floor_to_tenth(value: Fraction) -> Decimal:
    return Decimal(math.floor(value * 10)) / 10


# The properties.

offsets = st.lists(st.integers(0, 3 * DAY), min_size=1, max_size=8)


@given(scenarios, st.sampled_from([0, 1, 2]))
def test_periods_cover_the_window_from_zero_strictly_increasing(
    scenario: Scenario, evse_id: int
) -> None:
    schedule = composite(scenario, evse_id)
    starts = [p.start_period for p in schedule.charging_schedule_period]

    assert schedule.schedule_start == at(scenario.start)
    assert schedule.duration == scenario.duration
    assert starts[0] == 0
    assert all(earlier < later for earlier, later in pairwise(starts))
    assert starts[-1] < max(scenario.duration, 1)
    steps = [(p.limit, p.number_phases) for p in schedule.charging_schedule_period]
    assert all(earlier != later for earlier, later in pairwise(steps))


@given(scenarios, st.sampled_from([0, 1, 2]), offsets)
def test_composite_never_exceeds_an_applicable_profile(
    scenario: Scenario, evse_id: int, instants: list[int]
) -> None:
    schedule = composite(scenario, evse_id)
    starts = [p.start_period for p in schedule.charging_schedule_period]

    for offset in {*starts, *(instant % max(scenario.duration, 1) for instant in instants)}:
        reported = value_at(schedule, offset)
        for limit in applicable_limits(scenario, evse_id, scenario.start + offset):
            assert reported <= limit, (offset, reported, limit)


@given(scenarios, st.sampled_from([1, 2]), offsets)
def test_an_evse_gets_the_lowest_applicable_limit(
    scenario: Scenario, evse_id: int, instants: list[int]
) -> None:
    schedule = composite(scenario, evse_id)
    default = Fraction(48 if scenario.unit == Unit.A else 33120)

    for offset in (instant % max(scenario.duration, 1) for instant in instants):
        limits = applicable_limits(scenario, evse_id, scenario.start + offset)
        assert value_at(schedule, offset) == floor_to_tenth(min(limits, default=default))


@given(scenarios, st.sampled_from([0, 1, 2]), offsets, st.integers(0, 999_999))
def test_limit_at_agrees_with_the_composite_schedule(
    scenario: Scenario, evse_id: int, instants: list[int], microseconds: int
) -> None:
    schedule = composite(scenario, evse_id)

    for offset in (instant % max(scenario.duration, 1) for instant in instants):
        reading = limit_at(
            scenario.installed,
            evse_id=evse_id,
            at=at(scenario.start + offset) + timedelta(microseconds=microseconds),
            unit=scenario.unit,
            station=STATION,
            transactions=scenario.transactions,
            relative_origin=at(scenario.start),
        )
        period = [p for p in schedule.charging_schedule_period if p.start_period <= offset][-1]
        assert reading.unit == scenario.unit
        assert reading.limit == Decimal(repr(period.limit))
        assert reading.number_phases == (
            3 if period.number_phases is UNSET else period.number_phases
        )


def test_oracle_reads_a_weekly_profile() -> None:
    weekly = InstalledProfile(
        profile=profile(
            kind=Kind.RECURRING,
            recurrency=Recurrency.WEEKLY,
            start_schedule=at(-7 * DAY),
            schedule=[(0, 10.0), (DAY, 20.0)],
        ),
        evse_id=1,
    )

    assert profile_limit(weekly, 3600, Unit.A, 0) == 10
    assert profile_limit(weekly, DAY + 1, Unit.A, 0) == 20
    assert profile_limit(weekly, -1, Unit.A, 0) == 20
    assert T0.weekday() == 0
