"""The charging station at run time: its connection to the CSMS, its EVSEs, its transactions.

``Station.run`` keeps the station connected (transport.Reconnector) and runs one session per
connection: the boot (B01-B03), then heartbeats, status notifications and the event queue. The
CSMS's requests are routed to ``station/handlers``; what a driver or an EV does (plug in,
present a card, unplug) comes in through the methods under "the physical world", which the
simulator's scenarios call.

Time is the Clock's: tests fast-forward a ManualClock through heartbeats, meter samples and
back-off waits. The simulated meter is advanced lazily, whenever the station reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import random
import ssl
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET

from kilowatt.clock import Clock, SystemClock
from kilowatt.devicemodel import (
    AttributeKey,
    Change,
    ComponentKey,
    DeviceModel,
    StationShape,
    VariableKey,
    from_json,
    standard_model,
    to_json,
)
from kilowatt.messages import VERSIONS, PayloadCodec, Request, Response, v21, v201
from kilowatt.messages.bridge import BridgeCodec, convert, transaction_event_as_201
from kilowatt.messages.v201 import (
    AuthorizationStatusEnumType as AuthStatus,
    ChargingStateEnumType as ChargingState,
    ReasonEnumType as Reason,
    RegistrationStatusEnumType as Registration,
    TransactionEventEnumType as EventType,
    TriggerReasonEnumType as Trigger,
)
from kilowatt.rpc.endpoint import Endpoint
from kilowatt.rpc.errors import ConnectionLost, OcppError
from kilowatt.smartcharging import (
    Accepted,
    ActiveTransaction,
    install,
    validate_start_transaction_profile,
)
from kilowatt.station.auth import AuthCache, LocalList
from kilowatt.station.certificates import Certificates
from kilowatt.station.config import StationConfig
from kilowatt.station.display import DisplayMessages
from kilowatt.station.ev import advance, available_power
from kilowatt.station.evse import Connector, Evse, Transaction
from kilowatt.station.firmware import Firmware
from kilowatt.station.iso15118 import Iso15118
from kilowatt.station.logs import Logs
from kilowatt.station.machines import ChargingEvent, charging_state_after
from kilowatt.station.monitoring import StationMonitors, follow_monitors, set_measured
from kilowatt.station.network import NetworkProfiles
from kilowatt.station.pricing import LocalCosts
from kilowatt.station.pwm import signal_limit
from kilowatt.station.queue import EventQueue, TransactionEventRequest
from kilowatt.station.reservations import Reservations
from kilowatt.station.smart_charging import (
    ChargingProfiles,
    charging_rate_changed,
    follow_limits,
    with_entries,
)
from kilowatt.station.tariffs import TariffBook
from kilowatt.station.tasks import first_of
from kilowatt.tariffs import TariffChange, pick_description, price_text
from kilowatt.transport.channel import TextChannel
from kilowatt.transport.client import BackOff, Reconnector, StationClientSocket, connect
from kilowatt.transport.connection import Connection
from kilowatt.transport.security import CertificateFiles, station_context

__all__ = ["Station"]

logger = logging.getLogger(__name__)

ResponseT = TypeVar("ResponseT", bound=Response)
OnCall = Callable[[object, "Station"], Awaitable[object]]

# A02.FR.08: how long after accepting a new certificate the station reconnects with it.
RENEWAL_RECONNECT_DELAY = 1.0
# B01.FR.05 leaves the retry after an interval of 0 to the station.
DEFAULT_BOOT_RETRY = 60.0
CONNECT_ATTEMPT = 10.0  # seconds a connection attempt takes to fail in a simulated outage
OCPP201 = "ocpp2.0.1"
OCPP21 = "ocpp2.1"
# The events a station that prices locally sends its cost so far with (and the Ended one).
_COST_TRIGGERS = {
    v21.TriggerReasonEnumType.METER_VALUE_PERIODIC,
    v21.TriggerReasonEnumType.TARIFF_CHANGED,
}
ENERGY = v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER


@functools.lru_cache(maxsize=32)
def _template_model(shape: StationShape) -> DeviceModel:
    return standard_model(shape)


def _standard_model(shape: StationShape) -> DeviceModel:
    """The catalogue's model of ``shape``, its definitions shared by every station of the same
    make: a simulated fleet of 10,000 stations builds it once, not 10,000 times."""
    template = _template_model(dataclasses.replace(shape, identity="", serial_number=""))
    actual = v201.AttributeEnumType.ACTUAL
    return template.with_values(
        {
            AttributeKey(ComponentKey("SecurityCtrlr"), VariableKey("Identity"), actual): (
                shape.identity
            ),
            AttributeKey(ComponentKey("ChargingStation"), VariableKey("SerialNumber"), actual): (
                shape.serial_number
            ),
        }
    )


class Station:
    """One charging station. ``run`` connects it; the other methods act on it.

    Args:
        config: identity, CSMS, shape and storage.
        route: the CSMS's requests to their handlers (``station.handlers.ocpp201_router``).
        clock: time for everything the station does.
        jitter: the random draws of the reconnection back-off.
    """

    def __init__(
        self,
        config: StationConfig,
        route: Callable[[object], Callable[[Any, Station], Awaitable[Response]]],
        *,
        clock: Clock | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._route = route
        self._jitter = jitter
        self._dir = config.data_dir
        if self._dir is not None:
            self._dir.mkdir(parents=True, exist_ok=True)
        self.model = self._load_model()
        self.cache = AuthCache()
        self.local_list = LocalList()
        self._load_authorization()
        self.queue = EventQueue(
            self._dir / "events.jsonl" if self._dir else None, durable=config.durable
        )
        self.profiles = ChargingProfiles(config, self._dir / "profiles.json" if self._dir else None)
        stored_tariffs = self._read("tariffs.json")  # OCPP 2.1 local cost calculation, I07-I12
        self.tariffs = TariffBook.from_json(stored_tariffs) if stored_tariffs else TariffBook()
        self.evses: dict[int, Evse] = {}
        for number, shape in enumerate(config.shape.evses, start=1):
            connectors = {
                index: Connector(index, connector.connector_type)
                for index, connector in enumerate(shape.connectors, start=1)
            }
            self.evses[number] = Evse(number, shape.max_power_w, shape.phases, connectors)
        self._load_availability()
        self.registration: Registration | None = None  # the last boot answer, this power-up
        self.boot_reason = v201.BootReasonEnumType.POWER_UP
        self.connection: Connection | None = None
        self.accepted = asyncio.Event()  # set while connected after an Accepted boot
        self.offline_since: datetime | None = None
        self._queue_changed = asyncio.Event()
        self._boot_now = asyncio.Event()  # TriggerMessage(BootNotification) while Pending
        self._background: set[asyncio.Task[None]] = set()
        self.reset_scheduled = False
        # TriggerMessage (F06) for the messages of the blocks that register here.
        self.triggers: dict[v201.MessageTriggerEnumType, Callable[[list[Evse]], None]] = {}
        # Called with the attributes each SetVariables changed, after the model is adopted.
        self.change_listeners: list[Callable[[list[Change]], None]] = [
            self._password_changed,
            self._interval_changed,
        ]
        self._heartbeat_changed = asyncio.Event()
        self.log: list[str] = []  # what a display would show; the simulator prints it
        self.frames = 0  # frames sent and received, for the simulator's figures
        self.errors = 0  # CALLs of ours that failed
        self._network_down_until = 0.0  # a simulated outage, on the monotonic clock
        self.cost: dict[str, float] = {}  # transaction id -> running cost from the CSMS
        # The OCPP version of the current (else the last) connection: "ocpp2.1" prices locally.
        self.protocol = config.ocpp_versions[0]
        self.local_costs = LocalCosts()
        self.tariff_choice: dict[int, str] = {}  # EVSE id -> the price scheme a driver chose
        # P01: DataTransfer handlers by vendorId: (messageId, data) -> (status, data).
        self.vendors: dict[str, Callable[[str | None, Any], Awaitable[tuple[str, Any]]]] = {}
        self.reservations = Reservations(self)
        self.firmware = Firmware(self)
        self.logs = Logs(self)
        self.display = DisplayMessages(self)
        self.certificates = Certificates(self)
        self.network_profiles = NetworkProfiles(self)
        self.monitors = StationMonitors(self)  # block N: NotifyEvent, after change_listeners
        self.iso15118 = Iso15118(self)  # K15-K17 for an ISO 15118 EV

    # -- variables -----------------------------------------------------------------------------

    def int_var(self, component: str, variable: str, instance: str | None = None) -> int:
        return self.model.int_value(component, VariableKey(variable, instance))

    def bool_var(self, component: str, variable: str) -> bool:
        return self.model.bool_value(component, variable)

    def list_var(self, component: str, variable: str) -> tuple[str, ...]:
        return self.model.list_value(component, variable)

    def set_model(self, model: DeviceModel) -> None:
        """Adopt a changed device model and persist it."""
        self.model = model
        self._save("model.json", to_json(model))

    def variables_changed(self, changes: list[Change]) -> None:
        for listener in self.change_listeners:
            listener(changes)

    def trigger_other(self, wanted: v201.MessageTriggerEnumType, evses: list[Evse]) -> bool:
        """Trigger a message of a block that registered one; False when none did."""
        trigger = self.triggers.get(wanted)
        if trigger is None:
            return False
        trigger(evses)
        return True

    def _password_changed(self, changes: list[Change]) -> None:
        # A01.FR.?: a new BasicAuthPassword is used from the next connection, which the
        # station opens at once.
        if any(change.variable.name == "BasicAuthPassword" for change in changes):
            connection = self.connection
            if connection is not None:
                self.spawn(connection.close())

    def set_actual(self, component: ComponentKey | str, variable: str, value: str) -> None:
        key = AttributeKey(
            ComponentKey(component) if isinstance(component, str) else component,
            VariableKey(variable),
            v201.AttributeEnumType.ACTUAL,
        )
        if self.model.values.get(key) in (None, value):
            return
        if not hasattr(self, "monitors"):  # the station is being built: no monitor runs yet
            self.model = self.model.with_values({key: value})
            return
        # Through the monitors (N07): a Delta monitor on AvailabilityState fires when the
        # connector's status changes.
        set_measured(self, key.component, key.variable, value)

    # -- connection ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        reconnector = Reconnector(
            self._connect, self._session, self._backoff(), self.clock, jitter=self._jitter
        )

        def backoff_changed(changes: list[Change]) -> None:
            if any(change.variable.name.startswith("RetryBackOff") for change in changes):
                reconnector.backoff = self._backoff()

        self.change_listeners.append(backoff_changed)
        try:
            await reconnector.run()
        finally:
            self.change_listeners.remove(backoff_changed)
            for task in list(self._background):
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            self.queue.close()

    def _count_frame(self, _frame: object) -> None:
        self.frames += 1

    async def go_offline(self, seconds: float) -> None:
        """Simulate a network outage: drop the connection, refuse to reconnect for a while."""
        self._network_down_until = self.clock.monotonic() + seconds
        if self.connection is not None:
            await self.connection.close()
        await self.clock.sleep(seconds)

    async def _connect(self) -> StationClientSocket:
        remaining = self._network_down_until - self.clock.monotonic()
        if remaining > 0:
            # An attempt into a dead network fails after a while, not at once: without this
            # wait a zero back-off would spin through thousands of attempts per second.
            await self.clock.sleep(min(remaining, CONNECT_ATTEMPT))
            raise OSError("the network is down (simulated)")
        profile = self.int_var("SecurityCtrlr", "SecurityProfile")
        return await connect(
            self.config.csms_url,
            self.config.station_id,
            # A00.FR.?: profile 3 authenticates with the client certificate, not a password.
            password=self._password() if profile < 3 else None,
            ssl=self._tls(profile),
            ping_interval=float(self.int_var("OCPPCommCtrlr", "WebSocketPingInterval")) or None,
            compression=self.config.compression,
            subprotocols=self.config.ocpp_versions,
        )

    def _tls(self, profile: int) -> ssl.SSLContext | None:
        """The TLS context for a wss URL: the CSMS checked against ``csms_ca``, and for profile
        3 the certificate the CSMS signed (A02), or the configured one before that."""
        if not self.config.csms_url.startswith("wss:"):
            return None
        if self.config.csms_ca is None:
            raise ValueError("a wss URL needs the CSMS's CA bundle (csms_ca)")
        client = None
        if profile >= 3:
            key, chain = self.certificates.key_path(), self.certificates.certificate_path()
            if key is not None and chain is not None:
                client = CertificateFiles(chain, key)
            elif self.config.client_certificate is not None:
                client = CertificateFiles(*self.config.client_certificate)
            else:
                raise ValueError("security profile 3 needs a client certificate")
        return station_context(self.config.csms_ca, client_certificate=client)

    def certificate_renewed(self) -> None:
        """A02.FR.08: a new station certificate takes effect on a new connection, opened now."""
        connection = self.connection
        if self.int_var("SecurityCtrlr", "SecurityProfile") < 3 or connection is None:
            return

        async def reconnect() -> None:
            # After the CertificateSigned response is on its way; the new connection is opened
            # by the reconnector with the new certificate.
            await self.clock.sleep(RENEWAL_RECONNECT_DELAY)
            if self.connection is connection:
                await connection.close()

        self.spawn(reconnect())

    def _password(self) -> str | None:
        configured = self.model.value("SecurityCtrlr", "BasicAuthPassword")
        return configured or self.config.password

    def _backoff(self) -> BackOff:
        return BackOff(
            wait_minimum=self.int_var("OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
            random_range=self.int_var("OCPPCommCtrlr", "RetryBackOffRandomRange"),
            repeat_times=self.int_var("OCPPCommCtrlr", "RetryBackOffRepeatTimes"),
        )

    async def serve(self, channel: TextChannel, subprotocol: str = OCPP201) -> None:
        """Run one session over an open channel (a memory pair in tests)."""
        await self._session(channel, subprotocol)

    async def _session(self, socket: TextChannel, subprotocol: str | None = None) -> None:
        if subprotocol is None:
            subprotocol = getattr(socket, "subprotocol", OCPP201)
        self.protocol = subprotocol
        codec: PayloadCodec | BridgeCodec = PayloadCodec(VERSIONS["2.0.1"], "station")
        version = VERSIONS["2.0.1"]
        if subprotocol == OCPP21:
            # 2.1 through the 2.0.1 core; the tariff requests keep their 2.1 type (I07-I12).
            version = VERSIONS["2.1"]
            codec = BridgeCodec(version, VERSIONS["2.0.1"], "station", frozenset())
        endpoint = Endpoint(
            codec,
            version.dialect,
            call_timeout=float(self.int_var("OCPPCommCtrlr", "MessageTimeout", "Default")),
            trace=self._count_frame,
        )
        connection = Connection(socket, endpoint, self.clock, self._on_call)
        receiving = asyncio.create_task(connection.run())
        self.connection = connection
        online = asyncio.create_task(self._online(connection))

        def failed(task: asyncio.Task[None]) -> None:
            # A station whose boot or duties died of a bug would stay connected doing nothing:
            # the session ends instead, and the error is logged when it is collected below.
            if not task.cancelled() and task.exception() is not None:
                self.spawn(connection.close())

        online.add_done_callback(failed)
        try:
            await receiving
        finally:
            self.connection = None
            self.accepted.clear()
            online.cancel()
            # Waited for, not awaited: its error must not replace the cancellation of this
            # session (a cancelled station that swallowed it would never stop).
            await asyncio.wait({online})
            if not online.cancelled() and online.exception() is not None:
                logger.error(
                    "%s: the session's work failed",
                    self.config.station_id,
                    exc_info=online.exception(),
                )
            self.offline_since = self.clock.now()

    async def _on_call(self, request: object) -> object:
        handler = self._route(request)
        return await handler(request, self)

    async def _online(self, connection: Connection) -> None:
        try:
            if self.registration != Registration.ACCEPTED:
                await self._boot(connection)
            else:
                self.accepted.set()
                await self._report_statuses(after_offline=True)
            self._queue_changed.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._heartbeats(connection))
                group.create_task(self._drain_queue(connection))
                group.create_task(self._sample_meters())
                group.create_task(self._aligned_meters())
                group.create_task(follow_limits(self))
                group.create_task(follow_monitors(self))
        except* ConnectionLost:
            pass  # the session ends; Reconnector takes over

    async def _boot(self, connection: Connection) -> None:
        """B01-B03: BootNotification until Accepted, waiting the interval the CSMS gives."""
        shape = self.config.shape
        charging_station = v201.ChargingStationType(
            model=shape.model,
            vendor_name=shape.vendor_name,
            serial_number=shape.serial_number or UNSET,
            firmware_version=self.firmware.version or UNSET,
        )
        while True:
            self._boot_now.clear()
            response = await connection.call(
                v201.BootNotificationRequest(
                    charging_station=charging_station, reason=self.boot_reason
                )
            )
            self.registration = response.status
            self.log.append(f"boot {response.status}")
            if response.status == Registration.ACCEPTED:
                if response.interval > 0:
                    self._set_heartbeat_interval(response.interval)
                self.boot_reason = v201.BootReasonEnumType.POWER_UP
                # Online from the Accepted answer on: a card presented while the statuses go
                # out is authorized by the CSMS, and events are not marked offline.
                self.accepted.set()
                await self._report_statuses(after_offline=False)
                return
            wait = float(response.interval) or DEFAULT_BOOT_RETRY
            # B02.FR.05: while Pending the CSMS may trigger a BootNotification before that.
            waits = {
                asyncio.create_task(self.clock.sleep(wait)),
                asyncio.create_task(self._boot_now.wait()),
            }
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()

    def trigger_boot(self) -> None:
        self._boot_now.set()

    def _set_heartbeat_interval(self, seconds: int) -> None:
        key = AttributeKey(
            ComponentKey("OCPPCommCtrlr"),
            VariableKey("HeartbeatInterval"),
            v201.AttributeEnumType.ACTUAL,
        )
        self.set_model(self.model.with_values({key: str(seconds)}))

    async def _heartbeats(self, connection: Connection) -> None:
        while True:
            self._heartbeat_changed.clear()
            interval = float(self.int_var("OCPPCommCtrlr", "HeartbeatInterval"))
            if await first_of(self.clock.sleep(interval), self._heartbeat_changed.wait()) == 0:
                await self.send(v201.HeartbeatRequest())

    def _interval_changed(self, changes: list[Change]) -> None:
        # A new HeartbeatInterval counts from now, not after the old wait ends.
        if any(change.variable.name == "HeartbeatInterval" for change in changes):
            self._heartbeat_changed.set()

    async def send(self, request: Request[ResponseT]) -> ResponseT | None:
        """Send a CALL now if connected; None when offline or when it failed (logged).

        For the messages that are not queued while offline: only TransactionEvents are
        (``queue_event``).
        """
        connection = self.connection
        if connection is None:
            return None
        try:
            return await connection.call(request)
        except OcppError as error:
            self.errors += 1
            logger.warning("%s: %s failed: %s", self.config.station_id, request.ACTION, error)
            return None

    def spawn(self, work: Awaitable[object]) -> None:
        """Run ``work`` in the background, e.g. a message to send after a response."""

        async def run() -> None:
            try:
                await work
            except (OcppError, asyncio.CancelledError):
                pass
            except Exception:
                logger.exception("%s: background work failed", self.config.station_id)

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- the event queue -----------------------------------------------------------------------

    def queue_event(
        self,
        request: v201.TransactionEventRequest,
        trigger_21: v21.TriggerReasonEnumType | None = None,
    ) -> None:
        """Queue an event for sending; priced here first when the station prices locally."""
        self.queue.put(self._priced(request, trigger_21) if self.protocol == OCPP21 else request)
        self._queue_changed.set()

    def _priced(
        self, request: v201.TransactionEventRequest, trigger_21: v21.TriggerReasonEnumType | None
    ) -> v21.TransactionEventRequest:
        """I07-I12: the event as OCPP 2.1 sends it from a station that prices locally: the
        transaction's tariff in transactionInfo.tariffId, and with the Ended event, after each
        periodic reading and after a tariff change, the cost so far in costDetails (shown to
        the driver)."""
        event = convert(request, v21.TransactionEventRequest)
        if trigger_21 is not None:
            event = msgspec.structs.replace(event, trigger_reason=trigger_21)
        transaction_id = event.transaction_info.transaction_id
        tariff = self._transaction_tariff(event)
        if tariff is None:
            return event  # nothing to price with: the CSMS's cost stands alone
        info = msgspec.structs.replace(event.transaction_info, tariff_id=tariff.tariff_id)
        event = msgspec.structs.replace(event, transaction_info=info)
        self.local_costs.record(event)
        ended = event.event_type == v21.TransactionEventEnumType.ENDED
        if ended or event.trigger_reason in _COST_TRIGGERS:
            first, changes = self.tariffs.changes(transaction_id)
            cost = self.local_costs.cost(
                transaction_id,
                first,
                [TariffChange(at, changed) for at, changed in changes],
                event.timestamp,
            )
            if cost is not None:
                event = msgspec.structs.replace(event, cost_details=cost.to_cost_details())
                self.cost[transaction_id] = float(cost.total_cost)
                kind = "total" if ended else "running"
                self.log.append(f"display: {kind} cost {cost.total_cost} {cost.currency}")
        if ended:
            self.local_costs.forget(transaction_id)
            self.tariffs.end_transaction(transaction_id)
            self.save_tariffs()
        return event

    def _transaction_tariff(self, event: v21.TransactionEventRequest) -> v21.TariffType | None:
        """The tariff a transaction is priced with: chosen at its start (the driver's choice of
        the EVSE's schemes, else the driver's tariff, else the EVSE's default), and chosen again
        when the driver is identified later, unless a change was made since (I12)."""
        transaction_id = event.transaction_info.transaction_id
        try:
            first, changes = self.tariffs.changes(transaction_id)
        except KeyError:
            first, changes = None, []
        token = event.id_token.id_token if event.id_token is not UNSET else None
        if first is not None and (token is None or changes):
            return changes[-1][1] if changes else first
        evse = next(
            (
                e
                for e in self.evses.values()
                if e.transaction and e.transaction.id == transaction_id
            ),
            None,
        )
        if evse is None:
            return first
        if token is None and evse.authorized is not None:
            token = evse.authorized.id_token
        tariff = self.tariffs.choose(
            evse.id, token, self.tariff_choice.get(evse.id), event.timestamp
        )
        if tariff is None or (first is not None and first.tariff_id == tariff.tariff_id):
            return first
        assert evse.transaction is not None
        self.tariffs.start_transaction(transaction_id, tariff, evse.transaction.started_at)
        self.save_tariffs()
        self._show_tariff(tariff, evse)
        return tariff

    def _show_tariff(self, tariff: v21.TariffType, evse: Evse) -> None:
        """The price before charging, in the driver's language when the tariff has it."""
        info = evse.authorization
        language1 = info.language1 or None if info is not None else None
        language2 = info.language2 or None if info is not None else None
        text = pick_description(tariff.description, language1, language2)
        self.log.append(
            f"display: tariff {tariff.tariff_id}: "
            + (text.content if text is not None else price_text(tariff))
        )

    def choose_tariff(self, evse_id: int, tariff_id: str) -> bool:
        """The driver picks one of the price schemes the EVSE offers, before starting; False
        when it offers no such tariff."""
        offered = self.tariffs.offered(evse_id, self.clock.now())
        if not any(t.tariff_id == tariff_id for t in offered):
            self.log.append(f"EVSE {evse_id}: no tariff {tariff_id} on offer")
            return False
        self.tariff_choice[evse_id] = tariff_id
        self.log.append(f"EVSE {evse_id}: driver chose tariff {tariff_id}")
        return True

    def tariff_changed(self, transaction_id: str, at: datetime) -> None:
        """I12: after an accepted ChangeTransactionTariff, an Updated event at the instant the
        new tariff applies from, with a reading there and the cost so far."""
        for evse in self.evses.values():
            if evse.transaction is not None and evse.transaction.id == transaction_id:
                self._event(
                    evse,
                    EventType.UPDATED,
                    Trigger.TRIGGER,
                    context=v201.ReadingContextEnumType.TRIGGER,
                    at=at,
                    trigger_21=v21.TriggerReasonEnumType.TARIFF_CHANGED,
                )

    async def _drain_queue(self, connection: Connection) -> None:
        """E12/OCPP-J: send queued TransactionEvents in order; try a refused or unanswered one
        up to MessageAttempts times, MessageAttemptInterval x (tries so far) apart, then drop
        it. A lost connection is not a try: the event waits at the head for the next one."""
        while True:
            item = self.queue.head()
            if item is None:
                self._queue_changed.clear()
                await self._queue_changed.wait()
                continue
            attempts = 0
            while True:
                try:
                    response = await connection.call(self._for_wire(item.request))
                except ConnectionLost:
                    raise  # sent again from the head of the queue on the next connection
                except OcppError as error:  # CALLERROR, a broken answer or none in time
                    self.errors += 1
                    attempts += 1
                    limit = self.int_var("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent")
                    if attempts >= limit:  # MessageAttempts counts every try
                        logger.error("%s: dropping %s: %s", self.config.station_id, item, error)
                        break
                    interval = self.int_var(
                        "OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"
                    )
                    await self.clock.sleep(float(interval * attempts))
                    continue
                assert isinstance(
                    response, v201.TransactionEventResponse | v21.TransactionEventResponse
                )
                self._transaction_answered(transaction_event_as_201(item.request), response)
                break
            self.queue.remove(item.id)

    def _for_wire(self, request: TransactionEventRequest) -> TransactionEventRequest:
        """An event queued as 2.1 and sent over a 2.0.1 connection (the CSMS chose 2.0.1 on a
        reconnect) goes as 2.0.1: without its cost, which the CSMS then computes alone."""
        if isinstance(request, v21.TransactionEventRequest) and self.protocol != OCPP21:
            return transaction_event_as_201(request)
        return request

    def _transaction_answered(
        self,
        request: v201.TransactionEventRequest,
        answer: v201.TransactionEventResponse | v21.TransactionEventResponse,
    ) -> None:
        response = convert(answer, v201.TransactionEventResponse)
        transaction_id = request.transaction_info.transaction_id
        local = self.cost.get(transaction_id)
        if (
            request.event_type == EventType.ENDED
            and response.total_cost is not UNSET
            and local is not None
            and round(local, 2) != round(response.total_cost, 2)
        ):
            # I12: the CSMS's total is the one billed; the driver sees the correction.
            self.log.append(f"display: total cost corrected by the CSMS to {response.total_cost}")
        if response.total_cost is not UNSET:
            self.cost[transaction_id] = response.total_cost
            self.log.append(f"{transaction_id}: cost {response.total_cost}")
        elif request.event_type == EventType.ENDED and not request.offline:
            self._fallback("TotalCostFallbackMessage")  # I05: no total cost came
        info = response.id_token_info
        if info is UNSET or request.id_token is UNSET:
            return
        self.cache.store(request.id_token, info, self.clock.now())
        if info.status == AuthStatus.ACCEPTED:
            return
        # E05.FR.09/.10: the CSMS refused the token of a running transaction.
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None and tx.id == transaction_id:
                self.log.append(f"{transaction_id}: token {info.status} by the CSMS")
                if self.bool_var("TxCtrlr", "StopTxOnInvalidId"):
                    self._deauthorize(evse, Trigger.DEAUTHORIZED, Reason.DE_AUTHORIZED)
                else:
                    evse.energy_withheld = True
                    self._charging_update(evse, Trigger.DEAUTHORIZED)

    # -- status notifications ------------------------------------------------------------------

    async def _report_statuses(self, *, after_offline: bool) -> None:
        """B01.FR.?? / the OfflineThreshold rule: after a boot every connector's status; after
        a short outage only the ones that changed."""
        threshold = timedelta(seconds=self.int_var("OCPPCommCtrlr", "OfflineThreshold"))
        everything = not after_offline or (
            self.offline_since is not None and self.clock.now() - self.offline_since > threshold
        )
        for evse in self.evses.values():
            for connector in evse.connectors.values():
                await self._report_status(evse, connector, force=everything)

    async def _report_status(self, evse: Evse, connector: Connector, *, force: bool) -> None:
        status = evse.status(connector)
        self.set_actual(
            ComponentKey("Connector", None, evse.id, connector.id), "AvailabilityState", status
        )
        if status == connector.reported and not force:
            return
        if self.connection is None or self.registration != Registration.ACCEPTED:
            return  # told when the station is back and accepted
        connector.reported = status
        await self.send(self.status_notification(evse, connector))

    def status_notification(
        self, evse: Evse, connector: Connector
    ) -> v201.StatusNotificationRequest:
        return v201.StatusNotificationRequest(
            timestamp=self.clock.now(),
            connector_status=evse.status(connector),
            evse_id=evse.id,
            connector_id=connector.id,
        )

    def statuses_changed(self, evse: Evse) -> None:
        self.reservations.evse_changed(evse)
        for connector in evse.connectors.values():
            if evse.status(connector) != connector.reported:
                self.spawn(self._report_status(evse, connector, force=False))

    # -- the physical world (the simulator drives these) --------------------------------------

    def evse(self, evse_id: int) -> Evse:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise LookupError(f"no EVSE {evse_id}") from None

    def plug_in(self, evse_id: int, connector_id: int = 1) -> None:
        evse = self.evse(evse_id)
        if evse.plugged is not None:
            raise ValueError(f"EVSE {evse_id} has an EV plugged in already")
        self._advance(evse)
        evse.plugged = connector_id
        evse.plugged_at = self.clock.now()
        evse.electric = dataclasses.replace(evse.electric, soc=self.config.ev.initial_soc)
        signal_limit(self, evse, 0.0)
        self.statuses_changed(evse)
        self._transaction_step(evse, Trigger.CABLE_PLUGGED_IN)

    def unplug(self, evse_id: int) -> None:
        evse = self.evse(evse_id)
        if evse.plugged is None:
            return
        self._advance(evse)
        evse.plugged = None
        evse.electric = dataclasses.replace(evse.electric, soc=None, power_w=0.0)
        signal_limit(self, evse, 0.0)
        tx = evse.transaction
        if tx is not None:
            tx.charging_state = charging_state_after(tx.charging_state, ChargingEvent.UNPLUGGED)
        if "EVConnected" in self._stop_points() or self.bool_var(
            "TxCtrlr", "StopTxOnEVSideDisconnect"
        ):
            evse.authorized = None
            evse.authorization = None
        self._transaction_step(evse, Trigger.EV_COMMUNICATION_LOST, Reason.EV_DISCONNECTED)
        self.statuses_changed(evse)

    def set_fault(self, evse_id: int, connector_id: int, faulted: bool) -> None:
        evse = self.evse(evse_id)
        self._advance(evse)
        evse.connectors[connector_id].faulted = faulted
        self.statuses_changed(evse)

    async def present_token(self, evse_id: int, token: v201.IdTokenType) -> bool:
        """A driver presents a card at an EVSE: start (or stop) charging if it is authorized.

        C01/C02 and E06 (stop by the token that started, or one of its group).
        """
        evse = self.evse(evse_id)
        tx = evse.transaction
        if evse.authorized is not None and tx is not None:
            if await self._may_stop(evse, token):
                self._deauthorize(evse, Trigger.STOP_AUTHORIZED, Reason.LOCAL)
                return True
            return False
        if evse.authorized is not None:
            return False
        info = await self.authorize(token)
        if info.status != AuthStatus.ACCEPTED:
            self.log.append(f"EVSE {evse_id}: {token.id_token} {info.status}")
            return False
        group = info.group_id_token if info.group_id_token is not UNSET else None
        if not self.reservations.allows(evse, token, group):
            self.log.append(f"EVSE {evse_id}: reserved for another driver")  # H03
            return False
        if info.personal_message is UNSET:
            self._fallback("TariffFallbackMessage")  # I04: no tariff text came
        self._authorize(evse, token, info, Trigger.AUTHORIZED)
        return True

    async def _may_stop(self, evse: Evse, token: v201.IdTokenType) -> bool:
        if evse.authorized is not None and (
            (evse.authorized.id_token, evse.authorized.type) == (token.id_token, token.type)
        ):
            return True
        started = evse.authorization
        if started is None or started.group_id_token is UNSET:
            return False
        info = await self.authorize(token)
        return (
            info.status == AuthStatus.ACCEPTED
            and info.group_id_token is not UNSET
            and info.group_id_token.id_token == started.group_id_token.id_token
        )

    async def authorize(self, token: v201.IdTokenType) -> v201.IdTokenInfoType:
        """C01, C10-C13: the local list and the cache first when allowed, else the CSMS."""
        now = self.clock.now()
        local = self._local_answer(token, now)
        online = self.accepted.is_set()
        # C13.FR.02: pre-authorized locally, only an Accepted entry saves asking the CSMS.
        if (
            online
            and local is not None
            and local.status == AuthStatus.ACCEPTED
            and self.bool_var("AuthCtrlr", "LocalPreAuthorize")
        ):
            return local
        if online:
            response = await self._authorize_online(token)
            if response is not None:
                if self._cache_enabled():
                    self.cache.store(token, response.id_token_info, now)
                    self._save("cache.json", self.cache.to_json())
                message = response.id_token_info.personal_message
                if message is not UNSET:
                    # I01: the driver's message (e.g. the tariff) is shown before charging.
                    self.log.append(f"display: {message.content}")
                return response.id_token_info
        if local is not None and self.bool_var("AuthCtrlr", "LocalAuthorizeOffline"):
            return local
        if self.bool_var("AuthCtrlr", "OfflineTxForUnknownIdEnabled"):
            return v201.IdTokenInfoType(status=AuthStatus.ACCEPTED)
        return v201.IdTokenInfoType(status=AuthStatus.UNKNOWN)

    async def _authorize_online(self, token: v201.IdTokenType) -> v201.AuthorizeResponse | None:
        """C01; on OCPP 2.1 with I08: a tariff in the answer is the driver's, kept to price
        their transactions with."""
        if self.protocol != OCPP21:
            return await self.send(v201.AuthorizeRequest(id_token=token))
        response = await self.send(
            convert(v201.AuthorizeRequest(id_token=token), v21.AuthorizeRequest)
        )
        if response is None:
            return None
        if response.tariff is not UNSET:
            self.tariffs.set_driver_tariff(token.id_token, response.tariff)
            self.save_tariffs()
        return convert(response, v201.AuthorizeResponse)

    def _fallback(self, variable: str) -> None:
        """I04/I05: the operator's text for when the CSMS gives no tariff or no total cost."""
        text = self.model.value("TariffCostCtrlr", variable)
        if text:
            self.log.append(f"display: {text}")

    def _cache_enabled(self) -> bool:
        return self.bool_var("AuthCacheCtrlr", "Enabled")

    def _local_answer(self, token: v201.IdTokenType, now: datetime) -> v201.IdTokenInfoType | None:
        if self.bool_var("LocalAuthListCtrlr", "Enabled"):
            listed = self.local_list.lookup(token)
            if listed is not None:
                return listed
        if self._cache_enabled():
            lifetime = timedelta(seconds=self.int_var("AuthCacheCtrlr", "LifeTime"))
            return self.cache.lookup(token, now, lifetime or None)
        return None

    def _authorize(
        self,
        evse: Evse,
        token: v201.IdTokenType,
        info: v201.IdTokenInfoType,
        trigger: Trigger,
        remote_start_id: int | None = None,
    ) -> None:
        self._advance(evse)
        evse.authorized = token
        evse.authorization = info
        evse.remote_start_id = remote_start_id
        evse.energy_withheld = False
        group = info.group_id_token if info.group_id_token is not UNSET else None
        # H01/H03: the reservation is used; its id goes with the transaction's token.
        evse.used_reservation = self.reservations.consume(evse, token, group)
        self.statuses_changed(evse)
        self._transaction_step(evse, trigger)

    def authorize_remote(
        self,
        evse: Evse,
        token: v201.IdTokenType,
        info: v201.IdTokenInfoType,
        remote_start_id: int,
    ) -> None:
        """F01/F02: a remote start authorized ``token`` at ``evse``."""
        if evse.authorized is None:
            self._authorize(evse, token, info, Trigger.REMOTE_START, remote_start_id)

    def _deauthorize(self, evse: Evse, trigger: Trigger, reason: Reason) -> None:
        self._advance(evse)
        evse.authorized = None
        evse.authorization = None
        self._transaction_step(evse, trigger, reason)

    # -- transactions --------------------------------------------------------------------------

    def _start_points(self) -> tuple[str, ...]:
        return self.list_var("TxCtrlr", "TxStartPoint")

    def _stop_points(self) -> tuple[str, ...]:
        return self.list_var("TxCtrlr", "TxStopPoint")

    def _transaction_step(
        self, evse: Evse, trigger: Trigger, reason: Reason = Reason.LOCAL
    ) -> None:
        """E01/E06: start, update or end the EVSE's transaction after something changed."""
        self._advance(evse)
        held = evse.tx_conditions()
        tx = evse.transaction
        if tx is None:
            if held & set(self._start_points()):
                self._start_transaction(evse, trigger, held)
            return
        tx.reached |= held
        lost = (tx.reached - held) & set(self._stop_points())
        if lost:
            self._end_transaction(evse, trigger, reason)
            return
        if evse.authorized is not None and not tx.id_token_sent:
            tx.id_token = evse.authorized
            self._event(evse, EventType.UPDATED, trigger)
            return
        self._charging_update(evse, trigger)

    def _start_transaction(self, evse: Evse, trigger: Trigger, held: set[str]) -> None:
        tx = Transaction(
            id=str(uuid.uuid4()),
            started_at=self.clock.now(),
            id_token=evse.authorized,
            remote_start_id=evse.remote_start_id,
            reached=set(held),
        )
        evse.transaction = tx
        if evse.start_profile is not None:
            profile = msgspec.structs.replace(evse.start_profile, transaction_id=tx.id)
            self.profiles.replace(install(self.profiles.installed, profile, evse.id))
            self.model = with_entries(self.model, len(self.profiles.installed))
            evse.start_profile = None
        if evse.plugged is not None:
            tx.charging_state = charging_state_after(tx.charging_state, ChargingEvent.PLUGGED)
        self._event(
            evse, EventType.STARTED, trigger, context=v201.ReadingContextEnumType.TRANSACTION_BEGIN
        )
        self._charging_update(evse, Trigger.CHARGING_STATE_CHANGED)
        tx.limit_w = self.limit_w(evse)
        self.profiles.wake()  # a Relative profile's steps count from now
        self.iso15118.transaction_started(evse)

    def _charging_update(self, evse: Evse, trigger: Trigger) -> None:
        tx = evse.transaction
        assert tx is not None
        before = tx.charging_state
        self._offer_energy(evse)
        if tx.charging_state != before:
            self._event(evse, EventType.UPDATED, Trigger.CHARGING_STATE_CHANGED)

    def _offer_energy(self, evse: Evse) -> None:
        """Whether the EVSE offers energy now, and so whether (and how much) the EV draws."""
        tx = evse.transaction
        if tx is None:
            return
        self._advance(evse, report=False)  # up to now under the offer that held until now
        limit = self.limit_w(evse)
        offered = (
            evse.authorized is not None
            and evse.plugged is not None
            and evse.operative
            and not evse.energy_withheld
            and limit > 0
        )
        state = charging_state_after(
            tx.charging_state,
            ChargingEvent.ENERGY_OFFERED if offered else ChargingEvent.ENERGY_WITHHELD,
        )
        power = 0.0
        if offered and evse.electric.soc is not None:
            power = available_power(self.config.ev, evse.electric.soc, limit)
            drawing = ChargingEvent.EV_DRAWS if power > 0 else ChargingEvent.EV_PAUSES
            state = charging_state_after(state, drawing)
        tx.charging_state = state
        evse.electric = dataclasses.replace(evse.electric, power_w=power)
        signal_limit(self, evse, limit if offered else 0.0)

    def _end_transaction(self, evse: Evse, trigger: Trigger, reason: Reason) -> None:
        tx = evse.transaction
        assert tx is not None
        evse.electric = dataclasses.replace(evse.electric, power_w=0.0)
        signal_limit(self, evse, 0.0)
        tx.charging_state = (
            ChargingState.EV_CONNECTED if evse.plugged is not None else ChargingState.IDLE
        )
        if not self.accepted.is_set():
            self._fallback("TotalCostFallbackMessage")  # I05: offline, no total cost now
        self._event(
            evse,
            EventType.ENDED,
            trigger,
            reason=reason,
            context=v201.ReadingContextEnumType.TRANSACTION_END,
        )
        self.profiles.drop_transaction(tx.id)
        self.model = with_entries(self.model, len(self.profiles.installed))
        self.profiles.wake()
        evse.transaction = None
        self.tariff_choice.pop(evse.id, None)
        evse.remote_start_id = None
        evse.energy_withheld = False
        if evse.scheduled_operative is not None:
            self.change_availability(evse, evse.scheduled_operative)
        if self.reset_scheduled and not self.transactions():
            self.spawn(self.reboot(v201.BootReasonEnumType.SCHEDULED_RESET))

    def end_transaction(self, evse: Evse, trigger: Trigger, reason: Reason) -> None:
        """End the EVSE's transaction now, whatever the stop points (remote stop, reset)."""
        self._advance(evse)
        evse.authorized = None
        evse.authorization = None
        if evse.transaction is not None:
            self._end_transaction(evse, trigger, reason)

    def transactions(self) -> list[Transaction]:
        return [evse.transaction for evse in self.evses.values() if evse.transaction]

    def _event(
        self,
        evse: Evse,
        event_type: EventType,
        trigger: Trigger,
        *,
        reason: Reason | None = None,
        context: v201.ReadingContextEnumType | None = None,
        at: datetime | None = None,
        trigger_21: v21.TriggerReasonEnumType | None = None,
    ) -> None:
        tx = evse.transaction
        assert tx is not None
        # The meter first: reading it advances the simulation, which may change the state.
        meter = (
            self._meter_value(evse, self._measurands_for(event_type), context) if context else None
        )
        include_token = tx.id_token is not None and not tx.id_token_sent
        info = v201.TransactionType(
            transaction_id=tx.id,
            charging_state=tx.charging_state,
            time_spent_charging=int(tx.charging_seconds) if tx.charging_seconds else UNSET,
            stopped_reason=reason if event_type == EventType.ENDED and reason else UNSET,
            remote_start_id=tx.remote_start_id if tx.remote_start_id is not None else UNSET,
        )
        request = v201.TransactionEventRequest(
            event_type=event_type,
            timestamp=at or self.clock.now(),
            trigger_reason=trigger,
            seq_no=tx.next_seq_no(),
            offline=self.accepted.is_set() is False or UNSET,
            transaction_info=info,
            id_token=tx.id_token if include_token and tx.id_token else UNSET,
            reservation_id=evse.used_reservation
            if include_token and evse.used_reservation is not None
            else UNSET,
            evse=v201.EVSEType(id=evse.id, connector_id=evse.plugged or 1)
            if event_type == EventType.STARTED
            else UNSET,
            meter_value=[meter] if meter is not None else UNSET,
        )
        if include_token:
            tx.id_token_sent = True
            evse.used_reservation = None
        self.queue_event(request, trigger_21)

    def _measurands_for(self, event_type: EventType) -> tuple[str, ...]:
        variable = {
            EventType.STARTED: "TxStartedMeasurands",
            EventType.UPDATED: "TxUpdatedMeasurands",
            EventType.ENDED: "TxEndedMeasurands",
        }[event_type]
        return self.list_var("SampledDataCtrlr", variable)

    # -- metering ------------------------------------------------------------------------------

    def limit_w(self, evse: Evse) -> float:
        """The power the EVSE may deliver now: its rating under the smart-charging limit."""
        now = self.clock.now()
        limit = self.profiles.limit_w(self.model, evse.id, now, self.active_transactions())
        return min(evse.max_power_w, limit)

    def active_transactions(self) -> dict[int, ActiveTransaction]:
        return {
            evse.id: ActiveTransaction(evse.transaction.id, evse.transaction.started_at)
            for evse in self.evses.values()
            if evse.transaction is not None
        }

    def accept_start_profile(self, evse: Evse, profile: v201.ChargingProfileType) -> bool:
        """K05: the TxProfile of a RequestStartTransaction, kept for the transaction it starts."""
        verdict = validate_start_transaction_profile(
            profile,
            evse.id,
            installed=self.profiles.installed,
            station=self.profiles.limits(self.model),
        )
        if not isinstance(verdict, Accepted):
            self.log.append(f"start profile {profile.id} rejected: {verdict}")
            return False
        evse.start_profile = profile
        return True

    def limit_changed(self) -> None:
        """Re-apply the limits after they changed (K01, K08): a change above
        LimitChangeSignificance is told to the CSMS with trigger ChargingRateChanged."""
        significance = self.model.decimal_value("SmartChargingCtrlr", "LimitChangeSignificance")
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None:
                self._advance(evse)
                self._charging_update(evse, Trigger.CHARGING_RATE_CHANGED)
                if charging_rate_changed(tx, self.limit_w(evse), significance):
                    self._event(evse, EventType.UPDATED, Trigger.CHARGING_RATE_CHANGED)

    def _advance(self, evse: Evse, *, report: bool = True) -> None:
        """Bring the EVSE's simulated meter up to now.

        A change of charging state it finds is reported with an Updated event unless
        ``report`` is False: the caller is building an event that carries the new state.
        """
        now = self.clock.now()
        last = evse.electric_at
        evse.electric_at = now
        if last is None or now <= last:
            return
        seconds = (now - last).total_seconds()
        tx = evse.transaction
        offered = (
            tx is not None
            and evse.authorized is not None
            and evse.plugged is not None
            and evse.operative
            # Energy is offered in these two states only (machines.CHARGING).
            and tx.charging_state in (ChargingState.CHARGING, ChargingState.SUSPENDED_EV)
        )
        before = evse.electric.power_w
        evse.electric = advance(
            evse.electric, self.config.ev, self.limit_w(evse) if offered else 0.0, seconds
        )
        if tx is not None:
            if before > 0:
                tx.charging_seconds += seconds
            drawing = evse.electric.power_w > 0
            event = ChargingEvent.EV_DRAWS if drawing else ChargingEvent.EV_PAUSES
            if offered:
                state = charging_state_after(tx.charging_state, event)
                if state != tx.charging_state:
                    tx.charging_state = state
                    if report:
                        self._event(evse, EventType.UPDATED, Trigger.CHARGING_STATE_CHANGED)

    def _meter_value(
        self,
        evse: Evse,
        measurands: Iterable[str],
        context: v201.ReadingContextEnumType,
    ) -> v201.MeterValueType | None:
        self._advance(evse, report=False)
        electric = evse.electric
        voltage = self.config.voltage
        values: list[v201.SampledValueType] = []
        for measurand in measurands:
            unit = None
            if measurand == ENERGY:
                value, unit = electric.register_wh, "Wh"
            elif measurand == v201.MeasurandEnumType.POWER_ACTIVE_IMPORT:
                value, unit = electric.power_w, "W"
            elif measurand == v201.MeasurandEnumType.CURRENT_IMPORT:
                value, unit = electric.power_w / (voltage * evse.phases), "A"
            elif measurand == v201.MeasurandEnumType.VOLTAGE:
                value, unit = voltage, "V"
            elif measurand == v201.MeasurandEnumType.SOC and electric.soc is not None:
                value, unit = electric.soc, "Percent"
            else:
                continue  # not metered by the simulated hardware
            values.append(
                v201.SampledValueType(
                    value=round(value, 1),
                    context=context,
                    measurand=v201.MeasurandEnumType(measurand),
                    unit_of_measure=v201.UnitOfMeasureType(unit=unit),
                )
            )
        if not values:
            return None
        return v201.MeterValueType(sampled_value=values, timestamp=self.clock.now())

    async def _sample_meters(self) -> None:
        """E02/J02: TransactionEvent Updated every TxUpdatedInterval while a transaction runs."""
        while True:
            interval = self.int_var("SampledDataCtrlr", "TxUpdatedInterval")
            if interval <= 0:
                await self.clock.sleep(60.0)
                continue
            await self.clock.sleep(float(interval))
            for evse in self.evses.values():
                if evse.transaction is not None:
                    self.meter_event(evse, Trigger.METER_VALUE_PERIODIC)

    def meter_event(self, evse: Evse, trigger: Trigger) -> None:
        meter = self._meter_value(
            evse,
            self.list_var("SampledDataCtrlr", "TxUpdatedMeasurands"),
            v201.ReadingContextEnumType.SAMPLE_PERIODIC
            if trigger == Trigger.METER_VALUE_PERIODIC
            else v201.ReadingContextEnumType.TRIGGER,
        )
        if evse.transaction is None or meter is None:
            return
        tx = evse.transaction
        self.queue_event(
            v201.TransactionEventRequest(
                event_type=EventType.UPDATED,
                timestamp=self.clock.now(),
                trigger_reason=trigger,
                seq_no=tx.next_seq_no(),
                offline=not self.accepted.is_set() or UNSET,
                transaction_info=v201.TransactionType(
                    transaction_id=tx.id, charging_state=tx.charging_state
                ),
                meter_value=[meter],
            )
        )

    async def _aligned_meters(self) -> None:
        """J01: clock-aligned readings every AlignedDataCtrlr.Interval, counted from midnight."""
        while True:
            interval = self.int_var("AlignedDataCtrlr", "Interval")
            if interval <= 0:
                await self.clock.sleep(60.0)
                continue
            now = self.clock.now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            elapsed = (now - midnight).total_seconds()
            await self.clock.sleep(math.floor(elapsed / interval + 1) * interval - elapsed)
            await self.send_meter_values(v201.ReadingContextEnumType.SAMPLE_CLOCK)

    async def send_meter_values(
        self, context: v201.ReadingContextEnumType, evse_ids: Iterable[int] | None = None
    ) -> None:
        measurands = self.list_var("AlignedDataCtrlr", "Measurands")
        for evse_id in evse_ids if evse_ids is not None else self.evses:
            evse = self.evses[evse_id]
            if (
                evse.transaction is None
                and context == v201.ReadingContextEnumType.SAMPLE_CLOCK
                and not self.bool_var("AlignedDataCtrlr", "SendDuringIdle")
            ):
                continue
            meter = self._meter_value(evse, measurands, context)
            if meter is not None:
                await self.send(v201.MeterValuesRequest(evse_id=evse.id, meter_value=[meter]))

    # -- availability and reset ----------------------------------------------------------------

    def change_availability(
        self, evse: Evse, operative: bool, connector_id: int | None = None
    ) -> None:
        self._advance(evse)
        if connector_id is None:
            evse.operative = operative
            evse.scheduled_operative = None
        else:
            evse.connectors[connector_id].operative = operative
        self._save_availability()
        self._charging_update_if_any(evse)
        self.statuses_changed(evse)

    def _charging_update_if_any(self, evse: Evse) -> None:
        if evse.transaction is not None:
            self._charging_update(evse, Trigger.CHARGING_STATE_CHANGED)

    async def reboot(self, reason: v201.BootReasonEnumType) -> None:
        """A reset: end every transaction, drop the connection, boot again (B11/B12)."""
        for evse in self.evses.values():
            if evse.transaction is not None:
                self.end_transaction(evse, Trigger.RESET_COMMAND, Reason.IMMEDIATE_RESET)
        self.reset_scheduled = False
        self.registration = None
        self.boot_reason = reason
        if self.connection is not None:
            # Let the queue hand the Ended events over first, as a station flushes before it
            # restarts; what is not answered stays queued for after the boot.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(
                    self.int_var("OCPPCommCtrlr", "MessageTimeout", "Default")
                ):
                    while len(self.queue):
                        await asyncio.sleep(0.01)
            await self.connection.close()

    # -- persistence ---------------------------------------------------------------------------

    def _save(self, name: str, data: bytes) -> None:
        if self._dir is None:
            return
        path = self._dir / name
        scratch = path.with_suffix(".tmp")
        scratch.write_bytes(data)
        scratch.replace(path)

    def _read(self, name: str) -> bytes | None:
        if self._dir is None:
            return None
        path: Path = self._dir / name
        return path.read_bytes() if path.exists() else None

    def _load_model(self) -> DeviceModel:
        model = _standard_model(self.config.shape)
        stored = self._read("model.json")
        return from_json(stored, model) if stored is not None else model

    def save_authorization(self) -> None:
        self._save("cache.json", self.cache.to_json())
        self._save("local_list.json", self.local_list.to_json())

    def save_tariffs(self) -> None:
        self._save("tariffs.json", self.tariffs.to_json())

    def _load_authorization(self) -> None:
        cache = self._read("cache.json")
        if cache is not None:
            self.cache.load_json(cache)
        local = self._read("local_list.json")
        if local is not None:
            self.local_list = LocalList.from_json(local)

    def _save_availability(self) -> None:
        state = {
            str(evse.id): [
                evse.operative,
                {str(c.id): c.operative for c in evse.connectors.values()},
            ]
            for evse in self.evses.values()
        }
        self._save("availability.json", msgspec.json.encode(state))

    def _load_availability(self) -> None:
        stored = self._read("availability.json")
        if stored is None:
            return
        state = msgspec.json.decode(stored, type=dict[str, tuple[bool, dict[str, bool]]])
        for evse_id, (operative, connectors) in state.items():
            evse = self.evses.get(int(evse_id))
            if evse is None:
                continue
            evse.operative = operative
            for connector_id, connector_operative in connectors.items():
                if int(connector_id) in evse.connectors:
                    evse.connectors[int(connector_id)].operative = connector_operative
