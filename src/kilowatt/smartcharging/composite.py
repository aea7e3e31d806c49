"""The composite schedule: the limit that all installed profiles together leave, over time (K08).

The station answers GetCompositeSchedule with it and holds its simulated EV to ``limit_at``; the
CSMS computes the schedule it expects a station to report. Both functions are views of one
piecewise-constant function, built here once, so that they cannot disagree.

How the limit at an instant is found:

- per purpose, the valid profile with the highest stackLevel whose schedule has a period at that
  instant; where it has none, the next lower stackLevel of the purpose (fall-through);
- on an EVSE, a TxProfile of its running transaction where one applies, else a TxDefaultProfile
  (the EVSE's own and the station-wide ones compete by stackLevel);
- the lowest of that, ChargingStationMaxProfile, ChargingStationExternalConstraints (station-wide
  and the EVSE's own) and the EVSE's physical limits; the station default where nothing limits;
- for EVSE 0, the sum over the EVSEs, capped by the station-wide maximum and external limits.

Time runs in whole seconds, as startPeriod and duration do: every instant taken from a profile or
a transaction is floored to the second. Limits are exact fractions until the output, which is
floored to one decimal (the schema accepts at most one digit of fraction; flooring, not rounding,
so the reported limit never exceeds a profile's).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from msgspec import UNSET

from kilowatt.messages.v201 import (
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingRateUnitEnumType,
    ChargingSchedulePeriodType,
    CompositeScheduleType,
    RecurrencyKindEnumType,
)
from kilowatt.smartcharging.model import ActiveTransaction, InstalledProfile, StationLimits

__all__ = ["ChargingLimit", "UnknownEvseError", "composite_schedule", "limit_at"]

Purpose = ChargingProfilePurposeEnumType
Unit = ChargingRateUnitEnumType

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_RECURRENCE_SECONDS = {RecurrencyKindEnumType.DAILY: 86_400, RecurrencyKindEnumType.WEEKLY: 604_800}
# K01.FR.49: a period without numberPhases is taken as three-phase; so is an output period.
_DEFAULT_PHASES = 3


class UnknownEvseError(ValueError):
    """The station has no EVSE of that id: GetCompositeSchedule answers Rejected."""


@dataclass(frozen=True)
class ChargingLimit:
    """The limit at one instant, in ``unit``: per phase for A, all phases together for W."""

    limit: Decimal
    unit: ChargingRateUnitEnumType
    number_phases: int


def composite_schedule(
    installed: Iterable[InstalledProfile],
    *,
    evse_id: int,
    start: datetime,
    duration: int,
    unit: ChargingRateUnitEnumType,
    station: StationLimits,
    transactions: Mapping[int, ActiveTransaction],
) -> CompositeScheduleType:
    """The composite schedule of ``evse_id`` (0: the station) over ``duration`` seconds.

    It starts at ``start`` floored to the second; a Relative schedule on an EVSE without a
    transaction starts there too. ``transactions`` maps an EVSE to the transaction running on it.
    """
    if duration < 0:
        raise ValueError(f"duration {duration} is negative")
    schedule_start = _second_of(start)
    steps = _steps(
        tuple(installed),
        evse_id=evse_id,
        # A zero duration still reports the limit at the start: the schema wants one period.
        window=(schedule_start, schedule_start + max(duration, 1)),
        relative_origin=schedule_start,
        unit=unit,
        station=station,
        transactions=transactions,
    )
    periods = [
        ChargingSchedulePeriodType(
            start_period=step.start - schedule_start,
            limit=float(step.limit),
            number_phases=step.phases if step.phases != _DEFAULT_PHASES else UNSET,
        )
        for step in steps
    ]
    return CompositeScheduleType(
        evse_id=evse_id,
        duration=duration,
        schedule_start=start.replace(microsecond=0),
        charging_rate_unit=unit,
        charging_schedule_period=periods,
    )


def limit_at(
    installed: Iterable[InstalledProfile],
    *,
    evse_id: int,
    at: datetime,
    unit: ChargingRateUnitEnumType,
    station: StationLimits,
    transactions: Mapping[int, ActiveTransaction],
    relative_origin: datetime | None = None,
) -> ChargingLimit:
    """The limit on ``evse_id`` at the instant ``at``: the composite schedule's, at that instant.

    ``relative_origin`` is where a Relative schedule starts on an EVSE without a transaction
    (default ``at``); pass a composite schedule's start to read that schedule's value.
    """
    second = _second_of(at)
    (step,) = _steps(
        tuple(installed),
        evse_id=evse_id,
        window=(second, second + 1),
        relative_origin=_second_of(relative_origin if relative_origin is not None else at),
        unit=unit,
        station=station,
        transactions=transactions,
    )
    return ChargingLimit(limit=step.limit, unit=unit, number_phases=step.phases)


# The core: constraints as spans of constant limit, evaluated between consecutive boundaries.

# A limit in the requested unit and the phases it is meant for. Tuples order by limit first; of
# two equal limits the one on fewer phases is the lower power, and wins a minimum.
_Limit = tuple[Fraction, int]


@dataclass(frozen=True)
class _Span:
    """One schedule period of one profile, clipped to its validity and the window."""

    start: int
    end: int
    precedence: tuple[int, int]  # stackLevel, then EVSE-specific (1) over station-wide (0)
    limit: _Limit


@dataclass(frozen=True)
class _Stack:
    """The profiles of one purpose: at each instant, the highest one with a period there."""

    spans: tuple[_Span, ...]

    def at(self, second: int) -> _Limit | None:
        covering = [span for span in self.spans if span.start <= second < span.end]
        return max(covering, key=lambda span: span.precedence).limit if covering else None


@dataclass(frozen=True)
class _EvseConstraints:
    caps: tuple[_Stack, ...]  # ChargingStationMaxProfile, ChargingStationExternalConstraints
    tx: _Stack
    tx_default: _Stack
    physical: tuple[_Limit, ...]
    default: _Limit

    def at(self, second: int) -> _Limit:
        # Tx(t) = TxProfile(t) where one applies, else TxDefaultProfile(t).
        tx = self.tx.at(second)
        candidates = [tx if tx is not None else self.tx_default.at(second)]
        candidates += [cap.at(second) for cap in self.caps]
        present = [limit for limit in candidates if limit is not None] + list(self.physical)
        return min(present) if present else self.default

    def boundaries(self) -> Iterator[int]:
        for stack in (*self.caps, self.tx, self.tx_default):
            for span in stack.spans:
                yield span.start
                yield span.end


@dataclass(frozen=True)
class _StationConstraints:
    evses: tuple[_EvseConstraints, ...]
    caps: tuple[_Stack, ...]
    phases: int
    default: _Limit

    def at(self, second: int) -> _Limit:
        # EVSE 0: what all EVSEs may draw together, within the station-wide limits.
        present = [limit for limit in (cap.at(second) for cap in self.caps) if limit is not None]
        if self.evses:
            present.append(
                (sum((evse.at(second)[0] for evse in self.evses), Fraction(0)), self.phases)
            )
        return min(present) if present else self.default

    def boundaries(self) -> Iterator[int]:
        for evse in self.evses:
            yield from evse.boundaries()
        for stack in self.caps:
            for span in stack.spans:
                yield span.start
                yield span.end


@dataclass(frozen=True)
class _Step:
    start: int
    limit: Decimal
    phases: int


@dataclass(frozen=True)
class _Context:
    """What every span needs to know besides its profile."""

    window: tuple[int, int]
    unit: ChargingRateUnitEnumType
    voltage: Fraction
    station: StationLimits
    transactions: Mapping[int, ActiveTransaction]
    relative_origin: int


def _steps(
    installed: tuple[InstalledProfile, ...],
    *,
    evse_id: int,
    window: tuple[int, int],
    relative_origin: int,
    unit: ChargingRateUnitEnumType,
    station: StationLimits,
    transactions: Mapping[int, ActiveTransaction],
) -> list[_Step]:
    """The limit over ``window`` as steps: each holds from its start to the next one's."""
    if evse_id != 0 and evse_id not in station.evses:
        raise UnknownEvseError(f"the station has no EVSE {evse_id}")
    context = _Context(
        window=window,
        unit=unit,
        voltage=Fraction(station.supply_voltage),
        station=station,
        transactions=transactions,
        relative_origin=relative_origin,
    )
    constraints: _EvseConstraints | _StationConstraints = (
        _station_constraints(installed, context)
        if evse_id == 0
        else _evse_constraints(installed, evse_id, context)
    )
    start, end = window
    inner = {second for second in constraints.boundaries() if start < second < end}
    steps: list[_Step] = []
    for second in sorted({start} | inner):
        value, phases = constraints.at(second)
        limit = _floor_to_tenth(value)
        if steps and steps[-1].limit == limit and steps[-1].phases == phases:
            continue  # an unchanged limit continues the step before
        steps.append(_Step(start=second, limit=limit, phases=phases))
    return steps


