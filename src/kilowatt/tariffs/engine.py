"""The cost of a session under an OCPP 2.1 tariff (I07-I12), shared by the CSMS and the station.

How a cost is computed:

1. The session is cut at every instant where what a condition reads may change: meter readings
   and state changes, local midnights and the condition's times of day, and the instants where
   the energy, the duration, the charging time or the idle time reaches a bound of a condition.
   Between two cuts every condition keeps its value, so each dimension (energy, chargingTime,
   idleTime) has one applicable price element: the first of its list whose conditions hold.
2. Consecutive pieces with the same applicable elements form one charging period; a period also
   ends where charging turns idle or back, because the time dimension that applies changes.
3. Per period: the energy (Wh) times priceKwh, the minutes charging times the chargingTime
   element's priceMinute, the minutes idle times the idleTime element's. The fixed fee is the first
   fixedFee element that holds at the start, once. A reservation before the session adds its
   minutes (reservationTime) and reservationFixed; it is no charging period (CostDetailsType).
4. Each cost component is summed exactly over the periods and rounded once (money.round_money);
   its taxes are added to the rounded net amount, stack by stack (TaxRateType: stack 0 on the net
   price, stack 1 on top of stack 0...), and the result rounded. The totals are the sums of the
   rounded components, so a receipt adds up.
5. The total is clamped to [minCost, maxCost] (typeOfCost MinCost/MaxCost), without tax to the
   bound's exclTax and with tax to its inclTax, each clamp on its own; a bound that gives one of
   the two has the other derived through its taxRates (without taxRates, the same amount). Two
   separate clamps keep the cost monotonic when the components' taxes differ from the bound's.
   A running cost is clamped too: a driver sees the minimum from the start.
6. The tariff may change during the session (ChangeTransactionTariff, I12: ``changes``). The
   tariff passed in is in force from the session start; each change, in the order of its ``at``
   (at one instant, the later in the sequence wins), replaces the tariff in force from ``at`` on.
   A change at or before the start replaces the first tariff from the start; one after the
   cost's end (the session end, or ``at``) has no effect; one at that end is the tariff in force
   there, for the end's rules below, and prices no stretch. Then:
   - the session is also cut at every change, so a charging period has one tariff (its tariffId)
     and its price indices refer to that tariff;
   - the energy, chargingTime and idleTime of each stretch are priced by the tariff in force
     there, at nothing by one that lacks the dimension; a component exists if one tariff in
     force has its dimension;
   - conditions keep reading the whole session: energy and durations count from the session
     start (a new tariff's minEnergy counts the energy charged before the change), as do the
     instants where they reach a bound;
   - the fixed fee and the reservation come from the tariff in force at the start (they are
     charged "at start"), minCost and maxCost from the one in force at the cost's end, like the
     taxRates a component shows (the last tariff in force that has its dimension);
   - the rounding of 4 is per tax group: a component's exact net amounts are grouped by the
     taxRates of the tariff they come from, and each group is rounded, taxed and rounded as 4
     describes; the component is the sum of its groups. One tariff is one group: rule 4 as is;
   - every tariff is in the currency of the first: a change to another currency is refused (a
     station answers it NoCurrencyChange).

Prices are excl. tax (TariffEnergyPriceType.priceKwh, TariffTimePriceType.priceMinute); a
component without taxRates has no tax (inclTax = exclTax). A tariff's validFrom is not read here:
choosing the tariff in force is the caller's business.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

from msgspec import UNSET, UnsetType

from kilowatt.messages.v21 import (
    ChargingPeriodType,
    CostDetailsType,
    CostDimensionEnumType,
    CostDimensionType,
    PriceType,
    TariffConditionsType,
    TariffCostEnumType,
    TariffEnergyType,
    TariffFixedType,
    TariffTimePriceType,
    TariffTimeType,
    TariffType,
    TaxRateType,
    TotalCostType,
    TotalPriceType,
    TotalUsageType,
)
from kilowatt.tariffs.conditions import (
    Instant,
    first_applicable,
    first_applicable_fixed,
    parse_time_of_day,
)
from kilowatt.tariffs.money import round_money, to_fraction
from kilowatt.tariffs.session import Session, State, TariffChange

__all__ = ["ChargingPeriod", "ComponentCost", "CostBreakdown", "Usage", "calculate", "with_taxes"]

_US = 1_000_000
_DETAIL = Decimal("0.000001")  # resolution of the informational per-period figures


def _seconds(delta: timedelta) -> Fraction:
    return Fraction(delta // timedelta(microseconds=1), _US)


def _decimal(value: Fraction, resolution: Decimal = _DETAIL) -> Decimal:
    """An exact value shown at ``resolution`` (half up): for figures that are not money."""
    # In integers: a period has a dozen such figures, and in Fraction arithmetic they took a
    # quarter of the time of a whole calculation.
    steps, per = resolution.as_integer_ratio()  # resolution = steps / per
    numerator = abs(value.numerator) * per
    denominator = value.denominator * steps
    whole = (2 * numerator + denominator) // (2 * denominator)  # |value| / resolution, half up
    return (Decimal(-whole if value < 0 else whole) * resolution).normalize() + Decimal(0)


def with_taxes(net: Fraction, rates: Sequence[TaxRateType] | UnsetType) -> Fraction:
    """``net`` plus its taxes: each stack level is levied on the net plus the levels below it."""
    if isinstance(rates, UnsetType):
        return net
    gross = net
    for level in sorted({rate.stack if isinstance(rate.stack, int) else 0 for rate in rates}):
        base = gross
        for rate in rates:
            if (rate.stack if isinstance(rate.stack, int) else 0) == level:
                gross += base * to_fraction(rate.tax) / 100
    return gross


@dataclass(frozen=True, slots=True)
class ComponentCost:
    """One cost component (energy, idle time...), rounded, without and with its taxes."""

    excl_tax: Decimal
    incl_tax: Decimal
    tax_rates: tuple[TaxRateType, ...] = ()

    def to_price(self) -> PriceType:
        return PriceType(
            excl_tax=float(self.excl_tax),
            incl_tax=float(self.incl_tax),
            tax_rates=list(self.tax_rates) if self.tax_rates else UNSET,
        )


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    """A stretch of the session during which the applicable price element of every dimension
    stays the same.

    Volumes and costs are exact values shown to the micro-unit; they are informational, the
    components are summed from the exact values and rounded once.
    """

    start: datetime
    end: datetime
    tariff_id: str  # the tariff in force during the period
    energy_wh: Decimal
    charging_seconds: Decimal
    idle_seconds: Decimal
    min_power_w: Decimal | None
    max_power_w: Decimal | None
    min_current_a: Decimal | None
    max_current_a: Decimal | None
    energy_price: int | None  # index into the period's tariff.energy.prices
    charging_time_price: int | None  # into its charging_time.prices, while charging
    idle_time_price: int | None  # into its idle_time.prices, while idle
    energy_cost: Decimal
    charging_time_cost: Decimal
    idle_time_cost: Decimal

    def to_charging_period(self) -> ChargingPeriodType:
        dimensions = [
            CostDimensionType(type=CostDimensionEnumType.ENERGY, volume=float(self.energy_wh))
        ]
        if self.charging_seconds:
            dimensions.append(
                CostDimensionType(
                    type=CostDimensionEnumType.CHARGING_TIME, volume=float(self.charging_seconds)
                )
            )
        if self.idle_seconds:
            dimensions.append(
                CostDimensionType(
                    type=CostDimensionEnumType.IDLE_T_IME, volume=float(self.idle_seconds)
                )
            )
        for kind, value in (
            (CostDimensionEnumType.MIN_POWER, self.min_power_w),
            (CostDimensionEnumType.MAX_POWER, self.max_power_w),
            (CostDimensionEnumType.MIN_CURRENT, self.min_current_a),
            (CostDimensionEnumType.MAX_CURRENT, self.max_current_a),
        ):
            if value is not None:
                dimensions.append(CostDimensionType(type=kind, volume=float(value)))
        return ChargingPeriodType(
            dimensions=dimensions, tariff_id=self.tariff_id, start_period=self.start
        )


@dataclass(frozen=True, slots=True)
class Usage:
    energy_wh: Decimal
    charging_seconds: int
    idle_seconds: int
    reservation_seconds: int | None


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The cost of a session up to ``end``: periods, components, totals."""

    tariff_id: str  # the tariff in force at ``end``
    # The tariffs in force from the start to ``end``, in order; a change to the tariff already
    # in force (the same tariffId) adds none.
    tariff_ids: tuple[str, ...]
    currency: str
    start: datetime
    end: datetime
    ended: bool  # the session had ended by ``end``: this is the final cost
    periods: tuple[ChargingPeriod, ...]
    fixed: ComponentCost | None
    energy: ComponentCost | None
    charging_time: ComponentCost | None
    idle_time: ComponentCost | None
    reservation_time: ComponentCost | None
    reservation_fixed: ComponentCost | None
    total_excl_tax: Decimal
    total_incl_tax: Decimal
    type_of_cost: TariffCostEnumType
    usage: Usage

    @property
    def total_cost(self) -> Decimal:
        """The total incl. taxes: OCPP 2.0.1's CostUpdated / TransactionEventResponse totalCost."""
        return self.total_incl_tax

    def to_total_cost(self) -> TotalCostType:
        def price(component: ComponentCost | None) -> PriceType | UnsetType:
            return UNSET if component is None else component.to_price()

        return TotalCostType(
            currency=self.currency,
            type_of_cost=self.type_of_cost,
            fixed=price(self.fixed),
            energy=price(self.energy),
            charging_time=price(self.charging_time),
            idle_time=price(self.idle_time),
            reservation_time=price(self.reservation_time),
            reservation_fixed=price(self.reservation_fixed),
            total=TotalPriceType(
                excl_tax=float(self.total_excl_tax), incl_tax=float(self.total_incl_tax)
            ),
        )

    def to_cost_details(self) -> CostDetailsType:
        """OCPP 2.1 costDetails of a TransactionEventRequest.

        totalUsage.chargingTime is the duration of the session, charging and idle, as the 2.1
        schema describes it ("including the duration of charging and not charging").
        """
        periods = [period.to_charging_period() for period in self.periods]
        usage = self.usage
        return CostDetailsType(
            charging_periods=periods or UNSET,
            total_cost=self.to_total_cost(),
            total_usage=TotalUsageType(
                energy=float(usage.energy_wh),
                charging_time=usage.charging_seconds + usage.idle_seconds,
                idle_time=usage.idle_seconds,
                reservation_time=(
                    UNSET if usage.reservation_seconds is None else usage.reservation_seconds
                ),
            ),
        )


