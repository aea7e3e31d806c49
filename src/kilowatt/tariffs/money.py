"""Money: Decimal amounts in a currency, rounded by one explicit rule.

The rule is ``ROUND_HALF_UP`` (half away from zero) to the ISO 4217 minor unit of the currency:
2 decimals for EUR and USD, 0 for JPY, 3 for KWD... OCPP 2.1 does not name a rounding mode; half
up is what a driver expects on a receipt, and since the CSMS and the station both round here, they
agree to the cent whatever the mode.

Amounts are computed exactly (``fractions.Fraction``: prices, kWh and seconds are rationals, and
no intermediate step is rounded) and rounded once, by :func:`round_money`. Decimal arithmetic would
round every division (seconds / 60, an interpolated meter value) at the precision of the ambient
``decimal`` context, a thread-wide setting that two processes need not share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

__all__ = [
    "DEFAULT_MINOR_UNITS",
    "MINOR_UNITS",
    "Money",
    "minor_units",
    "round_money",
    "to_fraction",
]

# ISO 4217 minor units of the currencies that differ from 2 (every other currency has 2).
MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLF": 4,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "UYW": 4,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}
DEFAULT_MINOR_UNITS = 2


def minor_units(currency: str) -> int:
    """Decimals of ``currency`` (ISO 4217 code, any case): 2 unless listed in MINOR_UNITS."""
    return MINOR_UNITS.get(currency.upper(), DEFAULT_MINOR_UNITS)


def to_fraction(value: float | int | Decimal | Fraction) -> Fraction:
    """The exact rational a payload number stands for.

    A float from JSON is read through its shortest repr (``0.35`` is 35/100, not the binary
    double nearest to it), which is the number the sender wrote.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def round_money(amount: Fraction | Decimal, currency: str) -> Decimal:
    """``amount`` rounded half away from zero to the minor unit of ``currency``."""
    digits = minor_units(currency)
    scaled = Fraction(amount) * 10**digits
    magnitude = abs(scaled)
    whole = int(magnitude)  # floor, for a non-negative number
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    if scaled < 0:
        whole = -whole
    return Decimal(whole).scaleb(-digits)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency, already rounded to the currency's minor unit."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Fraction | Decimal | int | float, currency: str) -> Money:
        """``amount`` rounded by the currency's rule."""
        return cls(round_money(to_fraction(amount), currency), currency.upper())

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
