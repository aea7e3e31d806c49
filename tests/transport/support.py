"""Helpers of the WebSocket tests: a fake CSMS policy, a raw HTTP client, and time bounds."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kilowatt.transport import ChannelClosed
from kilowatt.transport.client import StationClientSocket
from kilowatt.transport.server import Handshake, Refusal, StationServer, StationSocket

T = TypeVar("T")

TLS_STATION = "CS-TLS"  # the station with a client certificate in the test PKIs

StartServer = Callable[..., Awaitable[StationServer]]
Dial = Callable[..., Awaitable[StationClientSocket]]

# Every wait of these tests is bounded: a hang fails the test instead of stalling the suite.
WAIT = 5.0


async def bounded(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    """Await with a time limit."""
    async with asyncio.timeout(seconds):
        return await awaitable


@dataclass
class FakeCsms:
    """The server's callbacks: records each handshake, admits or refuses, echoes every message.

    Attributes:
        refuse: the Refusal for every handshake; None admits.
        admit_error: raised by admit for the station of this id.
        serve_error: raised by serve, after the first message, when set.
        handshakes: every handshake admit was given.
        arrived: each admitted socket, as serve starts.
        departed: (socket, loop time) as each socket's recv raised ChannelClosed.
    """

    refuse: Refusal | None = None
    admit_error: str | None = None
    serve_error: Exception | None = None
    handshakes: list[Handshake] = field(default_factory=list)
    arrived: asyncio.Queue[StationSocket] = field(default_factory=asyncio.Queue)
    departed: asyncio.Queue[tuple[StationSocket, float]] = field(default_factory=asyncio.Queue)

    async def admit(self, handshake: Handshake) -> Refusal | None:
        self.handshakes.append(handshake)
        if handshake.station_id == self.admit_error:
            raise RuntimeError("the station database is down")
        return self.refuse

    async def serve(self, socket: StationSocket) -> None:
        self.arrived.put_nowait(socket)
        try:
            while True:
                text = await socket.recv()
                if self.serve_error is not None:
                    raise self.serve_error
                await socket.send(text)
        except ChannelClosed:
            self.departed.put_nowait((socket, asyncio.get_running_loop().time()))


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: str


async def raw_upgrade(port: int, path: str, headers: dict[str, str] | None = None) -> RawResponse:
    """Send one WebSocket upgrade request by hand and read the response head and body.

    The connection is closed before returning, whatever the answer.
    """
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await bounded(reader.readuntil(b"\r\n\r\n"))
        status_line, *header_lines = head.decode().split("\r\n")[:-2]
        response_headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", "0"))
        body = await bounded(reader.readexactly(length)) if length else b""
    finally:
        writer.close()
        await writer.wait_closed()
    return RawResponse(int(status_line.split()[1]), response_headers, body.decode())


def ws_url(server: StationServer, listener: str = "ws") -> str:
    return f"ws://127.0.0.1:{server.port(listener)}/ocpp"


def wss_url(server: StationServer, listener: str = "wss") -> str:
    return f"wss://127.0.0.1:{server.port(listener)}/ocpp"
