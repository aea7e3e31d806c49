"""kilowatt's station against another implementation's CSMS: a small one on the PyPI ocpp package.

The CSMS below is the ocpp package's ``ChargePoint`` (which, despite its name, is the side that
talks to one station) behind a plain ``websockets`` server. It validates every message the
station sends, and every answer the station gives, against the OCPP 2.0.1 JSON schemas; a
message it cannot take is answered with a CALLERROR, which the ``csms`` fixture fails the test on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    RegistrationStatusEnumType,
)
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from kilowatt.messages import v201
from kilowatt.station.station import Station
from tests.station.live import running_station

TEST_LIMIT = 8.0  # seconds for each test's body, on top of the fixtures' boot
TOKEN = v201.IdTokenType(id_token="TAG-1", type=v201.IdTokenEnumType.ISO14443)
# The same token as the ocpp package takes and gives it: snake_case dicts.
TOKEN_DICT = {"id_token": "TAG-1", "type": "ISO14443"}
STRANGER = v201.IdTokenType(id_token="NOBODY", type=v201.IdTokenEnumType.ISO14443)


def now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Event:
    """One TransactionEvent as the CSMS received it."""

    event_type: str
    seq_no: int
    trigger_reason: str
    transaction_id: str
    stopped_reason: str | None
    remote_start_id: int | None
    id_token: dict[str, Any] | None
    evse: dict[str, Any] | None
    meter_value: list[dict[str, Any]]

    def measurands(self) -> dict[str, tuple[str | None, float]]:
        """measurand -> (context, value), over the event's sampled values."""
        return {
            sampled.get("measurand", "Energy.Active.Import.Register"): (
                sampled.get("context"),
                sampled["value"],
            )
            for meter in self.meter_value
            for sampled in meter["sampled_value"]
        }


@dataclass
class OcppCsms:
    """What the CSMS was told, across every connection, in order of arrival."""

    port: int = 0
    paths: list[str] = field(default_factory=list)
    points: list[Peer] = field(default_factory=list)  # one per connection, the latest last
    actions: list[str] = field(default_factory=list)
    boots: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[tuple[int, int, str]] = field(default_factory=list)
    authorizes: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    meter_values: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # CALLERRORs the ocpp package sent back

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def point(self) -> Peer:
        return self.points[-1]

    def events_of(self, transaction_id: str) -> list[Event]:
        return [e for e in self.events if e.transaction_id == transaction_id]

    async def handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        self.paths.append(websocket.request.path)
        peer = Peer(websocket.request.path.rsplit("/", 1)[-1], websocket, self)
        self.points.append(peer)
        with contextlib.suppress(websockets.ConnectionClosed):
            await peer.start()  # until the station goes


class Peer(ChargePoint):  # type: ignore[misc]
    """The ocpp package's view of one station connection."""

    def __init__(self, identity: str, websocket: ServerConnection, csms: OcppCsms) -> None:
        super().__init__(identity, websocket, response_timeout=5)
        self.csms = csms

    async def _send(self, message: str) -> None:
        if json.loads(message)[0] == 4:
            self.csms.errors.append(message)
        await super()._send(message)

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> call_result.BootNotification:
        self.csms.actions.append("BootNotification")
        self.csms.boots.append({"charging_station": charging_station, "reason": reason})
        return call_result.BootNotification(
            current_time=now(), interval=300, status=RegistrationStatusEnumType.accepted
        )

    @on(Action.status_notification)
    def on_status_notification(
        self, evse_id: int, connector_id: int, connector_status: str, **_: Any
    ) -> call_result.StatusNotification:
        self.csms.actions.append("StatusNotification")
        self.csms.statuses.append((evse_id, connector_id, connector_status))
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        self.csms.actions.append("Heartbeat")
        return call_result.Heartbeat(current_time=now())

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        self.csms.actions.append("Authorize")
        self.csms.authorizes.append(id_token["id_token"])
        return call_result.Authorize(id_token_info=self._verdict(id_token))

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **payload: Any,
    ) -> call_result.TransactionEvent:
        self.csms.actions.append("TransactionEvent")
        id_token = payload.get("id_token")
        self.csms.events.append(
            Event(
                event_type=event_type,
                seq_no=seq_no,
                trigger_reason=trigger_reason,
                transaction_id=transaction_info["transaction_id"],
                stopped_reason=transaction_info.get("stopped_reason"),
                remote_start_id=transaction_info.get("remote_start_id"),
                id_token=id_token,
                evse=payload.get("evse"),
                meter_value=payload.get("meter_value", []),
            )
        )
        # E01/E03: the CSMS answers an event that carries an idToken with its verdict on it.
        return call_result.TransactionEvent(
            id_token_info=self._verdict(id_token) if id_token is not None else None
        )

    @on(Action.meter_values)
    def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        self.csms.actions.append("MeterValues")
        self.csms.meter_values.append({"evse_id": evse_id, "meter_value": meter_value})
        return call_result.MeterValues()

    @staticmethod
    def _verdict(id_token: dict[str, Any]) -> dict[str, str]:
        accepted = id_token["id_token"] == TOKEN_DICT["id_token"]
        status = (
            AuthorizationStatusEnumType.accepted
            if accepted
            else AuthorizationStatusEnumType.invalid
        )
        return {"status": status}


