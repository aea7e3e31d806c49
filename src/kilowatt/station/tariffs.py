"""OCPP 2.1 local cost calculation (I07-I12): the tariffs a station holds.

Three kinds, all OCPP 2.1 ``TariffType`` as the CSMS sent them:

- default tariffs (SetDefaultTariff, I07), per EVSE id, 0 standing for every EVSE. An EVSE may
  hold several: the price schemes a driver may choose from, and a tariff whose ``validFrom`` lies
  ahead is a scheduled price change;
- driver tariffs (I08), per id token: the tariff of the AuthorizeResponse;
- the tariff of each running transaction, with the changes of ChangeTransactionTariff (I12). A
  transaction keeps its own copy, so clearing a default tariff (I11) does not touch it.

Pure state: the station persists it with ``to_json``/``from_json`` and decides when to ask.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from msgspec import UNSET, UnsetType

from kilowatt.messages import decode, encode
from kilowatt.messages.v21 import (
    ClearTariffsResultType,
    TariffAssignmentType,
    TariffChangeStatusEnumType as ChangeStatus,
    TariffClearStatusEnumType as ClearStatus,
    TariffKindEnumType as Kind,
    TariffSetStatusEnumType as SetStatus,
    TariffType,
)

__all__ = ["TariffBook"]

ALL_EVSES = 0
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Default:
    evse_id: int
    tariff: TariffType


# The stored form: each tariff as its wire JSON (kilowatt.messages.encode), so that customData
# and every optional field survive a restart unchanged.
class _StoredDefault(msgspec.Struct, frozen=True):
    evse_id: int
    tariff: msgspec.Raw


class _StoredStep(msgspec.Struct, frozen=True):
    at: datetime
    tariff: msgspec.Raw


class _Stored(msgspec.Struct, frozen=True):
    defaults: list[_StoredDefault]
    drivers: dict[str, msgspec.Raw]
    transactions: dict[str, list[_StoredStep]]


class TariffBook:
    def __init__(self) -> None:
        self._defaults: list[_Default] = []  # in the order they were set
        self._drivers: dict[str, TariffType] = {}  # id token -> its driver tariff
        # Transaction id -> its tariffs over time: (start, initial tariff), then each change.
        self._timelines: dict[str, list[tuple[datetime, TariffType]]] = {}

    # -- default tariffs (I07) -----------------------------------------------------------------

    def set_default(
        self,
        evse_id: int,
        tariff: TariffType,
        known_evses: Collection[int],
        *,
        max_elements: int,
    ) -> tuple[SetStatus, str | None]:
        """I07: hold ``tariff`` as a default tariff of ``evse_id`` (0: every EVSE).

        Returns the status and, for Rejected, the reason code for the response's statusInfo.
        Setting the same tariff again is Accepted and changes nothing.
        """
        if evse_id != ALL_EVSES and evse_id not in known_evses:
            return SetStatus.REJECTED, "UnknownEvse"
        held = self._held(tariff.tariff_id)
        if held is not None and held != tariff:
            return SetStatus.DUPLICATE_TARIFF_ID, None  # a tariff id names one tariff only
        entry = _Default(evse_id, tariff)
        if entry in self._defaults:
            return SetStatus.ACCEPTED, None
        if _elements(tariff) > max_elements:
            return SetStatus.TOO_MANY_ELEMENTS, None
        self._defaults.append(entry)
        return SetStatus.ACCEPTED, None

    def default_for(self, evse_id: int, now: datetime) -> TariffType | None:
        """The tariff a transaction on ``evse_id`` gets when the driver chooses none.

        The EVSE's own default tariffs first, those for every EVSE only when it has none in
        force; among them the latest ``validFrom`` wins (a scheduled price change supersedes
        the price before it), ties going to the tariff set last.
        """
        for scope in (evse_id, ALL_EVSES):
            in_force = [
                (index, entry.tariff)
                for index, entry in enumerate(self._defaults)
                if entry.evse_id == scope and _in_force(entry.tariff, now)
            ]
            if in_force:
                _, tariff = max(in_force, key=lambda item: (_valid_from(item[1]), item[0]))
                return tariff
        return None

    def offered(self, evse_id: int, now: datetime) -> list[TariffType]:
        """Every default tariff in force at ``evse_id``, its own before those for every EVSE:
        the price schemes a driver may choose from."""
        offered: dict[str, TariffType] = {}
        for scope in (evse_id, ALL_EVSES):
            for entry in self._defaults:
                if entry.evse_id == scope and _in_force(entry.tariff, now):
                    offered.setdefault(entry.tariff.tariff_id, entry.tariff)
        return list(offered.values())

    # -- driver tariffs (I08) ------------------------------------------------------------------

    def set_driver_tariff(self, id_token: str, tariff: TariffType) -> None:
        """I08: the tariff the CSMS gave the driver of ``id_token`` in its AuthorizeResponse."""
        self._drivers[id_token] = tariff

    def driver_tariff(self, id_token: str) -> TariffType | None:
        return self._drivers.get(id_token)

    # -- transaction tariffs -------------------------------------------------------------------

    def choose(
        self, evse_id: int, id_token: str | None, choice: str | None, now: datetime
    ) -> TariffType | None:
        """The tariff of a transaction starting now at ``evse_id``: the tariff the driver chose
        when it is one offered there or the driver tariff, else the driver tariff, else the
        EVSE's default tariff (I08 before I07)."""
        driver = self.driver_tariff(id_token) if id_token is not None else None
        if choice is not None:
            choices = [*self.offered(evse_id, now), *([driver] if driver is not None else [])]
            for tariff in choices:
                if tariff.tariff_id == choice:
                    return tariff
        return driver if driver is not None else self.default_for(evse_id, now)

    def start_transaction(self, transaction_id: str, tariff: TariffType, at: datetime) -> None:
        self._timelines[transaction_id] = [(at, tariff)]

    def changes(self, transaction_id: str) -> tuple[TariffType, list[tuple[datetime, TariffType]]]:
        """The transaction's initial tariff and each change since, with when it took effect.

        Raises:
            KeyError: no running transaction of that id.
        """
        (_, initial), *changes = self._timelines[transaction_id]
        return initial, changes

    def change(
        self, transaction_id: str, tariff: TariffType, at: datetime, *, max_elements: int
    ) -> ChangeStatus:
        """I12: the transaction's tariff from ``at`` on is ``tariff``."""
        timeline = self._timelines.get(transaction_id)
        if timeline is None:
            return ChangeStatus.TX_NOT_FOUND
        _, current = timeline[-1]
        # I12: a transaction is priced in one currency from start to end.
        if tariff.currency.upper() != current.currency.upper():
            return ChangeStatus.NO_CURRENCY_CHANGE
        if _elements(tariff) > max_elements:
            return ChangeStatus.TOO_MANY_ELEMENTS
        timeline.append((at, tariff))
        return ChangeStatus.ACCEPTED

    def end_transaction(self, transaction_id: str) -> None:
        self._timelines.pop(transaction_id, None)

    # -- GetTariffs and ClearTariffs (I10, I11) ------------------------------------------------

    def assignments(self, evse_id: int) -> list[TariffAssignmentType]:
        """I10: evseId 0 reports every tariff held; an EVSE's id the default tariffs that apply
        there, its own and those for every EVSE. One entry per tariff id."""
        evse_ids: dict[str, set[int]] = {}
        tariffs: dict[str, TariffType] = {}
        for entry in self._defaults:
            tariffs.setdefault(entry.tariff.tariff_id, entry.tariff)
            evse_ids.setdefault(entry.tariff.tariff_id, set()).add(entry.evse_id)
        id_tokens: dict[str, list[str]] = {}
        if evse_id == ALL_EVSES:
            for id_token, tariff in self._drivers.items():
                tariffs.setdefault(tariff.tariff_id, tariff)
                id_tokens.setdefault(tariff.tariff_id, []).append(id_token)
        else:
            tariffs = {
                tariff_id: tariff
                for tariff_id, tariff in tariffs.items()
                if evse_ids[tariff_id] & {evse_id, ALL_EVSES}
            }
        return [
            TariffAssignmentType(
                tariff_id=tariff_id,
                # A tariff id held as both is a default tariff that a driver was given too.
                tariff_kind=Kind.DEFAULT_TARIFF if tariff_id in evse_ids else Kind.DRIVER_TARIFF,
                valid_from=tariff.valid_from,
                evse_ids=sorted(evse_ids[tariff_id]) if tariff_id in evse_ids else UNSET,
                id_tokens=id_tokens.get(tariff_id, UNSET),
            )
            for tariff_id, tariff in tariffs.items()
        ]

    def clear(
        self, tariff_ids: list[str] | None, evse_id: int | None
    ) -> list[ClearTariffsResultType]:
        """I11: remove the default tariffs of ``tariff_ids`` (all when None) set for ``evse_id``
        (for any EVSE when None). Running transactions keep their tariffs."""
        removed: dict[str, None] = {}  # tariff ids in the order they went
        kept: list[_Default] = []
        for entry in self._defaults:
            if (tariff_ids is None or entry.tariff.tariff_id in tariff_ids) and (
                evse_id is None or entry.evse_id == evse_id
            ):
                removed[entry.tariff.tariff_id] = None
            else:
                kept.append(entry)
        self._defaults = kept
        if tariff_ids is None:
            return [
                ClearTariffsResultType(tariff_id=tariff_id, status=ClearStatus.ACCEPTED)
                for tariff_id in removed
            ] or [ClearTariffsResultType(status=ClearStatus.NO_TARIFF)]
        return [
            ClearTariffsResultType(
                tariff_id=tariff_id,
                status=ClearStatus.ACCEPTED if tariff_id in removed else ClearStatus.NO_TARIFF,
            )
            for tariff_id in dict.fromkeys(tariff_ids)
        ]

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> bytes:
        return msgspec.json.encode(
            _Stored(
                defaults=[
                    _StoredDefault(entry.evse_id, msgspec.Raw(encode(entry.tariff)))
                    for entry in self._defaults
                ],
                drivers={
                    id_token: msgspec.Raw(encode(tariff))
                    for id_token, tariff in self._drivers.items()
                },
                transactions={
                    transaction_id: [
                        _StoredStep(at, msgspec.Raw(encode(tariff))) for at, tariff in timeline
                    ]
                    for transaction_id, timeline in self._timelines.items()
                },
            )
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> TariffBook:
        stored = msgspec.json.decode(data, type=_Stored)
        book = cls()
        book._defaults = [
            _Default(entry.evse_id, decode(bytes(entry.tariff), TariffType))
            for entry in stored.defaults
        ]
        book._drivers = {
            id_token: decode(bytes(tariff), TariffType)
            for id_token, tariff in stored.drivers.items()
        }
        book._timelines = {
            transaction_id: [(step.at, decode(bytes(step.tariff), TariffType)) for step in steps]
            for transaction_id, steps in stored.transactions.items()
        }
        return book

    def _held(self, tariff_id: str) -> TariffType | None:
        """The default or driver tariff of that id, if one is held."""
        for tariff in [entry.tariff for entry in self._defaults] + list(self._drivers.values()):
            if tariff.tariff_id == tariff_id:
                return tariff
        return None


def _valid_from(tariff: TariffType) -> datetime:
    return _EARLIEST if isinstance(tariff.valid_from, UnsetType) else tariff.valid_from


def _in_force(tariff: TariffType, now: datetime) -> bool:
    return _valid_from(tariff) <= now


def _elements(tariff: TariffType) -> int:
    """The price elements of a tariff, which TariffCostCtrlr.MaxElements[Tariff] bounds."""
    parts = (
        tariff.energy,
        tariff.charging_time,
        tariff.idle_time,
        tariff.fixed_fee,
        tariff.reservation_time,
        tariff.reservation_fixed,
    )
    return sum(len(part.prices) for part in parts if not isinstance(part, UnsetType))
