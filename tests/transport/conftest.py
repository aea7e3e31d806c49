"""Fixtures of the WebSocket tests: test PKIs, and servers and clients closed at teardown."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from kilowatt.transport.client import StationClientSocket, connect
from kilowatt.transport.security import DevPki, generate_dev_pki
from kilowatt.transport.server import Listener, StationServer
from tests.transport.support import TLS_STATION, Dial, FakeCsms, StartServer


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return generate_dev_pki(tmp_path_factory.mktemp("pki"), [TLS_STATION])


@pytest.fixture(scope="session")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """Another CA, with a certificate for the same station id."""
    return generate_dev_pki(tmp_path_factory.mktemp("foreign-pki"), [TLS_STATION])


@pytest.fixture
def csms() -> FakeCsms:
    return FakeCsms()


@pytest.fixture
async def start_server(csms: FakeCsms) -> AsyncIterator[StartServer]:
    """Starts a StationServer with the csms's callbacks (``serve=`` replaces its serve); one plain
    listener unless told."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            listeners: Sequence[Listener] = (Listener("ws", "127.0.0.1"),),
            subprotocols: Sequence[str] = ("ocpp2.0.1",),
            **options: Any,
        ) -> StationServer:
            serve = options.pop("serve", csms.serve)
            server = StationServer(listeners, subprotocols, csms.admit, serve, **options)
            return await stack.enter_async_context(server)

        yield start


@pytest.fixture
async def dial() -> AsyncIterator[Dial]:
    """``connect``, with every socket it opened closed at teardown."""
    sockets: list[StationClientSocket] = []

    async def dial(url: str, station_id: str, **options: Any) -> StationClientSocket:
        options.setdefault("open_timeout", 5.0)
        options.setdefault("close_timeout", 1.0)
        socket = await connect(url, station_id, **options)
        sockets.append(socket)
        return socket

    yield dial
    for socket in sockets:
        await socket.close()