def _evse_constraints(
    installed: tuple[InstalledProfile, ...], evse_id: int, context: _Context
) -> _EvseConstraints:
    station = context.station
    phases = station.evse_phases(evse_id)
    transaction = context.transactions.get(evse_id)

    def stack(purpose: Purpose, evse_ids: tuple[int, ...]) -> _Stack:
        entries = (
            entry
            for entry in installed
            if entry.profile.charging_profile_purpose == purpose and entry.evse_id in evse_ids
        )
        return _stack(entries, context, phases=phases, transaction=transaction)

    tx_entries = (
        entry
        for entry in installed
        if entry.profile.charging_profile_purpose == Purpose.TX_PROFILE
        and entry.evse_id == evse_id
        and _belongs_to(entry, transaction)
    )
    evse = station.evses[evse_id]
    physical = []
    if evse.max_current is not None:
        physical.append(_limit(Fraction(evse.max_current), Unit.A, phases, context))
    if evse.max_power is not None:
        physical.append(_limit(Fraction(evse.max_power), Unit.W, phases, context))
    return _EvseConstraints(
        caps=(
            stack(Purpose.CHARGING_STATION_MAX_PROFILE, (0,)),
            # A station-wide external limit caps each EVSE as well as the EVSE's own one does.
            stack(Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS, (0,)),
            stack(Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS, (evse_id,)),
        ),
        tx=_stack(tx_entries, context, phases=phases, transaction=transaction),
        tx_default=stack(Purpose.TX_DEFAULT_PROFILE, (0, evse_id)),
        physical=tuple(physical),
        default=_default_limit(phases, context),
    )


