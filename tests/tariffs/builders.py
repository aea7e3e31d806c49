"""Tariffs from plain JSON-like dicts (the wire form), sessions from a few numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from kilowatt.messages.v21 import TariffType
from kilowatt.tariffs import MeterReading, Session, State, StateChange, TariffChange

T0 = datetime(2025, 1, 6, 20, 0, tzinfo=UTC)  # a Monday, 21:00 in Berlin


def tariff(currency: str = "EUR", **fields: Any) -> TariffType:
    """A TariffType decoded from its JSON form, so the test reads like the wire."""
    document = {"tariffId": "T1", "currency": currency, **fields}
    return msgspec.json.decode(msgspec.json.encode(document), type=TariffType)


def energy(*prices: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"prices": list(prices), **extra}


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def linear(
    start: datetime,
    duration: timedelta,
    wh: int,
    *,
    idle_after: timedelta | None = None,
    end: datetime | None = None,
    zone: str = "UTC",
    **extra: Any,
) -> Session:
    """A session charging ``wh`` at a constant rate over ``duration``, then idle till ``end``."""
    readings = (
        MeterReading(start, Decimal(1000)),
        MeterReading(start + duration, Decimal(1000 + wh)),
    )
    changes = () if idle_after is None else (StateChange(start + idle_after, State.IDLE),)
    return Session(
        start=start,
        end=end if end is not None else start + duration,
        readings=readings,
        changes=changes,
        zone=zone,
        **extra,
    )


def change(after: timedelta, to: TariffType, start: datetime = T0) -> TariffChange:
    """A change to ``to`` at ``after`` from ``start`` (a negative ``after``: before it)."""
    return TariffChange(start + after, to)
