"""The API's errors: every one is JSON ``{"error": <slug>, "detail": <what went wrong>, ...}``.

``error`` is a stable slug for programs, ``detail`` a precise sentence for people; some errors
add fields of their own (the OCPP error code, the field at fault).
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

__all__ = ["ApiError", "ErrorBody", "error_responses", "install_error_handlers"]


class ApiError(Exception):
    """An error answered as JSON with its status.

    Args:
        status: the HTTP status.
        error: a slug, e.g. "station_not_found".
        detail: what went wrong, precisely.
        headers: extra response headers (WWW-Authenticate).
        extra: more JSON fields of the body.
    """

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"error": self.error, "detail": self.detail, **self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class ErrorBody(BaseModel):
    """The body of every error response; some errors add fields."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str


_DESCRIPTIONS = {
    401: "No bearer token, or not one of the API tokens.",
    404: "No such station, token, transaction or action.",
    409: "In conflict with the current state (exists already; station not connected).",
    413: "The OCPP frame would exceed the frame size limit.",
    415: "A content type the route does not read.",
    422: "The request breaks the body's, the query's or the OCPP schema; names the field.",
    502: "The station answered with a CALLERROR or an invalid response, or its connection closed.",
    504: "The station did not answer within the call timeout.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses, all with the ErrorBody schema."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }


def _slug(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return phrase.lower().replace(" ", "_").replace("-", "_")


def _field(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


def _message(error: dict[str, Any]) -> str:
    # Our validators raise ValueError with a full sentence; pydantic prefixes "Value error, ".
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(tuple(error["loc"])), "message": _message(error), "type": error["type"]}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
    return ApiError(422, "validation_error", detail, errors=errors).response()


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    # Starlette's own details are bare status phrases: say what was asked for instead.
    if exc.status_code == 404:
        detail = f"no route {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    error = ApiError(exc.status_code, _slug(exc.status_code), detail, headers=exc.headers)
    return error.response()


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The client gets no internals. Starlette raises the exception again after this answer,
    # so the server logs its traceback.
    return ApiError(500, "internal_error", f"{request.method} {request.url.path} failed").response()


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of the app as JSON in the ErrorBody shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
