"""G Availability: G01 StatusNotification (connector status history), G02 Heartbeat."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.store import StatusChange
from kilowatt.messages import v201

__all__ = ["heartbeat", "status_notification"]


async def heartbeat(request: v201.HeartbeatRequest, ctx: Context) -> v201.HeartbeatResponse:
    """G02: the station is alive; it may set its clock from currentTime."""
    now = ctx.now()
    ctx.session.last_heartbeat_at = now
    return v201.HeartbeatResponse(current_time=now)


async def status_notification(
    request: v201.StatusNotificationRequest, ctx: Context
) -> v201.StatusNotificationResponse:
    """G01: keep every connector status change, and each connector's latest status."""
    await ctx.store.record_status(
        StatusChange(
            station_id=ctx.station_id,
            evse_id=request.evse_id,
            connector_id=request.connector_id,
            status=str(request.connector_status),
            timestamp=request.timestamp,
            received_at=ctx.now(),
        )
    )
    if ctx.services.load_balancer is not None:
        # A connector that became Unavailable or Faulted may free power for the others.
        ctx.services.load_balancer.transactions_changed(ctx.station_id)
    return v201.StatusNotificationResponse()
