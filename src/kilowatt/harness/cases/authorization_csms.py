"""Block C, Authorization, with a CSMS under test: Authorize for a token the CSMS accepts,
one it does not know, a blocked one and an expired one; and ClearCache.

The tokens are the harness's own (ISO14443 UIDs starting 04 48 41 52, "HAR"), set at the CSMS
by the driver (``set_id_token``) before each case that needs one; they stay there, set again
the same way by the next run.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import command, harness_note
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

Status = v201.AuthorizationStatusEnumType
TOKEN_TYPE = v201.IdTokenEnumType.ISO14443
ACCEPTED_TOKEN = "04484152000001"
BLOCKED_TOKEN = "04484152000002"
EXPIRED_TOKEN = "04484152000003"


async def _authorize(ctx: Context, id_token: str) -> v201.IdTokenInfoType:
    peer = await ctx.booted()
    answer = await peer.call(
        v201.AuthorizeRequest(id_token=v201.IdTokenType(id_token=id_token, type=TOKEN_TYPE))
    )
    return answer.id_token_info


@case(
    "TC_C_01_CSMS",
    "Authorize: a token the CSMS accepts is Accepted",
    use_cases=("C01",),
    prerequisites="The operator can set id tokens at the CSMS.",
)
async def authorize_accepted(ctx: Context) -> None:
    """The operator has the CSMS accept a token, with no expiry. The station asks to authorize
    it; the CSMS answers Accepted."""
    await ctx.act("set_id_token", id_token=ACCEPTED_TOKEN, type=TOKEN_TYPE.value, status="Accepted")
    info = await _authorize(ctx, ACCEPTED_TOKEN)
    ctx.check(info.status == Status.ACCEPTED, f"expected Accepted, got {info.status}")


@case(
    "TC_C_02_CSMS",
    "Authorize: a token the CSMS does not know is Unknown or Invalid",
    use_cases=("C01",),
    prerequisites="None.",
)
async def authorize_unknown(ctx: Context) -> None:
    """The station asks to authorize a token nobody gave the CSMS (random). The CSMS answers
    Unknown (or Invalid), never Accepted."""
    token = "0448" + secrets.token_hex(5).upper()
    info = await _authorize(ctx, token)
    ctx.check(
        info.status in (Status.UNKNOWN, Status.INVALID),
        f"token {token} is not known: expected Unknown or Invalid, got {info.status}",
    )


@case(
    "TC_C_06_CSMS",
    "Authorize: a blocked token is Blocked",
    use_cases=("C01",),
    prerequisites="The operator can set id tokens at the CSMS.",
)
async def authorize_blocked(ctx: Context) -> None:
    """The operator blocks a token at the CSMS. The station asks to authorize it; the CSMS
    answers Blocked."""
    await ctx.act("set_id_token", id_token=BLOCKED_TOKEN, type=TOKEN_TYPE.value, status="Blocked")
    info = await _authorize(ctx, BLOCKED_TOKEN)
    ctx.check(info.status == Status.BLOCKED, f"expected Blocked, got {info.status}")


@case(
    "TC_C_07_CSMS",
    "Authorize: a token past its expiry is Expired",
    use_cases=("C01",),
    prerequisites="The operator can set id tokens at the CSMS, with an expiry.",
)
async def authorize_expired(ctx: Context) -> None:
    """The operator has the CSMS accept a token until yesterday. The station asks to authorize
    it today; the CSMS answers Expired."""
    yesterday = (ctx.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    await ctx.act(
        "set_id_token",
        id_token=EXPIRED_TOKEN,
        type=TOKEN_TYPE.value,
        status="Accepted",
        expiry=yesterday,
    )
    info = await _authorize(ctx, EXPIRED_TOKEN)
    ctx.check(
        info.status == Status.EXPIRED,
        f"the token expired at {yesterday}: expected Expired, got {info.status}",
    )


@case(
    "TC_C_37_CSMS",
    "Clear the authorization cache: the request reaches the station, its answer comes back",
    use_cases=("C11",),
    prerequisites="The station's boot is Accepted.",
)
async def clear_cache(ctx: Context) -> None:
    """The operator clears the station's authorization cache. The station gets a ClearCache,
    answers Accepted (with a note of its own), and the operator is told that answer."""
    peer = await ctx.booted()
    answer = v201.ClearCacheResponse(
        status=v201.ClearCacheStatusEnumType.ACCEPTED, status_info=harness_note(ctx.case.id)
    )
    await command(ctx, peer, v201.ClearCacheRequest, {}, answer)
