"""Helpers every part of the suite shares: one bounded polling loop."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["eventually"]


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], what: str, *, limit_s: float = 30.0, every_s: float = 0.02
) -> None:
    """Wait until ``check()`` (plain or async) is true, asking every ``every_s`` seconds.

    Bounded twice, by time (``limit_s``) and by the number of asks, so a check that is slow to
    answer still ends; when the condition never holds, the test fails saying ``what`` it waited for.
    """
    with anyio.fail_after(limit_s):
        for _ in range(max(1, math.ceil(limit_s / every_s))):
            answer = check()
            if inspect.isawaitable(answer):
                answer = await answer
            if answer:
                return
            await anyio.sleep(every_s)
    raise AssertionError(f"never happened within {limit_s} s: {what}")
