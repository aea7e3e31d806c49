"""Block A, Security, with a charging station under test at security profile 2 (TLS with the
harness's server certificate, and HTTP Basic auth): the station connects over wss with its
password, and takes a new BasicAuthPassword from the CSMS (A01) on its next connection."""

from __future__ import annotations

import contextlib
import secrets

from kilowatt.harness.case import NotConfigured, case
from kilowatt.harness.cases.common_cs import get_value, set_value
from kilowatt.harness.context import Context, StationLink
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

PROFILE_2 = (
    "The station is set up for security profile 2: it trusts the harness's server "
    "certificate (--server-cert) and connects over wss with its password (--password)."
)
Status = v201.SetVariableStatusEnumType


def _link(ctx: Context) -> StationLink:
    link = ctx.link
    if link is None or link.scheme != "wss":
        raise NotConfigured("security profile 2 needs the harness on wss (--server-cert)")
    if link.password is None:
        raise NotConfigured("the harness needs the station's password (--password)")
    return link


def _credentials(ctx: Context, peer: Peer, password: str, when: str) -> None:
    """The connection came in over TLS with the station's identity and ``password``."""
    handshake = peer.handshake
    ctx.check(handshake is not None, f"{when}: the harness has no record of the handshake")
    assert handshake is not None
    ctx.check(handshake.tls, f"{when}: the station connected without TLS")
    auth = handshake.basic_auth
    ctx.check(auth is not None, f"{when}: the station sent no Basic auth")
    assert auth is not None
    ctx.check(
        auth.user == ctx.target.station_id,
        f"{when}: Basic auth user {auth.user!r}, expected the station id",
    )
    ctx.check(auth.password == password, f"{when}: Basic auth with another password")


def _refusals(link: StationLink, since: int) -> str:
    """What the station's handshakes since ``since`` brought, for a failure's message."""
    shown = []
    for handshake in link.handshakes[since:]:
        auth = handshake.basic_auth
        shown.append(
            f"tls={handshake.tls} user={auth.user if auth else None} "
            f"password={'given' if auth else 'none'}"
        )
    return "; ".join(shown) or "no attempt"


@case(
    "TC_A_06_CS",
    "TLS and Basic authentication: the station connects over wss",
    use_cases=("A00",),
    prerequisites=PROFILE_2,
    security_profile=2,
)
async def tls_basic_auth(ctx: Context) -> None:
    """The station's connection to the harness came in over TLS (the harness's listener
    allows TLS 1.2 and higher only) with HTTP Basic auth: its identity as the user and its
    password. Asked with GetVariables, it reports SecurityCtrlr.SecurityProfile 2."""
    link = _link(ctx)
    assert link.password is not None
    peer = await ctx.station()
    _credentials(ctx, peer, link.password, "the connection")
    profile = await get_value(ctx, peer, "SecurityCtrlr", "SecurityProfile")
    ctx.check(profile == "2", f"SecurityCtrlr.SecurityProfile: expected 2, got {profile}")


@case(
    "TC_A_09_CS",
    "Password change: the station reconnects with the new BasicAuthPassword",
    use_cases=("A01",),
    requirements=("A01.FR.01", "A01.FR.02"),
    prerequisites=PROFILE_2,
    security_profile=2,
)
async def password_change(ctx: Context) -> None:
    """The harness sets SecurityCtrlr.BasicAuthPassword to a new password (24 random
    characters) with SetVariables; the station accepts it. From then on the harness lets the
    station in with the new password only: the station's next connection (opened at once,
    or after the driver reboots it) comes over TLS with the new password. The harness then
    sets the old password back the same way and lets the station in with it again."""
    link = _link(ctx)
    old = link.password
    assert old is not None
    new = "harness-" + secrets.token_hex(8)
    peer = await ctx.station()
    link.password = new
    changed = False
    try:
        status = await set_value(ctx, peer, "SecurityCtrlr", "BasicAuthPassword", new)
        ctx.check(status == Status.ACCEPTED, f"SetVariables BasicAuthPassword: {status}")
        changed = True
        peer = await _reconnected(ctx, link, peer, "with the new password")
        _credentials(ctx, peer, new, "the connection after the change")
        link.password = old
        status = await set_value(ctx, peer, "SecurityCtrlr", "BasicAuthPassword", old)
        ctx.check(status == Status.ACCEPTED, f"SetVariables back to the old password: {status}")
        changed = False
        peer = await _reconnected(ctx, link, peer, "with the old password again")
        _credentials(ctx, peer, old, "the connection after the old password was set back")
    finally:
        link.password = old
        if changed:  # the case failed half way: the old password back, as far as it goes
            with contextlib.suppress(Exception):
                current = await ctx.station()
                await set_value(ctx, current, "SecurityCtrlr", "BasicAuthPassword", old)


async def _reconnected(ctx: Context, link: StationLink, peer: Peer, how: str) -> Peer:
    """The station's next connection after ``peer``: it should open one by itself; if none
    comes in the step time, the driver reboots the station, which then must."""
    since = len(link.handshakes)
    try:
        return await ctx.station(after=peer)
    except TimeoutError:
        ctx.note(f"no new connection {how} within {ctx.timeout:g} s: the driver reboots")
    await ctx.act("reboot")
    try:
        return await ctx.station(after=peer)
    except TimeoutError:
        ctx.check(False, f"the station did not reconnect {how}: {_refusals(link, since)}")
        raise