class _Timeline:
    """The session's quantities as functions of the seconds since its start."""

    def __init__(self, session: Session, end: datetime) -> None:
        self.session = session
        self.start = session.start
        self.length = _seconds(end - session.start)
        self.tz = session.tz
        readings = session.readings
        self.offsets = [_seconds(r.at - self.start) for r in readings]
        self.registers = [Fraction(r.energy_wh) for r in readings]
        self.readings = readings
        self.base = self._register(Fraction(0)) if readings else Fraction(0)
        # The state segments [begin, end) over [0, length], with the time spent before each.
        changes = [
            (max(_seconds(c.at - self.start), Fraction(0)), c.state) for c in session.changes
        ]
        state = session.initial_state
        for offset, new in changes:
            if offset <= 0:
                state = new
        cuts = [(offset, new) for offset, new in changes if 0 < offset < self.length]
        self.segments: list[tuple[Fraction, Fraction, State]] = []
        begin = Fraction(0)
        for offset, new in cuts:
            if offset > begin:
                self.segments.append((begin, offset, state))
            begin, state = offset, new
        if self.length > begin or not self.segments:
            self.segments.append((begin, self.length, state))

    def local(self, offset: Fraction) -> datetime:
        return self.at(offset).astimezone(self.tz)

    def at(self, offset: Fraction) -> datetime:
        return self.start + timedelta(microseconds=int(offset * _US))

    def _register(self, offset: Fraction) -> Fraction:
        index = bisect_right(self.offsets, offset)
        if index == 0:
            return self.registers[0]
        if index == len(self.offsets):
            return self.registers[-1]
        t0, t1 = self.offsets[index - 1], self.offsets[index]
        e0, e1 = self.registers[index - 1], self.registers[index]
        return e0 + (e1 - e0) * (offset - t0) / (t1 - t0)

    def energy(self, offset: Fraction) -> Fraction:
        """Wh since the start."""
        return self._register(offset) - self.base if self.readings else Fraction(0)

    def power_and_current(self, offset: Fraction) -> tuple[Fraction | None, Fraction | None]:
        index = bisect_right(self.offsets, offset) - 1
        if index < 0:
            return Fraction(0), None
        reading = self.readings[index]
        current = None if reading.current_a is None else Fraction(reading.current_a)
        if reading.power_w is not None:
            return Fraction(reading.power_w), current
        if index + 1 < len(self.offsets) and self.offsets[index + 1] > self.offsets[index]:
            slope = (self.registers[index + 1] - self.registers[index]) / (
                self.offsets[index + 1] - self.offsets[index]
            )
            return slope * 3600, current
        return Fraction(0), current

    def state(self, offset: Fraction) -> State:
        for begin, end, state in self.segments:
            if begin <= offset < end:
                return state
        return self.segments[-1][2]

    def spent(self, offset: Fraction, state: State) -> Fraction:
        """Seconds spent in ``state`` before ``offset``."""
        return sum(
            (
                min(end, offset) - begin
                for begin, end, s in self.segments
                if s is state and begin < offset
            ),
            Fraction(0),
        )

    def reaching(self, quantity: str, value: Fraction) -> Fraction | None:
        """The first offset where a non-decreasing quantity reaches ``value``."""
        if value <= 0:
            return None
        if quantity == "elapsed":
            return value
        if quantity == "energy":
            points = sorted(
                {Fraction(0), self.length, *(o for o in self.offsets if 0 < o < self.length)}
            )
            for a, b in itertools.pairwise(points):
                ea, eb = self.energy(a), self.energy(b)
                if ea < value <= eb:
                    return a + (value - ea) * (b - a) / (eb - ea)
            return None
        state = State.CHARGING if quantity == "charging" else State.IDLE
        spent = Fraction(0)
        for begin, end, s in self.segments:
            if s is state:
                if spent + (end - begin) >= value:
                    return begin + (value - spent)
                spent += end - begin
        return None

    def instant(self, offset: Fraction) -> Instant:
        power, current = self.power_and_current(offset)
        return Instant(
            local=self.local(offset),
            elapsed=offset,
            energy=self.energy(offset),
            charging=self.spent(offset, State.CHARGING),
            idle=self.spent(offset, State.IDLE),
            power=power,
            current=current,
            evse_kind=self.session.evse_kind,
            payment_brand=self.session.payment_brand,
            payment_recognition=self.session.payment_recognition,
        )


