"""The CSMS over real sockets on 127.0.0.1: security profiles 1-3, boot, reconnects, dead peers."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.config import Settings
from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store
from kilowatt.messages import VERSIONS, PayloadCodec, Request, v201
from kilowatt.rpc import Endpoint
from kilowatt.rpc.errors import CallFailed, ConnectionLost
from kilowatt.transport import Connection
from kilowatt.transport.client import ConnectError, ConnectRefused, connect
from kilowatt.transport.security import DevPki, generate_dev_pki, server_context, station_context
from kilowatt.transport.server import Listener, StationServer

PASSWORD = "correct-horse-battery"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@dataclasses.dataclass
class Stack:
    csms: Csms
    store: SqlStore
    server: StationServer
    pki: DevPki

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.server.port('ws')}/ocpp"

    @property
    def wss(self) -> str:
        return f"wss://127.0.0.1:{self.server.port('wss')}/ocpp"

    async def add(self, station_id: str, profile: int = 1, **fields: Any) -> None:
        await self.store.put_station(
            StationRecord(
                station_id,
                security_profile=profile,
                password_hash=hash_password(PASSWORD) if profile < 3 else None,
                **fields,
            )
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return generate_dev_pki(tmp_path_factory.mktemp("pki"), ["CP-3", "CP-X"])


@pytest.fixture
async def stack(tmp_path: Path, pki: DevPki) -> AsyncIterator[Stack]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    settings = Settings(
        data_dir=str(tmp_path), ping_interval=0.3, ping_timeout=0.3, close_timeout=0.3
    )
    csms = Csms(settings, store, SystemClock())
    tls = server_context([pki.server_rsa, pki.server_ecdsa], client_ca=pki.ca)
    server = StationServer(
        [Listener("ws", "127.0.0.1"), Listener("wss", "127.0.0.1", ssl=tls)],
        SUBPROTOCOLS,
        csms.admit,
        csms.serve,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        close_timeout=settings.close_timeout,
    )
    async with server:
        yield Stack(csms, store, server, pki)
    csms.close()
    await store.close()


class Station:
    """A station over a real socket, answering the CSMS's calls with ``answers``."""

    def __init__(self, socket: Any, answers: dict[type, Any] | None = None) -> None:
        version = VERSIONS["2.0.1"]
        self.answers = answers or {}
        endpoint = Endpoint(PayloadCodec(version, "station"), version.dialect)
        self.connection = Connection(socket, endpoint, SystemClock(), self._answer)
        self.task = asyncio.create_task(self.connection.run())

    async def _answer(self, request: object) -> object:
        return self.answers[type(request)]

    async def call(self, request: Request[Any]) -> Any:
        return await asyncio.wait_for(self.connection.call(request), 10)

    async def boot(self) -> v201.BootNotificationResponse:
        return await self.call(
            v201.BootNotificationRequest(
                charging_station=v201.ChargingStationType(model="M", vendor_name="V"),
                reason=v201.BootReasonEnumType.POWER_UP,
            )
        )

    async def close(self) -> None:
        await self.connection.close()
        await self.task


async def station(stack: Stack, station_id: str, **kwargs: Any) -> Station:
    url = kwargs.pop("url", stack.ws)
    kwargs.setdefault("password", PASSWORD)
    return Station(await connect(url, station_id, **kwargs))


async def test_profile_1_boot_accepted(stack: Stack) -> None:
    await stack.add("CP-1")
    cp = await station(stack, "CP-1")
    assert (await cp.boot()).status is v201.RegistrationStatusEnumType.ACCEPTED
    assert stack.csms.registry.get("CP-1") is not None
    await cp.close()


async def test_unknown_station_is_refused_with_404(stack: Stack) -> None:
    with pytest.raises(ConnectRefused) as caught:
        await connect(stack.ws, "NOBODY", password=PASSWORD)
    assert caught.value.status == 404


@pytest.mark.parametrize("password", ["wrong-password-here", None])
async def test_wrong_or_missing_password_is_refused_with_401(
    stack: Stack, password: str | None
) -> None:
    await stack.add("CP-1")
    with pytest.raises(ConnectRefused) as caught:
        await connect(stack.ws, "CP-1", password=password)
    assert caught.value.status == 401


async def test_subprotocol_negotiation(stack: Stack) -> None:
    """TC_B_58_CSMS: ocpp0.1 alone is refused; ocpp0.1,ocpp2.0.1 gets ocpp2.0.1."""
    await stack.add("CP-1")
    with pytest.raises(ConnectRefused) as caught:
        await connect(stack.ws, "CP-1", password=PASSWORD, subprotocols=("ocpp0.1",))
    assert caught.value.status == 400
    socket = await connect(
        stack.ws, "CP-1", password=PASSWORD, subprotocols=("ocpp0.1", "ocpp2.0.1")
    )
    assert socket.subprotocol == "ocpp2.0.1"
    await socket.close()


