"""OCPP 2.1 local cost calculation end to end (I07-I12), over real sockets: the CSMS gives the
station its tariffs, the station prices the session itself and shows the cost, the price
changes during the session, and the station's cost and the CSMS's agree to the cent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from kilowatt.csms.store import IdTokenRecord, TariffRecord
from kilowatt.messages import decode, v21
from kilowatt.station.station import Station
from tests.station.live import running_station
from tests.station.test_against_csms import PASSWORD, TOKEN, Csms_, csms, until

__all__ = ["csms"]  # the fixture, imported for pytest

DAY = {
    "tariffId": "day",
    "currency": "EUR",
    "description": [
        {"format": "UTF8", "language": "en", "content": "0.30 EUR per kWh"},
        {"format": "UTF8", "language": "de", "content": "0,30 EUR pro kWh"},
    ],
    "energy": {"prices": [{"priceKwh": 0.30}], "taxRates": [{"type": "VAT", "tax": 19}]},
    "fixedFee": {"prices": [{"priceFixed": 0.5}]},
}
PEAK = {
    "tariffId": "peak",
    "currency": "EUR",
    "energy": {"prices": [{"priceKwh": 0.55}], "taxRates": [{"type": "VAT", "tax": 19}]},
    "chargingTime": {"prices": [{"priceMinute": 0.07}]},
}
MEMBERS = {
    "tariffId": "members",
    "currency": "EUR",
    "energy": {"prices": [{"priceKwh": 0.20}]},
}


def tariff(document: dict[str, object], **scope: object) -> TariffRecord:
    return TariffRecord(
        tariff_id=str(document["tariffId"]),
        tariff=json.dumps(document),
        is_default=bool(scope.get("is_default", False)),
        station_ids=scope.get("station_ids"),  # type: ignore[arg-type]
        group_ids=scope.get("group_ids"),  # type: ignore[arg-type]
        updated_at=scope["at"],  # type: ignore[arg-type]
    )


@pytest.fixture
async def station_21(csms: Csms_, tmp_path: Path) -> AsyncIterator[Station]:
    now = csms.csms.clock.now()
    await csms.csms.pricing.put(tariff(DAY, is_default=True, at=now))
    await csms.csms.pricing.put(tariff(PEAK, at=now))
    await csms.store.put_id_token(IdTokenRecord("TAG-1", "ISO14443", language1="de"))
    async with running_station(
        csms.url, tmp_path / "station", password=PASSWORD, ocpp_versions=("ocpp2.1",)
    ) as station:
        yield station


async def _ended(csms: Csms_, station: Station, transaction_id: str) -> None:
    async def ended() -> bool:
        record = await csms.store.get_transaction("CS-1", transaction_id)
        return record is not None and record.ended_at is not None and len(station.queue) == 0

    await until(ended)


async def _sent_events(csms: Csms_, transaction_id: str) -> list[v21.TransactionEventRequest]:
    """The TransactionEvents as the station sent them (the message log keeps the 2.1 frames)."""
    events = []
    for frame in await csms.store.frames("CS-1"):
        if (
            frame.direction == "in"
            and frame.action == "TransactionEvent"
            and frame.message_type == 2
        ):
            event = decode(json.dumps(json.loads(frame.text)[3]), v21.TransactionEventRequest)
            if event.transaction_info.transaction_id == transaction_id:
                events.append(event)
    return events


async def test_a_21_session_priced_by_the_station_and_the_csms_alike_across_a_price_change(
    csms: Csms_, station_21: Station
) -> None:
    station = station_21
    assert station.protocol == "ocpp2.1"

    async def has_default() -> bool:  # I07: sent after the boot
        found = station.tariffs.default_for(1, station.clock.now())
        return found is not None and found.tariff_id == "day"

    await until(has_default)
    station.plug_in(1)
    assert await station.present_token(1, TOKEN)
    tx = station.evses[1].transaction
    assert tx is not None
    assert "display: tariff day: 0,30 EUR pro kWh" in station.log  # the driver's language

    async def running_cost() -> bool:
        return any(line.startswith("display: running cost") for line in station.log)

    await until(running_cost)
    await asyncio.sleep(1.2)
    assert await csms.csms.change_transaction_tariff("CS-1", tx.id, "peak") == "Accepted"
    assert f"{tx.id}: tariff changed to peak" in station.log
    await asyncio.sleep(2.2)
    station.unplug(1)
    await _ended(csms, station, tx.id)

    events = await _sent_events(csms, tx.id)
    ended = events[-1]
    assert ended.event_type == v21.TransactionEventEnumType.ENDED
    assert ended.transaction_info.tariff_id == "peak"
    details = ended.cost_details
    assert not isinstance(details, msgspec.UnsetType)
    total = details.total_cost.total.incl_tax
    assert not isinstance(total, msgspec.UnsetType)
    station_total = Decimal(str(total))
    periods = details.charging_periods
    assert not isinstance(periods, msgspec.UnsetType)
    assert list(dict.fromkeys(p.tariff_id for p in periods)) == ["day", "peak"]
    changed = [e for e in events if e.trigger_reason == v21.TriggerReasonEnumType.TARIFF_CHANGED]
    assert len(changed) == 1

    record = await csms.store.get_transaction("CS-1", tx.id)
    assert record is not None
    engine = await csms.csms.pricing.cost(record, csms.csms.clock.now())
    assert engine is not None and engine.ended
    assert engine.tariff_ids == ("day", "peak")
    # The CSMS prices from the instant the station applied the change, as it reported it.
    rows = await csms.store.transaction_tariffs("CS-1", tx.id)
    assert [(r.tariff_id, r.at) for r in rows] == [
        ("day", record.started_at),
        ("peak", changed[0].timestamp),
    ]
    # Both ends agree to the cent: the station's costDetails, the CSMS's engine, and the
    # totalCost the CSMS answered (which the station keeps as the cost).
    assert station_total == engine.total_cost
    assert Decimal(str(station.cost[tx.id])) == engine.total_cost
    assert engine.total_cost > Decimal("0.50")  # the fixed fee of the first tariff, and more
    assert not any("corrected" in line for line in station.log)


async def test_the_drivers_group_tariff_comes_with_the_authorization(
    csms: Csms_, station_21: Station
) -> None:
    """I08: a driver whose group has its own tariff gets it in AuthorizeResponse, and the
    station prices their session with it."""
    station = station_21
    now = csms.csms.clock.now()
    await csms.csms.pricing.put(tariff(MEMBERS, group_ids=["CLUB"], at=now))
    await csms.store.put_id_token(IdTokenRecord("TAG-1", "ISO14443", group_id_token="CLUB"))
    station.plug_in(1)
    assert await station.present_token(1, TOKEN)
    tx = station.evses[1].transaction
    assert tx is not None
    found = station.tariffs.driver_tariff("TAG-1")
    assert found is not None and found.tariff_id == "members"
    await asyncio.sleep(1.5)
    station.unplug(1)
    await _ended(csms, station, tx.id)
    events = await _sent_events(csms, tx.id)
    assert {e.transaction_info.tariff_id for e in events} == {"members"}
    record = await csms.store.get_transaction("CS-1", tx.id)
    assert record is not None
    engine = await csms.csms.pricing.cost(record, csms.csms.clock.now())
    assert engine is not None and engine.tariff_id == "members"
    assert Decimal(str(station.cost[tx.id])) == engine.total_cost


async def test_the_driver_chooses_a_price_scheme(csms: Csms_, station_21: Station) -> None:
    """Two schemes on offer at the station (the default and the station's own); the driver
    picks the second, and the CSMS adopts the choice the station reports."""
    station = station_21
    now = csms.csms.clock.now()
    await csms.csms.pricing.put(tariff(PEAK, station_ids=["CS-1"], at=now))
    await csms.csms.send_tariffs("CS-1")

    async def offers_both() -> bool:
        offered = station.tariffs.offered(1, station.clock.now())
        return {t.tariff_id for t in offered} == {"day", "peak"}

    await until(offers_both)
    assert station.choose_tariff(1, "day")
    assert not station.choose_tariff(1, "no-such-tariff")
    station.plug_in(1)
    assert await station.present_token(1, TOKEN)
    tx = station.evses[1].transaction
    assert tx is not None
    await asyncio.sleep(1.5)
    station.unplug(1)
    await _ended(csms, station, tx.id)
    rows = await csms.store.transaction_tariffs("CS-1", tx.id)
    assert [r.tariff_id for r in rows] == ["day"]
    record = await csms.store.get_transaction("CS-1", tx.id)
    assert record is not None
    engine = await csms.csms.pricing.cost(record, csms.csms.clock.now())
    assert engine is not None
    assert Decimal(str(station.cost[tx.id])) == engine.total_cost
