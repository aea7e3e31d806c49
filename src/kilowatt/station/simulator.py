"""Scripted scenarios and fleets of simulated stations.

A scenario is what drivers and EVs do at one station, step by step; ``simulate`` runs it at N
stations in one process and reports progress. A scenario document (YAML or JSON)::

    repeat: 3                 # times through the steps; 0 = until stopped
    start_spread: 10          # seconds over which the stations power up and start
    steps:
      - wait: 5               # seconds
      - plug_in: {evse: 1}
      - choose_tariff: {evse: 1, tariff: per-minute}   # a price scheme on offer (OCPP 2.1)
      - authorize: {evse: 1, token: TAG-1}    # type ISO14443 unless given
      - wait: 600
      - authorize: {evse: 1, token: TAG-1}    # the same card again stops the transaction
      - unplug: {evse: 1}
      - offline: 30           # the network is down for 30 s
      - fault: {evse: 1, connector: 1, seconds: 60}

Every step is checked when the document is loaded, so a typo fails before any station runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from kilowatt.clock import Clock
from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["Fleet", "Scenario", "ScenarioError", "Step", "load_scenario", "run_scenario"]

logger = logging.getLogger(__name__)


class ScenarioError(ValueError):
    """A scenario document that cannot run, with where and why."""


@dataclass(frozen=True)
class Step:
    action: str  # wait, plug_in, choose_tariff, authorize, unplug, offline, fault
    seconds: float = 0.0
    evse: int = 1
    connector: int = 1
    token: v201.IdTokenType | None = None
    tariff: str | None = None


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    repeat: int = 1
    start_spread: float = 0.0


_FIELDS = {
    "wait": set(),
    "offline": set(),
    "plug_in": {"evse", "connector"},
    "choose_tariff": {"evse", "tariff"},
    "unplug": {"evse"},
    "authorize": {"evse", "token", "type"},
    "fault": {"evse", "connector", "seconds"},
}


def _step(index: int, raw: object) -> Step:
    where = f"step {index + 1}"
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ScenarioError(f"{where}: one action per step, e.g. {{wait: 5}}, not {raw!r}")
    ((action, argument),) = raw.items()
    if action not in _FIELDS:
        raise ScenarioError(f"{where}: unknown action {action!r}; one of {sorted(_FIELDS)}")
    if action in ("wait", "offline"):
        if not isinstance(argument, int | float) or isinstance(argument, bool) or argument < 0:
            raise ScenarioError(f"{where}: {action} takes seconds (a number >= 0)")
        return Step(action, seconds=float(argument))
    if not isinstance(argument, dict):
        raise ScenarioError(f"{where}: {action} takes a mapping of {sorted(_FIELDS[action])}")
    unknown = set(argument) - _FIELDS[action]
    if unknown:
        raise ScenarioError(f"{where}: {action} has no {sorted(unknown)}")
    numbers = {k: v for k, v in argument.items() if k in ("evse", "connector", "seconds")}
    for key, value in numbers.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"{where}: {key} must be a number >= 0")
    token = None
    tariff = argument.get("tariff")
    if action == "choose_tariff" and not isinstance(tariff, str):
        raise ScenarioError(f"{where}: choose_tariff needs a tariff (a tariff id)")
    if action == "authorize":
        if not isinstance(argument.get("token"), str):
            raise ScenarioError(f"{where}: authorize needs a token (a string)")
        try:
            token_type = v201.IdTokenEnumType(argument.get("type", "ISO14443"))
        except ValueError:
            raise ScenarioError(f"{where}: unknown token type {argument.get('type')!r}") from None
        token = v201.IdTokenType(id_token=argument["token"], type=token_type)
    return Step(
        action,
        seconds=float(argument.get("seconds", 0)),
        evse=int(argument.get("evse", 1)),
        connector=int(argument.get("connector", 1)),
        token=token,
        tariff=tariff,
    )


def load_scenario(source: Path | str) -> Scenario:
    """Read a scenario document (a path, or the text itself).

    Raises:
        ScenarioError: the document is not a valid scenario.
    """
    text = source.read_text() if isinstance(source, Path) else source
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"not YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        raise ScenarioError("a scenario is a mapping with a list of steps")
    repeat = document.get("repeat", 1)
    spread = document.get("start_spread", 0)
    if not isinstance(repeat, int) or repeat < 0:
        raise ScenarioError("repeat must be an integer >= 0 (0: until stopped)")
    if not isinstance(spread, int | float) or spread < 0:
        raise ScenarioError("start_spread must be a number of seconds >= 0")
    steps = tuple(_step(index, raw) for index, raw in enumerate(document["steps"]))
    return Scenario(steps, repeat, float(spread))


async def run_scenario(station: Station, scenario: Scenario) -> None:
    """Play the scenario at ``station`` (which runs in its own task) on its clock."""
    await station.accepted.wait()
    rounds = 0
    while scenario.repeat == 0 or rounds < scenario.repeat:
        rounds += 1
        for step in scenario.steps:
            await _play(station, step)


async def _play(station: Station, step: Step) -> None:
    if step.action == "wait":
        await station.clock.sleep(step.seconds)
    elif step.action == "offline":
        await station.go_offline(step.seconds)
    elif step.action == "plug_in":
        if station.evse(step.evse).plugged is None:
            station.plug_in(step.evse, step.connector)
    elif step.action == "choose_tariff":
        assert step.tariff is not None
        station.choose_tariff(step.evse, step.tariff)  # logged when not on offer
    elif step.action == "unplug":
        station.unplug(step.evse)
    elif step.action == "authorize":
        assert step.token is not None
        await station.present_token(step.evse, step.token)
    elif step.action == "fault":
        station.set_fault(step.evse, step.connector, True)
        await station.clock.sleep(step.seconds)
        station.set_fault(step.evse, step.connector, False)


async def _after(delay: float, clock: Clock, start: Callable[[], Awaitable[None]]) -> None:
    await clock.sleep(delay)
    await start()


@dataclass
class FleetFigures:
    stations: int
    connected: int
    charging: int
    frames: int
    errors: int
    queued: int
    # EVSEs by control-pilot duty cycle (IEC 61851-1, station.pwm), e.g. {"26.5": 3}.
    duty_cycles: dict[str, int] = field(default_factory=dict)

    @property
    def pwm(self) -> int:
        """EVSEs that signal a current by PWM (neither 5 % nor 100 %)."""
        return sum(n for duty, n in self.duty_cycles.items() if Decimal(duty) not in (5, 100))

    @property
    def hlc(self) -> int:
        """EVSEs at 5 %: an ISO 15118 EV, its limit negotiated."""
        return sum(n for duty, n in self.duty_cycles.items() if Decimal(duty) == 5)

    def line(self, rate: float) -> str:
        return (
            f"stations {self.stations}  connected {self.connected}  charging {self.charging}  "
            f"pwm {self.pwm}  hlc {self.hlc}  "
            f"messages/s {rate:,.0f}  queued {self.queued}  errors {self.errors}  "
            f"frames {self.frames}"
        )


@dataclass
class Fleet:
    """N stations and their scenario in one event loop."""

    stations: Sequence[Station]
    scenario: Scenario
    seed: int = 0
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def figures(self) -> FleetFigures:
        return FleetFigures(
            stations=len(self.stations),
            connected=sum(1 for s in self.stations if s.accepted.is_set()),
            charging=sum(
                1
                for s in self.stations
                for e in s.evses.values()
                if e.transaction is not None
                and e.transaction.charging_state == v201.ChargingStateEnumType.CHARGING
            ),
            frames=sum(s.frames for s in self.stations),
            errors=sum(s.errors for s in self.stations),
            queued=sum(len(s.queue) for s in self.stations),
            duty_cycles=dict(
                sorted(
                    Counter(
                        str(e.duty_cycle) for s in self.stations for e in s.evses.values()
                    ).items(),
                    key=lambda item: Decimal(item[0]),
                )
            ),
        )

    async def run(
        self,
        *,
        duration: float | None = None,
        report: Callable[[str], None] | None = None,
        every: float = 1.0,
    ) -> FleetFigures:
        """Run every station and its scenario; stop after ``duration`` seconds, or when every
        scenario is done; print progress lines with ``report``."""
        rng = random.Random(self.seed)
        # Stations power up over start_spread, as a real fleet does after an outage, and each
        # plays its scenario once connected.
        delays = [rng.uniform(0, self.scenario.start_spread) for _ in self.stations]
        runners = [
            asyncio.create_task(_after(delay, station.clock, station.run))
            for delay, station in zip(delays, self.stations, strict=True)
        ]
        plays = [
            asyncio.create_task(
                _after(
                    delay, station.clock, functools.partial(run_scenario, station, self.scenario)
                )
            )
            for delay, station in zip(delays, self.stations, strict=True)
        ]
        started = time.monotonic()
        last_frames, last_at = 0, started
        try:
            while duration is None or time.monotonic() - started < duration:
                if all(p.done() for p in plays):
                    break
                await asyncio.sleep(every)
                if report is not None:
                    figures = self.figures()
                    now = time.monotonic()
                    rate = (figures.frames - last_frames) / (now - last_at)
                    last_frames, last_at = figures.frames, now
                    report(figures.line(rate))
            for play in plays:
                if play.done() and not play.cancelled() and play.exception() is not None:
                    logger.error("scenario failed", exc_info=play.exception())
        finally:
            for task in (*plays, *runners):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*plays, *runners, return_exceptions=True)
        return self.figures()


def summary(figures: FleetFigures, seconds: float) -> str:
    return json.dumps(
        {
            "stations": figures.stations,
            "connected_at_end": figures.connected,
            "frames": figures.frames,
            "frames_per_second": round(figures.frames / seconds, 1) if seconds else None,
            "errors": figures.errors,
            "events_still_queued": figures.queued,
            "control_pilot_duty_cycles": figures.duty_cycles,
        }
    )
