"""L Firmware management: L01-L04 FirmwareStatusNotification, L05 PublishFirmwareStatus."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = ["firmware_status_notification", "publish_firmware_status_notification"]


async def firmware_status_notification(
    request: v201.FirmwareStatusNotificationRequest, ctx: Context
) -> v201.FirmwareStatusNotificationResponse:
    """L01: the progress of a firmware update: kept, and the station's current status set."""
    await keep(request, ctx, request_id=request.request_id)
    record = ctx.session.update_station(firmware_status=str(request.status))
    await ctx.store.put_station(record)
    return v201.FirmwareStatusNotificationResponse()


async def publish_firmware_status_notification(
    request: v201.PublishFirmwareStatusNotificationRequest, ctx: Context
) -> v201.PublishFirmwareStatusNotificationResponse:
    """L05: a local controller's progress publishing firmware: kept."""
    await keep(request, ctx, request_id=request.request_id)
    return v201.PublishFirmwareStatusNotificationResponse()
