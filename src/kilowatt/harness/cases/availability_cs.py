"""Block G, Availability, with a charging station under test: an EVSE and the whole station
made Inoperative and Operative again, each change told with StatusNotifications."""

from __future__ import annotations

import contextlib

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import EVSE, connectors, statuses
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Operational = v201.OperationalStatusEnumType
Connector = v201.ConnectorStatusEnumType


@case(
    "TC_G_03_CS",
    "Change the availability of an EVSE: Inoperative, then Operative",
    use_cases=("G03", "G01"),
    prerequisites="The station is idle.",
)
async def evse_availability(ctx: Context) -> None:
    """The harness makes EVSE 1 Inoperative (ChangeAvailability): Accepted, as nothing runs
    there, and each of its connectors is reported Unavailable. Made Operative again:
    Accepted, and each is reported Available."""
    peer = await ctx.station()
    wanted = {c for c in await connectors(ctx, peer) if c[0] == EVSE}
    await _toggle(ctx, peer, wanted, v201.EVSEType(id=EVSE), f"EVSE {EVSE}")


@case(
    "TC_G_04_CS",
    "Change the availability of the station: Inoperative, then Operative",
    use_cases=("G04", "G01"),
    prerequisites="The station is idle.",
)
async def station_availability(ctx: Context) -> None:
    """The harness makes the whole station Inoperative (ChangeAvailability without an
    EVSE): Accepted, as nothing runs, and every connector is reported Unavailable. Made
    Operative again: Accepted, and every connector is reported Available."""
    peer = await ctx.station()
    await _toggle(ctx, peer, await connectors(ctx, peer), None, "the station")


async def _toggle(
    ctx: Context,
    peer: Peer,
    wanted: set[tuple[int, int]],
    evse: v201.EVSEType | None,
    what: str,
) -> None:
    restored = False
    try:
        for status, shown in (
            (Operational.INOPERATIVE, Connector.UNAVAILABLE),
            (Operational.OPERATIVE, Connector.AVAILABLE),
        ):
            mark = peer.mark()
            answer = await peer.call(
                v201.ChangeAvailabilityRequest(
                    operational_status=status, evse=evse if evse is not None else UNSET
                )
            )
            restored = status == Operational.OPERATIVE
            ctx.check(
                answer.status == v201.ChangeAvailabilityStatusEnumType.ACCEPTED,
                f"{what} {status} while idle: expected Accepted, got {answer.status}",
            )
            await statuses(ctx, peer, wanted, since=mark, status=shown)
    finally:
        if not restored:
            with contextlib.suppress(Exception):
                await peer.call(
                    v201.ChangeAvailabilityRequest(
                        operational_status=Operational.OPERATIVE,
                        evse=evse if evse is not None else UNSET,
                    )
                )
