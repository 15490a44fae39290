"""get_state: track summary, uploads, canvas, duration, readiness (the whole draft only when asked)."""

from __future__ import annotations

from typing import Any

from handlers._context import ToolContext
from handlers._draftview import canvas, duration_ms, fmt_s, is_ready, track_summary
from handlers._state import fetch_state

__all__ = ["get_state"]


async def get_state(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    ref = await ctx.session(args.get("session_id"))
    view = await fetch_state(ctx.api, ref.session_id)
    draft = view.draft
    summary = track_summary(draft) if draft is not None else None
    ready = is_ready(draft)
    size = canvas(draft)
    if (
        size is None
        and view.canvas_config
        and view.canvas_config.get("width")
        and view.canvas_config.get("height")
    ):
        size = {
            "width": int(view.canvas_config["width"]),
            "height": int(view.canvas_config["height"]),
            "fps": view.canvas_config.get("fps"),
        }
    duration_s = duration_ms(draft) / 1000
    meta = draft.get("m") if isinstance(draft, dict) else None
    title = meta.get("title") if isinstance(meta, dict) and meta.get("title") else None
    lines = [summary or "Nothing on the timeline yet: describe the video with send_message."]
    if view.uploads:
        lines.append(
            f"Uploads ({len(view.uploads)}): " + ", ".join(u["filename"] or u["id"] for u in view.uploads)
        )
    if view.busy:
        lines.append("A message is still being worked on: check again in a minute before sending another.")
    if draft is not None:
        lines.append(
            f"Duration {fmt_s(duration_s * 1000)}s."
            + (" Ready for export." if ready else " Not ready for export yet.")
        )
    result = ctx.ok(
        " ".join(lines),
        session_id=view.session_id,
        title=title,
        track_summary=summary,
        uploads=view.uploads,
        canvas=size,
        duration_s=duration_s,
        ready_for_export=ready,
    )
    if view.busy is not None:
        result["busy"] = view.busy
    if args.get("include_draft"):
        result["draft"] = draft
    return result
