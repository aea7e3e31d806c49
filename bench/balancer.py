#!/usr/bin/env python3
"""Time to re-plan a site's load balancing on one event, and the TxProfiles each re-plan sends.

    .venv/bin/python bench/balancer.py [--events N] [--seed S]

For a site of 1,000 EVSEs (10 groups) and one of 10,000 EVSEs (100 groups), each group a feeder
of stations with two 22 kW EVSEs, about 70 % of the EVSEs with a session: it allocates once, then
re-plans after N events of each kind, one event at a time, as the CSMS would:

- start: a session begins on a free EVSE;
- stop: a session ends;
- limit: the site's limit moves by up to 10 % (a grid signal).

Each re-plan is ``allocate(..., previous=held)`` followed by ``changes(held, result)``, and the
stations' held values are updated with what was sent. It prints the median and p95 milliseconds
of a re-plan (both calls), and the median, p95 and largest number of changes (SetChargingProfile
messages) per re-plan with the threshold (max(100 W, 1 %)) on; then the same events replayed
with the threshold off, for comparison.

The sites are built from a fixed seed: the EVs are 3-phase (11 or 22 kW, 4140 W minimum) or
1-phase (3.7 or 7.4 kW, 1380 W minimum), one in ten of priority 1, three in ten with an energy
need and a departure, four in ten seen drawing less than they may. The site's connection is a
quarter of the EVSEs' nameplate, each group's feeder (in A, 3 phases) 40 % of its own; one
station in three has a 32 A limit for its two EVSEs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kilowatt.smartcharging.balancer import (
    Evse,
    Group,
    Limit,
    NodeKey,
    Policy,
    Session,
    SessionKey,
    Site,
    Station,
    Threshold,
    allocate,
    changes,
    failsafe_limits,
)

NOW = datetime(2025, 6, 2, 8, tzinfo=UTC)
KW22 = 22_000
NO_THRESHOLD = Policy(threshold=Threshold(0, Decimal(0)))


def build_site(evses: int, groups: int) -> Site:
    per_group = evses // groups // 2
    rnd = random.Random(1)
    children = []
    for g in range(groups):
        stations = tuple(
            Station(
                f"CS-{g:03}-{s:03}",
                (Evse(1, KW22), Evse(2, KW22)),
                Limit(amps=32) if rnd.random() < 1 / 3 else None,
            )
            for s in range(per_group)
        )
        feeder_amps = int(per_group * 2 * KW22 * 0.4 / (230 * 3))
        children.append(Group(f"feeder-{g:03}", stations, Limit(amps=feeder_amps)))
    return Site("garage", tuple(children), Limit(watts=evses * KW22 // 4))


def random_session(rnd: random.Random, station_id: str, evse_id: int, number: int) -> Session:
    three_phase = rnd.random() < 0.7
    max_power = rnd.choice([11_000, KW22] if three_phase else [3_700, 7_400])
    urgent = rnd.random() < 0.3
    drawing_less = rnd.random() < 0.4
    return Session(
        station_id,
        evse_id,
        f"tx-{number}",
        priority=1 if rnd.random() < 0.1 else 0,
        min_power=4_140 if three_phase else 1_380,
        max_power=max_power,
        energy_needed=rnd.randrange(5_000, 60_000) if urgent else None,
        departure=NOW + timedelta(minutes=rnd.randrange(30, 600)) if urgent else None,
        drawn=rnd.randrange(1_000, max_power) if drawing_less else None,
    )


class Scenario:
    def __init__(self, evses: int, groups: int, seed: int) -> None:
        self.site = build_site(evses, groups)
        self.rnd = random.Random(seed)
        self.free = [k for k in self.site.nodes() if isinstance(k, tuple)]
        self.rnd.shuffle(self.free)
        self.sessions: dict[tuple[str, int], Session] = {}
        self.count = 0
        for _ in range(int(evses * 0.7)):
            self.start()
        self.site_limit = evses * KW22 // 4
        self.limits: dict[NodeKey, int | None] = {}
        self.held: dict[SessionKey, int] = {}

    def start(self) -> None:
        station_id, evse_id = self.free.pop()
        self.count += 1
        session = random_session(self.rnd, station_id, evse_id, self.count)
        self.sessions[(station_id, evse_id)] = session

    def stop(self) -> None:
        evse = self.rnd.choice(sorted(self.sessions))
        del self.sessions[evse]
        self.free.insert(0, evse)

    def limit(self) -> None:
        factor = Decimal(self.rnd.randint(90, 110)) / 100
        self.limits["garage"] = int(self.site_limit * factor)

    def replan(self, policy: Policy) -> tuple[int, float]:
        """Re-plan, send the changes; the milliseconds of the re-plan and the changes sent."""
        sessions = list(self.sessions.values())
        began = time.perf_counter()
        result = allocate(self.site, self.limits, sessions, NOW, previous=self.held, policy=policy)
        sent = changes(self.held, result, policy.threshold)
        elapsed = (time.perf_counter() - began) * 1_000
        self.held = {k: v for k, v in self.held.items() if k in result.power}
        self.held.update({SessionKey(*c[:3]): c.power for c in sent})
        return len(sent), elapsed


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(len(values) * 0.95) - 1)]


def run(evses: int, groups: int, events: int, seed: int) -> None:
    """The same events (same seed) with the threshold on, then off."""
    figures: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for label, policy in (("on", Policy()), ("off", NO_THRESHOLD)):
        began = time.perf_counter()
        scenario = Scenario(evses, groups, seed)
        built = (time.perf_counter() - began) * 1_000
        sent, first_ms = scenario.replan(policy)
        kinds: list[tuple[str, Callable[[], None]]] = [
            ("start", scenario.start),
            ("stop", scenario.stop),
            ("limit", scenario.limit),
        ]
        figures[label] = {}
        for name, event in kinds:
            counts: list[float] = []
            times: list[float] = []
            for _ in range(events):
                event()
                count, elapsed = scenario.replan(policy)
                counts.append(count)
                times.append(elapsed)
            figures[label][name] = (times, counts)
    began = time.perf_counter()
    failsafe_limits(scenario.site)
    failsafe_ms = (time.perf_counter() - began) * 1_000
    print(
        f"{evses:,} EVSEs, {groups} groups, {int(evses * 0.7):,} sessions: topology {built:.0f} ms,"
        f" first allocation {first_ms:.0f} ms ({sent:,} profiles), failsafe {failsafe_ms:.0f} ms"
    )
    print(
        f"  {'event':6} {'re-plan ms: median':>18} {'p95':>6}   "
        f"{'changes, threshold on: median':>29} {'p95':>5} {'max':>5}   "
        f"{'off: median':>11} {'p95':>5}"
    )
    for name, (times, counts) in figures["on"].items():
        _, exact = figures["off"][name]
        print(
            f"  {name:6} {statistics.median(times):18.1f} {p95(times):6.1f}   "
            f"{statistics.median(counts):29.0f} {p95(counts):5.0f} {max(counts):5.0f}   "
            f"{statistics.median(exact):11.0f} {p95(exact):5.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20, help="events of each kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for evses, groups in ((1_000, 10), (10_000, 100)):
        run(evses, groups, args.events, args.seed)


if __name__ == "__main__":
    main()
