"""The in-memory channel pair."""

from __future__ import annotations

import asyncio

import pytest

from kilowatt.transport import ChannelClosed, channel_pair


async def test_messages_arrive_in_order_at_the_other_end() -> None:
    left, right = channel_pair()

    await left.send("one")
    await left.send("two")
    await right.send("three")

    assert [await right.recv(), await right.recv(), await left.recv()] == ["one", "two", "three"]


async def test_close_ends_the_peer_after_what_was_sent_before() -> None:
    left, right = channel_pair()
    await left.send("last words")

    await left.close()

    assert await right.recv() == "last words"
    for _ in range(2):  # and it stays ended
        with pytest.raises(ChannelClosed):
            await right.recv()


async def test_closing_side_can_neither_receive_nor_send() -> None:
    left, right = channel_pair()
    await right.send("unread")

    await left.close()
    await left.close()  # closing twice is harmless

    with pytest.raises(ChannelClosed):
        await left.recv()
    with pytest.raises(ChannelClosed):
        await left.send("x")
    with pytest.raises(ChannelClosed):
        await right.send("x")


async def test_close_wakes_a_waiting_recv_on_both_ends() -> None:
    left, right = channel_pair()
    waiting = [asyncio.create_task(left.recv()), asyncio.create_task(right.recv())]
    await asyncio.sleep(0)

    await right.close()

    for task in waiting:
        with pytest.raises(ChannelClosed):
            await task
