"""What a running case works with: where the implementation under test is, its connections to
it, the driver, and the checks."""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kilowatt.harness.case import Case, CheckFailed, NotConfigured, Role
from kilowatt.harness.drivers import Driver
from kilowatt.harness.peer import Answer, Frame, Peer, Violation
from kilowatt.messages import v201
from kilowatt.transport.client import ConnectRefused, connect
from kilowatt.transport.security import (
    CertificateFiles,
    certificate_common_name,
    server_context,
    station_context,
)
from kilowatt.transport.server import Handshake, Listener, Refusal, StationServer, StationSocket

__all__ = ["Context", "StationLink", "Target"]

_DEFAULT = object()  # "the target's password", as opposed to None: no password


@dataclass(frozen=True)
class Target:
    """The implementation under test and who the harness is to it.

    Attributes:
        role: "csms" (the harness plays stations) or "station" (the harness plays the CSMS).
        url: the CSMS's OCPP-J endpoint, e.g. ws://127.0.0.1:9000/ocpp (role csms).
        station_id: the identity the harness connects as (role csms); the one it expects
            (role station).
        password: the Basic-auth password of that identity (security profile 1).
        host, port: where the harness listens for the station (role station; 0: any port).
        timeout: seconds the implementation has for each step (an answer, an expected CALL).
        subprotocol: the OCPP version spoken.
        security_profile: the profile the target is set up for (1: Basic auth over ws, 2: TLS
            and Basic auth, 3: TLS with client certificates); the run's cases are of it.
        plain_url: the same CSMS's plain ws endpoint, if it has one (role csms, profile 2: a
            station of profile 2 must be refused there).
        ca: the CA bundle the CSMS's certificate must chain to (role csms, a wss URL).
        client_cert, client_key: the harness station's certificate (its CN the station id)
            and key, issued by a CA the CSMS trusts (role csms, profile 3).
        server_cert, server_key: the certificate and key of the harness's wss listener (role
            station, profiles 2 and 3); without them it listens on plain ws.
        client_ca: the CA that issues station certificates, which the station's must chain to
            (role station, profile 3).
        client_ca_key: that CA's key, for the harness to sign the station's CSRs (role
            station, profile 3: certificate renewal).
    """

    role: Role
    url: str | None = None
    station_id: str = "HARNESS-1"
    password: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    timeout: float = 10.0
    subprotocol: str = "ocpp2.0.1"
    security_profile: int = 1
    plain_url: str | None = None
    ca: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    server_cert: Path | None = None
    server_key: Path | None = None
    client_ca: Path | None = None
    client_ca_key: Path | None = None


