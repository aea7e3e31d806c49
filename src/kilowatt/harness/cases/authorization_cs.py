"""Block C, Authorization, with a charging station under test: a presented card is authorized
with the CSMS before it is used, an Invalid card starts nothing, and the cache is cleared."""

from __future__ import annotations

import asyncio

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import EVSE, QUIET, expect, get_value, present, tidy, token
from kilowatt.harness.context import Context
from kilowatt.messages import Request, v201

__all__: list[str] = []

Event = v201.TransactionEventRequest
AuthStatus = v201.AuthorizationStatusEnumType


@case(
    "TC_C_01_CS",
    "Local authorization: the card is authorized before the transaction carries it",
    use_cases=("C01", "E01"),
    prerequisites="The station is idle, its local list does not hold the harness's card; the "
    "driver can plug in and present a card.",
)
async def authorize_before_use(ctx: Context) -> None:
    """The harness clears the station's authorization cache (so that the card is new to it).
    An EV is plugged in at EVSE 1 and a card presented there. The station sends Authorize
    with exactly that card (id and type); the harness accepts it. Only after that Authorize
    does a TransactionEvent carry the card. (The EV is then unplugged.)"""
    peer = await ctx.station()
    await peer.call(v201.ClearCacheRequest())
    mark = peer.mark()
    card = token("HARNESSC01")
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        asked = await expect(
            ctx,
            peer,
            v201.AuthorizeRequest,
            f"an Authorize of card {card.id_token}",
            since=mark,
            where=lambda r: r.id_token.id_token == card.id_token,
        )
        ctx.check(
            asked.id_token.type == card.type,
            f"Authorize: the card's type is {card.type}, the station sent {asked.id_token.type}",
        )
        carried = await expect(
            ctx,
            peer,
            Event,
            f"a TransactionEvent carrying card {card.id_token}",
            since=mark,
            where=lambda e: _is(e, card),
        )
        order = peer.received(Request, mark)
        ctx.check(
            order.index(asked) < order.index(carried),
            "the TransactionEvent carrying the card came before its Authorize",
        )
    finally:
        await tidy(ctx, peer, mark)


@case(
    "TC_C_02_CS",
    "Local authorization: an Invalid card starts no charging",
    use_cases=("C01",),
    prerequisites="The station is idle; the driver can plug in and present a card.",
)
async def invalid_card(ctx: Context) -> None:
    """An EV is plugged in at EVSE 1 and a card presented; the harness answers its Authorize
    Invalid. For a while no TransactionEvent carries the card, none is triggered by an
    authorization, and no transaction starts charging. (The EV is then unplugged; a
    transaction the plug-in alone started ends.)"""
    peer = await ctx.station()
    peer.answer(
        v201.AuthorizeRequest,
        lambda _: v201.AuthorizeResponse(
            id_token_info=v201.IdTokenInfoType(status=AuthStatus.INVALID)
        ),
    )
    mark = peer.mark()
    card = token("HARNESSC02INVALID")
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        await expect(
            ctx,
            peer,
            v201.AuthorizeRequest,
            f"an Authorize of card {card.id_token}",
            since=mark,
            where=lambda r: r.id_token.id_token == card.id_token,
        )
        await asyncio.sleep(QUIET)
        for event in peer.received(Event, mark):
            ctx.check(
                not _is(event, card),
                f"TransactionEvent {event.event_type} (seqNo {event.seq_no}) carries the card "
                "the CSMS said was Invalid",
            )
            ctx.check(
                event.trigger_reason != v201.TriggerReasonEnumType.AUTHORIZED,
                f"TransactionEvent {event.event_type} (seqNo {event.seq_no}) is triggered by an "
                "authorization, but the only card was Invalid",
            )
            ctx.check(
                event.transaction_info.charging_state != v201.ChargingStateEnumType.CHARGING,
                f"TransactionEvent {event.event_type} (seqNo {event.seq_no}) says Charging "
                "without a valid card",
            )
    finally:
        await tidy(ctx, peer, mark)


@case(
    "TC_C_11_CS",
    "Clear the authorization cache",
    use_cases=("C11",),
    requirements=("C11.FR.04",),
    prerequisites="The station is booted.",
)
async def clear_cache(ctx: Context) -> None:
    """The harness reads whether the station's authorization cache is enabled
    (AuthCacheCtrlr.Enabled) and sends ClearCache: Accepted with the cache enabled, Rejected
    without one."""
    peer = await ctx.station()
    enabled = await get_value(ctx, peer, "AuthCacheCtrlr", "Enabled")
    answer = await peer.call(v201.ClearCacheRequest())
    expected = (
        v201.ClearCacheStatusEnumType.ACCEPTED
        if (enabled or "").lower() == "true"
        else v201.ClearCacheStatusEnumType.REJECTED
    )
    ctx.check(
        answer.status == expected,
        f"ClearCache with AuthCacheCtrlr.Enabled {enabled}: expected {expected}, "
        f"got {answer.status}",
    )


def _is(event: Event, card: v201.IdTokenType) -> bool:
    return event.id_token is not UNSET and event.id_token.id_token == card.id_token
