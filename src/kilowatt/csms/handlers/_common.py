"""Helpers shared by the handler modules."""

from __future__ import annotations

from typing import Any

from kilowatt.csms.context import Context
from kilowatt.csms.store import Notification
from kilowatt.messages import Message, encode

__all__ = ["keep"]


async def keep(request: Message, ctx: Context, *, request_id: Any = None) -> None:
    """Store a station's report as it came (committed before the station is answered)."""
    await ctx.store.record_notification(
        Notification(
            station_id=ctx.station_id,
            action=getattr(request, "ACTION", type(request).__name__),
            received_at=ctx.now(),
            payload=encode(request).decode(),
            request_id=request_id if isinstance(request_id, int) else None,
        )
    )
