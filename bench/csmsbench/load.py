"""The load generator: simulated stations on picows, in worker processes driven over a pipe.

Each worker process runs one asyncio loop and a share of the stations. The bench sends it
commands (``Connect``, ``Run``, ``Close``, ``Quit``) and gets a report back for each. picows
parses frames in C and calls ``Station.on_ws_frame`` directly, with no task or queue per message,
so a station costs the client a few microseconds per CALL: the server under test keeps its core.

A station keeps at most one CALL in flight (OCPP-J). In a saturated run it sends its next CALL
as soon as the answer to the previous one arrives; in a paced run a single pacer hands CALLs to
idle stations in turn at a fixed rate. Latency is ``time.perf_counter`` from just before the
send to the arrival of the answer; figures count the answers that arrive inside the window.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

import orjson
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from csmsbench.frames import SUBPROTOCOL, Script, timestamp
from csmsbench.procstat import raise_open_files_limit

__all__ = [
    "Close",
    "Closed",
    "Connect",
    "Connected",
    "Progress",
    "Quit",
    "Run",
    "RunReport",
    "password_for",
    "worker_main",
]

# Between one connection opened and booted and the next; long because a CSMS may hash the
# password of every new station (kilowatt's scrypt costs ~50 ms of CPU each).
CONNECT_TIMEOUT = 120.0
PROGRESS_EVERY = 5.0


def password_for(station_id: str) -> str:
    """The station's Basic-auth password: 16 to 40 characters for ids of up to 27."""
    return f"bench-{station_id}-secret"


@dataclass(frozen=True)
class Connect:
    """Open a connection per station id to ``url + id``, then BootNotification each."""

    url: str
    station_ids: tuple[str, ...]
    concurrency: int  # connections being opened at once


@dataclass(frozen=True)
class Run:
    """Send CALLs now; count answers from ``start_in`` seconds on, for ``duration`` seconds."""

    mode: Literal["saturated", "paced"]
    calls: Literal["mix", "heartbeat"]
    rate: float  # paced: this worker's CALLs per second (0: send nothing)
    start_in: float  # the warm-up before the window
    duration: float
    drain_timeout: float  # after the window, how long to wait for CALLs still in flight


@dataclass(frozen=True)
class Close:
    """Close every connection."""


@dataclass(frozen=True)
class Quit:
    """Close every connection and end the worker."""


@dataclass(frozen=True)
class Progress:
    """Sent while connecting, every few seconds."""

    booted: int
    failed: int


@dataclass(frozen=True)
class Connected:
    booted: int
    failed: int
    errors: tuple[str, ...]  # the first few distinct reasons
    seconds: float


@dataclass(frozen=True)
class Closed:
    pass


@dataclass
class RunReport:
    """What one worker saw in a window; the bench adds the workers' reports up."""

    answered: int = 0  # CALLRESULTs and CALLERRORs that arrived in the window
    call_errors: int = 0  # of which CALLERRORs
    latencies: array[float] = field(default_factory=lambda: array("d"))  # seconds
    skipped: int = 0  # paced, in the window: CALLs due while every station had one in flight
    client_cpu: float = 0.0  # this worker's CPU seconds in the window
    unanswered: int = 0  # CALLs still in flight when the drain timed out
    server_calls: int = 0  # CALLs from the server (refused with CALLERROR NotImplemented)
    strays: int = 0  # answers to no CALL in flight
    lost: int = 0  # connections the server closed or dropped, since the worker started
    first_error: str = ""  # the first CALLERROR or lost-connection reason seen


class BootRefused(Exception):
    pass


