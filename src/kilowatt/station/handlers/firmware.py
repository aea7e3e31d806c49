"""Block L: firmware updates (the state is in station/firmware.py)."""

from __future__ import annotations

from kilowatt.messages import v201
from kilowatt.rpc.errors import NotSupported
from kilowatt.station.station import Station

__all__ = ["publish_firmware", "unpublish_firmware", "update_firmware"]


async def update_firmware(
    request: v201.UpdateFirmwareRequest, station: Station
) -> v201.UpdateFirmwareResponse:
    """L01/L02: start the update; FirmwareStatusNotifications follow."""
    return v201.UpdateFirmwareResponse(status=station.firmware.update(request))


async def publish_firmware(
    request: v201.PublishFirmwareRequest, station: Station
) -> v201.PublishFirmwareResponse:
    """L03 is for local controllers, which this station is not."""
    raise NotSupported("PublishFirmware is for local controllers")


async def unpublish_firmware(
    request: v201.UnpublishFirmwareRequest, station: Station
) -> v201.UnpublishFirmwareResponse:
    """L04 is for local controllers, which this station is not."""
    raise NotSupported("UnpublishFirmware is for local controllers")
