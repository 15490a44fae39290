"""create_session: a new project (docs/protocol.md §3) and its browser link."""

from __future__ import annotations

from typing import Any

from handlers._context import ToolContext

__all__ = ["create_session"]


async def create_session(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    ref = await ctx.create_session(
        language=args.get("language", "en"), task_name=args.get("task_name", "project")
    )
    url = await ctx.browser_url(ref)
    text = (
        f"Session {ref.session_id} is ready. Describe the video or upload media. Open in the browser: {url}"
    )
    return ctx.ok(text, session_id=ref.session_id, task_id=ref.task_id or "", browser_url=url)