def _station_constraints(
    installed: tuple[InstalledProfile, ...], context: _Context
) -> _StationConstraints:
    phases = context.station.supply_phases
    caps = tuple(
        _stack(
            (
                entry
                for entry in installed
                if entry.profile.charging_profile_purpose == purpose and entry.evse_id == 0
            ),
            context,
            phases=phases,
            transaction=None,
        )
        for purpose in (
            Purpose.CHARGING_STATION_MAX_PROFILE,
            Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
        )
    )
    evses = tuple(
        _evse_constraints(installed, evse_id, context) for evse_id in sorted(context.station.evses)
    )
    return _StationConstraints(
        evses=evses, caps=caps, phases=phases, default=_default_limit(phases, context)
    )


def _belongs_to(entry: InstalledProfile, transaction: ActiveTransaction | None) -> bool:
    """A TxProfile counts only while its transaction runs (one from RequestStartTransaction,
    installed before the transaction had an id, counts for the transaction on its EVSE)."""
    if transaction is None:
        return False
    transaction_id = entry.profile.transaction_id
    return transaction_id is UNSET or transaction_id == transaction.transaction_id


def _stack(
    entries: Iterable[InstalledProfile],
    context: _Context,
    *,
    phases: int,
    transaction: ActiveTransaction | None,
) -> _Stack:
    relative_base = (
        _second_of(transaction.started_at) if transaction is not None else context.relative_origin
    )
    return _Stack(
        spans=tuple(
            span
            for entry in entries
            for span in _spans(entry, context, phases=phases, relative_base=relative_base)
        )
    )