class Station(WSListener):
    """One simulated charging station: a picows listener and its script of CALLs."""

    def __init__(self, fleet: Fleet, station_id: str) -> None:
        super().__init__()
        self.fleet = fleet
        self.station_id = station_id
        self.script = Script(station_id)
        self.transport: WSTransport | None = None
        self.pending: str | None = None  # message id of the CALL in flight
        self.sent_at = 0.0
        self.boot_waiter: asyncio.Future[list[Any]] | None = None
        self.booted = False
        self.gone = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.gone = True
        if self.pending is not None:
            self.pending = None
            self.fleet.in_flight -= 1
        if self.boot_waiter is not None and not self.boot_waiter.done():
            self.boot_waiter.set_exception(ConnectionError("closed before BootNotification"))
        self.fleet.on_lost(self)

    def send(self, call: tuple[str, bytes]) -> None:
        assert self.transport is not None
        self.pending = call[0]
        self.fleet.in_flight += 1
        self.sent_at = time.perf_counter()
        self.transport.send(WSMsgType.TEXT, call[1])

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            if frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(WSCloseCode.OK)
                transport.disconnect()
            return  # picows answers PINGs itself
        now = time.perf_counter()
        message = orjson.loads(frame.get_payload_as_memoryview())
        if message[0] == 2:
            # The bench's stations only send; refusing keeps the CSMS from waiting on a timeout.
            self.fleet.report.server_calls += 1
            refusal = b',"NotImplemented","bench station answers no CALL",{}]'
            transport.send(WSMsgType.TEXT, b"[4," + orjson.dumps(message[1]) + refusal)
            return
        if message[1] != self.pending:
            self.fleet.report.strays += 1
            return
        self.pending = None
        self.fleet.in_flight -= 1
        if self.boot_waiter is not None:
            self.boot_waiter.set_result(message)
            return
        self.fleet.on_answer(self, message, now)

    async def boot(self) -> None:
        self.boot_waiter = asyncio.get_running_loop().create_future()
        self.send(self.script.boot())
        answer = await self.boot_waiter
        self.boot_waiter = None
        status = answer[2].get("status") if answer[0] == 3 else orjson.dumps(answer).decode()
        if status != "Accepted":
            raise BootRefused(f"BootNotification answered {status}")
        self.booted = True


