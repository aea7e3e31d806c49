"""Properties of the cost engine over random tariffs and sessions.

Preconditions, stated per property:

- every price is >= 0 (a negative price could make any cost negative);
- *longer session*: holds for every such tariff, min/max cost and fixed fees included: the facts
  before the old end do not change, and every condition reads only the past;
- *more energy*: holds for tariffs whose conditions do not make a price fall as energy comes
  sooner. Two families do: conditions on the calendar only (time of day, day, dates, AC/DC), and
  energy tiers only (minEnergy/maxEnergy on the energy prices). A tariff mixing both is not
  monotonic: energy moved from a cheap night into the first, dear tier of a later day can cost
  less in all. Neither family has power conditions, which more energy would change.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec
from hypothesis import assume, given, settings, strategies as st

from kilowatt.messages.v21 import CostDetailsType, TariffType
from kilowatt.tariffs import (
    CostBreakdown,
    MeterReading,
    Session,
    State,
    StateChange,
    calculate,
)
from tests.tariffs.builders import tariff

# Interval lengths with no prime factor but 2 and 5, so that a meter value interpolated at a
# whole second is a finite decimal (the split property inserts one as a reading).
LENGTHS = [50, 100, 125, 200, 250, 400, 500, 800, 1000, 1250, 1600, 2000, 2500, 4000]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]

prices = st.decimals(min_value=0, max_value=2, places=3).map(float)
hours = st.sampled_from([f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)])
days = st.lists(
    st.sampled_from(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
    min_size=1,
    max_size=7,
    unique=True,
)


def calendar_conditions() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "startTimeOfDay": hours,
            "endTimeOfDay": hours,
            "dayOfWeek": days,
            "evseKind": st.sampled_from(["AC", "DC"]),
        },
    )


def tier_conditions() -> st.SearchStrategy[dict[str, Any]]:
    energies = st.integers(min_value=1, max_value=40_000)
    return st.fixed_dictionaries({}, optional={"minEnergy": energies, "maxEnergy": energies})


@st.composite
def volume_discounts(draw: st.DrawFn) -> TariffType:
    """Energy tiers in the usual shape: each kWh past a threshold cheaper than the ones before."""
    thresholds = sorted(
        draw(
            st.lists(
                st.integers(min_value=1, max_value=30_000), min_size=1, max_size=3, unique=True
            )
        )
    )
    tier_prices = sorted(
        draw(st.lists(prices, min_size=len(thresholds) + 1, max_size=len(thresholds) + 1)),
        reverse=True,
    )
    bounds = [None, *thresholds, None]
    tiers = []
    for price, low, high in zip(tier_prices, bounds, bounds[1:], strict=False):
        conditions = {}
        if low is not None:
            conditions["minEnergy"] = low
        if high is not None:
            conditions["maxEnergy"] = high
        tiers.append({"priceKwh": price, "conditions": conditions})
    return tariff(energy={"prices": tiers})


def any_conditions() -> st.SearchStrategy[dict[str, Any]]:
    seconds = st.integers(min_value=1, max_value=20_000)
    return st.fixed_dictionaries(
        {},
        optional={
            "startTimeOfDay": hours,
            "endTimeOfDay": hours,
            "dayOfWeek": days,
            "minEnergy": st.integers(min_value=1, max_value=40_000),
            "maxEnergy": st.integers(min_value=1, max_value=40_000),
            "minPower": st.integers(min_value=0, max_value=60_000),
            "maxPower": st.integers(min_value=1, max_value=60_000),
            "minTime": seconds,
            "maxTime": seconds,
            "minChargingTime": seconds,
            "maxChargingTime": seconds,
            "minIdleTime": seconds,
            "maxIdleTime": seconds,
        },
    )


def elements(price_key: str, conditions: st.SearchStrategy[dict[str, Any]]) -> Any:
    element = st.builds(
        lambda price, c: {price_key: price, **({"conditions": c} if c else {})}, prices, conditions
    )
    return st.lists(element, min_size=1, max_size=4)


tax_rates = st.lists(
    st.builds(
        lambda kind, tax, stack: {"type": kind, "tax": tax, "stack": stack},
        st.sampled_from(["VAT", "State", "City"]),
        st.decimals(min_value=0, max_value=25, places=1).map(float),
        st.integers(min_value=0, max_value=2),
    ),
    max_size=3,
).map(lambda rates: {"taxRates": rates} if rates else {})

bounds = st.builds(
    lambda amount, incl: {"inclTax" if incl else "exclTax": amount},
    st.decimals(min_value=0, max_value=50, places=2).map(float),
    st.booleans(),
)


@st.composite
def tariffs(
    draw: st.DrawFn,
    energy_conditions: st.SearchStrategy[dict[str, Any]],
    time_conditions: st.SearchStrategy[dict[str, Any]],
) -> TariffType:
    fields: dict[str, Any] = {"currency": draw(st.sampled_from(["EUR", "JPY", "KWD"]))}
    if draw(st.booleans()):
        fields["energy"] = {
            "prices": draw(elements("priceKwh", energy_conditions)),
            **draw(tax_rates),
        }
    for name in ("chargingTime", "idleTime"):
        if draw(st.booleans()):
            fields[name] = {
                "prices": draw(elements("priceMinute", time_conditions)),
                **draw(tax_rates),
            }
    if draw(st.booleans()):
        fields["fixedFee"] = {"prices": [{"priceFixed": draw(prices)}], **draw(tax_rates)}
    for name in ("minCost", "maxCost"):
        if draw(st.booleans()):
            fields[name] = draw(bounds)
    return tariff(**fields)


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(min_value=0, max_value=365 * 86_400))
    )
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(LENGTHS),
                st.integers(min_value=0, max_value=20_000),
                st.one_of(st.none(), st.integers(min_value=0, max_value=60_000)),
            ),
            min_size=1,
            max_size=8,
        )
    )
    register = draw(st.integers(min_value=0, max_value=10**6))
    at = start
    readings = [MeterReading(at, Decimal(register))]
    for length, wh, power in steps:
        at += timedelta(seconds=length)
        register += wh
        readings.append(
            MeterReading(at, Decimal(register), None if power is None else Decimal(power))
        )
    total = int((at - start).total_seconds()) + draw(st.integers(min_value=0, max_value=7_200))
    offsets = draw(st.lists(st.integers(min_value=0, max_value=total), max_size=4))
    changes = tuple(
        StateChange(start + timedelta(seconds=o), draw(st.sampled_from(list(State))))
        for o in sorted(offsets)
    )
    return Session(
        start=start,
        end=start + timedelta(seconds=total),
        readings=tuple(readings),
        changes=changes,
        zone=draw(st.sampled_from(ZONES)),
        evse_kind=draw(st.sampled_from(["AC", "DC"])),  # type: ignore[arg-type]
    )


def totals(breakdown: CostBreakdown) -> tuple[Decimal, Decimal]:
    return breakdown.total_excl_tax, breakdown.total_incl_tax


ANY_TARIFF = tariffs(any_conditions(), any_conditions())


@given(ANY_TARIFF, sessions())
@settings(max_examples=150, deadline=None)
def test_cost_is_never_negative(priced: TariffType, session: Session) -> None:
    breakdown = calculate(priced, session)
    components = [
        breakdown.fixed,
        breakdown.energy,
        breakdown.charging_time,
        breakdown.idle_time,
    ]
    for component in components:
        if component is not None:
            assert component.excl_tax >= 0
            assert component.incl_tax >= component.excl_tax
    assert breakdown.total_excl_tax >= 0
    assert breakdown.total_incl_tax >= 0
    for period in breakdown.periods:
        assert min(period.energy_cost, period.charging_time_cost, period.idle_time_cost) >= 0


@given(ANY_TARIFF, sessions(), st.integers(min_value=1, max_value=20_000))
@settings(max_examples=150, deadline=None)
def test_a_longer_session_never_costs_less(priced: TariffType, session: Session, more: int) -> None:
    assert session.end is not None
    longer = replace(session, end=session.end + timedelta(seconds=more))
    shorter_total, longer_total = (
        totals(calculate(priced, session)),
        totals(calculate(priced, longer)),
    )
    assert shorter_total[0] <= longer_total[0]
    assert shorter_total[1] <= longer_total[1]


def more_energy(session: Session, index: int, wh: int) -> Session:
    """The same session with ``wh`` more in the interval before reading ``index``."""
    readings = tuple(
        replace(r, energy_wh=r.energy_wh + wh) if i >= index else r
        for i, r in enumerate(session.readings)
    )
    return replace(session, readings=readings)


@given(
    st.one_of(
        tariffs(calendar_conditions(), calendar_conditions()),
        tariffs(tier_conditions(), st.just({})),
        volume_discounts(),
    ),
    sessions(),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=20_000),
)
@settings(max_examples=400, deadline=None)
def test_more_energy_never_costs_less(
    priced: TariffType, session: Session, index: int, wh: int
) -> None:
    index = 1 + index % (len(session.readings) - 1)
    before, after = calculate(priced, session), calculate(priced, more_energy(session, index, wh))
    assert before.total_excl_tax <= after.total_excl_tax
    assert before.total_incl_tax <= after.total_incl_tax


def with_reading_at(session: Session, at: datetime) -> Session | None:
    """The session with one more reading at ``at``, on the line between its neighbours."""
    readings = session.readings
    for before, after in itertools.pairwise(readings):
        if before.at < at < after.at:
            ratio = Fraction((at - before.at) // timedelta(microseconds=1)) / (
                (after.at - before.at) // timedelta(microseconds=1)
            )
            exact = (
                Fraction(before.energy_wh)
                + (Fraction(after.energy_wh) - Fraction(before.energy_wh)) * ratio
            )
            value = Decimal(exact.numerator) / Decimal(exact.denominator)
            assert Fraction(value) == exact  # LENGTHS make it a finite decimal
            extra = replace(before, at=at, energy_wh=value)
            return replace(session, readings=(*readings, extra))
    return None


@given(ANY_TARIFF, sessions(), st.integers(min_value=1, max_value=30_000))
@settings(max_examples=200, deadline=None)
def test_a_reading_in_between_does_not_change_the_cost(
    priced: TariffType, session: Session, second: int
) -> None:
    # A station reporting its meter at any instant (a running-cost update, a sampled value)
    # splits the session there; the final cost and the periods stay the same.
    split = with_reading_at(session, session.start + timedelta(seconds=second))
    assume(split is not None)
    assert split is not None
    whole, parts = calculate(priced, session), calculate(priced, split)
    assert totals(whole) == totals(parts)
    assert whole.to_cost_details() == parts.to_cost_details()


@given(ANY_TARIFF, sessions(), st.integers(min_value=0, max_value=40_000))
@settings(max_examples=150, deadline=None)
def test_running_cost_then_total(priced: TariffType, session: Session, second: int) -> None:
    # The running cost at t is what a station knowing the facts up to t computes; computing it
    # leaves the final cost unchanged, and the cost at (or after) the end is the final cost.
    assert session.end is not None
    final = calculate(priced, session)
    t = session.start + timedelta(seconds=second)
    running = calculate(priced, session, at=t)
    assert running == calculate(priced, session.until(t), at=t)
    assert running.ended is (t >= session.end)
    assert calculate(priced, session) == final
    assert calculate(priced, session, at=session.end) == final
    assert calculate(priced, session, at=session.end + timedelta(hours=1)) == final
    if t >= session.end:
        assert running == final


@given(ANY_TARIFF, sessions())
@settings(max_examples=100, deadline=None)
def test_periods_cover_the_session(priced: TariffType, session: Session) -> None:
    breakdown = calculate(priced, session)
    periods = breakdown.periods
    assert session.end is not None
    if session.end == session.start:
        assert periods == ()
        return
    assert periods[0].start == session.start
    assert periods[-1].end == session.end
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
        assert (
            before.energy_price,
            before.charging_time_price,
            before.idle_time_price,
            before.charging_seconds > 0,
        ) != (
            after.energy_price,
            after.charging_time_price,
            after.idle_time_price,
            after.charging_seconds > 0,
        )
    slack = Decimal("0.000001") * len(periods)
    assert abs(sum(p.energy_wh for p in periods) - breakdown.usage.energy_wh) <= slack + Decimal(
        "0.001"
    )
    seconds = sum(p.charging_seconds + p.idle_seconds for p in periods)
    assert abs(seconds - Decimal((session.end - session.start).total_seconds())) <= slack
    wire = msgspec.json.encode(breakdown.to_cost_details())
    assert msgspec.json.decode(wire, type=CostDetailsType) == breakdown.to_cost_details()
