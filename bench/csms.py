#!/usr/bin/env python3
"""CSMS cost per message, latency and memory per connection: kilowatt against references.

    .venv/bin/python bench/csms.py [--servers LIST] [--stations N] [--duration S] [--quick]
    .venv/bin/python bench/csms.py --idle [--stations 10000]
    .venv/bin/python bench/csms.py --soak MINUTES [--servers kilowatt]

Servers under test, each a subprocess on 127.0.0.1, one after the other (``--servers``):

- ``kilowatt``: ``python -m kilowatt csms``, SQLite under a scratch directory, auto-registration;
- ``reference``: the PyPI ``ocpp`` package's ``ChargePoint`` on ``websockets``, the package's
  default schema validation on (``bench/csmsbench/reference_server.py``);
- ``reference-noval``: the same with ``skip_schema_validation=True`` on every handler;
- ``floor-websockets``, ``floor-picows``: parse each frame with orjson, answer a canned CALLRESULT,
  no OCPP logic (``bench/csmsbench/floor_server.py``).

N stations (picows clients in ``--client-procs`` processes) connect to ``/ocpp/{id}`` with
subprotocol ocpp2.0.1 and HTTP Basic auth, ``--wave`` handshakes at a time, and each sends a
BootNotification. Then each keeps at most one CALL in flight, out of a cycle of Authorize,
TransactionEvent Started, Updated, Updated, Ended (one transactionId, seqNo 0-3), MeterValues
(three sampled values) and Heartbeat. Per server:

- RSS per idle connection: VmRSS with N booted idle stations minus VmRSS with none (after 20
  warm-up stations ran the whole cycle and left), divided by N;
- saturated: every station sends its next CALL as soon as the last is answered;
- fleet pace: ``--rate`` CALLs per second in all, handed to the stations in turn.

In each window of ``--duration`` seconds (after ``--warmup`` seconds of the same traffic):
answered CALLs per second; server CPU µs per answered CALL (utime + stime of the server's
process tree from /proc, over the window); p50 and p99 latency from CALL sent to answer
received, on the client. ``--idle``: N stations (default 10,000) connected and silent for a
window, server CPU % of a core; then Heartbeats at ``--heartbeat-rate`` in all, their latency.
``--soak M``: N stations at fleet pace for M minutes, the server's RSS every minute, and whether
it grew past max(2 MiB, 2 %) after the first minute.

The load generator shares the machine, so its CPU % is printed: in a row marked * it was at its
limit, and msgs/s and latency are the client's bound (server µs/msg still holds). So is the CPU
that other programs took during the window ("others"): on a busy machine, all figures carry it.
The tables at the end are Markdown, with the targets the README quotes.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from csmsbench.driver import LoadGenerator, Measurement, WorkerDied
from csmsbench.load import Run
from csmsbench.procstat import (
    cpu_seconds,
    machine_busy_seconds,
    raise_open_files_limit,
    rss_bytes,
)
from csmsbench.servers import SERVERS, RunningServer, ServerFailed, ServerSpec

WARM_STATIONS = 20
WARM_SECONDS = 1.0
SETTLE_SECONDS = 2.0  # after connecting or closing, before reading RSS
DRAIN_TIMEOUT = 30.0
CLIENT_BOUND_PCT = 90.0  # a worker this busy is the bottleneck, not the server
OTHERS_NOISY_PCT = 10.0  # CPU other programs may take during a window before we warn
SOAK_FLAT_MB, SOAK_FLAT_PCT = 2.0, 2.0  # RSS growth tolerated over a soak

TARGET_VS_REFERENCE = 1 / 15
TARGET_VS_FLOOR = 2.0
TARGET_RSS_VS_REFERENCE = 0.7
TARGET_IDLE_CPU_PCT = 2.0
TARGET_HEARTBEAT_P99_MS = 20.0

_begun = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - _begun:7.1f} s] {text}", flush=True)


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.perf_counter()))


@dataclass
class Result:
    """What was measured of one server; None where a step did not run."""

    spec: ServerSpec
    stations: int = 0
    connect_seconds: float = math.nan
    rss_per_conn: float = math.nan  # bytes
    saturated: Measurement | None = None
    paced: Measurement | None = None
    idle: Measurement | None = None
    heartbeat: Measurement | None = None
    problems: list[str] = field(default_factory=list)


class Session:
    """One server and the stations connected to it."""

    def __init__(self, server: RunningServer, load: LoadGenerator, args: argparse.Namespace):
        self.server = server
        self.load = load
        self.args = args
        self.url = f"ws://127.0.0.1:{server.port}/ocpp/"

    def connect(self, station_ids: list[str]) -> tuple[int, float]:
        """Booted stations and seconds taken. Raises ServerFailed when none could boot."""
        connected = self.load.connect(self.url, station_ids, self.args.wave, say)
        self.server.check_alive()
        if connected.failed:
            say(f"  {connected.failed:,} stations failed: " + "; ".join(connected.errors))
        if not connected.booted:
            raise ServerFailed("no station could connect and boot")
        return connected.booted, connected.seconds

    def measure(
        self,
        mode: Literal["saturated", "paced"],
        calls: Literal["mix", "heartbeat"],
        rate: float,
        warmup: float,
        duration: float,
    ) -> Measurement:
        begun = time.perf_counter()
        self.load.start_run(Run(mode, calls, rate, warmup, duration, DRAIN_TIMEOUT))
        sleep_until(begun + warmup)
        cpu_before, machine_before = cpu_seconds(self.server.pid), machine_busy_seconds()
        sleep_until(begun + warmup + duration)
        cpu_after, machine_after = cpu_seconds(self.server.pid), machine_busy_seconds()
        measurement = self.load.finish_run(
            cpu_after - cpu_before, machine_after - machine_before, duration
        )
        self.server.check_alive()
        return measurement


def describe(m: Measurement) -> str:
    text = (
        f"{m.msgs_per_s:,.0f} msgs/s, server {m.server_us_per_msg:,.0f} µs/msg "
        f"({m.server_cpu_pct:.0f} % CPU), p50 {m.p50 * 1e3:,.1f} ms, p99 {m.p99 * 1e3:,.1f} ms, "
        f"client {m.client_cpu_pct:.0f} % CPU, others {m.other_cpu_pct:.0f} %"
    )
    r = m.report
    issues = [
        f"{count:,} {what}"
        for count, what in [
            (r.call_errors, "CALLERRORs"),
            (r.skipped, "CALLs skipped (every station busy)"),
            (r.unanswered, "CALLs unanswered after the drain"),
            (r.lost, "connections lost so far"),
            (r.server_calls, "CALLs from the server refused"),
            (r.strays, "stray answers"),
        ]
        if count
    ]
    if issues:
        text += "\n" + " " * 13 + "  !! " + ", ".join(issues)
        if r.first_error:
            text += f"; first: {r.first_error[:200]}"
    return text


def run_server(spec: ServerSpec, args: argparse.Namespace) -> Result:
    result = Result(spec)
    say(f"== {spec.label}: starting")
    server = RunningServer(spec)
    load: LoadGenerator | None = None
    try:
        say(f"  ready in {server.wait_ready():.1f} s (pid {server.pid}, port {server.port})")
        load = LoadGenerator(args.client_procs)
        session = Session(server, load, args)

        # Warm-up: every action's code path runs once (imports, caches, schemas) before the
        # baseline RSS, so that one-time costs are not charged to the idle connections.
        session.connect([f"WARM{i:03d}" for i in range(min(WARM_STATIONS, args.stations))])
        session.measure("saturated", "mix", 0, 0, WARM_SECONDS)
        load.close()
        time.sleep(SETTLE_SECONDS)
        rss_empty = rss_bytes(server.pid)

        say(f"  connecting {args.stations:,} stations, {args.wave} handshakes at a time")
        booted, seconds = session.connect([f"CS{i:05d}" for i in range(args.stations)])
        result.stations, result.connect_seconds = booted, seconds
        time.sleep(SETTLE_SECONDS)
        rss_full = rss_bytes(server.pid)
        result.rss_per_conn = (rss_full - rss_empty) / booted
        say(
            f"  {booted:,} booted in {seconds:.1f} s; RSS {rss_empty / 2**20:.1f} MiB empty, "
            f"{rss_full / 2**20:.1f} MiB with them idle: "
            f"{result.rss_per_conn / 1024:.1f} KiB per connection"
        )

        if args.soak:
            soak(session, args)
        elif args.idle:
            say(f"  idle, {args.duration:.0f} s")
            idle = session.measure("paced", "heartbeat", 0, SETTLE_SECONDS, args.duration)
            result.idle = idle
            say(f"  idle: server {idle.server_cpu_pct:.2f} % of a core")
            say(f"  heartbeats at {args.heartbeat_rate:g}/s, {args.duration:.0f} s")
            result.heartbeat = session.measure(
                "paced", "heartbeat", args.heartbeat_rate, args.warmup, args.duration
            )
            say("  heartbeats: " + describe(result.heartbeat))
        else:
            say(f"  saturated, {args.duration:.0f} s")
            result.saturated = session.measure("saturated", "mix", 0, args.warmup, args.duration)
            say("  saturated: " + describe(result.saturated))
            say(f"  fleet pace {args.rate:g}/s, {args.duration:.0f} s")
            result.paced = session.measure("paced", "mix", args.rate, args.warmup, args.duration)
            say("  fleet pace: " + describe(result.paced))
    except (ServerFailed, WorkerDied) as exc:
        problem = f"{spec.label}: {exc}"
        result.problems.append(problem)
        say(f"  SKIPPED the rest of {problem}; server output, last lines:\n{server.log_tail()}")
    finally:
        if load is not None:
            load.quit()
        server.stop()
    return result


def soak(session: Session, args: argparse.Namespace) -> None:
    """Fleet pace for --soak minutes; the server's RSS at the start, every minute, at the end."""
    pid, seconds = session.server.pid, args.soak * 60
    begun = time.perf_counter()
    session.load.start_run(Run("paced", "mix", args.rate, 0, seconds, DRAIN_TIMEOUT))
    samples = [rss_bytes(pid)]
    cpu_start = cpu_mark = cpu_seconds(pid)
    machine_start = machine_busy_seconds()
    say(f"  soak at {args.rate:g}/s for {args.soak:g} min: RSS {samples[0] / 2**20:.1f} MiB")
    minute = 1
    while minute * 60 < seconds:
        sleep_until(begun + minute * 60)
        session.server.check_alive()
        samples.append(rss_bytes(pid))
        cpu_now = cpu_seconds(pid)
        say(
            f"  minute {minute}: RSS {samples[-1] / 2**20:.1f} MiB, "
            f"server {(cpu_now - cpu_mark) / 60 * 100:.1f} % CPU"
        )
        cpu_mark, minute = cpu_now, minute + 1
    sleep_until(begun + seconds)
    cpu_end, machine_end = cpu_seconds(pid), machine_busy_seconds()
    samples.append(rss_bytes(pid))
    measurement = session.load.finish_run(cpu_end - cpu_start, machine_end - machine_start, seconds)
    say(f"  end: RSS {samples[-1] / 2**20:.1f} MiB; whole soak: " + describe(measurement))
    # The first minute fills caches and pools; growth after it is what would not stop.
    baseline, since = (samples[1], 60.0) if len(samples) > 2 else (samples[0], 0.0)
    growth = (samples[-1] - baseline) / 2**20
    tolerated = max(SOAK_FLAT_MB, baseline / 2**20 * SOAK_FLAT_PCT / 100)
    verdict = "flat" if growth <= tolerated else "GROWING"
    say(
        f"  RSS from {baseline / 2**20:.1f} to {samples[-1] / 2**20:.1f} MiB: "
        f"{growth:+.1f} MiB ({growth / (seconds - since) * 60:+.2f} MiB/min), {verdict} "
        f"(tolerance {tolerated:.1f} MiB)"
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _num(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def _row(result: Result, mode: str, m: Measurement, load_procs: int) -> list[str]:
    bound = "*" if m.client_cpu_pct >= CLIENT_BOUND_PCT * load_procs else ""
    return [
        result.spec.label,
        mode,
        f"{result.stations:,}",
        _num(m.msgs_per_s) + bound,
        _num(m.server_us_per_msg, 1),
        _num(m.server_cpu_pct) + " %",
        _num(m.p50 * 1e3, 1),
        _num(m.p99 * 1e3, 1),
        _num(result.rss_per_conn / 1024, 1) + " KiB",
        _num(m.client_cpu_pct) + " %",
        _num(m.other_cpu_pct) + " %",
    ]


def _table(header: list[str], rows: list[list[str]]) -> Iterator[str]:
    yield "| " + " | ".join(header) + " |"
    yield "| --- | " + " | ".join("---:" for _ in header[1:]) + " |"
    for row in rows:
        yield "| " + " | ".join(row) + " |"


def _target_row(
    name: str, value: float, limit: float, shown: str, fraction: bool = False
) -> list[str]:
    """A row of the targets table: every target is an upper limit."""
    if math.isnan(value):
        return [name, "n/a", shown, ""]
    measured = f"1/{1 / value:.1f}" if fraction and 0 < value < 1 else f"{value:.2f}"
    return [name, measured, shown, "yes" if value <= limit else "**no**"]


def report_load(results: list[Result], args: argparse.Namespace) -> None:
    rows = []
    for result in results:
        for mode, m in [("saturated", result.saturated), (f"fleet {args.rate:g}/s", result.paced)]:
            if m is not None:
                rows.append(_row(result, mode, m, args.client_procs))
    header = ["server", "mode", "stations", "msgs/s", "server µs/msg", "server CPU"]
    header += ["p50 ms", "p99 ms", "RSS/idle conn", "client CPU", "others CPU"]
    print("\n".join(_table(header, rows)))
    if any(row[3].endswith("*") for row in rows):
        print(f"\n\\* the load generator was at {CLIENT_BOUND_PCT:.0f} % of its cores or more:")
        print("msgs/s and latency are bounded by the client; server µs/msg still holds.")

    by_name = {r.spec.name: r for r in results}

    def us(name: str, mode: str) -> float:
        result = by_name.get(name)
        m = None if result is None else getattr(result, mode)
        return math.nan if m is None else float(m.server_us_per_msg)

    def rss(name: str) -> float:
        result = by_name.get(name)
        return math.nan if result is None else result.rss_per_conn

    ratios = []
    for mode, label in [("saturated", "saturated"), ("paced", "fleet pace")]:
        ratios.append(
            _target_row(
                f"kilowatt ÷ reference, server µs/msg, {label}",
                us("kilowatt", mode) / us("reference", mode),
                TARGET_VS_REFERENCE,
                "≤ 1/15",
                fraction=True,
            )
        )
        ratios.append(
            _target_row(
                f"kilowatt ÷ websockets floor, server µs/msg, {label}",
                us("kilowatt", mode) / us("floor-websockets", mode),
                TARGET_VS_FLOOR,
                "≤ 2",
            )
        )
    ratios.append(
        _target_row(
            "kilowatt ÷ reference, RSS per idle connection",
            rss("kilowatt") / rss("reference"),
            TARGET_RSS_VS_REFERENCE,
            "≤ 0.7",
        )
    )
    print()
    print("\n".join(_table(["ratio", "measured", "target", "met"], ratios)))


def report_idle(results: list[Result], args: argparse.Namespace) -> None:
    rows = []
    for result in results:
        hb = result.heartbeat
        rows.append(
            [
                result.spec.label,
                f"{result.stations:,}",
                _num(result.connect_seconds, 1),
                _num(result.rss_per_conn / 1024, 1) + " KiB",
                "n/a" if result.idle is None else _num(result.idle.server_cpu_pct, 2) + " %",
                "n/a" if hb is None else _num(hb.msgs_per_s),
                "n/a" if hb is None else _num(hb.p50 * 1e3, 1),
                "n/a" if hb is None else _num(hb.p99 * 1e3, 1),
                "n/a" if hb is None else _num(hb.server_us_per_msg, 1),
            ]
        )
    header = ["server", "stations", "connect s", "RSS/idle conn", "idle CPU"]
    header += ["heartbeats/s", "p50 ms", "p99 ms", "server µs/msg"]
    print("\n".join(_table(header, rows)))
    kilowatt = next((r for r in results if r.spec.name == "kilowatt"), None)
    idle = math.nan
    if kilowatt is not None and kilowatt.idle is not None:
        idle = kilowatt.idle.server_cpu_pct
    p99 = math.nan
    if kilowatt is not None and kilowatt.heartbeat is not None:
        p99 = kilowatt.heartbeat.p99 * 1e3
    ratios = [
        _target_row("kilowatt idle CPU, % of a core", idle, TARGET_IDLE_CPU_PCT, "≤ 2 at 10,000"),
        _target_row("kilowatt heartbeat p99, ms", p99, TARGET_HEARTBEAT_P99_MS, "≤ 20 at 10,000"),
    ]
    print()
    print("\n".join(_table(["figure", "measured", "target", "met"], ratios)))
    if kilowatt is not None and kilowatt.stations < 10_000:
        print(f"\n(measured with {kilowatt.stations:,} stations; the targets are for 10,000)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--servers",
        help=f"comma-separated, of {', '.join(SERVERS)} (default: all; kilowatt with --soak)",
    )
    parser.add_argument("--stations", type=int, help="default 1,000; 10,000 with --idle")
    parser.add_argument(
        "--duration", type=float, help="seconds per window (default 20; 60 with --idle)"
    )
    parser.add_argument("--warmup", type=float, help="seconds before each window (default 3)")
    parser.add_argument("--rate", type=float, default=300, help="fleet pace, CALLs/s in all")
    parser.add_argument("--heartbeat-rate", type=float, default=100, help="--idle, in all")
    parser.add_argument("--client-procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--wave", type=int, default=200, help="handshakes in progress at once")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--idle", action="store_true", help="idle CPU and heartbeat latency")
    modes.add_argument("--soak", type=float, metavar="MINUTES", help="RSS over a long run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    args = parser.parse_args()

    if args.stations is None:
        args.stations = 10_000 if args.idle else 1_000
        if args.quick:
            args.stations //= 10
    if args.duration is None:
        # An idle window must hold whole rounds of keepalive pings (websockets: 20 s,
        # kilowatt: 60 s): a shorter one measures whether it caught a round, not the idle cost.
        args.duration = (
            (10.0 if args.quick else 60.0) if args.idle else (5.0 if args.quick else 20.0)
        )
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    names = args.servers or ("kilowatt" if args.soak else ",".join(SERVERS))
    args.server_specs = []
    for name in names.split(","):
        if name.strip() not in SERVERS:
            parser.error(f"unknown server {name!r}; known: {', '.join(SERVERS)}")
        args.server_specs.append(SERVERS[name.strip()])
    if args.stations < 1 or args.client_procs < 1 or args.wave < 1:
        parser.error("--stations, --client-procs and --wave must be positive")
    return args


def check_limits(args: argparse.Namespace) -> None:
    limit = raise_open_files_limit()
    server_needs = args.stations + WARM_STATIONS + 100
    client_needs = math.ceil(args.stations / args.client_procs) + 100
    for who, needs in [("a server", server_needs), ("a load generator process", client_needs)]:
        if limit < needs:
            say(
                f"!! RLIMIT_NOFILE is {limit:,} and {who} needs about {needs:,} descriptors: "
                "connections past the limit will fail (raise the hard limit, ulimit -Hn)"
            )
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    if args.stations > high - low:
        say(f"!! {args.stations:,} stations but only {high - low:,} local ports on 127.0.0.1")


@contextmanager
def _interruptible() -> Iterator[None]:
    # Ctrl-C: each server's and load generator's own cleanup has run on the way out; say so
    # in one line instead of a traceback.
    try:
        yield
    except KeyboardInterrupt:
        say("interrupted; servers and load generators stopped")
        sys.exit(130)


def main() -> None:
    args = parse_args()
    check_limits(args)
    mode = "soak" if args.soak else "idle" if args.idle else "load"
    say(
        f"{mode}: {args.stations:,} stations, servers "
        + ", ".join(s.name for s in args.server_specs)
        + f"; {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with _interruptible():
        results = [run_server(spec, args) for spec in args.server_specs]
    if args.soak:
        return
    print()
    print(
        f"{args.stations:,} stations, {args.duration:g} s windows after {args.warmup:g} s of "
        f"warm-up, load generator in {args.client_procs} process(es); {_cpu_model()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    if args.idle:
        report_idle(results, args)
    else:
        report_load(results, args)
    busiest = max(
        (
            m.other_cpu_pct
            for r in results
            for m in (r.saturated, r.paced, r.idle, r.heartbeat)
            if m
        ),
        default=0.0,
    )
    if busiest >= OTHERS_NOISY_PCT:
        print(
            f"\n!! other programs took up to {busiest:.0f} % of a core during a window: "
            "these figures carry their noise; rerun on a quiet machine"
        )
    for result in results:
        for problem in result.problems:
            print(f"\nnot measured: {problem}")


if __name__ == "__main__":
    main()
