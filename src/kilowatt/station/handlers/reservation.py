"""Block H: reserve an EVSE, cancel a reservation (the state is in station/reservations.py)."""

from __future__ import annotations

from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["cancel_reservation", "reserve_now"]


async def reserve_now(request: v201.ReserveNowRequest, station: Station) -> v201.ReserveNowResponse:
    """H01: Accepted, or why not: Faulted, Occupied, Unavailable, Rejected."""
    return v201.ReserveNowResponse(status=station.reservations.reserve(request))


async def cancel_reservation(
    request: v201.CancelReservationRequest, station: Station
) -> v201.CancelReservationResponse:
    """H02: Accepted, or Rejected for an unknown reservation."""
    return v201.CancelReservationResponse(
        status=station.reservations.cancel(request.reservation_id)
    )
