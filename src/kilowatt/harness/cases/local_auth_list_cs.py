"""Block D, Local authorization list management, with a charging station under test: a full
list and its version, differential updates, updates whose version does not follow, and
listed cards authorized without the CSMS (pre-authorized online, and while offline)."""

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
    expect,
    get_value,
    go_offline,
    present,
    restore,
    set_value,
    started,
    tidy,
    token,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Update = v201.UpdateEnumType
ListStatus = v201.SendLocalListStatusEnumType
AuthStatus = v201.AuthorizationStatusEnumType
Event = v201.TransactionEventRequest
CONTROLLER = "LocalAuthListCtrlr"
OUTAGE = 4.0  # seconds the station is offline in D_04


def _entry(card: v201.IdTokenType, listed: bool = True) -> v201.AuthorizationData:
    """A list entry: the card Accepted, or (``listed`` False) the card to remove."""
    return v201.AuthorizationData(
        id_token=card,
        id_token_info=v201.IdTokenInfoType(status=AuthStatus.ACCEPTED) if listed else UNSET,
    )


async def _send(
    ctx: Context,
    peer: Peer,
    version: int,
    update: v201.UpdateEnumType,
    entries: list[v201.AuthorizationData],
) -> v201.SendLocalListStatusEnumType:
    answer = await peer.call(
        v201.SendLocalListRequest(
            version_number=version,
            update_type=update,
            local_authorization_list=entries or UNSET,
        )
    )
    return answer.status


async def _version(peer: Peer) -> int:
    return (await peer.call(v201.GetLocalListVersionRequest())).version_number


async def _enabled(ctx: Context, peer: Peer) -> str | None:
    """LocalAuthListCtrlr.Enabled set true; what it was, to restore."""
    before = await get_value(ctx, peer, CONTROLLER, "Enabled")
    if (before or "").lower() != "true":
        status = await set_value(ctx, peer, CONTROLLER, "Enabled", "true")
        ctx.check(
            status == v201.SetVariableStatusEnumType.ACCEPTED,
            f"prerequisite: {CONTROLLER}.Enabled true was {status}",
        )
    return before


async def _full(ctx: Context, peer: Peer, cards: list[v201.IdTokenType]) -> int:
    """A full list of ``cards``, of a version above the station's: Accepted; its version."""
    version = await _version(peer) + 1
    status = await _send(ctx, peer, version, Update.FULL, [_entry(c) for c in cards])
    ctx.check(
        status == ListStatus.ACCEPTED,
        f"SendLocalList Full, version {version}, {len(cards)} entries: expected Accepted, got "
        f"{status}",
    )
    return version


async def _check_state(ctx: Context, peer: Peer, version: int, entries: int, after: str) -> None:
    """GetLocalListVersion gives ``version``; LocalAuthListCtrlr.Entries, when the station
    gives it, ``entries``."""
    now = await _version(peer)
    ctx.check(now == version, f"{after}: GetLocalListVersion gave {now}, expected {version}")
    count = await get_value(ctx, peer, CONTROLLER, "Entries")
    if count is None:
        ctx.note(f"{CONTROLLER}.Entries not given: the number of entries is not checked")
        return
    ctx.check(
        count == str(entries),
        f"{after}: {CONTROLLER}.Entries is {count}, the list has {entries} entries",
    )


@case(
    "TC_D_01_CS",
    "Send a full local list: Accepted, and its version reported",
    use_cases=("D01", "D02"),
    prerequisites="The station is booted; LocalAuthListCtrlr enabled (the case enables it).",
)
async def full_list(ctx: Context) -> None:
    """The harness enables the local list (LocalAuthListCtrlr.Enabled true), reads its version
    (GetLocalListVersion) and sends a full list of two cards with the next version
    (SendLocalList Full): Accepted. GetLocalListVersion then gives that version, and
    LocalAuthListCtrlr.Entries (if the station gives it) 2. A full list of one card with the
    version after: Accepted, that version, 1 entry: the old list is replaced, not added to."""
    peer = await ctx.station()
    before = await _enabled(ctx, peer)
    try:
        version = await _full(ctx, peer, [token("HARNESSD01A"), token("HARNESSD01B")])
        await _check_state(ctx, peer, version, 2, f"after a full list version {version}")
        version = await _full(ctx, peer, [token("HARNESSD01C")])
        await _check_state(ctx, peer, version, 1, f"after a full list version {version}")
    finally:
        await restore(ctx, peer, CONTROLLER, "Enabled", before)


