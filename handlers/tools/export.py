"""export: render the draft, wait for it, download and verify the file (docs/protocol.md §6).

Submit `{"id": "render_<ms>", "sessionId", "draft", "output"}`, poll (status shape A or B; every 30 s and
at most 10 polls against the cloud, every second against the engine), retry once with a new id when the
render fails, download from `output.url` (fallback `/api/render/proxy/<id>/download`) into a temporary
file, check it (not empty, a real container of the asked format), then move it into place. An existing
file is never overwritten unless asked.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from handlers import _clock
from handlers._context import ToolContext
from handlers._draftview import duration_ms, fmt_s, fmt_size, is_ready
from handlers._errors import (
    DownloadFailedError,
    NothingToExportError,
    OutputExistsError,
    RenderFailedError,
    VideogenError,
)
from handlers._http import new_idempotency_key
from handlers._state import fetch_state

__all__ = ["RenderStatus", "container_matches", "export", "parse_render_status"]

_DONE = {"completed", "complete", "succeeded", "success", "done", "finished"}
_FAILED = {"failed", "failure", "error", "errored", "cancelled", "canceled"}


@dataclass(frozen=True)
class RenderStatus:
    status: str  # pending | processing | completed | failed
    progress: float | None
    url: str | None
    duration_s: float | None
    size: int | None
    error: str | None


def parse_render_status(data: Any) -> RenderStatus:
    """Shape A `{id, status, progress, output{url, duration, size}, error}` or shape B's
    `{"success": true, "data": {id, status, progress, outputUrl}}` (or its data)."""
    obj: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    if isinstance(obj.get("data"), Mapping) and "status" not in obj:
        obj = obj["data"]
    raw = str(obj.get("status") or "pending").lower()
    status = "completed" if raw in _DONE else "failed" if raw in _FAILED else raw
    output = obj.get("output") if isinstance(obj.get("output"), Mapping) else {}
    assert isinstance(output, Mapping)
    url = output.get("url") or obj.get("outputUrl") or obj.get("output_url") or obj.get("url")
    progress = obj.get("progress")
    duration = output.get("duration", obj.get("duration"))
    size = output.get("size", obj.get("size"))
    error = obj.get("error") or obj.get("message") if status == "failed" else obj.get("error")
    if isinstance(error, Mapping):
        error = error.get("message") or str(dict(error))
    return RenderStatus(
        status=status,
        progress=float(progress)
        if isinstance(progress, int | float) and not isinstance(progress, bool)
        else None,
        url=str(url) if url else None,
        duration_s=float(duration)
        if isinstance(duration, int | float) and not isinstance(duration, bool)
        else None,
        size=int(size) if isinstance(size, int | float) and not isinstance(size, bool) else None,
        error=str(error) if error else None,
    )


def container_matches(head: bytes, fmt: str) -> bool:
    """Does the file start like a real `fmt` container (ISO BMFF ftyp / EBML / RIFF AVI)?"""
    if fmt in {"mp4", "mov"}:
        return len(head) >= 12 and head[4:8] in {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}
    if fmt in {"webm", "mkv"}:
        return head.startswith(b"\x1a\x45\xdf\xa3")
    if fmt == "avi":
        return head.startswith(b"RIFF") and head[8:12] == b"AVI "
    return False


def _slug(title: str) -> str:
    slug = re.sub(r"[^\w\-]+", "-", title, flags=re.UNICODE).strip("-_").lower()
    return slug[:60] or "video"


def _target(args: Mapping[str, Any], ctx: ToolContext, title: str, render_id: str, fmt: str) -> Path:
    name = f"{_slug(title)}-{render_id}.{fmt}"
    given = args.get("output_path")
    if given:
        path = Path(str(given)).expanduser()
        if path.is_dir():
            path = path / name
    else:
        path = (ctx.config.cwd or Path.cwd()) / "videogen-output" / name
    return path.absolute()


def _check_free(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists; it was not overwritten")


def _precheck(args: Mapping[str, Any], overwrite: bool) -> None:
    if args.get("output_path"):
        given = Path(str(args["output_path"])).expanduser()
        if not given.is_dir():
            _check_free(given.absolute(), overwrite)


def _render_id(previous: str | None) -> str:
    rid = f"render_{int(time.time() * 1000)}"
    if rid == previous:
        rid = f"render_{int(time.time() * 1000) + 1}"
    return rid


async def _render_once(
    ctx: ToolContext, session_id: str, draft: dict[str, Any], fmt: str, quality: str, rid: str
) -> RenderStatus:
    body = {"id": rid, "sessionId": session_id, "draft": draft, "output": {"format": fmt, "quality": quality}}
    await ctx.api.call("POST", "/api/render/proxy/lambda", json=body, idempotency_key=new_idempotency_key())
    ctx.emit("render", "Rendering…", 0.0)
    policy = ctx.config.render_poll
    try:
        await _clock.pause(policy.first_wait_s)
        for poll in range(policy.max_polls):
            if poll:
                await _clock.pause(policy.interval_s)
            status = parse_render_status(await ctx.api.call("GET", f"/api/render/proxy/lambda/{rid}"))
            if status.status in {"completed", "failed"}:
                return status
            if status.progress is not None:
                ctx.emit("render", f"Rendering {status.progress:.0f}%", status.progress)
    except (anyio.get_cancelled_exc_class(), KeyboardInterrupt):
        await _cancel_render(ctx, rid)  # Ctrl-C: nobody waits for this render any more
        raise
    raise RenderFailedError(
        f"the render {rid} did not finish after {policy.max_polls} status checks",
        recovery="It may still finish: call export again in a few minutes (export is free).",
    )


async def _cancel_render(ctx: ToolContext, rid: str) -> None:
    """Ask the local engine to stop ``rid`` (bounded, best effort; the cloud has no such endpoint)."""
    if not ctx.config.is_engine:
        return
    with anyio.CancelScope(shield=True), anyio.move_on_after(5), contextlib.suppress(VideogenError):
        await ctx.api.call("POST", f"/api/render/proxy/lambda/{rid}/cancel")


async def _download(ctx: ToolContext, status: RenderStatus, rid: str, dest: Path, fmt: str) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.part")
    sources = [u for u in (status.url, f"/api/render/proxy/{rid}/download") if u]
    last: VideogenError | None = None

    def on_bytes(done: int, total: int | None) -> None:
        if total:
            ctx.emit("render", f"Downloading {done * 100 // total}%", 100.0 * done / total)

    try:
        for source in sources:
            try:
                size = await ctx.api.download(source, part, on_bytes=on_bytes)
            except VideogenError as exc:
                last = exc
                continue
            with part.open("rb") as handle:
                head = handle.read(16)
            if size <= 0:
                last = DownloadFailedError("the downloaded video is empty")
                continue
            if not container_matches(head, fmt):
                last = DownloadFailedError(f"the downloaded file is not a readable {fmt} container")
                continue
            os.replace(part, dest)
            return size
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    raise last or DownloadFailedError("no download URL")


async def export(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    ref = await ctx.session(args.get("session_id"))
    fmt = str(args.get("format", "mp4"))
    quality = str(args.get("quality", "high"))
    overwrite = bool(args.get("overwrite", False))
    view = await fetch_state(ctx.api, ref.session_id)
    draft = view.draft
    if draft is None or not is_ready(draft):
        raise NothingToExportError()
    meta = draft.get("m") if isinstance(draft.get("m"), dict) else {}
    title = str(meta.get("title") or "video") if isinstance(meta, dict) else "video"
    _precheck(args, overwrite)  # before spending minutes on a render
    rid: str | None = None
    failures: list[str] = []
    status: RenderStatus | None = None
    attempts = 0
    for attempts in (1, 2):
        rid = _render_id(rid)
        status = await _render_once(ctx, ref.session_id, draft, fmt, quality, rid)
        if status.status == "completed":
            break
        failures.append(status.error or "unknown reason")
        if attempts == 1:
            ctx.emit("info", f"The render failed ({failures[-1]}); retrying once with a new id…")
    assert status is not None
    assert rid is not None
    if status.status != "completed":
        raise RenderFailedError(f"the render failed twice: {'; '.join(failures)}")
    dest = _target(args, ctx, title, rid, fmt)
    _check_free(dest, overwrite)
    size = await _download(ctx, status, rid, dest, fmt)
    duration_s = status.duration_s if status.duration_s is not None else duration_ms(draft) / 1000
    browser = await ctx.browser_url(
        ref if ref.task_id or not view.task_id else type(ref)(ref.session_id, view.task_id)
    )
    ctx.emit("render", "Video ready", 100.0)
    text = (
        f"✅ Video ready: {dest} ({fmt_size(size)}, {fmt_s(duration_s * 1000)}s, {fmt}). "
        f"Open the project in the browser: {browser}"
    )
    return ctx.ok(
        text,
        session_id=ref.session_id,
        render_id=rid,
        path=str(dest),
        size=size,
        duration_s=duration_s,
        format=fmt,
        # The embedded engine's URLs name an in-process host nobody can open: give the file itself.
        url=dest.as_uri() if ctx.config.backend == "embedded" else status.url,
        browser_url=browser,
        attempts=attempts,
    )
