"""Block K, smart charging: install, report, clear profiles; the composite schedule.

The rules are ``kilowatt.smartcharging``'s (the CSMS runs the same ones); this applies them to
the station's installed set (``station.profiles``), keeps SmartChargingCtrlr.Entries up to date
and re-applies the limits after every change (``station.limit_changed``).
"""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    ChargingProfileStatusEnumType as ProfileStatus,
    ClearChargingProfileStatusEnumType as ClearStatus,
    GenericStatusEnumType as GenericStatus,
    GetChargingProfileStatusEnumType as GetStatus,
)
from kilowatt.smartcharging import (
    Accepted,
    InstalledProfile,
    UnknownEvseError,
    clear,
    composite_schedule,
    install,
    select,
    validate_profile,
)
from kilowatt.station.smart_charging import ENTRIES, SMART, with_entries
from kilowatt.station.station import Station

__all__ = [
    "clear_charging_profile",
    "get_charging_profiles",
    "get_composite_schedule",
    "set_charging_profile",
]


def _enabled(station: Station) -> bool:
    definition = station.model.definition(SMART, "Enabled")
    return definition is None or station.model.bool_value(SMART, "Enabled")


def _capacity(station: Station) -> int | None:
    """The most profiles the station holds: the maxLimit of Entries[ChargingProfiles]."""
    definition = station.model.definition(SMART, ENTRIES.variable)
    if definition is None or definition.characteristics.max_limit is None:
        return None
    return int(definition.characteristics.max_limit)


def _adopt(station: Station, installed: tuple[InstalledProfile, ...]) -> None:
    station.profiles.replace(installed)
    station.set_model(with_entries(station.model, len(installed)))
    station.limit_changed()


async def set_charging_profile(
    request: v201.SetChargingProfileRequest, station: Station
) -> v201.SetChargingProfileResponse:
    """K01: validate, then install (replacing a profile of the same id, K01.FR.05)."""
    profile = request.charging_profile
    if not _enabled(station):
        return v201.SetChargingProfileResponse(
            status=ProfileStatus.REJECTED,
            status_info=v201.StatusInfoType(
                reason_code="NotEnabled", additional_info="SmartChargingCtrlr.Enabled is false"
            ),
        )
    installed = station.profiles.installed
    verdict = validate_profile(
        profile,
        request.evse_id,
        installed=installed,
        station=station.profiles.limits(station.model),
        active_transactions={
            evse_id: active.transaction_id
            for evse_id, active in station.active_transactions().items()
        },
        now=station.clock.now(),
    )
    if not isinstance(verdict, Accepted):
        station.log.append(f"charging profile {profile.id} rejected: {verdict.additional_info}")
        return v201.SetChargingProfileResponse(
            status=ProfileStatus.REJECTED, status_info=verdict.status_info()
        )
    capacity = _capacity(station)
    replaces = any(entry.profile.id == profile.id for entry in installed)
    if capacity is not None and not replaces and len(installed) >= capacity:
        return v201.SetChargingProfileResponse(
            status=ProfileStatus.REJECTED,
            status_info=v201.StatusInfoType(
                reason_code="NoCapacity",
                additional_info=f"SmartChargingCtrlr.Entries: {capacity} profiles installed",
            ),
        )
    _adopt(station, install(installed, profile, request.evse_id))
    station.iso15118.profile_set(request.evse_id, profile)  # K16: renegotiate with the EV
    return v201.SetChargingProfileResponse(status=ProfileStatus.ACCEPTED)


async def get_charging_profiles(
    request: v201.GetChargingProfilesRequest, station: Station
) -> v201.GetChargingProfilesResponse:
    """K09: Accepted, then ReportChargingProfiles per (chargingLimitSource, evseId), the last
    one without tbc; NoProfiles when nothing matches."""
    evse_id = request.evse_id if request.evse_id is not UNSET else None
    found = select(station.profiles.installed, request.charging_profile, evse_id)
    if not found:
        return v201.GetChargingProfilesResponse(status=GetStatus.NO_PROFILES)
    groups: dict[tuple[v201.ChargingLimitSourceEnumType, int], list[v201.ChargingProfileType]] = {}
    for entry in found:
        groups.setdefault((entry.source, entry.evse_id), []).append(entry.profile)
    last = len(groups) - 1
    reports = [
        v201.ReportChargingProfilesRequest(
            request_id=request.request_id,
            charging_limit_source=source,
            charging_profile=sorted(profiles, key=lambda p: (p.stack_level, p.id)),
            tbc=index < last,
            evse_id=group_evse,
        )
        for index, ((source, group_evse), profiles) in enumerate(groups.items())
    ]

    async def send() -> None:
        for report in reports:
            await station.send(report)

    station.spawn(send())
    return v201.GetChargingProfilesResponse(status=GetStatus.ACCEPTED)


async def clear_charging_profile(
    request: v201.ClearChargingProfileRequest, station: Station
) -> v201.ClearChargingProfileResponse:
    """K10: by chargingProfileId, else by the criteria given; Unknown when nothing matched."""
    criteria = request.charging_profile_criteria
    if request.charging_profile_id is not UNSET:
        cleared = clear(station.profiles.installed, profile_id=request.charging_profile_id)
    elif criteria is not UNSET:
        cleared = clear(
            station.profiles.installed,
            evse_id=criteria.evse_id if criteria.evse_id is not UNSET else None,
            purpose=(
                criteria.charging_profile_purpose
                if criteria.charging_profile_purpose is not UNSET
                else None
            ),
            stack_level=criteria.stack_level if criteria.stack_level is not UNSET else None,
        )
    else:
        cleared = clear(station.profiles.installed)
    if cleared.status == ClearStatus.ACCEPTED:
        _adopt(station, cleared.remaining)
    return v201.ClearChargingProfileResponse(status=cleared.status)


async def get_composite_schedule(
    request: v201.GetCompositeScheduleRequest, station: Station
) -> v201.GetCompositeScheduleResponse:
    """K08: the schedule of an EVSE (0: the station) from now on for ``duration`` seconds."""
    limits = station.profiles.limits(station.model)
    if request.charging_rate_unit is not UNSET:
        unit = request.charging_rate_unit
    else:
        supported = station.model.list_value(SMART, "RateUnit")
        unit = (
            v201.ChargingRateUnitEnumType(supported[0])
            if supported
            else v201.ChargingRateUnitEnumType.W
        )
    if unit not in limits.rate_units:
        return _rejected("UnsupportedRateUnit", f"chargingRateUnit {unit} is not supported")
    if request.duration < 0:
        return _rejected("InvalidValue", f"duration {request.duration} is negative")
    try:
        schedule = composite_schedule(
            station.profiles.installed,
            evse_id=request.evse_id,
            start=station.clock.now(),
            duration=request.duration,
            unit=unit,
            station=limits,
            transactions=station.active_transactions(),
        )
    except UnknownEvseError:
        return _rejected("UnknownEvse", f"the station has no EVSE {request.evse_id}")
    return v201.GetCompositeScheduleResponse(status=GenericStatus.ACCEPTED, schedule=schedule)


def _rejected(reason: str, detail: str) -> v201.GetCompositeScheduleResponse:
    return v201.GetCompositeScheduleResponse(
        status=GenericStatus.REJECTED,
        status_info=v201.StatusInfoType(reason_code=reason, additional_info=detail),
    )