def _conditions(tariff: TariffType) -> list[TariffConditionsType]:
    found = []
    for dimension in (
        tariff.energy,
        tariff.charging_time,
        tariff.idle_time,
        tariff.reservation_time,
    ):
        if not isinstance(dimension, UnsetType):
            for price in dimension.prices:
                if not isinstance(price.conditions, UnsetType):
                    found.append(price.conditions)
    return found


def _day_cuts(
    conditions: Iterable[TariffConditionsType], start: datetime, length: Fraction, tz: tzinfo
) -> set[Fraction]:
    """Offsets in (0, length) of the local midnights and of the conditions' times of day.

    A time of day that a DST change skips or repeats is placed by ``fold=0``.
    """
    times = {time(0, 0)}
    for c in conditions:
        for text in (c.start_time_of_day, c.end_time_of_day):
            if isinstance(text, str):
                times.add(parse_time_of_day(text))
    end = start + timedelta(microseconds=int(length * _US))
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    cuts: set[Fraction] = set()
    while day <= last:
        for moment in times:
            offset = _seconds(datetime.combine(day, moment, tzinfo=tz) - start)
            if 0 < offset < length:
                cuts.add(offset)
        day += timedelta(days=1)
    return cuts


_BOUNDS = (
    ("energy", "min_energy", "max_energy"),
    ("elapsed", "min_time", "max_time"),
    ("charging", "min_charging_time", "max_charging_time"),
    ("idle", "min_idle_time", "max_idle_time"),
)


