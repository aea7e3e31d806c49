"""Base classes of the generated message types.

A request class names its response class (``Request[BootNotificationResponse]``, and at run
time ``RESPONSE_TYPE``), so mypy checks
that ``await connection.call(BootNotificationRequest(...))`` gives a ``BootNotificationResponse``
and that a handler registered for a request returns its response.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import msgspec

__all__ = [
    "CustomData",
    "DateTime",
    "Message",
    "MultipleOf",
    "Request",
    "Response",
    "ResponseT",
    "check_multiple_of",
]


class Message(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A payload or a part of one. Payloads are trees: no reference cycles, so no GC tracking."""


class Response(Message, frozen=True, kw_only=True, gc=False):
    """The payload of a CALLRESULT."""

    # Class constants are UPPER_CASE so that no payload field (always snake_case) can shadow
    # them: Get15118EVCertificateRequest has a field named ``action``.
    ACTION: ClassVar[str]
    # Which JSON-schema draft the OCA schema of this payload declares: 1.6 mixes 4 and 6, and
    # they differ on whether 1.0 is an integer (docs/validation.md).
    JSON_SCHEMA_DRAFT: ClassVar[int] = 6


ResponseT = TypeVar("ResponseT", bound=Response, covariant=True)


class Request(Message, Generic[ResponseT], frozen=True, kw_only=True, gc=False):
    """The payload of a CALL (or, in OCPP 2.1, of a SEND when ``RESPONSE_TYPE`` is None)."""

    ACTION: ClassVar[str]
    RESPONSE_TYPE: ClassVar[type[Response] | None]
    JSON_SCHEMA_DRAFT: ClassVar[int] = 6


class CustomData:
    """The ``customData`` object: a ``vendorId`` plus any vendor-defined properties.

    It is the one object of the OCPP 2.x schemas that allows properties it does not declare, so it
    is not a Struct: the extra properties are kept as they came and sent back unchanged.
    """

    __slots__ = ("extra", "vendor_id")

    def __init__(self, vendor_id: str, extra: dict[str, Any] | None = None) -> None:
        self.vendor_id = vendor_id
        self.extra: dict[str, Any] = extra if extra is not None else {}

    def to_json(self) -> dict[str, Any]:
        return {"vendorId": self.vendor_id, **self.extra}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CustomData):
            return NotImplemented
        return self.vendor_id == other.vendor_id and self.extra == other.extra

    def __hash__(self) -> int:
        return hash(self.vendor_id)

    def __repr__(self) -> str:
        return f"CustomData(vendor_id={self.vendor_id!r}, extra={self.extra!r})"


# OCPP date-time values are RFC 3339 with a time zone offset (Part 2 §2.1.1, JSON schema
# format "date-time"); the codec screens the forms msgspec accepts beyond that (see codec.py).
DateTime = Annotated[datetime, msgspec.Meta(tz=True)]


class MultipleOf:
    """JSON-schema ``multipleOf``, checked in decimal on the number as written (16.1 is a multiple
    of 0.1), not in binary floating point: see docs/validation.md."""

    __slots__ = ("step",)

    def __init__(self, step: Decimal) -> None:
        self.step = step

    def holds(self, value: float) -> bool:
        return Decimal(repr(value)) % self.step == 0


def check_multiple_of(value: float | msgspec.UnsetType, step: Decimal, name: str) -> None:
    """Struct ``__post_init__`` helper: msgspec turns the ValueError into a ValidationError."""
    if isinstance(value, int | float) and not MultipleOf(step).holds(value):
        raise ValueError(f"Expected `{name}` to be a multiple of {step}")
