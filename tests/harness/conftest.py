"""kilowatt's CSMS and kilowatt's station as implementations under test of the harness, each
over real sockets on 127.0.0.1, driven through their own interfaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from kilowatt.api import create_app
from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.config import Settings
from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import open_store
from kilowatt.devicemodel import StationShape
from kilowatt.harness.context import StationLink, Target
from kilowatt.harness.drivers import CallableDriver, HttpDriver, kilowatt_csms_driver
from kilowatt.messages import v201
from kilowatt.station.config import StationConfig
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station
from kilowatt.transport.server import Listener, StationServer
from tests.station.live import fast

API_TOKEN = "harness-token"
PASSWORD = "harness-password-1"


@dataclass
class CsmsUnderTest:
    csms: Csms
    target: Target
    driver: HttpDriver


@pytest.fixture
async def kilowatt_csms(tmp_path: Path) -> AsyncIterator[CsmsUnderTest]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    settings = replace(Settings(data_dir=str(tmp_path)), api_tokens=(API_TOKEN,), call_timeout=5.0)
    csms = Csms(settings, store, SystemClock())
    await csms.start()
    await store.put_station(
        StationRecord("HARNESS-1", security_profile=1, password_hash=hash_password(PASSWORD))
    )
    server = StationServer([Listener("ws", "127.0.0.1")], SUBPROTOCOLS, csms.admit, csms.serve)
    driver = kilowatt_csms_driver(
        "http://kilowatt.test", API_TOKEN, transport=httpx.ASGITransport(app=create_app(csms))
    )
    async with server:
        target = Target(
            role="csms",
            url=f"ws://127.0.0.1:{server.port('ws')}/ocpp",
            station_id="HARNESS-1",
            password=PASSWORD,
            timeout=5.0,
        )
        yield CsmsUnderTest(csms, target, driver)
    await driver.close()
    csms.close()
    await store.close()


# -- kilowatt's station under test -----------------------------------------------------------

STATION_ID = "CS-H"
STATION_PASSWORD = "harness-station-password-1"
# Meter values every second and reconnection at once, so that the cases take seconds.
STATION_VARIABLES = {
    "SampledDataCtrlr__TxUpdatedInterval": "1",
    "OCPPCommCtrlr__RetryBackOffWaitMinimum": "0",
    "OCPPCommCtrlr__RetryBackOffRandomRange": "0",
}


@dataclass
class StationUnderTest:
    station: Station
    target: Target
    driver: CallableDriver
    link: StationLink


def station_driver(station: Station) -> CallableDriver:
    """The driver's vocabulary for a station (drivers.py) done by the Station's own methods."""

    async def plug_in(evse_id: int, connector_id: int = 1) -> None:
        station.plug_in(evse_id, connector_id)

    async def unplug(evse_id: int) -> None:
        station.unplug(evse_id)

    async def present_token(evse_id: int, id_token: str, type: str) -> bool:
        token = v201.IdTokenType(id_token=id_token, type=v201.IdTokenEnumType(type))
        return await station.present_token(evse_id, token)

    async def reboot() -> None:
        await station.reboot(v201.BootReasonEnumType.POWER_UP)

    return CallableDriver(
        {"plug_in": plug_in, "unplug": unplug, "present_token": present_token, "reboot": reboot}
    )


@pytest.fixture
async def kilowatt_station(tmp_path: Path) -> AsyncIterator[StationUnderTest]:
    """kilowatt's station connected to the harness's server (the harness plays its CSMS),
    booted; the harness's plain answers accept the boot."""
    target = Target(role="station", station_id=STATION_ID, password=STATION_PASSWORD, timeout=10.0)
    async with StationLink(target) as link:
        station = Station(
            StationConfig(
                shape=StationShape(identity=STATION_ID, vendor_name="kilowatt", model="sim"),
                csms_url=f"ws://127.0.0.1:{link.port}/ocpp",
                password=STATION_PASSWORD,
                data_dir=tmp_path / "station",
            ),
            ocpp201_router().handler_for,
        )
        fast(station, **STATION_VARIABLES)
        task = asyncio.create_task(station.run(), name="station under test")
        try:
            await asyncio.wait_for(station.accepted.wait(), target.timeout)
            yield StationUnderTest(station, target, station_driver(station), link)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
