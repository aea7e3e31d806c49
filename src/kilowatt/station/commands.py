"""``kilowatt station`` (one station) and ``kilowatt simulate`` (a fleet), for the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

from kilowatt.devicemodel import EvseShape, StationShape
from kilowatt.station.config import StationConfig
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.simulator import Fleet, Scenario, ScenarioError, load_scenario, summary
from kilowatt.station.station import Station

__all__ = ["add_parsers", "run"]

# When no scenario is given: each station charges for ten minutes, rests, and again.
DEFAULT_SCENARIO = """
repeat: 0
start_spread: 30
steps:
  - wait: 10
  - plug_in: {evse: 1}
  - authorize: {evse: 1, token: SIM-TAG}
  - wait: 600
  - authorize: {evse: 1, token: SIM-TAG}
  - unplug: {evse: 1}
  - wait: 120
"""


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    station = commands.add_parser("station", help="run one simulated charging station")
    station.add_argument("--csms", required=True, help="the CSMS's OCPP URL, e.g. ws://h:9000/ocpp")
    station.add_argument("--id", required=True, help="the station identity")
    _common(station)
    station.add_argument("--data-dir", help="persist the station's state here")
    station.add_argument(
        "--control-port",
        type=int,
        help="serve the control API here (plug in, present a card...: station/control.py) and "
        "play no scenario: a driver, such as the compliance harness, acts at the station",
    )

    fleet = commands.add_parser("simulate", help="run many simulated stations in one process")
    fleet.add_argument("--csms", required=True, help="the CSMS's OCPP URL")
    fleet.add_argument("--stations", type=int, default=10, help="how many (default 10)")
    fleet.add_argument("--prefix", default="SIM-", help="station ids are PREFIX00001, ...")
    fleet.add_argument("--first", type=int, default=1, help="the number of the first station")
    fleet.add_argument("--duration", type=float, help="stop after this many seconds")
    fleet.add_argument("--processes", type=int, default=1, help="split the fleet over processes")
    fleet.add_argument("--progress-every", type=float, default=5.0, help="seconds between lines")
    _common(fleet)


def _versions(text: str) -> tuple[str, ...]:
    versions = tuple(f"ocpp{version.strip()}" for version in text.split(","))
    unknown = [v for v in versions if v not in ("ocpp2.0.1", "ocpp2.1")]
    if unknown:
        raise argparse.ArgumentTypeError(f"the station speaks 2.0.1 and 2.1, not {unknown}")
    return versions


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password", help="Basic-auth password (security profiles 1-2)")
    parser.add_argument("--evses", type=int, default=1, help="EVSEs per station (default 1)")
    parser.add_argument("--max-power", type=float, default=22000.0, help="W per EVSE")
    parser.add_argument("--scenario", help="a scenario file (YAML); default: charge, rest, again")
    parser.add_argument(
        "--ocpp",
        type=_versions,
        default=("ocpp2.0.1",),
        help="OCPP versions offered, preferred first, e.g. 2.1,2.0.1 (2.1: local cost, I07-I12)",
    )


def _config(args: argparse.Namespace, station_id: str, data_dir: Path | None) -> StationConfig:
    shape = StationShape(
        identity=station_id,
        vendor_name="kilowatt",
        model="kilowatt-sim",
        serial_number=station_id[-25:],
        firmware_version="1.0.0",
        evses=tuple(EvseShape(args.max_power) for _ in range(args.evses)),
    )
    return StationConfig(
        shape=shape,
        csms_url=args.csms,
        password=args.password,
        data_dir=data_dir,
        durable=data_dir is not None,
        ocpp_versions=args.ocpp,
    )


def _scenario(args: argparse.Namespace) -> Scenario:
    return load_scenario(Path(args.scenario) if args.scenario else DEFAULT_SCENARIO)


def run(args: argparse.Namespace) -> int:
    try:
        scenario = _scenario(args)
    except (ScenarioError, OSError) as error:
        print(f"kilowatt {args.command}: {error}", file=sys.stderr)
        return 2
    if args.command == "station":
        data_dir = Path(args.data_dir) if args.data_dir else None
        stations = [Station(_config(args, args.id, data_dir), ocpp201_router().handler_for)]
        if args.control_port is not None:
            try:
                asyncio.run(_controlled(stations[0], args.control_port))
            except KeyboardInterrupt:
                return 130
            return 0
        duration, every = None, 5.0
    else:
        if args.processes > 1:
            return _split(args)
        router = ocpp201_router()
        numbers = range(args.first, args.first + args.stations)
        stations = [
            Station(_config(args, f"{args.prefix}{n:05d}", None), router.handler_for)
            for n in numbers
        ]
        duration, every = args.duration, args.progress_every
    started = time.monotonic()
    try:
        figures = asyncio.run(
            Fleet(stations, scenario).run(duration=duration, report=_print, every=every)
        )
    except KeyboardInterrupt:
        return 130
    print(summary(figures, time.monotonic() - started))
    return 0


async def _controlled(station: Station, port: int) -> None:
    """Run the station and its control API on 127.0.0.1:``port`` until interrupted."""
    import uvicorn

    from kilowatt.station.control import control_app

    server = uvicorn.Server(
        uvicorn.Config(
            control_app(station), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    _print(f"control API: http://127.0.0.1:{port}/actions/{{action}}, state at /state")
    running = asyncio.create_task(station.run())
    try:
        await server.serve()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def _print(line: str) -> None:
    print(line, flush=True)


def _split(args: argparse.Namespace) -> int:
    """Run the fleet as ``--processes`` children, each a share of the station numbers."""
    share, extra = divmod(args.stations, args.processes)
    children = []
    first = args.first
    for index in range(args.processes):
        count = share + (1 if index < extra else 0)
        argv = [sys.executable, "-m", "kilowatt", "simulate", "--csms", args.csms]
        argv += ["--stations", str(count), "--prefix", args.prefix, "--first", str(first)]
        argv += ["--evses", str(args.evses), "--max-power", str(args.max_power)]
        for option in ("password", "scenario", "duration", "progress_every"):
            value = getattr(args, option)
            if value is not None:
                argv += [f"--{option.replace('_', '-')}", str(value)]
        children.append(subprocess.Popen(argv))
        first += count
    logging.getLogger(__name__).info("%d processes started", len(children))
    return max(child.wait() for child in children)
