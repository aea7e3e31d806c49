"""The OCPP-J WebSocket server of the CSMS, on the asyncio implementation of ``websockets``.

It knows nothing of the CSMS: whom to let in is the ``admit`` callback's decision, what to do with a
connection the ``serve`` callback's. A handshake goes through, in order:

1. the path: ``{prefix}/{stationId}``, else 404; a bad identity, 400 (``process_request``);
2. websockets' own checks of the upgrade request, and the subprotocol: the first of the station's
   offer that the server supports, else 400 (``select_subprotocol``);
3. ``admit``, with everything known of the station so far (``process_response``).

Each connection then costs what websockets itself keeps for it: its asyncio protocol, the handler
task (which runs ``serve``), and the keep-alive task. No task of ours is added.
"""

from __future__ import annotations

import http
import logging
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import NamedTuple, Self, cast

from cryptography import x509
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import CloseCode
from websockets.headers import parse_authorization_basic, parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from kilowatt.clock import Clock, SystemClock
from kilowatt.rpc.dialect import DIALECTS
from kilowatt.transport.websocket import WebSocketChannel, peer_address

__all__ = [
    "MAX_STATION_ID_LENGTH",
    "Admit",
    "BasicAuth",
    "Handshake",
    "Listener",
    "Refusal",
    "Serve",
    "StationServer",
    "StationSocket",
]

logger = logging.getLogger(__name__)

# OCPP-J 2.0.1 3.1.1: the identity is an identifierString of at most 48 characters.
MAX_STATION_ID_LENGTH = 48

# RFC 7692 7.1.1.1, 7.1.1.2: the server may require no context takeover of both sides even if the
# offer does not ask for it; zlib objects then live only while a message is (de)compressed.
_STATELESS_DEFLATE = ServerPerMessageDeflateFactory(
    server_no_context_takeover=True,
    client_no_context_takeover=True,
    server_max_window_bits=12,
    compress_settings={"memLevel": 5},
)

# What a station is told when admit fails: the exception itself stays in our log.
_INTERNAL_ERROR_TEXT = "internal error\n"


class BasicAuth(NamedTuple):
    """HTTP Basic credentials (RFC 7617) from the Authorization header.

    Bytes that are not UTF-8 are kept as surrogate escapes: ``password.encode("utf-8",
    "surrogateescape")`` gives back the bytes sent, e.g. a binary OCPP 1.6 AuthorizationKey.
    """

    user: str
    password: str


