"""What the routes do beyond mapping: station administration, and CALLs to stations with their
OCPP outcomes turned into HTTP ones."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from kilowatt.api.bodies import StationChange, StationCreate
from kilowatt.api.errors import ApiError
from kilowatt.csms import commands
from kilowatt.csms.app import Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.commands import StationNotConnected, request_from_json
from kilowatt.csms.local_lists import (
    LocalListSent,
    LocalListVersionTooLow,
    NoLocalList,
    NotSynchronized,
)
from kilowatt.csms.session import StationSession
from kilowatt.csms.store import StationRecord
from kilowatt.messages import VERSIONS, Request, Response, decode, encode, v201
from kilowatt.rpc.errors import (
    CallFailed,
    CallTimeout,
    ConnectionLost,
    FrameTooLarge,
    InvalidResponse,
    RpcError,
)

__all__ = [
    "CSMS_ACTIONS",
    "CSMS_ACTIONS_21",
    "action_not_sent",
    "call",
    "call_errors",
    "change_station",
    "checked",
    "create_station",
    "delete_station",
    "get_variables",
    "new_remote_start_id",
    "no_local_list",
    "parse",
    "send_local_list",
    "send_raw",
    "set_variables",
    "station",
]

R = TypeVar("R", bound=Response)

OCPP201 = VERSIONS["2.0.1"]
OCPP21 = VERSIONS["2.1"]
CSMS_ACTIONS = OCPP201.sent_by("csms")
# The actions OCPP 2.1 adds to those the CSMS sends: only to stations connected over 2.1.
CSMS_ACTIONS_21 = OCPP21.sent_by("csms") - CSMS_ACTIONS


# -- stations --------------------------------------------------------------------------------


def _no_station(station_id: str) -> ApiError:
    return ApiError(404, "station_not_found", f"no station {station_id!r}")


async def station(csms: Csms, station_id: str) -> tuple[StationRecord, StationSession | None]:
    """The station's record (its live session's when connected) and that session.

    Raises:
        ApiError: 404, no such station.
    """
    session = csms.registry.get(station_id)
    if session is not None:
        return session.station, session
    record = await csms.store.get_station(station_id)
    if record is None:
        raise _no_station(station_id)
    return record, None


async def _hash(password: str | None) -> str | None:
    # scrypt takes some 50 ms of CPU: off the event loop.
    return None if password is None else await asyncio.to_thread(hash_password, password)


async def create_station(csms: Csms, body: StationCreate) -> StationRecord:
    """Register a station.

    Raises:
        ApiError: 409, a station with this id exists.
    """
    if csms.registry.get(body.id) is not None or await csms.store.get_station(body.id):
        raise ApiError(409, "station_exists", f"station {body.id!r} exists already")
    record = StationRecord(
        station_id=body.id,
        security_profile=body.security_profile,
        password_hash=await _hash(body.password),
        registration_status=body.registration_status.value,
        heartbeat_interval=body.heartbeat_interval or csms.settings.heartbeat_interval,
        created_at=csms.clock.now(),
    )
    await csms.store.put_station(record)
    return record


async def change_station(csms: Csms, station_id: str, body: StationChange) -> StationRecord:
    """Change a station, in its live session too when it is connected.

    Raises:
        ApiError: 404, no such station.
    """
    changes = body.model_dump(mode="json", exclude_unset=True)
    if "password" in changes:
        changes["password_hash"] = await _hash(changes.pop("password"))
    try:
        return await csms.update_station(station_id, **changes)
    except LookupError:
        raise _no_station(station_id) from None


async def delete_station(csms: Csms, station_id: str) -> None:
    """Forget a station, and close its connection if it is connected.

    Raises:
        ApiError: 404, no such station.
    """
    if not await csms.delete_station(station_id):
        raise _no_station(station_id)


# -- calls to stations -----------------------------------------------------------------------


def action_not_sent(action: str) -> ApiError:
    """The 404 for an action the CSMS does not send: unknown, or sent by stations only."""
    if action in OCPP201.requests or action in OCPP21.requests:
        return ApiError(
            404,
            "action_not_sent_by_csms",
            f"{action} is sent by charging stations to the CSMS, never by the CSMS",
        )
    return ApiError(404, "unknown_action", f"neither OCPP 2.0.1 nor 2.1 has an action {action!r}")


def _version_of(session: StationSession | None) -> str:
    """The OCPP version a station's live session speaks: "2.1" over ocpp2.1, else "2.0.1"."""
    return "2.1" if session is not None and session.subprotocol == "ocpp2.1" else "2.0.1"


def _schema_violation(error: RpcError, action: str, version: str = "2.0.1") -> ApiError:
    return ApiError(
        422,
        "schema_violation",
        f"the {action} request breaks the OCPP {version} schema: {error.description}",
        code=error.code,
        field=error.details.get("path"),
    )


def checked(request: Request[R]) -> Request[R]:
    """The request, once checked against its schema as the station will check it.

    Raises:
        ApiError: 422, naming the OCPP error code and the field.
    """
    try:
        decode(encode(request), type(request))
    except RpcError as error:
        raise _schema_violation(error, request.ACTION) from None
    return request


