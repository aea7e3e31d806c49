"""Money rounding, and the semantics of single conditions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec
import pytest

from kilowatt.messages.v21 import EvseKindEnumType, TariffConditionsFixedType, TariffConditionsType
from kilowatt.tariffs import (
    Instant,
    Money,
    holds,
    holds_fixed,
    minor_units,
    round_money,
    to_fraction,
)

D = Decimal


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        (Fraction(1, 8), "EUR", D("0.13")),
        (Fraction(-1, 8), "EUR", D("-0.13")),
        (Fraction(5, 2), "JPY", D("3")),
        (Fraction(249, 100), "jpy", D("2")),
        (Fraction(1, 3), "USD", D("0.33")),
        (Fraction(12345, 100000), "BHD", D("0.123")),
        (Fraction(0), "EUR", D("0.00")),
        (D("1.005"), "EUR", D("1.01")),
    ],
)
def test_round_money(amount: Fraction | Decimal, currency: str, rounded: Decimal) -> None:
    result = round_money(amount, currency)
    assert result == rounded
    assert result.as_tuple().exponent == -minor_units(currency)


def test_money() -> None:
    assert Money.of(0.125, "eur") == Money(D("0.13"), "EUR")
    assert str(Money.of(1, "EUR") + Money.of(2, "EUR")) == "3.00 EUR"
    with pytest.raises(ValueError, match="cannot add"):
        _ = Money.of(1, "EUR") + Money.of(1, "USD")


def test_floats_are_read_as_written() -> None:
    assert to_fraction(0.35) == Fraction(35, 100)
    assert to_fraction(0.1) + to_fraction(0.2) == to_fraction(0.3)


def conditions(**fields: Any) -> TariffConditionsType:
    return msgspec.convert(fields, TariffConditionsType)


def at(hour: int, minute: int = 0, day: int = 6, **quantities: Any) -> Instant:
    # 2025-01-06 is a Monday.
    return Instant(
        local=datetime(2025, 1, day, hour, minute, tzinfo=UTC),
        elapsed=Fraction(quantities.pop("elapsed", 0)),
        **{k: Fraction(v) for k, v in quantities.items()},
        evse_kind=EvseKindEnumType.AC,
    )


TIME_OF_DAY = [
    ({"startTimeOfDay": "08:00", "endTimeOfDay": "20:00"}, at(8), True),
    ({"startTimeOfDay": "08:00", "endTimeOfDay": "20:00"}, at(7, 59), False),
    ({"startTimeOfDay": "08:00", "endTimeOfDay": "20:00"}, at(20), False),
    ({"startTimeOfDay": "22:00", "endTimeOfDay": "06:00"}, at(23), True),
    ({"startTimeOfDay": "22:00", "endTimeOfDay": "06:00"}, at(5, 59), True),
    ({"startTimeOfDay": "22:00", "endTimeOfDay": "06:00"}, at(12), False),
    ({"startTimeOfDay": "18:00", "endTimeOfDay": "00:00"}, at(23, 59), True),
    ({"startTimeOfDay": "18:00", "endTimeOfDay": "00:00"}, at(0), False),
    ({"startTimeOfDay": "18:00"}, at(23, 59), True),
    ({"endTimeOfDay": "06:00"}, at(6), False),
    ({"dayOfWeek": ["Monday"]}, at(12), True),
    ({"dayOfWeek": ["Tuesday"]}, at(12), False),
    ({"validFromDate": "2025-01-06"}, at(0), True),
    ({"validFromDate": "2025-01-07"}, at(23), False),
    ({"validToDate": "2025-01-06"}, at(0), False),
    ({"validToDate": "2025-01-07"}, at(23, 59), True),
    ({"evseKind": "AC"}, at(1), True),
    ({"evseKind": "DC"}, at(1), False),
]


@pytest.mark.parametrize(("fields", "instant", "expected"), TIME_OF_DAY)
def test_calendar_conditions(fields: dict[str, Any], instant: Instant, expected: bool) -> None:
    assert holds(conditions(**fields), instant) is expected
    assert holds_fixed(msgspec.convert(fields, TariffConditionsFixedType), instant) is expected


BOUNDS = [
    # min inclusive, max exclusive.
    ({"minEnergy": 1000}, {"energy": 1000}, True),
    ({"minEnergy": 1000}, {"energy": 999}, False),
    ({"maxEnergy": 1000}, {"energy": 1000}, False),
    ({"maxEnergy": 1000}, {"energy": 999}, True),
    ({"minTime": 60}, {"elapsed": 60}, True),
    ({"maxTime": 60}, {"elapsed": 60}, False),
    ({"minChargingTime": 60}, {"charging": 59}, False),
    ({"maxChargingTime": 60}, {"charging": 59}, True),
    ({"minIdleTime": 60}, {"idle": 60}, True),
    ({"maxIdleTime": 60}, {"idle": 60}, False),
    ({"minPower": 11000}, {"power": 11000}, True),
    ({"maxPower": 11000}, {"power": 11000}, False),
    ({"minCurrent": 16}, {"current": 15}, False),
    ({"maxCurrent": 16}, {"current": 15}, True),
    ({"minCurrent": 16}, {}, False),  # not reported: does not hold
    # Discharging: min is closest to zero, max furthest from it.
    ({"minPower": -10000, "maxPower": -50000}, {"power": -20000}, True),
    ({"minPower": -10000, "maxPower": -50000}, {"power": -5000}, False),
    ({"minPower": -10000, "maxPower": -50000}, {"power": -50000}, False),
    # All must hold.
    ({"minEnergy": 1000, "maxTime": 60}, {"energy": 2000, "elapsed": 30}, True),
    ({"minEnergy": 1000, "maxTime": 60}, {"energy": 2000, "elapsed": 90}, False),
]


@pytest.mark.parametrize(("fields", "quantities", "expected"), BOUNDS)
def test_bounds(fields: dict[str, Any], quantities: dict[str, int], expected: bool) -> None:
    assert holds(conditions(**fields), at(12, **quantities)) is expected


def test_payment_conditions() -> None:
    fixed = msgspec.convert({"paymentBrand": "VISA"}, TariffConditionsFixedType)
    base = at(12)
    assert not holds_fixed(fixed, base)
    visa = Instant(local=base.local, elapsed=Fraction(0), payment_brand="VISA")
    assert holds_fixed(fixed, visa)
    recognition = msgspec.convert({"paymentRecognition": "CC"}, TariffConditionsFixedType)
    assert not holds_fixed(recognition, visa)
