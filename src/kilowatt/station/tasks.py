"""Waiting on the first of several things, for the station's loops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

__all__ = ["first_of"]


async def first_of(*waits: Awaitable[object]) -> int:
    """Wait for the first of ``waits`` to finish, cancel the others; return its index."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return next(index for index, task in enumerate(tasks) if task in done)
    finally:
        for task in tasks:
            task.cancel()