@case(
    "TC_D_02_CS",
    "Differential updates of the local list: an entry added, one removed",
    use_cases=("D01", "D02"),
    prerequisites="The station is booted; LocalAuthListCtrlr enabled (the case enables it).",
)
async def differential_list(ctx: Context) -> None:
    """The harness sends a full list of one card (Accepted, version V). A differential update
    adding a second card, version V+1: Accepted, the version V+1 and 2 entries. A differential
    update removing the first card (an entry without idTokenInfo), version V+2: Accepted, the
    version V+2 and 1 entry. (LocalAuthListCtrlr.Entries is checked if the station gives it.)"""
    peer = await ctx.station()
    before = await _enabled(ctx, peer)
    first, second = token("HARNESSD02A"), token("HARNESSD02B")
    try:
        version = await _full(ctx, peer, [first])
        for step, entry, entries in (
            (1, _entry(second), 2),
            (2, _entry(first, listed=False), 1),
        ):
            what = "adding" if entry.id_token_info is not UNSET else "removing"
            status = await _send(ctx, peer, version + step, Update.DIFFERENTIAL, [entry])
            ctx.check(
                status == ListStatus.ACCEPTED,
                f"SendLocalList Differential {what} {entry.id_token.id_token}, version "
                f"{version + step}: expected Accepted, got {status}",
            )
            await _check_state(
                ctx,
                peer,
                version + step,
                entries,
                f"after a differential update {what} {entry.id_token.id_token}",
            )
    finally:
        await restore(ctx, peer, CONTROLLER, "Enabled", before)


@case(
    "TC_D_03_CS",
    "A differential update whose version is not newer: VersionMismatch, nothing changed",
    use_cases=("D01",),
    requirements=("D01.FR.18",),
    prerequisites="The station is booted; LocalAuthListCtrlr enabled (the case enables it).",
)
async def version_mismatch(ctx: Context) -> None:
    """The harness sends a full list of one card (Accepted, version V). A differential update
    adding a card with version V (the list's own), then one with version V-1: each
    VersionMismatch. The list is unchanged: version V, 1 entry (LocalAuthListCtrlr.Entries,
    if the station gives it)."""
    peer = await ctx.station()
    before = await _enabled(ctx, peer)
    try:
        version = await _full(ctx, peer, [token("HARNESSD03A")])
        for stale in (version, version - 1):
            status = await _send(
                ctx, peer, stale, Update.DIFFERENTIAL, [_entry(token("HARNESSD03B"))]
            )
            ctx.check(
                status == ListStatus.VERSION_MISMATCH,
                f"SendLocalList Differential version {stale} on a list of version {version}: "
                f"expected VersionMismatch, got {status}",
            )
        await _check_state(ctx, peer, version, 1, "after the refused differential updates")
    finally:
        await restore(ctx, peer, CONTROLLER, "Enabled", before)


