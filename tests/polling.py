"""Waiting in tests for something another task, thread or process does: poll with a bound,
never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Long enough for a loaded 2-core machine; a test passes a shorter or longer bound if needed.
DEFAULT_WITHIN_S = 10.0
EVERY_S = 0.02


async def until(
    condition: Callable[[], T | Awaitable[T]],
    within_s: float = DEFAULT_WITHIN_S,
    what: str = "the condition",
) -> T:
    """The first truthy value of ``condition()`` (awaited when it returns an awaitable),
    checked every 20 ms; fails the test (AssertionError naming ``what``) after ``within_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within_s:g} s waiting for {what}")
        await asyncio.sleep(EVERY_S)
