"""Short builders for the OCPP 2.0.1 types the smart charging tests feed in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from msgspec import UNSET

from kilowatt.messages.v201 import (
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileType,
    ChargingRateUnitEnumType,
    ChargingSchedulePeriodType,
    ChargingScheduleType,
    RecurrencyKindEnumType,
)

# A Monday, midnight UTC: Weekly recurrences are easy to read from it.
T0 = datetime(2025, 1, 6, tzinfo=UTC)

Purpose = ChargingProfilePurposeEnumType
Kind = ChargingProfileKindEnumType
Unit = ChargingRateUnitEnumType
Recurrency = RecurrencyKindEnumType

# (startPeriod, limit) or (startPeriod, limit, numberPhases)
Period = tuple[int, float] | tuple[int, float, int]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def periods(*spec: Period) -> list[ChargingSchedulePeriodType]:
    return [
        ChargingSchedulePeriodType(
            start_period=item[0],
            limit=item[1],
            number_phases=item[2] if len(item) == 3 else UNSET,
        )
        for item in spec
    ]


def profile(
    profile_id: int = 1,
    *,
    purpose: Purpose = Purpose.TX_DEFAULT_PROFILE,
    kind: Kind = Kind.ABSOLUTE,
    stack_level: int = 0,
    schedule: Sequence[Period] = ((0, 16.0),),
    unit: Unit = Unit.A,
    start_schedule: datetime | None = T0,
    duration: int | None = None,
    recurrency: Recurrency | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: str | None = None,
    schedule_periods: list[ChargingSchedulePeriodType] | None = None,
) -> ChargingProfileType:
    """A profile; a Relative one gets no startSchedule unless one is asked for explicitly."""
    if kind == Kind.RELATIVE and start_schedule is T0:
        start_schedule = None
    return ChargingProfileType(
        id=profile_id,
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        recurrency_kind=recurrency if recurrency is not None else UNSET,
        valid_from=valid_from if valid_from is not None else UNSET,
        valid_to=valid_to if valid_to is not None else UNSET,
        transaction_id=transaction_id if transaction_id is not None else UNSET,
        charging_schedule=[
            ChargingScheduleType(
                id=1,
                start_schedule=start_schedule if start_schedule is not None else UNSET,
                duration=duration if duration is not None else UNSET,
                charging_rate_unit=unit,
                charging_schedule_period=(
                    schedule_periods if schedule_periods is not None else periods(*schedule)
                ),
            )
        ],
    )
