"""Pricing in the CSMS: the tariff text a driver sees before charging, the running cost during
the session, and the total cost at its end (OCPP 2.0.1, I01-I03); the tariffs a 2.1 station
prices with itself and the check of its cost (I07-I12).

Tariffs are OCPP 2.1 TariffTypes (``kilowatt.tariffs``), so the same document goes to 2.1
stations as is. Which tariff applies to a transaction: the first whose id-token groups hold the
driver's group, else the first that names its EVSE, its station, its site, else the default
one; a 2.1 station may report another (the scheme its driver chose), which the CSMS adopts when
it is one of its own. A transaction keeps its tariffs, the first and each change, in the store.
The cost comes from the engine over the TransactionEvents the CSMS stored
(``tariffs/events.py``), the facts a station that prices locally reads from the events it
sent: both compute the same cost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from kilowatt.csms.store import Store, TariffRecord, TransactionRecord, TransactionTariffRecord
from kilowatt.messages import CustomData, decode, encode, v21, v201
from kilowatt.tariffs import (
    CostBreakdown,
    TariffChange,
    calculate,
    pick_description,
    price_text,
)
from kilowatt.tariffs.events import session_from_events

if TYPE_CHECKING:
    from kilowatt.csms.commands import CommandBus

__all__ = [
    "COSTMSG",
    "Pricing",
    "TariffChoice",
    "TransactionTariffs",
    "california_prices",
    "send_default_tariffs",
    "send_running_cost",
]

# The OCA's California pricing (whitepaper for 1.6 and 2.0.1): running-cost data in customData
# of CostUpdated, for stations that declare CustomImplementationEnabled[COSTMSG].
COSTMSG = "org.openchargealliance.costmsg"

logger = logging.getLogger(__name__)

# How far the instant a station reports for a tariff change may lie from the CSMS's own
# record of it (clock skew plus the round trip) and still be taken.
CHANGE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class TransactionTariffs:
    """The tariff a transaction started with and the changes since (I12), in order."""

    first: v21.TariffType
    changes: tuple[TariffChange, ...] = ()

    @property
    def current(self) -> v21.TariffType:
        return self.changes[-1].tariff if self.changes else self.first

    @classmethod
    def of(cls, rows: list[TransactionTariffRecord]) -> TransactionTariffs:
        tariffs = [decode(row.tariff, v21.TariffType) for row in rows]
        changes = tuple(
            TariffChange(row.at, t) for row, t in zip(rows[1:], tariffs[1:], strict=True)
        )
        return cls(tariffs[0], changes)


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
        self._of_transaction: dict[tuple[str, str], TransactionTariffs] = {}
        # A station's report of a change that came before the CSMS recorded the change (the
        # station sends its TariffChanged event as it answers): (tariff id, instant).
        self._reported: dict[tuple[str, str], tuple[str, datetime]] = {}

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

    def driver_tariff(self, group_id: str | None) -> TariffChoice | None:
        """I08: the tariff of a driver's group, if it has one of its own (a subscription)."""
        if group_id is None:
            return None
        return next((c for c in self._tariffs if group_id in (c.record.group_ids or ())), None)

    def station_tariffs(self, station_id: str) -> list[tuple[int, v21.TariffType]]:
        """I07: the default tariffs a 2.1 station holds, as (EVSE id, tariff), 0 for every
        EVSE: the everyone-else default, the site's and the station's (the price schemes a
        driver may choose from), then each EVSE's own. Least specific first: a station takes
        the tariff set last as the default of an EVSE (station/tariffs.py)."""
        site_id = self._site_of(station_id)
        found: list[tuple[int, v21.TariffType]] = []
        for applies in (
            lambda r: r.is_default,
            lambda r: site_id is not None and site_id in (r.site_ids or ()),
            lambda r: station_id in (r.station_ids or ()),
        ):
            for choice in self._tariffs:
                entry = (0, choice.tariff)
                if applies(choice.record) and entry not in found:
                    found.append(entry)
        prefix = f"{station_id}/"
        for choice in self._tariffs:
            for scope in choice.record.evse_ids or ():
                if scope.startswith(prefix) and scope[len(prefix) :].isdigit():
                    found.append((int(scope[len(prefix) :]), choice.tariff))
        return found

    async def of_transaction(self, record: TransactionRecord) -> TransactionTariffs | None:
        """The tariffs of a transaction: the one chosen when first asked (by its token's group,
        its EVSE and station), then every change. Stored with their content: a tariff edited
        or deleted later does not change a transaction's cost, nor does a restart."""
        key = (record.station_id, record.transaction_id)
        known = self._of_transaction.get(key)
        if known is not None:
            return known
        rows = await self._store.transaction_tariffs(*key)
        if not rows:
            group = None
            if record.id_token is not None and record.id_token_type is not None:
                token = await self._store.get_id_token(record.id_token, record.id_token_type)
                group = token.group_id_token if token is not None else None
            choice = self.tariff_for(record.station_id, group, record.evse_id)
            if choice is None or record.started_at is None:
                return None
            rows = [self._row(record, 0, record.started_at, choice.tariff)]
            await self._store.put_transaction_tariff(rows[0])
        tariffs = TransactionTariffs.of(rows)
        self._of_transaction[key] = tariffs
        return tariffs

    async def adopt(self, record: TransactionRecord, tariff_id: str) -> bool:
        """A 2.1 station says which tariff it applies to a transaction (transactionInfo.tariffId:
        the default of its EVSE, the driver's tariff, or the scheme the driver chose): the CSMS
        prices the transaction with that tariff too, if it is one of the CSMS's and no change
        was made yet. Returns whether the transaction's tariff is now ``tariff_id``."""
        current = await self.of_transaction(record)
        if current is not None and current.current.tariff_id == tariff_id:
            return True
        if current is not None and current.changes:
            return False  # after a change the CSMS's record stands; the station is corrected
        choice = next((c for c in self._tariffs if c.record.tariff_id == tariff_id), None)
        if choice is None or record.started_at is None:
            return False
        row = self._row(record, 0, record.started_at, choice.tariff)
        await self._store.put_transaction_tariff(row)
        self._of_transaction[(record.station_id, record.transaction_id)] = TransactionTariffs.of(
            [row]
        )
        return True

    async def change(self, record: TransactionRecord, tariff: v21.TariffType, at: datetime) -> None:
        """I12: from ``at`` on the transaction is priced with ``tariff``.

        Raises:
            ValueError: the transaction has no tariff to change, or ``tariff`` is in another
                currency (the station would answer NoCurrencyChange).
        """
        current = await self.of_transaction(record)
        if current is None:
            raise ValueError(f"transaction {record.transaction_id} has no tariff to change")
        if tariff.currency.upper() != current.first.currency.upper():
            raise ValueError(
                f"the transaction is priced in {current.first.currency}, not {tariff.currency}"
            )
        key = (record.station_id, record.transaction_id)
        reported = self._reported.pop(key, None)
        if reported is not None and reported[0] == tariff.tariff_id:
            at = self._agreed(record, tariff.tariff_id, reported[1], at, current)
        row = self._row(record, len(current.changes) + 1, at, tariff)
        await self._store.put_transaction_tariff(row)
        self._of_transaction[(record.station_id, record.transaction_id)] = TransactionTariffs(
            current.first, (*current.changes, TariffChange(at, tariff))
        )

    async def changed_at(self, record: TransactionRecord, tariff_id: str, at: datetime) -> None:
        """The instant a 2.1 station applied a change, as it reports it (its TransactionEvent
        with trigger TariffChanged): both ends then price from the same instant, instead of
        the CSMS's moment of the answer, a round trip apart."""
        key = (record.station_id, record.transaction_id)
        current = await self.of_transaction(record)
        if current is None:
            return
        if not current.changes or current.changes[-1].tariff.tariff_id != tariff_id:
            self._reported[key] = (tariff_id, at)  # the CSMS records the change next
            return
        last = current.changes[-1]
        agreed = self._agreed(record, tariff_id, at, last.at, current)
        if agreed == last.at:
            return
        position = len(current.changes)
        await self._store.put_transaction_tariff(self._row(record, position, agreed, last.tariff))
        self._of_transaction[key] = TransactionTariffs(
            current.first, (*current.changes[:-1], TariffChange(agreed, last.tariff))
        )

    @staticmethod
    def _agreed(
        record: TransactionRecord,
        tariff_id: str,
        reported: datetime,
        own: datetime,
        current: TransactionTariffs,
    ) -> datetime:
        """The station's instant of a change, unless it is implausible: before the change
        before it, or further than CHANGE_SKEW from the CSMS's own."""
        earlier = current.changes[-2].at if len(current.changes) > 1 else record.started_at
        if (earlier is not None and reported < earlier) or abs(reported - own) > CHANGE_SKEW:
            logger.warning(
                "%s/%s: the station applied tariff %s at %s, the CSMS at %s: the CSMS's kept",
                record.station_id,
                record.transaction_id,
                tariff_id,
                reported.isoformat(),
                own.isoformat(),
            )
            return own
        return reported

    def forget(self, record: TransactionRecord) -> None:
        """Drop the cached tariffs of an ended transaction (the store keeps them)."""
        self._of_transaction.pop((record.station_id, record.transaction_id), None)
        self._reported.pop((record.station_id, record.transaction_id), None)

    @staticmethod
    def _row(
        record: TransactionRecord, position: int, at: datetime, tariff: v21.TariffType
    ) -> TransactionTariffRecord:
        return TransactionTariffRecord(
            station_id=record.station_id,
            transaction_id=record.transaction_id,
            position=position,
            at=at,
            tariff_id=tariff.tariff_id,
            tariff=encode(tariff).decode(),
        )

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

    async def cost(self, record: TransactionRecord, at: datetime) -> CostBreakdown | None:
        """The cost of a transaction as stored: final once it ended, else the running cost at
        ``at``; None when no tariff applies. Priced from the stored TransactionEvents, the
        facts a station that prices locally reads from the events it sent
        (``tariffs/events.py``)."""
        tariffs = await self.of_transaction(record)
        if tariffs is None or record.started_at is None:
            return None
        events = [
            decode(stored.payload, v201.TransactionEventRequest)
            for stored in await self._store.transaction_events(
                record.station_id, record.transaction_id
            )
        ]
        session = session_from_events(events, start=record.started_at, end=record.ended_at)
        return calculate(
            tariffs.first,
            session,
            at=None if record.ended_at else max(at, record.started_at),
            changes=tariffs.changes,
        )

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


