"""The REST API's application: routes, authentication, errors, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI

import kilowatt
from kilowatt.api import (
    charging_profiles,
    commands,
    id_tokens,
    local_lists,
    ocpp,
    seed,
    sites,
    stations,
    tariffs,
    transactions,
)
from kilowatt.api.bodies import HealthView
from kilowatt.api.deps import require_token
from kilowatt.api.errors import error_responses, install_error_handlers
from kilowatt.csms.app import Csms

__all__ = ["create_app"]

_DESCRIPTION = """\
The REST API of the kilowatt CSMS (OCPP 2.0.1).

Every `/api` route needs one of the API tokens of the settings as `Authorization: Bearer <token>`.
Errors are JSON: `{"error": <slug>, "detail": <what went wrong>, ...}`.
"""


class _KilowattApi(FastAPI):
    """FastAPI with the OCPP message schemas in its OpenAPI components."""

    def openapi(self) -> dict[str, Any]:
        fresh = self.openapi_schema is None
        document = super().openapi()  # built once, then cached by FastAPI
        if fresh:
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            # The API's own models keep their names; the OCPP enums they share are identical.
            for name, schema in ocpp.ocpp_schemas().items():
                schemas.setdefault(name, schema)
        return document


async def health() -> HealthView:
    """Whether the API answers (no token needed)."""
    return HealthView()


def create_app(csms: Csms) -> FastAPI:
    """The REST API of a CSMS: OpenAPI at /docs and /openapi.json, the API under /api/v1."""
    app = _KilowattApi(
        title="kilowatt",
        version=kilowatt.__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.csms = csms
    install_error_handlers(app)
    app.add_api_route("/health", health, methods=["GET"], tags=["health"])
    api = APIRouter(
        prefix="/api/v1", dependencies=[Depends(require_token)], responses=error_responses(401, 422)
    )
    modules = (
        stations,
        id_tokens,
        transactions,
        ocpp,
        commands,
        local_lists,
        charging_profiles,
        sites,
        tariffs,
        seed,
    )
    for module in modules:
        api.include_router(module.router)
    app.include_router(api)
    return app