@contextmanager
def call_errors(csms: Csms, station_id: str, action: str) -> Iterator[None]:
    """Turn the ways a CALL to a station fails into API errors (409, 413, 502, 504)."""
    try:
        yield
    except StationNotConnected:
        raise ApiError(
            409, "station_not_connected", f"station {station_id!r} is not connected"
        ) from None
    except CallFailed as failed:
        error = failed.error
        raise ApiError(
            502,
            "call_error",
            f"station {station_id!r} answered {failed.action} with a CALLERROR: "
            f"{error.code}: {error.description}",
            code=error.code,
            description=error.description,
            details=error.details,
        ) from None
    except InvalidResponse as invalid:
        error = invalid.error
        version = _version_of(csms.registry.get(station_id))
        raise ApiError(
            502,
            "invalid_response",
            f"the answer of station {station_id!r} to {invalid.action} breaks the OCPP {version} "
            f"schema: {error.description}",
            code=error.code,
            field=error.details.get("path"),
        ) from None
    except CallTimeout as timeout:
        raise ApiError(
            504,
            "call_timeout",
            f"station {station_id!r} did not answer {timeout.action} within "
            f"{csms.settings.call_timeout:g} s",
        ) from None
    except ConnectionLost:
        raise ApiError(
            502,
            "connection_lost",
            f"the connection of station {station_id!r} closed before it answered {action}",
        ) from None
    except FrameTooLarge as large:
        raise ApiError(
            413,
            "frame_too_large",
            f"the {action} CALL would be {large.size} bytes, over the frame size limit of "
            f"{large.limit}",
        ) from None


async def call(csms: Csms, station_id: str, request: Request[R]) -> R:
    """Send a CALL to a known station and return its answer.

    Raises:
        ApiError: 404 no such station, or the errors of ``call_errors``.
    """
    await station(csms, station_id)
    with call_errors(csms, station_id, request.ACTION):
        return await csms.commands.call(station_id, request)


def parse(action: str, payload: bytes) -> Request[Response]:
    """An operator's payload of a CSMS action as its request, once it passes the schema.

    Raises:
        ApiError: 422, naming the OCPP error code and the field.
    """
    try:
        return request_from_json(OCPP201.requests, action, payload)
    except RpcError as error:
        raise _schema_violation(error, action) from None


async def send_raw(csms: Csms, station_id: str, action: str, payload: bytes) -> Response:
    """Send an operator's payload, exactly as given, once it passes the action's schema in the
    OCPP version the station is connected with (2.1 over "ocpp2.1", else 2.0.1).

    It goes to any connected station, booted or not, Accepted or not. The response is of the
    same version as the request.

    Raises:
        ApiError: 404 unknown action or station, 409 an OCPP 2.1 action to a station connected
            over 2.0.1, 422 schema violation, or the errors of ``call_errors``.
    """
    if action not in CSMS_ACTIONS and action not in CSMS_ACTIONS_21:
        raise action_not_sent(action)
    _, session = await station(csms, station_id)
    if session is not None:
        version = _version_of(session)
    else:
        # Not connected (answered 409 by the call): checked against the version that has it.
        version = "2.0.1" if action in CSMS_ACTIONS else "2.1"
    if version == "2.0.1" and action in CSMS_ACTIONS_21:
        raise ApiError(
            409,
            "not_supported_by_station",
            f"station {station_id!r} is connected over OCPP 2.0.1, which has no {action}: "
            "it is an OCPP 2.1 action",
            station_version="2.0.1",
        )
    try:
        request = request_from_json(VERSIONS[version].requests, action, payload)
    except RpcError as error:
        raise _schema_violation(error, action, version) from None
    with call_errors(csms, station_id, action):
        return await csms.commands.call(station_id, request)


def new_remote_start_id() -> int:
    """A remoteStartId for a RequestStartTransaction: random, positive, within 31 bits, so
    that two operators' starts on one station do not share it."""
    return secrets.randbelow(2**31 - 1) + 1


async def get_variables(
    csms: Csms, station_id: str, items: list[v201.GetVariableDataType]
) -> list[v201.GetVariableResultType]:
    """GetVariables for any number of items, in as many requests as the station's limits need.

    Raises:
        ApiError: 404 no such station, 422 an item breaks the schema, or the errors of
            ``call_errors``.
    """
    checked(v201.GetVariablesRequest(get_variable_data=items))
    await station(csms, station_id)
    with call_errors(csms, station_id, "GetVariables"):
        return await commands.get_variables(csms.commands, csms.store, station_id, items)


async def set_variables(
    csms: Csms, station_id: str, items: list[v201.SetVariableDataType]
) -> list[v201.SetVariableResultType]:
    """SetVariables for any number of items, in as many requests as the station's limits need.

    Raises:
        ApiError: as ``get_variables``.
    """
    checked(v201.SetVariablesRequest(set_variable_data=items))
    await station(csms, station_id)
    with call_errors(csms, station_id, "SetVariables"):
        return await commands.set_variables(csms.commands, csms.store, station_id, items)


def no_local_list(station_id: str) -> ApiError:
    """The 404 for a station the CSMS keeps no local list for."""
    return ApiError(
        404,
        "local_list_not_found",
        f"the CSMS keeps no local list for station {station_id!r}: PUT one first",
    )


async def send_local_list(
    csms: Csms, station_id: str, update_type: v201.UpdateEnumType
) -> LocalListSent:
    """Send the local list the CSMS keeps for a station (``commands.send_local_list``).

    Raises:
        ApiError: 404 no such station or no list, 409 a Differential update before the
            station accepted any, or a version too low for the messages the list needs; or the
            errors of ``call_errors``.
    """
    await station(csms, station_id)
    try:
        with call_errors(csms, station_id, "SendLocalList"):
            return await commands.send_local_list(
                csms.commands, csms.store, station_id, update_type
            )
    except NoLocalList:
        raise no_local_list(station_id) from None
    except NotSynchronized as error:
        raise ApiError(409, "local_list_not_synchronized", str(error)) from None
    except LocalListVersionTooLow as error:
        raise ApiError(
            409,
            "local_list_version_too_low",
            str(error),
            version=error.version,
            messages=error.messages,
        ) from None
