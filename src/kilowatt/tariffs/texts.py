"""Price texts for the driver: the tariff's description in their language, or one rendered from it.

:func:`pick_description` chooses among a tariff's ``description`` (MessageContent with languages)
the driver's language1, then language2 (IdTokenInfo), then the tariff's first text; a language
matches exactly (any case), then by its primary subtag ("de" for "de-CH" and the reverse).
:func:`price_text` renders a short English text from the tariff when it has no description, for
example "0.35 EUR/kWh, 0.05 EUR/min after 60 min idle".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
from msgspec import UNSET, UnsetType

from kilowatt.messages.v21 import (
    MessageContentType,
    PriceType,
    TariffConditionsFixedType,
    TariffConditionsType,
    TariffType,
    TaxRateType,
)
from kilowatt.tariffs.money import minor_units

__all__ = ["pick_description", "price_text"]


def _primary(tag: str) -> str:
    return tag.lower().replace("_", "-").split("-")[0]


def pick_description(
    description: Sequence[MessageContentType] | UnsetType,
    language1: str | UnsetType | None = None,
    language2: str | UnsetType | None = None,
) -> MessageContentType | None:
    """The text for a driver who reads ``language1``, else ``language2``; else the first one."""
    if isinstance(description, UnsetType) or not description:
        return None
    for wanted in (language1, language2):
        if not isinstance(wanted, str) or not wanted:
            continue
        for text in description:
            if isinstance(text.language, str) and text.language.lower() == wanted.lower():
                return text
        for text in description:
            if isinstance(text.language, str) and _primary(text.language) == _primary(wanted):
                return text
    return description[0]


def _amount(value: float, currency: str) -> str:
    exact = Decimal(repr(value))
    exponent = exact.normalize().as_tuple().exponent
    places = max(minor_units(currency), -exponent if isinstance(exponent, int) else 0)
    return f"{exact:.{places}f}"


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _minutes(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} s"
    return f"{seconds // 60} min"


def _kilo(value: float) -> str:
    return _number(Decimal(repr(value)) / 1000)


_DAY_ABBREVIATIONS = {
    "Monday": "Mon",
    "Tuesday": "Tue",
    "Wednesday": "Wed",
    "Thursday": "Thu",
    "Friday": "Fri",
    "Saturday": "Sat",
    "Sunday": "Sun",
}


def _calendar(c: TariffConditionsType | TariffConditionsFixedType) -> list[str]:
    parts = []
    if c.start_time_of_day is not UNSET or c.end_time_of_day is not UNSET:
        start = c.start_time_of_day if isinstance(c.start_time_of_day, str) else "00:00"
        end = c.end_time_of_day if isinstance(c.end_time_of_day, str) else "24:00"
        parts.append(f"{start}-{end}")
    if not isinstance(c.day_of_week, UnsetType):
        parts.append(", ".join(_DAY_ABBREVIATIONS[str(day)] for day in c.day_of_week))
    if isinstance(c.valid_from_date, str):
        parts.append(f"from {c.valid_from_date}")
    if isinstance(c.valid_to_date, str):
        parts.append(f"before {c.valid_to_date}")
    if not isinstance(c.evse_kind, UnsetType):
        parts.append(str(c.evse_kind))
    return parts


def _conditions(c: TariffConditionsType | UnsetType, idle: bool = False) -> list[str]:
    if isinstance(c, UnsetType):
        return []
    parts = _calendar(c)
    if not isinstance(c.min_energy, UnsetType):
        parts.append(f"after {_kilo(c.min_energy)} kWh")
    if not isinstance(c.max_energy, UnsetType):
        parts.append(f"up to {_kilo(c.max_energy)} kWh")
    if not isinstance(c.min_power, UnsetType):
        parts.append(f"from {_kilo(c.min_power)} kW")
    if not isinstance(c.max_power, UnsetType):
        parts.append(f"below {_kilo(c.max_power)} kW")
    if not isinstance(c.min_current, UnsetType):
        parts.append(f"from {_number(Decimal(repr(c.min_current)))} A")
    if not isinstance(c.max_current, UnsetType):
        parts.append(f"below {_number(Decimal(repr(c.max_current)))} A")
    for low, high, what in (
        (c.min_time, c.max_time, ""),
        (c.min_charging_time, c.max_charging_time, " charging"),
        (c.min_idle_time, c.max_idle_time, " idle"),
    ):
        if not isinstance(low, UnsetType):
            parts.append(f"after {_minutes(low)}{what}")
        if not isinstance(high, UnsetType):
            parts.append(f"first {_minutes(high)}{what}")
    return parts


def _free_until(c: TariffConditionsType | UnsetType) -> list[str]:
    """A free element bounded by one maximum duration is a grace period: what follows it applies
    "after" that duration."""
    if isinstance(c, UnsetType):
        return []
    bounds = [
        (name, value)
        for name, value in msgspec.structs.asdict(c).items()
        if value is not UNSET and name != "custom_data"
    ]
    if len(bounds) != 1:
        return []
    name, value = bounds[0]
    what = {"max_time": "", "max_charging_time": " charging", "max_idle_time": " idle"}
    if name not in what or not isinstance(value, int):
        return []
    return [f"after {_minutes(value)}{what[name]}"]


def _with(text: str, conditions: list[str]) -> str:
    return f"{text} {' '.join(conditions)}" if conditions else text


def _bound(label: str, price: PriceType | UnsetType, currency: str) -> list[str]:
    if isinstance(price, UnsetType):
        return []
    if not isinstance(price.incl_tax, UnsetType):
        return [f"{label} {_amount(price.incl_tax, currency)} {currency} incl. tax"]
    if not isinstance(price.excl_tax, UnsetType):
        return [f"{label} {_amount(price.excl_tax, currency)} {currency}"]
    return []


def price_text(tariff: TariffType) -> str:
    """A short English text of ``tariff``'s prices (excl. tax, as the tariff gives them).

    Free elements (price 0) are left out: a free first hour of idle time followed by a paid one
    reads "0.05 EUR/min after 60 min idle". A tariff with no price at all reads "Free".
    """
    currency = tariff.currency.upper()
    parts: list[str] = []
    taxes: dict[tuple[str, str], None] = {}

    def note_taxes(rates: list[TaxRateType] | UnsetType) -> None:
        if not isinstance(rates, UnsetType):
            for rate in rates:
                taxes[(rate.type, _number(Decimal(repr(rate.tax))))] = None

    if not isinstance(tariff.fixed_fee, UnsetType):
        note_taxes(tariff.fixed_fee.tax_rates)
        for fixed in tariff.fixed_fee.prices:
            if fixed.price_fixed:
                extra = (
                    [] if isinstance(fixed.conditions, UnsetType) else _calendar(fixed.conditions)
                )
                parts.append(
                    _with(f"{_amount(fixed.price_fixed, currency)} {currency} per session", extra)
                )
    if not isinstance(tariff.energy, UnsetType):
        note_taxes(tariff.energy.tax_rates)
        for energy in tariff.energy.prices:
            if energy.price_kwh:
                text = f"{_amount(energy.price_kwh, currency)} {currency}/kWh"
                parts.append(_with(text, _conditions(energy.conditions)))
    for dimension, unit in (
        (tariff.charging_time, "charging"),
        (tariff.idle_time, "idle"),
        (tariff.reservation_time, "reserved"),
    ):
        if isinstance(dimension, UnsetType):
            continue
        note_taxes(dimension.tax_rates)
        grace: list[str] = []
        for timed in dimension.prices:
            if not timed.price_minute:
                grace += _free_until(timed.conditions)
                continue
            conditions = _conditions(timed.conditions)
            if isinstance(timed.conditions, UnsetType):
                conditions = grace
            states_it = any(part.endswith(f" {unit}") for part in conditions)
            text = f"{_amount(timed.price_minute, currency)} {currency}/min"
            parts.append(_with(text if states_it else f"{text} {unit}", conditions))
    if not isinstance(tariff.reservation_fixed, UnsetType):
        note_taxes(tariff.reservation_fixed.tax_rates)
        for fixed in tariff.reservation_fixed.prices:
            if fixed.price_fixed:
                parts.append(f"{_amount(fixed.price_fixed, currency)} {currency} per reservation")
    parts += _bound("min", tariff.min_cost, currency)
    parts += _bound("max", tariff.max_cost, currency)
    text = ", ".join(parts) if parts else "Free"
    if taxes:
        text += " (+ " + ", ".join(f"{kind} {rate}%" for kind, rate in taxes) + ")"
    return text