async def send_running_cost(
    commands: CommandBus, pricing: Pricing, record: TransactionRecord, at: datetime
) -> None:
    """I02: tell a 2.0.1 station a running transaction's cost at ``at`` (CostUpdated), with
    the California-pricing customData for a station that declared it."""
    cost = await pricing.cost(record, at)
    tariffs = await pricing.of_transaction(record)
    if cost is None or tariffs is None:
        return
    extension: CustomData | msgspec.UnsetType = msgspec.UNSET
    if await pricing.wants_california_prices(record.station_id):
        charging = record.charging_state == v201.ChargingStateEnumType.CHARGING
        extension = california_prices(tariffs.current, cost, at, charging)
    await commands.call(
        record.station_id,
        v201.CostUpdatedRequest(
            total_cost=float(cost.total_cost),
            transaction_id=record.transaction_id,
            custom_data=extension,
        ),
    )


async def send_default_tariffs(commands: CommandBus, pricing: Pricing, station_id: str) -> bool:
    """I07/I11: make a 2.1 station's default tariffs the CSMS's: clear those it holds, then set
    each (``Pricing.station_tariffs``). A transaction keeps the tariff it started with.

    Returns whether the station accepted every tariff (a refusal is logged with its status).
    """
    await commands.call(station_id, v21.ClearTariffsRequest())
    accepted = True
    for evse_id, tariff in pricing.station_tariffs(station_id):
        answer = await commands.call(
            station_id, v21.SetDefaultTariffRequest(evse_id=evse_id, tariff=tariff)
        )
        if answer.status != v21.TariffSetStatusEnumType.ACCEPTED:
            accepted = False
            logger.warning(
                "%s refused tariff %s for EVSE %s: %s",
                station_id,
                tariff.tariff_id,
                evse_id,
                answer.status,
            )
    return accepted


def california_prices(
    tariff: v21.TariffType, cost: CostBreakdown, at: datetime, charging: bool
) -> CustomData:
    """The California-pricing ``customData`` of a CostUpdated: the reading, the state, and the
    prices in force (the tariff's first price of each kind, per kWh, per hour, fixed), with the
    idle price and its grace period."""
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
