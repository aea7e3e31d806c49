"""Block A, Security, with a CSMS under test at security profile 2 (TLS with a server
certificate, and HTTP Basic auth): the station is let in over wss with its password, a wrong
password is refused there too, and the same station is refused over plain ws."""

from __future__ import annotations

from kilowatt.harness.case import NotConfigured, case
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

PROFILE_2 = (
    "The station is registered at the CSMS with security profile 2 and a password; the "
    "harness trusts the CSMS's server certificate (--ca) and connects over wss."
)
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")  # A00: TLS 1.2 or higher


def _password(ctx: Context) -> str:
    password = ctx.target.password
    if password is None:
        raise NotConfigured("the harness needs the station's password (--password)")
    return password


def _wss(ctx: Context) -> str:
    url = ctx.target.url or ""
    if not url.startswith("wss:"):
        raise NotConfigured(f"security profile 2 needs the CSMS's wss URL, not {url!r}")
    return url


def _shown(status: int | None) -> str:
    return "an upgrade" if status is None else f"HTTP {status}"


@case(
    "TC_A_06_CSMS",
    "TLS and Basic authentication: the station is let in over wss",
    use_cases=("A00", "B01"),
    prerequisites=PROFILE_2,
    security_profile=2,
)
async def tls_basic_auth(ctx: Context) -> None:
    """The harness opens a TLS connection to the CSMS's port, checking its certificate
    against the given CA and its host name, and looks at the version negotiated: TLS 1.2 or
    higher. The station then connects over wss with its identity and password; the CSMS
    upgrades the connection, accepts the boot and serves a Heartbeat."""
    _password(ctx)
    _wss(ctx)
    version = await ctx.tls_version()
    ctx.note(f"TLS version negotiated: {version}")
    ctx.check(version in TLS_VERSIONS, f"expected TLS 1.2 or higher, the CSMS chose {version}")
    peer = await ctx.booted()
    await peer.call(v201.HeartbeatRequest())


@case(
    "TC_A_07_CSMS",
    "TLS and Basic authentication: a wrong password over wss is refused with 401",
    use_cases=("A00",),
    prerequisites=PROFILE_2,
    security_profile=2,
)
async def tls_wrong_password(ctx: Context) -> None:
    """Over a TLS connection the CSMS accepts, the station sends its identity with a password
    that is not its own. The CSMS does not upgrade: it answers HTTP 401."""
    wrong = _password(ctx) + "-not-this-one"
    _wss(ctx)
    status = await ctx.refused(password=wrong)
    ctx.check(status == 401, f"a wrong password over wss: expected HTTP 401, got {_shown(status)}")


@case(
    "TC_A_08_CSMS",
    "A profile-2 station over plain ws is refused with 401",
    use_cases=("A00",),
    prerequisites=PROFILE_2 + " The CSMS also listens on plain ws (--plain-url).",
    security_profile=2,
)
async def plain_refused(ctx: Context) -> None:
    """The station connects to the CSMS's plain ws endpoint, with its identity and its right
    password. Its profile asks for TLS, so the CSMS does not upgrade: it answers HTTP 401.
    (A CSMS that has no plain endpoint at all cannot let the station in there: give no
    --plain-url, and this case errs as not configured.)"""
    password = _password(ctx)
    plain = ctx.target.plain_url
    if plain is None:
        raise NotConfigured("the CSMS's plain ws endpoint is needed (--plain-url)")
    status = await ctx.refused(url=plain, password=password)
    ctx.check(
        status == 401,
        f"a profile-2 station over plain ws: expected HTTP 401, got {_shown(status)}",
    )
