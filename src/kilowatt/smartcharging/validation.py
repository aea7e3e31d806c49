"""Which charging profiles a station accepts, and what installing or clearing one leaves.

OCPP 2.0.1 use case K01 lists what a station must refuse in a SetChargingProfileRequest. The
station refuses with these rules; the CSMS runs the same rules before it sends a profile, so an
operator learns at once, and by requirement id, why a station would refuse it. Each rule yields a
``Rejected`` whose reason code is one of the standard StatusInfo reason codes and whose text names
the requirement; the first rule broken is the answer.

``install``, ``clear`` and ``select`` are the bookkeeping of K01 (replace by id, K01.FR.05), K10
(ClearChargingProfile) and K09 (GetChargingProfiles) over an immutable tuple of installed profiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, pairwise

from msgspec import UNSET, UnsetType

from kilowatt.messages.v201 import (
    ChargingProfileCriterionType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileType,
    ClearChargingProfileStatusEnumType,
    StatusInfoType,
)
from kilowatt.smartcharging.model import InstalledProfile, StationLimits

__all__ = [
    "ACCEPTED",
    "Accepted",
    "Cleared",
    "ProfileVerdict",
    "Rejected",
    "clear",
    "install",
    "select",
    "validate_profile",
    "validate_start_transaction_profile",
]

Purpose = ChargingProfilePurposeEnumType
Kind = ChargingProfileKindEnumType


@dataclass(frozen=True)
class Accepted:
    """The profile may be installed."""


ACCEPTED = Accepted()


@dataclass(frozen=True)
class Rejected:
    """The profile must be refused: ``reason_code`` goes in StatusInfo.reasonCode (at most 20
    characters, a standard reason code), ``additional_info`` names the requirement broken."""

    reason_code: str
    requirement: str
    detail: str

    @property
    def additional_info(self) -> str:
        return f"{self.requirement}: {self.detail}"

    def status_info(self) -> StatusInfoType:
        return StatusInfoType(reason_code=self.reason_code, additional_info=self.additional_info)


ProfileVerdict = Accepted | Rejected


def validate_profile(
    profile: ChargingProfileType,
    evse_id: int,
    *,
    installed: Iterable[InstalledProfile],
    station: StationLimits,
    active_transactions: Mapping[int, str],
    now: datetime,
) -> ProfileVerdict:
    """The verdict on a SetChargingProfileRequest(evse_id, profile) sent by the CSMS.

    ``active_transactions`` maps an EVSE to the id of the transaction running on it.
    """
    current = tuple(installed)
    checks = chain(
        _not_external_constraints(profile),
        _evse_known(evse_id, station),
        _purpose_fits_evse(profile, evse_id),
        _stack_level_in_range(profile, station),
        _transaction_id_only_on_tx_profile(profile),
        _schedules_valid(profile, evse_id, station),
        _tx_profile_matches_transaction(profile, evse_id, active_transactions),
        _no_conflict(profile, evse_id, current, now),
    )
    return next(checks, ACCEPTED)


def validate_start_transaction_profile(
    profile: ChargingProfileType,
    evse_id: int,
    *,
    installed: Iterable[InstalledProfile],
    station: StationLimits,
) -> ProfileVerdict:
    """The verdict on the charging profile of a RequestStartTransactionRequest (K05).

    The transaction does not exist yet, so the profile carries no transactionId and the checks
    against the running transaction (K01.FR.03/09/33) and other TxProfiles of it (K01.FR.39) do
    not apply; everything else does.
    """
    current = tuple(installed)
    checks = chain(
        _start_transaction_profile_is_tx_profile(profile),
        _evse_known(evse_id, station),
        _purpose_fits_evse(profile, evse_id),
        _stack_level_in_range(profile, station),
        _schedules_valid(profile, evse_id, station),
        _replaces_no_external_constraints(profile, current),
    )
    return next(checks, ACCEPTED)


def install(
    installed: Iterable[InstalledProfile], profile: ChargingProfileType, evse_id: int
) -> tuple[InstalledProfile, ...]:
    """The installed profiles once ``profile`` is installed on ``evse_id`` (validate first)."""
    # K01.FR.05: a profile with the id of an installed one replaces it.
    kept = tuple(entry for entry in installed if entry.profile.id != profile.id)
    return (*kept, InstalledProfile(profile=profile, evse_id=evse_id))


@dataclass(frozen=True)
class Cleared:
    """What ClearChargingProfile leaves, and its answer: Accepted if it removed anything."""

    remaining: tuple[InstalledProfile, ...]
    status: ClearChargingProfileStatusEnumType


def clear(
    installed: Iterable[InstalledProfile],
    *,
    profile_id: int | None = None,
    evse_id: int | None = None,
    purpose: ChargingProfilePurposeEnumType | None = None,
    stack_level: int | None = None,
) -> Cleared:
    """ClearChargingProfile: by ``profile_id``, else every profile matching all given criteria.

    ``None`` matches anything; ``evse_id`` 0 means the profiles of the station as a whole. No id
    and no criteria clears every profile.
    """
    current = tuple(installed)

    def is_cleared(entry: InstalledProfile) -> bool:
        if profile_id is not None:
            return entry.profile.id == profile_id
        return (
            (evse_id is None or entry.evse_id == evse_id)
            and (purpose is None or entry.profile.charging_profile_purpose == purpose)
            and (stack_level is None or entry.profile.stack_level == stack_level)
        )

    remaining = tuple(entry for entry in current if not is_cleared(entry))
    status = (
        ClearChargingProfileStatusEnumType.ACCEPTED
        if len(remaining) < len(current)
        else ClearChargingProfileStatusEnumType.UNKNOWN
    )
    return Cleared(remaining=remaining, status=status)


def select(
    installed: Iterable[InstalledProfile],
    criteria: ChargingProfileCriterionType,
    evse_id: int | None = None,
) -> tuple[InstalledProfile, ...]:
    """GetChargingProfiles: the installed profiles matching every criterion given.

    ``evse_id`` None means every EVSE and the station; 0 the station's own profiles only.
    """

    def matches(entry: InstalledProfile) -> bool:
        profile = entry.profile
        return (
            (evse_id is None or entry.evse_id == evse_id)
            and (
                criteria.charging_profile_purpose is UNSET
                or profile.charging_profile_purpose == criteria.charging_profile_purpose
            )
            and (criteria.stack_level is UNSET or profile.stack_level == criteria.stack_level)
            and (
                criteria.charging_profile_id is UNSET or profile.id in criteria.charging_profile_id
            )
            and (
                criteria.charging_limit_source is UNSET
                or entry.source in criteria.charging_limit_source
            )
        )

    return tuple(entry for entry in installed if matches(entry))


# The rules. Each yields the rejections it finds; the caller keeps the first.


def _not_external_constraints(profile: ChargingProfileType) -> Iterator[Rejected]:
    if profile.charging_profile_purpose == Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS:
        # K01.FR.22: ExternalConstraints come from an EMS behind the station, never the CSMS.
        yield Rejected(
            "InvalidProfile",
            "K01.FR.22",
            "ChargingStationExternalConstraints may not be set by the CSMS",
        )


def _start_transaction_profile_is_tx_profile(profile: ChargingProfileType) -> Iterator[Rejected]:
    if profile.charging_profile_purpose != Purpose.TX_PROFILE:
        yield Rejected(
            "InvalidProfile", "K05", "the profile of RequestStartTransaction must be a TxProfile"
        )
    if profile.transaction_id is not UNSET:
        yield Rejected(
            "InvalidValue",
            "K05",
            "the profile of RequestStartTransaction has no transactionId: it is not known yet",
        )


def _evse_known(evse_id: int, station: StationLimits) -> Iterator[Rejected]:
    if evse_id != 0 and evse_id not in station.evses:
        # K01.FR.28: a profile for an EVSE the station does not have is refused.
        yield Rejected("UnknownEvse", "K01.FR.28", f"the station has no EVSE {evse_id}")


def _purpose_fits_evse(profile: ChargingProfileType, evse_id: int) -> Iterator[Rejected]:
    purpose = profile.charging_profile_purpose
    if purpose == Purpose.CHARGING_STATION_MAX_PROFILE:
        if evse_id != 0:
            # K04.FR.03: the station maximum applies to the station as a whole, EVSE 0.
            yield Rejected(
                "InvalidProfile", "K04.FR.03", "ChargingStationMaxProfile only on evseId 0"
            )
        if profile.charging_profile_kind == Kind.RELATIVE:
            # K01.FR.38: a station maximum is not relative to a transaction.
            yield Rejected(
                "InvalidProfile", "K01.FR.38", "ChargingStationMaxProfile may not be Relative"
            )
    if purpose == Purpose.TX_PROFILE and evse_id <= 0:
        # K01.FR.16: a TxProfile belongs to the transaction on one EVSE.
        yield Rejected("InvalidProfile", "K01.FR.16", "TxProfile only on an evseId > 0")


def _stack_level_in_range(
    profile: ChargingProfileType, station: StationLimits
) -> Iterator[Rejected]:
    if not 0 <= profile.stack_level <= station.profile_stack_level:
        # SmartChargingCtrlr.ProfileStackLevel is the highest stackLevel; the lowest is 0.
        yield Rejected(
            "InvalidStackLevel",
            "SmartChargingCtrlr.ProfileStackLevel",
            f"stackLevel {profile.stack_level} is outside 0..{station.profile_stack_level}",
        )


def _transaction_id_only_on_tx_profile(profile: ChargingProfileType) -> Iterator[Rejected]:
    if profile.transaction_id is not UNSET and profile.charging_profile_purpose != (
        Purpose.TX_PROFILE
    ):
        # ChargingProfileType.transactionId: included only when the purpose is TxProfile.
        yield Rejected(
            "InvalidValue", "ChargingProfileType.transactionId", "transactionId only on a TxProfile"
        )


def _schedules_valid(
    profile: ChargingProfileType, evse_id: int, station: StationLimits
) -> Iterator[Rejected]:
    kind = profile.charging_profile_kind
    if kind == Kind.RECURRING and profile.recurrency_kind is UNSET:
        yield Rejected(
            "InvalidSchedule",
            "ChargingProfileType.recurrencyKind",
            "a Recurring profile needs recurrencyKind",
        )
    evse = station.evses.get(evse_id)
    direct_current = evse is not None and evse.direct_current
    for schedule in profile.charging_schedule:
        if schedule.charging_rate_unit not in station.rate_units:
            # K01.FR.26: a chargingRateUnit the station does not support is refused.
            yield Rejected(
                "UnsupportedRateUnit",
                "K01.FR.26",
                f"chargingRateUnit {schedule.charging_rate_unit} is not supported",
            )
        if kind in (Kind.ABSOLUTE, Kind.RECURRING) and schedule.start_schedule is UNSET:
            # K01.FR.40: Absolute and Recurring schedules start at startSchedule.
            yield Rejected("InvalidSchedule", "K01.FR.40", f"a {kind} schedule needs startSchedule")
        if kind == Kind.RELATIVE and schedule.start_schedule is not UNSET:
            # K01.FR.41: a Relative schedule starts with the transaction, not at a set time.
            yield Rejected(
                "InvalidSchedule", "K01.FR.41", "a Relative schedule may not have startSchedule"
            )
        periods = schedule.charging_schedule_period
        if len(periods) > station.periods_per_schedule:
            yield Rejected(
                "TooManyElements",
                "SmartChargingCtrlr.PeriodsPerSchedule",
                f"{len(periods)} periods, at most {station.periods_per_schedule}",
            )
        if not periods or periods[0].start_period != 0:
            # K01.FR.31: the first period starts the schedule.
            yield Rejected("InvalidSchedule", "K01.FR.31", "the first startPeriod must be 0")
        for earlier, later in pairwise(periods):
            if later.start_period <= earlier.start_period:
                # K01.FR.35: periods are in strictly increasing order of startPeriod.
                yield Rejected(
                    "InvalidSchedule",
                    "K01.FR.35",
                    f"startPeriod {later.start_period} does not follow {earlier.start_period}",
                )
        for period in periods:
            yield from _phases_valid(
                period.number_phases, period.phase_to_use, direct_current, station
            )


def _phases_valid(
    number_phases: int | UnsetType,
    phase_to_use: int | UnsetType,
    direct_current: bool,
    station: StationLimits,
) -> Iterator[Rejected]:
    if direct_current and (number_phases is not UNSET or phase_to_use is not UNSET):
        # K01.FR.44: phases mean nothing to a DC EVSE.
        yield Rejected("InvalidValue", "K01.FR.44", "numberPhases and phaseToUse are AC only")
    if isinstance(number_phases, int) and not 1 <= number_phases <= station.supply_phases:
        # K01.FR.45: no more phases than the station is connected with.
        yield Rejected(
            "InvalidValue",
            "K01.FR.45",
            f"numberPhases {number_phases} is outside 1..{station.supply_phases}",
        )
    if phase_to_use is not UNSET:
        if number_phases != 1:
            # K01.FR.19: phaseToUse only with numberPhases 1.
            yield Rejected("InvalidValue", "K01.FR.19", "phaseToUse only with numberPhases 1")
        if not station.ac_phase_switching_supported:
            # K01.FR.20: phaseToUse only where ACPhaseSwitchingSupported is true.
            yield Rejected(
                "UnsupportedParam",
                "K01.FR.20",
                "phaseToUse needs ACPhaseSwitchingSupported",
            )
        if isinstance(phase_to_use, int) and not 1 <= phase_to_use <= 3:
            yield Rejected("InvalidValue", "K01.FR.19", f"phaseToUse {phase_to_use} is not 1..3")


def _tx_profile_matches_transaction(
    profile: ChargingProfileType, evse_id: int, active_transactions: Mapping[int, str]
) -> Iterator[Rejected]:
    if profile.charging_profile_purpose != Purpose.TX_PROFILE:
        return
    if profile.transaction_id is UNSET:
        # K01.FR.03: a TxProfile names its transaction.
        yield Rejected("MissingParam", "K01.FR.03", "a TxProfile needs a transactionId")
        return
    running = active_transactions.get(evse_id)
    if running is None:
        # K01.FR.09: a TxProfile needs a transaction running on its EVSE.
        yield Rejected("TxNotFound", "K01.FR.09", f"no transaction is running on EVSE {evse_id}")
    elif running != profile.transaction_id:
        # K01.FR.33: ... and it must be that transaction.
        yield Rejected(
            "TxNotFound",
            "K01.FR.33",
            f"transaction {profile.transaction_id} is not the one on EVSE {evse_id}",
        )


def _no_conflict(
    profile: ChargingProfileType,
    evse_id: int,
    installed: tuple[InstalledProfile, ...],
    now: datetime,
) -> Iterator[Rejected]:
    yield from _replaces_no_external_constraints(profile, installed)
    others = [entry for entry in installed if entry.profile.id != profile.id]
    purpose = profile.charging_profile_purpose
    same_level = [
        entry
        for entry in others
        if entry.profile.charging_profile_purpose == purpose
        and entry.profile.stack_level == profile.stack_level
    ]
    if purpose == Purpose.TX_PROFILE:
        for entry in same_level:
            if entry.profile.transaction_id == profile.transaction_id:
                # K01.FR.39: one TxProfile per stackLevel and transaction.
                yield Rejected(
                    "InvalidStackLevel",
                    "K01.FR.39",
                    f"profile {entry.profile.id} has stackLevel {profile.stack_level} "
                    f"for transaction {profile.transaction_id}",
                )
        return
    for entry in same_level:
        if entry.evse_id == evse_id and _validity_overlaps(entry.profile, profile, now):
            # K01.FR.06: one profile per purpose, stackLevel and EVSE at any time.
            yield Rejected(
                "DuplicateProfile",
                "K01.FR.06",
                f"profile {entry.profile.id} has the same purpose and stackLevel on EVSE "
                f"{evse_id} with an overlapping validity",
            )
    if purpose == Purpose.TX_DEFAULT_PROFILE:
        for entry in same_level:
            if evse_id == 0 and entry.evse_id != 0:
                # K01.FR.52: not station-wide at a stackLevel an EVSE's own default uses.
                yield Rejected(
                    "DuplicateProfile",
                    "K01.FR.52",
                    f"TxDefaultProfile {entry.profile.id} on EVSE {entry.evse_id} has "
                    f"stackLevel {profile.stack_level}",
                )
            if evse_id != 0 and entry.evse_id == 0:
                # K01.FR.53: not for one EVSE at a stackLevel the station-wide default uses.
                yield Rejected(
                    "DuplicateProfile",
                    "K01.FR.53",
                    f"station-wide TxDefaultProfile {entry.profile.id} has "
                    f"stackLevel {profile.stack_level}",
                )


def _replaces_no_external_constraints(
    profile: ChargingProfileType, installed: tuple[InstalledProfile, ...]
) -> Iterator[Rejected]:
    for entry in installed:
        if (
            entry.profile.id == profile.id
            and entry.profile.charging_profile_purpose
            == Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
        ):
            # K01.FR.05 replaces a profile of the same id, except one set by an external system.
            yield Rejected(
                "DuplicateProfile",
                "K01.FR.05",
                f"id {profile.id} belongs to a ChargingStationExternalConstraints profile",
            )


def _validity_overlaps(
    installed: ChargingProfileType, candidate: ChargingProfileType, now: datetime
) -> bool:
    """Whether [validFrom, validTo) of the two intersect. An absent validFrom is "since it was
    received": now for the candidate, the indefinite past for an installed profile."""
    installed_from = installed.valid_from if installed.valid_from is not UNSET else None
    candidate_from = candidate.valid_from if candidate.valid_from is not UNSET else now
    installed_to = installed.valid_to if installed.valid_to is not UNSET else None
    candidate_to = candidate.valid_to if candidate.valid_to is not UNSET else None
    starts_before_installed_ends = installed_to is None or candidate_from < installed_to
    ends_after_installed_starts = (
        installed_from is None or candidate_to is None or installed_from < candidate_to
    )
    return starts_before_installed_ends and ends_after_installed_starts
