"""The one place the client waits (retry delays, polling): tests patch `pause` so they never sleep."""

from __future__ import annotations

import anyio

__all__ = ["pause"]


async def pause(seconds: float) -> None:
    """Wait `seconds` (every deliberate wait in the client goes through here)."""
    await anyio.sleep(max(0.0, seconds))