def _threshold_cuts(
    conditions: Iterable[TariffConditionsType], timeline: _Timeline, end: Fraction
) -> set[Fraction]:
    """Offsets in (0, end) where the energy or a duration reaches a bound of a condition."""
    cuts: set[Fraction] = set()
    for c in conditions:
        for quantity, *names in _BOUNDS:
            for name in names:
                bound = getattr(c, name)
                if not isinstance(bound, UnsetType):
                    offset = timeline.reaching(quantity, to_fraction(bound))
                    if offset is not None and 0 < offset < end:
                        cuts.add(offset)
    return cuts


@dataclass(frozen=True, slots=True)
class _Stretch:
    """The offsets [begin, end) of the session during which ``tariff`` is in force."""

    begin: Fraction
    end: Fraction
    tariff: TariffType


def _stretches(
    tariff: TariffType, changes: Sequence[TariffChange], timeline: _Timeline
) -> list[_Stretch]:
    """The tariffs in force, in order; the last one may be empty: a change at the very end."""
    stretches: list[_Stretch] = []
    begin = Fraction(0)
    for change in sorted(changes, key=lambda c: c.at):
        offset = _seconds(change.at - timeline.start)
        if offset > timeline.length:
            break
        if offset > begin:
            stretches.append(_Stretch(begin, offset, tariff))
            begin = offset
        tariff = change.tariff
    stretches.append(_Stretch(begin, timeline.length, tariff))
    return stretches


