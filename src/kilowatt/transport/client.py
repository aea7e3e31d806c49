"""The station side of OCPP-J: connect to a CSMS, and stay connected with back-off.

``connect`` opens one WebSocket; ``Reconnector`` keeps a station connected, waiting between
attempts as OCPP's OCPPCommCtrlr.RetryBackOff* variables say; ``backoff_delay`` is that schedule.
"""

from __future__ import annotations

import logging
import random
import ssl as ssl_module
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from websockets.asyncio.client import ClientConnection, connect as websocket_connect
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.headers import build_authorization_basic
from websockets.typing import Subprotocol

from kilowatt.clock import Clock
from kilowatt.transport.websocket import WebSocketChannel

__all__ = [
    "BackOff",
    "ConnectError",
    "ConnectRefused",
    "Reconnector",
    "StationClientSocket",
    "backoff_delay",
    "connect",
]

logger = logging.getLogger(__name__)


class ConnectError(Exception):
    """The WebSocket opening handshake with the CSMS failed."""


class ConnectRefused(ConnectError):
    """The CSMS answered the upgrade request with an HTTP status other than 101.

    Attributes:
        status: the HTTP status code, e.g. 401 for refused credentials.
        body: the response body, as text.
    """

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body.strip()}" if body.strip() else f"HTTP {status}")
        self.status = status
        self.body = body


class StationClientSocket(WebSocketChannel):
    """A station's open connection to the CSMS: a TextChannel, with the OCPP version agreed."""

    __slots__ = ("_subprotocol",)

    def __init__(self, websocket: ClientConnection, subprotocol: str) -> None:
        super().__init__(websocket)
        self._subprotocol = subprotocol

    @property
    def subprotocol(self) -> str:
        """The OCPP version the CSMS chose, e.g. "ocpp2.0.1"."""
        return self._subprotocol


async def connect(
    url: str,
    station_id: str,
    *,
    subprotocols: Sequence[str] = ("ocpp2.0.1",),
    password: str | None = None,
    ssl: ssl_module.SSLContext | None = None,
    ping_interval: float | None = 30.0,
    ping_timeout: float | None = 30.0,
    open_timeout: float = 10.0,
    close_timeout: float = 10.0,
    max_message_size: int = 2**20,
    compression: bool = True,
) -> StationClientSocket:
    """Open a station's WebSocket to the CSMS.

    OCPP-J 2.0.1 3.1.1: the connection URL is the CSMS's endpoint URL, a "/", and the station
    identity, percent-encoded. The connection is direct: proxy settings of the environment are
    not used.

    Args:
        url: the CSMS's OCPP-J endpoint, e.g. "wss://csms.example.com/ocpp".
        station_id: the station identity; also the Basic-auth user name.
        subprotocols: the OCPP versions offered, most preferred first.
        password: sends HTTP Basic auth with ``station_id`` as the user (security profiles 1
            and 2); None sends no Authorization header.
        ssl: the TLS context for a wss URL, e.g. from ``security.station_context``.
        ping_interval: seconds between keep-alive pings (OCPP's WebSocketPingInterval); None
            for none.
        ping_timeout: seconds to wait for each pong before the connection is dropped.
        open_timeout: seconds for the TCP, TLS and WebSocket handshakes together.
        close_timeout: seconds to wait for the closing handshake.
        max_message_size: the largest message received, in bytes.
        compression: offer permessage-deflate (RFC 7692).

    Returns:
        The open connection; close it when done.

    Raises:
        ConnectRefused: the CSMS answered with an HTTP status instead of upgrading.
        ConnectError: any other failed handshake, including an upgrade without a subprotocol,
            which OCPP-J does not allow.
        OSError: the network or TLS failed, or the handshake timed out (TimeoutError).
        ValueError: a password with a station identity containing ":", which Basic auth
            cannot carry; or an ssl context with a ws URL.
        websockets.exceptions.InvalidURI: ``url`` is not a ws or wss URL.
    """
    headers = {}
    if password is not None:
        if ":" in station_id:
            raise ValueError(f"Basic auth cannot carry a user name with ':': {station_id!r}")
        headers["Authorization"] = build_authorization_basic(station_id, password)
    try:
        websocket = await websocket_connect(
            f"{url.rstrip('/')}/{urllib.parse.quote(station_id, safe='')}",
            subprotocols=[Subprotocol(name) for name in subprotocols],
            additional_headers=headers,
            ssl=ssl,
            proxy=None,
            compression="deflate" if compression else None,
            open_timeout=open_timeout,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            close_timeout=close_timeout,
            max_size=max_message_size,
        )
    except InvalidStatus as refused:
        response = refused.response
        raise ConnectRefused(response.status_code, response.body.decode(errors="replace")) from None
    except InvalidHandshake as failed:
        raise ConnectError(str(failed)) from failed
    if websocket.subprotocol is None:
        await websocket.close()
        raise ConnectError("the CSMS upgraded without choosing a subprotocol")
    return StationClientSocket(websocket, websocket.subprotocol)


