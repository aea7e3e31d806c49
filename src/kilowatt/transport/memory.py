"""Two connected in-memory channels, so endpoints talk in tests without sockets."""

from __future__ import annotations

import asyncio

from kilowatt.transport.channel import ChannelClosed

__all__ = ["MemoryChannel", "channel_pair"]


class _Link:
    """The state both ends share: once closed by either, closed for both."""

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False


class _EndOfStream:
    """Queued after the last message when the link closes, to wake a waiting ``recv``."""


_END = _EndOfStream()


class MemoryChannel:
    """One end of a ``channel_pair``: a TextChannel over asyncio queues.

    Messages sent before a close are still received by the peer, then ChannelClosed.
    """

    def __init__(self, link: _Link) -> None:
        self._link = link
        self._inbox: asyncio.Queue[str | _EndOfStream] = asyncio.Queue()
        self._closed_here = False
        self._peer: MemoryChannel | None = None  # set by channel_pair

    async def send(self, text: str) -> None:
        """Put a message in the peer's inbox.

        Raises:
            ChannelClosed: either end closed the channel.
        """
        if self._link.closed or self._peer is None:
            raise ChannelClosed("channel closed")
        self._peer._inbox.put_nowait(text)

    async def recv(self) -> str:
        """The next message from the peer.

        Raises:
            ChannelClosed: this end closed, or the peer closed and every message it sent before
                has been received.
        """
        if self._closed_here:
            raise ChannelClosed("channel closed")
        item = await self._inbox.get()
        if isinstance(item, _EndOfStream):
            self._inbox.put_nowait(item)  # so that every later recv raises too
            raise ChannelClosed("channel closed")
        return item

    async def close(self) -> None:
        """Close both ends: this one at once, the peer after it has read what was sent."""
        self._closed_here = True
        if self._link.closed:
            return
        self._link.closed = True
        self._inbox.put_nowait(_END)
        if self._peer is not None:
            self._peer._inbox.put_nowait(_END)


def channel_pair() -> tuple[MemoryChannel, MemoryChannel]:
    """Two connected channels: what one sends, the other receives."""
    link = _Link()
    left, right = MemoryChannel(link), MemoryChannel(link)
    left._peer, right._peer = right, left
    return left, right
