"""/api/v1/stations: the stations, their connection state, and what they sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kilowatt.api import services
from kilowatt.api.bodies import (
    FrameView,
    NotificationView,
    StationChange,
    StationCreate,
    StationDetail,
    StationView,
    StatusChangeView,
)
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/stations", tags=["stations"])

Offset = Annotated[int, Query(ge=0)]


@router.get("")
async def list_stations(
    csms: CsmsDep, offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[StationView]:
    """The stations in id order, each with the live state of its connection."""
    views = []
    for record in await csms.store.list_stations(offset=offset, limit=limit):
        session = csms.registry.get(record.station_id)
        # A connected station's session holds the freshest record.
        views.append(StationView.of(session.station if session else record, session))
    return views


@router.post("", status_code=201, responses=error_responses(409))
async def create_station(csms: CsmsDep, body: StationCreate) -> StationView:
    """Register a station; its password is stored only as a hash."""
    record = await services.create_station(csms, body)
    return StationView.of(record, None)


@router.get("/{station_id}", responses=error_responses(404))
async def get_station(csms: CsmsDep, station_id: str) -> StationDetail:
    """A station with its EVSEs' connector statuses and its device model as last reported."""
    record, session = await services.station(csms, station_id)
    statuses = await csms.store.connector_statuses(station_id)
    variables = await csms.store.variables(station_id)
    return StationDetail.of_all(record, session, statuses, variables)


@router.patch("/{station_id}", responses=error_responses(404))
async def change_station(csms: CsmsDep, station_id: str, body: StationChange) -> StationView:
    """Change a station at run time: the registration status and heartbeat interval answer its
    next BootNotification, the security profile and password apply to its next connection."""
    record = await services.change_station(csms, station_id, body)
    return StationView.of(record, csms.registry.get(station_id))


@router.delete("/{station_id}", status_code=204, responses=error_responses(404))
async def delete_station(csms: CsmsDep, station_id: str) -> None:
    """Forget a station; a connected station is disconnected."""
    await services.delete_station(csms, station_id)


@router.get("/{station_id}/status-history", responses=error_responses(404))
async def status_history(
    csms: CsmsDep, station_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[StatusChangeView]:
    """The connector status changes the station reported, newest first."""
    await services.station(csms, station_id)
    changes = await csms.store.status_history(station_id, limit=limit)
    return [StatusChangeView.of(change) for change in changes]


@router.get("/{station_id}/messages", responses=error_responses(404))
async def messages(
    csms: CsmsDep,
    station_id: str,
    since: Annotated[
        int | None, Query(ge=0, description="Only frames at or after this time, in ms.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> list[FrameView]:
    """The message log: every frame to and from the station, oldest first."""
    await services.station(csms, station_id)
    # Frames are logged without waiting for their commit: flush, so that the log holds every
    # frame that passed before this request (the answer to a command just sent, say).
    await csms.store.flush()
    entries = await csms.store.frames(station_id, since_ms=since, limit=limit)
    return [FrameView.of(entry) for entry in entries]


@router.get("/{station_id}/notifications", responses=error_responses(404))
async def notifications(
    csms: CsmsDep,
    station_id: str,
    action: Annotated[str | None, Query(examples=["NotifyReport"])] = None,
    request_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationView]:
    """The reports the station sent (NotifyReport, NotifyEvent, SecurityEventNotification,
    firmware and log status, ...), newest first."""
    await services.station(csms, station_id)
    found = await csms.store.notifications(
        station_id, action=action, request_id=request_id, limit=limit
    )
    return [NotificationView.of(notification) for notification in found]
