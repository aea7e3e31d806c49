"""A CSMS on a real SQLite store with a manual clock, and stations talking to it in memory."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.csms.config import Settings
from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store
from kilowatt.messages import VERSIONS, PayloadCodec, Request, v201
from kilowatt.rpc import Endpoint, FrameRecord
from kilowatt.transport import Connection, channel_pair

StationHandler = Callable[[object], Awaitable[object]]


async def _refuse(request: object) -> object:
    raise AssertionError(f"the test station got an unexpected {request!r}")


class Station:
    """A station side over a memory channel: makes calls, records the CSMS's calls to it."""

    def __init__(self, csms: Csms, station_id: str, handler: StationHandler) -> None:
        self.station_id = station_id
        self.received: list[object] = []
        self.frames: list[FrameRecord] = []
        self.handler = handler
        station_end, csms_end = channel_pair()
        version = VERSIONS["2.0.1"]
        endpoint = Endpoint(
            PayloadCodec(version, "station"), version.dialect, trace=self.frames.append
        )
        self.connection = Connection(station_end, endpoint, csms.clock, self._on_call)
        self._tasks = [
            asyncio.create_task(self.connection.run()),
            asyncio.create_task(
                csms.serve_channel(station_id, csms_end, subprotocol="ocpp2.0.1", remote="memory")
            ),
        ]

    async def _on_call(self, request: object) -> object:
        self.received.append(request)
        return await self.handler(request)

    async def call(self, request: Request[Any]) -> Any:
        return await self.connection.call(request)

    async def boot(self) -> v201.BootNotificationResponse:
        return await self.call(
            v201.BootNotificationRequest(
                charging_station=v201.ChargingStationType(
                    model="KW-22", vendor_name="kilowatt", serial_number="S1"
                ),
                reason=v201.BootReasonEnumType.POWER_UP,
            )
        )

    async def disconnect(self) -> None:
        await self.connection.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclasses.dataclass
class World:
    csms: Csms
    store: SqlStore
    clock: ManualClock
    stations: list[Station]

    async def station(
        self,
        station_id: str = "CP-1",
        *,
        handler: StationHandler = _refuse,
        register: bool = True,
        **record: Any,
    ) -> Station:
        if register and await self.store.get_station(station_id) is None:
            await self.store.put_station(StationRecord(station_id, **record))
        station = Station(self.csms, station_id, handler)
        self.stations.append(station)
        await asyncio.sleep(0)
        return station


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}", flush_interval=0)
    clock = ManualClock()
    settings = Settings(data_dir=str(tmp_path), call_timeout=5.0)
    world = World(Csms(settings, store, clock), store, clock, [])
    yield world
    for station in world.stations:
        await station.disconnect()
    await store.close()
