"""/api/v1/stations/{station_id}/ocpp/{Action}: every OCPP 2.0.1 request the CSMS sends, and
those OCPP 2.1 adds (to stations connected over 2.1), with the payload exactly as on the wire.

One route per action, so that OpenAPI documents each payload with its OCPP schema (generated
from the message types), and a catch-all that answers 404 for any other action. The 2.1
schemas are components named ``OCPP21_<name>``: 2.1 redefines many of 2.0.1's types under
the same names.
"""

from __future__ import annotations

from typing import Any, NoReturn

import msgspec
from fastapi import APIRouter, Request

from kilowatt.api import services
from kilowatt.api.command_bodies import OcppAnswer
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import error_responses
from kilowatt.messages import VERSIONS, CustomData, Version

__all__ = ["ocpp_schemas", "router"]

router = APIRouter(prefix="/stations/{station_id}/ocpp", tags=["ocpp"])

_OCPP201 = VERSIONS["2.0.1"]
_OCPP21 = VERSIONS["2.1"]
_REF = "#/components/schemas/{name}"
_PREFIX_21 = "OCPP21_"
_REF_21 = f"#/components/schemas/{_PREFIX_21}{{name}}"
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


def _components(version: Version, actions: frozenset[str], ref_template: str) -> dict[str, Any]:
    ordered = sorted(actions)
    types = [version.requests[a] for a in ordered] + [version.responses[a] for a in ordered]
    _, components = msgspec.json.schema_components(
        types, schema_hook=_schema_hook, ref_template=ref_template
    )
    return components


def ocpp_schemas() -> dict[str, Any]:
    """OpenAPI components for the requests and responses of the actions the CSMS sends: 2.0.1's
    under their names, those of the actions 2.1 adds prefixed with ``OCPP21_``."""
    components = _components(_OCPP201, services.CSMS_ACTIONS, _REF)
    added = _components(_OCPP21, services.CSMS_ACTIONS_21, _REF_21)
    components.update({f"{_PREFIX_21}{name}": schema for name, schema in added.items()})
    return components


def _add_route(action: str) -> None:
    if action in services.CSMS_ACTIONS:
        version, ref = _OCPP201, _REF
        description = (
            f"Send a {action} CALL with this payload to the connected station (booted or not, "
            "Accepted or not), checked first against the schema of the OCPP version it is "
            "connected with, and answer its response. The schemas shown are OCPP 2.0.1's; a "
            "station connected over OCPP 2.1 is sent, and answers, 2.1's (the fields 2.1 adds "
            "allowed)."
        )
    else:
        version, ref = _OCPP21, _REF_21
        description = (
            f"Send an OCPP 2.1 {action} CALL with this payload, checked against the OCPP 2.1 "
            "schema first, to the station connected over OCPP 2.1 (booted or not, Accepted or "
            "not), and answer its response. A station connected over OCPP 2.0.1 does not know "
            "the action: 409 not_supported_by_station."
        )
    request_name = version.requests[action].__name__
    response_name = version.responses[action].__name__

    async def send(station_id: str, request: Request, csms: CsmsDep) -> OcppAnswer:
        response = await services.send_raw(csms, station_id, action, await request.body())
        return OcppAnswer.of(response, action)

    answer = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "const": action},
            "response": {"$ref": ref.format(name=response_name)},
        },
        "required": ["action", "response"],
    }
    router.add_api_route(
        f"/{action}",
        send,
        methods=["POST"],
        name=f"ocpp_{action}",
        summary=f"Send {action}" if version is _OCPP201 else f"Send {action} (OCPP 2.1)",
        description=description,
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
                    "application/json": {"schema": {"$ref": ref.format(name=request_name)}}
                },
            }
        },
    )


for _action in sorted(services.CSMS_ACTIONS | services.CSMS_ACTIONS_21):
    _add_route(_action)


@router.post("/{action}", include_in_schema=False, response_model=None)
async def other_action(action: str) -> NoReturn:
    """Any action without a route of its own is one the CSMS does not send."""
    raise services.action_not_sent(action)
