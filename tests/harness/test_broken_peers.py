"""Each case can fail: deliberately broken implementations, as small test doubles (a CSMS on a
raw WebSocket with hand-written JSON frames, a station on kilowatt.transport), fail the case
that checks what they break, with a message that says why; the same case passes against the
double without the flaw."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from msgspec import UNSET, UnsetType
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from kilowatt.clock import SystemClock
from kilowatt.harness.case import CASES
from kilowatt.harness.context import StationLink, Target
from kilowatt.harness.drivers import CallableDriver
from kilowatt.harness.runner import Result, run_cases, select
from kilowatt.messages import VERSIONS, PayloadCodec, v201
from kilowatt.rpc import Endpoint, NotSupported, uuid4_message_id
from kilowatt.transport import Connection
from kilowatt.transport.client import connect

STATION = "DOUBLE-1"
PASSWORD = "double-password-1"


def now() -> str:
    return datetime.now(UTC).isoformat()


# -- a CSMS under test ---------------------------------------------------------------------------


@dataclass
class CsmsDouble:
    """A small CSMS for one station. Correct unless a flaw is switched on:

    - ``always_accepts``: answers every BootNotification Accepted, whatever its operator set;
    - ``never_refuses``: serves a station whose boot was not Accepted (no SecurityError);
    - ``refuses_with``: refuses such a station with this error code instead of SecurityError;
    - ``reuses_message_id``: after an Accepted boot, sends two CALLs with one messageId;
    - ``broken_heartbeat``: answers Heartbeat with a currentTime that is not a date-time;
    - ``wrong_password``: the password it checks is not the station's;
    - ``forgets_password``: refuses the right password once the station has booted.
    """

    always_accepts: bool = False
    never_refuses: bool = False
    refuses_with: str = "SecurityError"
    reuses_message_id: bool = False
    broken_heartbeat: bool = False
    wrong_password: bool = False
    forgets_password: bool = False
    registration: tuple[str, int] = ("Accepted", 300)  # what the operator set: status, interval
    accepted: bool = False  # the station's last boot was Accepted (kept across connections)
    connection: ServerConnection | None = None
    calls_sent: int = 0

    async def set_registration(self, station_id: str, status: str, interval: int) -> None:
        """The operator's step (the driver calls it)."""
        assert station_id == STATION
        self.registration = (status, interval)

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path != f"/ocpp/{STATION}":
            return connection.respond(404, "unknown station\n")
        wrong = self.wrong_password or (self.forgets_password and self.accepted)
        expected = "not-the-password" if wrong else PASSWORD
        basic = base64.b64encode(f"{STATION}:{expected}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {basic}":
            response = connection.respond(401, "wrong or missing credentials\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
            return response
        return None

    async def handle(self, websocket: ServerConnection) -> None:
        if self.connection is not None:
            await self.connection.close()  # a new connection replaces the old one
        self.connection = websocket
        async for text in websocket:
            message = json.loads(text)
            if message[0] != 2:
                continue  # an answer to a CALL of ours: read in call()
            _, message_id, action, _payload = message
            await websocket.send(json.dumps(await self.answer(websocket, message_id, action)))

    async def answer(self, websocket: ServerConnection, message_id: str, action: str) -> list[Any]:
        if action == "BootNotification":
            status, interval = ("Accepted", 300) if self.always_accepts else self.registration
            self.accepted = status == "Accepted"
            return [3, message_id, {"currentTime": now(), "interval": interval, "status": status}]
        if not self.accepted and not self.never_refuses:
            return [4, message_id, self.refuses_with, "the station is not accepted", {}]
        if self.reuses_message_id and self.calls_sent == 0:
            for _ in range(2):  # each answered before the next: only the id is wrong
                await self.call(websocket, "dup-1", "ClearCache", {})
        if action == "Heartbeat":
            return [3, message_id, {"currentTime": "yesterday" if self.broken_heartbeat else now()}]
        if action in ("StatusNotification", "TransactionEvent", "NotifyEvent"):
            return [3, message_id, {}]
        if action == "Authorize":
            return [3, message_id, {"idTokenInfo": {"status": "Accepted"}}]
        return [4, message_id, "NotImplemented", f"no {action} here", {}]

    async def call(
        self, websocket: ServerConnection, message_id: str, action: str, payload: Any
    ) -> Any:
        self.calls_sent += 1
        await websocket.send(json.dumps([2, message_id, action, payload]))
        while True:
            message = json.loads(await websocket.recv())
            if message[1] == message_id and message[0] in (3, 4):
                return message[2]

    def driver(self) -> CallableDriver:
        return CallableDriver({"set_registration": self.set_registration})


@pytest.fixture
async def csms_double() -> AsyncIterator[tuple[CsmsDouble, Target]]:
    double = CsmsDouble()
    server: Server = await serve(
        double.handle,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("ocpp2.0.1")],
        process_request=double.process_request,
    )
    port = server.sockets[0].getsockname()[1]
    target = Target(
        role="csms",
        url=f"ws://127.0.0.1:{port}/ocpp",
        station_id=STATION,
        password=PASSWORD,
        timeout=3.0,
    )
    async with server:
        yield double, target
        server.close()


async def run_one(case_id: str, target: Target, driver: CallableDriver) -> Result:
    (result,) = await run_cases([CASES[case_id]], target, driver, case_timeout=20.0)
    return result


def explain(result: Result) -> str:
    return f"{result.outcome}: {result.message}\n" + "\n".join(
        f"{f.at:.3f} {f.direction} {f.text}" for f in result.frames
    )


@pytest.mark.parametrize("case", select("csms", ["TC_B_0[1-6]_CSMS"]), ids=lambda c: c.id)
async def test_the_correct_csms_double_passes(
    csms_double: tuple[CsmsDouble, Target], case: Any
) -> None:
    double, target = csms_double
    result = await run_one(case.id, target, double.driver())
    assert result.outcome == "passed", explain(result)


@dataclass(frozen=True)
class Flaw:
    name: str
    case_id: str
    switches: dict[str, Any]
    says: tuple[str, ...]  # what the failure message must say
    rule: str | None = None  # the rule broken on the wire, if one is recorded


CSMS_FLAWS = [
    Flaw(
        "boot-always-accepted-while-pending",
        "TC_B_02_CSMS",
        {"always_accepts": True},
        ("boot: expected Pending, got", "Accepted"),
    ),
    Flaw(
        "boot-always-accepted-while-rejected",
        "TC_B_03_CSMS",
        {"always_accepts": True},
        ("boot: expected Rejected, got", "Accepted"),
    ),
    Flaw(
        "serves-a-pending-station",
        "TC_B_02_CSMS",
        {"never_refuses": True},
        ("while Pending", "a Heartbeat was answered instead of refused with SecurityError"),
    ),
    Flaw(
        "serves-a-rejected-station",
        "TC_B_03_CSMS",
        {"never_refuses": True},
        ("while Rejected", "a Heartbeat was answered instead of refused with SecurityError"),
    ),
    Flaw(
        "refuses-a-pending-station-with-the-wrong-error",
        "TC_B_02_CSMS",
        {"refuses_with": "GenericError"},
        ("while Pending", "must get CALLERROR SecurityError, not GenericError"),
    ),
    Flaw(
        "reuses-a-message-id",
        "TC_B_01_CSMS",
        {"reuses_message_id": True},
        ("rule broken on the wire", "messageId is used for one CALL only", "dup-1"),
        rule="OCPP-J: a messageId is used for one CALL only",
    ),
    Flaw(
        "answers-heartbeat-with-a-broken-payload",
        "TC_B_01_CSMS",
        {"broken_heartbeat": True},
        ("InvalidResponse", "Heartbeat"),
        rule="response schema",
    ),
    Flaw(
        "refuses-the-right-password",
        "TC_B_01_CSMS",
        {"wrong_password": True},
        ("ConnectRefused: HTTP 401",),
    ),
    Flaw(
        "refuses-the-right-password-on-reconnect",
        "TC_B_04_CSMS",
        {"forgets_password": True},
        ("ConnectRefused: HTTP 401",),
    ),
]


@pytest.mark.parametrize("flaw", CSMS_FLAWS, ids=lambda f: f.name)
async def test_a_broken_csms_fails_the_matching_case(
    csms_double: tuple[CsmsDouble, Target], flaw: Flaw
) -> None:
    double, target = csms_double
    for name, value in flaw.switches.items():
        setattr(double, name, value)
    result = await run_one(flaw.case_id, target, double.driver())
    assert result.outcome == "failed", explain(result)
    for words in flaw.says:
        assert words in result.message, explain(result)
    if flaw.rule is not None:
        assert any(v.rule.startswith(flaw.rule) for v in result.violations), result.violations

    # The same case, the flaw mended: it passes.
    for name in flaw.switches:
        setattr(double, name, getattr(CsmsDouble, name))
    double.calls_sent, double.accepted = 0, False
    again = await run_one(flaw.case_id, target, double.driver())
    assert again.outcome == "passed", explain(again)


# -- a charging station under test --------------------------------------------------------------


class StationDouble:
    """A small charging station with one EVSE, on kilowatt.transport (not kilowatt's station):
    it boots, reports its connector, keeps SampledDataCtrlr.TxUpdatedInterval, starts a
    transaction when a card is presented, sends meter values at that interval, and ends the
    transaction on unplugging or the same card again. Correct unless a flaw is switched on:

    - ``skips_seq_no``: numbers the events of a transaction 0, 2, 3... (one is skipped);
    - ``reuses_message_ids``: sends every CALL with the same messageId.
    """

    def __init__(self, *, skips_seq_no: bool = False, reuses_message_ids: bool = False) -> None:
        self.skips_seq_no = skips_seq_no
        self.reuses_message_ids = reuses_message_ids
        self.interval = 60
        self.connection: Connection | None = None
        self.running: asyncio.Task[None] | None = None
        self.transaction: tuple[str, str] | None = None  # its id and its card
        self.seq_no = 0
        self.meter: asyncio.Task[None] | None = None
        self.stopping: asyncio.Task[None] | None = None
        self.energy = 0.0

    async def start(self, url: str) -> None:
        socket = await connect(url, STATION, password=PASSWORD, ping_interval=None)
        endpoint = Endpoint(
            PayloadCodec(VERSIONS["2.0.1"], "station"),
            VERSIONS["2.0.1"].dialect,
            call_timeout=5.0,
            new_message_id=(lambda: "42") if self.reuses_message_ids else uuid4_message_id,
        )
        self.connection = Connection(socket, endpoint, SystemClock(), self.on_call)
        self.running = asyncio.create_task(self.connection.run())
        await self.call(
            v201.BootNotificationRequest(
                charging_station=v201.ChargingStationType(model="Double", vendor_name="tests"),
                reason=v201.BootReasonEnumType.POWER_UP,
            )
        )
        await self.status(v201.ConnectorStatusEnumType.AVAILABLE)

    async def stop(self) -> None:
        if self.meter is not None:
            self.meter.cancel()
        if self.connection is not None:
            await self.connection.close()
        if self.running is not None:
            await asyncio.gather(self.running, return_exceptions=True)

    async def call(self, request: Any) -> Any:
        assert self.connection is not None
        return await self.connection.call(request)

    async def status(self, status: v201.ConnectorStatusEnumType) -> None:
        await self.call(
            v201.StatusNotificationRequest(
                timestamp=datetime.now(UTC), connector_status=status, evse_id=1, connector_id=1
            )
        )

    # -- what the CSMS asks ----------------------------------------------------------------

    async def on_call(self, request: object) -> object:
        match request:
            case v201.GetVariablesRequest():
                return v201.GetVariablesResponse(
                    get_variable_result=[self.get(data) for data in request.get_variable_data]
                )
            case v201.SetVariablesRequest():
                return v201.SetVariablesResponse(
                    set_variable_result=[self.set(data) for data in request.set_variable_data]
                )
            case v201.RequestStopTransactionRequest() if self.transaction is not None:
                # Answered first, then ended.
                self.stopping = asyncio.create_task(
                    self.end(v201.TriggerReasonEnumType.REMOTE_STOP, "Remote")
                )
                return v201.RequestStopTransactionResponse(
                    status=v201.RequestStartStopStatusEnumType.ACCEPTED
                )
        raise NotSupported(f"the double does not take {type(request).__name__}")

    def ours(self, component: v201.ComponentType, variable: v201.VariableType) -> bool:
        return (component.name, variable.name) == ("SampledDataCtrlr", "TxUpdatedInterval")

    def get(self, data: v201.GetVariableDataType) -> v201.GetVariableResultType:
        known = self.ours(data.component, data.variable)
        return v201.GetVariableResultType(
            attribute_status=v201.GetVariableStatusEnumType.ACCEPTED
            if known
            else v201.GetVariableStatusEnumType.UNKNOWN_COMPONENT,
            attribute_value=str(self.interval) if known else UNSET,
            component=data.component,
            variable=data.variable,
        )

    def set(self, data: v201.SetVariableDataType) -> v201.SetVariableResultType:
        known = self.ours(data.component, data.variable) and data.attribute_value.isdigit()
        if known:
            self.interval = int(data.attribute_value)
        return v201.SetVariableResultType(
            attribute_status=v201.SetVariableStatusEnumType.ACCEPTED
            if known
            else v201.SetVariableStatusEnumType.REJECTED,
            component=data.component,
            variable=data.variable,
        )

    # -- what happens at the station (the driver) ------------------------------------------

    async def plug_in(self, evse_id: int, connector_id: int = 1) -> None:
        await self.status(v201.ConnectorStatusEnumType.OCCUPIED)

    async def unplug(self, evse_id: int) -> None:
        if self.transaction is not None:
            await self.end(v201.TriggerReasonEnumType.EV_COMMUNICATION_LOST, "EVDisconnected")
        await self.status(v201.ConnectorStatusEnumType.AVAILABLE)

    async def present_token(self, evse_id: int, id_token: str, type: str) -> bool:
        if self.transaction is None:
            self.transaction, self.seq_no = (f"TX-{id_token}", id_token), 0
            await self.event(
                v201.TransactionEventEnumType.STARTED,
                v201.TriggerReasonEnumType.AUTHORIZED,
                evse=v201.EVSEType(id=1, connector_id=1),
                id_token=v201.IdTokenType(id_token=id_token, type=v201.IdTokenEnumType(type)),
            )
            self.meter = asyncio.create_task(self.meter_values())
        elif self.transaction[1] == id_token:
            await self.end(v201.TriggerReasonEnumType.STOP_AUTHORIZED, "Local")
        return True

    def driver(self) -> CallableDriver:
        return CallableDriver(
            {"plug_in": self.plug_in, "unplug": self.unplug, "present_token": self.present_token}
        )

    # -- the transaction -------------------------------------------------------------------

    async def event(
        self,
        kind: v201.TransactionEventEnumType,
        trigger: v201.TriggerReasonEnumType,
        stopped_reason: v201.ReasonEnumType | UnsetType = UNSET,
        **more: Any,
    ) -> None:
        assert self.transaction is not None
        seq_no = self.seq_no
        self.seq_no += 2 if self.skips_seq_no and seq_no == 0 else 1
        self.energy += 100.0
        now = datetime.now(UTC)
        await self.call(
            v201.TransactionEventRequest(
                event_type=kind,
                timestamp=now,
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info=v201.TransactionType(
                    transaction_id=self.transaction[0], stopped_reason=stopped_reason
                ),
                meter_value=[
                    v201.MeterValueType(
                        timestamp=now, sampled_value=[v201.SampledValueType(value=self.energy)]
                    )
                ],
                **more,
            )
        )

    async def meter_values(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.event(
                v201.TransactionEventEnumType.UPDATED,
                v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
            )

    async def end(self, trigger: v201.TriggerReasonEnumType, reason: str) -> None:
        if self.meter is not None:
            self.meter.cancel()
            await asyncio.gather(self.meter, return_exceptions=True)
            self.meter = None
        if self.transaction is None:
            return
        await self.event(
            v201.TransactionEventEnumType.ENDED,
            trigger,
            stopped_reason=v201.ReasonEnumType(reason),
        )
        self.transaction = None


@pytest.fixture
async def station_double() -> AsyncIterator[tuple[StationDouble, Target, StationLink]]:
    """The harness's CSMS, and a station double for each test to connect to it."""
    target = Target(role="station", station_id=STATION, password=PASSWORD, timeout=3.0)
    double = StationDouble()
    async with StationLink(target) as link:
        try:
            yield double, target, link
        finally:
            await double.stop()


@pytest.mark.parametrize("case_id", ["TC_E_01_CS", "TC_E_02_CS"])
async def test_the_correct_station_double_passes(
    station_double: tuple[StationDouble, Target, StationLink], case_id: str
) -> None:
    double, target, link = station_double
    await double.start(station_url(link))
    (result,) = await run_cases([CASES[case_id]], target, double.driver(), link=link)
    assert result.outcome == "passed", explain(result)


STATION_FLAWS = [
    Flaw(
        "skips-a-seq-no",
        "TC_E_01_CS",
        {"skips_seq_no": True},
        ("the transaction's seqNo must be 0, 1, 2... in the order sent, were [0, 2, ",),
    ),
    Flaw(
        "reuses-message-ids",
        "TC_E_01_CS",
        {"reuses_message_ids": True},
        ("rule broken on the wire", "messageId is used for one CALL only", "messageId 42"),
        rule="OCPP-J: a messageId is used for one CALL only",
    ),
]


def station_url(link: StationLink) -> str:
    return f"ws://127.0.0.1:{link.port}/ocpp"


@pytest.mark.parametrize("flaw", STATION_FLAWS, ids=lambda f: f.name)
async def test_a_broken_station_fails_the_matching_case(
    station_double: tuple[StationDouble, Target, StationLink], flaw: Flaw
) -> None:
    broken, target, link = station_double
    for name, value in flaw.switches.items():
        setattr(broken, name, value)
    await broken.start(station_url(link))
    (result,) = await run_cases([CASES[flaw.case_id]], target, broken.driver(), link=link)
    await broken.stop()
    assert result.outcome == "failed", explain(result)
    for words in flaw.says:
        assert words in result.message, explain(result)
    if flaw.rule is not None:
        assert any(v.rule.startswith(flaw.rule) for v in result.violations), result.violations

    # The same case against a station without the flaw, on a new connection: it passes.
    mended = StationDouble()
    await mended.start(station_url(link))
    try:
        (again,) = await run_cases([CASES[flaw.case_id]], target, mended.driver(), link=link)
    finally:
        await mended.stop()
    assert again.outcome == "passed", explain(again)
