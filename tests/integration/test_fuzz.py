"""Random and mutated frames thrown at one live connection of the CSMS.

Every frame gets what OCPP-J says: a CALL (well-formed or not) exactly one answer with its
message id, or "-1" when none can be read; a CALLRESULT or CALLERROR nobody waits for, nothing.
After each frame a Heartbeat must still be answered: the connection stays usable and the server
up, for all the examples of the run on the same socket.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.asyncio.client import ClientConnection

from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.config import Settings
from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import open_store
from kilowatt.messages import VERSIONS
from kilowatt.transport.server import Listener, StationServer

from ..messages import schema_oracle as oracle

PASSWORD = "fuzzing-password-1"
ERROR_CODES = {
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
}
STATION_REQUESTS = {
    case.action: case
    for case in oracle.all_cases()
    if case.version == "2.0.1"
    and case.kind == "request"
    and case.action in VERSIONS["2.0.1"].sent_by("station")
}


class Probe:
    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.count = 0

    async def answers(self, wanted: set[str]) -> dict[str, list[Any]]:
        """Read frames until each wanted id has had an answer; return every answer by id."""
        got: dict[str, list[Any]] = {}
        async with asyncio.timeout(10):
            while not wanted <= got.keys():
                frame = json.loads(await self.websocket.recv())
                got.setdefault(frame[1], []).append(frame)
        return got


@pytest.fixture
async def probe(tmp_path: Path) -> AsyncIterator[Probe]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    await store.put_station(StationRecord("FUZZ", password_hash=hash_password(PASSWORD)))
    csms = Csms(Settings(data_dir=str(tmp_path), max_frame_size=20_000), store, SystemClock())
    server = StationServer(
        [Listener("ws", "127.0.0.1")],
        SUBPROTOCOLS,
        csms.admit,
        csms.serve,
        max_message_size=40_000,
    )
    auth = base64.b64encode(f"FUZZ:{PASSWORD}".encode()).decode()
    async with (
        server,
        websockets.connect(
            f"ws://127.0.0.1:{server.port('ws')}/ocpp/FUZZ",
            subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Basic {auth}"},
            max_size=None,
        ) as websocket,
    ):
        boot = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
        await websocket.send(json.dumps([2, "boot", "BootNotification", boot]))
        assert json.loads(await websocket.recv())[2]["status"] == "Accepted"
        yield Probe(websocket)
    await store.close()


@st.composite
def mutated_calls(draw: st.DrawFn) -> str:
    """A CALL of a station request whose payload is valid or broken in one place."""
    case = STATION_REQUESTS[draw(st.sampled_from(sorted(STATION_REQUESTS)))]
    payload = draw(oracle.instances(case.schema, case))
    mutable = [s for s in oracle.sites(payload, case.schema, case) if oracle.mutations(s)]
    if draw(st.booleans()):
        site = draw(st.sampled_from(mutable))
        _, new = draw(st.sampled_from(oracle.mutations(site)))
        payload = oracle.replace(payload, site.path, new)
    message_id = draw(st.text(min_size=1, max_size=40))
    return json.dumps([2, message_id, case.action, payload])


json_values = oracle.json_values
frames = st.one_of(
    mutated_calls(),
    st.lists(json_values, max_size=6).map(json.dumps),  # arrays of anything
    st.tuples(st.integers(-1, 9), st.text(max_size=40), json_values, json_values)
    .map(list)
    .map(json.dumps),
    json_values.map(json.dumps),  # not an array
    st.text(max_size=60),  # not JSON
    st.just("[2," + '"x",' * 5000 + '"y"]'),  # over the frame size limit
    st.just('[2, "id-" , "Heartbeat", {}, {}]'),  # wrong arity
    st.just('[2, "1234567890123456789012345678901234567", "Heartbeat", {}]'),  # id > 36
)


def _expected_id(text: str) -> str | None:
    """The id an answer must carry, "-1" if unreadable, or None when no answer is due."""
    try:
        frame = json.loads(text)
    except ValueError:
        return "-1"
    if not isinstance(frame, list) or not frame:
        return "-1"
    if type(frame[0]) is int and frame[0] in (3, 4):
        return None  # a response to no CALL of ours: dropped
    has_id = len(frame) > 1 and isinstance(frame[1], str)
    return frame[1] if has_id else "-1"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=frames)
async def test_every_frame_is_answered_as_ocpp_j_says_and_the_connection_lives(
    probe: Probe, text: str
) -> None:
    probe.count += 1
    heartbeat = f"probe-{probe.count}"
    expected = _expected_id(text)
    await probe.websocket.send(text)
    await probe.websocket.send(json.dumps([2, heartbeat, "Heartbeat", {}]))
    wanted = {heartbeat} | ({expected} if expected is not None else set())
    got = await probe.answers(wanted)
    assert got[heartbeat][0][0] == 3, got  # still served
    if expected is None:
        assert set(got) == {heartbeat}, got
        return
    (answer,) = got[expected]
    assert answer[0] in (3, 4), answer
    if answer[0] == 4:
        assert answer[2] in ERROR_CODES, answer
        assert isinstance(answer[3], str) and len(answer[3]) <= 255
        assert isinstance(answer[4], dict)
