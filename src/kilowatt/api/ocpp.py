"""/api/v1/stations/{station_id}/ocpp/{Action}: every OCPP 2.0.1 request the CSMS sends, with
the payload exactly as on the wire.

One route per action, so that OpenAPI documents each payload with its OCPP schema (generated
from the message types), and a catch-all that answers 404 for any other action.
"""

from __future__ import annotations

from typing import Any, NoReturn

import msgspec
from fastapi import APIRouter, Request

from kilowatt.api import services
from kilowatt.api.command_bodies import OcppAnswer
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import error_responses
from kilowatt.messages import VERSIONS, CustomData

__all__ = ["ocpp_schemas", "router"]

router = APIRouter(prefix="/stations/{station_id}/ocpp", tags=["ocpp"])

_OCPP201 = VERSIONS["2.0.1"]
_REF = "#/components/schemas/{name}"
_ERRORS = error_responses(404, 409, 413, 502, 504)


def _schema_hook(kind: type) -> dict[str, Any]:
    if kind is CustomData:
        # The one OCPP object open to properties it does not declare (see messages/base.py).
        return {
            "type": "object",
            "properties": {"vendorId": {"type": "string", "maxLength": 255}},
            "required": ["vendorId"],
            "additionalProperties": True,
        }
    raise TypeError(f"no JSON schema for {kind!r}")


def ocpp_schemas() -> dict[str, Any]:
    """OpenAPI components for the requests and responses of the actions the CSMS sends."""
    actions = sorted(services.CSMS_ACTIONS)
    types = [_OCPP201.requests[a] for a in actions] + [_OCPP201.responses[a] for a in actions]
    _, components = msgspec.json.schema_components(
        types, schema_hook=_schema_hook, ref_template=_REF
    )
    return components


def _add_route(action: str) -> None:
    request_name = _OCPP201.requests[action].__name__
    response_name = _OCPP201.responses[action].__name__

    async def send(station_id: str, request: Request, csms: CsmsDep) -> OcppAnswer:
        response = await services.send_raw(csms, station_id, action, await request.body())
        return OcppAnswer.of(response, action)

    answer = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "const": action},
            "response": {"$ref": _REF.format(name=response_name)},
        },
        "required": ["action", "response"],
    }
    router.add_api_route(
        f"/{action}",
        send,
        methods=["POST"],
        name=f"ocpp_{action}",
        summary=f"Send {action}",
        description=f"Send a {action} CALL with this payload, checked against the OCPP 2.0.1 "
        "schema first, to the connected station (booted or not, Accepted or not), and answer "
        "its response.",
        response_model=None,
        responses={
            200: {
                "description": "The station's response.",
                "content": {"application/json": {"schema": answer}},
            },
            **_ERRORS,
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": _REF.format(name=request_name)}}
                },
            }
        },
    )


for _action in sorted(services.CSMS_ACTIONS):
    _add_route(_action)


@router.post("/{action}", include_in_schema=False, response_model=None)
async def other_action(action: str) -> NoReturn:
    """Any action without a route of its own is one the CSMS does not send."""
    raise services.action_not_sent(action)
