"""Block O, Display messages, with a charging station under test: a message set, read back
with GetDisplayMessages and NotifyDisplayMessages, and cleared."""

from __future__ import annotations

import contextlib

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import expect, get_value, next_id
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Format = v201.MessageFormatEnumType
Priority = v201.MessagePriorityEnumType
GetStatus = v201.GetDisplayMessagesStatusEnumType
ClearStatus = v201.ClearMessageStatusEnumType


async def _message(ctx: Context, peer: Peer, text: str) -> v201.MessageInfoType:
    """A message of a fresh id in a format and priority the station says it supports (ASCII
    and NormalCycle unless it names others)."""
    formats = (await get_value(ctx, peer, "DisplayMessageCtrlr", "SupportedFormats") or "").split(
        ","
    )
    priorities = (
        await get_value(ctx, peer, "DisplayMessageCtrlr", "SupportedPriorities") or ""
    ).split(",")
    form = Format.ASCII if Format.ASCII in formats or formats == [""] else Format(formats[0])
    priority = (
        Priority.NORMAL_CYCLE
        if Priority.NORMAL_CYCLE in priorities or priorities == [""]
        else Priority(priorities[0])
    )
    return v201.MessageInfoType(
        id=next_id(),
        priority=priority,
        message=v201.MessageContentType(format=form, content=text),
    )


async def _set(ctx: Context, peer: Peer, message: v201.MessageInfoType) -> None:
    answer = await peer.call(v201.SetDisplayMessageRequest(message=message))
    ctx.check(
        answer.status == v201.DisplayMessageStatusEnumType.ACCEPTED,
        f"SetDisplayMessage of message {message.id} ({message.message.format}, "
        f"{message.priority}): expected Accepted, got {answer.status}",
    )


async def _listed(ctx: Context, peer: Peer, message_id: int) -> list[v201.MessageInfoType]:
    """GetDisplayMessages of one id: Accepted, then the NotifyDisplayMessages parts of its
    requestId; the messages they list."""
    request_id = next_id()
    mark = peer.mark()
    answer = await peer.call(v201.GetDisplayMessagesRequest(request_id=request_id, id=[message_id]))
    ctx.check(
        answer.status == GetStatus.ACCEPTED,
        f"GetDisplayMessages of message {message_id}, which the station accepted: expected "
        f"Accepted, got {answer.status}",
    )
    listed: list[v201.MessageInfoType] = []
    parts: list[v201.NotifyDisplayMessagesRequest] = []
    while not parts or parts[-1].tbc is True:
        part = await expect(
            ctx,
            peer,
            v201.NotifyDisplayMessagesRequest,
            f"NotifyDisplayMessages part {len(parts) + 1} of request {request_id}",
            since=mark,
            where=lambda r: r.request_id == request_id and all(r is not p for p in parts),
        )
        parts.append(part)
        listed += part.message_info if part.message_info is not UNSET else []
    return listed


async def _clear_quietly(peer: Peer, message_id: int) -> None:
    with contextlib.suppress(Exception):
        await peer.call(v201.ClearDisplayMessageRequest(id=message_id))


@case(
    "TC_O_01_CS",
    "Set a display message, and read it back",
    use_cases=("O01", "O03"),
    prerequisites="The station is booted, DisplayMessageCtrlr enabled, room for one message.",
)
async def set_and_get(ctx: Context) -> None:
    """The harness sets a message of a fresh id (SetDisplayMessage, in a format and priority
    the station lists as supported): Accepted. Asked for that id (GetDisplayMessages): Accepted,
    and a NotifyDisplayMessages of the request's id follows, listing that message only, with
    the content, format and priority set. (The message is then cleared.)"""
    peer = await ctx.station()
    message = await _message(ctx, peer, "Harness O01: welcome")
    try:
        await _set(ctx, peer, message)
        listed = await _listed(ctx, peer, message.id)
        ids = [m.id for m in listed]
        ctx.check(
            ids == [message.id],
            f"NotifyDisplayMessages for id {message.id} must list that message once, listed {ids}",
        )
        got = listed[0]
        ctx.check(
            (got.message.content, got.message.format, got.priority)
            == (message.message.content, message.message.format, message.priority),
            f"message {message.id} reads back as {got.message.content!r} ({got.message.format}, "
            f"{got.priority}), was set as {message.message.content!r} ({message.message.format}, "
            f"{message.priority})",
        )
    finally:
        await _clear_quietly(peer, message.id)


@case(
    "TC_O_02_CS",
    "Clear a display message: Accepted, then Unknown",
    use_cases=("O05", "O03"),
    prerequisites="The station is booted, DisplayMessageCtrlr enabled, room for one message.",
)
async def clear_message(ctx: Context) -> None:
    """The harness sets a message of a fresh id (Accepted) and clears it
    (ClearDisplayMessage): Accepted. Cleared again: Unknown. Asked for it
    (GetDisplayMessages with its id): Unknown, as no message matches."""
    peer = await ctx.station()
    message = await _message(ctx, peer, "Harness O02: to be cleared")
    try:
        await _set(ctx, peer, message)
        first = await peer.call(v201.ClearDisplayMessageRequest(id=message.id))
        ctx.check(
            first.status == ClearStatus.ACCEPTED,
            f"ClearDisplayMessage of message {message.id}: expected Accepted, got {first.status}",
        )
        again = await peer.call(v201.ClearDisplayMessageRequest(id=message.id))
        ctx.check(
            again.status == ClearStatus.UNKNOWN,
            f"ClearDisplayMessage of message {message.id}, cleared already: expected Unknown, "
            f"got {again.status}",
        )
        asked = await peer.call(
            v201.GetDisplayMessagesRequest(request_id=next_id(), id=[message.id])
        )
        ctx.check(
            asked.status == GetStatus.UNKNOWN,
            f"GetDisplayMessages of cleared message {message.id}: expected Unknown, got "
            f"{asked.status}",
        )
    finally:
        await _clear_quietly(peer, message.id)


@case(
    "TC_O_03_CS",
    "Set a display message of a known id: it replaces the old one",
    use_cases=("O06", "O03"),
    prerequisites="The station is booted, DisplayMessageCtrlr enabled, room for one message.",
)
async def replace_message(ctx: Context) -> None:
    """The harness sets a message (Accepted), then another with the same id and another
    text (Accepted). Asked for that id, the station lists one message, with the new text.
    (The message is then cleared.)"""
    peer = await ctx.station()
    old = await _message(ctx, peer, "Harness O03: the old text")
    new = v201.MessageInfoType(
        id=old.id,
        priority=old.priority,
        message=v201.MessageContentType(format=old.message.format, content="Harness O03: new"),
    )
    try:
        await _set(ctx, peer, old)
        await _set(ctx, peer, new)
        listed = await _listed(ctx, peer, old.id)
        texts = [m.message.content for m in listed]
        ctx.check(
            texts == [new.message.content],
            f"message {old.id}, set twice: expected only {new.message.content!r}, listed {texts}",
        )
    finally:
        await _clear_quietly(peer, old.id)
