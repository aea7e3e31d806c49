"""The station's charging profiles (block K): installed, persisted, and the limit they give.

The math is ``kilowatt.smartcharging``'s, the same the CSMS uses to predict what a station
reports. This holds the installed set, builds the station's ``StationLimits`` from its shape
and SmartChargingCtrlr variables, and answers "how much may this EVSE draw now".

A limit also changes with time (a schedule's next period, a profile's validTo): ``next_change``
finds the next such instant and ``follow_limits`` wakes the station then. Whether a change is
worth a TransactionEvent (ChargingRateChanged) is ``charging_rate_changed``'s to say.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from kilowatt.devicemodel import AttributeKey, ComponentKey, DeviceModel, VariableKey
from kilowatt.messages import v201
from kilowatt.smartcharging import (
    ActiveTransaction,
    EvseLimits,
    InstalledProfile,
    StationLimits,
    composite_schedule,
    limit_at,
)
from kilowatt.station.config import StationConfig
from kilowatt.station.evse import Transaction
from kilowatt.station.tasks import first_of

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = [
    "ChargingProfiles",
    "charging_rate_changed",
    "follow_limits",
    "significant_change",
    "with_entries",
]

W = v201.ChargingRateUnitEnumType.W
SMART = ComponentKey("SmartChargingCtrlr")
ENTRIES = AttributeKey(
    SMART, VariableKey("Entries", "ChargingProfiles"), v201.AttributeEnumType.ACTUAL
)
# How far ahead next_change looks, and how long follow_limits waits at most before it looks
# again (a transaction that started meanwhile may have brought a Relative schedule along).
HORIZON = timedelta(hours=24)
RECHECK_SECONDS = 300.0


class _Stored(msgspec.Struct, frozen=True):
    evse_id: int
    source: str
    profile: v201.ChargingProfileType


class ChargingProfiles:
    """The profiles a station holds; ``path`` None keeps them in memory only."""

    def __init__(self, config: StationConfig, path: Path | None) -> None:
        self._config = config
        self._path = path
        self.installed: tuple[InstalledProfile, ...] = ()
        # Set whenever the installed set changes (or ``wake`` is called): follow_limits looks
        # for the next change again.
        self.changed = asyncio.Event()
        if path is not None and path.exists():
            stored = msgspec.json.decode(path.read_bytes(), type=list[_Stored])
            self.installed = tuple(
                InstalledProfile(s.profile, s.evse_id, v201.ChargingLimitSourceEnumType(s.source))
                for s in stored
            )

    def replace(self, installed: tuple[InstalledProfile, ...]) -> None:
        self.installed = installed
        self.changed.set()
        if self._path is not None:
            stored = [_Stored(e.evse_id, str(e.source), e.profile) for e in installed]
            scratch = self._path.with_suffix(".tmp")
            scratch.write_bytes(msgspec.json.encode(stored))
            scratch.replace(self._path)

    def limits(self, model: DeviceModel) -> StationLimits:
        """The station as smart charging sees it, from its shape and its variables."""
        evses = {
            number: EvseLimits(max_power=Decimal(str(shape.max_power_w)), phases=shape.phases)
            for number, shape in enumerate(self._config.shape.evses, start=1)
        }
        smart = "SmartChargingCtrlr"
        return StationLimits(
            evses=evses,
            supply_voltage=Decimal(str(self._config.voltage)),
            rate_units=frozenset(
                v201.ChargingRateUnitEnumType(unit) for unit in model.list_value(smart, "RateUnit")
            ),
            periods_per_schedule=model.int_value(smart, "PeriodsPerSchedule"),
            profile_stack_level=model.int_value(smart, "ProfileStackLevel"),
            default_limit_watts=Decimal(str(sum(e.max_power_w for e in self._config.shape.evses))),
        )

    def limit_w(
        self,
        model: DeviceModel,
        evse_id: int,
        at: datetime,
        transactions: Mapping[int, ActiveTransaction],
    ) -> float:
        """The power EVSE ``evse_id`` may draw at ``at``, in W."""
        if not self.installed:
            return float("inf")
        limit = limit_at(
            self.installed,
            evse_id=evse_id,
            at=at,
            unit=W,
            station=self.limits(model),
            transactions=transactions,
        )
        return float(limit.limit)

    def drop_transaction(self, transaction_id: str) -> None:
        """K01.FR.?: a TxProfile ends with its transaction."""
        kept = tuple(
            entry
            for entry in self.installed
            if not (
                entry.profile.charging_profile_purpose
                == v201.ChargingProfilePurposeEnumType.TX_PROFILE
                and entry.profile.transaction_id == transaction_id
            )
        )
        if kept != self.installed:
            self.replace(kept)

    def wake(self) -> None:
        """Make ``follow_limits`` look again, e.g. after a transaction started or ended."""
        self.changed.set()

    def next_change(
        self,
        model: DeviceModel,
        at: datetime,
        transactions: Mapping[int, ActiveTransaction],
        evse_ids: Iterable[int] | None = None,
        horizon: timedelta = HORIZON,
    ) -> datetime | None:
        """The first instant after ``at`` (within ``horizon``) at which the limit of one of
        ``evse_ids`` (default: every EVSE) changes; None when none does.

        Read from each EVSE's composite schedule in W, so a change is what the station would
        report, to the second and to 0.1 W.
        """
        if not self.installed:
            return None
        station = self.limits(model)
        ids = sorted(station.evses) if evse_ids is None else sorted(evse_ids)
        seconds = max(1, int(horizon.total_seconds()))
        earliest: datetime | None = None
        for evse_id in ids:
            schedule = composite_schedule(
                self.installed,
                evse_id=evse_id,
                start=at,
                duration=seconds,
                unit=W,
                station=station,
                transactions=transactions,
            )
            periods = schedule.charging_schedule_period
            if len(periods) < 2:
                continue
            instant = schedule.schedule_start + timedelta(seconds=periods[1].start_period)
            if earliest is None or instant < earliest:
                earliest = instant
        return earliest


def with_entries(model: DeviceModel, count: int) -> DeviceModel:
    """The model with SmartChargingCtrlr.Entries[ChargingProfiles] = ``count`` (when it has it)."""
    if ENTRIES not in model.values:
        return model
    return model.with_values({ENTRIES: str(count)})


def significant_change(previous_w: float, current_w: float, significance_percent: Decimal) -> bool:
    """Whether the limit moved by more than ``significance_percent`` of ``previous_w``
    (SmartChargingCtrlr.LimitChangeSignificance); from 0 W any rise is significant."""
    if current_w == previous_w:
        return False
    if previous_w == 0 or math.isinf(previous_w) or math.isinf(current_w):
        return True
    moved = abs(Decimal(repr(current_w)) - Decimal(repr(previous_w)))
    return moved * 100 > significance_percent * abs(Decimal(repr(previous_w)))


def charging_rate_changed(tx: Transaction, limit_w: float, significance_percent: Decimal) -> bool:
    """K01/E: whether the transaction's limit, now ``limit_w``, changed enough since it was last
    reported to send TransactionEvent(Updated, ChargingRateChanged).

    ``tx.limit_w`` keeps the limit last reported: it moves only when this returns True (or is
    first set, which returns False: the Started event tells the first one), so that a slow
    drift in small steps is reported once it adds up.
    """
    previous = tx.limit_w
    if previous is None:
        tx.limit_w = limit_w
        return False
    if not significant_change(previous, limit_w, significance_percent):
        return False
    tx.limit_w = limit_w
    return True


async def follow_limits(station: Station) -> None:
    """Call ``station.limit_changed()`` whenever the limit of an EVSE with a transaction
    changes with time; run it for as long as the station is connected (or longer).

    It sleeps until the next change (``next_change``), or until the installed profiles change
    (``ChargingProfiles.changed``: whoever changed them applied the new limits already), or at
    most ``RECHECK_SECONDS``, and calls ``limit_changed`` only when a limit has moved.
    """
    profiles = station.profiles
    clock = station.clock
    seen = _limits(station)
    while True:
        profiles.changed.clear()
        now = clock.now()
        transactions = station.active_transactions()
        change = (
            profiles.next_change(station.model, now, transactions, evse_ids=transactions)
            if transactions
            else None
        )
        wait = RECHECK_SECONDS
        if change is not None:
            wait = min(wait, (change - now).total_seconds())
        await first_of(clock.sleep(max(wait, 0.0)), profiles.changed.wait())
        current = _limits(station)
        if current != seen and not profiles.changed.is_set():
            station.limit_changed()
        seen = current


def _limits(station: Station) -> dict[int, float]:
    return {
        evse.id: station.limit_w(evse)
        for evse in station.evses.values()
        if evse.transaction is not None
    }