@dataclass(frozen=True, slots=True)
class Handshake:
    """What the server knows of a station when ``admit`` decides, before the upgrade.

    Attributes:
        station_id: the identity from the URL's last path segment, percent-decoded.
        subprotocol: the OCPP version chosen, e.g. "ocpp2.0.1".
        offered_subprotocols: what the station offered, in its order of preference.
        basic_auth: the credentials of the Authorization header; None when it is absent, not
            Basic, or malformed.
        tls: whether the connection came in over TLS.
        client_certificate: the certificate the station presented in the TLS handshake, already
            verified against the listener's CA bundle; None without TLS or without one.
        remote_address: (host, port) of the station's end of the TCP connection.
        listener: the name of the Listener the connection came in on.
    """

    station_id: str
    subprotocol: str
    offered_subprotocols: tuple[str, ...]
    basic_auth: BasicAuth | None
    tls: bool
    client_certificate: x509.Certificate | None
    remote_address: tuple[str, int]
    listener: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Refuses a handshake: the station gets this HTTP status and reason, and no upgrade.

    A 401 also carries ``WWW-Authenticate: Basic realm="OCPP"`` (RFC 7235 3.1 requires one).

    Raises:
        ValueError: the status is not an HTTP error (4xx or 5xx).
    """

    status: int
    reason: str

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"a refusal needs a 4xx or 5xx status, not {self.status}")


@dataclass(frozen=True, slots=True)
class Listener:
    """One address the server listens on.

    Attributes:
        name: tells the listeners apart in ``Handshake.listener``, e.g. "ws" and "wss".
        host: the interface to bind, e.g. "0.0.0.0" or "127.0.0.1".
        port: the TCP port; 0 for an ephemeral one, read with ``StationServer.port`` once started.
        ssl: the TLS context for wss (security profiles 2 and 3); None for plain ws (profile 1).
    """

    name: str
    host: str
    port: int = 0
    ssl: ssl.SSLContext | None = None


class StationSocket(WebSocketChannel):
    """One station's open connection: a TextChannel, with what is known of the station.

    Attributes:
        handshake: what ``admit`` was given.
        connected_at: when the upgrade completed, on the server's clock (UTC).
    """

    __slots__ = ("connected_at", "handshake")

    def __init__(
        self, websocket: ServerConnection, handshake: Handshake, connected_at: datetime
    ) -> None:
        super().__init__(websocket)
        self.handshake = handshake
        self.connected_at = connected_at

    @property
    def station_id(self) -> str:
        return self.handshake.station_id

    @property
    def subprotocol(self) -> str:
        return self.handshake.subprotocol

    @property
    def remote_address(self) -> tuple[str, int]:
        return self.handshake.remote_address


Admit = Callable[[Handshake], Awaitable[Refusal | None]]
Serve = Callable[[StationSocket], Awaitable[None]]


class _StationConnection(ServerConnection):
    """A websockets server connection that carries the station's handshake to the handler."""

    station_id: str = ""  # set by _check_path
    station_handshake: Handshake | None = None  # set by _admit when it lets the station in


