"""E Transactions: E01-E15 TransactionEvent, assembled by transactionId and seqNo."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from kilowatt.csms.context import Context
from kilowatt.csms.handlers.authorization import id_token_info
from kilowatt.csms.pricing import california_prices
from kilowatt.csms.store import TransactionEventRecord, TransactionRecord
from kilowatt.csms.transactions import TransactionState, meter_samples
from kilowatt.messages import CustomData, decode, encode, v201

__all__ = ["transaction_event"]

# The meter values after which the driver is told the running cost (I02).
RUNNING_COST_TRIGGERS = {
    v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
    v201.TriggerReasonEnumType.METER_VALUE_CLOCK,
}


async def _state(transaction_id: str, ctx: Context) -> TransactionState:
    """The transaction's state; after a reconnect or a restart, rebuilt from its stored events."""
    state = ctx.session.transactions.get(transaction_id)
    if state is None:
        state = TransactionState(ctx.station_id, transaction_id)
        for stored in await ctx.store.transaction_events(ctx.station_id, transaction_id):
            state.apply(decode(stored.payload, v201.TransactionEventRequest), stored.received_at)
        ctx.session.transactions[transaction_id] = state
    return state


async def transaction_event(
    request: v201.TransactionEventRequest, ctx: Context
) -> v201.TransactionEventResponse:
    """E01-E15: never rejected (a station cannot take back an event), stored once per seqNo,
    acknowledged only once committed. Offline and out-of-order events are accepted: the
    transaction's state does not depend on arrival order (csms/transactions.py)."""
    transaction_id = request.transaction_info.transaction_id
    now = ctx.now()
    async with ctx.session.lock_for(transaction_id):
        state = await _state(transaction_id, ctx)
        if request.seq_no not in state.seq_nos:
            payload = encode(request).decode()
            state.apply(request, now)
            record = state.record()
            evse_id = request.evse.id if request.evse else (record.evse_id or 0)
            samples = meter_samples(
                ctx.station_id, evse_id, transaction_id, request.meter_value or []
            )
            stored = await ctx.store.record_transaction_event(
                TransactionEventRecord(
                    station_id=ctx.station_id,
                    transaction_id=transaction_id,
                    seq_no=request.seq_no,
                    event_type=str(request.event_type),
                    trigger_reason=str(request.trigger_reason),
                    timestamp=request.timestamp,
                    offline=bool(request.offline),
                    payload=payload,
                    received_at=now,
                ),
                record,
                samples,
            )
            balancer = ctx.services.load_balancer
            if balancer is not None and stored:
                balancer.samples_seen(ctx.station_id, evse_id, samples)
                if request.event_type != v201.TransactionEventEnumType.UPDATED:
                    balancer.transactions_changed(ctx.station_id)
            if not stored:
                # Stored by an earlier connection whose state this session did not have.
                ctx.session.transactions.pop(transaction_id, None)
        transaction = state.record()  # with this event applied, for its cost
        if request.event_type == v201.TransactionEventEnumType.ENDED:
            ctx.session.transactions.pop(transaction_id, None)
            ctx.session.transaction_locks.pop(transaction_id, None)
    total_cost = await _costs(request, transaction, ctx)
    if request.id_token:
        return v201.TransactionEventResponse(
            id_token_info=await id_token_info(request.id_token, ctx), total_cost=total_cost
        )
    return v201.TransactionEventResponse(total_cost=total_cost)


async def _costs(
    request: v201.TransactionEventRequest, record: TransactionRecord, ctx: Context
) -> float | UnsetType:
    """I03: the total cost in the answer to the Ended event; I02: the running cost in a
    CostUpdated after each periodic meter value."""
    pricing = ctx.services.pricing
    if pricing is None or not pricing.any or record.started_at is None:
        return UNSET
    choice = await pricing.for_transaction(record)
    if choice is None:
        return UNSET
    if request.event_type == v201.TransactionEventEnumType.ENDED:
        pricing.forget(record)
        return float((await pricing.cost(choice, record, ctx.now())).total_cost)
    if request.trigger_reason in RUNNING_COST_TRIGGERS and record.ended_at is None:
        commands = ctx.services.commands

        async def running_cost() -> None:
            cost = await pricing.cost(choice, record, request.timestamp)
            extension: CustomData | UnsetType = UNSET
            if await pricing.wants_california_prices(ctx.station_id):
                charging = record.charging_state == v201.ChargingStateEnumType.CHARGING
                extension = california_prices(choice, cost, request.timestamp, charging)
            if commands is not None:
                await commands.call(
                    ctx.station_id,
                    v201.CostUpdatedRequest(
                        total_cost=float(cost.total_cost),
                        transaction_id=record.transaction_id,
                        custom_data=extension,
                    ),
                )

        ctx.then(running_cost)
    return UNSET