@pytest.fixture
async def csms() -> AsyncIterator[OcppCsms]:
    record = OcppCsms()
    async with serve(
        record.handle, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")]
    ) as server:
        record.port = next(iter(server.sockets)).getsockname()[1]
        yield record
    # The ocpp package answers what it cannot take (a schema violation, an action it has no
    # handler for, a handler that raised) with a CALLERROR: none may have been sent.
    assert record.errors == []


@pytest.fixture
async def station(csms: OcppCsms, tmp_path: Path) -> AsyncIterator[Station]:
    async with running_station(
        csms.url, tmp_path / "station", password=None, boot_timeout=5
    ) as station:
        yield station


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def connectors(station: Station) -> set[tuple[int, int]]:
    return {(evse.id, c) for evse in station.evses.values() for c in evse.connectors}


async def test_boot_then_a_status_for_every_connector(csms: OcppCsms, station: Station) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        await until(lambda: {s[:2] for s in csms.statuses} >= connectors(station))
    assert csms.paths == ["/ocpp/CS-1"]  # OCPP-J 3.1.1: the endpoint URL, "/", the identity
    (boot,) = csms.boots
    assert boot["reason"] == "PowerUp"
    assert boot["charging_station"]["model"] == "sim"
    assert boot["charging_station"]["vendor_name"] == "kilowatt"
    assert csms.actions[0] == "BootNotification"
    assert sorted(csms.statuses) == [(e, c, "Available") for e, c in sorted(connectors(station))]
    # B01: the interval of the Accepted boot becomes the heartbeat interval.
    assert station.int_var("OCPPCommCtrlr", "HeartbeatInterval") == 300


async def test_a_local_transaction_from_authorize_to_unplug(
    csms: OcppCsms, station: Station
) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        station.plug_in(1)
        assert await station.present_token(1, TOKEN)
        tx = station.evses[1].transaction
        assert tx is not None

        def periodic() -> bool:
            return any(e.trigger_reason == "MeterValuePeriodic" for e in csms.events_of(tx.id))

        await until(periodic)  # TxUpdatedInterval is 1 s
        station.unplug(1)
        await until(lambda: any(e.event_type == "Ended" for e in csms.events_of(tx.id)))
        await until(lambda: csms.statuses[-1] == (1, 1, "Available"))

    assert csms.authorizes == ["TAG-1"]
    assert {e.transaction_id for e in csms.events} == {tx.id}
    events = csms.events
    assert [e.seq_no for e in events] == list(range(len(events)))
    started, *updated, ended = events
    assert (started.event_type, started.trigger_reason) == ("Started", "Authorized")
    assert started.id_token == TOKEN_DICT
    assert started.evse == {"id": 1, "connector_id": 1}
    assert started.measurands()["Energy.Active.Import.Register"][0] == "Transaction.Begin"
    assert [e.id_token for e in (*updated, ended)] == [None] * (len(events) - 1)  # once only
    assert updated and {e.event_type for e in updated} == {"Updated"}
    sample = next(e for e in updated if e.trigger_reason == "MeterValuePeriodic")
    assert sample.measurands()["Power.Active.Import"][0] == "Sample.Periodic"
    assert (ended.event_type, ended.trigger_reason, ended.stopped_reason) == (
        "Ended",
        "EVCommunicationLost",
        "EVDisconnected",
    )
    context, end_wh = ended.measurands()["Energy.Active.Import.Register"]
    assert context == "Transaction.End"
    assert end_wh > started.measurands()["Energy.Active.Import.Register"][1]
    # The connector went Occupied with the EV and Available again after it left.
    assert [s for s in csms.statuses if s[:2] == (1, 1)][-2:] == [
        (1, 1, "Occupied"),
        (1, 1, "Available"),
    ]


