"""Block A, Security, with a CSMS under test at security profile 1 (HTTP Basic auth over ws):
who is let in, who is refused and with which HTTP status, and the CSMS setting a station's
password (SetVariables SecurityCtrlr.BasicAuthPassword)."""

from __future__ import annotations

import contextlib
import secrets

from kilowatt.harness.case import CheckFailed, NotConfigured, case
from kilowatt.harness.cases.remote_control_csms import command
from kilowatt.harness.context import Context
from kilowatt.harness.drivers import DriverError
from kilowatt.messages import v201
from kilowatt.rpc.errors import OcppError

__all__: list[str] = []

PROFILE_1 = "The station is registered at the CSMS with security profile 1 and a password."


def _password(ctx: Context) -> str:
    password = ctx.target.password
    if password is None:
        raise NotConfigured("the harness needs the station's password (--password)")
    return password


@case(
    "TC_A_01_CSMS",
    "Basic authentication: the right password is let in",
    use_cases=("A00", "B01"),
    prerequisites=PROFILE_1,
)
async def right_password(ctx: Context) -> None:
    """The station connects with its identity as the user name and its password. The CSMS
    upgrades the connection and accepts the station's boot; a Heartbeat is then served."""
    _password(ctx)
    peer = await ctx.booted()
    await peer.call(v201.HeartbeatRequest())


@case(
    "TC_A_03_CSMS",
    "Basic authentication: a wrong password is refused with 401",
    use_cases=("A00",),
    prerequisites=PROFILE_1,
)
async def wrong_password(ctx: Context) -> None:
    """The station connects with its identity but a password that is not its own. The CSMS
    does not upgrade: it answers HTTP 401."""
    wrong = _password(ctx) + "-not-this-one"
    status = await ctx.refused(password=wrong)
    ctx.check(status == 401, f"a wrong password: expected HTTP 401, got {_shown(status)}")


@case(
    "TC_A_05_CSMS",
    "Basic authentication: no password is refused with 401",
    use_cases=("A00",),
    prerequisites=PROFILE_1,
)
async def no_password(ctx: Context) -> None:
    """The station connects with its identity but no Authorization header at all. The CSMS
    does not upgrade: it answers HTTP 401."""
    _password(ctx)
    status = await ctx.refused(password=None)
    ctx.check(status == 401, f"no password: expected HTTP 401, got {_shown(status)}")


@case(
    "TC_A_15_CSMS",
    "An identity the CSMS does not know is refused with 404",
    use_cases=("A00",),
    prerequisites="The CSMS does not register unknown stations when they first connect.",
)
async def unknown_identity(ctx: Context) -> None:
    """A station with an identity no CSMS can know (the harness's, with a random suffix)
    connects with a password. The CSMS does not upgrade: it answers HTTP 404."""
    stranger = f"{ctx.target.station_id}-UNKNOWN-{secrets.token_hex(4).upper()}"
    status = await ctx.refused(station_id=stranger, password=ctx.target.password or "x" * 16)
    ctx.check(status == 404, f"unknown {stranger}: expected HTTP 404, got {_shown(status)}")


def _shown(status: int | None) -> str:
    return "an upgrade" if status is None else f"HTTP {status}"


def _set_password(password: str) -> dict[str, object]:
    return {
        "setVariableData": [
            {
                "attributeValue": password,
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            }
        ]
    }


def _accepted() -> v201.SetVariablesResponse:
    return v201.SetVariablesResponse(
        set_variable_result=[
            v201.SetVariableResultType(
                attribute_status=v201.SetVariableStatusEnumType.ACCEPTED,
                component=v201.ComponentType(name="SecurityCtrlr"),
                variable=v201.VariableType(name="BasicAuthPassword"),
            )
        ]
    )


@case(
    "TC_A_09_CSMS",
    "Password change: the CSMS sends the new BasicAuthPassword",
    use_cases=("A01",),
    requirements=("A01.FR.02",),
    prerequisites=PROFILE_1 + " The station's boot is Accepted.",
)
async def password_change(ctx: Context) -> None:
    """The operator gives the station a new password (24 random characters). The station gets
    a valid SetVariables that sets SecurityCtrlr.BasicAuthPassword to exactly that password,
    accepts it, and the operator is told so. (Whether the CSMS then lets the station in with
    the new password is its own policy: not checked.) The operator then sets the old password
    back the same way, so that the cases after this one connect as before."""
    old = _password(ctx)
    peer = await ctx.booted()
    new = "harness-" + secrets.token_hex(8)
    try:
        await command(ctx, peer, v201.SetVariablesRequest, _set_password(new), _accepted())
    except BaseException:
        # The case failed: the old password back all the same, as far as it goes.
        with contextlib.suppress(CheckFailed, DriverError, OcppError, TimeoutError):
            await command(ctx, peer, v201.SetVariablesRequest, _set_password(old), _accepted())
        raise
    await command(ctx, peer, v201.SetVariablesRequest, _set_password(old), _accepted())
