"""When a price element applies: OCPP 2.1 TariffConditionsType and TariffConditionsFixedType.

The rules, from the field descriptions of the OCPP 2.1 JSON schemas (TariffConditionsType,
TariffConditionsFixedType):

- all the conditions set must hold (logical AND); an element without conditions always applies;
- startTimeOfDay/endTimeOfDay are local "HH:MM"; an end before the start wraps to the next day;
  an end of "00:00" means the end of the day. Start inclusive, end exclusive; a start equal to the
  end (other than 00:00-00:00, which is the whole day) is read as the whole day;
- validFromDate is inclusive, validToDate exclusive, both local dates; dayOfWeek is the local day
  of the instant (a 22:00-06:00 element for Friday does not hold on Saturday at 02:00);
- min* bounds are inclusive, max* bounds exclusive; a negative bound (discharging) is read as
  "closest to zero" for min and "furthest from zero" for max;
- energy is the energy of the transaction so far (Wh); power and current are the instantaneous
  values, not the transaction's extremes; minTime/maxTime the duration of the transaction so far;
  min/maxChargingTime and min/maxIdleTime the time spent charging, and idle, so far in the
  transaction (summed over its charging or idle spells: "the duration of the idle time", the same
  quantity as totalUsage.idleTime). An idle fee after a grace period is thus an idleTime element
  with ``minIdleTime`` = the grace in seconds, after a free one: 2.1 expresses it without an
  extension;
- a condition on a quantity the session does not report (a current no reading gave) does not hold.

For a fixed price (fixedFee, reservationFixed) the conditions are evaluated once, "at start of the
transaction" (of the reservation for reservationFixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from fractions import Fraction
from typing import Protocol

from msgspec import UNSET, UnsetType

from kilowatt.messages.v21 import (
    EvseKindEnumType,
    TariffConditionsFixedType,
    TariffConditionsType,
)

__all__ = [
    "DAYS",
    "Instant",
    "first_applicable",
    "first_applicable_fixed",
    "holds",
    "holds_fixed",
    "parse_time_of_day",
]

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class Instant:
    """The state of a session just after one instant: what conditions are evaluated on."""

    local: datetime
    elapsed: Fraction  # seconds since the start of the transaction (or reservation)
    energy: Fraction = Fraction(0)  # Wh since the start
    charging: Fraction = Fraction(0)  # seconds spent charging so far
    idle: Fraction = Fraction(0)  # seconds spent idle so far
    power: Fraction | None = None  # W
    current: Fraction | None = None  # A, summed over the phases
    evse_kind: EvseKindEnumType | None = None
    payment_brand: str | None = None
    payment_recognition: str | None = None


def parse_time_of_day(text: str) -> time:
    """A local "HH:MM" of a condition."""
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def _us_of_day(moment: time) -> int:
    return (
        (moment.hour * 60 + moment.minute) * 60 + moment.second
    ) * 1_000_000 + moment.microsecond


def _time_of_day_holds(start: str | UnsetType, end: str | UnsetType, local: datetime) -> bool:
    if start is UNSET and end is UNSET:
        return True
    begin = 0 if isinstance(start, UnsetType) else _us_of_day(parse_time_of_day(start))
    until = _DAY_US if isinstance(end, UnsetType) else _us_of_day(parse_time_of_day(end))
    if until == 0:
        until = _DAY_US
    now = _us_of_day(local.time())
    if begin == until:
        return True
    if begin < until:
        return begin <= now < until
    return now >= begin or now < until


def _at_least(value: Fraction | None, bound: float | int | UnsetType) -> bool:
    if isinstance(bound, UnsetType):
        return True
    if value is None:
        return False
    limit = Fraction(str(bound))
    return value >= limit if limit >= 0 else value <= limit


def _below(value: Fraction | None, bound: float | int | UnsetType) -> bool:
    if isinstance(bound, UnsetType):
        return True
    if value is None:
        return False
    limit = Fraction(str(bound))
    return value < limit if limit >= 0 else value > limit


def _calendar_holds(
    conditions: TariffConditionsType | TariffConditionsFixedType, instant: Instant
) -> bool:
    local = instant.local
    if not _time_of_day_holds(conditions.start_time_of_day, conditions.end_time_of_day, local):
        return False
    if conditions.day_of_week is not UNSET and DAYS[local.weekday()] not in conditions.day_of_week:
        return False
    today = local.date()
    if conditions.valid_from_date is not UNSET and today < date.fromisoformat(
        conditions.valid_from_date
    ):
        return False
    if conditions.valid_to_date is not UNSET and today >= date.fromisoformat(
        conditions.valid_to_date
    ):
        return False
    return conditions.evse_kind is UNSET or conditions.evse_kind == instant.evse_kind


def holds(conditions: TariffConditionsType | UnsetType, instant: Instant) -> bool:
    """Whether an energy or time price element with ``conditions`` applies at ``instant``."""
    if isinstance(conditions, UnsetType):
        return True
    c = conditions
    return (
        _calendar_holds(c, instant)
        and _at_least(instant.energy, c.min_energy)
        and _below(instant.energy, c.max_energy)
        and _at_least(instant.current, c.min_current)
        and _below(instant.current, c.max_current)
        and _at_least(instant.power, c.min_power)
        and _below(instant.power, c.max_power)
        and _at_least(instant.elapsed, c.min_time)
        and _below(instant.elapsed, c.max_time)
        and _at_least(instant.charging, c.min_charging_time)
        and _below(instant.charging, c.max_charging_time)
        and _at_least(instant.idle, c.min_idle_time)
        and _below(instant.idle, c.max_idle_time)
    )


def holds_fixed(conditions: TariffConditionsFixedType | UnsetType, instant: Instant) -> bool:
    """Whether a fixed price element with ``conditions`` applies to a session from ``instant``."""
    if isinstance(conditions, UnsetType):
        return True
    if not _calendar_holds(conditions, instant):
        return False
    if conditions.payment_brand is not UNSET and conditions.payment_brand != instant.payment_brand:
        return False
    return (
        conditions.payment_recognition is UNSET
        or conditions.payment_recognition == instant.payment_recognition
    )


class _Conditioned(Protocol):
    @property
    def conditions(self) -> TariffConditionsType | UnsetType: ...


class _FixedConditioned(Protocol):
    @property
    def conditions(self) -> TariffConditionsFixedType | UnsetType: ...


def first_applicable(prices: Sequence[_Conditioned], instant: Instant) -> int | None:
    """Index of the first price element whose conditions hold: the list order is the priority."""
    for index, price in enumerate(prices):
        if holds(price.conditions, instant):
            return index
    return None


def first_applicable_fixed(prices: Sequence[_FixedConditioned], instant: Instant) -> int | None:
    """Index of the first fixed price element whose conditions hold at the start."""
    for index, price in enumerate(prices):
        if holds_fixed(price.conditions, instant):
            return index
    return None
