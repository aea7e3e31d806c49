"""Pricing in the CSMS for OCPP 2.0.1 stations (I01-I03): the tariff text a driver sees before
charging, the running cost during the session, and the total cost at its end.

Tariffs are OCPP 2.1 TariffTypes (``kilowatt.tariffs``), so that the same document can later go
to 2.1 stations as is. Which tariff applies to a transaction: the first whose id-token groups
hold the driver's group, else the first that names its EVSE, its station, its site, else the
default one. The cost
comes from the engine over what the CSMS stored of the transaction (its energy readings and
charging states), so the running cost and the final cost are those a station with the same
facts computes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import msgspec

from kilowatt.csms.store import Store, TariffRecord, TransactionRecord
from kilowatt.messages import CustomData, decode, v21, v201
from kilowatt.tariffs import (
    CostBreakdown,
    MeterReading,
    Session,
    State,
    StateChange,
    calculate,
    pick_description,
    price_text,
)

__all__ = ["COSTMSG", "Pricing", "TariffChoice", "california_prices"]

# The OCA's California pricing (whitepaper for 1.6 and 2.0.1): running-cost data in customData
# of CostUpdated, for stations that declare CustomImplementationEnabled[COSTMSG].
COSTMSG = "org.openchargealliance.costmsg"

logger = logging.getLogger(__name__)

ENERGY = v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER.value
POWER = v201.MeasurandEnumType.POWER_ACTIVE_IMPORT.value
CHARGING = {v201.ChargingStateEnumType.CHARGING}


@dataclass(frozen=True)
class TariffChoice:
    record: TariffRecord
    tariff: v21.TariffType


class Pricing:
    """The tariffs, kept in memory (the store holds them), and the cost of transactions."""

    def __init__(self, store: Store, site_of: Callable[[str], str | None] = lambda _: None) -> None:
        self._store = store
        self._site_of = site_of
        self._tariffs: list[TariffChoice] = []
        self._chosen: dict[tuple[str, str], TariffChoice | None] = {}  # per transaction

    async def load(self) -> None:
        self._tariffs = [_choice(record) for record in await self._store.tariffs()]

    @property
    def tariffs(self) -> list[TariffChoice]:
        return list(self._tariffs)

    @property
    def any(self) -> bool:
        """Whether there is a tariff at all (checked on every TransactionEvent)."""
        return bool(self._tariffs)

    async def put(self, record: TariffRecord) -> TariffChoice:
        """Store a tariff (replacing one of the same id).

        Raises:
            RpcError: not an OCPP 2.1 TariffType (the error names the field);
            msgspec.DecodeError: not JSON.
        """
        choice = _choice(record)
        await self._store.put_tariff(record)
        self._tariffs = [c for c in self._tariffs if c.record.tariff_id != record.tariff_id]
        self._tariffs.append(choice)
        self._tariffs.sort(key=lambda c: c.record.tariff_id)
        return choice

    async def delete(self, tariff_id: str) -> bool:
        self._tariffs = [c for c in self._tariffs if c.record.tariff_id != tariff_id]
        return await self._store.delete_tariff(tariff_id)

    def tariff_for(
        self, station_id: str, group_id: str | None, evse_id: int | None = None
    ) -> TariffChoice | None:
        """The driver's group first, then the EVSE, the station, its site, the default."""
        site_id = self._site_of(station_id)
        scopes: list[Callable[[TariffRecord], bool]] = [
            lambda r: group_id is not None and group_id in (r.group_ids or ()),
            lambda r: evse_id is not None and f"{station_id}/{evse_id}" in (r.evse_ids or ()),
            lambda r: station_id in (r.station_ids or ()),
            lambda r: site_id is not None and site_id in (r.site_ids or ()),
            lambda r: r.is_default,
        ]
        for applies in scopes:
            for choice in self._tariffs:
                if applies(choice.record):
                    return choice
        return None

    async def for_transaction(self, record: TransactionRecord) -> TariffChoice | None:
        """The tariff of a transaction, chosen once (by its token's group and its station) and
        kept for it: a tariff edited later applies to later transactions."""
        key = (record.station_id, record.transaction_id)
        if key not in self._chosen:
            group = None
            if record.id_token is not None and record.id_token_type is not None:
                token = await self._store.get_id_token(record.id_token, record.id_token_type)
                group = token.group_id_token if token is not None else None
            self._chosen[key] = self.tariff_for(record.station_id, group, record.evse_id)
        return self._chosen[key]

    def forget(self, record: TransactionRecord) -> None:
        self._chosen.pop((record.station_id, record.transaction_id), None)

    def tariff_text(
        self, choice: TariffChoice, language1: str | None, language2: str | None
    ) -> v201.MessageContentType:
        """I01: the tariff in the driver's language when the tariff has a text in it."""
        picked = pick_description(choice.tariff.description, language1, language2)
        if picked is not None:
            return v201.MessageContentType(
                format=v201.MessageFormatEnumType(str(picked.format)),
                content=picked.content[:512],
                language=picked.language,
            )
        return v201.MessageContentType(
            format=v201.MessageFormatEnumType.UTF8,
            content=price_text(choice.tariff)[:512],
            language="en",
        )

    async def cost(
        self, choice: TariffChoice, record: TransactionRecord, at: datetime
    ) -> CostBreakdown:
        """The cost of a transaction as stored: final once it ended, else the running cost."""
        assert record.started_at is not None
        samples = await self._store.meter_samples(
            record.station_id, transaction_id=record.transaction_id
        )
        energy: dict[datetime, Decimal] = {}
        power: dict[datetime, Decimal] = {}
        for sample in samples:
            if sample.phase is not None:
                continue
            scale = Decimal(10) ** (sample.multiplier or 0)
            if sample.measurand == ENERGY:
                kilo = Decimal(1000) if sample.unit == "kWh" else Decimal(1)
                energy[sample.timestamp] = Decimal(str(sample.value)) * scale * kilo
            elif sample.measurand == POWER:
                kilo = Decimal(1000) if sample.unit == "kW" else Decimal(1)
                power[sample.timestamp] = Decimal(str(sample.value)) * scale * kilo
        readings = []
        highest = Decimal(0)
        for when in sorted(energy):
            highest = max(highest, energy[when])  # a register never falls; a reading may
            readings.append(MeterReading(when, highest, power.get(when)))
        changes = [
            StateChange(when, State.CHARGING if charging else State.IDLE)
            for when, charging in await self._charging_states(record)
        ]
        session = Session(
            start=record.started_at,
            readings=tuple(readings),
            changes=tuple(changes),
            end=record.ended_at,
        )
        return calculate(choice.tariff, session, at=None if record.ended_at else at)

    async def wants_california_prices(self, station_id: str) -> bool:
        """Whether the station declared the California-pricing extension in its device model."""
        for variable in await self._store.variables(station_id):
            if (
                variable.component == "CustomizationCtrlr"
                and variable.variable == "CustomImplementationEnabled"
                and variable.variable_instance == COSTMSG
                and variable.attribute_type == "Actual"
            ):
                return variable.value == "true"
        return False

    async def _charging_states(self, record: TransactionRecord) -> list[tuple[datetime, bool]]:
        found = []
        for stored in await self._store.transaction_events(
            record.station_id, record.transaction_id
        ):
            event = decode(stored.payload, v201.TransactionEventRequest)
            state = event.transaction_info.charging_state
            if state is not msgspec.UNSET:
                found.append((event.timestamp, state in CHARGING))
        return found