@dataclass(frozen=True, slots=True)
class BackOff:
    """The reconnection back-off of OCPP 2.0.1's OCPPCommCtrlr; OCPP sets no default values.

    Attributes:
        wait_minimum: RetryBackOffWaitMinimum, seconds before the first reconnection attempt.
        random_range: RetryBackOffRandomRange, at most this many seconds are added at random to
            every wait.
        repeat_times: RetryBackOffRepeatTimes, how often the wait doubles.

    Raises:
        ValueError: a negative value.
    """

    wait_minimum: float
    random_range: float
    repeat_times: int

    def __post_init__(self) -> None:
        if min(self.wait_minimum, self.random_range, self.repeat_times) < 0:
            raise ValueError(f"back-off values cannot be negative: {self}")


def backoff_delay(attempt: int, backoff: BackOff, jitter: float) -> float:
    """Seconds to wait before a reconnection attempt.

    OCPP 2.0.1 Part 4 (Reconnecting): the first attempt waits RetryBackOffWaitMinimum plus a
    random value of at most RetryBackOffRandomRange; after each failed attempt the wait doubles,
    at most RetryBackOffRepeatTimes times, with a new random value each time; then it stays.

    Args:
        attempt: 0 for the first attempt after the connection is lost (or the first connection
            failed), 1 after one more failed attempt, and so on.
        backoff: the OCPPCommCtrlr values.
        jitter: the random draw, a fraction in [0, 1] of RetryBackOffRandomRange.

    Raises:
        ValueError: a negative attempt, or a jitter outside [0, 1].
    """
    if attempt < 0:
        raise ValueError(f"attempt cannot be negative: {attempt}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1]: {jitter}")
    doublings = min(attempt, backoff.repeat_times)
    return backoff.wait_minimum * 2.0**doublings + jitter * backoff.random_range


class Reconnector:
    """Keeps a station connected: connect, run a session until the connection ends, wait, again.

    The first connection is tried at once; after a lost connection or a failed attempt, the next
    attempt waits ``backoff_delay`` on the clock, so that a ManualClock fast-forwards it.

    Args:
        open_socket: makes one connection attempt, e.g. a ``functools.partial`` of ``connect``.
        session: runs over each connection until it closes; the socket is closed when it
            returns. An exception from it is logged, and the station reconnects.
        backoff: the RetryBackOff* values; the attribute ``backoff`` may be replaced at any
            time, e.g. when the CSMS sets the variables, and applies from the next wait.
        clock: sleeps the back-off waits.
        jitter: draws the random fraction of each wait, in [0, 1].
    """

    def __init__(
        self,
        open_socket: Callable[[], Awaitable[StationClientSocket]],
        session: Callable[[StationClientSocket], Awaitable[None]],
        backoff: BackOff,
        clock: Clock,
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.backoff = backoff
        self._open_socket = open_socket
        self._session = session
        self._clock = clock
        self._jitter = jitter

    async def run(self) -> NoReturn:
        """Connect and reconnect until cancelled; cancelling closes the open connection.

        Raises:
            Exception: whatever ``open_socket`` raises besides ConnectError and OSError (a bug,
                such as a malformed URL): retrying would not help.
        """
        attempt = 0  # back-off waits since the last connection that opened
        while True:
            try:
                socket = await self._open_socket()
            except (ConnectError, OSError) as error:
                logger.warning("connecting to the CSMS failed: %s", error)
            else:
                attempt = 0
                logger.info("connected to the CSMS with %s", socket.subprotocol)
                await self._run_session(socket)
                logger.info("the connection to the CSMS ended (code %s)", socket.close_code)
            delay = backoff_delay(attempt, self.backoff, self._jitter())
            attempt += 1
            logger.info("reconnecting in %.1f s", delay)
            await self._clock.sleep(delay)

    async def _run_session(self, socket: StationClientSocket) -> None:
        try:
            await self._session(socket)
        except Exception:
            logger.exception("the session over the CSMS connection failed")
        finally:
            await socket.close()
