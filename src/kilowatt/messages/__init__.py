"""Typed OCPP payloads for 1.6, 2.0.1 and 2.1, generated from the OCA JSON schemas.

    from kilowatt.messages import v201
    request = v201.BootNotificationRequest(
        charging_station=v201.ChargingStationType(model="M1", vendor_name="Acme"),
        reason=v201.BootReasonEnumType.POWER_UP,
    )

``validate`` is the entry point for tools that hold JSON text; ``PayloadCodec`` plugs a version's
types into the RPC endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from kilowatt.messages import v16, v21, v201
from kilowatt.messages.base import CustomData, Message, Request, Response
from kilowatt.messages.codec import decode, encode
from kilowatt.rpc.dialect import OCPP16, OCPP21, OCPP201, Dialect
from kilowatt.rpc.errors import ActionNotImplemented, NotSupported, RpcError

__all__ = [
    "VERSIONS",
    "CustomData",
    "Message",
    "PayloadCodec",
    "Request",
    "Response",
    "Version",
    "decode",
    "encode",
    "validate",
]


@dataclass(frozen=True)
class Version:
    """One OCPP version: its name, its RPC dialect and its generated types."""

    name: str
    dialect: Dialect
    module: ModuleType

    @property
    def requests(self) -> dict[str, type[Request[Response]]]:
        requests: dict[str, type[Request[Response]]] = self.module.REQUESTS
        return requests

    @property
    def responses(self) -> dict[str, type[Response]]:
        responses: dict[str, type[Response]] = self.module.RESPONSES
        return responses

    def sent_by(self, role: Literal["station", "csms"]) -> frozenset[str]:
        """The actions whose CALL this role sends."""
        actions: frozenset[str] = (
            self.module.FROM_STATION if role == "station" else self.module.FROM_CSMS
        )
        return actions


VERSIONS: dict[str, Version] = {
    "1.6": Version("1.6", OCPP16, v16),
    "2.0.1": Version("2.0.1", OCPP201, v201),
    "2.1": Version("2.1", OCPP21, v21),
}


def validate(
    version: str, action: str, kind: Literal["request", "response"], payload: str | bytes
) -> None:
    """Check one payload's JSON text against the schema of an action.

    Args:
        version: "1.6", "2.0.1" or "2.1".
        action: the OCPP action, e.g. "BootNotification".
        kind: "request" (a CALL's payload) or "response" (a CALLRESULT's).
        payload: the JSON text.

    Raises:
        KeyError: unknown version.
        ActionNotImplemented: the version has no such action (or no response for it).
        RpcError: the payload breaks the schema; ``.code`` is the OCPP-J error code as the
            version spells it.
    """
    spec = VERSIONS[version]
    table: dict[str, type[Message]] = dict(spec.requests if kind == "request" else spec.responses)
    cls = table.get(action)
    if cls is None:
        raise ActionNotImplemented(f"OCPP {version} has no {kind} {action!r}")
    try:
        decode(payload, cls)
    except RpcError as error:
        raise spec.dialect.spelled(error) from None


class PayloadCodec:
    """The payload types one side of a connection reads and writes, for the RPC endpoint.

    Args:
        version: the OCPP version of the connection.
        role: the side this codec serves: a "csms" decodes the CALLs stations send, a
            "station" those the CSMS sends.
    """

    def __init__(self, version: Version, role: Literal["station", "csms"]) -> None:
        self.version = version
        peer: Literal["station", "csms"] = "station" if role == "csms" else "csms"
        self._incoming = version.sent_by(peer)

    def decode_call(self, action: str, payload: bytes) -> Request[Response]:
        cls = self.version.requests.get(action)
        if cls is None:
            raise ActionNotImplemented(f"unknown action {action!r}")
        if action not in self._incoming:
            # A known action that only the other role may send (a station's Reset sent to the
            # CSMS): the action exists, this side does not take it.
            raise NotSupported(f"{action} is not sent to this side")
        return decode(payload, cls)

    def decode_result(self, action: str, payload: bytes, request: object = None) -> Response:
        cls = self.version.responses.get(action)
        if cls is None:
            raise ActionNotImplemented(f"{action} has no response")
        return decode(payload, cls)

    def encode(self, payload: object) -> bytes:
        if not isinstance(payload, Message):
            raise TypeError(f"not a message: {payload!r}")
        return encode(payload)