async def test_profile_2_over_tls_with_rsa_and_ecdsa(stack: Stack) -> None:
    await stack.add("CP-2", profile=2)
    with pytest.raises(ConnectRefused) as caught:  # profile 2 needs TLS
        await connect(stack.ws, "CP-2", password=PASSWORD)
    assert caught.value.status == 401
    for ciphers in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"):
        context = station_context(stack.pki.ca)
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # so that the cipher choice binds
        context.set_ciphers(ciphers)
        cp = await station(stack, "CP-2", url=stack.wss, ssl=context)
        assert (await cp.boot()).status is v201.RegistrationStatusEnumType.ACCEPTED
        await cp.close()


async def test_profile_3_client_certificate(stack: Stack) -> None:
    await stack.add("CP-3", profile=3)
    own = station_context(stack.pki.ca, client_certificate=stack.pki.stations["CP-3"])
    cp = await station(stack, "CP-3", url=stack.wss, ssl=own, password=None)
    assert (await cp.boot()).status is v201.RegistrationStatusEnumType.ACCEPTED
    await cp.close()
    # Another station's certificate, and none at all, are refused.
    other = station_context(stack.pki.ca, client_certificate=stack.pki.stations["CP-X"])
    for context in (other, station_context(stack.pki.ca)):
        with pytest.raises(ConnectRefused) as caught:
            await connect(stack.wss, "CP-3", ssl=context)
        assert caught.value.status == 401


async def test_certificate_from_another_ca_is_refused(stack: Stack, tmp_path: Path) -> None:
    await stack.add("CP-3", profile=3)
    foreign = generate_dev_pki(tmp_path / "foreign", ["CP-3"])
    context = station_context(stack.pki.ca, client_certificate=foreign.stations["CP-3"])
    # Refused in the TLS handshake: the certificate does not chain to the client CA.
    with pytest.raises(ConnectError):
        await connect(stack.wss, "CP-3", ssl=context)


async def test_boot_pending_then_rejected_gate(stack: Stack) -> None:
    await stack.add("CP-P", registration_status="Pending")
    cp = await station(stack, "CP-P")
    assert (await cp.boot()).status is v201.RegistrationStatusEnumType.PENDING
    with pytest.raises(CallFailed) as caught:
        await cp.call(v201.HeartbeatRequest())
    assert caught.value.code == "SecurityError"
    await stack.csms.update_station("CP-P", registration_status="Rejected")
    assert (await cp.boot()).status is v201.RegistrationStatusEnumType.REJECTED
    await cp.close()


async def test_reconnect_replaces_the_old_socket_and_needs_no_boot(stack: Stack) -> None:
    await stack.add("CP-1")
    first = await station(stack, "CP-1")
    await first.boot()
    second = await station(stack, "CP-1")
    await asyncio.wait_for(first.task, 5)  # the CSMS closed the old connection
    with pytest.raises(ConnectionLost):
        await first.call(v201.HeartbeatRequest())
    answer = await second.call(v201.HeartbeatRequest())  # no SecurityError: Accepted before
    assert answer.current_time.tzinfo is not None
    session = stack.csms.registry.get("CP-1")
    assert session is not None and session.connection is not None
    await second.close()


async def test_dead_peer_is_dropped_within_a_ping_interval(stack: Stack) -> None:
    await stack.add("CP-1")
    socket = await connect(stack.ws, "CP-1", password=PASSWORD, ping_interval=None)
    cp = Station(socket)
    await cp.boot()
    # Stop reading: pings go unanswered, as with a station that lost power.
    transport = socket._websocket.transport
    transport.pause_reading()
    loop = asyncio.get_running_loop()
    started = loop.time()
    while stack.csms.registry.get("CP-1") is not None:
        await asyncio.sleep(0.05)
        assert loop.time() - started < 5
    # Within ping interval + ping timeout + close timeout (3 x 0.3 s), with slack.
    assert loop.time() - started < 2.0
    transport.resume_reading()
    await cp.close()


async def test_full_transaction_over_the_socket(stack: Stack) -> None:
    await stack.add("CP-1")
    cp = await station(stack, "CP-1")
    await cp.boot()
    for seq, (kind, wh) in enumerate([("Started", 500.0), ("Updated", 2500.0), ("Ended", 7500.0)]):
        await cp.call(
            v201.TransactionEventRequest(
                event_type=v201.TransactionEventEnumType(kind),
                timestamp=NOW,
                trigger_reason=v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
                seq_no=seq,
                transaction_info=v201.TransactionType(transaction_id="T-1"),
                meter_value=[
                    v201.MeterValueType(
                        timestamp=NOW, sampled_value=[v201.SampledValueType(value=wh)]
                    )
                ],
            )
        )
    tx = await stack.store.get_transaction("CP-1", "T-1")
    assert tx is not None and tx.energy_wh == 7000.0
    await cp.close()
