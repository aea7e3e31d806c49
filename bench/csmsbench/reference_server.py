"""Reference CSMS: the PyPI ``ocpp`` package's ``v201.ChargePoint`` on a ``websockets`` server.

    PYTHONPATH=bench .venv/bin/python -m csmsbench.reference_server --port 9000 [--no-validation]

It answers what kilowatt's CSMS answers to the bench's stations, the way the ``ocpp`` package's
documentation writes a central system: ``@on`` handlers returning ``call_result`` dataclasses.
BootNotification is Accepted with an interval of 300 s, Heartbeat gets the current time,
MeterValues and TransactionEvent an empty answer (with idTokenInfo Accepted when the event
carries an idToken), Authorize idTokenInfo Accepted. Nothing is stored.

Schema validation is the package's default: on, for requests and responses, run in the default
thread pool (``ocpp.messages.ASYNC_VALIDATION``). ``--no-validation`` marks every handler
``skip_schema_validation=True``, which leaves the rest of the package's path (camelCase to
snake_case, dataclass serialisation) as it is.

Stations connect to ``/ocpp/{stationId}`` with subprotocol ocpp2.0.1 and HTTP Basic auth; the
user must be the station id and the password 16 to 40 characters (OCPP 2.0.1 A00.FR.205), as a
stand-in for a password check. It prints ``OCPP listening on ws://...`` once it accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import ChargePoint, call_result  # type: ignore[import-untyped]
from ocpp.v201.datatypes import IdTokenInfoType  # type: ignore[import-untyped]
from ocpp.v201.enums import (  # type: ignore[import-untyped]
    Action,
    AuthorizationStatusEnumType,
    RegistrationStatusEnumType,
)
from websockets import ConnectionClosed, Request, Response
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from csmsbench.procstat import raise_open_files_limit

PATH_PREFIX = "/ocpp/"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def make_central_system(skip_validation: bool) -> type[Any]:
    """The ``ChargePoint`` subclass with the bench's handlers, validating or not."""

    class CentralSystem(ChargePoint):  # type: ignore[misc]
        @on(Action.boot_notification, skip_schema_validation=skip_validation)  # type: ignore[untyped-decorator]
        def on_boot_notification(self, **_: Any) -> Any:
            return call_result.BootNotification(
                current_time=_now(), interval=300, status=RegistrationStatusEnumType.accepted
            )

        @on(Action.heartbeat, skip_schema_validation=skip_validation)  # type: ignore[untyped-decorator]
        def on_heartbeat(self, **_: Any) -> Any:
            return call_result.Heartbeat(current_time=_now())

        @on(Action.meter_values, skip_schema_validation=skip_validation)  # type: ignore[untyped-decorator]
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

        @on(Action.transaction_event, skip_schema_validation=skip_validation)  # type: ignore[untyped-decorator]
        def on_transaction_event(self, id_token: Any = None, **_: Any) -> Any:
            if id_token is None:
                return call_result.TransactionEvent()
            return call_result.TransactionEvent(
                id_token_info=IdTokenInfoType(status=AuthorizationStatusEnumType.accepted)
            )

        @on(Action.authorize, skip_schema_validation=skip_validation)  # type: ignore[untyped-decorator]
        def on_authorize(self, **_: Any) -> Any:
            return call_result.Authorize(
                id_token_info=IdTokenInfoType(status=AuthorizationStatusEnumType.accepted)
            )

    return CentralSystem


def _check_basic_auth(connection: ServerConnection, request: Request) -> Response | None:
    """None to go on with the handshake, or the 401/404 response that ends it."""
    if not request.path.startswith(PATH_PREFIX):
        return connection.respond(HTTPStatus.NOT_FOUND, "not an OCPP path\n")
    station_id = request.path[len(PATH_PREFIX) :]
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user = password = ""
    if scheme.lower() != "basic" or user != station_id or not 16 <= len(password) <= 40:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
    return None


async def main(port: int, skip_validation: bool) -> None:
    raise_open_files_limit()
    central_system = make_central_system(skip_validation)

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None  # set once the handshake is through
        station = central_system(connection.request.path[len(PATH_PREFIX) :], connection)
        with contextlib.suppress(ConnectionClosed):  # the station left
            await station.start()

    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[Subprotocol("ocpp2.0.1")],
        process_request=_check_basic_auth,
        backlog=1024,
    ) as server:
        print(f"OCPP listening on ws://127.0.0.1:{port}{PATH_PREFIX}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-validation", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.no_validation))
