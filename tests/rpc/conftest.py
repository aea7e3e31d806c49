"""A payload codec for endpoint tests: payloads decode to dicts, checked against a few fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from kilowatt.rpc import (
    OCPP201,
    ActionNotImplemented,
    Dialect,
    Endpoint,
    FrameRecord,
    OccurrenceConstraintViolation,
    TypeConstraintViolation,
    counting_message_ids,
)

# action -> required field -> its JSON type
REQUESTS: dict[str, dict[str, type]] = {
    "Heartbeat": {},
    "Authorize": {"idTag": str},
    "NotifyPeriodicEventStream": {"id": int},
}
RESPONSES: dict[str, dict[str, type]] = {
    "Heartbeat": {"currentTime": str},
    "Authorize": {"idTagInfo": dict},
}


class FakeCodec:
    """Knows the actions above; raises the RpcError a real codec would for a bad payload."""

    def decode_call(self, action: str, payload: bytes) -> object:
        fields = REQUESTS.get(action)
        if fields is None:
            raise ActionNotImplemented(f"{action} is not implemented")
        return _decode(payload, fields)

    def decode_result(self, action: str, payload: bytes, request: object) -> object:
        return _decode(payload, RESPONSES[action])

    def encode(self, payload: object) -> bytes:
        return msgspec.json.encode(payload)


def _decode(payload: bytes, fields: dict[str, type]) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(payload, type=dict[str, Any])
    except msgspec.ValidationError:
        raise TypeConstraintViolation("payload is not an object") from None
    for name, kind in fields.items():
        if name not in data:
            raise OccurrenceConstraintViolation(f"{name} is required")
        if not isinstance(data[name], kind):
            raise TypeConstraintViolation(f"{name} is not of type {kind.__name__}")
    return data


@pytest.fixture
def traces() -> list[FrameRecord]:
    """The frames traced by the endpoints that ``make_endpoint`` makes."""
    return []


@pytest.fixture
def make_endpoint(traces: list[FrameRecord]) -> Callable[..., Endpoint]:
    """Make an endpoint with the fake codec, ids m1, m2, ... and a 30 s timeout."""

    def make(dialect: Dialect = OCPP201, **options: Any) -> Endpoint:
        options.setdefault("new_message_id", counting_message_ids("m"))
        options.setdefault("trace", traces.append)
        return Endpoint(FakeCodec(), dialect, **options)

    return make


@pytest.fixture
def endpoint(make_endpoint: Callable[..., Endpoint]) -> Endpoint:
    """An OCPP 2.0.1 endpoint."""
    return make_endpoint()
