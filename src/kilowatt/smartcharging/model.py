"""The values smart charging works on: what a station can do, what is installed, what runs.

Validation (K01) and the composite schedule (K08) both need to know the same facts about a
station: its EVSEs, their physical limits, the supply voltage, the SmartChargingCtrlr settings.
They are gathered in one frozen value, ``StationLimits``, so that the CSMS (which computes what it
expects a station to report) and the station itself feed both functions the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kilowatt.messages.v201 import (
    ChargingLimitSourceEnumType,
    ChargingProfileType,
    ChargingRateUnitEnumType,
)

__all__ = ["ActiveTransaction", "EvseLimits", "InstalledProfile", "StationLimits"]


@dataclass(frozen=True)
class EvseLimits:
    """The physical limits of one EVSE: ``None`` where nothing is known."""

    max_current: Decimal | None = None  # A per phase
    max_power: Decimal | None = None  # W, all phases together
    phases: int = 3
    direct_current: bool = False


@dataclass(frozen=True)
class StationLimits:
    """What a charging station is and can do, as far as smart charging is concerned.

    The defaults are those of libocpp where it has one (230 V, 48 A, 33120 W when nothing limits)
    and "no further restriction than the schema" for the SmartChargingCtrlr sizes.
    """

    evses: Mapping[int, EvseLimits] = field(default_factory=dict)
    supply_voltage: Decimal = Decimal(230)  # nominal phase voltage (libocpp's SupplyVoltage)
    supply_phases: int = 3  # the station's grid connection
    # SmartChargingCtrlr.RateUnit
    rate_units: frozenset[ChargingRateUnitEnumType] = frozenset(ChargingRateUnitEnumType)
    # SmartChargingCtrlr.PeriodsPerSchedule; 1024 is the schema's maximum
    periods_per_schedule: int = 1024
    # SmartChargingCtrlr.ProfileStackLevel: the highest stackLevel accepted
    profile_stack_level: int = 100
    # SmartChargingCtrlr.ACPhaseSwitchingSupported
    ac_phase_switching_supported: bool = False
    # Reported where nothing limits (libocpp's CompositeScheduleDefaultLimitAmps/Watts)
    default_limit_amps: Decimal = Decimal(48)
    default_limit_watts: Decimal = Decimal(33120)

    def evse_phases(self, evse_id: int) -> int:
        """The phases an EVSE charges on: its own, or the station's for EVSE 0 and unknowns."""
        evse = self.evses.get(evse_id)
        return evse.phases if evse is not None else self.supply_phases


@dataclass(frozen=True)
class InstalledProfile:
    """A charging profile as a station holds it: on which EVSE (0 = the station), set by whom."""

    profile: ChargingProfileType
    evse_id: int
    source: ChargingLimitSourceEnumType = ChargingLimitSourceEnumType.CSO


@dataclass(frozen=True)
class ActiveTransaction:
    """The transaction running on an EVSE: TxProfiles name it, Relative schedules start with it."""

    transaction_id: str
    started_at: datetime
