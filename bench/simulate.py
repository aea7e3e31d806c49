#!/usr/bin/env python3
"""How many stations one simulator process keeps connected and active against kilowatt's CSMS.

    .venv/bin/python bench/simulate.py [--stations 10000] [--ramp 240] [--window 60]

Starts kilowatt's CSMS (SQLite, auto-registration) and one ``kilowatt simulate`` process with N
stations, each powering up at a random moment within ``--ramp`` seconds and then cycling:
plug in, authorize, charge for five minutes (TransactionEvent Updated every TxUpdatedInterval,
60 s), stop with the same card, unplug, rest a minute; heartbeats every 300 s. Once every
station is connected (or the ramp plus a grace period has passed), a window of ``--window``
seconds measures the simulator process: CPU (% of one core, from /proc), messages per second
(frames both ways, from its own count), RSS per station (the process's RSS less that of an
idle interpreter that imported the simulator, divided by N). The CSMS's CPU is printed too,
for scale; both share this machine's cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from csmsbench.procstat import cpu_seconds, raise_open_files_limit, rss_bytes
from csmsbench.servers import SERVERS, RunningServer

TOKEN = "SIM-TAG"
SCENARIO = """
repeat: 0
start_spread: {ramp}
steps:
  - wait: 5
  - plug_in: {{evse: 1}}
  - authorize: {{evse: 1, token: {token}}}
  - wait: 300
  - authorize: {{evse: 1, token: {token}}}
  - unplug: {{evse: 1}}
  - wait: 60
"""
PROGRESS = re.compile(
    r"stations (\d+)\s+connected (\d+)\s+charging (\d+)\s+messages/s ([\d,]+)\s+queued (\d+)"
    r"\s+errors (\d+)"
)
GRACE = 120.0  # seconds after the ramp for the last stations to connect


def last_progress(path: Path) -> tuple[int, int, int] | None:
    """(connected, charging, errors) from the simulator's latest progress line."""
    lines = [m for m in PROGRESS.finditer(path.read_text(errors="replace"))]
    if not lines:
        return None
    match = lines[-1]
    return int(match[2]), int(match[3]), int(match[6])


def frames_so_far(path: Path) -> int | None:
    found = re.findall(r"frames (\d+)", path.read_text(errors="replace"))
    return int(found[-1]) if found else None


def idle_interpreter_rss() -> int:
    probe = subprocess.Popen(
        [sys.executable, "-c", "import kilowatt.station.commands, time; time.sleep(30)"]
    )
    try:
        time.sleep(3.0)
        return rss_bytes(probe.pid)
    finally:
        probe.kill()
        probe.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=10_000)
    # The CSMS checks each new station's password with scrypt, about 12 ms of one core here:
    # 10,000 first connections take two minutes of its CPU whatever the simulator does.
    parser.add_argument("--ramp", type=float, default=240.0, help="seconds to power up all")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    args = parser.parse_args()
    limit = raise_open_files_limit()  # inherited by both children, each holding N sockets
    if limit < args.stations + 200:
        sys.exit(f"open files limit {limit} is too low for {args.stations} stations")

    baseline = idle_interpreter_rss()
    server = RunningServer(SERVERS["kilowatt"])
    try:
        server.wait_ready()
        env = {**os.environ, "KILOWATT_DATA_DIR": str(server.scratch / "data")}
        with tempfile.TemporaryDirectory(prefix="simulate-bench-") as scratch:
            seed = Path(scratch) / "seed.yaml"
            seed.write_text(f"id_tokens:\n  - {{id_token: {TOKEN}, type: ISO14443}}\n")
            subprocess.run(
                [sys.executable, "-m", "kilowatt", "seed", str(seed)],
                env=env,
                check=True,
                capture_output=True,
            )
            scenario = Path(scratch) / "scenario.yaml"
            scenario.write_text(SCENARIO.format(ramp=args.ramp, token=TOKEN))
            log = Path(scratch) / "simulator.log"
            duration = args.ramp + GRACE + args.window + 30
            argv = [sys.executable, "-m", "kilowatt", "simulate"]
            argv += ["--csms", f"ws://127.0.0.1:{server.port}/ocpp", "--password", "bench-pass"]
            argv += ["--stations", str(args.stations), "--scenario", str(scenario)]
            argv += ["--duration", str(duration), "--progress-every", "1"]
            with log.open("wb") as out:
                simulator = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
            try:
                measure(args, server, simulator, log, baseline)
            finally:
                simulator.terminate()
                simulator.wait(30)
    finally:
        server.stop()


def measure(
    args: argparse.Namespace,
    server: RunningServer,
    simulator: subprocess.Popen[bytes],
    log: Path,
    baseline: int,
) -> None:
    started = time.monotonic()
    all_connected_after = None
    while time.monotonic() - started < args.ramp + GRACE:
        time.sleep(1.0)
        if simulator.poll() is not None:
            sys.exit(f"the simulator exited:\n{log.read_text(errors='replace')[-2000:]}")
        progress = last_progress(log)
        if progress is not None and progress[0] >= args.stations:
            all_connected_after = time.monotonic() - started
            break
    print(
        f"{args.stations:,} stations connected after {all_connected_after:.0f} s"
        if all_connected_after is not None
        else f"not all connected after {args.ramp + GRACE:.0f} s: {last_progress(log)}"
    )
    cpu_sim, cpu_csms = cpu_seconds(simulator.pid), cpu_seconds(server.pid)
    frames = frames_so_far(log) or 0
    window_start = time.monotonic()
    time.sleep(args.window)
    elapsed = time.monotonic() - window_start
    cpu_sim = cpu_seconds(simulator.pid) - cpu_sim
    cpu_csms = cpu_seconds(server.pid) - cpu_csms
    frames = (frames_so_far(log) or 0) - frames
    rss = rss_bytes(simulator.pid)
    connected, charging, errors = last_progress(log) or (0, 0, 0)
    n = args.stations
    print()
    print(f"| figure | {n:,} stations |")
    print("| --- | ---: |")
    print(f"| connected at the end of the window | {connected:,} |")
    print(f"| charging at the end of the window | {charging:,} |")
    print(f"| messages/s (both ways) | {frames / elapsed:,.0f} |")
    print(f"| simulator CPU, % of one core | {100 * cpu_sim / elapsed:.1f} |")
    print(f"| simulator CPU per station | {1e6 * cpu_sim / elapsed / n:.1f} µs/s |")
    print(f"| simulator RSS | {rss / 2**20:,.0f} MiB |")
    print(f"| RSS per station | {(rss - baseline) / n / 1024:.1f} KiB |")
    print(f"| CSMS CPU, % of one core | {100 * cpu_csms / elapsed:.1f} |")
    print(f"| CALLs that failed (simulator's count) | {errors:,} |")


if __name__ == "__main__":
    main()
