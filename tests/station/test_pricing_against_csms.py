"""Pricing end to end (I01-I03): the tariff text in the driver's language before charging,
CostUpdated while charging, and a total cost at the end equal to the cost engine's."""

from __future__ import annotations

import asyncio
import json
from decimal import ROUND_HALF_UP, Decimal

from kilowatt.csms.pricing import COSTMSG
from kilowatt.csms.store import IdTokenRecord, TariffRecord, VariableRecord
from kilowatt.station.station import Station
from tests.station.test_against_csms import TOKEN, Csms_, csms, running, until

__all__ = ["csms", "running"]  # the fixtures, imported for pytest

TARIFF = {
    "tariffId": "standard",
    "currency": "EUR",
    "description": [
        {"format": "UTF8", "language": "en", "content": "0.30 EUR per kWh"},
        {"format": "UTF8", "language": "de", "content": "0,30 EUR pro kWh"},
    ],
    "energy": {"prices": [{"priceKwh": 0.30}]},
}


async def test_a_session_priced_in_the_drivers_language(csms: Csms_, running: Station) -> None:
    await csms.store.put_id_token(IdTokenRecord("TAG-1", "ISO14443", language1="de"))
    await csms.csms.pricing.put(
        TariffRecord("standard", json.dumps(TARIFF), True, None, None, csms.csms.clock.now())
    )
    running.plug_in(1)
    assert await running.present_token(1, TOKEN)
    assert "display: 0,30 EUR pro kWh" in running.log  # I01, in German
    tx = running.evses[1].transaction
    assert tx is not None

    async def running_cost() -> bool:
        return running.cost.get(tx.id, 0) > 0  # I02: CostUpdated after a periodic reading

    await until(running_cost)
    await asyncio.sleep(0.5)
    running.unplug(1)

    async def ended() -> bool:
        record = await csms.store.get_transaction("CS-1", tx.id)
        return record is not None and record.ended_at is not None and len(running.queue) == 0

    await until(ended)
    record = await csms.store.get_transaction("CS-1", tx.id)
    assert record is not None
    engine = await csms.csms.pricing.cost(record, csms.csms.clock.now())
    assert engine is not None
    assert engine.ended
    # I03: the total in the answer to the Ended event is the engine's, to the cent.
    assert Decimal(str(running.cost[tx.id])) == engine.total_cost
    assert engine.total_cost == (
        Decimal(str(record.meter_last_wh)) / 1000 * Decimal("0.30")
    ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def test_california_prices_for_a_station_that_declares_them(
    csms: Csms_, running: Station
) -> None:
    await csms.store.put_variables(
        [
            VariableRecord(
                "CS-1",
                "CustomizationCtrlr",
                "CustomImplementationEnabled",
                variable_instance=COSTMSG,
                value="true",
            )
        ]
    )
    tariff = {
        **TARIFF,
        "idleTime": {"prices": [{"priceMinute": 0.1, "conditions": {"minIdleTime": 1800}}]},
    }
    await csms.csms.pricing.put(
        TariffRecord("standard", json.dumps(tariff), True, None, None, csms.csms.clock.now())
    )
    running.plug_in(1)
    assert await running.present_token(1, TOKEN)
    found: list[dict[str, object]] = []

    async def cost_with_prices() -> bool:
        for frame in await csms.store.frames("CS-1"):
            if frame.action == "CostUpdated" and frame.direction == "out":
                payload = json.loads(frame.text)[3]
                found.append(payload["customData"])
                return True
        return False

    await until(cost_with_prices)
    data = found[0]
    assert data["vendorId"] == COSTMSG
    assert data["chargingPrice"] == {"kWhPrice": 0.3}
    assert data["idlePrice"] == {"graceMinutes": 30, "hourPrice": 6.0}
    assert data["state"] == "Charging"
    assert isinstance(data["meterValue"], int)
