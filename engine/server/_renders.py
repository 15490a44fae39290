"""Render jobs: ``POST /api/render/proxy/lambda`` and its polls, run in the app's task group.

A job is stored ``pending`` as soon as it is accepted, becomes ``processing`` when one of the
``max_concurrent_renders`` slots is free, and ends ``completed`` (with its file under
``renders/``) or ``failed`` (with a reason, and no file). Progress (0-100) comes from the
renderer's callback and is kept in memory while the job runs. A job that was pending or processing
when the process died is failed at the next start (``Store.recover``); one cancelled by a shutdown
is failed at once, with the same reason. The id is the client's: a second POST with an id the user
already used returns that job, whatever its body.

Before a job is accepted, the draft is checked against ``Limits`` (segments, length) and the user's
queue (``max_queued_renders`` pending or running); parsing, validating and compiling run in worker
threads so that a large draft never holds the event loop. ``cancel`` stops a pending or running job:
ffmpeg is killed and reaped before the partial file is removed, and the job ends ``failed`` with
``CANCELLED``. Failure reasons never show the engine's paths (its home, temporary folders, ffmpeg).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, cast

import anyio
import anyio.to_process
import anyio.to_thread
from anyio.abc import TaskGroup

from engine.render import (
    FORMATS,
    QUALITIES,
    Format,
    OutputSettings,
    Quality,
    RenderCache,
    RenderError,
    RenderProgress,
    ffmpeg_exe,
    render,
)
from engine.server._errors import invalid_request
from engine.server._store import ENGINE_STOPPED, RenderRow, SessionRow, Store, UploadRow
from engine.server.config import Limits
from engine.server.faults import FaultState
from engine.timeline import TimelineError, load_draft, timeline_end

__all__ = [
    "CANCELLED",
    "FORMATS",
    "QUALITIES",
    "RenderManager",
    "check_draft_size",
    "media_map",
    "media_token",
    "scaled_canvas",
    "scrub_paths",
]

log = logging.getLogger("engine.server")

_VALIDATE_IN_PROCESS_FROM: Final = 200  # segments
_RENDER_ID: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_MEDIA_URL: Final = re.compile(r"/files/media/([A-Za-z0-9_-]+)/")
CANCELLED: Final = "the render was cancelled at the client's request; submit it again with a new id"
_ABSOLUTE_PATH: Final = re.compile(r"(?<![\w.])(?:/[^\s'\"(),;:]+)+")
INJECTED_FAILURE: Final = (
    "the render worker stopped unexpectedly (emulated fault render_fail_once); "
    "submit the render again with a new id"
)


def media_token(src: str) -> str | None:
    """The file token in an engine media URL (``.../files/media/<token>/<name>``), if ``src`` is one."""
    found = _MEDIA_URL.search(src)
    return None if found is None else found.group(1)


def scaled_canvas(draft: dict[str, Any], max_height: int | None) -> dict[str, Any]:
    """A copy of ``draft`` whose canvas is at most ``max_height`` tall (same aspect, even sizes)."""
    meta = draft.get("m", {})
    width, height = int(meta.get("width", 1920)), int(meta.get("height", 1080))
    if max_height is None or height <= max_height:
        return draft
    scale = max_height / height
    new_w = max(16, round(width * scale / 2) * 2)
    new_h = max(16, round(max_height / 2) * 2)
    return {**draft, "m": {**meta, "width": new_w, "height": new_h}}


def _sources(draft: Mapping[str, Any]) -> set[str]:
    """Every ``src`` the renderer will open: any non-empty ``src`` outside text tracks, colour cards
    included (the renderer probes a colour card's ``src`` when it has one, so it must be uploaded)."""
    return {
        seg["src"]
        for track in draft.get("t", [])
        if track.get("tt") != 7
        for seg in track.get("sg", [])
        if isinstance(seg.get("src"), str) and seg["src"]
    }


def check_draft_size(raw: object, limits: Limits) -> int:
    """How many segments a draft (not yet validated) has; ApiError 4000 when more than ``limits``
    allow. Cheap (counts, no validation), so a huge draft is refused before any real work."""
    tracks = raw.get("t") if isinstance(raw, dict) else None
    if not isinstance(tracks, list):
        return 0  # the validator says what is wrong
    count = sum(len(t["sg"]) for t in tracks if isinstance(t, dict) and isinstance(t.get("sg"), list))
    if count > limits.max_segments:
        raise invalid_request(
            f"the draft has {count} segments; this engine renders at most {limits.max_segments} "
            "(limit max_segments): shorten it or split the video into parts"
        )
    return count


async def _validated(raw: object, segments: int) -> dict[str, Any]:
    """``load_draft(raw)`` off the event loop: in a worker process for a long draft (validation is
    pure Python, and a thread would hold the interpreter lock in turns with the loop for seconds),
    in a worker thread for a short one (no process to start)."""
    if segments > _VALIDATE_IN_PROCESS_FROM:
        return await anyio.to_process.run_sync(load_draft, raw)
    return await anyio.to_thread.run_sync(load_draft, raw)


def _check_length(draft: dict[str, Any], limits: Limits) -> None:
    seconds = timeline_end(draft) / 1000
    if seconds > limits.max_render_seconds:
        raise invalid_request(
            f"the video would be {seconds:,.0f} s long; this engine renders at most "
            f"{limits.max_render_seconds:,.0f} s (limit max_render_seconds): shorten the draft"
        )


def scrub_paths(text: str, names: Mapping[Path, str] | None = None) -> str:
    """``text`` without the engine's own paths: each of ``names`` becomes its display name, any other
    absolute path (the home, a temporary file, the ffmpeg binary) its last component."""
    for path, name in (names or {}).items():
        text = text.replace(str(path), name)
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0)).name or "file", text)