def _spans(
    entry: InstalledProfile, context: _Context, *, phases: int, relative_base: int
) -> Iterator[_Span]:
    """The periods of a profile's schedule that fall in its validity and in the window."""
    profile = entry.profile
    window_start, window_end = context.window
    valid_from = _second_of(profile.valid_from) if profile.valid_from is not UNSET else None
    valid_to = _second_of(profile.valid_to) if profile.valid_to is not UNSET else None
    low = window_start if valid_from is None else max(window_start, valid_from)
    high = window_end if valid_to is None else min(window_end, valid_to)
    if low >= high:
        return
    # The first schedule: the others are ISO 15118 alternatives the EV chooses from.
    schedule = profile.charging_schedule[0]
    # K01.FR.40/41: Absolute and Recurring schedules start at startSchedule, Relative ones with
    # the transaction (or, without one, at the relative origin).
    anchor = (
        _second_of(schedule.start_schedule)
        if schedule.start_schedule is not UNSET
        else relative_base
    )
    length = schedule.duration if schedule.duration is not UNSET else None
    if (
        profile.charging_profile_kind == ChargingProfileKindEnumType.RECURRING
        and profile.recurrency_kind is not UNSET
    ):
        # A Recurring schedule restarts every day or week from startSchedule, and its occurrences
        # repeat both ways: startSchedule fixes the phase, validFrom/validTo the validity.
        every = _RECURRENCE_SECONDS[profile.recurrency_kind]
        length = every if length is None else min(length, every)
        first = (low - anchor) // every
        last = (high - 1 - anchor) // every
        bases = [anchor + occurrence * every for occurrence in range(first, last + 1)]
    else:
        bases = [anchor]
    precedence = (profile.stack_level, 1 if entry.evse_id != 0 else 0)
    periods = schedule.charging_schedule_period
    for base in bases:
        schedule_end = high if length is None else min(high, base + length)
        for index, period in enumerate(periods):
            start = max(low, base + period.start_period)
            end = (
                min(schedule_end, base + periods[index + 1].start_period)
                if index + 1 < len(periods)
                else schedule_end
            )
            if start < end:
                period_phases = (
                    period.number_phases if period.number_phases is not UNSET else phases
                )
                limit = _limit(
                    _exact(period.limit), schedule.charging_rate_unit, period_phases, context
                )
                yield _Span(start=start, end=end, precedence=precedence, limit=limit)


def _limit(value: Fraction, unit: Unit, phases: int, context: _Context) -> _Limit:
    """A limit in the requested unit: P [W] = I [A] x U x phases (A per phase, W in total)."""
    if unit == context.unit:
        return value, phases
    if context.unit == Unit.W:
        return value * context.voltage * phases, phases
    return value / (context.voltage * phases), phases


def _default_limit(phases: int, context: _Context) -> _Limit:
    station = context.station
    if context.unit == Unit.A:
        return Fraction(station.default_limit_amps), phases
    return Fraction(station.default_limit_watts), phases


def _exact(number: float) -> Fraction:
    """The number as written on the wire (16.1 is 161/10, not the nearest binary double)."""
    return Fraction(Decimal(repr(number)))


def _floor_to_tenth(value: Fraction) -> Decimal:
    return Decimal(math.floor(value * 10)) / 10


def _second_of(instant: datetime) -> int:
    """Seconds since the epoch, floored: OCPP schedules have a resolution of one second."""
    return (instant - _EPOCH) // _SECOND