class Fleet:
    """A worker's stations and the bookkeeping of the run in progress."""

    def __init__(self) -> None:
        self.stations: list[Station] = []
        self.in_flight = 0
        self.now = timestamp()
        self.closing = False
        self.lost = 0
        self.report = RunReport()
        # The run in progress: its window, and whether an answer triggers the next CALL.
        self.chain = False
        self.heartbeats_only = False
        self.window_start = math.inf
        self.window_end = -math.inf

    async def keep_time(self) -> None:
        """Refresh the timestamp the CALLs carry, so no CALL formats the time itself."""
        while True:
            self.now = timestamp()
            await asyncio.sleep(0.25)

    def next_call(self, station: Station) -> tuple[str, bytes]:
        if self.heartbeats_only:
            return station.script.heartbeat()
        return station.script.next_call(self.now)

    def on_answer(self, station: Station, message: list[Any], now: float) -> None:
        if self.window_start <= now < self.window_end:
            report = self.report
            report.answered += 1
            report.latencies.append(now - station.sent_at)
            if message[0] != 3:
                report.call_errors += 1
        if message[0] != 3 and not self.report.first_error:
            self.report.first_error = f"{station.station_id}: {orjson.dumps(message).decode()}"
        if self.chain and now < self.window_end:
            station.send(self.next_call(station))

    def on_lost(self, station: Station) -> None:
        if self.closing or not station.booted:
            return
        self.lost += 1
        if not self.report.first_error:
            self.report.first_error = f"{station.station_id}: connection lost"

    async def connect(self, command: Connect, progress: Callable[[Progress], None]) -> Connected:
        started = time.perf_counter()
        gate = asyncio.Semaphore(command.concurrency)
        booted = failed = 0
        errors: list[str] = []

        async def open_one(station_id: str) -> None:
            nonlocal booted, failed
            station = Station(self, station_id)
            credentials = base64.b64encode(f"{station_id}:{password_for(station_id)}".encode())
            headers = {
                "Authorization": "Basic " + credentials.decode(),
                "Sec-WebSocket-Protocol": SUBPROTOCOL,
            }
            async with gate:
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT):
                        transport, _ = await ws_connect(
                            lambda: station,
                            command.url + station_id,
                            extra_headers=headers,
                            websocket_handshake_timeout=CONNECT_TIMEOUT,
                            read_buffer_init_size=4096,  # answers are small; 10k of 16 KiB adds up
                        )
                        chosen = transport.response.headers.get("Sec-WebSocket-Protocol")
                        if chosen != SUBPROTOCOL:
                            raise BootRefused(f"server chose subprotocol {chosen!r}")
                        await station.boot()
                except Exception as exc:
                    failed += 1
                    reason = f"{type(exc).__name__}: {exc}"
                    if len(errors) < 5 and reason not in errors:
                        errors.append(reason)
                    if station.transport is not None:
                        station.transport.disconnect()
                    return
            booted += 1
            self.stations.append(station)

        async def report_progress() -> None:
            while True:
                await asyncio.sleep(PROGRESS_EVERY)
                progress(Progress(booted, failed))

        reporter = asyncio.create_task(report_progress())
        try:
            await asyncio.gather(*(open_one(station_id) for station_id in command.station_ids))
        finally:
            reporter.cancel()
        return Connected(booted, failed, tuple(errors), time.perf_counter() - started)

    async def run(self, command: Run) -> RunReport:
        loop = asyncio.get_running_loop()
        self.report = report = RunReport()
        self.heartbeats_only = command.calls == "heartbeat"
        begun = time.perf_counter()
        self.window_start = begun + command.start_in
        self.window_end = self.window_start + command.duration
        cpu_marks: list[float] = []
        loop.call_later(command.start_in, lambda: cpu_marks.append(time.process_time()))
        loop.call_later(
            command.start_in + command.duration, lambda: cpu_marks.append(time.process_time())
        )
        if command.mode == "saturated":
            self.chain = True
            for station in self.stations:
                if station.pending is None and not station.gone:
                    station.send(self.next_call(station))
            await asyncio.sleep(self.window_end - time.perf_counter())
            self.chain = False
        else:
            await self._pace(command.rate)
        deadline = time.perf_counter() + command.drain_timeout
        while self.in_flight and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        while len(cpu_marks) < 2:  # the window's end mark may still be due, by a hair
            await asyncio.sleep(0.01)
        report.client_cpu = cpu_marks[1] - cpu_marks[0]
        report.unanswered = self.in_flight
        report.lost = self.lost
        self.window_start, self.window_end = math.inf, -math.inf
        return report

    async def _pace(self, rate: float) -> None:
        """Hand CALLs to idle stations, round robin, at ``rate`` per second until the end."""
        if rate <= 0:
            await asyncio.sleep(self.window_end - time.perf_counter())
            return
        stations = self.stations
        cursor = sent = 0
        begun = time.perf_counter()
        while (now := time.perf_counter()) < self.window_end:
            for _ in range(int((now - begun) * rate) + 1 - sent):
                sent += 1
                for _ in range(len(stations)):
                    cursor = (cursor + 1) % len(stations)
                    station = stations[cursor]
                    if station.pending is None and not station.gone:
                        station.send(self.next_call(station))
                        break
                else:
                    if now >= self.window_start:
                        self.report.skipped += 1
            await asyncio.sleep(max(0.0, begun + sent / rate - time.perf_counter()))

    async def close(self) -> None:
        self.closing = True
        transports = [s.transport for s in self.stations if s.transport and not s.gone]
        for transport in transports:
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        if transports:
            await asyncio.wait(
                [asyncio.ensure_future(t.wait_disconnected()) for t in transports], timeout=10
            )
        self.stations.clear()
        self.in_flight = 0
        self.closing = False


async def _serve(pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[object] = asyncio.Queue()

    def receive() -> None:
        try:
            commands.put_nowait(pipe.recv())
        except EOFError:  # the bench is gone
            loop.remove_reader(pipe.fileno())
            commands.put_nowait(Quit())

    loop.add_reader(pipe.fileno(), receive)
    fleet = Fleet()
    clock = asyncio.create_task(fleet.keep_time())
    while True:
        command = await commands.get()
        if isinstance(command, Connect):
            pipe.send(await fleet.connect(command, pipe.send))
        elif isinstance(command, Run):
            pipe.send(await fleet.run(command))
        elif isinstance(command, Close):
            await fleet.close()
            pipe.send(Closed())
        elif isinstance(command, Quit):
            await fleet.close()
            clock.cancel()
            return


def worker_main(pipe: Connection) -> None:
    """Entry point of a worker process."""
    raise_open_files_limit()
    asyncio.run(_serve(pipe))