@case(
    "TC_D_04_CS",
    "A listed card is authorized while offline; an unlisted one is not",
    use_cases=("D01", "C13", "E12"),
    prerequisites="The station is idle; LocalAuthListCtrlr.Enabled, AuthCtrlr."
    "LocalAuthorizeOffline and OfflineTxForUnknownIdEnabled writable; the driver can take the "
    "station offline, plug in, unplug and present a card.",
)
async def offline_listed(ctx: Context) -> None:
    """The harness enables the local list and AuthCtrlr.LocalAuthorizeOffline, and disables
    AuthCtrlr.OfflineTxForUnknownIdEnabled; it sends a full list of one card (Accepted). The
    station is taken off the network for 4 s. Meanwhile an EV is plugged in at EVSE 1, a card
    that is not on the list presented, then the listed one, and the EV unplugged. Back
    online, the station delivers the queued events: a transaction Started, an event of it,
    marked offline, carrying the listed card; no event carries the unlisted card. (The
    variables are then set back.)"""
    peer = await ctx.station()
    listed, unlisted = token("HARNESSD04LISTED"), token("HARNESSD04UNLISTED")
    settings = (
        (CONTROLLER, "Enabled", "true"),
        ("AuthCtrlr", "LocalAuthorizeOffline", "true"),
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "false"),
    )
    before: list[tuple[str, str, str | None]] = []
    outage: asyncio.Task[Any] | None = None
    now = peer
    try:
        for component, variable, value in settings:
            before.append((component, variable, await get_value(ctx, peer, component, variable)))
            status = await set_value(ctx, peer, component, variable, value)
            ctx.check(
                status == v201.SetVariableStatusEnumType.ACCEPTED,
                f"prerequisite: {component}.{variable} {value} was {status}",
            )
        await _full(ctx, peer, [listed])
        outage = await go_offline(ctx, peer, OUTAGE)
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, unlisted)
        await present(ctx, listed)
        await asyncio.sleep(1.0)
        await ctx.act("unplug", evse_id=EVSE)
        acted = time.monotonic()
        now = await back_online(ctx, peer, outage, OUTAGE)
        ctx.check(
            now.opened >= acted,
            "the station connected again while it was to be offline, before the EV was unplugged",
        )
        await started(ctx, now, since=0, why="the listed card presented offline")
        carried = await expect(
            ctx,
            now,
            Event,
            f"a queued event carrying the listed card {listed.id_token}",
            where=lambda e: _carries(e, listed),
        )
        ctx.check(
            carried.offline is True,
            f"the event carrying card {listed.id_token}, presented offline, is not marked offline",
        )
        await asyncio.sleep(QUIET)
        wrong = [e for e in now.received(Event) if _carries(e, unlisted)]
        ctx.check(
            not wrong,
            f"TransactionEvent {wrong[0].event_type if wrong else ''} carries card "
            f"{unlisted.id_token}, which is not on the list, presented offline with "
            "OfflineTxForUnknownIdEnabled false",
        )
    finally:
        if outage is not None and now is peer:  # not back yet: wait for it
            with contextlib.suppress(Exception):
                now = await back_online(ctx, peer, outage, OUTAGE)
        await tidy(ctx, now, 0)
        for component, variable, old in reversed(before):
            await restore(ctx, now, component, variable, old)


@case(
    "TC_D_05_CS",
    "Local pre-authorization: a listed card starts without an Authorize",
    use_cases=("D01", "C13"),
    prerequisites="The station is idle; LocalAuthListCtrlr.Enabled and AuthCtrlr."
    "LocalPreAuthorize writable; the driver can plug in, unplug and present a card.",
)
async def pre_authorized(ctx: Context) -> None:
    """The harness enables the local list and AuthCtrlr.LocalPreAuthorize and sends a full
    list of one card, Accepted (Accepted). An EV is plugged in at EVSE 1 and that card
    presented: an event of a transaction carries the card, and the station sent no Authorize
    for it. (The EV is then unplugged, the variables set back.)"""
    peer = await ctx.station()
    card = token("HARNESSD05")
    settings = ((CONTROLLER, "Enabled", "true"), ("AuthCtrlr", "LocalPreAuthorize", "true"))
    before: list[tuple[str, str, str | None]] = []
    mark = peer.mark()
    try:
        for component, variable, value in settings:
            before.append((component, variable, await get_value(ctx, peer, component, variable)))
            status = await set_value(ctx, peer, component, variable, value)
            ctx.check(
                status == v201.SetVariableStatusEnumType.ACCEPTED,
                f"prerequisite: {component}.{variable} {value} was {status}",
            )
        await _full(ctx, peer, [card])
        mark = peer.mark()
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        await expect(
            ctx,
            peer,
            Event,
            f"a TransactionEvent carrying the listed card {card.id_token}",
            since=mark,
            where=lambda e: _carries(e, card),
        )
        asked = [
            r
            for r in peer.received(v201.AuthorizeRequest, mark)
            if r.id_token.id_token == card.id_token
        ]
        ctx.check(
            not asked,
            f"the station sent Authorize for card {card.id_token}, Accepted on its local list "
            "with LocalPreAuthorize true",
        )
    finally:
        await tidy(ctx, peer, mark)
        for component, variable, old in reversed(before):
            await restore(ctx, peer, component, variable, old)


def _carries(event: Event, card: v201.IdTokenType) -> bool:
    return event.id_token is not UNSET and event.id_token.id_token == card.id_token
