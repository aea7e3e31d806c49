"""Block H, Reservation, with a charging station under test: an EVSE reserved and the
reservation cancelled, a cancellation of a reservation the station does not have, a
reservation that expires, and one used by its card."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    CONNECTOR,
    EVSE,
    QUIET,
    TOLERANCE,
    expect,
    next_id,
    present,
    statuses,
    tidy,
    token,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Connector = v201.ConnectorStatusEnumType
Cancel = v201.CancelReservationStatusEnumType
Event = v201.TransactionEventRequest
EXPIRY = 3.0  # seconds: the short reservation H_03 makes, to see it expire
LONG = timedelta(minutes=10)  # the reservations that must not expire during a case
ONE = {(EVSE, CONNECTOR)}


async def _reserve(
    ctx: Context, peer: Peer, reservation_id: int, card: v201.IdTokenType, lasting: timedelta
) -> None:
    """ReserveNow of EVSE 1 for ``card``: Accepted, and its connector reported Reserved."""
    mark = peer.mark()
    answer = await peer.call(
        v201.ReserveNowRequest(
            id=reservation_id, expiry_date_time=ctx.now() + lasting, id_token=card, evse_id=EVSE
        )
    )
    ctx.check(
        answer.status == v201.ReserveNowStatusEnumType.ACCEPTED,
        f"ReserveNow of an idle EVSE {EVSE}: expected Accepted, got {answer.status}",
    )
    await statuses(ctx, peer, ONE, since=mark, status=Connector.RESERVED)


async def _cancel_quietly(peer: Peer, reservation_id: int) -> None:
    with contextlib.suppress(Exception):
        await peer.call(v201.CancelReservationRequest(reservation_id=reservation_id))


@case(
    "TC_H_01_CS",
    "Reserve an EVSE, then cancel the reservation",
    use_cases=("H01", "H02"),
    requirements=("H02.FR.04",),
    prerequisites="The station is idle, ReservationCtrlr enabled.",
)
async def reserve_and_cancel(ctx: Context) -> None:
    """The harness reserves EVSE 1 for a card for ten minutes (ReserveNow with an evseId):
    Accepted, and the EVSE's connector is reported Reserved. The harness cancels the
    reservation (CancelReservation): Accepted, and the connector is reported Available
    again."""
    peer = await ctx.station()
    reservation_id = next_id()
    cancelled = False
    try:
        await _reserve(ctx, peer, reservation_id, token("HARNESSH01"), LONG)
        mark = peer.mark()
        answer = await peer.call(v201.CancelReservationRequest(reservation_id=reservation_id))
        cancelled = True
        ctx.check(
            answer.status == Cancel.ACCEPTED,
            f"CancelReservation of reservation {reservation_id}: expected Accepted, got "
            f"{answer.status}",
        )
        await statuses(ctx, peer, ONE, since=mark, status=Connector.AVAILABLE)
    finally:
        if not cancelled:
            await _cancel_quietly(peer, reservation_id)


@case(
    "TC_H_02_CS",
    "Cancel a reservation the station does not have",
    use_cases=("H02",),
    requirements=("H02.FR.02",),
    prerequisites="The station is idle, ReservationCtrlr enabled.",
)
async def cancel_unknown(ctx: Context) -> None:
    """The harness cancels a reservation id it never used: Rejected. It reserves EVSE 1
    (Accepted, Reserved), cancels that reservation (Accepted), and cancels it again: Rejected,
    as it is no more."""
    peer = await ctx.station()
    unknown = next_id()
    answer = await peer.call(v201.CancelReservationRequest(reservation_id=unknown))
    ctx.check(
        answer.status == Cancel.REJECTED,
        f"CancelReservation of reservation {unknown}, never made: expected Rejected, got "
        f"{answer.status}",
    )
    reservation_id = next_id()
    try:
        await _reserve(ctx, peer, reservation_id, token("HARNESSH02"), LONG)
        first = await peer.call(v201.CancelReservationRequest(reservation_id=reservation_id))
        ctx.check(
            first.status == Cancel.ACCEPTED,
            f"CancelReservation of reservation {reservation_id}: expected Accepted, got "
            f"{first.status}",
        )
        again = await peer.call(v201.CancelReservationRequest(reservation_id=reservation_id))
        ctx.check(
            again.status == Cancel.REJECTED,
            f"CancelReservation of reservation {reservation_id}, cancelled already: expected "
            f"Rejected, got {again.status}",
        )
    finally:
        await _cancel_quietly(peer, reservation_id)


@case(
    "TC_H_03_CS",
    "A reservation expires: ReservationStatusUpdate Expired, the EVSE Available again",
    use_cases=("H01",),
    prerequisites="The station is idle, ReservationCtrlr enabled, its clock right to a second.",
)
async def reservation_expires(ctx: Context) -> None:
    """The harness reserves EVSE 1 for a card for 3 s: Accepted, the connector reported
    Reserved. About 3 s later (not before) the station tells that the reservation expired
    (ReservationStatusUpdate Expired, with its id), and reports the connector Available."""
    peer = await ctx.station()
    reservation_id = next_id()
    mark = peer.mark()
    reserved = time.monotonic()
    try:
        await _reserve(ctx, peer, reservation_id, token("HARNESSH03"), timedelta(seconds=EXPIRY))
        held = peer.mark()
        update = await expect(
            ctx,
            peer,
            v201.ReservationStatusUpdateRequest,
            f"a ReservationStatusUpdate of reservation {reservation_id} ({EXPIRY:g} s expiry)",
            since=mark,
            where=lambda r: r.reservation_id == reservation_id,
            timeout=EXPIRY + TOLERANCE + ctx.timeout,
        )
        after = time.monotonic() - reserved
        ctx.check(
            update.reservation_update_status == v201.ReservationUpdateStatusEnumType.EXPIRED,
            f"reservation {reservation_id} ran out: expected Expired, got "
            f"{update.reservation_update_status}",
        )
        ctx.check(
            after >= EXPIRY - TOLERANCE / 2,
            f"reservation {reservation_id} of {EXPIRY:g} s reported expired after {after:.2f} s",
        )
        ctx.check(
            after <= EXPIRY + TOLERANCE,
            f"reservation {reservation_id} of {EXPIRY:g} s reported expired only after "
            f"{after:.2f} s",
        )
        await statuses(ctx, peer, ONE, since=held, status=Connector.AVAILABLE)
    finally:
        await _cancel_quietly(peer, reservation_id)


@case(
    "TC_H_04_CS",
    "A reserved EVSE serves only its card; the transaction names the reservation",
    use_cases=("H01", "H03"),
    prerequisites="The station is idle, ReservationCtrlr enabled; the driver can plug in, "
    "unplug and present a card.",
)
async def reservation_used(ctx: Context) -> None:
    """The harness reserves EVSE 1 for one card (Accepted, Reserved). An EV is plugged in
    there and another card presented (the harness accepts it if asked): for a while no
    transaction event carries that card. The reserved card is presented: an event of a
    transaction carries it with the reservation's id. (The EV is then unplugged.)"""
    peer = await ctx.station()
    reservation_id = next_id()
    holder, other = token("HARNESSH04"), token("HARNESSH04OTHER")
    await _reserve(ctx, peer, reservation_id, holder, LONG)
    mark = peer.mark()
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, other)
        await asyncio.sleep(QUIET)
        for event in peer.received(Event, mark):
            ctx.check(
                event.id_token is UNSET or event.id_token.id_token != other.id_token,
                f"TransactionEvent {event.event_type} carries card {other.id_token} at EVSE "
                f"{EVSE}, reserved for card {holder.id_token}",
            )
        await present(ctx, holder)
        event = await expect(
            ctx,
            peer,
            Event,
            f"a TransactionEvent carrying the reserved card {holder.id_token}",
            since=mark,
            where=lambda e: e.id_token is not UNSET and e.id_token.id_token == holder.id_token,
        )
        ctx.check(
            event.reservation_id == reservation_id,
            f"the event carrying the reserved card must name reservation {reservation_id}, "
            f"named {event.reservation_id if event.reservation_id is not UNSET else 'none'}",
        )
    finally:
        await tidy(ctx, peer, mark)
        await _cancel_quietly(peer, reservation_id)
