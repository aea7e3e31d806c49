"""Tariff changes during a session (ChangeTransactionTariff, I12): hand-computed cases, then
properties over random tariffs, sessions and changes.

Preconditions of the properties, as in test_properties: every price >= 0, and for *more energy*
tariffs whose prices depend on the time only (calendar conditions). Energy tiers are out even
though one tier tariff alone is monotonic: a later tariff's minEnergy counts the energy since the
session start, so energy charged sooner under a cheap first tariff can move the rest of the
session into a cheaper tier of the next one, and cost less in all.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from kilowatt.messages.v21 import TariffCostEnumType, TariffType
from kilowatt.tariffs import (
    CostBreakdown,
    MeterReading,
    Reservation,
    Session,
    TariffChange,
    calculate,
)
from tests.tariffs.builders import T0, change, energy, linear, minutes, tariff
from tests.tariffs.test_properties import (
    ANY_TARIFF,
    calendar_conditions,
    more_energy,
    sessions,
    tariffs,
    totals,
)

D = Decimal
HOUR = timedelta(hours=1)

T1_030 = tariff(energy=energy({"priceKwh": 0.30}))
T2_040 = tariff(tariffId="T2", energy=energy({"priceKwh": 0.40}))
T3_050 = tariff(tariffId="T3", energy=energy({"priceKwh": 0.50}))
# Night from 22:00 at 0.30, else 0.40; the second tariff: night from 23:00 at 0.20, else 0.50.
NIGHT_22 = tariff(
    energy=energy(
        {"priceKwh": 0.30, "conditions": {"startTimeOfDay": "22:00", "endTimeOfDay": "06:00"}},
        {"priceKwh": 0.40},
    )
)
NIGHT_23 = tariff(
    tariffId="T2",
    energy=energy(
        {"priceKwh": 0.20, "conditions": {"startTimeOfDay": "23:00", "endTimeOfDay": "06:00"}},
        {"priceKwh": 0.50},
    ),
)
# 0.50 for the first 8 kWh of the session, 0.20 from then on.
TIERS = tariff(
    tariffId="T2",
    energy=energy(
        {"priceKwh": 0.50, "conditions": {"maxEnergy": 8_000}},
        {"priceKwh": 0.20, "conditions": {"minEnergy": 8_000}},
    ),
)
IDLE_FEE = tariff(
    tariffId="T2",
    energy=energy({"priceKwh": 0.30}),
    idleTime={"prices": [{"priceMinute": 0.10}]},
)

CASES = [
    pytest.param(
        # 11 kWh over 60 min at a constant power, 0.30 -> 0.40 at 30 min: 5.5 kWh x 0.30 = 1.65,
        # 5.5 kWh x 0.40 = 2.20; 3.85 in all.
        T1_030,
        linear(T0, HOUR, 11_000),
        [change(minutes(30), T2_040)],
        D("3.85"),
        id="energy-price-change",
    ),
    pytest.param(
        # 21:00-00:00 Berlin, 10 kWh an hour, the second tariff from 22:30: 21:00-22:00 day 0.40
        # x 10 = 4.00, 22:00-22:30 night 0.30 x 5 = 1.50, then the second tariff's day 22:30-23:00
        # 0.50 x 5 = 2.50 and its night 23:00-00:00 0.20 x 10 = 2.00; 10.00.
        NIGHT_22,
        linear(T0, 3 * HOUR, 30_000, zone="Europe/Berlin"),
        [change(minutes(90), NIGHT_23)],
        D("10.00"),
        id="change-and-time-of-day",
    ),
    pytest.param(
        # A change at the start replaces the first tariff: 10 kWh x 0.40.
        T1_030,
        linear(T0, HOUR, 10_000),
        [change(timedelta(0), T2_040)],
        D("4.00"),
        id="change-at-the-start",
    ),
    pytest.param(
        # So does one before it.
        T1_030,
        linear(T0, HOUR, 10_000),
        [change(-minutes(1), T2_040)],
        D("4.00"),
        id="change-before-the-start",
    ),
    pytest.param(
        # One after the end has no effect: 10 kWh x 0.30.
        T1_030,
        linear(T0, HOUR, 10_000),
        [change(minutes(61), T2_040)],
        D("3.00"),
        id="change-after-the-end",
    ),
    pytest.param(
        # Two at 30 min: the later in the list wins: 5 kWh x 0.30 + 5 kWh x 0.50 = 4.00.
        T1_030,
        linear(T0, HOUR, 10_000),
        [change(minutes(30), T2_040), change(minutes(30), T3_050)],
        D("4.00"),
        id="same-instant-later-wins",
    ),
    pytest.param(
        # Sorted by time, not by the list: 0.30 till 20 min, 0.40 till 40, then 0.50; a third of
        # 12 kWh each: 4 x (0.30 + 0.40 + 0.50) = 4.80.
        T1_030,
        linear(T0, HOUR, 12_000),
        [change(minutes(40), T3_050), change(minutes(20), T2_040)],
        D("4.80"),
        id="sorted-by-time",
    ),
    pytest.param(
        # 10 kWh in 60 min, the tiers from 30 min (5 kWh): 5 kWh x 0.30 = 1.50 before, then
        # 5 -> 8 kWh of the session at 0.50 = 1.50, 8 -> 10 kWh at 0.20 = 0.40; 3.40. The tiers
        # count from the session start, not from the change.
        T1_030,
        linear(T0, HOUR, 10_000),
        [change(minutes(30), TIERS)],
        D("3.40"),
        id="min-energy-since-the-session-start",
    ),
    pytest.param(
        # 10 kWh x 0.30 = 3.00 charging for 60 min, then idle 30 min: 15 min free under the
        # first tariff (no idleTime), 15 min x 0.10 = 1.50 under the second; 4.50.
        T1_030,
        linear(T0, HOUR, 10_000, idle_after=HOUR, end=T0 + minutes(90)),
        [change(minutes(75), IDLE_FEE)],
        D("4.50"),
        id="idle-fee-of-the-second-tariff",
    ),
]


@pytest.mark.parametrize(("first", "session", "changes", "total"), CASES)
def test_totals(
    first: TariffType, session: Session, changes: list[TariffChange], total: Decimal
) -> None:
    breakdown = calculate(first, session, changes=changes)
    assert totals(breakdown) == (total, total)
    assert breakdown.type_of_cost is TariffCostEnumType.NORMAL_COST


def test_periods_carry_their_tariff() -> None:
    # The time-of-day case: 21:00, 22:00 under the first tariff, 22:30, 23:00 under the second.
    breakdown = calculate(
        NIGHT_22,
        linear(T0, 3 * HOUR, 30_000, zone="Europe/Berlin"),
        changes=[change(minutes(90), NIGHT_23)],
    )
    assert [(p.start, p.tariff_id, p.energy_price, p.energy_cost) for p in breakdown.periods] == [
        (T0, "T1", 1, D("4")),
        (T0 + HOUR, "T1", 0, D("1.5")),
        (T0 + minutes(90), "T2", 1, D("2.5")),
        (T0 + 2 * HOUR, "T2", 0, D("2")),
    ]
    assert (breakdown.tariff_id, breakdown.tariff_ids) == ("T2", ("T1", "T2"))
    document = msgspec.json.decode(msgspec.json.encode(breakdown.to_cost_details()))
    assert [(p["startPeriod"], p["tariffId"]) for p in document["chargingPeriods"]] == [
        ("2025-01-06T20:00:00Z", "T1"),
        ("2025-01-06T21:00:00Z", "T1"),
        ("2025-01-06T21:30:00Z", "T2"),
        ("2025-01-06T22:00:00Z", "T2"),
    ]


def test_a_period_never_spans_a_change() -> None:
    # The same prices on both sides (0.30): without the cut at 30 min it would be one period.
    same_price = tariff(tariffId="T2", energy=energy({"priceKwh": 0.30}))
    breakdown = calculate(
        T1_030, linear(T0, HOUR, 10_000), changes=[change(minutes(30), same_price)]
    )
    assert [(p.start, p.end, p.tariff_id) for p in breakdown.periods] == [
        (T0, T0 + minutes(30), "T1"),
        (T0 + minutes(30), T0 + HOUR, "T2"),
    ]
    assert totals(breakdown) == (D("3.00"), D("3.00"))


def test_tariff_ids_in_order() -> None:
    # T1 -> T2 -> T1 lists T1 twice; a change to the tariff in force adds no id, but still cuts.
    session = linear(T0, HOUR, 10_000)
    there_and_back = [change(minutes(20), T2_040), change(minutes(40), T1_030)]
    assert calculate(T1_030, session, changes=there_and_back).tariff_ids == ("T1", "T2", "T1")
    again = calculate(T1_030, session, changes=[change(minutes(30), T1_030)])
    assert again.tariff_ids == ("T1",)
    assert [p.start for p in again.periods] == [T0, T0 + minutes(30)]
    # Before the start: the first tariff is never in force.
    before = calculate(T1_030, session, changes=[change(-minutes(5), T2_040)])
    assert (before.tariff_id, before.tariff_ids) == ("T2", ("T2",))


@pytest.mark.parametrize(
    ("after", "fixed", "reservation_time", "reservation_fixed", "total"),
    [
        # The change at 30 min leaves the first tariff's fees: 1.00, 15 min x 0.10 = 1.50, 0.50;
        # plus 10 kWh x 0.30 = 3.00: 6.00.
        (minutes(30), D("1.00"), D("1.50"), D("0.50"), D("6.00")),
        # One at the start puts the second's: 2.50, 15 min x 0.50 = 7.50, 3.00; + 3.00 = 16.00.
        (timedelta(0), D("2.50"), D("7.50"), D("3.00"), D("16.00")),
    ],
)
def test_fixed_fee_and_reservation_from_the_tariff_at_the_start(
    after: timedelta,
    fixed: Decimal,
    reservation_time: Decimal,
    reservation_fixed: Decimal,
    total: Decimal,
) -> None:
    def fees(tariff_id: str, fee: float, per_minute: float, reserving: float) -> TariffType:
        return tariff(
            tariffId=tariff_id,
            energy=energy({"priceKwh": 0.30}),
            fixedFee={"prices": [{"priceFixed": fee}]},
            reservationTime={"prices": [{"priceMinute": per_minute}]},
            reservationFixed={"prices": [{"priceFixed": reserving}]},
        )

    session = linear(T0, HOUR, 10_000, reservation=Reservation(T0 - minutes(15), T0))
    breakdown = calculate(
        fees("T1", 1.00, 0.10, 0.50),
        session,
        changes=[change(after, fees("T2", 2.50, 0.50, 3.00))],
    )
    assert breakdown.fixed is not None and breakdown.fixed.excl_tax == fixed
    assert breakdown.reservation_time is not None
    assert breakdown.reservation_time.excl_tax == reservation_time
    assert breakdown.reservation_fixed is not None
    assert breakdown.reservation_fixed.excl_tax == reservation_fixed
    assert totals(breakdown) == (total, total)


@pytest.mark.parametrize(
    ("first_bounds", "second_bounds", "total", "kind"),
    [
        # 10 kWh x 0.30 = 3.00 under both; the first tariff's minimum of 10.00 is gone.
        ({"minCost": {"exclTax": 10.00}}, {}, D("3.00"), TariffCostEnumType.NORMAL_COST),
        # The second's minimum of 5.00 holds.
        ({}, {"minCost": {"exclTax": 5.00}}, D("5.00"), TariffCostEnumType.MIN_COST),
        # The second's maximum of 2.50, not the first's 2.00.
        (
            {"maxCost": {"exclTax": 2.00}},
            {"maxCost": {"exclTax": 2.50}},
            D("2.50"),
            TariffCostEnumType.MAX_COST,
        ),
    ],
)
def test_min_and_max_cost_from_the_tariff_at_the_end(
    first_bounds: dict[str, Any],
    second_bounds: dict[str, Any],
    total: Decimal,
    kind: TariffCostEnumType,
) -> None:
    first = tariff(energy=energy({"priceKwh": 0.30}), **first_bounds)
    second = tariff(tariffId="T2", energy=energy({"priceKwh": 0.30}), **second_bounds)
    breakdown = calculate(first, linear(T0, HOUR, 10_000), changes=[change(minutes(30), second)])
    assert totals(breakdown) == (total, total)
    assert breakdown.type_of_cost is kind


def test_a_change_at_the_end() -> None:
    # It prices nothing (10 kWh x 0.30 = 3.00 under the first tariff) but is the tariff in force
    # at the end: its minimum of 5.00 holds, and its id is the breakdown's.
    last = tariff(tariffId="T2", energy=energy({"priceKwh": 0.40}), minCost={"exclTax": 5.00})
    session = Session(
        start=T0,
        end=T0 + HOUR,
        readings=tuple(MeterReading(T0 + minutes(30 * i), D(5_000 * i)) for i in range(3)),
    )
    final = calculate(T1_030, session, changes=[change(HOUR, last)])
    assert final.energy is not None and final.energy.excl_tax == D("3.00")
    assert totals(final) == (D("5.00"), D("5.00"))
    assert final.type_of_cost is TariffCostEnumType.MIN_COST
    assert (final.tariff_id, final.tariff_ids) == ("T2", ("T1", "T2"))
    assert [p.tariff_id for p in final.periods] == ["T1"]
    # At 30 min the same change is still to come: 5 kWh x 0.30.
    running = calculate(T1_030, session, at=T0 + minutes(30), changes=[change(HOUR, last)])
    assert totals(running) == (D("1.50"), D("1.50"))
    assert running.tariff_ids == ("T1",)


def test_the_currency_cannot_change() -> None:
    session = linear(T0, HOUR, 10_000)
    dollars = tariff("USD", tariffId="T2", energy=energy({"priceKwh": 0.40}))
    with pytest.raises(ValueError, match="currency"):
        calculate(T1_030, session, changes=[change(minutes(30), dollars)])
    # Refused even after the end: whether a cost can be computed does not depend on when.
    with pytest.raises(ValueError, match="currency"):
        calculate(T1_030, session, changes=[change(2 * HOUR, dollars)])
    # The code in another case is the same currency: 5 kWh x 0.30 + 5 kWh x 0.40.
    lower = tariff("eur", tariffId="T2", energy=energy({"priceKwh": 0.40}))
    breakdown = calculate(T1_030, session, changes=[change(minutes(30), lower)])
    assert (breakdown.currency, breakdown.total_excl_tax) == ("EUR", D("3.50"))


def test_tax_rates_per_tariff() -> None:
    # 10 kWh in 60 min, change at 30: 5 kWh x 0.30 = 1.50 with 19 % = 1.785 -> 1.79; 5 kWh x 0.40
    # = 2.00 with 21 % = 2.42. 3.50 and 4.21 (taxing 3.50 by one of the rates: 4.17 or 4.24).
    first = tariff(energy=energy({"priceKwh": 0.30}, taxRates=[{"type": "VAT", "tax": 19}]))
    second = tariff(
        tariffId="T2", energy=energy({"priceKwh": 0.40}, taxRates=[{"type": "VAT", "tax": 21}])
    )
    breakdown = calculate(first, linear(T0, HOUR, 10_000), changes=[change(minutes(30), second)])
    assert breakdown.energy is not None
    assert (breakdown.energy.excl_tax, breakdown.energy.incl_tax) == (D("3.50"), D("4.21"))
    assert [rate.tax for rate in breakdown.energy.tax_rates] == [21]
    assert totals(breakdown) == (D("3.50"), D("4.21"))


@pytest.mark.parametrize(
    ("second_rates", "excl", "incl"),
    [
        # The same (no) tax rates: one group, rounded once: 0.125 + 0.125 = 0.25.
        ({}, D("0.25"), D("0.25")),
        # Other rates: two groups, each rounded: 0.125 -> 0.13 twice = 0.26; incl. tax 0.13 and
        # 0.13 + 10 % = 0.143 -> 0.14: 0.27.
        ({"taxRates": [{"type": "VAT", "tax": 10}]}, D("0.26"), D("0.27")),
    ],
)
def test_rounding_per_tax_group(second_rates: dict[str, Any], excl: Decimal, incl: Decimal) -> None:
    # 1 kWh in 60 min at 0.25 under both tariffs, the change at 30 min.
    first = tariff(energy=energy({"priceKwh": 0.25}))
    second = tariff(tariffId="T2", energy=energy({"priceKwh": 0.25}, **second_rates))
    breakdown = calculate(first, linear(T0, HOUR, 1_000), changes=[change(minutes(30), second)])
    assert totals(breakdown) == (excl, incl)


def test_a_tariff_without_a_dimension() -> None:
    # Idle from 60 to 120 min; the idle fee (0.05/min + 20 %) is the first tariff's only: 30 min
    # until the change at 90 = 1.50, 1.80 with tax; nothing after. The component shows the rates
    # of the last tariff that had the dimension.
    idle_fee = tariff(
        energy=energy({"priceKwh": 0.30}),
        idleTime={"prices": [{"priceMinute": 0.05}], "taxRates": [{"type": "VAT", "tax": 20}]},
    )
    no_idle_fee = tariff(tariffId="T2", energy=energy({"priceKwh": 0.30}))
    session = linear(T0, HOUR, 10_000, idle_after=HOUR, end=T0 + 2 * HOUR)
    breakdown = calculate(idle_fee, session, changes=[change(minutes(90), no_idle_fee)])
    assert breakdown.idle_time is not None
    assert (breakdown.idle_time.excl_tax, breakdown.idle_time.incl_tax) == (D("1.50"), D("1.80"))
    assert [rate.tax for rate in breakdown.idle_time.tax_rates] == [20]
    assert totals(breakdown) == (D("4.50"), D("4.80"))
    # A tariff replaced at the start is never in force: no idle component at all.
    replaced = calculate(idle_fee, session, changes=[change(timedelta(0), no_idle_fee)])
    assert replaced.idle_time is None
    assert totals(replaced) == (D("3.00"), D("3.00"))


def test_a_change_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TariffChange(datetime(2025, 1, 6, 20, 30), T2_040)


def test_no_change_is_the_tariff_alone() -> None:
    session = Session(
        start=T0,
        end=T0 + HOUR,
        readings=(MeterReading(T0, D(0)), MeterReading(T0 + HOUR, D(10_000))),
    )
    assert calculate(NIGHT_22, session, changes=()) == calculate(NIGHT_22, session)
    assert calculate(NIGHT_22, session).tariff_ids == ("T1",)


# Properties.


@st.composite
def priced_sessions(
    draw: st.DrawFn, family: st.SearchStrategy[TariffType]
) -> tuple[TariffType, Session, list[TariffChange]]:
    """A tariff, a session, and up to three changes in the tariff's currency, from a little
    before the start to a little after the end."""
    first = draw(family)
    session = draw(sessions())
    assert session.end is not None
    span = int((session.end - session.start).total_seconds())
    changes = []
    for index in range(draw(st.integers(min_value=0, max_value=3))):
        to = msgspec.structs.replace(draw(family), currency=first.currency, tariff_id=f"C{index}")
        offset = draw(st.integers(min_value=-600, max_value=span + 600))
        changes.append(TariffChange(session.start + timedelta(seconds=offset), to))
    return first, session, changes


def in_force(first: TariffType, changes: list[TariffChange], at: datetime) -> str:
    """The id of the tariff in force at ``at``, found without the engine."""
    earlier = [c for c in sorted(changes, key=lambda c: c.at) if c.at <= at]
    return earlier[-1].tariff.tariff_id if earlier else first.tariff_id


@given(ANY_TARIFF, sessions(), st.integers(min_value=-600, max_value=45_000))
@settings(max_examples=150, deadline=None)
def test_a_copy_under_another_id_costs_the_same(
    priced: TariffType, session: Session, second: int
) -> None:
    copy = msgspec.structs.replace(priced, tariff_id="COPY")
    at = session.start + timedelta(seconds=second)
    alone = calculate(priced, session)
    changed = calculate(priced, session, changes=[TariffChange(at, copy)])

    def costs(breakdown: CostBreakdown) -> tuple[object, ...]:
        return (
            totals(breakdown),
            breakdown.type_of_cost,
            breakdown.fixed,
            breakdown.energy,
            breakdown.charging_time,
            breakdown.idle_time,
            breakdown.usage,
        )

    assert costs(changed) == costs(alone)


@given(priced_sessions(ANY_TARIFF), st.integers(min_value=0, max_value=45_000))
@settings(max_examples=150, deadline=None)
def test_running_cost_is_what_was_known(
    case: tuple[TariffType, Session, list[TariffChange]], second: int
) -> None:
    first, session, changes = case
    t = session.start + timedelta(seconds=second)
    running = calculate(first, session, at=t, changes=changes)
    assert running == calculate(first, session.until(t), at=t, changes=changes)


@given(priced_sessions(ANY_TARIFF))
@settings(max_examples=150, deadline=None)
def test_cost_is_never_negative(case: tuple[TariffType, Session, list[TariffChange]]) -> None:
    first, session, changes = case
    breakdown = calculate(first, session, changes=changes)
    for component in (
        breakdown.fixed,
        breakdown.energy,
        breakdown.charging_time,
        breakdown.idle_time,
    ):
        if component is not None:
            assert component.excl_tax >= 0
            assert component.incl_tax >= component.excl_tax
    assert breakdown.total_excl_tax >= 0
    assert breakdown.total_incl_tax >= 0
    for period in breakdown.periods:
        assert min(period.energy_cost, period.charging_time_cost, period.idle_time_cost) >= 0


@given(priced_sessions(ANY_TARIFF))
@settings(max_examples=100, deadline=None)
def test_periods_follow_the_changes(case: tuple[TariffType, Session, list[TariffChange]]) -> None:
    first, session, changes = case
    breakdown = calculate(first, session, changes=changes)
    for period in breakdown.periods:
        assert period.tariff_id == in_force(first, changes, period.start)
        assert not any(period.start < c.at < period.end for c in changes)
    assert session.end is not None
    assert breakdown.tariff_id == in_force(first, changes, session.end)
    instants = [session.start, *(c.at for c in changes if session.start < c.at <= session.end)]
    in_order = (in_force(first, changes, at) for at in sorted(instants))
    assert breakdown.tariff_ids == tuple(key for key, _ in itertools.groupby(in_order))
    # Every tariff in force has its periods, but one that comes into force at the very end.
    priced = [key for key, _ in itertools.groupby(p.tariff_id for p in breakdown.periods)]
    assert priced in (list(breakdown.tariff_ids), list(breakdown.tariff_ids[:-1]))


CALENDAR = tariffs(calendar_conditions(), calendar_conditions())


@given(
    priced_sessions(CALENDAR),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=20_000),
)
@settings(max_examples=300, deadline=None)
def test_more_energy_never_costs_less(
    case: tuple[TariffType, Session, list[TariffChange]], index: int, wh: int
) -> None:
    first, session, changes = case
    index = 1 + index % (len(session.readings) - 1)
    before = calculate(first, session, changes=changes)
    after = calculate(first, more_energy(session, index, wh), changes=changes)
    assert before.total_excl_tax <= after.total_excl_tax
    assert before.total_incl_tax <= after.total_incl_tax
