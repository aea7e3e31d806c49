"""The one thing the connection needs from a transport: a two-way stream of text messages."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ChannelClosed", "TextChannel"]


class ChannelClosed(Exception):
    """The channel is closed, by either side: nothing more can be sent or received."""


class TextChannel(Protocol):
    """A message-oriented text connection, such as one WebSocket (OCPP-J: text frames only)."""

    async def send(self, text: str) -> None:
        """Send one message.

        Raises:
            ChannelClosed: the channel is closed.
        """
        ...

    async def recv(self) -> str:
        """Wait for the next message.

        Raises:
            ChannelClosed: the channel closed; every later call raises it too.
        """
        ...

    async def close(self) -> None:
        """Close the channel; the peer's ``recv`` then raises ChannelClosed. Closing again is
        harmless."""
        ...