class StationLink:
    """The harness as a CSMS: a server the station under test connects to, kept over the whole
    run; each case takes the station's current connection (``Context.station``).

    With the target's ``server_cert`` it listens on wss (and asks for a client certificate
    verified against ``client_ca``, when given); at security profile 3 it admits a station by
    its certificate (CN the station id), else by Basic auth with ``password``, which a case
    may change (the station's new password, from its next connection on)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.password = target.password
        self.started = time.monotonic()
        self._connected = asyncio.Condition()
        self.peer: Peer | None = None
        self.refuse_with: Refusal | None = None  # a case may have the next upgrade refused
        self.handshakes: list[Handshake] = []
        # A case's own answers (``Peer.answer``), shared by every connection of the station,
        # so that they hold on the one it opens after a reboot too; cleared between cases.
        self.answers: dict[type[Any], Answer] = {}
        tls = None
        if target.server_cert is not None:
            if target.server_key is None:
                raise NotConfigured("the harness's server certificate needs its key")
            tls = server_context(
                [CertificateFiles(target.server_cert, target.server_key)],
                client_ca=target.client_ca,
            )
        self.scheme = "ws" if tls is None else "wss"
        self.server = StationServer(
            [Listener(self.scheme, target.host, target.port, ssl=tls)],
            (target.subprotocol,),
            self._admit,
            self._serve,
        )

    @property
    def port(self) -> int:
        return self.server.port(self.scheme)

    async def __aenter__(self) -> StationLink:
        await self.server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.peer is not None:
            await self.peer.close()
        await self.server.__aexit__(None, None, None)

    async def _admit(self, handshake: Handshake) -> Refusal | None:
        self.handshakes.append(handshake)
        if self.refuse_with is not None:
            return self.refuse_with
        if handshake.station_id != self.target.station_id:
            return Refusal(404, f"the harness expects station {self.target.station_id}")
        if self.target.security_profile >= 3:
            certificate = handshake.client_certificate
            if certificate is None:
                return Refusal(401, "security profile 3: a client certificate is needed")
            if certificate_common_name(certificate) != self.target.station_id:
                return Refusal(401, "the client certificate's CN is not the station id")
            return None
        password = self.password
        if password is not None:
            auth = handshake.basic_auth
            if auth is None or (auth.user, auth.password) != (self.target.station_id, password):
                return Refusal(401, "wrong or missing credentials")
        return None

    async def _serve(self, socket: StationSocket) -> None:
        peer = Peer(
            socket,
            socket.subprotocol,
            "csms",
            self.started,
            self.target.timeout,
            answers=self.answers,
        )
        peer.handshake = socket.handshake
        async with self._connected:
            if self.peer is not None:
                await self.peer.close()  # a new connection replaces the old one
            self.peer = peer
            self._connected.notify_all()
        await asyncio.gather(peer.wait_closed(float("inf")), return_exceptions=True)

    async def connection(self, timeout: float, *, fresh_after: Peer | None = None) -> Peer:
        """The station's open connection (another than ``fresh_after``), waiting for one."""
        async with asyncio.timeout(timeout), self._connected:
            await self._connected.wait_for(
                lambda: (
                    self.peer is not None and not self.peer.closed and self.peer is not fresh_after
                )
            )
            assert self.peer is not None
            return self.peer