def california_prices(
    choice: TariffChoice, cost: CostBreakdown, at: datetime, charging: bool
) -> CustomData:
    """The California-pricing ``customData`` of a CostUpdated: the reading, the state, and the
    prices in force (the tariff's first price of each kind, per kWh, per hour, fixed), with the
    idle price and its grace period."""
    tariff = choice.tariff
    charging_price: dict[str, float] = {}
    if tariff.energy is not msgspec.UNSET:
        charging_price["kWhPrice"] = tariff.energy.prices[0].price_kwh
    if tariff.charging_time is not msgspec.UNSET:
        charging_price["hourPrice"] = round(tariff.charging_time.prices[0].price_minute * 60, 6)
    if tariff.fixed_fee is not msgspec.UNSET:
        charging_price["flatFee"] = tariff.fixed_fee.prices[0].price_fixed
    extra: dict[str, object] = {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "meterValue": int(cost.usage.energy_wh),
        "state": "Charging" if charging else "Idle",
        "chargingPrice": charging_price,
    }
    if tariff.idle_time is not msgspec.UNSET:
        idle = tariff.idle_time.prices[-1]
        grace = 0
        if (
            idle.conditions is not msgspec.UNSET
            and idle.conditions.min_idle_time is not msgspec.UNSET
        ):
            grace = idle.conditions.min_idle_time // 60
        extra["idlePrice"] = {"graceMinutes": grace, "hourPrice": round(idle.price_minute * 60, 6)}
    return CustomData(COSTMSG, extra)


def _choice(record: TariffRecord) -> TariffChoice:
    return TariffChoice(record, decode(record.tariff, v21.TariffType))
