"""A parking garage, end to end: kilowatt's CSMS balancing 20 simulated stations over real
sockets on 127.0.0.1, on one fast-forwarded clock.

The site has a 100 kW connection, with a 60 kW feeder (group) for ten of its stations. EVs that
want 11-22 kW arrive over the first hour and leave after 40-300 minutes. Every simulated minute
the power the stations' meters show is checked against every limit, and, when the EVs want
more than the site allows, against 95 % of what the limits allow. Then a grid operator's signal
lowers the site to 70 kW, and finally the CSMS is cut off: every station ends up on its
failsafe profile, and the limits still hold.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kilowatt.clock import ManualClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.balancing import HOLD_PROFILE_ID
from kilowatt.csms.config import Settings
from kilowatt.csms.store import IdTokenRecord, StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store
from kilowatt.devicemodel import EvseShape, StationShape
from kilowatt.messages import v201
from kilowatt.station.config import StationConfig
from kilowatt.station.ev import EvSpec, available_power
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station
from kilowatt.transport.server import Listener, StationServer
from tests.station.live import fast

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
PASSWORD = "garage-password"
TOKEN = v201.IdTokenType(id_token="GARAGE", type=v201.IdTokenEnumType.ISO14443)
SITE_W, FEEDER_W, SIGNAL_W = 100_000, 60_000, 70_000
STEP = 15.0  # simulated seconds per step
FEEDER = [f"G-{n:02d}" for n in range(1, 11)]
OTHERS = [f"G-{n:02d}" for n in range(11, 21)]


@dataclass
class Garage:
    clock: ManualClock
    csms: Csms
    store: SqlStore
    server: StationServer
    stations: dict[str, Station]
    tasks: list[asyncio.Task[Any]]

    async def run_for(self, seconds: float) -> None:
        """Fast-forward, letting real I/O between the stations and the CSMS keep up."""
        for _ in range(int(seconds / STEP)):
            await self.clock.advance(STEP)
            await asyncio.sleep(0.02)

    async def settle(self) -> None:
        """Wait (in real time) until the balancer has nothing to do and the stations' queues
        are empty: the clock stands still meanwhile, as if the network were instant."""
        balancer = self.csms.balancer
        deadline = asyncio.get_running_loop().time() + 30.0  # real time; see replanned_since
        while asyncio.get_running_loop().time() < deadline:
            queued = sum(len(s.queue) for s in self.stations.values())
            if not balancer.busy and queued == 0:
                return
            if balancer.waiting:
                await self.clock.advance(balancer.debounce)  # the debounce runs on the clock
            await asyncio.sleep(0.01)
        raise AssertionError("the CSMS and the stations did not settle")

    async def replanned_since(self, moment: datetime) -> None:
        """Wait (in real time) for the re-plan that the schedule boundary at ``moment`` wakes,
        and for what it sent to land."""
        # Up to 30 s of real time: on a loaded 2-core machine a re-plan of the garage's 20
        # stations and its CALLs can take seconds; a missing re-plan still fails.
        deadline = asyncio.get_running_loop().time() + 30.0
        while asyncio.get_running_loop().time() < deadline:
            planned = self.csms.balancer.planned_at("garage")
            if planned is not None and planned >= moment:
                await self.settle()
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"no re-plan after the boundary at {moment}")

    def power(self, names: list[str]) -> float:
        return sum(e.electric.power_w for n in names for e in self.stations[n].evses.values())

    def demand(self, names: list[str]) -> float:
        """What the EVs plugged and authorized would draw with no limit at all."""
        total = 0.0
        for name in names:
            station = self.stations[name]
            for evse in station.evses.values():
                soc = evse.electric.soc
                if evse.transaction is not None and evse.authorized is not None and soc is not None:
                    total += available_power(station.config.ev, soc, float("inf"))
        return total


def site_document(schedule: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": "garage",
        "limit": {"watts": SITE_W},
        "children": [
            {
                "group": "feeder",
                "limit": {"watts": FEEDER_W},
                "children": [{"station": name} for name in FEEDER],
            },
            *({"station": name} for name in OTHERS),
        ],
    }
    if schedule is not None:
        document["schedule"] = schedule
    return document


@pytest.fixture
async def garage(tmp_path: Path) -> AsyncIterator[Garage]:
    clock = ManualClock(T0)
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    csms = Csms(Settings(data_dir=str(tmp_path)), store, clock)
    server = StationServer([Listener("ws", "127.0.0.1")], SUBPROTOCOLS, csms.admit, csms.serve)
    password_hash = hash_password(PASSWORD)
    for name in FEEDER + OTHERS:
        await store.put_station(
            StationRecord(name, security_profile=1, password_hash=password_hash)
        )
    await store.put_id_token(IdTokenRecord("GARAGE", "ISO14443"))
    await csms.start()
    await csms.put_site(site_document())
    rng = random.Random(5)
    router = ocpp201_router()
    tasks: list[asyncio.Task[Any]] = []
    async with server:
        url = f"ws://127.0.0.1:{server.port('ws')}/ocpp"
        stations = {}
        for name in FEEDER + OTHERS:
            config = StationConfig(
                shape=StationShape(
                    identity=name, vendor_name="kilowatt", model="sim", evses=(EvseShape(22_000),)
                ),
                csms_url=url,
                password=PASSWORD,
                # 11-22 kW on three phases; a big battery, so the EVs want power all along.
                ev=EvSpec(battery_wh=150_000, max_power_w=rng.uniform(11_000, 22_000)),
            )
            station = Station(config, router.handler_for, clock=clock)
            fast(
                station,
                SampledDataCtrlr__TxUpdatedInterval="60",
                OCPPCommCtrlr__RetryBackOffWaitMinimum="5",
                OCPPCommCtrlr__RetryBackOffRandomRange="0",
            )
            stations[name] = station
            tasks.append(asyncio.create_task(station.run()))
        yield Garage(clock, csms, store, server, stations, tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    csms.close()
    await store.close()


async def test_a_garage_under_a_shared_limit(garage: Garage) -> None:
    async with asyncio.timeout(240):
        await scenario(garage)


async def scenario(garage: Garage) -> None:
    rng = random.Random(7)
    names = FEEDER + OTHERS
    arrivals = {name: 60.0 * rng.uniform(1, 60) for name in names}
    # Some leave within the first two hours; the others are still charging when the grid
    # signal comes and when the CSMS goes away.
    departures = {name: arrivals[name] + 60.0 * rng.uniform(40, 300) for name in names}
    while not all(s.accepted.is_set() for s in garage.stations.values()):
        await garage.run_for(STEP)
    started = garage.clock.now()
    rows: list[str] = []
    signal_at: datetime | None = None  # when the grid operator's lower limit starts
    saturated_minutes = 0

    async def minute(elapsed: float) -> None:
        nonlocal saturated_minutes
        for name in names:
            station = garage.stations[name]
            evse = station.evses[1]
            if arrivals[name] <= elapsed < departures[name] and evse.plugged is None:
                station.plug_in(1)
                assert await station.present_token(1, TOKEN)
            elif elapsed >= departures[name] and evse.plugged is not None:
                await station.present_token(1, TOKEN)
                station.unplug(1)
        await garage.run_for(60)
        await garage.settle()
        # The lower limit is checked once the re-plan its start woke has landed: a boundary
        # passed during the last step below is checked on the next minute.
        lowered = signal_at is not None and garage.clock.now() >= signal_at
        if signal_at is not None and lowered:
            await garage.replanned_since(signal_at)
        await garage.run_for(STEP)  # the stations apply what they were sent
        site_limit = SIGNAL_W if lowered else SITE_W
        total, feeder = garage.power(names), garage.power(FEEDER)
        demand = garage.demand(names)
        feasible = min(site_limit, min(FEEDER_W, garage.demand(FEEDER)) + garage.demand(OTHERS))
        rows.append(
            f"| {elapsed / 60:5.0f} | {site_limit / 1000:6.1f} | {total / 1000:6.1f} | "
            f"{feeder / 1000:6.1f} | {demand / 1000:6.1f} |"
        )
        assert total <= site_limit + 1, rows[-1]
        assert feeder <= FEEDER_W + 1, rows[-1]
        if demand > site_limit:
            saturated_minutes += 1
            # Work-conserving: what the limits allow is used (the EVs' minimum-rate rule and
            # the re-plan thresholds leave a little).
            assert total >= 0.95 * feasible, rows[-1]

    print("| minute | limit kW | site kW | feeder kW | wanted kW |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for index in range(90):
        await minute(60.0 * index)
    assert saturated_minutes >= 20  # the test did exercise a garage wanting more than it has

    # The grid operator lowers the site to 70 kW from the next quarter hour.
    now = garage.clock.now()
    boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=15 - now.minute % 15)
    await garage.csms.put_site(site_document([{"start": boundary.isoformat(), "watts": SIGNAL_W}]))
    signal_at = boundary
    # Each minute is measured after the re-plan it caused: the limit holds from the boundary.
    while garage.clock.now() < boundary + timedelta(minutes=15):
        await minute((garage.clock.now() - started).total_seconds())
    for row in rows:
        print(row)
    charging = [n for n in names if garage.stations[n].evses[1].transaction is not None]
    assert len(charging) >= 5  # the signal and the cut-off did meet charging EVs

    # The CSMS goes away; after the lease every station is on its failsafe profile.
    failsafe = SIGNAL_W / 20
    await garage.server.close()
    await garage.run_for(garage.csms.balancer.lease + 120)
    assert not any(s.accepted.is_set() for s in garage.stations.values())
    for name in names:
        station = garage.stations[name]
        evse = station.evses[1]
        assert station.limit_w(evse) <= failsafe + 1, name
        assert any(p.profile.id == HOLD_PROFILE_ID for p in station.profiles.installed)
    assert garage.power(names) <= SIGNAL_W
