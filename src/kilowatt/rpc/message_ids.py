"""Message id factories for the CALLs and SENDs an endpoint sends.

OCPP-J, "The message ID": a messageId is a string of at most 36 characters, "to allow for GUIDs",
and no sender uses one id twice on a connection.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

__all__ = ["MAX_MESSAGE_ID_LENGTH", "counting_message_ids", "uuid4_message_id"]

MAX_MESSAGE_ID_LENGTH = 36


def uuid4_message_id() -> str:
    """A random UUID in its 36-character text form: unique without any shared state."""
    return str(uuid.uuid4())


def counting_message_ids(prefix: str = "", start: int = 1) -> Callable[[], str]:
    """A factory of the ids ``prefix + "1"``, ``prefix + "2"``, ...: predictable, for tests.

    Args:
        prefix: text put before each number, e.g. "cs-" to tell two senders apart in a trace.
        start: the first number.
    """
    numbers = itertools.count(start)

    def next_message_id() -> str:
        return f"{prefix}{next(numbers)}"

    return next_message_id
