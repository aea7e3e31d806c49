"""/api/v1/stations/{station_id}/local-list: the local authorization list the CSMS keeps for a
station (D01), and sending it."""

from __future__ import annotations

from fastapi import APIRouter

from kilowatt.api import services
from kilowatt.api.command_bodies import (
    LocalListChange,
    LocalListSendAnswer,
    LocalListSendCommand,
    LocalListView,
)
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import error_responses
from kilowatt.csms.app import Csms

__all__ = ["router"]

router = APIRouter(
    prefix="/stations/{station_id}/local-list",
    tags=["local lists"],
    responses=error_responses(404),
)


async def _view(csms: Csms, station_id: str) -> LocalListView:
    kept = await csms.store.local_list(station_id)
    if kept is None:
        raise services.no_local_list(station_id)
    return LocalListView.of(kept, await csms.store.accepted_local_list(station_id))


@router.get("")
async def get_local_list(csms: CsmsDep, station_id: str) -> LocalListView:
    """The local list the CSMS keeps for the station, and the version of the last update the
    station accepted."""
    await services.station(csms, station_id)
    return await _view(csms, station_id)


@router.put("")
async def put_local_list(csms: CsmsDep, station_id: str, body: LocalListChange) -> LocalListView:
    """Replace the local list the CSMS keeps for the station; the station gets it when it is
    sent (POST .../local-list/send)."""
    await services.station(csms, station_id)
    entries = [entry.record() for entry in body.entries]
    await csms.store.put_local_list(station_id, body.version, entries, full=True)
    return await _view(csms, station_id)


@router.post("/send", responses=error_responses(409, 413, 502, 504))
async def send_local_list(
    csms: CsmsDep, station_id: str, body: LocalListSendCommand
) -> LocalListSendAnswer:
    """Send the list to the station (SendLocalList, in as many requests as
    LocalAuthListCtrlr's ItemsPerMessage and BytesPerMessage need); after an accepted Full
    update, ask the station's version (GetLocalListVersion)."""
    sent = await services.send_local_list(csms, station_id, body.update_type)
    return LocalListSendAnswer.of(sent)
