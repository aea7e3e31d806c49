"""The CSMS: the composition root that builds the collaborators and serves stations.

The one place that wires things together. Handlers, the API and tests get what they need from a
Csms instance; nothing lives in module globals.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from cryptography.x509.oid import NameOID

from kilowatt.clock import Clock
from kilowatt.csms.auth import PasswordChecker, hash_password
from kilowatt.csms.balancing import LoadBalancer
from kilowatt.csms.commands import InProcessCommandBus, StationNotConnected
from kilowatt.csms.config import Settings
from kilowatt.csms.context import Context, Services
from kilowatt.csms.handlers import ocpp_router
from kilowatt.csms.pki import CertificateAuthority
from kilowatt.csms.pricing import Pricing, send_default_tariffs, send_running_cost
from kilowatt.csms.registry import StationRegistry
from kilowatt.csms.session import StationSession
from kilowatt.csms.sites import SitePlan, parse_site
from kilowatt.csms.store import FrameLogEntry, SiteRecord, StationRecord, Store
from kilowatt.messages import VERSIONS, PayloadCodec, v21
from kilowatt.messages.bridge import BridgeCodec
from kilowatt.rpc import Endpoint, FrameRecord
from kilowatt.transport.channel import TextChannel
from kilowatt.transport.connection import Connection
from kilowatt.transport.server import Handshake, Refusal, StationSocket

__all__ = ["Csms"]

logger = logging.getLogger(__name__)

# OCPP 2.1 is served by the 2.0.1 handlers through the bridge (messages/bridge.py), plus the
# 2.1 handlers of the tariff use cases; other 2.1-only actions answer NotSupported.
SUBPROTOCOLS = ("ocpp2.0.1", "ocpp2.1")
T = TypeVar("T")


class Csms:
    """A central system: admits stations, serves their CALLs, and reaches them with commands.

    Args:
        settings: the configuration.
        store: persistence, opened by the caller (and closed by it).
        clock: the time.
        certificate_authority: signs stations' CSRs; None to reject SignCertificate.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        certificate_authority: CertificateAuthority | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.registry = StationRegistry()
        self.commands = InProcessCommandBus(self.registry)
        self.passwords = PasswordChecker()
        # scrypt runs off the event loop, on one thread of its own: a reconnect storm then
        # takes one core at most, and the allocator keeps one arena for scrypt's memory
        # instead of one per worker thread (RSS per connection).
        self._password_worker = ThreadPoolExecutor(1, thread_name_prefix="kilowatt-passwords")
        self.services = Services(
            store=store,
            clock=clock,
            settings=settings,
            certificate_authority=certificate_authority,
            commands=self.commands,
        )
        self._router = ocpp_router()
        # The actions a 2.1 station's requests keep their 2.1 type for: those with a 2.1 handler.
        self._native_21 = frozenset(
            request.ACTION for request in self._router.routed if request.__module__ == v21.__name__
        )
        self.balancer = LoadBalancer(self.services, self.registry)
        self.services.load_balancer = self.balancer
        self.services.charging_allowance = self.balancer.allowance
        self._balancing: asyncio.Task[None] | None = None
        self._costs: asyncio.Task[None] | None = None
        # The OCPP version of each station's last connection in this process: a 2.1 station
        # that prices locally must hear of a tariff change (I12) even while it is away.
        self._last_version: dict[str, str] = {}
        self.pricing = Pricing(store, self.balancer.site_of)
        self.services.pricing = self.pricing

    # -- admission (before the WebSocket upgrade) --------------------------------------------

    async def admit(self, handshake: Handshake) -> Refusal | None:
        """Security profiles 1-3 (A00): who may connect as this station, and how.

        Unknown stations get 404 unless auto-registration is on; wrong or missing credentials,
        or a transport below the station's profile, get 401.
        """
        station_id = handshake.station_id
        station = await self.store.get_station(station_id)
        credentials = handshake.basic_auth
        if station is None:
            if not self.settings.auto_register:
                return Refusal(404, f"unknown station {station_id}")
            if credentials is None or credentials.user != station_id:
                return Refusal(401, "credentials needed to register")
            password_hash = await self._off_loop(hash_password, credentials.password)
            station = StationRecord(
                station_id=station_id,
                security_profile=2 if handshake.tls else 1,
                password_hash=password_hash,
                heartbeat_interval=self.settings.heartbeat_interval,
                created_at=self.clock.now(),
            )
            await self.store.put_station(station)
            logger.info("registered station %s on first connection", station_id)
            return None
        profile = station.security_profile
        if profile >= 2 and not handshake.tls:
            return Refusal(401, f"security profile {profile} needs TLS")
        if profile == 3:
            return self._check_certificate(handshake)
        return await self._check_password(station, handshake)

    def _check_certificate(self, handshake: Handshake) -> Refusal | None:
        certificate = handshake.client_certificate
        if certificate is None:
            return Refusal(401, "security profile 3 needs a client certificate")
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != handshake.station_id:
            return Refusal(401, "the client certificate is not this station's")
        return None

    async def _check_password(self, station: StationRecord, handshake: Handshake) -> Refusal | None:
        credentials = handshake.basic_auth
        # A00: the user name is the station's identity.
        if credentials is None or credentials.user != station.station_id:
            return Refusal(401, "Basic authentication with the station id is needed")
        if station.password_hash is None:
            return Refusal(401, "no password is set for this station")
        checker = self.passwords
        verdict = checker.check_remembered(
            station.station_id, credentials.password, station.password_hash
        )
        if verdict is None:
            verdict = await self._off_loop(
                checker.check, station.station_id, credentials.password, station.password_hash
            )
        return None if verdict else Refusal(401, "wrong password")

    async def _off_loop(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._password_worker, function, *args)

    async def start(self) -> None:
        """Load the managed sites and start the load balancer."""
        await self.pricing.load()
        for record in await self.store.sites():
            self.balancer.put_site(parse_site(json.loads(record.document)))
        self._balancing = asyncio.create_task(self.balancer.run(), name="load balancer")
        interval = self.settings.cost_updated_interval
        if interval > 0:
            self._costs = asyncio.create_task(self._running_costs(interval), name="running costs")

    def close(self) -> None:
        """Stop the load balancer, release the password worker thread (the store is the
        caller's to close)."""
        for task in (self._balancing, self._costs):
            if task is not None:
                task.cancel()
        self._password_worker.shutdown(wait=False, cancel_futures=True)

    # -- tariffs (block I) -----------------------------------------------------------------------

    async def send_tariffs(self, station_id: str) -> bool:
        """I07/I11: give a connected 2.1 station the CSMS's default tariffs for it (after a
        tariff changed); False when it is not connected over 2.1 or refused one.

        Raises:
            OcppError: the station could not be asked.
        """
        session = self.registry.get(station_id)
        if session is None or session.subprotocol != "ocpp2.1":
            return False
        return await send_default_tariffs(self.commands, self.pricing, station_id)

    async def change_transaction_tariff(
        self, station_id: str, transaction_id: str, tariff_id: str
    ) -> str:
        """I12: price a running transaction with another tariff from now on.

        A 2.1 station that prices locally is sent ChangeTransactionTariff and the change holds
        once it accepts; for a 2.0.1 station the CSMS, which prices alone, applies it now.
        Returns the outcome: Accepted, or the station's TariffChangeStatus (TxNotFound,
        NoCurrencyChange...).

        Raises:
            LookupError: no such running transaction, or no such tariff.
            ValueError: the transaction has no tariff, or the new one is in another currency.
            StationNotConnected, OcppError: the station could not be asked.
        """
        record = await self.store.get_transaction(station_id, transaction_id)
        if record is None or record.started_at is None or record.ended_at is not None:
            raise LookupError(f"no running transaction {transaction_id} at {station_id}")
        choice = next((c for c in self.pricing.tariffs if c.record.tariff_id == tariff_id), None)
        if choice is None:
            raise LookupError(f"no tariff {tariff_id}")
        current = await self.pricing.of_transaction(record)
        if current is None:
            raise ValueError(f"transaction {transaction_id} has no tariff to change")
        if choice.tariff.currency.upper() != current.first.currency.upper():
            raise ValueError(f"the transaction is priced in {current.first.currency}")
        session = self.registry.get(station_id)
        if session is None and self._last_version.get(station_id) == "ocpp2.1":
            # Its cost is its own: changed behind its back, the two ends would disagree.
            raise StationNotConnected(f"station {station_id} is not connected")
        if session is not None and session.subprotocol == "ocpp2.1":
            answer = await self.commands.call(
                station_id,
                v21.ChangeTransactionTariffRequest(
                    tariff=choice.tariff, transaction_id=transaction_id
                ),
            )
            if answer.status != v21.TariffChangeStatusEnumType.ACCEPTED:
                return str(answer.status)
        now = self.clock.now()
        await self.pricing.change(record, choice.tariff, now)
        if session is not None and session.subprotocol != "ocpp2.1":
            # I02: a 2.0.1 driver sees the new price at once, not at the next reading.
            self._spawn(send_running_cost(self.commands, self.pricing, record, now))
        return "Accepted"

    async def _running_costs(self, interval: float) -> None:
        """I02 at a configured interval: every ``interval`` seconds, each running transaction
        of each connected 2.0.1 station gets its cost in a CostUpdated."""
        while True:
            await self.clock.sleep(interval)
            if not self.pricing.any:
                continue
            for session in list(self.registry):
                if session.subprotocol == "ocpp2.1":
                    continue  # it prices locally
                for transaction_id in list(session.transactions):
                    record = await self.store.get_transaction(session.station_id, transaction_id)
                    if record is not None and record.started_at and record.ended_at is None:
                        self._spawn(
                            send_running_cost(self.commands, self.pricing, record, self.clock.now())
                        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, its failure logged (a station's answer never
        fails the caller)."""

        async def run() -> None:
            try:
                await work
            except Exception:
                logger.exception("background work failed")

        task = asyncio.create_task(run())
        self.services.background.add(task)
        task.add_done_callback(self.services.background.discard)

    # -- sites (load balancing) ----------------------------------------------------------------

    async def put_site(self, document: Any) -> SitePlan:
        """Create or replace a managed site from its document (``csms/sites.py``).

        Raises:
            SiteDocumentError: the document is not a valid site.
            ValueError: a station of it belongs to another site.
        """
        plan = parse_site(document)
        self.balancer.put_site(plan)
        await self.store.put_site(SiteRecord(plan.site.id, json.dumps(document), self.clock.now()))
        return plan

    async def delete_site(self, site_id: str) -> bool:
        removed = self.balancer.remove_site(site_id)
        return await self.store.delete_site(site_id) or removed

    # -- connections -------------------------------------------------------------------------

    async def serve(self, socket: StationSocket) -> None:
        """Serve one admitted station connection until it closes."""
        await self.serve_channel(
            socket.station_id,
            socket,
            subprotocol=socket.subprotocol,
            remote=f"{socket.remote_address[0]}:{socket.remote_address[1]}",
        )

    async def serve_channel(
        self, station_id: str, channel: TextChannel, *, subprotocol: str, remote: str
    ) -> None:
        """Serve a station over any text channel (a WebSocket, or a memory pair in tests).

        A new connection of a station replaces its old one, whose socket is closed.
        """
        station = await self.store.get_station(station_id)
        if station is None:
            raise LookupError(f"station {station_id} is not registered")
        version = VERSIONS[subprotocol.removeprefix("ocpp")]
        codec: PayloadCodec | BridgeCodec = PayloadCodec(version, "csms")
        if version.name == "2.1":
            codec = BridgeCodec(version, VERSIONS["2.0.1"], "csms", self._native_21)
        session = StationSession(
            station,
            connection_id=uuid.uuid4().hex,
            connected_at=self.clock.now(),
            subprotocol=subprotocol,
            remote=remote,
        )
        endpoint = Endpoint(
            codec,
            version.dialect,
            call_timeout=self.settings.call_timeout,
            max_frame_size=self.settings.max_frame_size,
            trace=self._frame_logger(session),
        )
        context = Context(session, self.services)
        self._last_version[station_id] = subprotocol

        async def on_call(request: object) -> Any:
            session.check_allowed(request)
            handler = self._router.handler_for(request)
            return await handler(request, context)

        connection = Connection(channel, endpoint, self.clock, on_call)
        session.connection = connection
        replaced = self.registry.attach(session)
        if replaced is not None and replaced.connection is not None:
            logger.info("station %s reconnected: closing its old connection", station_id)
            await replaced.connection.close()
        try:
            await connection.run()
        finally:
            # A session replaced by a newer connection leaves the station record to that one.
            if self.registry.detach(session) and session.last_heartbeat_at is not None:
                await self.store.put_station(
                    replace(session.station, last_heartbeat_at=session.last_heartbeat_at)
                )

    async def update_station(self, station_id: str, **changes: Any) -> StationRecord:
        """Change a station's record, in the store and in its live session if connected.

        Raises:
            LookupError: no such station.
        """
        session = self.registry.get(station_id)
        base = session.station if session is not None else await self.store.get_station(station_id)
        if base is None:
            raise LookupError(f"unknown station {station_id}")
        record = replace(base, **changes)
        if session is not None:
            session.station = record
        await self.store.put_station(record)
        if "password_hash" in changes:
            self.passwords.forget(station_id)
        return record

    async def delete_station(self, station_id: str) -> bool:
        """Forget a station and close its connection if it is connected.

        Returns False when there was no such station.
        """
        session = self.registry.get(station_id)
        # Detached first, the session's serve loop finds itself replaced when it ends and
        # leaves the station's record alone, instead of writing it back after the delete.
        if session is not None and self.registry.detach(session) and session.connection:
            await session.connection.close()
        deleted = await self.store.delete_station(station_id)
        self.passwords.forget(station_id)
        return deleted or session is not None

    def _frame_logger(self, session: StationSession) -> Callable[[FrameRecord], None]:
        log = self.store.log_frame
        now = self.clock.now
        station_id = session.station_id
        connection_id = session.connection_id

        def trace(frame: FrameRecord) -> None:
            log(
                FrameLogEntry(
                    station_id=station_id,
                    at_ms=int(now().timestamp() * 1000),
                    direction=frame.direction,
                    message_type=frame.message_type,
                    message_id=frame.message_id,
                    action=frame.action,
                    text=frame.text,
                    connection_id=connection_id,
                )
            )

        return trace
