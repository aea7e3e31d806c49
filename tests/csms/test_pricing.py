"""Which tariff applies: the driver's group, then the EVSE, the station, its site, the default."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kilowatt.csms.pricing import Pricing
from kilowatt.csms.store import TariffRecord
from kilowatt.csms.store.sql import open_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def tariff(tariff_id: str, **scopes: object) -> TariffRecord:
    document = {"tariffId": tariff_id, "currency": "EUR", "energy": {"prices": [{"priceKwh": 1}]}}
    return TariffRecord(
        tariff_id,
        json.dumps(document),
        bool(scopes.pop("default", False)),
        scopes.get("stations"),  # type: ignore[arg-type]
        scopes.get("groups"),  # type: ignore[arg-type]
        T0,
        scopes.get("sites"),  # type: ignore[arg-type]
        scopes.get("evses"),  # type: ignore[arg-type]
    )


async def test_the_narrowest_scope_wins(tmp_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    try:
        pricing = Pricing(store, {"CS-1": "garage", "CS-2": "garage"}.get)
        for record in (
            tariff("a-default", default=True),
            tariff("b-site", sites=["garage"]),
            tariff("c-station", stations=["CS-1"]),
            tariff("d-evse", evses=["CS-1/2"]),
            tariff("e-group", groups=["FLEET"]),
        ):
            await pricing.put(record)

        def chosen(station: str, group: str | None, evse: int | None) -> str | None:
            choice = pricing.tariff_for(station, group, evse)
            return choice.record.tariff_id if choice else None

        assert chosen("CS-1", "FLEET", 2) == "e-group"
        assert chosen("CS-1", None, 2) == "d-evse"
        assert chosen("CS-1", None, 1) == "c-station"
        assert chosen("CS-2", None, 1) == "b-site"
        assert chosen("CS-9", None, 1) == "a-default"
        assert await pricing.delete("a-default")
        assert chosen("CS-9", None, 1) is None
        reloaded = Pricing(store)
        await reloaded.load()
        assert [c.record.tariff_id for c in reloaded.tariffs] == [
            "b-site",
            "c-station",
            "d-evse",
            "e-group",
        ]
    finally:
        await store.close()
