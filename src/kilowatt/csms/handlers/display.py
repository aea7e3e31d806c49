"""O Display messages: O03 NotifyDisplayMessages, in answer to GetDisplayMessages."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = ["notify_display_messages"]


async def notify_display_messages(
    request: v201.NotifyDisplayMessagesRequest, ctx: Context
) -> v201.NotifyDisplayMessagesResponse:
    """O03: the messages configured at the station: kept, by request id."""
    await keep(request, ctx, request_id=request.request_id)
    return v201.NotifyDisplayMessagesResponse()
