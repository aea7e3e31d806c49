"""The station side: connect's errors, the back-off schedule, and the Reconnector."""

from __future__ import annotations

import asyncio
import functools
import logging

import pytest
from websockets.asyncio.server import ServerConnection, serve

from kilowatt.clock import ManualClock
from kilowatt.transport import ChannelClosed
from kilowatt.transport.client import (
    BackOff,
    ConnectError,
    Reconnector,
    StationClientSocket,
    backoff_delay,
    connect,
)
from kilowatt.transport.server import Listener
from tests.transport.support import Dial, FakeCsms, StartServer, bounded, ws_url

# -- connect ------------------------------------------------------------------------------------


async def test_upgrade_without_a_subprotocol_is_an_error(dial: Dial) -> None:
    async def hold(connection: ServerConnection) -> None:
        await connection.wait_closed()

    # A server that knows no subprotocol upgrades without choosing one: not OCPP-J.
    async with serve(hold, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]

        with pytest.raises(ConnectError, match="subprotocol"):
            await dial(f"ws://127.0.0.1:{port}/ocpp", "CS1")


async def test_nothing_listening_is_an_os_error(dial: Dial) -> None:
    port = await unused_port()

    with pytest.raises(OSError):
        await dial(f"ws://127.0.0.1:{port}/ocpp", "CS1")


async def test_basic_auth_cannot_carry_an_identity_with_a_colon(dial: Dial) -> None:
    with pytest.raises(ValueError, match=":"):
        await dial("ws://127.0.0.1:1/ocpp", "CS:1", password="pw")


async def unused_port() -> int:
    """A port that was free a moment ago, and is closed now."""
    server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


# -- the back-off schedule (OCPP 2.0.1 Part 4, Reconnecting) ------------------------------------

OCPP_EXAMPLE = BackOff(wait_minimum=10.0, random_range=5.0, repeat_times=3)


@pytest.mark.parametrize(
    ("backoff", "attempt", "jitter", "seconds"),
    [
        (OCPP_EXAMPLE, 0, 0.0, 10.0),  # the first wait: the minimum ...
        (OCPP_EXAMPLE, 0, 1.0, 15.0),  # ... plus at most the random range
        (OCPP_EXAMPLE, 1, 0.0, 20.0),  # doubled after each failed attempt
        (OCPP_EXAMPLE, 2, 0.5, 42.5),  # the random part is added, never doubled
        (OCPP_EXAMPLE, 3, 0.0, 80.0),  # doubled RetryBackOffRepeatTimes times ...
        (OCPP_EXAMPLE, 4, 0.0, 80.0),  # ... and no more
        (OCPP_EXAMPLE, 100, 1.0, 85.0),
        (BackOff(wait_minimum=10.0, random_range=5.0, repeat_times=0), 5, 0.2, 11.0),
        (BackOff(wait_minimum=0.0, random_range=0.0, repeat_times=3), 2, 0.7, 0.0),
    ],
)
def test_backoff_schedule(backoff: BackOff, attempt: int, jitter: float, seconds: float) -> None:
    assert backoff_delay(attempt, backoff, jitter) == pytest.approx(seconds)


@pytest.mark.parametrize(("attempt", "jitter"), [(-1, 0.0), (0, -0.1), (0, 1.1)])
def test_backoff_refuses_what_is_out_of_range(attempt: int, jitter: float) -> None:
    with pytest.raises(ValueError):
        backoff_delay(attempt, OCPP_EXAMPLE, jitter)


def test_backoff_values_cannot_be_negative() -> None:
    with pytest.raises(ValueError):
        BackOff(wait_minimum=-1.0, random_range=0.0, repeat_times=0)


# -- the Reconnector ----------------------------------------------------------------------------


class WatchedClock(ManualClock):
    """A ManualClock that tells the test each time someone starts to sleep, and for how long."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: asyncio.Queue[float] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.put_nowait(seconds)
        await super().sleep(seconds)


async def hold_until_closed(socket: StationClientSocket) -> None:
    """A station session that only waits for the connection to end."""
    try:
        while True:
            await socket.recv()
    except ChannelClosed:
        return


async def test_station_reconnects_with_back_off_after_the_server_restarts(
    start_server: StartServer, csms: FakeCsms
) -> None:
    server = await start_server()
    port = server.port("ws")
    clock = WatchedClock()
    reconnector = Reconnector(
        functools.partial(connect, ws_url(server), "CS1", open_timeout=2.0, close_timeout=0.5),
        hold_until_closed,
        OCPP_EXAMPLE,
        clock,
        jitter=lambda: 0.5,
    )
    running = asyncio.create_task(reconnector.run())
    try:
        await bounded(csms.arrived.get())

        await bounded(server.close())  # the connection is lost, the server is down
        assert await bounded(clock.sleeps.get()) == 12.5  # wait_minimum + half the range
        await clock.advance(12.5)  # the attempt fails: the wait doubles
        assert await bounded(clock.sleeps.get()) == 22.5

        await start_server(listeners=[Listener("ws", "127.0.0.1", port)])
        await clock.advance(22.5)

        station = await bounded(csms.arrived.get())
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    assert station.station_id == "CS1"
    assert [h.station_id for h in csms.handshakes] == ["CS1", "CS1"]
    assert clock.monotonic() == 35.0  # no attempt went out early


async def test_failing_session_is_logged_and_the_station_reconnects(
    start_server: StartServer, csms: FakeCsms, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server()
    clock = WatchedClock()
    sessions: list[str] = []

    async def session(socket: StationClientSocket) -> None:
        sessions.append(socket.subprotocol)
        raise RuntimeError("station bug")

    reconnector = Reconnector(
        functools.partial(connect, ws_url(server), "CS1", open_timeout=2.0, close_timeout=0.5),
        session,
        OCPP_EXAMPLE,
        clock,
        jitter=lambda: 0.0,
    )
    running = asyncio.create_task(reconnector.run())
    try:
        with caplog.at_level(logging.ERROR, logger="kilowatt.transport.client"):
            assert await bounded(clock.sleeps.get()) == 10.0  # a connection opened: no doubling
            await clock.advance(10.0)
            assert await bounded(clock.sleeps.get()) == 10.0
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    assert sessions == ["ocpp2.0.1", "ocpp2.0.1"]
    failures = [r.message for r in caplog.records]
    assert failures == ["the session over the CSMS connection failed"] * 2
    # The Reconnector closed each socket, so the server saw both connections end.
    await bounded(asyncio.gather(csms.departed.get(), csms.departed.get()))