@dataclass
class _PeriodBuilder:
    start: Fraction
    end: Fraction
    stretch: int  # index of the stretch, hence of the tariff, the period lies in
    key: tuple[State, int | None, int | None, int | None]
    energy: Fraction = Fraction(0)
    charging: Fraction = Fraction(0)
    idle: Fraction = Fraction(0)
    energy_cost: Fraction = Fraction(0)
    charging_cost: Fraction = Fraction(0)
    idle_cost: Fraction = Fraction(0)
    powers: tuple[Fraction, ...] = ()
    currents: tuple[Fraction, ...] = ()

    def build(self, timeline: _Timeline, stretches: Sequence[_Stretch]) -> ChargingPeriod:
        def extreme(
            values: tuple[Fraction, ...], pick: Callable[[Iterable[Fraction]], Fraction]
        ) -> Decimal | None:
            return _decimal(pick(values)) if values else None

        return ChargingPeriod(
            start=timeline.at(self.start),
            end=timeline.at(self.end),
            tariff_id=stretches[self.stretch].tariff.tariff_id,
            energy_wh=_decimal(self.energy),
            charging_seconds=_decimal(self.charging),
            idle_seconds=_decimal(self.idle),
            min_power_w=extreme(self.powers, min),
            max_power_w=extreme(self.powers, max),
            min_current_a=extreme(self.currents, min),
            max_current_a=extreme(self.currents, max),
            energy_price=self.key[1],
            charging_time_price=self.key[2],
            idle_time_price=self.key[3],
            energy_cost=_decimal(self.energy_cost),
            charging_time_cost=_decimal(self.charging_cost),
            idle_time_cost=_decimal(self.idle_cost),
        )


