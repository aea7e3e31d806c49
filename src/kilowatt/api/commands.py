"""/api/v1/stations/{station_id}/commands/...: the everyday CSMS requests with small bodies of
their own; the errors are those of the raw OCPP route."""

from __future__ import annotations

from fastapi import APIRouter

from kilowatt.api import services
from kilowatt.api.command_bodies import (
    ChangeAvailabilityCommand,
    GetVariableOutcome,
    GetVariablesAnswer,
    GetVariablesCommand,
    OcppAnswer,
    RemoteStartAnswer,
    RemoteStartCommand,
    RemoteStopCommand,
    ResetCommand,
    SendLocalListCommand,
    SetVariableOutcome,
    SetVariablesAnswer,
    SetVariablesCommand,
    TriggerMessageCommand,
    UnlockCommand,
)
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import error_responses
from kilowatt.csms.app import Csms
from kilowatt.messages import Request, Response, v201

__all__ = ["router"]

router = APIRouter(
    prefix="/stations/{station_id}/commands",
    tags=["commands"],
    responses=error_responses(404, 409, 413, 502, 504),
)


async def _send(csms: Csms, station_id: str, request: Request[Response]) -> OcppAnswer:
    response = await services.call(csms, station_id, services.checked(request))
    return OcppAnswer.of(response, request.ACTION)


@router.post("/reset")
async def reset(csms: CsmsDep, station_id: str, body: ResetCommand) -> OcppAnswer:
    """Reset the station, or one EVSE (Reset)."""
    return await _send(csms, station_id, body.request())


@router.post("/remote-start")
async def remote_start(
    csms: CsmsDep, station_id: str, body: RemoteStartCommand
) -> RemoteStartAnswer:
    """Ask the station to start a transaction for a token (RequestStartTransaction)."""
    remote_start_id = body.remote_start_id
    if remote_start_id is None:
        remote_start_id = services.new_remote_start_id()
    answer = await _send(csms, station_id, body.request(remote_start_id))
    return RemoteStartAnswer(**dict(answer), remote_start_id=remote_start_id)


@router.post("/remote-stop")
async def remote_stop(csms: CsmsDep, station_id: str, body: RemoteStopCommand) -> OcppAnswer:
    """Ask the station to stop a transaction (RequestStopTransaction)."""
    return await _send(csms, station_id, body.request())


@router.post("/unlock")
async def unlock(csms: CsmsDep, station_id: str, body: UnlockCommand) -> OcppAnswer:
    """Unlock a connector (UnlockConnector)."""
    return await _send(csms, station_id, body.request())


@router.post("/change-availability")
async def change_availability(
    csms: CsmsDep, station_id: str, body: ChangeAvailabilityCommand
) -> OcppAnswer:
    """Make the station, an EVSE or a connector Operative or Inoperative (ChangeAvailability)."""
    return await _send(csms, station_id, body.request())


@router.post("/trigger-message")
async def trigger_message(
    csms: CsmsDep, station_id: str, body: TriggerMessageCommand
) -> OcppAnswer:
    """Ask the station to send a message now (TriggerMessage)."""
    return await _send(csms, station_id, body.request())


@router.post("/get-variables")
async def get_variables(
    csms: CsmsDep, station_id: str, body: GetVariablesCommand
) -> GetVariablesAnswer:
    """Read variables of the device model (GetVariables, split by the station's limits)."""
    items = [variable.get_data() for variable in body.variables]
    results = await services.get_variables(csms, station_id, items)
    return GetVariablesAnswer(results=[GetVariableOutcome.of(result) for result in results])


@router.post("/set-variables")
async def set_variables(
    csms: CsmsDep, station_id: str, body: SetVariablesCommand
) -> SetVariablesAnswer:
    """Write variables of the device model (SetVariables, split by the station's limits)."""
    items = [variable.set_data() for variable in body.variables]
    results = await services.set_variables(csms, station_id, items)
    return SetVariablesAnswer(results=[SetVariableOutcome.of(result) for result in results])


@router.post("/clear-cache")
async def clear_cache(csms: CsmsDep, station_id: str) -> OcppAnswer:
    """Clear the station's authorization cache (ClearCache)."""
    return await _send(csms, station_id, v201.ClearCacheRequest())


@router.post("/send-local-list")
async def send_local_list(csms: CsmsDep, station_id: str, body: SendLocalListCommand) -> OcppAnswer:
    """Replace or update the station's local authorization list (SendLocalList)."""
    return await _send(csms, station_id, body.request())
