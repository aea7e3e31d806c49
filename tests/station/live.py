"""A kilowatt station running against a CSMS over a real socket, for end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from kilowatt.devicemodel import AttributeKey, ComponentKey, StationShape, VariableKey
from kilowatt.messages import v201
from kilowatt.station.config import StationConfig
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station

__all__ = ["QUICK", "fast", "running_station"]

# Meter values every second, and reconnection at once: flows that take seconds, not minutes.
QUICK = {
    "SampledDataCtrlr__TxUpdatedInterval": "1",
    "OCPPCommCtrlr__RetryBackOffWaitMinimum": "0",
    "OCPPCommCtrlr__RetryBackOffRandomRange": "0",
}


def fast(station: Station, **values: str) -> None:
    """Set variables before the station runs, e.g. SampledDataCtrlr__TxUpdatedInterval="1"."""
    changes = {}
    for name, value in values.items():
        component, variable = name.split("__")
        key = AttributeKey(
            ComponentKey(component), VariableKey(variable), v201.AttributeEnumType.ACTUAL
        )
        changes[key] = value
    station.set_model(station.model.with_values(changes))


@asynccontextmanager
async def running_station(
    url: str,
    data_dir: Path,
    *,
    password: str | None,
    variables: dict[str, str] | None = None,
    boot_timeout: float = 10.0,
    **config: Any,
) -> AsyncIterator[Station]:
    """Station CS-1 connected and booted (Accepted) at ``url``; stopped on exit."""
    station = Station(
        StationConfig(
            shape=StationShape(identity="CS-1", vendor_name="kilowatt", model="sim"),
            csms_url=url,
            password=password,
            data_dir=data_dir,
            **config,
        ),
        ocpp201_router().handler_for,
    )
    fast(station, **(QUICK if variables is None else variables))
    task = asyncio.create_task(station.run())
    try:
        await asyncio.wait_for(station.accepted.wait(), boot_timeout)
        yield station
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
