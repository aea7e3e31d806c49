"""OCPP 2.1 local cost calculation (I07-I12): a station prices its transactions itself.

The facts are the TransactionEvents the station sends (``tariffs/events.py``): the CSMS that
checks the cost prices the very events it received, so both compute the same cost to the
cent. The tariffs come from the station's TariffBook (``station/tariffs.py``): the one a
transaction started with and the changes since.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kilowatt.messages import v21
from kilowatt.tariffs import CostBreakdown, TariffChange, calculate
from kilowatt.tariffs.events import session_from_events

__all__ = ["LocalCosts"]


class LocalCosts:
    """The events sent of each running transaction, and its cost from them."""

    def __init__(self) -> None:
        self._events: dict[str, list[v21.TransactionEventRequest]] = {}

    def record(self, event: v21.TransactionEventRequest) -> None:
        self._events.setdefault(event.transaction_info.transaction_id, []).append(event)

    def forget(self, transaction_id: str) -> None:
        self._events.pop(transaction_id, None)

    def cost(
        self,
        transaction_id: str,
        tariff: v21.TariffType,
        changes: Sequence[TariffChange],
        at: datetime,
    ) -> CostBreakdown | None:
        """The cost at ``at`` (final once the Ended event was recorded); None before the
        Started event, as the CSMS knows no start to price from either."""
        events = self._events.get(transaction_id, [])
        start = next((e.timestamp for e in events if e.event_type == STARTED), None)
        if start is None:
            return None
        end = next((e.timestamp for e in events if e.event_type == ENDED), None)
        session = session_from_events(events, start=start, end=end)
        return calculate(tariff, session, at=None if end else max(at, start), changes=changes)


STARTED = v21.TransactionEventEnumType.STARTED
ENDED = v21.TransactionEventEnumType.ENDED