async def test_a_refused_token_starts_nothing(csms: OcppCsms, station: Station) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        station.plug_in(1)
        assert not await station.present_token(1, STRANGER)
        assert station.evses[1].transaction is None
        # The accepted token next: its events come after anything the refused one queued.
        assert await station.present_token(1, TOKEN)
        tx = station.evses[1].transaction
        assert tx is not None
        await until(lambda: bool(csms.events))
    assert csms.authorizes == ["NOBODY", "TAG-1"]
    first = csms.events[0]
    assert (first.transaction_id, first.event_type, first.seq_no) == (tx.id, "Started", 0)
    assert first.id_token == TOKEN_DICT


async def test_remote_start_and_stop(csms: OcppCsms, station: Station) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        station.plug_in(1)
        started = await csms.point.call(
            call.RequestStartTransaction(id_token=TOKEN_DICT, remote_start_id=7, evse_id=1)
        )
        assert started.status == "Accepted"
        await until(lambda: bool(csms.events))
        first = csms.events[0]
        stopped = await csms.point.call(
            call.RequestStopTransaction(transaction_id=first.transaction_id)
        )
        assert stopped.status == "Accepted"
        await until(lambda: csms.events[-1].event_type == "Ended")
        again = await csms.point.call(
            call.RequestStopTransaction(transaction_id=first.transaction_id)
        )
        assert again.status == "Rejected"  # F03: no transaction runs with that id any more

    # F01.FR.02 (AuthorizeRemoteStart is true): the token is authorized first.
    assert csms.authorizes == ["TAG-1"]
    assert (first.event_type, first.trigger_reason, first.remote_start_id) == (
        "Started",
        "RemoteStart",
        7,
    )
    assert first.id_token == TOKEN_DICT
    events = csms.events_of(first.transaction_id)
    assert events == csms.events
    assert [e.seq_no for e in events] == list(range(len(events)))
    ended = events[-1]
    assert (ended.trigger_reason, ended.stopped_reason) == ("RemoteStop", "Remote")
    assert station.evses[1].transaction is None


async def test_set_and_get_variables(csms: OcppCsms, station: Station) -> None:
    heartbeat = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }
    nowhere = {"component": {"name": "NoSuchCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    async with asyncio.timeout(TEST_LIMIT):
        before = await csms.point.call(call.GetVariables(get_variable_data=[heartbeat]))
        set_ = await csms.point.call(
            call.SetVariables(
                set_variable_data=[
                    {**heartbeat, "attribute_value": "77"},
                    {**nowhere, "attribute_value": "77"},
                ]
            )
        )
        got = await csms.point.call(call.GetVariables(get_variable_data=[heartbeat, nowhere]))

    assert before.get_variable_result[0]["attribute_value"] == "300"  # from the boot
    assert [r["attribute_status"] for r in set_.set_variable_result] == [
        "Accepted",
        "UnknownComponent",
    ]
    known, unknown = got.get_variable_result
    assert (known["attribute_status"], known["attribute_value"]) == ("Accepted", "77")
    assert known["component"] == {"name": "OCPPCommCtrlr"}
    assert unknown["attribute_status"] == "UnknownComponent"
    assert station.int_var("OCPPCommCtrlr", "HeartbeatInterval") == 77


async def test_reset_immediate_boots_again(csms: OcppCsms, station: Station) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        first = csms.point
        answer = await first.call(call.Reset(type="Immediate"))
        assert answer.status == "Accepted"
        await until(lambda: len(csms.boots) == 2)
        await until(lambda: len(csms.statuses) == 2 * len(connectors(station)))
        await asyncio.wait_for(station.accepted.wait(), 5)

    assert [b["reason"] for b in csms.boots] == ["PowerUp", "RemoteReset"]
    assert len(csms.points) == 2 and csms.point is not first  # a new connection
    # B11/B01: on the new connection the boot first, then every connector's status.
    second = csms.actions.index("BootNotification", 1)
    assert csms.actions[second:] == ["BootNotification"] + ["StatusNotification"] * len(
        connectors(station)
    )


async def test_reset_immediate_ends_the_running_transaction_first(
    csms: OcppCsms, station: Station
) -> None:
    async with asyncio.timeout(TEST_LIMIT):
        station.plug_in(1)
        assert await station.present_token(1, TOKEN)
        await until(lambda: bool(csms.events))
        answer = await csms.point.call(call.Reset(type="Immediate"))
        assert answer.status == "Accepted"
        await until(lambda: len(csms.boots) == 2)

    ended = csms.events[-1]
    assert (ended.event_type, ended.trigger_reason, ended.stopped_reason) == (
        "Ended",
        "ResetCommand",
        "ImmediateReset",
    )
    # B11: the Ended event is handed over before the station restarts.
    assert max(i for i, a in enumerate(csms.actions) if a == "TransactionEvent") < (
        csms.actions.index("BootNotification", 1)
    )
    assert [e.seq_no for e in csms.events] == list(range(len(csms.events)))
