"""Tariffs and cost (OCPP block I) as pure functions over values, shared by CSMS and station.

The input format is OCPP 2.1's ``TariffType`` as is (so a tariff goes to a 2.1 station unchanged);
a session is a timeline of facts (:class:`Session`); :func:`calculate` gives a
:class:`CostBreakdown` that becomes 2.1's ``costDetails`` or 2.0.1's ``totalCost``. Money is
``Decimal``, computed exactly and rounded once per cost component by the currency's rule
(:mod:`kilowatt.tariffs.money`). No I/O, no clock: a running cost is computed *at* a time passed in.
"""

from __future__ import annotations

from kilowatt.tariffs.conditions import Instant, holds, holds_fixed
from kilowatt.tariffs.engine import (
    ChargingPeriod,
    ComponentCost,
    CostBreakdown,
    Usage,
    calculate,
    with_taxes,
)
from kilowatt.tariffs.money import Money, minor_units, round_money, to_fraction
from kilowatt.tariffs.session import (
    EvseKind,
    MeterReading,
    Reservation,
    Session,
    State,
    StateChange,
    TariffChange,
)
from kilowatt.tariffs.texts import pick_description, price_text

__all__ = [
    "ChargingPeriod",
    "ComponentCost",
    "CostBreakdown",
    "EvseKind",
    "Instant",
    "MeterReading",
    "Money",
    "Reservation",
    "Session",
    "State",
    "StateChange",
    "TariffChange",
    "Usage",
    "calculate",
    "holds",
    "holds_fixed",
    "minor_units",
    "pick_description",
    "price_text",
    "round_money",
    "to_fraction",
    "with_taxes",
]
