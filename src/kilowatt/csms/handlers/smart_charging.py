"""K Smart charging: what stations report of limits, EV needs and installed profiles.

Every report is kept as it came (a notification), and besides:

- ReportChargingProfiles (K09): the profiles are stored as the station's (source "station").
  Each part replaces the profiles of its EVSE that an earlier report (another requestId) left;
  the parts of one report (tbc) add up. So an EVSE's reported set is what the latest
  GetChargingProfiles that covered it found.
- NotifyChargingLimit / ClearedChargingLimit (K12, K13): the external limit of (EVSE, source)
  is stored, replacing the one before, until it is cleared; no evseId is EVSE 0, the station.
- NotifyEVChargingNeeds (K15): Accepted when a transaction runs on the EVSE, and after the
  answer a TxProfile that fits the EV's needs is sent (``csms.smart_charging.offer_tx_profile``).
- NotifyEVChargingSchedule (K17): Accepted if the EV's schedule stays within the TxProfile the
  CSMS set for the transaction, Rejected otherwise.
"""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.csms import smart_charging
from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.csms.store import PROFILE_REPORTED_BY_STATION, ChargingLimitRecord
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
    """K12: an external limit (EMS, grid operator) now applies at the station: kept, and stored
    as the limit of its EVSE and source."""
    await keep(request, ctx)
    limit = request.charging_limit
    schedules = request.charging_schedule
    await ctx.store.put_charging_limit(
        ChargingLimitRecord(
            station_id=ctx.station_id,
            evse_id=request.evse_id if request.evse_id is not UNSET else 0,
            charging_limit_source=str(limit.charging_limit_source),
            received_at=ctx.now(),
            is_grid_critical=(
                limit.is_grid_critical if limit.is_grid_critical is not UNSET else None
            ),
            schedules=(
                [smart_charging.schedule_json(schedule) for schedule in schedules]
                if schedules is not UNSET
                else None
            ),
        )
    )
    balancer = ctx.services.load_balancer
    if balancer is not None:
        balancer.external_limit(
            ctx.station_id,
            request.evse_id if request.evse_id is not UNSET else 0,
            str(limit.charging_limit_source),
            schedules[0] if schedules is not UNSET else None,
            ctx.now(),
        )
    return v201.NotifyChargingLimitResponse()


async def cleared_charging_limit(
    request: v201.ClearedChargingLimitRequest, ctx: Context
) -> v201.ClearedChargingLimitResponse:
    """K13: an external limit was released: kept, and the stored limit removed."""
    await keep(request, ctx)
    evse_id = request.evse_id if request.evse_id is not UNSET else 0
    await ctx.store.delete_charging_limit(
        ctx.station_id, evse_id, str(request.charging_limit_source)
    )
    if ctx.services.load_balancer is not None:
        ctx.services.load_balancer.external_limit_cleared(
            ctx.station_id, evse_id, str(request.charging_limit_source)
        )
    return v201.ClearedChargingLimitResponse()


async def notify_ev_charging_needs(
    request: v201.NotifyEVChargingNeedsRequest, ctx: Context
) -> v201.NotifyEVChargingNeedsResponse:
    """K15: the EV's needs are kept. With a transaction on the EVSE the answer is Accepted and a
    TxProfile for them follows the answer; without one there is nothing to make a TxProfile
    for: Rejected, with the reason."""
    await keep(request, ctx)
    running = await smart_charging.active_transactions(ctx.store, ctx.station_id, ctx.now())
    if request.evse_id not in running:
        return v201.NotifyEVChargingNeedsResponse(
            status=v201.NotifyEVChargingNeedsStatusEnumType.REJECTED,
            status_info=v201.StatusInfoType(
                reason_code="TxNotFound",
                additional_info=f"no transaction is running on EVSE {request.evse_id}",
            ),
        )
    services, station_id = ctx.services, ctx.station_id

    async def offer() -> None:
        await smart_charging.offer_tx_profile(services, station_id, request)

    ctx.then(offer)
    return v201.NotifyEVChargingNeedsResponse(
        status=v201.NotifyEVChargingNeedsStatusEnumType.ACCEPTED
    )


async def notify_ev_charging_schedule(
    request: v201.NotifyEVChargingScheduleRequest, ctx: Context
) -> v201.NotifyEVChargingScheduleResponse:
    """K17: the schedule the EV chose is kept, and checked against the TxProfile the CSMS set."""
    await keep(request, ctx)
    return await smart_charging.check_ev_schedule(ctx.services, ctx.station_id, request)


async def report_charging_profiles(
    request: v201.ReportChargingProfilesRequest, ctx: Context
) -> v201.ReportChargingProfilesResponse:
    """K09: the profiles installed at the station, in answer to GetChargingProfiles: kept, and
    stored as the station's (see the module's rule)."""
    await keep(request, ctx, request_id=request.request_id)
    now = ctx.now()
    records = [
        smart_charging.profile_record(
            ctx.station_id,
            request.evse_id,
            profile,
            source=PROFILE_REPORTED_BY_STATION,
            at=now,
            charging_limit_source=str(request.charging_limit_source),
            request_id=request.request_id,
        )
        for profile in request.charging_profile
    ]
    await ctx.store.replace_reported_charging_profiles(
        ctx.station_id, request.evse_id, request.request_id, records
    )
    return v201.ReportChargingProfilesResponse()
