"""Composite schedules computed by hand, one case per rule of the notes' section 5.3."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest
from msgspec import UNSET

from kilowatt.messages.v201 import ChargingProfileType
from kilowatt.smartcharging import (
    ActiveTransaction,
    ChargingLimit,
    EvseLimits,
    InstalledProfile,
    StationLimits,
    UnknownEvseError,
    composite_schedule,
    limit_at,
)
from tests.smartcharging.builders import T0, Kind, Purpose, Recurrency, Unit, at, profile

STATION = StationLimits(evses={1: EvseLimits(), 2: EvseLimits()})
RUNNING = {1: ActiveTransaction(transaction_id="T1", started_at=T0)}
HOUR = 3600
DAY = 86_400

MAX = Purpose.CHARGING_STATION_MAX_PROFILE
EXTERNAL = Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
TX = Purpose.TX_PROFILE

# (startPeriod, limit) or (startPeriod, limit, numberPhases) when it is not 3
Expected = list[tuple[int, float] | tuple[int, float, int]]


@dataclass(frozen=True)
class Case:
    name: str
    installed: tuple[InstalledProfile, ...]
    expected: Expected
    evse_id: int = 1
    unit: Unit = Unit.A
    start: datetime = T0
    duration: int = HOUR
    transactions: dict[int, ActiveTransaction] = field(default_factory=dict)
    station: StationLimits = STATION


def on(evse_id: int, *profiles: ChargingProfileType) -> tuple[InstalledProfile, ...]:
    return tuple(InstalledProfile(profile=p, evse_id=evse_id) for p in profiles)


CASES = [
    Case("nothing installed: the default limit", (), [(0, 48.0)]),
    Case("nothing installed, in W: the default power", (), [(0, 33120.0)], unit=Unit.W),
    Case(
        "EVSE maximum current where nothing else limits",
        (),
        [(0, 16.0)],
        station=StationLimits(evses={1: EvseLimits(max_current=Decimal(16))}),
    ),
    Case(
        "EVSE maximum power converted to A, 3 phases",
        (),
        [(0, 10.1)],
        station=StationLimits(evses={1: EvseLimits(max_power=Decimal(7000))}),
    ),
    Case(
        "ChargingStationMaxProfile caps an EVSE",
        on(0, profile(purpose=MAX, schedule=[(0, 32.0)])),
        [(0, 32.0)],
    ),
    Case(
        "station-wide ExternalConstraints below the TxDefaultProfile",
        on(0, profile(1, purpose=EXTERNAL, schedule=[(0, 20.0)]))
        + on(1, profile(2, schedule=[(0, 32.0)])),
        [(0, 20.0)],
    ),
    Case(
        "ExternalConstraints on EVSE 2 do not touch EVSE 1",
        on(2, profile(1, purpose=EXTERNAL, schedule=[(0, 6.0)])),
        [(0, 48.0)],
    ),
    Case(
        "ExternalConstraints on EVSE 2 cap EVSE 2",
        on(2, profile(1, purpose=EXTERNAL, schedule=[(0, 6.0)])),
        [(0, 6.0)],
        evse_id=2,
    ),
    Case(
        "TxDefaultProfile periods",
        on(1, profile(schedule=[(0, 16.0), (1800, 10.0)])),
        [(0, 16.0), (1800, 10.0)],
    ),
    Case(
        "TxProfile overrides a lower TxDefaultProfile",
        on(1, profile(1, schedule=[(0, 16.0)]), profile(2, purpose=TX, transaction_id="T1")),
        [(0, 16.0)],
        transactions=RUNNING,
    ),
    Case(
        "TxProfile overrides a TxDefaultProfile even upwards",
        on(
            1,
            profile(1, schedule=[(0, 10.0)]),
            profile(2, purpose=TX, transaction_id="T1", schedule=[(0, 32.0)]),
        ),
        [(0, 32.0)],
        transactions=RUNNING,
    ),
    Case(
        "TxProfile without its transaction running does not count",
        on(
            1,
            profile(1, schedule=[(0, 10.0)]),
            profile(2, purpose=TX, transaction_id="T1", schedule=[(0, 6.0)]),
        ),
        [(0, 10.0)],
    ),
    Case(
        "TxProfile of another transaction does not count",
        on(
            1,
            profile(1, schedule=[(0, 10.0)]),
            profile(2, purpose=TX, transaction_id="T9", schedule=[(0, 6.0)]),
        ),
        [(0, 10.0)],
        transactions=RUNNING,
    ),
    Case(
        "TxProfile ends: TxDefaultProfile again",
        on(
            1,
            profile(1, schedule=[(0, 10.0)]),
            profile(2, purpose=TX, transaction_id="T1", schedule=[(0, 6.0)], duration=600),
        ),
        [(0, 6.0), (600, 10.0)],
        transactions=RUNNING,
    ),
    Case(
        "higher stackLevel wins, then falls through to the lower",
        on(
            1,
            profile(1, stack_level=0, schedule=[(0, 16.0)]),
            profile(2, stack_level=1, schedule=[(0, 10.0)], duration=1200),
        ),
        [(0, 10.0), (1200, 16.0)],
    ),
    Case(
        "higher stackLevel wins even when it allows more",
        on(
            1,
            profile(1, stack_level=3, schedule=[(0, 20.0)], start_schedule=at(600)),
            profile(2, stack_level=1, schedule=[(0, 10.0)]),
        ),
        [(0, 10.0), (600, 20.0)],
    ),
    Case(
        "EVSE-specific TxDefaultProfile above the station-wide one",
        on(0, profile(1, stack_level=0, schedule=[(0, 16.0)]))
        + on(1, profile(2, stack_level=1, schedule=[(0, 20.0)])),
        [(0, 20.0)],
    ),
    Case(
        "station-wide TxDefaultProfile above the EVSE-specific one",
        on(0, profile(1, stack_level=2, schedule=[(0, 16.0)]))
        + on(1, profile(2, stack_level=1, schedule=[(0, 20.0)])),
        [(0, 16.0)],
    ),
    Case(
        "station-wide TxDefaultProfile applies to another EVSE",
        on(0, profile(1, stack_level=0, schedule=[(0, 16.0)]))
        + on(1, profile(2, stack_level=1, schedule=[(0, 20.0)])),
        [(0, 16.0)],
        evse_id=2,
    ),
    Case(
        "Absolute starting inside the window",
        on(1, profile(schedule=[(0, 16.0)], start_schedule=at(600))),
        [(0, 48.0), (600, 16.0)],
    ),
    Case(
        "Absolute started before the window: periods counted from startSchedule",
        on(1, profile(schedule=[(0, 6.0), (900, 16.0)], start_schedule=at(-600))),
        [(0, 6.0), (300, 16.0)],
    ),
    Case(
        "Recurring Daily in the evening",
        on(
            0,
            profile(
                purpose=MAX,
                kind=Kind.RECURRING,
                recurrency=Recurrency.DAILY,
                start_schedule=at(-DAY + 18 * HOUR),
                duration=4 * HOUR,
                schedule=[(0, 10.0)],
            ),
        ),
        [(0, 48.0), (18 * HOUR, 10.0), (22 * HOUR, 48.0)],
        duration=DAY,
    ),
    Case(
        "Recurring Daily across midnight: yesterday's occurrence reaches into the window",
        on(
            0,
            profile(
                purpose=MAX,
                kind=Kind.RECURRING,
                recurrency=Recurrency.DAILY,
                start_schedule=at(-DAY + 20 * HOUR),
                duration=6 * HOUR,
                schedule=[(0, 10.0)],
            ),
        ),
        [(0, 10.0), (2 * HOUR, 48.0), (20 * HOUR, 10.0)],
        duration=DAY,
    ),
    Case(
        "Recurring with a duration beyond the recurrence: each occurrence restarts",
        on(
            1,
            profile(
                kind=Kind.RECURRING,
                recurrency=Recurrency.DAILY,
                start_schedule=at(-DAY),
                duration=2 * DAY,
                schedule=[(0, 10.0), (HOUR, 20.0)],
            ),
        ),
        [(0, 10.0), (HOUR, 20.0), (DAY, 10.0), (DAY + HOUR, 20.0)],
        duration=2 * DAY,
    ),
    Case(
        "Recurring Weekly: Mondays 10 A, other days 20 A",
        on(
            1,
            profile(
                kind=Kind.RECURRING,
                recurrency=Recurrency.WEEKLY,
                start_schedule=at(-7 * DAY),
                schedule=[(0, 10.0), (DAY, 20.0)],
            ),
        ),
        [(0, 20.0), (12 * HOUR, 10.0), (36 * HOUR, 20.0)],
        start=at(-12 * HOUR),
        duration=2 * DAY,
    ),
    Case(
        "Relative counts from the transaction start",
        on(1, profile(kind=Kind.RELATIVE, schedule=[(0, 10.0), (1200, 16.0)])),
        [(0, 10.0), (600, 16.0)],
        transactions={1: ActiveTransaction(transaction_id="T1", started_at=at(-600))},
    ),
    Case(
        "Relative without a transaction counts from the start",
        on(1, profile(kind=Kind.RELATIVE, schedule=[(0, 10.0), (1200, 16.0)])),
        [(0, 10.0), (1200, 16.0)],
    ),
    Case(
        "validFrom and validTo bound a profile",
        on(0, profile(purpose=MAX, schedule=[(0, 20.0)], valid_from=at(300), valid_to=at(900))),
        [(0, 48.0), (300, 20.0), (900, 48.0)],
    ),
    Case(
        "validTo of a higher stackLevel: fall-through",
        on(
            1,
            profile(1, stack_level=0, schedule=[(0, 16.0)]),
            profile(2, stack_level=1, schedule=[(0, 8.0)], valid_to=at(1000)),
        ),
        [(0, 8.0), (1000, 16.0)],
    ),
    Case(
        "schedule duration ends the last period",
        on(1, profile(schedule=[(0, 10.0)], duration=1200)),
        [(0, 10.0), (1200, 48.0)],
    ),
    Case(
        "A to W, 3 phases",
        on(1, profile(schedule=[(0, 16.0)])),
        [(0, 11040.0)],
        unit=Unit.W,
    ),
    Case(
        "A to W, 1 phase",
        on(1, profile(schedule=[(0, 16.0, 1)])),
        [(0, 3680.0, 1)],
        unit=Unit.W,
    ),
    Case(
        "W to A, 3 phases, floored to a tenth",
        on(0, profile(purpose=MAX, unit=Unit.W, schedule=[(0, 11000.0)])),
        [(0, 15.9)],
    ),
    Case(
        "W to A, 1 phase",
        on(0, profile(purpose=MAX, unit=Unit.W, schedule=[(0, 3680.0, 1)])),
        [(0, 16.0, 1)],
    ),
    Case(
        "A and W profiles compared in the requested unit",
        on(0, profile(1, purpose=MAX, unit=Unit.W, schedule=[(0, 6900.0)]))
        + on(1, profile(2, schedule=[(0, 16.0), (600, 6.0)])),
        [(0, 10.0), (600, 6.0)],
    ),
    Case(
        "single-phase EVSE: its own phase count converts",
        on(1, profile(schedule=[(0, 16.0)])),
        [(0, 3680.0, 1)],
        unit=Unit.W,
        station=StationLimits(evses={1: EvseLimits(phases=1)}),
    ),
    Case(
        "supply voltage of the station",
        on(1, profile(schedule=[(0, 10.0)])),
        [(0, 6600.0)],
        unit=Unit.W,
        station=StationLimits(evses={1: EvseLimits()}, supply_voltage=Decimal(220)),
    ),
    Case(
        "EVSE 0 sums the EVSEs",
        on(1, profile(1, schedule=[(0, 16.0)])) + on(2, profile(2, schedule=[(0, 10.0)])),
        [(0, 26.0)],
        evse_id=0,
    ),
    Case(
        "EVSE 0 sums the EVSEs' defaults where nothing limits",
        (),
        [(0, 96.0)],
        evse_id=0,
    ),
    Case(
        "EVSE 0 is capped by the ChargingStationMaxProfile",
        on(0, profile(1, purpose=MAX, schedule=[(0, 40.0), (1800, 20.0)]))
        + on(1, profile(2, schedule=[(0, 16.0)]))
        + on(2, profile(3, schedule=[(0, 10.0)])),
        [(0, 26.0), (1800, 20.0)],
        evse_id=0,
    ),
    Case(
        "EVSE 0 is capped by station-wide ExternalConstraints",
        on(0, profile(1, purpose=EXTERNAL, schedule=[(0, 12.0)]))
        + on(1, profile(2, schedule=[(0, 16.0)])),
        [(0, 12.0)],
        evse_id=0,
    ),
    Case(
        "EVSE 0 in W sums powers",
        on(1, profile(1, schedule=[(0, 16.0)])) + on(2, profile(2, schedule=[(0, 16.0, 1)])),
        [(0, 14720.0)],
        evse_id=0,
        unit=Unit.W,
    ),
    Case(
        "EVSE 0 with a running TxProfile on one EVSE",
        on(1, profile(1, purpose=TX, transaction_id="T1", schedule=[(0, 8.0)]))
        + on(2, profile(2, schedule=[(0, 10.0)])),
        [(0, 18.0)],
        evse_id=0,
        transactions=RUNNING,
    ),
    Case(
        "adjacent periods with the same limit are merged",
        on(1, profile(schedule=[(0, 16.0), (600, 16.0), (1200, 10.0)])),
        [(0, 16.0), (1200, 10.0)],
    ),
    Case(
        "a change of profile with the same limit is merged",
        on(
            1,
            profile(1, stack_level=0, schedule=[(0, 16.0)]),
            profile(2, stack_level=1, schedule=[(0, 16.0)], duration=600),
        ),
        [(0, 16.0)],
    ),
    Case(
        "periods after the window are left out, periods before it cut",
        on(1, profile(schedule=[(0, 6.0), (1800, 8.0), (4600, 10.0)], start_schedule=at(-900))),
        [(0, 6.0), (900, 8.0)],
    ),
    Case(
        "start floored to the second",
        on(1, profile(schedule=[(0, 6.0), (1800, 8.0)])),
        [(0, 6.0), (1800, 8.0)],
        start=at(0.75),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_composite_schedule(case: Case) -> None:
    schedule = composite_schedule(
        case.installed,
        evse_id=case.evse_id,
        start=case.start,
        duration=case.duration,
        unit=case.unit,
        station=case.station,
        transactions=case.transactions,
    )

    got = [
        (p.start_period, p.limit)
        if p.number_phases is UNSET
        else (p.start_period, p.limit, p.number_phases)
        for p in schedule.charging_schedule_period
    ]
    assert got == case.expected


def test_schedule_names_its_evse_unit_start_and_duration() -> None:
    schedule = composite_schedule(
        (),
        evse_id=2,
        start=at(12.5),
        duration=600,
        unit=Unit.W,
        station=STATION,
        transactions={},
    )

    assert schedule.evse_id == 2
    assert schedule.duration == 600
    assert schedule.schedule_start == at(12)
    assert schedule.charging_rate_unit == Unit.W


def test_zero_duration_reports_the_limit_at_the_start() -> None:
    schedule = composite_schedule(
        on(1, profile(schedule=[(0, 10.0)])),
        evse_id=1,
        start=T0,
        duration=0,
        unit=Unit.A,
        station=STATION,
        transactions={},
    )

    assert schedule.duration == 0
    assert [(p.start_period, p.limit) for p in schedule.charging_schedule_period] == [(0, 10.0)]


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        composite_schedule(
            (), evse_id=1, start=T0, duration=-1, unit=Unit.A, station=STATION, transactions={}
        )


@pytest.mark.parametrize("evse_id", [3, -1])
def test_unknown_evse_is_refused(evse_id: int) -> None:
    with pytest.raises(UnknownEvseError, match=f"no EVSE {evse_id}"):
        composite_schedule(
            (),
            evse_id=evse_id,
            start=T0,
            duration=60,
            unit=Unit.A,
            station=STATION,
            transactions={},
        )


def test_limit_at_reads_one_instant() -> None:
    installed = on(1, profile(schedule=[(0, 16.0), (1800, 10.0, 1)]))

    def read(seconds: float) -> ChargingLimit:
        return limit_at(
            installed, evse_id=1, at=at(seconds), unit=Unit.A, station=STATION, transactions={}
        )

    assert read(1799.9) == ChargingLimit(limit=Decimal(16), unit=Unit.A, number_phases=3)
    assert read(1800) == ChargingLimit(limit=Decimal(10), unit=Unit.A, number_phases=1)


def test_limit_at_relative_origin_without_transaction() -> None:
    installed = on(1, profile(kind=Kind.RELATIVE, schedule=[(0, 10.0), (600, 16.0)]))

    def read(origin: datetime | None) -> Decimal:
        return limit_at(
            installed,
            evse_id=1,
            at=at(700),
            unit=Unit.A,
            station=STATION,
            transactions={},
            relative_origin=origin,
        ).limit

    assert read(None) == Decimal(10)  # the schedule starts at the instant asked about
    assert read(T0) == Decimal(16)