def media_map(draft: Mapping[str, Any], uploads: list[UploadRow], store: Store) -> dict[str, Path]:
    """``src`` -> local file for every source of ``draft``; ApiError 4000 naming any that is unknown."""
    by_id = {u.id: u for u in uploads}
    by_token = {u.file_token: u for u in uploads}
    media: dict[str, Path] = {}
    unknown: list[str] = []
    for src in sorted(_sources(draft)):
        token = media_token(src)
        upload = by_id.get(src) or (by_token.get(token) if token else None)
        if upload is None:
            unknown.append(src)
        else:
            media[src] = store.media_path(upload.sha256, upload.format)
    if unknown:
        shown = ", ".join(repr(s[:80]) for s in unknown[:5])
        raise invalid_request(
            f"the draft uses media that is not uploaded in this session: {shown}; upload it first "
            "(POST /api/upload-video/nemo_agent/me/<session_id>) and use the upload's id as src"
        )
    return media


class RenderManager:
    """Accepts, runs and reports render jobs."""

    def __init__(
        self,
        store: Store,
        faults: FaultState,
        *,
        max_concurrent: int,
        max_height: int | None,
        clock: Callable[[], float],
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.max_height = max_height
        self.clock = clock
        self.limits = limits or Limits()
        self.limiter = anyio.CapacityLimiter(max_concurrent)
        # encoded chunks by content key: an export after an edit encodes only what the edit changed
        self.cache = RenderCache(store.render_cache_dir)
        self.task_group: TaskGroup | None = None
        self._live: dict[tuple[str, str], float] = {}
        self._scopes: dict[tuple[str, str], anyio.CancelScope] = {}
        self._cancelled: set[tuple[str, str]] = set()

    async def submit(self, user_id: str, session: SessionRow, body: Mapping[str, Any]) -> RenderRow:
        """The job for ``body`` (created and started, or the user's existing job with that id)."""
        if self.task_group is None:
            raise RuntimeError("the render manager is not attached to a running app (lifespan not entered)")
        render_id = body.get("id")
        if not isinstance(render_id, str) or not _RENDER_ID.match(render_id):
            raise invalid_request(
                '"id" must be a string of letters, digits, "_", "-" or "." such as "render_1795236654010"'
            )
        existing = await self.store.run(self.store.get_render, user_id, render_id)
        if existing is not None:
            return existing
        output = body.get("output") or {}
        if not isinstance(output, dict):
            raise invalid_request('"output" must be an object like {"format": "mp4", "quality": "high"}')
        fmt = output.get("format", "mp4")
        quality = output.get("quality", "high")
        if fmt not in FORMATS:
            raise invalid_request(f"output.format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
        if quality not in QUALITIES:
            raise invalid_request(
                f"output.quality {quality!r} is not supported; use one of {', '.join(QUALITIES)}"
            )
        raw_draft = body.get("draft")
        if raw_draft is None:
            head = await self.store.run(self.store.history_targets, session.id)
            raw_draft = await self.store.run(self.store.draft_at, session.id, head.head)
            if raw_draft is None:
                raise invalid_request('the session has no draft yet: send a message first, or pass "draft"')
        segments = check_draft_size(raw_draft, self.limits)
        try:
            draft = await _validated(raw_draft, segments)
        except TimelineError as exc:
            raise invalid_request(f"the draft is not valid: {exc}") from exc
        if not any(track.get("sg") for track in draft.get("t", [])):
            raise invalid_request("the draft is empty (no track has segments): nothing to render yet")
        await anyio.to_thread.run_sync(_check_length, draft, self.limits)
        uploads = await self.store.run(self.store.uploads, session.id)
        # refuse unknown media now, not in the middle of the job
        await anyio.to_thread.run_sync(media_map, draft, uploads, self.store)
        queued = await self.store.run(self.store.active_renders, user_id)
        if queued >= self.limits.max_queued_renders:
            raise invalid_request(
                f"you have {queued} renders pending or running; at most {self.limits.max_queued_renders} "
                "may be queued at once (limit max_queued_renders): wait for one to finish, or cancel one "
                "with POST /api/render/proxy/lambda/<id>/cancel"
            )
        text = await anyio.to_thread.run_sync(
            lambda: json.dumps(draft, ensure_ascii=False, separators=(",", ":"))
        )
        now = self.clock()
        row = RenderRow(
            user_id=user_id,
            id=render_id,
            session_id=session.id,
            status="pending",
            progress=0.0,
            format=fmt,
            quality=quality,
            draft=text,
            out_name=f"{uuid.uuid4().hex}.{fmt}",
            file_token=secrets.token_urlsafe(18),
            duration=None,
            size=None,
            error=None,
            created_at=now,
            updated_at=now,
        )
        row, created = await self.store.run(self.store.create_render, row)
        if created:
            self.task_group.start_soon(self._run, row)
        return row

    async def cancel(self, row: RenderRow) -> RenderRow:
        """Stop ``row`` if it is pending or running (a finished job is left as it is); the job as now."""
        key = (row.user_id, row.id)
        if row.status in ("pending", "processing"):
            self._cancelled.add(key)
            scope = self._scopes.get(key)
            if scope is not None:
                scope.cancel()
            else:  # not started in this process (or already gone): record the outcome directly
                await self._set(row, "failed", row.progress, error=CANCELLED)
            with anyio.move_on_after(30):  # the job records "failed" once ffmpeg is reaped
                for _ in range(3000):
                    current = await self.store.run(self.store.get_render, row.user_id, row.id)
                    if current is None or current.status not in ("pending", "processing"):
                        break
                    await anyio.sleep(0.01)
        current = await self.store.run(self.store.get_render, row.user_id, row.id)
        return current or row

    def progress(self, row: RenderRow) -> int:
        """0-100: live while processing, 100 when completed."""
        if row.status == "completed":
            return 100
        return int(self._live.get((row.user_id, row.id), row.progress))

    def output_path(self, row: RenderRow) -> Path:
        return self.store.renders_dir / row.out_name

    async def _set(self, row: RenderRow, status: str, progress: float, **extra: Any) -> None:
        await self.store.run(
            self.store.update_render,
            row.user_id,
            row.id,
            status=status,
            progress=progress,
            now=self.clock(),
            **extra,
        )

    async def _run(self, row: RenderRow) -> None:
        # A background task must never raise: that would cancel every other job of the app.
        key = (row.user_id, row.id)
        try:
            with anyio.CancelScope() as scope:
                self._scopes[key] = scope
                if key in self._cancelled:
                    scope.cancel()
                await self._attempt(row)
            if scope.cancelled_caught:
                await self._set(row, "failed", self._live.get(key, 0.0), error=CANCELLED)
        except Exception:
            log.exception("render %s: its outcome could not be recorded; the next start fails it", row.id)
        finally:
            self._scopes.pop(key, None)
            self._cancelled.discard(key)
            self._live.pop(key, None)

    async def _attempt(self, row: RenderRow) -> None:
        key = (row.user_id, row.id)
        out = self.output_path(row)
        try:
            async with self.limiter:
                self._live[key] = 0.0
                await self._set(row, "processing", 0.0)
                if self.faults.take_render_failure():
                    await self._set(row, "failed", 0.0, error=INJECTED_FAILURE)
                    return
                result = await self._render(row, out)
                await anyio.to_thread.run_sync(os.chmod, out, 0o600)
                self._live[key] = 100.0
                await self._set(row, "completed", 100.0, duration=result[0], size=result[1])
        except RenderError as exc:
            out.unlink(missing_ok=True)
            reason = exc.message + (f" ({exc.hint})" if exc.hint else "")
            log.warning("render %s failed: %s", row.id, reason)
            reason = await self._public(row, reason)
            await self._set(row, "failed", self._live.get(key, 0.0), error=reason)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                out.unlink(missing_ok=True)  # ffmpeg is reaped by now: nothing writes the file
                if key not in self._cancelled:
                    await self._set(row, "failed", self._live.get(key, 0.0), error=ENGINE_STOPPED)
            raise
        except Exception as exc:
            out.unlink(missing_ok=True)
            log.exception("render %s failed inside the engine", row.id)
            reason = (
                f"the render failed inside the engine ({type(exc).__name__}: {exc}); "
                "submit it again with a new id"
            )
            await self._set(row, "failed", self._live.get(key, 0.0), error=await self._public(row, reason))

    async def _public(self, row: RenderRow, reason: str) -> str:
        """``reason`` with the session's media paths shown as upload names and no other engine path."""
        uploads = await self.store.run(self.store.uploads, row.session_id)
        names = {self.store.media_path(u.sha256, u.format): repr(u.filename) for u in uploads}
        names[Path(ffmpeg_exe())] = "ffmpeg"
        names[Path(tempfile.gettempdir())] = "tmp"
        return scrub_paths(reason, names)

    async def _render(self, row: RenderRow, out: Path) -> tuple[float, int]:
        key = (row.user_id, row.id)
        draft = scaled_canvas(await anyio.to_thread.run_sync(json.loads, row.draft), self.max_height)
        uploads = await self.store.run(self.store.uploads, row.session_id)
        media = await anyio.to_thread.run_sync(media_map, draft, uploads, self.store)

        def on_progress(progress: RenderProgress) -> None:
            self._live[key] = max(0.0, min(99.0, float(progress.percent)))

        settings = OutputSettings(
            format=cast(Format, row.format),
            quality=cast(Quality, row.quality),
        )
        result = await render(draft, media, out, settings, on_progress=on_progress, cache=self.cache)
        return result.duration_s, result.size
