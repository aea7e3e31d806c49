"""What differs between the OCPP-J versions at the RPC level: message types and error spellings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kilowatt.rpc.errors import RpcError

__all__ = ["DIALECTS", "OCPP16", "OCPP21", "OCPP201", "Dialect", "PayloadCodec"]

CALL = 2
CALLRESULT = 3
CALLERROR = 4
CALLRESULTERROR = 5  # OCPP 2.1: the caller rejects a CALLRESULT it cannot accept
SEND = 6  # OCPP 2.1: a CALL that gets no answer


@dataclass(frozen=True)
class Dialect:
    """The RPC rules of one OCPP version.

    Attributes:
        subprotocol: the WebSocket subprotocol name, e.g. "ocpp2.0.1".
        message_types: the messageTypeIds this version defines.
        spellings: wire spelling of error codes where it differs from the 2.x names.
    """

    subprotocol: str
    message_types: frozenset[int]
    spellings: Mapping[str, str] = field(default_factory=dict)

    def wire_code(self, error: RpcError) -> str:
        return self.spellings.get(error.CODE, error.code)

    def spelled(self, error: RpcError) -> RpcError:
        """The same error with its code spelled for this version."""
        code = self.wire_code(error)
        if code == error.code:
            return error
        return type(error)(error.description, error.details, code=code)

    @property
    def has_send(self) -> bool:
        return SEND in self.message_types


# OCPP-J 1.6 §4.2.3 spells two codes its own way, kept by the 1.6 errata (5.1, 5.2), and has no
# RpcFrameworkError or MessageTypeNotSupported: a broken frame is a FormationViolation there, an
# unknown message type NotSupported.
OCPP16 = Dialect(
    "ocpp1.6",
    frozenset({CALL, CALLRESULT, CALLERROR}),
    {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
        "RpcFrameworkError": "FormationViolation",
        "MessageTypeNotSupported": "NotSupported",
    },
)
OCPP201 = Dialect("ocpp2.0.1", frozenset({CALL, CALLRESULT, CALLERROR}))
OCPP21 = Dialect("ocpp2.1", frozenset({CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND}))

DIALECTS: Mapping[str, Dialect] = {d.subprotocol: d for d in (OCPP16, OCPP201, OCPP21)}


class PayloadCodec(Protocol):
    """Typed payloads for the endpoint; kilowatt.messages provides one per version and role.

    The endpoint never looks inside a payload: it hands the raw JSON text of each payload to
    these methods and sends whatever bytes ``encode`` returns.
    """

    def decode_call(self, action: str, payload: bytes) -> object:
        """Decode a received CALL's payload.

        Raises:
            ActionNotImplemented: the action is unknown to this side.
            RpcError: the payload breaks the action's request schema (code per the table).
        """
        ...

    def decode_result(self, action: str, payload: bytes, request: object) -> object:
        """Decode a received CALLRESULT's payload for the action we called with ``request``.

        Raises:
            RpcError: the payload breaks the action's response schema.
        """
        ...

    def encode(self, payload: object) -> bytes:
        """The JSON text of a payload object."""
        ...
