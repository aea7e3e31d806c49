"""K Smart charging: what stations report of limits, EV needs and installed profiles."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = [
    "cleared_charging_limit",
    "notify_charging_limit",
    "notify_ev_charging_needs",
    "notify_ev_charging_schedule",
    "report_charging_profiles",
]


async def notify_charging_limit(
    request: v201.NotifyChargingLimitRequest, ctx: Context
) -> v201.NotifyChargingLimitResponse:
    """K12: an external limit (EMS, grid operator) now applies at the station: kept."""
    await keep(request, ctx)
    return v201.NotifyChargingLimitResponse()


async def cleared_charging_limit(
    request: v201.ClearedChargingLimitRequest, ctx: Context
) -> v201.ClearedChargingLimitResponse:
    """K13: an external limit was released: kept."""
    await keep(request, ctx)
    return v201.ClearedChargingLimitResponse()


async def notify_ev_charging_needs(
    request: v201.NotifyEVChargingNeedsRequest, ctx: Context
) -> v201.NotifyEVChargingNeedsResponse:
    """K15: the EV's needs are kept. Until the CSMS manages the site's power it does not send a
    charging schedule for them, and says so: Rejected, with the reason."""
    await keep(request, ctx)
    return v201.NotifyEVChargingNeedsResponse(
        status=v201.NotifyEVChargingNeedsStatusEnumType.REJECTED,
        status_info=v201.StatusInfoType(
            reason_code="NotManaged", additional_info="no smart charging for this station"
        ),
    )


async def notify_ev_charging_schedule(
    request: v201.NotifyEVChargingScheduleRequest, ctx: Context
) -> v201.NotifyEVChargingScheduleResponse:
    """K17: the schedule the EV chose is kept; with no profile set by the CSMS it cannot exceed
    one, so it is Accepted."""
    await keep(request, ctx)
    return v201.NotifyEVChargingScheduleResponse(status=v201.GenericStatusEnumType.ACCEPTED)


async def report_charging_profiles(
    request: v201.ReportChargingProfilesRequest, ctx: Context
) -> v201.ReportChargingProfilesResponse:
    """K09: the profiles installed at the station, in answer to GetChargingProfiles: kept."""
    await keep(request, ctx, request_id=request.request_id)
    return v201.ReportChargingProfilesResponse()
