"""A TextChannel over one connection of the ``websockets`` asyncio implementation.

The server's StationSocket and the client's StationClientSocket are both this adapter: websockets'
exceptions become ChannelClosed, and a binary frame ends the connection.
"""

from __future__ import annotations

from typing import Any

from websockets.asyncio.connection import Connection as WebSocketConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from kilowatt.transport.channel import ChannelClosed

__all__ = ["WebSocketChannel", "peer_address"]


def peer_address(address: Any) -> tuple[str, int]:
    """(host, port) of a socket address: the first two items of an IPv4 or IPv6 peername."""
    return (str(address[0]), int(address[1]))


class WebSocketChannel:
    """A TextChannel over one open WebSocket connection.

    OCPP-J sends its messages in text frames only. A binary frame from the peer ends the
    connection with close code 1003 (RFC 6455 7.4.1: "received a type of data it cannot
    accept"), rather than being skipped: a peer sending binary is not speaking OCPP-J, and
    skipping would leave its CALL unanswered until it times out.
    """

    __slots__ = ("_websocket",)

    def __init__(self, websocket: WebSocketConnection) -> None:
        self._websocket = websocket

    @property
    def close_code(self) -> int | None:
        """The close code sent or received, once the connection is closed; else None."""
        return self._websocket.close_code

    async def send(self, text: str) -> None:
        """Send one text frame.

        Raises:
            ChannelClosed: the connection is closed or closing.
        """
        try:
            await self._websocket.send(text)
        except ConnectionClosed as closed:
            raise ChannelClosed(str(closed)) from closed

    async def recv(self) -> str:
        """Wait for the next text message.

        Raises:
            ChannelClosed: the connection closed for any reason: a close frame from either side,
                a lost TCP connection, a keep-alive ping without pong, a message over the size
                limit, invalid UTF-8, or a binary frame; every later call raises it too.
        """
        try:
            message = await self._websocket.recv()
        except ConnectionClosed as closed:
            raise ChannelClosed(str(closed)) from closed
        if isinstance(message, bytes):
            await self._websocket.close(CloseCode.UNSUPPORTED_DATA, "OCPP-J uses text frames")
            raise ChannelClosed("the peer sent a binary frame")
        return message

    async def close(self) -> None:
        """Close with code 1000 and wait for the closing handshake (at most the close timeout).

        Closing again is harmless.
        """
        await self._websocket.close()
