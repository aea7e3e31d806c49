"""What happened during a session, as plain values: the input of the cost engine.

A session is a timeline: its start and (once it ended) its end, the meter readings, the changes
between charging and idle, the reservation before it if any, and where it took place (AC or DC,
the local time zone). Nothing here reads a clock: a running session is priced *at* an instant the
caller passes.

How the timeline is read between samples:

- **Energy** is the register's increase since the session start, interpolated linearly between
  two readings and held flat after the last one (and before the first: include a reading at the
  start). A station that has read its meter at ``t`` and a CSMS that was told so compute the same
  energy at ``t``.
- **Power and current** hold from a reading to the next (sample and hold). A reading without a
  power value takes the mean power of the interval that follows it (the energy's slope), so a
  meter that reports only energy still prices power conditions; a reading without a current leaves
  the current unknown, and a condition on an unknown current does not hold.
- **Charging or idle** follow the state changes; before the first change the session is in
  ``initial_state`` (charging). Idle is any time the EV does not take energy (EV suspended, EV
  full, EVSE suspended), as OCPP 2.1's idleTime.

The zone is an IANA name (read through :mod:`zoneinfo`, whose cached tz database is data that
ships with the system, not I/O in the sense of the layer rule: no socket, no clock) or any
``tzinfo``, for example a fixed offset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from kilowatt.messages.v21 import EvseKindEnumType, TariffType

__all__ = [
    "EvseKind",
    "MeterReading",
    "Reservation",
    "Session",
    "State",
    "StateChange",
    "TariffChange",
]

EvseKind = EvseKindEnumType


class State(StrEnum):
    CHARGING = "Charging"
    IDLE = "Idle"


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value!r}")


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One sample: the energy register (Wh), and power (W) and current (A, summed over phases)."""

    at: datetime
    energy_wh: Decimal
    power_w: Decimal | None = None
    current_a: Decimal | None = None

    def __post_init__(self) -> None:
        _check_aware("MeterReading.at", self.at)


@dataclass(frozen=True, slots=True)
class StateChange:
    """From ``at`` on, the EV is charging or idle."""

    at: datetime
    state: State

    def __post_init__(self) -> None:
        _check_aware("StateChange.at", self.at)


@dataclass(frozen=True, slots=True)
class Reservation:
    """The EVSE was reserved for the driver from ``start`` to ``end`` (the session start, say)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_aware("Reservation.start", self.start)
        _check_aware("Reservation.end", self.end)
        if self.end < self.start:
            raise ValueError("a reservation cannot end before it starts")


@dataclass(frozen=True, slots=True)
class TariffChange:
    """From ``at`` on, ``tariff`` replaces the session's tariff (OCPP 2.1 ChangeTransactionTariff).

    It is no fact of the session but of its pricing: it goes to the cost engine beside the session.
    """

    at: datetime
    tariff: TariffType

    def __post_init__(self) -> None:
        _check_aware("TariffChange.at", self.at)


@dataclass(frozen=True)
class Session:
    """A transaction as a timeline of facts.

    ``readings`` and ``changes`` may come in any order; they are sorted by time. The energy
    register may not decrease. ``end`` is None while the session runs.
    """

    start: datetime
    readings: tuple[MeterReading, ...] = ()
    changes: tuple[StateChange, ...] = ()
    end: datetime | None = None
    evse_kind: EvseKind = EvseKind.AC
    zone: str | tzinfo = "UTC"
    initial_state: State = State.CHARGING
    reservation: Reservation | None = None
    payment_brand: str | None = None
    payment_recognition: str | None = None

    def __post_init__(self) -> None:
        _check_aware("Session.start", self.start)
        if self.end is not None:
            _check_aware("Session.end", self.end)
            if self.end < self.start:
                raise ValueError("a session cannot end before it starts")
        readings = tuple(sorted(self.readings, key=lambda r: r.at))
        for before, after in itertools.pairwise(readings):
            if after.energy_wh < before.energy_wh:
                raise ValueError(f"the energy register decreases at {after.at.isoformat()}")
        object.__setattr__(self, "readings", readings)
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=lambda c: c.at)))

    @cached_property
    def tz(self) -> tzinfo:
        """The session's local time zone."""
        return ZoneInfo(self.zone) if isinstance(self.zone, str) else self.zone

    def until(self, at: datetime) -> Session:
        """What was known at ``at``: the facts up to it; still running if it had not ended.

        This is the view of a station computing its running cost at ``at``.
        """
        _check_aware("at", at)
        end = self.end if self.end is not None and self.end <= at else None
        return replace(
            self,
            readings=tuple(r for r in self.readings if r.at <= at),
            changes=tuple(c for c in self.changes if c.at <= at),
            end=end,
        )
