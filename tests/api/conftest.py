"""The API over a real Csms on a real SQLite store, with simulated stations in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from kilowatt.api import create_app
from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.csms.config import Settings
from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store

from .station import Answer, SimulatedStation

TOKEN = "test-token-1"
OTHER_TOKEN = "test-token-2"

Connect = Callable[..., Awaitable[SimulatedStation]]


@pytest.fixture
def settings() -> Settings:
    return replace(Settings(), api_tokens=(TOKEN, OTHER_TOKEN), call_timeout=10.0)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'kilowatt.db'}")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def csms(settings: Settings, store: SqlStore, clock: ManualClock) -> Csms:
    return Csms(settings, store, clock)


@pytest.fixture
async def client(csms: Csms) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(csms)),
        base_url="http://kilowatt.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as api:
        yield api


@pytest.fixture
async def connect(csms: Csms) -> AsyncIterator[Connect]:
    """Connect a simulated station (registering it first unless it is known), over OCPP 2.0.1
    unless told ``subprotocol="ocpp2.1"``."""
    started: list[SimulatedStation] = []

    async def connect_station(
        station_id: str = "CS1", answer: Answer | None = None, subprotocol: str = "ocpp2.0.1"
    ) -> SimulatedStation:
        if await csms.store.get_station(station_id) is None:
            await csms.store.put_station(StationRecord(station_id=station_id))
        station = SimulatedStation(csms, station_id, answer, subprotocol)
        await station.start()
        started.append(station)
        return station

    yield connect_station
    for station in started:
        await station.close()
