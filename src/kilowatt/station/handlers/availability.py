"""Block G: availability and connector status."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import ChangeAvailabilityStatusEnumType as Status
from kilowatt.station.station import Station

__all__ = ["change_availability"]


async def change_availability(
    request: v201.ChangeAvailabilityRequest, station: Station
) -> v201.ChangeAvailabilityResponse:
    """G03/G04: station, EVSE or connector; Scheduled while a transaction runs there."""
    operative = request.operational_status == v201.OperationalStatusEnumType.OPERATIVE
    if request.evse is UNSET or request.evse.id == 0:
        targets = list(station.evses.values())
        connector_id = None
    else:
        evse = station.evses.get(request.evse.id)
        connector_id = request.evse.connector_id if request.evse.connector_id is not UNSET else None
        if evse is None or (connector_id is not None and connector_id not in evse.connectors):
            return v201.ChangeAvailabilityResponse(
                status=Status.REJECTED,
                status_info=v201.StatusInfoType(reason_code="UnknownEvse"),
            )
        targets = [evse]
    scheduled = False
    for evse in targets:
        # G03.FR.05: a transaction in progress finishes first; the change waits for it.
        if evse.transaction is not None and not operative:
            evse.scheduled_operative = operative
            scheduled = True
        else:
            station.change_availability(evse, operative, connector_id)
    return v201.ChangeAvailabilityResponse(
        status=Status.SCHEDULED if scheduled else Status.ACCEPTED
    )
