"""E Transactions: E01-E15 TransactionEvent, assembled by transactionId and seqNo."""

from __future__ import annotations

import logging
from decimal import Decimal

import msgspec
from msgspec import UNSET, UnsetType

from kilowatt.csms.context import Context
from kilowatt.csms.handlers.authorization import id_token_info
from kilowatt.csms.pricing import send_running_cost
from kilowatt.csms.store import TransactionEventRecord, TransactionRecord
from kilowatt.csms.transactions import TransactionState, meter_samples
from kilowatt.messages import decode, encode, v21, v201
from kilowatt.messages.bridge import convert, transaction_event_as_201

__all__ = ["transaction_event", "transaction_event_21"]

logger = logging.getLogger(__name__)

OCPP21 = "ocpp2.1"

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


_CENT = Decimal("0.01")


async def transaction_event_21(
    request: v21.TransactionEventRequest, ctx: Context
) -> v21.TransactionEventResponse:
    """E01-E15 for an OCPP 2.1 station, with its local cost (I07-I12): the CSMS prices the
    tariff the station reports (transactionInfo.tariffId) from the instant the station says it
    changed, recomputes the cost and answers its own totalCost, confirming or correcting the
    station's costDetails: on every event that carries costDetails, and on Ended."""
    trigger = str(request.trigger_reason)
    answer = convert(
        await transaction_event(transaction_event_as_201(request), ctx),
        v21.TransactionEventResponse,
    )
    pricing = ctx.services.pricing
    ended = request.event_type == v21.TransactionEventEnumType.ENDED
    if pricing is None or not pricing.any:
        return answer
    record = await ctx.store.get_transaction(
        ctx.station_id, request.transaction_info.transaction_id
    )
    if record is None or record.started_at is None:
        return answer
    tariff_id = request.transaction_info.tariff_id
    if tariff_id is not UNSET:
        if trigger == v21.TriggerReasonEnumType.TARIFF_CHANGED:
            await pricing.changed_at(record, tariff_id, request.timestamp)
        elif not await pricing.adopt(record, tariff_id):
            logger.warning(
                "%s/%s: the station prices with tariff %s, which the CSMS does not offer it",
                ctx.station_id,
                record.transaction_id,
                tariff_id,
            )
    if request.cost_details is UNSET and not ended:
        return answer
    cost = await pricing.cost(record, request.timestamp)
    if ended:
        pricing.forget(record)
    if cost is None:
        return answer
    details = request.cost_details
    if details is not UNSET:
        total = details.total_cost.total
        reported = total.incl_tax if total.incl_tax is not UNSET else total.excl_tax
        if reported is not UNSET and abs(Decimal(str(reported)) - cost.total_cost) >= _CENT:
            logger.warning(
                "%s/%s: the station's cost %s differs from the CSMS's %s %s: corrected",
                ctx.station_id,
                record.transaction_id,
                reported,
                cost.total_cost,
                cost.currency,
            )
    return msgspec.structs.replace(answer, total_cost=float(cost.total_cost))


async def _costs(
    request: v201.TransactionEventRequest, record: TransactionRecord, ctx: Context
) -> float | UnsetType:
    """I03: the total cost in the answer to the Ended event; I02: the running cost in a
    CostUpdated after each periodic meter value (not to a 2.1 station that prices locally:
    it shows its own running cost, I07-I12)."""
    pricing = ctx.services.pricing
    if pricing is None or not pricing.any or record.started_at is None:
        return UNSET
    if request.event_type == v201.TransactionEventEnumType.ENDED:
        cost = await pricing.cost(record, ctx.now())
        pricing.forget(record)
        return UNSET if cost is None else float(cost.total_cost)
    commands = ctx.services.commands
    if (
        request.trigger_reason in RUNNING_COST_TRIGGERS
        and record.ended_at is None
        and ctx.session.subprotocol != OCPP21
        and not ctx.services.settings.cost_updated_interval  # else the CSMS's own timer
        and commands is not None
    ):

        async def running_cost() -> None:
            await send_running_cost(commands, pricing, record, request.timestamp)

        ctx.then(running_cost)
    return UNSET
