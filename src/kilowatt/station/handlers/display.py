"""Block O: display messages (the state is in station/display.py)."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    ClearMessageStatusEnumType as ClearStatus,
    GetDisplayMessagesStatusEnumType as GetStatus,
)
from kilowatt.station.station import Station

__all__ = ["clear_display_message", "get_display_messages", "set_display_message"]


async def set_display_message(
    request: v201.SetDisplayMessageRequest, station: Station
) -> v201.SetDisplayMessageResponse:
    """O01/O02/O06."""
    return v201.SetDisplayMessageResponse(status=station.display.set(request.message))


async def get_display_messages(
    request: v201.GetDisplayMessagesRequest, station: Station
) -> v201.GetDisplayMessagesResponse:
    """O03/O04: Accepted and NotifyDisplayMessages with the matching messages, or Unknown
    when none matches."""
    found = station.display.select(
        request.id if request.id is not UNSET else None,
        request.priority if request.priority is not UNSET else None,
        request.state if request.state is not UNSET else None,
    )
    if not found:
        return v201.GetDisplayMessagesResponse(status=GetStatus.UNKNOWN)
    # The display holds at most DisplayMessageCtrlr.DisplayMessages' maxLimit messages (10):
    # one NotifyDisplayMessages carries them all.
    notify = v201.NotifyDisplayMessagesRequest(request_id=request.request_id, message_info=found)
    station.spawn(station.send(notify))
    return v201.GetDisplayMessagesResponse(status=GetStatus.ACCEPTED)


async def clear_display_message(
    request: v201.ClearDisplayMessageRequest, station: Station
) -> v201.ClearDisplayMessageResponse:
    """O05: Accepted, or Unknown for an id the station does not have."""
    cleared = station.display.clear(request.id)
    return v201.ClearDisplayMessageResponse(
        status=ClearStatus.ACCEPTED if cleared else ClearStatus.UNKNOWN
    )
