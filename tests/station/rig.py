"""A station on a ManualClock whose CALLs are collected instead of sent: for the block tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kilowatt.clock import ManualClock
from kilowatt.devicemodel import AttributeKey, ComponentKey, EvseShape, StationShape, VariableKey
from kilowatt.messages import Request, v201
from kilowatt.station.config import StationConfig
from kilowatt.station.evse import Transaction
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station

T0 = datetime(2025, 1, 6, tzinfo=UTC)
ROUTER = ocpp201_router()
ACTUAL = v201.AttributeEnumType.ACTUAL
R = TypeVar("R")


def shape(evses: int = 1, **fields: Any) -> StationShape:
    return StationShape(
        identity="CS-1",
        vendor_name="Acme",
        model="M1",
        evses=tuple(EvseShape(22000.0) for _ in range(evses)),
        **fields,
    )


@dataclass
class Rig:
    station: Station
    clock: ManualClock
    sent: list[Any] = field(default_factory=list)
    answers: dict[type[Any], Any] = field(default_factory=dict)  # request type -> response
    reboots: list[v201.BootReasonEnumType] = field(default_factory=list)

    async def call(self, request: Request[R]) -> R:
        response = await ROUTER.handler_for(request)(request, self.station)
        await settle()
        return response  # type: ignore[return-value]

    def of(self, kind: type[R]) -> list[R]:
        return [m for m in self.sent if isinstance(m, kind)]

    def set_value(self, component: str, variable: str, value: str) -> None:
        key = AttributeKey(ComponentKey(component), VariableKey(variable), ACTUAL)
        self.station.set_model(self.station.model.with_values({key: value}))

    def start_transaction(self, evse_id: int, transaction_id: str = "tx-1") -> Transaction:
        tx = Transaction(id=transaction_id, started_at=self.clock.now())
        self.station.evses[evse_id].transaction = tx
        return tx

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)
        await settle()

    def close(self) -> None:
        """Close the event queue's file (a station with a data directory)."""
        self.station.queue.close()

    def online(self) -> None:
        """As if connected and accepted: StatusNotifications go out too."""
        self.station.registration = v201.RegistrationStatusEnumType.ACCEPTED
        self.station.connection = object()  # type: ignore[assignment]
        self.station.accepted.set()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def make_rig(data_dir: Path | None = None, evses: int = 1, **fields: Any) -> Rig:
    clock = ManualClock(T0)
    config = StationConfig(shape=shape(evses, **fields), csms_url="ws://unused", data_dir=data_dir)
    station = Station(config, ROUTER.handler_for, clock=clock)
    rig = Rig(station, clock)

    async def send(request: Request[Any]) -> Any:
        rig.sent.append(request)
        if type(request) in rig.answers:
            return rig.answers[type(request)]
        try:
            return request.RESPONSE_TYPE()
        except TypeError:
            return None

    async def reboot(reason: v201.BootReasonEnumType) -> None:
        rig.reboots.append(reason)
        station.registration = None
        station.accepted.clear()

    station.send = send  # type: ignore[method-assign]
    station.reboot = reboot  # type: ignore[method-assign]
    return rig