def _prices(dimension: TariffTimeType | UnsetType) -> Sequence[TariffTimePriceType]:
    return () if isinstance(dimension, UnsetType) else dimension.prices


def _stretch_cuts(stretch: _Stretch, timeline: _Timeline) -> set[Fraction]:
    """The stretch's start and the offsets inside it where its tariff's conditions may change."""
    conditions = _conditions(stretch.tariff)
    cuts = _day_cuts(conditions, timeline.start, stretch.end, timeline.tz)
    cuts |= _threshold_cuts(conditions, timeline, stretch.end)
    if stretch.begin:
        # The cuts before the stretch would not change what an earlier tariff charges, only
        # make more pieces to evaluate.
        cuts = {offset for offset in cuts if offset > stretch.begin}
    cuts.add(stretch.begin)
    return cuts


def _periods(stretches: Sequence[_Stretch], timeline: _Timeline) -> list[_PeriodBuilder]:
    length = timeline.length
    cuts = {Fraction(0), length}
    cuts |= {o for o in timeline.offsets if 0 < o < length}
    cuts |= {begin for begin, _, _ in timeline.segments if 0 < begin < length}
    for stretch in stretches:
        cuts |= _stretch_cuts(stretch, timeline)
    points = sorted(cuts)
    # Every stretch's start is a cut, so the pieces of stretch i are the ones from its start to
    # the next stretch's; the first starts at 0 and the last ends at the length.
    starts = [0, *(bisect_left(points, s.begin) for s in stretches[1:]), len(points) - 1]
    periods: list[_PeriodBuilder] = []
    for index, stretch in enumerate(stretches):
        tariff = stretch.tariff
        energy_prices = () if isinstance(tariff.energy, UnsetType) else tariff.energy.prices
        charging_prices = _prices(tariff.charging_time)
        idle_prices = _prices(tariff.idle_time)
        for a, b in itertools.pairwise(points[starts[index] : starts[index + 1] + 1]):
            instant = timeline.instant(a)
            state = timeline.state(a)
            energy_index = first_applicable(energy_prices, instant)
            charging_index = (
                first_applicable(charging_prices, instant) if state is State.CHARGING else None
            )
            idle_index = first_applicable(idle_prices, instant) if state is State.IDLE else None
            key = (state, energy_index, charging_index, idle_index)
            if not periods or periods[-1].stretch != index or periods[-1].key != key:
                periods.append(_PeriodBuilder(start=a, end=b, stretch=index, key=key))
            period = periods[-1]
            period.end = b
            seconds = b - a
            energy = timeline.energy(b) - timeline.energy(a)
            period.energy += energy
            if energy_index is not None:
                period.energy_cost += (
                    energy / 1000 * to_fraction(energy_prices[energy_index].price_kwh)
                )
            if state is State.CHARGING:
                period.charging += seconds
                if charging_index is not None:
                    price = to_fraction(charging_prices[charging_index].price_minute)
                    period.charging_cost += seconds / 60 * price
            else:
                period.idle += seconds
                if idle_index is not None:
                    period.idle_cost += (
                        seconds / 60 * to_fraction(idle_prices[idle_index].price_minute)
                    )
            if instant.power is not None:
                period.powers += (instant.power,)
            if instant.current is not None:
                period.currents += (instant.current,)
    return periods


def _fixed(dimension: TariffFixedType | UnsetType, instant: Instant) -> Fraction:
    if isinstance(dimension, UnsetType):
        return Fraction(0)
    index = first_applicable_fixed(dimension.prices, instant)
    return Fraction(0) if index is None else to_fraction(dimension.prices[index].price_fixed)


