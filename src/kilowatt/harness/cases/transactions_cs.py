"""Block E, Transactions, with a charging station under test: a transaction started at the
station, its events numbered in order with meter values while it runs, and its end by
unplugging or by presenting the card again."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    EVSE,
    TOLERANCE,
    ended,
    expect,
    get_value,
    present,
    restore,
    set_value,
    started,
    tidy,
    token,
    transaction_events,
)
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

Event = v201.TransactionEventRequest
EventType = v201.TransactionEventEnumType
Reason = v201.ReasonEnumType
METER_INTERVAL = 2  # seconds: the TxUpdatedInterval E_01 sets, to see meter values soon


@case(
    "TC_E_01_CS",
    "Local start, meter values, stop by unplugging: the events in order",
    use_cases=("E01", "E02", "E06", "J02"),
    prerequisites="The station is idle; the driver can plug in, unplug and present a card.",
)
async def local_start_unplug_stop(ctx: Context) -> None:
    """The harness sets SampledDataCtrlr.TxUpdatedInterval to 2 s. An EV is plugged in at
    EVSE 1 and a card presented: a TransactionEvent Started comes, for EVSE 1, and an event
    of that transaction carries the card. While it runs an Updated event brings meter values
    within the interval. The EV is unplugged: an Ended event comes with stoppedReason
    EVDisconnected. The transaction's events are numbered 0, 1, 2... in the order they came,
    the first Started and the last Ended. (The interval is then set back.)"""
    peer = await ctx.station()
    interval = await get_value(ctx, peer, "SampledDataCtrlr", "TxUpdatedInterval")
    status = await set_value(
        ctx, peer, "SampledDataCtrlr", "TxUpdatedInterval", str(METER_INTERVAL)
    )
    ctx.check(
        status == v201.SetVariableStatusEnumType.ACCEPTED,
        f"prerequisite: SampledDataCtrlr.TxUpdatedInterval {METER_INTERVAL} was {status}",
    )
    mark = peer.mark()
    card = token("HARNESSE01")
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        start = await started(ctx, peer, since=mark, why="EV plugged in, card presented")
        transaction_id = start.transaction_info.transaction_id
        ctx.check(
            start.evse is not UNSET and start.evse.id == EVSE,
            f"the Started event must name EVSE {EVSE}, named {start.evse}",
        )
        await expect(
            ctx,
            peer,
            Event,
            f"an event of transaction {transaction_id} carrying card {card.id_token}",
            since=mark,
            where=lambda e: (
                e.transaction_info.transaction_id == transaction_id
                and e.id_token is not UNSET
                and e.id_token.id_token == card.id_token
            ),
        )
        await expect(
            ctx,
            peer,
            Event,
            f"an Updated event with meter values ({METER_INTERVAL} s interval)",
            since=mark,
            where=lambda e: (
                e.transaction_info.transaction_id == transaction_id
                and e.event_type == EventType.UPDATED
                and e.meter_value is not UNSET
                and any(m.sampled_value for m in e.meter_value)
            ),
            timeout=METER_INTERVAL + TOLERANCE,
        )
        await ctx.act("unplug", evse_id=EVSE)
        end = await ended(ctx, peer, transaction_id, why="EV unplugged")
        reason = end.transaction_info.stopped_reason
        ctx.check(
            reason == Reason.EV_DISCONNECTED,
            f"unplugged: expected stoppedReason EVDisconnected, got {reason}",
        )
        events = transaction_events(peer, transaction_id, mark)
        numbers = [e.seq_no for e in events]
        ctx.check(
            numbers == list(range(len(events))),
            f"the transaction's seqNo must be 0, 1, 2... in the order sent, were {numbers}",
        )
        kinds = [str(e.event_type) for e in events]
        ctx.check(
            kinds[0] == EventType.STARTED
            and kinds[-1] == EventType.ENDED
            and kinds.count(EventType.STARTED) == 1
            and kinds.count(EventType.ENDED) == 1,
            f"one Started first and one Ended last, the events were {kinds}",
        )
    finally:
        await tidy(ctx, peer, mark)
        await restore(ctx, peer, "SampledDataCtrlr", "TxUpdatedInterval", interval)


@case(
    "TC_E_02_CS",
    "Stop by presenting the same card again",
    use_cases=("E06", "E07"),
    prerequisites="The station is idle, TxStopPoint includes Authorized; the driver can plug in "
    "and present a card.",
)
async def stop_with_same_card(ctx: Context) -> None:
    """An EV is plugged in at EVSE 1 and a card presented: a transaction starts. The same
    card is presented again: the transaction ends (Ended, triggerReason StopAuthorized,
    stoppedReason Local or none, which means Local). (The EV is then unplugged.)"""
    peer = await ctx.station()
    mark = peer.mark()
    card = token("HARNESSE02")
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        start = await started(ctx, peer, since=mark, why="EV plugged in, card presented")
        transaction_id = start.transaction_info.transaction_id
        await present(ctx, card)
        end = await ended(ctx, peer, transaction_id, why="the card presented again")
        ctx.check(
            end.trigger_reason == v201.TriggerReasonEnumType.STOP_AUTHORIZED,
            f"stopped by its card: expected triggerReason StopAuthorized, got {end.trigger_reason}",
        )
        reason = end.transaction_info.stopped_reason
        ctx.check(
            reason in (Reason.LOCAL, UNSET),
            f"stopped by its card at the station: expected stoppedReason Local, got {reason}",
        )
    finally:
        await tidy(ctx, peer, mark)
