"""Hand-computed cases of the cost engine: a tariff feature each, the arithmetic in a comment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from kilowatt.messages.v21 import CostDetailsType, TariffCostEnumType
from kilowatt.tariffs import (
    EvseKind,
    MeterReading,
    Reservation,
    Session,
    State,
    StateChange,
    calculate,
)
from tests.tariffs.builders import T0, energy, linear, minutes, tariff

D = Decimal
HOUR = timedelta(hours=1)

NIGHT_AND_DAY = tariff(
    energy=energy(
        {"priceKwh": 0.30, "conditions": {"startTimeOfDay": "22:00", "endTimeOfDay": "06:00"}},
        {"priceKwh": 0.40},
    )
)


def test_time_of_day_boundary_inside_a_session() -> None:
    # 21:00-23:00 Berlin (20:00-22:00 UTC), 20 kWh at a constant rate: 10 kWh before 22:00 at
    # 0.40 = 4.00, 10 kWh after at 0.30 = 3.00.
    breakdown = calculate(NIGHT_AND_DAY, linear(T0, 2 * HOUR, 20_000, zone="Europe/Berlin"))
    assert breakdown.total_excl_tax == D("7.00")
    assert [p.start for p in breakdown.periods] == [T0, T0 + HOUR]
    assert [p.energy_price for p in breakdown.periods] == [1, 0]
    assert [p.energy_wh for p in breakdown.periods] == [D(10_000), D(10_000)]


def test_the_boundary_follows_the_zone() -> None:
    # The same UTC session read in UTC is 20:00-22:00 local: all of it at the day price.
    breakdown = calculate(NIGHT_AND_DAY, linear(T0, 2 * HOUR, 20_000, zone="UTC"))
    assert breakdown.total_excl_tax == D("8.00")
    assert len(breakdown.periods) == 1


def test_idle_fee_after_a_grace_period() -> None:
    # 1 h charging 10 kWh at 0.30 = 3.00; then 90 min idle, the first 30 free (minIdleTime 1800),
    # 60 min at 0.05 = 3.00.
    idle = tariff(
        energy=energy({"priceKwh": 0.30}),
        idleTime={"prices": [{"priceMinute": 0.05, "conditions": {"minIdleTime": 1800}}]},
    )
    session = linear(T0, HOUR, 10_000, idle_after=HOUR, end=T0 + HOUR + minutes(90))
    breakdown = calculate(idle, session)
    assert breakdown.energy is not None and breakdown.energy.excl_tax == D("3.00")
    assert breakdown.idle_time is not None and breakdown.idle_time.excl_tax == D("3.00")
    assert breakdown.total_incl_tax == D("6.00")
    assert [p.start for p in breakdown.periods] == [T0, T0 + HOUR, T0 + HOUR + minutes(30)]
    assert [p.idle_time_price for p in breakdown.periods] == [None, None, 0]
    assert breakdown.usage.idle_seconds == 5400
    assert breakdown.usage.charging_seconds == 3600


def test_idle_grace_counts_idle_time_only() -> None:
    # Idle 20 min, charging again 10 min, idle 20 min: 40 min idle in all, 10 past the 30 min
    # grace: 0.50.
    idle = tariff(idleTime={"prices": [{"priceMinute": 0.05, "conditions": {"minIdleTime": 1800}}]})
    session = Session(
        start=T0,
        end=T0 + minutes(50),
        readings=(MeterReading(T0, D(0)),),
        changes=(
            StateChange(T0, State.IDLE),
            StateChange(T0 + minutes(20), State.CHARGING),
            StateChange(T0 + minutes(30), State.IDLE),
        ),
    )
    assert calculate(idle, session).total_excl_tax == D("0.50")


def test_charging_time_after_the_first_hour() -> None:
    # 90 min charging, 0.10/min from 60 min of charging on: 30 x 0.10 = 3.00.
    timed = tariff(
        chargingTime={"prices": [{"priceMinute": 0.10, "conditions": {"minChargingTime": 3600}}]}
    )
    breakdown = calculate(timed, linear(T0, minutes(90), 15_000))
    assert breakdown.total_excl_tax == D("3.00")
    assert [p.charging_time_price for p in breakdown.periods] == [None, 0]


MIN_AND_MAX = [
    # 5 kWh x 0.30 = 1.50 < min 5.00 excl. tax: 5.00, and 5.95 with the min's 19 % VAT.
    (
        {"minCost": {"exclTax": 5.00, "taxRates": [{"type": "VAT", "tax": 19}]}},
        5_000,
        D("5.00"),
        D("5.95"),
        TariffCostEnumType.MIN_COST,
    ),
    # 100 kWh x 0.30 = 30.00 > max 10.00 incl. tax; excl. tax 10.00 / 1.19 = 8.403 -> 8.40.
    (
        {"maxCost": {"inclTax": 10.00, "taxRates": [{"type": "VAT", "tax": 19}]}},
        100_000,
        D("8.40"),
        D("10.00"),
        TariffCostEnumType.MAX_COST,
    ),
    # 20 kWh x 0.30 = 6.00, between min 5.00 and max 10.00: normal.
    (
        {"minCost": {"exclTax": 5.00}, "maxCost": {"exclTax": 10.00}},
        20_000,
        D("6.00"),
        D("6.00"),
        TariffCostEnumType.NORMAL_COST,
    ),
    # Both given: both used as they are.
    (
        {"minCost": {"exclTax": 5.00, "inclTax": 6.00}},
        1_000,
        D("5.00"),
        D("6.00"),
        TariffCostEnumType.MIN_COST,
    ),
]


@pytest.mark.parametrize(("bounds", "wh", "excl", "incl", "kind"), MIN_AND_MAX)
def test_min_and_max_cost(
    bounds: dict[str, object], wh: int, excl: Decimal, incl: Decimal, kind: TariffCostEnumType
) -> None:
    bounded = tariff(energy=energy({"priceKwh": 0.30}), **bounds)
    breakdown = calculate(bounded, linear(T0, HOUR, wh))
    assert (breakdown.total_excl_tax, breakdown.total_incl_tax) == (excl, incl)
    assert breakdown.type_of_cost is kind
    assert breakdown.to_total_cost().type_of_cost is kind


def test_max_cost_compares_incl_tax_when_it_has_no_excl_tax() -> None:
    # 8.00 excl. tax is 9.52 incl. 19 %: above an inclTax-only max of 9.00, though 8.00 < 9.00.
    taxed = tariff(
        energy=energy({"priceKwh": 0.40}, taxRates=[{"type": "VAT", "tax": 19}]),
        maxCost={"inclTax": 9.00},
    )
    breakdown = calculate(taxed, linear(T0, HOUR, 20_000))
    assert breakdown.type_of_cost is TariffCostEnumType.MAX_COST
    assert breakdown.total_incl_tax == D("9.00")


def test_stacked_taxes() -> None:
    # Net 10.00; stack 0: 5 % + 8 % of 10.00 = 1.30 -> 11.30; stack 1: 10 % of 11.30 = 1.13
    # -> 12.43.
    taxed = tariff(
        energy=energy(
            {"priceKwh": 0.50},
            taxRates=[
                {"type": "Federal", "tax": 5},
                {"type": "State", "tax": 8, "stack": 0},
                {"type": "Local", "tax": 10, "stack": 1},
            ],
        )
    )
    breakdown = calculate(taxed, linear(T0, HOUR, 20_000))
    assert breakdown.energy is not None
    assert (breakdown.energy.excl_tax, breakdown.energy.incl_tax) == (D("10.00"), D("12.43"))
    assert (breakdown.total_excl_tax, breakdown.total_incl_tax) == (D("10.00"), D("12.43"))


def test_taxes_per_component() -> None:
    # Energy 3.00 with 20 % VAT = 3.60; a fixed fee of 1.00 without tax rates stays 1.00.
    mixed = tariff(
        energy=energy({"priceKwh": 0.30}, taxRates=[{"type": "VAT", "tax": 20}]),
        fixedFee={"prices": [{"priceFixed": 1.00}]},
    )
    breakdown = calculate(mixed, linear(T0, HOUR, 10_000))
    assert breakdown.total_incl_tax == D("4.60")
    assert breakdown.total_excl_tax == D("4.00")


ROUNDING = [
    # 0.25 x 0.5 kWh = 0.125: half up to 0.13 (half-even would give 0.12).
    ("EUR", 0.25, 500, D("0.13")),
    # 0.333 x 1.5 kWh = 0.4995 -> 0.50.
    ("USD", 0.333, 1_500, D("0.50")),
    # 33.3 JPY x 1.5 kWh = 49.95 -> 50 (no minor unit).
    ("JPY", 33.3, 1_500, D("50")),
    # 0.1235 KWD x 1 kWh -> 0.124 (3 decimals).
    ("KWD", 0.1235, 1_000, D("0.124")),
    # 0.004 x 1 kWh = 0.004 -> 0.00.
    ("EUR", 0.004, 1_000, D("0.00")),
]


@pytest.mark.parametrize(("currency", "price", "wh", "total"), ROUNDING)
def test_rounding_per_currency(currency: str, price: float, wh: int, total: Decimal) -> None:
    priced = tariff(currency=currency, energy=energy({"priceKwh": price}))
    breakdown = calculate(priced, linear(T0, HOUR, wh))
    assert breakdown.total_incl_tax == total
    assert breakdown.total_incl_tax.as_tuple().exponent == total.as_tuple().exponent


def test_a_component_is_rounded_once_not_per_period() -> None:
    # Two periods of 0.5 kWh at 0.25 (the same price by two elements): 0.125 + 0.125 = 0.25;
    # rounding each period would give 0.13 + 0.13 = 0.26.
    split = tariff(
        energy=energy(
            {"priceKwh": 0.25, "conditions": {"endTimeOfDay": "20:30"}},
            {"priceKwh": 0.25},
        )
    )
    breakdown = calculate(split, linear(T0, HOUR, 1_000))
    assert len(breakdown.periods) == 2
    assert breakdown.total_excl_tax == D("0.25")


def test_day_of_week() -> None:
    # Friday 23:00 - Saturday 01:00 Berlin, 10 kWh an hour: Friday's at 0.40 = 4.00, Saturday's
    # at the weekend price 0.20 = 2.00.
    weekend = tariff(
        energy=energy(
            {"priceKwh": 0.20, "conditions": {"dayOfWeek": ["Saturday", "Sunday"]}},
            {"priceKwh": 0.40},
        )
    )
    friday = datetime(2025, 1, 10, 22, 0, tzinfo=UTC)
    breakdown = calculate(weekend, linear(friday, 2 * HOUR, 20_000, zone="Europe/Berlin"))
    assert breakdown.total_excl_tax == D("6.00")
    assert [p.energy_price for p in breakdown.periods] == [1, 0]


def test_energy_thresholds() -> None:
    # 25 kWh in one hour: the first 10 kWh at 0.50 = 5.00 (maxEnergy exclusive), the next 15 at
    # 0.30 = 4.50. 10 kWh is reached at 10/25 of the hour: 24 min.
    tiers = tariff(
        energy=energy(
            {"priceKwh": 0.50, "conditions": {"maxEnergy": 10_000}},
            {"priceKwh": 0.30, "conditions": {"minEnergy": 10_000}},
        )
    )
    breakdown = calculate(tiers, linear(T0, HOUR, 25_000))
    assert breakdown.total_excl_tax == D("9.50")
    assert [p.start for p in breakdown.periods] == [T0, T0 + minutes(24)]


def test_power_condition() -> None:
    # 60 kW for 30 min (30 kWh) at the HPC price 0.60 = 18.00, then 11 kW for 60 min at 0.40
    # = 4.40.
    hpc = tariff(
        energy=energy(
            {"priceKwh": 0.60, "conditions": {"minPower": 50_000}},
            {"priceKwh": 0.40},
        )
    )
    session = Session(
        start=T0,
        end=T0 + minutes(90),
        readings=(
            MeterReading(T0, D(0), power_w=D(60_000)),
            MeterReading(T0 + minutes(30), D(30_000), power_w=D(11_000)),
            MeterReading(T0 + minutes(90), D(41_000), power_w=D(11_000)),
        ),
    )
    breakdown = calculate(hpc, session)
    assert breakdown.total_excl_tax == D("22.40")
    assert [(p.min_power_w, p.max_power_w) for p in breakdown.periods] == [
        (D(60_000), D(60_000)),
        (D(11_000), D(11_000)),
    ]


def test_power_from_the_energy_slope_when_not_reported() -> None:
    # No power in the readings: 30 kWh in 30 min is 60 kW, the HPC price; 11 kWh in 60 min 11 kW.
    hpc = tariff(
        energy=energy({"priceKwh": 0.60, "conditions": {"minPower": 50_000}}, {"priceKwh": 0.40})
    )
    session = Session(
        start=T0,
        end=T0 + minutes(90),
        readings=(
            MeterReading(T0, D(0)),
            MeterReading(T0 + minutes(30), D(30_000)),
            MeterReading(T0 + minutes(90), D(41_000)),
        ),
    )
    assert calculate(hpc, session).total_excl_tax == D("22.40")


def test_an_unknown_current_does_not_meet_a_current_condition() -> None:
    priced = tariff(
        energy=energy({"priceKwh": 0.60, "conditions": {"minCurrent": 16}}, {"priceKwh": 0.40})
    )
    known = Session(
        start=T0,
        end=T0 + HOUR,
        readings=(MeterReading(T0, D(0), current_a=D(32)), MeterReading(T0 + HOUR, D(10_000))),
    )
    assert calculate(priced, known).total_excl_tax == D("6.00")
    assert calculate(priced, linear(T0, HOUR, 10_000)).total_excl_tax == D("4.00")


@pytest.mark.parametrize(("kind", "total"), [(EvseKind.AC, D("3.00")), (EvseKind.DC, D("5.00"))])
def test_evse_kind(kind: EvseKind, total: Decimal) -> None:
    priced = tariff(
        energy=energy({"priceKwh": 0.50, "conditions": {"evseKind": "DC"}}, {"priceKwh": 0.30})
    )
    assert calculate(priced, linear(T0, HOUR, 10_000, evse_kind=kind)).total_excl_tax == total


@pytest.mark.parametrize(("brand", "fee"), [("VISA", D("1.50")), ("MasterCard", D("1.00"))])
def test_fixed_fee(brand: str, fee: Decimal) -> None:
    # A start fee, with a surcharge for one payment brand (the first element that holds).
    fixed = tariff(
        fixedFee={
            "prices": [
                {"priceFixed": 1.50, "conditions": {"paymentBrand": "VISA"}},
                {"priceFixed": 1.00},
            ]
        }
    )
    breakdown = calculate(fixed, linear(T0, HOUR, 10_000, payment_brand=brand))
    assert breakdown.fixed is not None and breakdown.fixed.excl_tax == fee
    assert breakdown.total_incl_tax == fee


def test_fixed_fee_conditions_are_read_at_the_start() -> None:
    # Starting at 21:00 UTC, the evening fee applies for the whole session.
    fixed = tariff(
        fixedFee={
            "prices": [
                {"priceFixed": 2.00, "conditions": {"startTimeOfDay": "21:00"}},
                {"priceFixed": 1.00},
            ]
        }
    )
    assert calculate(fixed, linear(T0 + HOUR, 2 * HOUR, 0)).total_excl_tax == D("2.00")
    assert calculate(fixed, linear(T0, 2 * HOUR, 0)).total_excl_tax == D("1.00")


def test_reservation() -> None:
    # Reserved 15 min before the start: 15 x 0.10 = 1.50, plus a 0.50 reservation fee.
    reserved = tariff(
        energy=energy({"priceKwh": 0.30}),
        reservationTime={"prices": [{"priceMinute": 0.10}]},
        reservationFixed={"prices": [{"priceFixed": 0.50}]},
    )
    session = linear(T0, HOUR, 10_000, reservation=Reservation(T0 - minutes(15), T0))
    breakdown = calculate(reserved, session)
    assert breakdown.reservation_time is not None
    assert breakdown.reservation_time.excl_tax == D("1.50")
    assert breakdown.reservation_fixed is not None
    assert breakdown.reservation_fixed.excl_tax == D("0.50")
    assert breakdown.total_excl_tax == D("5.00")
    assert breakdown.usage.reservation_seconds == 900
    assert breakdown.periods[0].start == T0  # a reservation is no charging period


def test_running_cost_uses_what_is_known_at_the_instant() -> None:
    # Readings every 30 min, 5 kWh each; at 45 min the last known reading is the one of 30 min.
    priced = tariff(energy=energy({"priceKwh": 0.40}))
    session = Session(
        start=T0,
        end=T0 + 2 * HOUR,
        readings=tuple(MeterReading(T0 + minutes(30 * i), D(5_000 * i)) for i in range(5)),
    )
    running = calculate(priced, session, at=T0 + minutes(45))
    assert running.total_excl_tax == D("2.00")
    assert not running.ended
    assert running.end == T0 + minutes(45)
    final = calculate(priced, session)
    assert final.total_excl_tax == D("8.00")
    assert final.ended


def test_a_running_session_needs_at() -> None:
    running = Session(start=T0, readings=(MeterReading(T0, D(0)),))
    with pytest.raises(ValueError, match="pass at"):
        calculate(NIGHT_AND_DAY, running)
    with pytest.raises(ValueError, match="before the session"):
        calculate(NIGHT_AND_DAY, running, at=T0 - HOUR)
    assert calculate(NIGHT_AND_DAY, running, at=T0 + HOUR).total_cost == D("0.00")


def test_cost_details_round_trip_through_the_2_1_schema() -> None:
    idle = tariff(
        energy=energy({"priceKwh": 0.30}, taxRates=[{"type": "VAT", "tax": 19}]),
        idleTime={"prices": [{"priceMinute": 0.05, "conditions": {"minIdleTime": 1800}}]},
        fixedFee={"prices": [{"priceFixed": 1.00}]},
    )
    session = linear(T0, HOUR, 10_000, idle_after=HOUR, end=T0 + 2 * HOUR)
    details = calculate(idle, session).to_cost_details()
    wire = msgspec.json.encode(details)
    assert msgspec.json.decode(wire, type=CostDetailsType) == details
    document = msgspec.json.decode(wire)
    assert document["totalCost"] == {
        "currency": "EUR",
        "typeOfCost": "NormalCost",
        "fixed": {"exclTax": 1.0, "inclTax": 1.0},
        "energy": {"exclTax": 3.0, "inclTax": 3.57, "taxRates": [{"type": "VAT", "tax": 19.0}]},
        "idleTime": {"exclTax": 1.5, "inclTax": 1.5},
        "total": {"exclTax": 5.5, "inclTax": 6.07},
    }
    assert document["totalUsage"] == {"energy": 10000.0, "chargingTime": 7200, "idleTime": 3600}
    assert [p["startPeriod"] for p in document["chargingPeriods"]] == [
        "2025-01-06T20:00:00Z",
        "2025-01-06T21:00:00Z",
        "2025-01-06T21:30:00Z",
    ]
    assert document["chargingPeriods"][2]["dimensions"][:2] == [
        {"type": "Energy", "volume": 0.0},
        {"type": "IdleTIme", "volume": 1800.0},
    ]


def test_an_empty_session_has_no_charging_period() -> None:
    details = calculate(NIGHT_AND_DAY, linear(T0, timedelta(0), 0)).to_cost_details()
    assert msgspec.json.decode(msgspec.json.encode(details))["totalCost"]["total"] == {
        "exclTax": 0.0,
        "inclTax": 0.0,
    }
    assert "chargingPeriods" not in msgspec.json.decode(msgspec.json.encode(details))


def test_a_decreasing_register_is_refused() -> None:
    with pytest.raises(ValueError, match="decreases"):
        Session(start=T0, readings=(MeterReading(T0, D(10)), MeterReading(T0 + HOUR, D(5))))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MeterReading(datetime(2025, 1, 1), D(0))


def test_min_and_max_clamp_each_basis_on_its_own() -> None:
    # 30 kWh x 0.30 = 9.00 excl. tax, 10.80 with 20 % VAT; a max of 10.00 without tax rates is
    # 10.00 with and without tax: the total incl. tax is capped, the one excl. tax is not reached.
    capped = tariff(
        energy=energy({"priceKwh": 0.30}, taxRates=[{"type": "VAT", "tax": 20}]),
        maxCost={"exclTax": 10.00},
    )
    breakdown = calculate(capped, linear(T0, HOUR, 30_000))
    assert (breakdown.total_excl_tax, breakdown.total_incl_tax) == (D("9.00"), D("10.00"))
    assert breakdown.type_of_cost is TariffCostEnumType.MAX_COST
    # A min of 10.00 excl. tax raises 9.00 to 10.00; 10.80 incl. tax is above the min's 10.00.
    floored = tariff(
        energy=energy({"priceKwh": 0.30}, taxRates=[{"type": "VAT", "tax": 20}]),
        minCost={"exclTax": 10.00},
    )
    breakdown = calculate(floored, linear(T0, HOUR, 30_000))
    assert (breakdown.total_excl_tax, breakdown.total_incl_tax) == (D("10.00"), D("10.80"))
    assert breakdown.type_of_cost is TariffCostEnumType.MIN_COST
