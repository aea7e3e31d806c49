"""Block B, Provisioning, with a CSMS under test: boot (Accepted, Pending, Rejected), the
SecurityError before an Accepted boot, heartbeats, and subprotocol negotiation."""

from __future__ import annotations

from datetime import timedelta

from kilowatt.harness.case import case
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201
from kilowatt.rpc.errors import CallFailed
from kilowatt.transport.client import ConnectError

__all__: list[str] = []

Status = v201.RegistrationStatusEnumType
CLOCK_SKEW = timedelta(minutes=1)  # how far the CSMS's currentTime may be from the harness's


async def _refused_with_security_error(ctx: Context, peer: Peer, why: str) -> None:
    try:
        await peer.call(v201.HeartbeatRequest())
    except CallFailed as failed:
        ctx.check(
            failed.error.code == "SecurityError",
            f"{why}: a Heartbeat must get CALLERROR SecurityError, not {failed.error.code}",
        )
        return
    ctx.check(False, f"{why}: a Heartbeat was answered instead of refused with SecurityError")


@case(
    "TC_B_01_CSMS",
    "Cold boot: Accepted",
    use_cases=("B01",),
    requirements=("B01.FR.01", "B01.FR.04", "B01.FR.05"),
    prerequisites="The harness's station is registered at the CSMS, its boot to be Accepted.",
)
async def cold_boot_accepted(ctx: Context) -> None:
    """The station connects and sends BootNotification (PowerUp); the CSMS answers Accepted
    with a heartbeat interval above 0 and its current time. The station then reports its
    connector Available and sends a Heartbeat; the CSMS answers both, the Heartbeat with its
    current time."""
    await ctx.act(
        "set_registration", station_id=ctx.target.station_id, status="Accepted", interval=300
    )
    peer = await ctx.connect()
    answer = await ctx.boot(peer)
    ctx.check(answer.status == Status.ACCEPTED, f"boot: expected Accepted, got {answer.status}")
    ctx.check(
        answer.interval > 0, f"boot: the heartbeat interval must be > 0, was {answer.interval}"
    )
    now = ctx.now()
    ctx.check(
        abs(answer.current_time - now) < CLOCK_SKEW,
        f"boot: currentTime {answer.current_time.isoformat()} is far from {now.isoformat()}",
    )
    await peer.call(
        v201.StatusNotificationRequest(
            timestamp=ctx.now(),
            connector_status=v201.ConnectorStatusEnumType.AVAILABLE,
            evse_id=1,
            connector_id=1,
        )
    )
    beat = await peer.call(v201.HeartbeatRequest())
    ctx.check(
        abs(beat.current_time - ctx.now()) < CLOCK_SKEW,
        f"heartbeat: currentTime {beat.current_time.isoformat()} is far from the harness's",
    )


@case(
    "TC_B_02_CSMS",
    "Cold boot: Pending, then Accepted",
    use_cases=("B02",),
    requirements=("B02.FR.01", "B02.FR.09"),
    prerequisites="The operator can set the station's registration status at the CSMS.",
)
async def cold_boot_pending(ctx: Context) -> None:
    """The operator sets the station's registration to Pending. The station boots and is told
    Pending; any other request it makes is refused with SecurityError. The operator then
    accepts the station, which boots again and is Accepted, and its requests are served."""
    station = ctx.target.station_id
    await ctx.act("set_registration", station_id=station, status="Pending", interval=5)
    try:
        peer = await ctx.connect()
        answer = await ctx.boot(peer)
        ctx.check(answer.status == Status.PENDING, f"boot: expected Pending, got {answer.status}")
        await _refused_with_security_error(ctx, peer, "while Pending")
        await ctx.act("set_registration", station_id=station, status="Accepted", interval=300)
        again = await ctx.boot(peer)
        ctx.check(
            again.status == Status.ACCEPTED, f"second boot: expected Accepted, got {again.status}"
        )
        await peer.call(v201.HeartbeatRequest())
    finally:
        await ctx.act("set_registration", station_id=station, status="Accepted", interval=300)


@case(
    "TC_B_03_CSMS",
    "Cold boot: Rejected",
    use_cases=("B03",),
    requirements=("B03.FR.01", "B03.FR.07"),
    prerequisites="The operator can set the station's registration status at the CSMS.",
)
async def cold_boot_rejected(ctx: Context) -> None:
    """The operator sets the station's registration to Rejected. The station boots and is
    told Rejected with a retry interval; any other request is refused with SecurityError.
    (The operator then restores Accepted for the cases that follow.)"""
    station = ctx.target.station_id
    await ctx.act("set_registration", station_id=station, status="Rejected", interval=30)
    try:
        peer = await ctx.connect()
        answer = await ctx.boot(peer)
        ctx.check(answer.status == Status.REJECTED, f"boot: expected Rejected, got {answer.status}")
        ctx.check(answer.interval > 0, "boot: Rejected needs a retry interval above 0")
        await _refused_with_security_error(ctx, peer, "while Rejected")
    finally:
        await ctx.act("set_registration", station_id=station, status="Accepted", interval=300)


@case(
    "TC_B_04_CSMS",
    "Reconnect after an Accepted boot: no new boot needed",
    use_cases=("B01",),
    requirements=("B01.FR.10",),
    prerequisites="The station's boot is Accepted.",
)
async def reconnect_without_boot(ctx: Context) -> None:
    """The station boots (Accepted) and disconnects. It reconnects without rebooting, so it
    sends no BootNotification: its Heartbeat is served, not refused."""
    await ctx.act(
        "set_registration", station_id=ctx.target.station_id, status="Accepted", interval=300
    )
    first = await ctx.booted()
    await first.close()
    second = await ctx.connect()
    await second.call(v201.HeartbeatRequest())


@case(
    "TC_B_05_CSMS",
    "A new connection replaces the old one",
    use_cases=("B01",),
    requirements=("OCPP-J 3.3",),
    prerequisites="The station's boot is Accepted.",
)
async def new_connection_replaces_old(ctx: Context) -> None:
    """The station opens a second connection while its first is open (as after a network
    change). The CSMS serves the new one and closes the old one."""
    first = await ctx.booted()
    second = await ctx.connect()
    await second.call(v201.HeartbeatRequest())
    ctx.check(
        await first.wait_closed(ctx.timeout),
        "the first connection is still open after the station connected again",
    )


@case(
    "TC_B_06_CSMS",
    "Subprotocol negotiation",
    use_cases=("B01",),
    requirements=("OCPP-J 3.2",),
    prerequisites="None.",
)
async def subprotocol_negotiation(ctx: Context) -> None:
    """The station offers an unknown OCPP version first and 2.0.1 second: the CSMS picks
    ocpp2.0.1. Offering only unknown versions, the station is refused (no upgrade, or an
    upgrade without a subprotocol)."""
    peer = await ctx.connect(subprotocols=("ocpp0.9", ctx.target.subprotocol))
    ctx.check(
        peer.subprotocol == ctx.target.subprotocol,
        f"the CSMS chose {peer.subprotocol}, not {ctx.target.subprotocol}",
    )
    await peer.close()
    try:
        refused = await ctx.connect(subprotocols=("ocpp0.9",))
    except ConnectError as error:
        ctx.note(f"refused: {error}")
        return
    await refused.close()
    ctx.check(False, "the CSMS upgraded a connection that offered no version it speaks")
