"""A standard station model (two EVSEs, the first with two connectors) and request builders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from msgspec import UNSET

from kilowatt.devicemodel import (
    ConnectorShape,
    DeviceModel,
    EvseShape,
    StationShape,
    standard_model,
)
from kilowatt.messages import v201

T0 = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)
SHAPE = StationShape(
    identity="CS-1",
    vendor_name="Acme",
    model="Volt-22",
    serial_number="SN-0001",
    firmware_version="1.2.3",
    evses=(
        EvseShape(22000.0, (ConnectorShape("cType2"), ConnectorShape("cCCS2"))),
        EvseShape(11000.0, (ConnectorShape("sType2", phases=1),), phases=1),
    ),
    security_profile=2,
    organization_name="Kilowatt Test",
)


@pytest.fixture
def model() -> DeviceModel:
    return standard_model(SHAPE)


def component(
    name: str, *, instance: str | None = None, evse: int | None = None, connector: int | None = None
) -> v201.ComponentType:
    evse_type: v201.EVSEType | None = None
    if evse is not None:
        evse_type = v201.EVSEType(id=evse, connector_id=UNSET if connector is None else connector)
    return v201.ComponentType(
        name=name,
        instance=UNSET if instance is None else instance,
        evse=UNSET if evse_type is None else evse_type,
    )


def variable(name: str, instance: str | None = None) -> v201.VariableType:
    return v201.VariableType(name=name, instance=UNSET if instance is None else instance)