@dataclass
class Context:
    """A running case's world. ``check`` fails the case; ``act`` asks the driver."""

    case: Case
    target: Target
    driver: Driver
    link: StationLink | None = None
    started: float = field(default_factory=time.monotonic)
    peers: list[Peer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _since: dict[int, tuple[int, int]] = field(default_factory=dict)  # peer -> frames, rules

    @property
    def timeout(self) -> float:
        return self.target.timeout

    def check(self, holds: bool, message: str) -> None:
        """Fail the case with ``message`` unless ``holds``."""
        if not holds:
            raise CheckFailed(message)

    def note(self, text: str) -> None:
        self.notes.append(text)

    async def act(self, action: str, /, **params: Any) -> Any:
        """Have the other side act (see drivers.py for the vocabulary)."""
        self.note(f"driver: {action} {params}")
        return await self.driver.act(action, **params)

    # -- a CSMS under test: the harness connects as a station ------------------------------------

    async def connect(
        self,
        *,
        station_id: str | None = None,
        password: Any = _DEFAULT,
        subprotocols: tuple[str, ...] | None = None,
        url: str | None = None,
        certificate: Any = _DEFAULT,
    ) -> Peer:
        """Open a station connection to the CSMS under test, at ``url`` (the target's unless
        told); over TLS for a wss URL, presenting ``certificate`` (the target's client
        certificate unless told; None: none).

        Raises:
            ConnectRefused: the CSMS answered the upgrade with an HTTP error.
            NotConfigured: a wss URL without the CA bundle (``Target.ca``).
        """
        url = url or self.target.url
        assert url is not None, "a CSMS under test needs its URL"
        tls = self.tls(certificate) if url.startswith("wss:") else None
        socket = await connect(
            url,
            station_id or self.target.station_id,
            subprotocols=subprotocols or (self.target.subprotocol,),
            password=self.target.password if password is _DEFAULT else password,
            ssl=tls,
            ping_interval=None,
            compression=False,
            open_timeout=self.timeout,
        )
        peer = Peer(socket, socket.subprotocol, "station", self.started, self.timeout)
        self._watch(peer)
        return peer

    def tls(self, certificate: Any = _DEFAULT) -> ssl.SSLContext:
        """The harness station's TLS context: the CSMS's certificate checked against the
        target's ``ca``, TLS 1.2 or higher, and ``certificate`` (CertificateFiles; the target's
        client certificate unless told; None: none) presented.

        Raises:
            NotConfigured: no ``ca``, or half a client certificate.
        """
        if self.target.ca is None:
            raise NotConfigured("a wss URL needs the CA bundle of the CSMS's certificate (--ca)")
        if certificate is _DEFAULT:
            cert, key = self.target.client_cert, self.target.client_key
            if (cert is None) != (key is None):
                raise NotConfigured("a client certificate needs its key (--client-key)")
            certificate = None if cert is None or key is None else CertificateFiles(cert, key)
        return station_context(self.target.ca, client_certificate=certificate)

    async def tls_version(self) -> str | None:
        """The TLS version the CSMS negotiates with the harness's context ("TLSv1.3"), from a
        TLS connection of its own to the URL's host and port, closed at once."""
        assert self.target.url is not None, "a CSMS under test needs its URL"
        parts = urllib.parse.urlsplit(self.target.url)
        async with asyncio.timeout(self.timeout):
            _, writer = await asyncio.open_connection(
                parts.hostname, parts.port or 443, ssl=self.tls(), server_hostname=parts.hostname
            )
        try:
            tls = writer.get_extra_info("ssl_object")
            return tls.version() if isinstance(tls, ssl.SSLObject) else None
        finally:
            writer.close()
            await asyncio.gather(writer.wait_closed(), return_exceptions=True)

    async def refused(self, **connect_args: Any) -> int | None:
        """The HTTP status the CSMS refuses this connection with; None if it upgraded (the
        connection is then closed)."""
        try:
            peer = await self.connect(**connect_args)
        except ConnectRefused as refusal:
            self.note(f"upgrade refused: HTTP {refusal.status}")
            return refusal.status
        await peer.close()
        return None

    async def boot(
        self, peer: Peer, reason: v201.BootReasonEnumType = v201.BootReasonEnumType.POWER_UP
    ) -> v201.BootNotificationResponse:
        """Send the harness station's BootNotification."""
        return await peer.call(
            v201.BootNotificationRequest(
                charging_station=v201.ChargingStationType(
                    model="HarnessModel", vendor_name="kilowatt-harness"
                ),
                reason=reason,
            )
        )

    async def booted(self, **connect_args: Any) -> Peer:
        """A connection whose boot the CSMS accepted (the prerequisite of most cases)."""
        peer = await self.connect(**connect_args)
        answer = await self.boot(peer)
        self.check(
            answer.status == v201.RegistrationStatusEnumType.ACCEPTED,
            f"prerequisite: the boot must be Accepted, it was {answer.status}",
        )
        return peer

    # -- a station under test: the harness is its CSMS ----------------------------------------

    async def station(self, *, fresh: bool = False, after: Peer | None = None) -> Peer:
        """The station's connection to the harness, waiting up to the step timeout for it: a
        new one if ``fresh`` (another than the current one), or another than ``after`` (the
        connection a case had before it made the station reconnect: the station may have
        reconnected already when the case asks)."""
        assert self.link is not None, "a station under test needs the harness's server"
        old = after if after is not None else self.link.peer if fresh else None
        peer = await self.link.connection(self.timeout, fresh_after=old)
        self._watch(peer)
        return peer

    # -- what the report shows -----------------------------------------------------------------

    def _watch(self, peer: Peer) -> None:
        if id(peer) not in self._since:
            # A connection opened during the case is the case's from its first frame.
            opened_now = peer.opened >= self.started
            self._since[id(peer)] = (
                (0, 0) if opened_now else (len(peer.frames), len(peer.violations))
            )
            self.peers.append(peer)

    def frames(self) -> list[Frame]:
        """The frames of this case, every connection, in time order."""
        found = [frame for peer in self.peers for frame in peer.frames[self._since[id(peer)][0] :]]
        return sorted(found, key=lambda frame: frame.at)

    def violations(self) -> list[Violation]:
        return [rule for peer in self.peers for rule in peer.violations[self._since[id(peer)][1] :]]

    async def close(self) -> None:
        """Close the connections this case opened (a station's link stays open)."""
        for peer in self.peers:
            if peer.role == "station":
                await peer.close()

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
