"""Block E, Transactions, with a charging station under test that loses its connection: a
transaction that happens while the station is offline is queued, and delivered in order,
marked offline, once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    EVSE,
    QUIET,
    back_online,
    ended,
    get_value,
    go_offline,
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
OUTAGE = 4.0  # seconds the station is offline
CHARGING = 1.5  # seconds the EV stays plugged in during the outage


@case(
    "TC_E_12_CS",
    "A transaction while offline: its events queued, then delivered in order, marked offline",
    use_cases=("E12", "E01", "E06"),
    prerequisites="The station is idle; AuthCtrlr.OfflineTxForUnknownIdEnabled is writable; the "
    "driver can take the station offline, plug in, unplug and present a card.",
)
async def offline_transaction(ctx: Context) -> None:
    """The harness sets AuthCtrlr.OfflineTxForUnknownIdEnabled true, so that a card the station
    does not know is accepted while offline. The station is taken off the network for 4 s: its
    connection closes. Meanwhile an EV is plugged in at EVSE 1, a card presented, and after a
    moment the EV unplugged. The station connects again only after the outage; on the new
    connection the transaction's events come, the harness answering each: a Started, an event
    carrying the card, an Ended; every one marked offline, numbered 0, 1, 2... in the order
    they come, with times that never go back. After a while none came twice and none is
    missing. (The variable is then set back.)"""
    peer = await ctx.station()
    before = await get_value(ctx, peer, "AuthCtrlr", "OfflineTxForUnknownIdEnabled")
    status = await set_value(ctx, peer, "AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    ctx.check(
        status == v201.SetVariableStatusEnumType.ACCEPTED,
        f"prerequisite: AuthCtrlr.OfflineTxForUnknownIdEnabled true was {status}",
    )
    card = token("HARNESSE12OFFLINE")
    outage: asyncio.Task[Any] | None = None
    now = peer
    try:
        outage = await go_offline(ctx, peer, OUTAGE)
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        await asyncio.sleep(CHARGING)
        await ctx.act("unplug", evse_id=EVSE)
        acted = time.monotonic()
        now = await back_online(ctx, peer, outage, OUTAGE)
        ctx.check(
            now.opened >= acted,
            "the station connected again while it was to be offline, before the EV was unplugged",
        )
        start = await started(ctx, now, since=0, why="queued while offline")
        transaction_id = start.transaction_info.transaction_id
        await ended(ctx, now, transaction_id, why="the EV unplugged while offline")
        await asyncio.sleep(QUIET)  # anything sent twice, once answered?
        events = transaction_events(now, transaction_id)
        numbers = [e.seq_no for e in events]
        ctx.check(
            numbers == list(range(len(events))),
            f"the queued events' seqNo must be 0, 1, 2... in the order they came, each once, "
            f"were {numbers}",
        )
        kinds = [str(e.event_type) for e in events]
        ctx.check(
            kinds[0] == EventType.STARTED
            and kinds[-1] == EventType.ENDED
            and kinds.count(EventType.STARTED) == 1
            and kinds.count(EventType.ENDED) == 1,
            f"one Started first and one Ended last, the events were {kinds}",
        )
        online = [e.seq_no for e in events if e.offline is not True]
        ctx.check(
            not online,
            f"every event of a transaction that happened offline is marked offline, those of "
            f"seqNo {online} are not",
        )
        times = [e.timestamp for e in events]
        ctx.check(
            times == sorted(times),
            "the queued events' timestamps go back: " + ", ".join(t.isoformat() for t in times),
        )
        ctx.check(
            any(e.id_token is not UNSET and e.id_token.id_token == card.id_token for e in events),
            f"no event of the offline transaction carries card {card.id_token}",
        )
    finally:
        if outage is not None and now is peer:  # not back yet: wait for it
            with contextlib.suppress(Exception):
                now = await back_online(ctx, peer, outage, OUTAGE)
        await tidy(ctx, now, 0)
        await restore(ctx, now, "AuthCtrlr", "OfflineTxForUnknownIdEnabled", before)
