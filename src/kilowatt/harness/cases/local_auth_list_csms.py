"""Block D, Local Authorization List Management, with a CSMS under test: the operator sends the
harness's station a full list, then a differential update, and asks for the list's version.

Each request goes through the driver's ``send`` (``command``): the station must get exactly
the list the operator gave (version, entries, each entry's idTokenInfo or its absence), and
the operator must be told the station's answer, which carries something only the harness
gives (a note, a version of its own).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import command, harness_note, whole_seconds
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

TOKEN_TYPE = "ISO14443"
# The harness's own ISO14443 UIDs (04 48 41 52: "HAR"), for the list only.
LISTED = ("04484152000101", "04484152000102", "04484152000103")
GROUP = "04484152000199"


def _version() -> int:
    """A list version no CSMS keeps for the harness's station by chance: random, at least 1
    (D01.FR.18), with room above it for the next one."""
    return secrets.randbelow(2**30) + 1


def _entry(id_token: str, info: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"idToken": {"idToken": id_token, "type": TOKEN_TYPE}}
    if info is not None:
        entry["idTokenInfo"] = info
    return entry


def _accepted(note: str) -> v201.SendLocalListResponse:
    return v201.SendLocalListResponse(
        status=v201.SendLocalListStatusEnumType.ACCEPTED, status_info=harness_note(note)
    )


@case(
    "TC_D_01_CSMS",
    "Send a full local list: version and entries as given, the station's answer reported",
    use_cases=("D01",),
    requirements=("D01.FR.18",),
    prerequisites="The station's boot is Accepted.",
)
async def send_full_list(ctx: Context) -> None:
    """The operator sends the station a full local authorization list, with a version number:
    one token Accepted until a day from now, in a group, with a language; one Blocked; one
    Accepted with no more to it. The station gets that SendLocalList, as given (updateType
    Full, the version, the three entries each with its idTokenInfo), accepts it (with a note
    of its own), and the operator is told so."""
    peer = await ctx.booted()
    payload = {
        "versionNumber": _version(),
        "updateType": "Full",
        "localAuthorizationList": [
            _entry(
                LISTED[0],
                {
                    "status": "Accepted",
                    "cacheExpiryDateTime": whole_seconds(ctx, timedelta(days=1)),
                    "groupIdToken": {"idToken": GROUP, "type": TOKEN_TYPE},
                    "language1": "nl",
                },
            ),
            _entry(LISTED[1], {"status": "Blocked"}),
            _entry(LISTED[2], {"status": "Accepted"}),
        ],
    }
    await command(ctx, peer, v201.SendLocalListRequest, payload, _accepted(ctx.case.id))


@case(
    "TC_D_02_CSMS",
    "Differential local list update: additions and removals as given, answers reported",
    use_cases=("D01",),
    requirements=("D01.FR.18",),
    prerequisites="The station's boot is Accepted.",
)
async def send_differential_list(ctx: Context) -> None:
    """The operator sends a full list of two tokens, with a version number, then a
    differential update with a higher version: one token changed to Blocked, one added
    (Accepted, with an expiry), and one removed (an entry with no idTokenInfo). The station
    gets each SendLocalList as given (the removal still without idTokenInfo), accepts each
    (with a note of its own, different for the two), and the operator is told each answer."""
    peer = await ctx.booted()
    version = _version()
    full = {
        "versionNumber": version,
        "updateType": "Full",
        "localAuthorizationList": [
            _entry(LISTED[0], {"status": "Accepted"}),
            _entry(LISTED[1], {"status": "Accepted"}),
        ],
    }
    await command(ctx, peer, v201.SendLocalListRequest, full, _accepted(f"{ctx.case.id} full"))
    differential = {
        "versionNumber": version + 1,
        "updateType": "Differential",
        "localAuthorizationList": [
            _entry(LISTED[0], {"status": "Blocked"}),
            _entry(
                LISTED[2],
                {
                    "status": "Accepted",
                    "cacheExpiryDateTime": whole_seconds(ctx, timedelta(hours=8)),
                },
            ),
            _entry(LISTED[1], None),
        ],
    }
    await command(
        ctx,
        peer,
        v201.SendLocalListRequest,
        differential,
        _accepted(f"{ctx.case.id} differential"),
    )


@case(
    "TC_D_08_CSMS",
    "Get the local list version: the request reaches the station, its version is reported",
    use_cases=("D02",),
    prerequisites="The station's boot is Accepted.",
)
async def get_local_list_version(ctx: Context) -> None:
    """The operator asks the station for the version of its local list. The station gets
    that GetLocalListVersion (an empty request) and answers with a version of its own (random);
    the operator is told exactly that version."""
    peer = await ctx.booted()
    answer = v201.GetLocalListVersionResponse(version_number=_version())
    await command(ctx, peer, v201.GetLocalListVersionRequest, {}, answer)
