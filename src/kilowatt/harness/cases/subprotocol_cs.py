"""Block B, Provisioning, with a charging station under test: what the station offers in its
WebSocket handshake when it connects afresh."""

from __future__ import annotations

from kilowatt.harness.case import CheckFailed, case
from kilowatt.harness.cases.common_cs import (
    answer_boot,
    boot_reported,
    connectors,
    heartbeat_interval,
    rebooted,
)
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

OCPP201 = "ocpp2.0.1"


@case(
    "TC_B_30_CS",
    "A fresh connection offers the ocpp2.0.1 subprotocol",
    use_cases=("B01",),
    prerequisites="The station is booted; the driver can reboot it.",
)
async def offers_ocpp201(ctx: Context) -> None:
    """The harness has the station rebooted. Its new connection's opening handshake offered
    the subprotocol ocpp2.0.1 (the Sec-WebSocket-Protocol header; other versions may be
    offered too), and that is the one spoken. On it the station boots, is accepted, and
    reports its connectors. (A station that offers no version the harness speaks is refused
    at the upgrade, and is seen not to come back.)"""
    peer = await ctx.station()
    wanted = await connectors(ctx, peer)
    answer_boot(
        ctx, peer, v201.RegistrationStatusEnumType.ACCEPTED, await heartbeat_interval(ctx, peer)
    )
    assert ctx.link is not None
    seen = len(ctx.link.handshakes)
    await ctx.act("reboot")
    try:
        peer, _ = await rebooted(ctx, peer)
    except TimeoutError:
        offers = [h.offered_subprotocols for h in ctx.link.handshakes[seen:]]
        raise CheckFailed(
            f"the station did not connect again within {ctx.timeout:g} s (handshakes since the "
            f"reboot offered: {offers or 'none came'}; those without {OCPP201} are refused)"
        ) from None
    handshake = peer.handshake
    ctx.check(handshake is not None, "the harness has no record of the new connection's handshake")
    assert handshake is not None
    ctx.check(
        handshake == ctx.link.handshakes[-1],
        "the new connection is not the last handshake the harness admitted",
    )
    offered = handshake.offered_subprotocols
    ctx.check(
        OCPP201 in offered,
        f"the station's handshake offered {list(offered) or 'no subprotocol'}, not {OCPP201}",
    )
    ctx.check(
        peer.subprotocol == OCPP201,
        f"the connection speaks {peer.subprotocol}, not {OCPP201}",
    )
    await boot_reported(ctx, peer, wanted, since=0)