class _Refused(Exception):
    """The request is refused before the upgrade with this status and text."""

    def __init__(self, status: http.HTTPStatus, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class StationServer:
    """The OCPP-J WebSocket server: one or more listeners, one admission policy, one handler.

    Use ``async with StationServer(...) as server:``, or ``start()`` and ``close()``.

    Args:
        listeners: where to listen; e.g. a plain one for security profile 1 and a TLS one for
            profiles 2 and 3.
        subprotocols: the OCPP versions served, e.g. ("ocpp2.0.1", "ocpp1.6"); each must be a
            subprotocol of kilowatt.rpc.DIALECTS.
        admit: decides each handshake that passed the path and subprotocol checks; returns None
            to upgrade, or a Refusal. An exception becomes HTTP 500 and is logged. It runs
            within ``open_timeout``.
        serve: runs for the life of each admitted connection; the connection closes (code 1000)
            when it returns, or with code 1011 when it raises (the exception is logged). It must
            return soon after the socket's ``recv`` raises ChannelClosed, or ``close()`` waits.
        path_prefix: the endpoint path that station identities are appended to.
        ping_interval: seconds between keep-alive pings; None for none.
        ping_timeout: seconds to wait for each pong before the connection is dropped.
        close_timeout: seconds to wait for the closing handshake, also after a failed ping; a
            dead peer is thus dropped within ping_interval + ping_timeout + close_timeout.
        open_timeout: seconds for the TLS handshake, and again for the HTTP upgrade (``admit``
            included).
        max_message_size: the largest message received, in bytes; a larger one closes the
            connection with code 1009. Keep it above the rpc Endpoint's frame limit, so that the
            endpoint answers an oversized CALL with a CALLERROR rather than losing the socket.
        max_queue: messages received but not yet read that are buffered before the server
            stops reading the socket; with max_message_size, bounds each connection's buffers.
        compression: accept permessage-deflate (RFC 7692) when a station offers it, without
            context takeover in either direction: each message is compressed on its own, so an
            idle connection holds no zlib state (about 36 KiB less each, measured), at some cost
            in ratio on small messages.
        clock: gives ``connected_at``.

    Raises:
        ValueError: no listener, two listeners of one name, no subprotocol, or a subprotocol
            that is not an OCPP version kilowatt speaks.
    """

    def __init__(
        self,
        listeners: Sequence[Listener],
        subprotocols: Sequence[str],
        admit: Admit,
        serve: Serve,
        *,
        path_prefix: str = "/ocpp",
        ping_interval: float | None = 30.0,
        ping_timeout: float | None = 30.0,
        close_timeout: float = 10.0,
        open_timeout: float = 10.0,
        max_message_size: int = 2**20,
        max_queue: int = 4,
        compression: bool = True,
        clock: Clock | None = None,
    ) -> None:
        if not listeners:
            raise ValueError("a server needs at least one listener")
        names = [listener.name for listener in listeners]
        if len(set(names)) != len(names):
            raise ValueError(f"listener names must differ: {names}")
        if not subprotocols:
            raise ValueError("a server needs at least one subprotocol")
        unknown = [name for name in subprotocols if name not in DIALECTS]
        if unknown:
            raise ValueError(f"not OCPP versions kilowatt speaks: {unknown}")
        self._listeners = tuple(listeners)
        self._subprotocols = tuple(subprotocols)
        self._admit_station = admit
        self._serve_station = serve
        self._prefix = path_prefix.rstrip("/")
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._close_timeout = close_timeout
        self._open_timeout = open_timeout
        self._max_message_size = max_message_size
        self._max_queue = max_queue
        self._extensions = [_STATELESS_DEFLATE] if compression else None
        self._clock: Clock = clock or SystemClock()
        self._servers: dict[str, Server] = {}

    async def start(self) -> None:
        """Bind every listener and start accepting connections.

        Raises:
            OSError: a listener could not bind; those already bound are closed again.
        """
        try:
            for listener in self._listeners:
                self._servers[listener.name] = await self._listen(listener)
        except BaseException:
            await self.close()
            raise

    def port(self, listener: str) -> int:
        """The TCP port a started listener is bound to (its first socket's, if it has several).

        Raises:
            KeyError: no started listener has this name.
        """
        port: int = self._servers[listener].sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stop listening, close every connection with code 1001 (going away), and wait until
        every ``serve`` has returned. Closing again is harmless."""
        servers = list(self._servers.values())
        self._servers.clear()
        for server in servers:
            server.close()
        for server in servers:
            await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the handshake, in the order websockets calls these ------------------------------------

    async def _listen(self, listener: Listener) -> Server:
        async def check_and_admit(
            connection: ServerConnection, request: Request, response: Response
        ) -> Response | None:
            return await self._admit(
                cast(_StationConnection, connection), request, response, listener
            )

        return await serve(
            self._handle,
            listener.host,
            listener.port,
            ssl=listener.ssl,
            subprotocols=[Subprotocol(name) for name in self._subprotocols],
            select_subprotocol=self._select_subprotocol,
            process_request=self._check_path,
            process_response=check_and_admit,
            compression=None,  # enabled, if at all, by extensions
            extensions=self._extensions,
            server_header=None,  # no software versions on the wire
            open_timeout=self._open_timeout,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            close_timeout=self._close_timeout,
            max_size=self._max_message_size,
            max_queue=self._max_queue,
            create_connection=_StationConnection,
        )

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            station_id = self._station_id(request.path)
        except _Refused as refused:
            return connection.respond(refused.status, refused.text)
        cast(_StationConnection, connection).station_id = station_id
        return None

    def _station_id(self, target: str) -> str:
        """The station identity in a request target.

        Raises:
            _Refused: 404 for a path other than ``{prefix}/{segment}``, 400 for a bad identity.
        """
        path = urllib.parse.urlsplit(target).path
        head = self._prefix + "/"
        segment = path[len(head) :]
        if not path.startswith(head) or "/" in segment:
            raise _Refused(http.HTTPStatus.NOT_FOUND, "not an OCPP endpoint\n")
        # OCPP-J 2.0.1 3.1.1: the identity is appended percent-encoded.
        try:
            station_id = urllib.parse.unquote(segment, errors="strict")
        except UnicodeDecodeError:
            raise _Refused(
                http.HTTPStatus.BAD_REQUEST, "the station identity is not UTF-8\n"
            ) from None
        if not station_id:
            raise _Refused(http.HTTPStatus.BAD_REQUEST, "the station identity is missing\n")
        if len(station_id) > MAX_STATION_ID_LENGTH:
            raise _Refused(
                http.HTTPStatus.BAD_REQUEST,
                f"the station identity is over {MAX_STATION_ID_LENGTH} characters\n",
            )
        # OCPP-J 2.0.1 3.1.1 (from the OCPP 2.0 Part 4 errata): no colon, as the identity is also
        # the Basic-auth user name.
        if ":" in station_id:
            raise _Refused(http.HTTPStatus.BAD_REQUEST, 'the station identity contains ":"\n')
        return station_id

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol:
        """OCPP-J 2.0.1 3.1.2: the station lists its versions in order of preference, and the
        server answers with the first one it supports.

        Raises:
            NegotiationError: nothing fits; websockets refuses with HTTP 400 and this text, for
                OCPP-J forbids an upgrade without a subprotocol.
        """
        for name in offered:
            if name in self._subprotocols:
                return name
        raise NegotiationError(
            f"no OCPP version offered that this server supports "
            f"(offered: {', '.join(offered) or 'none'}; supported: {', '.join(self._subprotocols)})"
        )

    async def _admit(
        self,
        connection: _StationConnection,
        request: Request,
        response: Response,
        listener: Listener,
    ) -> Response | None:
        if response.status_code != http.HTTPStatus.SWITCHING_PROTOCOLS:
            return None  # refused already, by _check_path or websockets
        handshake = Handshake(
            station_id=connection.station_id,
            subprotocol=cast(str, connection.protocol.subprotocol),  # select_subprotocol's
            offered_subprotocols=_offered_subprotocols(request.headers),
            basic_auth=_basic_auth(request.headers),
            tls=listener.ssl is not None,
            client_certificate=_client_certificate(connection),
            remote_address=peer_address(connection.remote_address),
            listener=listener.name,
        )
        try:
            refusal = await self._admit_station(handshake)
        except Exception:
            logger.exception("admit failed for station %r", handshake.station_id)
            return connection.respond(http.HTTPStatus.INTERNAL_SERVER_ERROR, _INTERNAL_ERROR_TEXT)
        if refusal is not None:
            refused = connection.respond(refusal.status, refusal.reason + "\n")
            if refusal.status == http.HTTPStatus.UNAUTHORIZED:
                refused.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
            return refused
        connection.station_handshake = handshake
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        """Run ``serve`` for one upgraded connection; websockets closes it when this returns."""
        handshake = cast(_StationConnection, connection).station_handshake
        assert handshake is not None  # the upgrade happens only after _admit set it
        station = StationSocket(connection, handshake, self._clock.now())
        try:
            await self._serve_station(station)
        except Exception:
            logger.exception("serve failed for station %r", handshake.station_id)
            await connection.close(CloseCode.INTERNAL_ERROR, "internal error")


def _offered_subprotocols(headers: Headers) -> tuple[str, ...]:
    # The header already passed websockets' parser during the subprotocol negotiation.
    return tuple(
        name
        for value in headers.get_all("Sec-WebSocket-Protocol")
        for name in parse_subprotocol(value)
    )


def _basic_auth(headers: Headers) -> BasicAuth | None:
    value = headers.get("Authorization")
    if value is None:
        return None
    try:
        user, password = parse_authorization_basic(value)
    except InvalidHeader:
        return None
    return BasicAuth(user, password)


def _client_certificate(connection: ServerConnection) -> x509.Certificate | None:
    ssl_object = cast(ssl.SSLObject | None, connection.transport.get_extra_info("ssl_object"))
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return None if der is None else x509.load_der_x509_certificate(der)
