"""H Reservation: H05 ReservationStatusUpdate (a reservation expired or was removed)."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = ["reservation_status_update"]


async def reservation_status_update(
    request: v201.ReservationStatusUpdateRequest, ctx: Context
) -> v201.ReservationStatusUpdateResponse:
    """H05: kept, by reservation id."""
    await keep(request, ctx, request_id=request.reservation_id)
    return v201.ReservationStatusUpdateResponse()
