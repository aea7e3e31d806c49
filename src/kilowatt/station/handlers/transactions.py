"""Block E: transactions."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["get_transaction_status"]


async def get_transaction_status(
    request: v201.GetTransactionStatusRequest, station: Station
) -> v201.GetTransactionStatusResponse:
    """E14: whether messages wait in the queue, and whether the transaction still runs."""
    if request.transaction_id is UNSET:
        return v201.GetTransactionStatusResponse(messages_in_queue=len(station.queue) > 0)
    tx_id = request.transaction_id
    ongoing = any(
        evse.transaction and evse.transaction.id == tx_id for evse in station.evses.values()
    )
    queued = any(item.request.transaction_info.transaction_id == tx_id for item in station.queue)
    return v201.GetTransactionStatusResponse(ongoing_indicator=ongoing, messages_in_queue=queued)
