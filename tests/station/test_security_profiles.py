"""The station over TLS against kilowatt's CSMS: security profile 2 (Basic auth over wss) and 3
(a client certificate, CN = the station id)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kilowatt.devicemodel import StationShape
from kilowatt.station.config import StationConfig
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station
from tests.integration.test_csms_e2e import PASSWORD, Stack, pki, stack

__all__ = ["pki", "stack"]  # the fixtures, imported for pytest


@pytest.fixture
async def running(
    stack: Stack, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Station]:
    station_id, profile = request.param
    await stack.add(station_id, profile=profile)
    client = stack.pki.stations.get(station_id) if profile == 3 else None
    config = StationConfig(
        shape=StationShape(
            identity=station_id, vendor_name="kilowatt", model="sim", security_profile=profile
        ),
        csms_url=stack.wss,
        password=PASSWORD if profile < 3 else None,
        csms_ca=stack.pki.ca,
        client_certificate=(client.certificate, client.private_key) if client else None,
        data_dir=tmp_path / station_id,
    )
    station = Station(config, ocpp201_router().handler_for)
    task = asyncio.create_task(station.run())
    yield station
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("running", [("CP-2", 2), ("CP-3", 3)], indirect=True)
async def test_the_station_boots_over_tls(stack: Stack, running: Station) -> None:
    await asyncio.wait_for(running.accepted.wait(), 10)
    session = stack.csms.registry.get(running.config.station_id)
    assert session is not None


async def test_profile_3_needs_a_client_certificate(stack: Stack, tmp_path: Path) -> None:
    config = StationConfig(
        shape=StationShape(identity="CP-3", vendor_name="k", model="m", security_profile=3),
        csms_url=stack.wss,
        csms_ca=stack.pki.ca,
        data_dir=tmp_path,
    )
    station = Station(config, ocpp201_router().handler_for)
    with pytest.raises(ValueError, match="needs a client certificate"):
        await station._connect()
    station.queue.close()
