"""Errors of the OCPP-J layer.

The tree::

    OcppError                       anything this layer raises
    ├── RpcError                    carries an OCPP-J error code; answered with a CALLERROR
    │   ├── FormatViolation
    │   ├── GenericError
    │   ├── InternalError
    │   ├── MessageTypeNotSupported
    │   ├── ActionNotImplemented    code "NotImplemented" (the builtin name is taken)
    │   ├── NotSupported
    │   ├── OccurrenceConstraintViolation
    │   ├── PropertyConstraintViolation
    │   ├── ProtocolError
    │   ├── RpcFrameworkError
    │   ├── SecurityError
    │   └── TypeConstraintViolation
    ├── CallFailed                  the peer answered our CALL with a CALLERROR
    ├── InvalidResponse             the peer's CALLRESULT broke the schema
    ├── CallTimeout                 no answer within the timeout (also a TimeoutError)
    ├── ConnectionLost              the connection closed while a CALL waited
    ├── FrameTooLarge               a frame to send exceeds the size limit; it was not sent
    └── InvalidState                this side misused the endpoint (a bug in the caller)

Business outcomes (Rejected, Unknown, ...) are statuses in payloads, never errors.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ERROR_CLASSES",
    "ActionNotImplemented",
    "CallFailed",
    "CallTimeout",
    "ConnectionLost",
    "FormatViolation",
    "FrameTooLarge",
    "GenericError",
    "InternalError",
    "InvalidResponse",
    "InvalidState",
    "MessageTypeNotSupported",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "OcppError",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
    "error_class",
]

# OCPP-J: errorDescription is a string of at most 255 characters.
MAX_DESCRIPTION = 255


class OcppError(Exception):
    """Base of every error raised by the OCPP-J layer."""


class RpcError(OcppError):
    """An error that has an OCPP-J error code and is sent to the peer as a CALLERROR.

    ``CODE`` is the 2.x name of the class's error code; ``code`` is the code as spelled on the wire
    of the version at hand, which differs for two codes in OCPP 1.6 (see rpc/dialect.py).

    Args:
        description: human-readable text; cut to 255 characters on the wire.
        details: a JSON object with machine-readable details.
        code: the wire spelling, when it is not ``CODE``.
    """

    CODE: ClassVar[str] = "GenericError"

    def __init__(
        self,
        description: str = "",
        details: dict[str, Any] | None = None,
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description[:MAX_DESCRIPTION]
        self.details: dict[str, Any] = details if details is not None else {}
        self.code = code or self.CODE

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"


class FormatViolation(RpcError):
    """The payload is syntactically incorrect (1.6 spells the code FormationViolation)."""

    CODE = "FormatViolation"


class GenericError(RpcError):
    """Any other error."""

    CODE = "GenericError"


class InternalError(RpcError):
    """The receiver failed while processing the payload."""

    CODE = "InternalError"


class MessageTypeNotSupported(RpcError):
    """The messageTypeId is not one this protocol version knows."""

    CODE = "MessageTypeNotSupported"


class ActionNotImplemented(RpcError):
    """The action is unknown to the receiver."""

    CODE = "NotImplemented"


class NotSupported(RpcError):
    """The action is known but the receiver does not support it."""

    CODE = "NotSupported"


class OccurrenceConstraintViolation(RpcError):
    """A required field is missing, or an array has too few or too many items."""

    CODE = "OccurrenceConstraintViolation"


class PropertyConstraintViolation(RpcError):
    """A value breaks a constraint: too long, out of range, not in the enumeration."""

    CODE = "PropertyConstraintViolation"


class ProtocolError(RpcError):
    """The payload is incomplete."""

    CODE = "ProtocolError"


class RpcFrameworkError(RpcError):
    """The frame is not a valid RPC frame: not a JSON array, wrong arity or element types."""

    CODE = "RpcFrameworkError"


class SecurityError(RpcError):
    """The message is not allowed in the current security state (e.g. before an Accepted boot)."""

    CODE = "SecurityError"


class TypeConstraintViolation(RpcError):
    """A value has the wrong JSON type."""

    CODE = "TypeConstraintViolation"


ERROR_CLASSES: tuple[type[RpcError], ...] = (
    FormatViolation,
    GenericError,
    InternalError,
    MessageTypeNotSupported,
    ActionNotImplemented,
    NotSupported,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    ProtocolError,
    RpcFrameworkError,
    SecurityError,
    TypeConstraintViolation,
)

_BY_CODE: dict[str, type[RpcError]] = {cls.CODE: cls for cls in ERROR_CLASSES}
# Spellings of OCPP-J 1.6 (kept by its errata) and of early 2.0.1 texts, read as their modern codes.
_BY_CODE["FormationViolation"] = FormatViolation
_BY_CODE["OccurenceConstraintViolation"] = OccurrenceConstraintViolation


def error_class(code: str) -> type[RpcError]:
    """The error class for a received error code; unknown codes read as GenericError."""
    return _BY_CODE.get(code, GenericError)


class CallFailed(OcppError):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(self, action: str, error: RpcError) -> None:
        super().__init__(f"{action}: {error.code}: {error.description}")
        self.action = action
        self.error = error

    @property
    def code(self) -> str:
        return self.error.code


class InvalidResponse(OcppError):
    """The peer's CALLRESULT does not match the action's response schema."""

    def __init__(self, action: str, error: RpcError) -> None:
        super().__init__(f"{action} response: {error.code}: {error.description}")
        self.action = action
        self.error = error


class CallTimeout(OcppError, TimeoutError):
    """The peer did not answer our CALL in time."""

    def __init__(self, action: str, message_id: str) -> None:
        super().__init__(f"{action} [{message_id}] timed out")
        self.action = action
        self.message_id = message_id


class ConnectionLost(OcppError):
    """The connection closed while a CALL waited for its answer."""


class InvalidState(OcppError):
    """The endpoint was used against the OCPP-J rules by this side (a programming error)."""


class FrameTooLarge(OcppError):
    """A frame to send is larger than the endpoint's frame size limit; it was not sent.

    Args:
        size: the frame's size in bytes of UTF-8.
        limit: the largest size allowed.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit
