"""/api/v1/transactions: transactions as assembled from the stations' TransactionEvents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kilowatt.api.bodies import TransactionDetail, TransactionView
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses

__all__ = ["router"]

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("")
async def list_transactions(
    csms: CsmsDep,
    station_id: str | None = None,
    active: Annotated[bool | None, Query(description="true: not ended yet; false: ended.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TransactionView]:
    """Transactions, most recently started first."""
    records = await csms.store.list_transactions(
        station_id=station_id, active=active, offset=offset, limit=limit
    )
    return [TransactionView.of(record) for record in records]


@router.get("/{station_id}/{transaction_id}", responses=error_responses(404))
async def get_transaction(csms: CsmsDep, station_id: str, transaction_id: str) -> TransactionDetail:
    """A transaction with its events in seqNo order, its meter values and its energy."""
    record = await csms.store.get_transaction(station_id, transaction_id)
    if record is None:
        raise ApiError(
            404,
            "transaction_not_found",
            f"no transaction {transaction_id!r} of station {station_id!r}",
        )
    events = await csms.store.transaction_events(station_id, transaction_id)
    samples = await csms.store.meter_samples(station_id, transaction_id=transaction_id)
    return TransactionDetail.of_all(record, events, samples)
