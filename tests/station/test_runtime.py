"""The station's flows on a ManualClock against a scripted CSMS over an in-memory channel:
boot answers, transaction start points, retries of unanswered events, statuses after an
outage, and availability scheduled behind a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.clock import ManualClock
from kilowatt.devicemodel import AttributeKey, ComponentKey, VariableKey
from kilowatt.messages import VERSIONS, PayloadCodec, v201
from kilowatt.rpc import Endpoint
from kilowatt.rpc.errors import InternalError
from kilowatt.station.config import StationConfig
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station
from kilowatt.transport import Connection
from kilowatt.transport.memory import channel_pair
from tests.station.rig import shape

T0 = datetime(2025, 3, 1, 8, tzinfo=UTC)
TOKEN = v201.IdTokenType(id_token="T1", type=v201.IdTokenEnumType.ISO14443)
Registration = v201.RegistrationStatusEnumType


@dataclass
class ScriptedCsms:
    """The CSMS end of a memory channel: answers by request type, records what it got."""

    clock: ManualClock
    boot_answers: list[Registration] = field(default_factory=lambda: [Registration.ACCEPTED])
    interval: int = 60
    failing: set[str] = field(default_factory=set)  # actions answered with a CALLERROR
    received: list[Any] = field(default_factory=list)
    connection: Connection | None = None

    async def answer(self, request: object) -> object:
        self.received.append(request)
        if type(request).__name__.removesuffix("Request") in self.failing:
            raise InternalError("scripted failure")
        if isinstance(request, v201.BootNotificationRequest):
            status = (
                self.boot_answers.pop(0) if len(self.boot_answers) > 1 else self.boot_answers[0]
            )
            return v201.BootNotificationResponse(
                current_time=self.clock.now(), interval=self.interval, status=status
            )
        if isinstance(request, v201.AuthorizeRequest):
            return v201.AuthorizeResponse(
                id_token_info=v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.ACCEPTED)
            )
        if isinstance(request, v201.HeartbeatRequest):
            return v201.HeartbeatResponse(current_time=self.clock.now())
        response_type = type(request).RESPONSE_TYPE  # type: ignore[attr-defined]
        return response_type()

    def of(self, kind: type[Any]) -> list[Any]:
        return [r for r in self.received if isinstance(r, kind)]


@dataclass
class Setup:
    station: Station
    csms: ScriptedCsms
    clock: ManualClock
    sessions: list[asyncio.Task[None]] = field(default_factory=list)

    def connect(self) -> None:
        station_end, csms_end = channel_pair()
        version = VERSIONS["2.0.1"]
        endpoint = Endpoint(PayloadCodec(version, "csms"), version.dialect)
        self.csms.connection = Connection(csms_end, endpoint, self.clock, self.csms.answer)
        self.sessions.append(asyncio.create_task(self.csms.connection.run()))
        self.sessions.append(asyncio.create_task(self.station.serve(station_end)))

    async def disconnect(self) -> None:
        assert self.csms.connection is not None
        await self.csms.connection.close()
        await settle()

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)
        await settle()

    def set(self, component: str, variable: str, value: str, instance: str | None = None) -> None:
        key = AttributeKey(
            ComponentKey(component), VariableKey(variable, instance), v201.AttributeEnumType.ACTUAL
        )
        self.station.set_model(self.station.model.with_values({key: value}))


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    clock = ManualClock(T0)
    station = Station(
        StationConfig(shape=shape(), csms_url="ws://unused"),
        ocpp201_router().handler_for,
        clock=clock,
    )
    rig = Setup(station, ScriptedCsms(clock), clock)
    yield rig
    for task in rig.sessions:
        task.cancel()
    await asyncio.gather(*rig.sessions, return_exceptions=True)


def actions(csms: ScriptedCsms) -> list[str]:
    return [type(r).__name__.removesuffix("Request") for r in csms.received]


async def test_pending_then_accepted_boot(setup: Setup) -> None:
    setup.csms.boot_answers = [Registration.PENDING, Registration.ACCEPTED]
    setup.csms.interval = 30
    setup.connect()
    await settle()
    assert actions(setup.csms) == ["BootNotification"]
    assert not setup.station.accepted.is_set()
    await setup.advance(29)
    assert actions(setup.csms) == ["BootNotification"]  # B02: waits the interval given
    await setup.advance(1)
    assert actions(setup.csms)[:3] == ["BootNotification", "BootNotification", "StatusNotification"]
    assert setup.station.accepted.is_set()
    assert setup.station.int_var("OCPPCommCtrlr", "HeartbeatInterval") == 30


async def test_rejected_boot_sends_nothing_else_until_accepted(setup: Setup) -> None:
    setup.csms.boot_answers = [Registration.REJECTED, Registration.REJECTED, Registration.ACCEPTED]
    setup.csms.interval = 10
    setup.connect()
    await settle()
    setup.station.plug_in(1)  # a status change while rejected is not sent (B03.FR.?)
    await setup.advance(10)
    assert actions(setup.csms) == ["BootNotification", "BootNotification"]
    await setup.advance(10)
    assert actions(setup.csms)[2] == "BootNotification"
    statuses = setup.csms.of(v201.StatusNotificationRequest)
    assert [s.connector_status for s in statuses] == [v201.ConnectorStatusEnumType.OCCUPIED]


async def test_a_transaction_that_starts_at_plug_in(setup: Setup) -> None:
    setup.set("TxCtrlr", "TxStartPoint", "EVConnected")
    setup.connect()
    await settle()
    setup.station.plug_in(1)
    await settle()
    (started,) = setup.csms.of(v201.TransactionEventRequest)
    assert (started.event_type, started.trigger_reason) == ("Started", "CablePluggedIn")
    assert started.id_token is UNSET
    assert await setup.station.present_token(1, TOKEN)
    await settle()
    events = setup.csms.of(v201.TransactionEventRequest)
    authorized = events[1]
    assert (authorized.event_type, authorized.trigger_reason) == ("Updated", "Authorized")
    assert authorized.id_token == TOKEN
    assert [e.seq_no for e in events] == list(range(len(events)))


async def test_an_unanswered_event_is_retried_then_dropped(setup: Setup) -> None:
    setup.set("OCPPCommCtrlr", "MessageAttempts", "3", "TransactionEvent")
    setup.set("OCPPCommCtrlr", "MessageAttemptInterval", "10", "TransactionEvent")
    setup.csms.failing = {"TransactionEvent"}
    setup.connect()
    await settle()
    setup.station.plug_in(1)
    assert await setup.station.present_token(1, TOKEN)
    await settle()

    def tries() -> int:
        return len(setup.csms.of(v201.TransactionEventRequest))

    assert tries() == 1
    await setup.advance(9)
    assert tries() == 1
    await setup.advance(1)  # first retry after 10 s
    assert tries() == 2
    await setup.advance(19)
    assert tries() == 2
    await setup.advance(1)  # the third and last try 20 s later (interval x tries so far)
    # After MessageAttempts tries the event is dropped, and the next one goes out at once.
    seq_nos = [e.seq_no for e in setup.csms.of(v201.TransactionEventRequest)]
    assert seq_nos == [0, 0, 0, 1]


async def test_statuses_after_an_outage_follow_the_offline_threshold(setup: Setup) -> None:
    setup.set("OCPPCommCtrlr", "OfflineThreshold", "60")
    setup.connect()
    await settle()
    booted = len(setup.csms.of(v201.StatusNotificationRequest))
    await setup.disconnect()
    await setup.advance(30)
    setup.connect()  # a short outage, nothing changed: no StatusNotification
    await settle()
    assert len(setup.csms.of(v201.StatusNotificationRequest)) == booted
    await setup.disconnect()
    await setup.advance(61)
    setup.connect()  # longer than OfflineThreshold: every connector again
    await settle()
    assert len(setup.csms.of(v201.StatusNotificationRequest)) == booted + 1
    assert actions(setup.csms).count("BootNotification") == 1  # a reconnect is not a reboot


async def test_inoperative_waits_for_the_transaction(setup: Setup) -> None:
    setup.connect()
    await settle()
    setup.station.plug_in(1)
    assert await setup.station.present_token(1, TOKEN)
    assert setup.csms.connection is not None
    answer = await setup.csms.connection.call(
        v201.ChangeAvailabilityRequest(
            operational_status=v201.OperationalStatusEnumType.INOPERATIVE,
            evse=v201.EVSEType(id=1),
        )
    )
    assert answer.status == v201.ChangeAvailabilityStatusEnumType.SCHEDULED
    assert setup.station.evses[1].operative
    setup.station.unplug(1)
    await settle()
    assert not setup.station.evses[1].operative
    last = setup.csms.of(v201.StatusNotificationRequest)[-1]
    assert last.connector_status == v201.ConnectorStatusEnumType.UNAVAILABLE


async def test_clock_aligned_meter_values(setup: Setup) -> None:
    # T0 is 08:00:00; with a 900 s interval the readings fall on 08:15, 08:30, ... (J01).
    setup.set("AlignedDataCtrlr", "Interval", "900")
    setup.set("AlignedDataCtrlr", "SendDuringIdle", "true")
    await setup.advance(100)  # 08:01:40: the first boundary is 13 min 20 s away
    setup.connect()
    await settle()
    await setup.advance(799)
    assert setup.csms.of(v201.MeterValuesRequest) == []
    await setup.advance(1)
    (reading,) = setup.csms.of(v201.MeterValuesRequest)
    (value,) = reading.meter_value
    assert value.timestamp == T0.replace(minute=15)
    assert value.sampled_value[0].context == v201.ReadingContextEnumType.SAMPLE_CLOCK
    await setup.advance(900)
    assert len(setup.csms.of(v201.MeterValuesRequest)) == 2


async def test_fallback_texts_when_the_csms_gives_no_price(setup: Setup) -> None:
    # I04/I05: the scripted CSMS answers with neither a tariff text nor a total cost.
    setup.set("TariffCostCtrlr", "TariffFallbackMessage", "See the price on the charger")
    setup.set("TariffCostCtrlr", "TotalCostFallbackMessage", "Your receipt follows by e-mail")
    setup.connect()
    await settle()
    setup.station.plug_in(1)
    assert await setup.station.present_token(1, TOKEN)
    assert "display: See the price on the charger" in setup.station.log
    assert "display: Your receipt follows by e-mail" not in setup.station.log
    setup.station.unplug(1)
    await settle()
    assert setup.station.log[-1] == "display: Your receipt follows by e-mail"
