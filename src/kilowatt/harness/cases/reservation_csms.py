"""Block H, Reservation, with a CSMS under test: the operator reserves the harness station's
EVSE for a token and cancels the reservation; a reservation that expires at the station is
reported to the CSMS.

Each operator's request goes through the driver's ``send`` (``command``): the station must get
exactly the reservation the operator gave, and the operator must be told the station's answer
(with a note of its own). Reservation ids are random, so that two runs never share one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import (
    CONNECTOR_ID,
    EVSE_ID,
    command,
    harness_note,
    whole_seconds,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

TOKEN = {"idToken": "04484152000201", "type": "ISO14443"}  # the harness's own UIDs
GROUP = {"idToken": "04484152000299", "type": "ISO14443"}


def _reservation(ctx: Context, reservation_id: int, minutes: int) -> dict[str, Any]:
    return {
        "id": reservation_id,
        "expiryDateTime": whole_seconds(ctx, timedelta(minutes=minutes)),
        "connectorType": "cType2",
        "idToken": TOKEN,
        "groupIdToken": GROUP,
        "evseId": EVSE_ID,
    }


async def _reserve(ctx: Context, peer: Peer, reservation_id: int, minutes: int) -> None:
    """The operator reserves EVSE 1; the station accepts and reports its connector Reserved."""
    answer = v201.ReserveNowResponse(
        status=v201.ReserveNowStatusEnumType.ACCEPTED,
        status_info=harness_note(f"{ctx.case.id} reserved"),
    )
    await command(
        ctx, peer, v201.ReserveNowRequest, _reservation(ctx, reservation_id, minutes), answer
    )
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.RESERVED))


def _connector(
    ctx: Context, status: v201.ConnectorStatusEnumType
) -> v201.StatusNotificationRequest:
    return v201.StatusNotificationRequest(
        timestamp=ctx.now(), connector_status=status, evse_id=EVSE_ID, connector_id=CONNECTOR_ID
    )


@case(
    "TC_H_07_CSMS",
    "Reserve an EVSE, then cancel: each request as given, each answer reported",
    use_cases=("H01", "H02"),
    prerequisites="The station's boot is Accepted; EVSE 1 is Available.",
)
async def reserve_and_cancel(ctx: Context) -> None:
    """The operator reserves EVSE 1 (a Type 2 connector) for the harness's token, in a group,
    for an hour, with a reservation id. The station gets that ReserveNow, as given, accepts it
    (with a note of its own), the operator is told so, and the station reports its connector
    Reserved. The operator then cancels that reservation: the station gets CancelReservation
    with the same id, accepts it (with another note), the operator is told so, and the
    connector is reported Available again."""
    peer = await ctx.booted()
    reservation_id = secrets.randbelow(2**31 - 1) + 1
    await _reserve(ctx, peer, reservation_id, 60)
    answer = v201.CancelReservationResponse(
        status=v201.CancelReservationStatusEnumType.ACCEPTED,
        status_info=harness_note(f"{ctx.case.id} cancelled"),
    )
    await command(
        ctx, peer, v201.CancelReservationRequest, {"reservationId": reservation_id}, answer
    )
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.AVAILABLE))


@case(
    "TC_H_15_CSMS",
    "A reservation that expires at the station: ReservationStatusUpdate answered",
    use_cases=("H01", "H04"),
    prerequisites="The station's boot is Accepted; EVSE 1 is Available.",
)
async def reservation_expires(ctx: Context) -> None:
    """The operator reserves EVSE 1 for the harness's token, for one minute. The station gets
    that ReserveNow, as given, accepts it, the operator is told so, and the connector is
    reported Reserved. Nobody comes: the station reports the reservation Expired in a
    ReservationStatusUpdate with its id, and its connector Available. The CSMS answers
    both."""
    peer = await ctx.booted()
    reservation_id = secrets.randbelow(2**31 - 1) + 1
    await _reserve(ctx, peer, reservation_id, 1)
    await peer.call(
        v201.ReservationStatusUpdateRequest(
            reservation_id=reservation_id,
            reservation_update_status=v201.ReservationUpdateStatusEnumType.EXPIRED,
        )
    )
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.AVAILABLE))
