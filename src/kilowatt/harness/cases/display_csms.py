"""Block O, Display Message, with a CSMS under test: the operator has the harness's station show
a message and clears it, and asks for the messages it has, which the station reports.

Each operator's request goes through the driver's ``send`` (``command``): the station must get
exactly the message or criteria the operator gave, and the operator must be told the station's
answer (with a note of its own). Message ids are random, so that two runs never share one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import command, harness_note, whole_seconds
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []


def _id() -> int:
    return secrets.randbelow(2**31 - 1) + 1


@case(
    "TC_O_01_CSMS",
    "Set a display message, then clear it: each request as given, each answer reported",
    use_cases=("O01", "O05"),
    prerequisites="The station's boot is Accepted.",
)
async def set_and_clear_message(ctx: Context) -> None:
    """The operator has the station show a message, in Dutch and with characters beyond
    ASCII, at normal priority, from now for two hours, with a message id. The station gets
    that SetDisplayMessage, as given, accepts it (with a note of its own), and the operator is
    told so. The operator then clears the message: the station gets ClearDisplayMessage with
    the same id, clears it (Accepted, with another note), and the operator is told so."""
    peer = await ctx.booted()
    message_id = _id()
    payload = {
        "message": {
            "id": message_id,
            "priority": "NormalCycle",
            "startDateTime": whole_seconds(ctx),
            "endDateTime": whole_seconds(ctx, timedelta(hours=2)),
            "message": {
                "format": "UTF8",
                "language": "nl",
                "content": "Welkom! Laadpaal €0,35/kWh — veel plezier",
            },
        }
    }
    answer = v201.SetDisplayMessageResponse(
        status=v201.DisplayMessageStatusEnumType.ACCEPTED,
        status_info=harness_note(f"{ctx.case.id} shown"),
    )
    await command(ctx, peer, v201.SetDisplayMessageRequest, payload, answer)
    cleared = v201.ClearDisplayMessageResponse(
        status=v201.ClearMessageStatusEnumType.ACCEPTED,
        status_info=harness_note(f"{ctx.case.id} cleared"),
    )
    await command(ctx, peer, v201.ClearDisplayMessageRequest, {"id": message_id}, cleared)


@case(
    "TC_O_02_CSMS",
    "Set a display message the station cannot show: its refusal reported",
    use_cases=("O01",),
    prerequisites="The station's boot is Accepted.",
)
async def message_refused(ctx: Context) -> None:
    """The operator has the station show an HTML message, always on top, for a transaction.
    The station gets that SetDisplayMessage, as given, cannot show HTML (NotSupportedMessageFormat,
    with a note of its own), and the operator is told that refusal, not a success."""
    peer = await ctx.booted()
    payload = {
        "message": {
            "id": _id(),
            "priority": "AlwaysFront",
            "transactionId": f"harness-{secrets.token_hex(8)}",
            "message": {"format": "HTML", "content": "<b>Charging</b> at 11 kW"},
        }
    }
    answer = v201.SetDisplayMessageResponse(
        status=v201.DisplayMessageStatusEnumType.NOT_SUPPORTED_MESSAGE_FORMAT,
        status_info=harness_note(ctx.case.id),
    )
    await command(ctx, peer, v201.SetDisplayMessageRequest, payload, answer)


@case(
    "TC_O_13_CSMS",
    "Get display messages: the criteria as given, the station's two-part report answered",
    use_cases=("O03",),
    prerequisites="The station's boot is Accepted.",
)
async def get_messages(ctx: Context) -> None:
    """The operator asks the station for its active messages at normal priority, with a
    request id. The station gets that GetDisplayMessages, as given, accepts it (with a note of
    its own), and the operator is told so. The station then reports two messages in two
    NotifyDisplayMessages with that request id, the first with more to come; the CSMS answers
    both."""
    peer = await ctx.booted()
    request_id = _id()
    payload = {"requestId": request_id, "priority": "NormalCycle", "state": "Idle"}
    answer = v201.GetDisplayMessagesResponse(
        status=v201.GetDisplayMessagesStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    await command(ctx, peer, v201.GetDisplayMessagesRequest, payload, answer)
    texts = ("Welcome to the harness", "Out of order tomorrow 08:00-10:00")
    for part, text in enumerate(texts):
        await peer.call(
            v201.NotifyDisplayMessagesRequest(
                request_id=request_id,
                tbc=part < len(texts) - 1,
                message_info=[
                    v201.MessageInfoType(
                        id=_id(),
                        priority=v201.MessagePriorityEnumType.NORMAL_CYCLE,
                        state=v201.MessageStateEnumType.IDLE,
                        message=v201.MessageContentType(
                            format=v201.MessageFormatEnumType.ASCII, language="en", content=text
                        ),
                    )
                ],
            )
        )
