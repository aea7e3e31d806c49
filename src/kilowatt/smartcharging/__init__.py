"""Smart charging (OCPP 2.0.1 block K) as pure functions over values.

Shared by the charging station, which validates the profiles it is sent, answers
GetCompositeSchedule and limits its simulated EV, and by the CSMS, which validates a profile
before sending it and computes the composite schedule it expects a station to report. Being
pure (no I/O, no clock: the time is an argument), the same code gives both sides the same answer.
"""

from __future__ import annotations

from kilowatt.smartcharging.composite import (
    ChargingLimit,
    UnknownEvseError,
    composite_schedule,
    limit_at,
)
from kilowatt.smartcharging.model import (
    ActiveTransaction,
    EvseLimits,
    InstalledProfile,
    StationLimits,
)
from kilowatt.smartcharging.validation import (
    ACCEPTED,
    Accepted,
    Cleared,
    ProfileVerdict,
    Rejected,
    clear,
    install,
    select,
    validate_profile,
    validate_start_transaction_profile,
)

__all__ = [
    "ACCEPTED",
    "Accepted",
    "ActiveTransaction",
    "ChargingLimit",
    "Cleared",
    "EvseLimits",
    "InstalledProfile",
    "ProfileVerdict",
    "Rejected",
    "StationLimits",
    "UnknownEvseError",
    "clear",
    "composite_schedule",
    "install",
    "limit_at",
    "select",
    "validate_profile",
    "validate_start_transaction_profile",
]
