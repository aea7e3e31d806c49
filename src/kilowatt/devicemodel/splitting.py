"""Cutting a long list of report items into messages that respect item and byte limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kilowatt.messages import Message, encode

__all__ = ["split_items"]

ItemT = TypeVar("ItemT", bound=Message)
MessageT = TypeVar("MessageT", bound=Message)


def split_items(
    items: Sequence[ItemT],
    build: Callable[[list[ItemT], int, bool], MessageT],
    items_per_message: int,
    bytes_per_message: int,
) -> list[MessageT]:
    """Messages `build(chunk, seq_no, tbc)` holding every item once, in order.

    Each message holds at most `items_per_message` items and, encoded, at most
    `bytes_per_message` bytes; an item too large for any message goes alone in its own, since
    dropping report data would be worse than an oversized message. seqNo counts from 0 and tbc
    is true on all but the last (B07.FR / B08.FR seqNo and tbc rules, N02.FR.09).

    The size of a message is the size of its envelope (the message with no items) plus its items
    and the commas between them: msgspec writes compact JSON, so this is exact for a given seqNo
    and tbc. The envelope is measured with the largest seqNo and tbc=false, the longest it gets.
    """
    if items_per_message < 1 or bytes_per_message < 1:
        raise ValueError("message limits must be positive")
    if not items:
        return []
    envelope = len(encode(build([], len(items), False)))
    chunks: list[list[ItemT]] = []
    current: list[ItemT] = []
    size = envelope
    for item in items:
        item_size = len(encode(item))
        full = len(current) >= items_per_message
        if current and (full or size + 1 + item_size > bytes_per_message):
            chunks.append(current)
            current, size = [], envelope
        size += item_size + (1 if current else 0)
        current.append(item)
    chunks.append(current)
    last = len(chunks) - 1
    return [build(chunk, seq_no, seq_no < last) for seq_no, chunk in enumerate(chunks)]