def _reservation_minutes_cost(
    tariff: TariffType, session: Session, start: datetime, length: Fraction
) -> Fraction:
    prices = _prices(tariff.reservation_time)
    if not prices or length <= 0:
        return Fraction(0)
    conditions = [p.conditions for p in prices if not isinstance(p.conditions, UnsetType)]
    cuts = {Fraction(0), length} | _day_cuts(conditions, start, length, session.tz)
    for c in conditions:
        for bound in (c.min_time, c.max_time):
            if isinstance(bound, int) and 0 < bound < length:
                cuts.add(Fraction(bound))
    points = sorted(cuts)
    cost = Fraction(0)
    for a, b in itertools.pairwise(points):
        moment = start + timedelta(microseconds=int(a * _US))
        instant = Instant(
            local=moment.astimezone(session.tz), elapsed=a, evse_kind=session.evse_kind
        )
        index = first_applicable(prices, instant)
        if index is not None:
            cost += (b - a) / 60 * to_fraction(prices[index].price_minute)
    return cost


def _bound(price: PriceType, currency: str) -> tuple[Decimal, Decimal]:
    """(exclTax, inclTax) of a minCost or maxCost; the one it omits is derived through its
    taxRates (without taxRates, the same amount)."""
    factor = with_taxes(Fraction(1), price.tax_rates)
    if isinstance(price.excl_tax, UnsetType) and isinstance(price.incl_tax, UnsetType):
        raise ValueError("a minCost or maxCost needs exclTax or inclTax")
    if not isinstance(price.excl_tax, UnsetType):
        excl = to_fraction(price.excl_tax)
    elif not isinstance(price.incl_tax, UnsetType):
        excl = to_fraction(price.incl_tax) / factor
    if isinstance(price.incl_tax, UnsetType):
        incl = with_taxes(Fraction(round_money(excl, currency)), price.tax_rates)
    else:
        incl = to_fraction(price.incl_tax)
    return round_money(excl, currency), round_money(incl, currency)


