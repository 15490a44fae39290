"""get_state: track summary, uploads, canvas, duration, readiness, the compact listing the edit tool
addresses (clip numbers and ids, text ids and words, audio by role), and the whole draft only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handlers._context import ToolContext
from handlers._draftview import canvas, duration_ms, fmt_s, is_ready, listing, sentences, track_summary
from handlers._errors import DownloadFailedError
from handlers._state import fetch_state

__all__ = ["get_state"]

# An engine extension: the cloud has no storyboard endpoint and answers 404, which is reported, not raised.
_STORYBOARD = "/api/storyboard/nemo_agent/me/{sid}/latest"


async def _storyboard(ctx: ToolContext, session_id: str, revision: object) -> tuple[Path | None, str]:
    """Download the backend's contact sheet of the draft; (path, note for the text)."""
    folder = (ctx.config.cwd or Path.cwd()) / "videogen-output"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f"-r{revision}" if isinstance(revision, int) else ""
    dest = folder / f"storyboard-{session_id}{suffix}.png"
    part = dest.with_name(dest.name + ".part")
    try:
        await ctx.api.download(_STORYBOARD.format(sid=session_id), part)
    except DownloadFailedError:
        part.unlink(missing_ok=True)
        return None, "This backend offers no storyboard; export a preview instead."
    with part.open("rb") as fh:
        is_png = fh.read(8) == b"\x89PNG\r\n\x1a\n"
    if not is_png:
        part.unlink(missing_ok=True)
        return None, "The backend's storyboard was not a PNG image; export a preview instead."
    part.replace(dest)
    return dest, f"Storyboard: {dest}"


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
            f"Duration {fmt_s(duration_s * 1000)}s. "
            + ("Ready for export." if ready else "Not ready for export yet.")
        )
    result = ctx.ok(
        sentences(lines),
        session_id=view.session_id,
        title=title,
        track_summary=summary,
        uploads=view.uploads,
        canvas=size,
        duration_s=duration_s,
        ready_for_export=ready,
        listing=listing(draft),
        browser_url=await ctx.browser_url(
            ref if ref.task_id or not view.task_id else type(ref)(ref.session_id, view.task_id)
        ),
    )
    if view.busy is not None:
        result["busy"] = view.busy
    if args.get("include_draft"):
        result["draft"] = draft
    if args.get("storyboard") and ready:
        path, note = await _storyboard(ctx, view.session_id, view.revision)
        result["text"] += " " + note
        if path is not None:
            result["storyboard_path"] = str(path)
    return result
