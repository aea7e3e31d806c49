"""The asyncio shell around kilowatt.rpc: a Connection pumps an Endpoint over a TextChannel.

Transport-agnostic: anything with ``send``/``recv``/``close`` of text messages is a channel, such
as a WebSocket adapter or the in-memory ``channel_pair()`` of the tests.
"""

from kilowatt.transport.channel import ChannelClosed, TextChannel
from kilowatt.transport.connection import INTERNAL_ERROR_DESCRIPTION, CallHandler, Connection
from kilowatt.transport.memory import MemoryChannel, channel_pair

__all__ = [
    "INTERNAL_ERROR_DESCRIPTION",
    "CallHandler",
    "ChannelClosed",
    "Connection",
    "MemoryChannel",
    "TextChannel",
    "channel_pair",
]