def calculate(
    tariff: TariffType,
    session: Session,
    *,
    at: datetime | None = None,
    changes: Sequence[TariffChange] = (),
) -> CostBreakdown:
    """The cost of ``session`` under ``tariff``: final once the session ended, else at ``at``.

    With ``at``, the session is cut there and only the facts known by then count (its readings
    and state changes up to ``at``): the running cost a station computes at ``at`` is the one a
    CSMS computes from the same facts. ``at`` after the end gives the final cost. ``changes``
    replace the tariff during the session (rule 6 above); they must keep its currency.
    """
    if at is not None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"at must be timezone-aware: {at!r}")
        if at < session.start:
            raise ValueError("at is before the session started")
        view = session.until(at)
        end = at if view.end is None else view.end
    elif session.end is None:
        raise ValueError("the session is still running: pass at")
    else:
        view, end = session, session.end
    currency = tariff.currency.upper()
    # Every change is checked, in force or not, so that whether a cost can be computed does not
    # depend on the instant it is computed at.
    for change in changes:
        if change.tariff.currency.upper() != currency:
            raise ValueError(
                f"tariff {change.tariff.tariff_id} is in {change.tariff.currency}, the session"
                f" in {currency}: a tariff change cannot change the currency"
            )
    timeline = _Timeline(view, end)
    stretches = _stretches(tariff, changes, timeline)
    first, last = stretches[0].tariff, stretches[-1].tariff
    builders = _periods(stretches, timeline)
    zero = round_money(Fraction(0), currency)

    def component(
        parts: Iterable[
            tuple[TariffTimeType | TariffFixedType | TariffEnergyType | UnsetType, Fraction]
        ],
    ) -> ComponentCost | None:
        """One component from (a tariff's dimension, its exact net amount), tariff by tariff."""
        groups: dict[tuple[TaxRateType, ...], Fraction] = {}
        rates: tuple[TaxRateType, ...] = ()
        for dimension, net in parts:
            if not isinstance(dimension, UnsetType):
                rates = (
                    () if isinstance(dimension.tax_rates, UnsetType) else tuple(dimension.tax_rates)
                )
                groups[rates] = groups[rates] + net if rates in groups else net
        if not groups:
            return None
        excl = incl = zero
        for group, net in groups.items():
            rounded = round_money(net, currency)
            excl += rounded
            incl += round_money(with_taxes(Fraction(rounded), group), currency)
        return ComponentCost(excl, incl, rates)

    fixed = component([(first.fixed_fee, _fixed(first.fixed_fee, timeline.instant(Fraction(0))))])
    energy_nets = [Fraction(0)] * len(stretches)
    charging_nets = [Fraction(0)] * len(stretches)
    idle_nets = [Fraction(0)] * len(stretches)
    for p in builders:
        energy_nets[p.stretch] += p.energy_cost
        charging_nets[p.stretch] += p.charging_cost
        idle_nets[p.stretch] += p.idle_cost
    energy = component(zip((s.tariff.energy for s in stretches), energy_nets, strict=True))
    charging_time = component(
        zip((s.tariff.charging_time for s in stretches), charging_nets, strict=True)
    )
    idle_time = component(zip((s.tariff.idle_time for s in stretches), idle_nets, strict=True))
    reservation_time = reservation_fixed = None
    reservation_seconds = None
    if view.reservation is not None:
        reservation = view.reservation
        length = max(_seconds(min(reservation.end, end) - reservation.start), Fraction(0))
        reservation_seconds = _whole(length)
        reservation_time = component(
            [
                (
                    first.reservation_time,
                    _reservation_minutes_cost(first, view, reservation.start, length),
                )
            ]
        )
        opening = Instant(
            local=reservation.start.astimezone(view.tz),
            elapsed=Fraction(0),
            evse_kind=view.evse_kind,
            payment_brand=view.payment_brand,
            payment_recognition=view.payment_recognition,
        )
        reservation_fixed = component(
            [(first.reservation_fixed, _fixed(first.reservation_fixed, opening))]
        )
    components = [
        c
        for c in (fixed, energy, charging_time, idle_time, reservation_time, reservation_fixed)
        if c is not None
    ]
    total_excl = sum((c.excl_tax for c in components), zero)
    total_incl = sum((c.incl_tax for c in components), zero)
    type_of_cost = TariffCostEnumType.NORMAL_COST
    if not isinstance(last.min_cost, UnsetType):
        excl, incl = _bound(last.min_cost, currency)
        if total_excl < excl or total_incl < incl:
            total_excl, total_incl = max(total_excl, excl), max(total_incl, incl)
            type_of_cost = TariffCostEnumType.MIN_COST
    if not isinstance(last.max_cost, UnsetType):
        excl, incl = _bound(last.max_cost, currency)
        if total_excl > excl or total_incl > incl:
            total_excl, total_incl = min(total_excl, excl), min(total_incl, incl)
            type_of_cost = TariffCostEnumType.MAX_COST
    length = timeline.length
    return CostBreakdown(
        tariff_id=last.tariff_id,
        tariff_ids=tuple(
            key for key, _ in itertools.groupby(s.tariff.tariff_id for s in stretches)
        ),
        currency=currency,
        start=view.start,
        end=end,
        ended=session.end is not None and session.end <= end,
        periods=tuple(p.build(timeline, stretches) for p in builders),
        fixed=fixed,
        energy=energy,
        charging_time=charging_time,
        idle_time=idle_time,
        reservation_time=reservation_time,
        reservation_fixed=reservation_fixed,
        total_excl_tax=total_excl,
        total_incl_tax=total_incl,
        type_of_cost=type_of_cost,
        usage=Usage(
            energy_wh=_decimal(timeline.energy(length), Decimal("0.001")),
            charging_seconds=_whole(timeline.spent(length, State.CHARGING)),
            idle_seconds=_whole(timeline.spent(length, State.IDLE)),
            reservation_seconds=reservation_seconds,
        ),
    )


def _whole(value: Fraction) -> int:
    """``value`` rounded half up to an integer (seconds in totalUsage)."""
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))
