"""The workspace: a session's project in a browser, served by the engine (issue 13).

``GET /workspace/claim?ct=<claim token>`` answers the page: a static shell (``workspace/`` beside this
module: HTML, CSS, one script; no build step, nothing from the internet) with the page's CSRF token in
a ``<meta>``. The script reads the claim token from its own address and talks to ``/workspace/api/*``:

- ``GET  state``       the view (lanes, history, renders, uploads, conversation) as JSON;
- ``GET  events``      server-sent events: ``event: change`` whenever anything the page shows changes,
                       also when another process on this home (a tool call) changed it;
- ``GET  storyboard``  the PNG contact sheet of the current revision;
- ``POST message``     a turn of the same conversation as the tools, streamed (ADK events);
- ``POST upload``      multipart files, judged by content like the API's uploads;
- ``POST export``      a render (format, quality) or a fast preview;
- ``POST history``     undo, redo, or back to a revision.

Security: every call needs the claim token (``X-Claim-Token``; the page needs it in ``ct``): there is
no token-less form. Actions (POST) also need ``X-CSRF-Token`` (an HMAC of the claim token under this
process's secret, given only to the page), and are refused when the browser says the request is
cross-site (``Origin``, ``Sec-Fetch-Site``). No CORS header is ever sent, so another site's script can
neither read an answer nor send the custom headers. The page builds its DOM with ``textContent`` only,
and its Content-Security-Policy allows scripts, styles and media from this origin alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from engine.render import FORMATS, QUALITIES
from engine.server._claim import not_found_page
from engine.server._errors import HttpError, invalid_request
from engine.server._renders import scaled_canvas
from engine.server._store import HistoryEntry, SessionRow
from engine.server._turns import SSEResponse, busy_error
from engine.server._uploads import store_files
from engine.summary import describe_changes, media_name, track_summary
from engine.timeline import is_ready, main_track, segment_kind, timeline_end

if TYPE_CHECKING:
    from engine.server._app import _Api

__all__ = ["LANE_KINDS", "PREVIEW_HEIGHT", "Workspace", "lanes"]

LANE_KINDS: Final = ("video", "voiceover", "music", "text")
_LANE_LABELS: Final = {"video": "Video", "voiceover": "Voiceover", "music": "Music", "text": "Text"}
PREVIEW_HEIGHT: Final = 360  # a preview render's canvas height (same aspect)
_POLL_S: Final = 0.4  # how often the event stream looks for changes
_HISTORY_LIMIT: Final = 100
_TURNS_LIMIT: Final = 40
_STATIC: Final = {"workspace.css": "text/css", "workspace.js": "text/javascript"}
_PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        "media-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
_API_HEADERS: Final = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _lane_kind(track: dict[str, Any]) -> str | None:
    tt = track.get("tt")
    if tt == 0:
        return "video"
    if tt == 1:
        return "voiceover" if track.get("role") == "voiceover" else "music"
    if tt == 7:
        return "text"
    return None


def lanes(draft: dict[str, Any] | None, upload_names: dict[str, str]) -> list[dict[str, Any]]:
    """The timeline as lanes, video, voiceover, music, text in that order (one per track; an empty
    lane for a kind without a track), each segment with its name, kind and times in milliseconds."""
    tracks = [t for t in (draft or {}).get("t", []) if isinstance(t, dict)]
    main = main_track(draft) if draft is not None and tracks else None
    out: list[dict[str, Any]] = []
    for kind in LANE_KINDS:
        mine: list[dict[str, Any] | None] = [t for t in tracks if _lane_kind(t) == kind]
        for track in mine or [None]:
            segments: list[dict[str, Any]] = []
            for seg in (track or {}).get("sg", []):
                if not isinstance(seg, dict):
                    continue
                seg_kind = segment_kind(track or {}, seg)
                if seg_kind == "text":
                    name = " ".join(str(seg.get("text", "")).split())
                else:
                    name = media_name(track or {}, seg)
                    src = seg.get("src")
                    if isinstance(src, str) and src in upload_names and not isinstance(seg.get("m"), dict):
                        name = upload_names[src]
                start = int(seg.get("st", 0))
                segments.append(
                    {
                        "id": str(seg.get("id", "")),
                        "name": name,
                        "kind": seg_kind,
                        "start_ms": start,
                        "end_ms": start + int(seg.get("d", 0)),
                    }
                )
            label = _LANE_LABELS[kind]
            if track is not None and kind == "video" and track is not main:
                label = "Video overlay"
            elif track is not None and kind == "text" and track.get("role") in ("title", "caption"):
                label = "Text: " + str(track.get("role"))
            out.append(
                {
                    "kind": kind,
                    "label": label,
                    "track_id": None if track is None else str(track.get("id", "")),
                    "segments": sorted(segments, key=lambda s: (s["start_ms"], s["id"])),
                }
            )
    return out


def _change_words(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    if before is None:
        return "first version: " + track_summary(after)
    lines = describe_changes(before, after)
    return "; ".join(lines) if lines else "no visible change"


def _draft_view(
    draft: dict[str, Any] | None, names: dict[str, str], history: list[HistoryEntry], head: int | None
) -> dict[str, Any]:
    """The parts of the view drawn from drafts: readiness, duration, summary, lanes, history in words."""
    return {
        "ready": draft is not None and is_ready(draft),
        "duration_ms": timeline_end(draft) if draft is not None else 0,
        "summary": track_summary(draft) if draft is not None else "Timeline (0 tracks): nothing yet",
        "lanes": lanes(draft, names),
        "history": [
            {
                "n": h.n,
                "current": h.n == head,
                "message": h.message,
                "stage": h.stage,
                "change": _change_words(h.parent_draft, h.draft),
                "at": h.created_at,
            }
            for h in history
        ],
    }


@dataclass(frozen=True)
class _Claimed:
    session: SessionRow
    claim_token: str


_Handler = Callable[[Request], Awaitable[Response]]


class Workspace:
    """The workspace's endpoints; ``api`` gives the running engine (store, turns, renders)."""

    def __init__(self, api: _Api) -> None:
        self.api = api
        self._secret = secrets.token_bytes(32)  # signs CSRF tokens for this process's pages

    # -- access -----------------------------------------------------------------------------------

    def csrf_token(self, claim_token: str) -> str:
        return hmac.new(self._secret, claim_token.encode(), hashlib.sha256).hexdigest()

    async def _claimed(self, request: Request, *, action: bool) -> _Claimed:
        token = request.headers.get("x-claim-token", "").strip()
        if not token:
            raise HttpError(
                401, "this call needs the project's claim token (X-Claim-Token): open the link again"
            )
        store = self.api.engine_of(request).store
        session = await store.run(store.session_for_claim, token, self.api.config.clock())
        if session is None:
            raise HttpError(
                401, "this project link is unknown or has expired: ask the assistant for a new link"
            )
        if action:
            site = request.headers.get("sec-fetch-site", "same-origin")
            origin = request.headers.get("origin")
            host = request.headers.get("host", "")
            if site not in ("same-origin", "none") or (
                origin is not None and origin.split("://", 1)[-1] != host
            ):
                raise HttpError(403, "cross-site requests are refused: use the project page itself")
            sent = request.headers.get("x-csrf-token", "")
            if not hmac.compare_digest(sent, self.csrf_token(token)):
                raise HttpError(
                    403, "the page's security token is missing or stale: reload the page and try again"
                )
        return _Claimed(session, token)

    # -- the page ---------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        ct = request.query_params.get("ct", "").strip()
        store = self.api.engine_of(request).store
        session = await store.run(store.session_for_claim, ct, self.api.config.clock()) if ct else None
        if session is None:
            reason = (
                "This link is unknown or has expired: ask the assistant for a new project link."
                if ct
                else "This link has no claim token (ct=...): ask the assistant for the project link."
            )
            headers = {
                **_PAGE_HEADERS,
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            }
            return HTMLResponse(not_found_page(reason), status_code=404, headers=headers)
        draft = await store.run(store.draft_at, session.id, session.head)
        title = str((draft or {}).get("m", {}).get("title") or session.task_name)
        summary = track_summary(draft) if draft is not None else "Timeline (0 tracks): nothing yet"
        html = _shell().format(
            title=escape(title),
            summary=escape(summary),
            csrf=escape(self.csrf_token(ct), quote=True),
            formats="".join(f'<option value="{f}">{f}</option>' for f in FORMATS),
            qualities="".join(
                f'<option value="{q}"{" selected" if q == "high" else ""}>{q}</option>' for q in QUALITIES
            ),
        )
        return HTMLResponse(html, headers=_PAGE_HEADERS)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return Response("no such file", status_code=404, media_type="text/plain")
        path = resources.files("engine.server") / "workspace" / name
        return Response(
            path.read_bytes(), media_type=_STATIC[name], headers={**_API_HEADERS, "Cache-Control": "no-cache"}
        )

    # -- reading ----------------------------------------------------------------------------------

    async def state(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=False)
        return JSONResponse(await self.view(request, claimed.session.id), headers=_API_HEADERS)

    async def view(self, request: Request, session_id: str) -> dict[str, Any]:
        """Everything the page shows, from the store (so a change by any process shows up)."""
        engine = self.api.engine_of(request)
        store = engine.store
        session = await store.run(store.get_session, session_id, None)
        if session is None:
            raise invalid_request("the session is gone")
        draft = await store.run(store.draft_at, session.id, session.head)
        targets = await store.run(store.history_targets, session.id)
        history = await store.run(store.history, session.id, _HISTORY_LIMIT)
        uploads = await store.run(store.uploads, session.id)
        renders = await store.run(store.session_renders, session.id)
        turns = await store.run(store.session_turns, session.id, _TURNS_LIMIT)
        busy = engine.turns.is_busy(session.id) or await store.run(store.turn_running, session.id)
        names = {u.id: u.filename for u in uploads}
        title = str((draft or {}).get("m", {}).get("title") or session.task_name)
        # describing drafts is CPU work: off the event loop (harden's rule), like the API's drafts
        drafts = await anyio.to_thread.run_sync(_draft_view, draft, names, history, session.head)
        return {
            "title": title,
            "session_id": session.id,
            "task_id": session.task_id,
            "revision": session.head,
            "busy": busy,
            **drafts,
            "undo": targets.undo,
            "redo": targets.redo,
            "renders": [
                {
                    "id": r.id,
                    "status": r.status,
                    "progress": engine.renders.progress(r),
                    "format": r.format,
                    "quality": r.quality,
                    "preview": r.id.startswith("preview_"),
                    "url": self.api.render_url(r) if r.status == "completed" else None,
                    "duration": r.duration,
                    "size": r.size,
                    "error": r.error,
                }
                for r in renders
            ],
            "uploads": [{"id": u.id, "filename": u.filename, "file_type": u.file_type} for u in uploads],
            "conversation": [
                {"message": t.message, "reply": t.reply, "status": t.status, "error": t.error} for t in turns
            ],
        }

    async def _mark(self, request: Request, session_id: str) -> str:
        engine = self.api.engine_of(request)
        store = engine.store
        mark = await store.run(store.change_mark, session_id)
        renders = await store.run(store.session_renders, session_id)
        live = ",".join(str(engine.renders.progress(r)) for r in renders if r.status == "processing")
        return f"{mark}|{live}|{engine.turns.is_busy(session_id)}"

    async def events(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=False)
        session_id = claimed.session.id
        ping_every = self.api.config.ping_interval_s

        async def frames() -> AsyncGenerator[bytes | None, None]:
            last: str | None = None
            quiet_since = time.monotonic()
            while True:
                mark = await self._mark(request, session_id)
                if mark != last:
                    last = mark
                    quiet_since = time.monotonic()
                    yield b"event: change\ndata: " + json.dumps({"mark": mark}).encode() + b"\n\n"
                elif time.monotonic() - quiet_since >= ping_every:
                    quiet_since = time.monotonic()
                    yield b": ping\n\n"
                await anyio.sleep(_POLL_S)

        return SSEResponse(frames())

    async def storyboard(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=False)
        path = await self.api.storyboard_file(request, claimed.session)
        return FileResponse(path, media_type="image/png", headers=_API_HEADERS)

    # -- actions ----------------------------------------------------------------------------------

    async def message(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=True)
        body = await self.api.json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise invalid_request('the message is empty: send {"text": "what to change"}')
        self.api.check_message(text.strip())
        session = claimed.session
        turns = self.api.engine_of(request).turns
        return await turns.start(session, session.user_id, text.strip(), streaming=True)

    async def upload(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=True)
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise invalid_request('send the files as multipart/form-data ("files" parts)')
        cfg, store = self.api.config, self.api.engine_of(request).store
        session = claimed.session
        files = await self.api.receive_files(request, session.user_id)
        if not files:
            raise invalid_request("the request carried no file: choose or drop a file to upload")
        rows = await store_files(
            files, store, session_id=session.id, user_id=session.user_id, now=cfg.clock(), limits=cfg.limits
        )
        return JSONResponse(
            {"files": [{"id": r.id, "filename": r.filename, "file_type": r.file_type} for r in rows]},
            headers=_API_HEADERS,
        )

    async def export(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=True)
        body = await self.api.json_body(request)
        session = claimed.session
        preview = body.get("preview", False)
        if not isinstance(preview, bool):
            raise invalid_request('"preview" must be true or false')
        stamp = f"{int(self.api.config.clock() * 1000)}_{secrets.token_hex(3)}"
        job: dict[str, Any] = {"sessionId": session.id}
        if preview:
            store = self.api.engine_of(request).store
            draft = await store.run(store.draft_at, session.id, session.head)
            if draft is None or not is_ready(draft):
                raise invalid_request(
                    "there is nothing on the timeline to preview yet: describe the video first"
                )
            job.update(
                id=f"preview_{stamp}",
                draft=scaled_canvas(draft, PREVIEW_HEIGHT),
                output={"format": "mp4", "quality": "low"},
            )
        else:
            fmt, quality = body.get("format", "mp4"), body.get("quality", "high")
            job.update(id=f"render_{stamp}", output={"format": fmt, "quality": quality})
        row = await self.api.engine_of(request).renders.submit(session.user_id, session, job)
        return JSONResponse({"id": row.id, "status": row.status}, headers=_API_HEADERS)

    async def history(self, request: Request) -> Response:
        claimed = await self._claimed(request, action=True)
        body = await self.api.json_body(request)
        session = claimed.session
        engine = self.api.engine_of(request)
        store, clock = engine.store, self.api.config.clock
        targets = await store.run(store.history_targets, session.id)
        action = body.get("action")
        if action == "undo":
            target, label = targets.undo, "undo (from the workspace page)"
        elif action == "redo":
            target, label = targets.redo, "redo (from the workspace page)"
        elif action == "restore" and isinstance(body.get("to"), int) and not isinstance(body["to"], bool):
            target, label = body["to"], f"back to revision {body['to']} (from the workspace page)"
        else:
            raise invalid_request(
                'send {"action": "undo"}, {"action": "redo"} or {"action": "restore", "to": N}'
            )
        if target is None:
            raise invalid_request(f"there is nothing to {action}")
        if engine.turns.is_busy(session.id):
            raise busy_error(session.id)
        turn_id = "turn_" + uuid.uuid4().hex
        engine.turns.busy[session.id] = turn_id  # one turn per session, as TurnRunner.start
        try:
            began = await store.run(
                store.begin_turn, turn_id, session.id, session.user_id, label, "revision", 0, clock()
            )
            if began != "started":
                raise busy_error(session.id)
            try:
                await store.run(store.move_head, session.id, turn_id, target, clock())
            except ValueError as exc:
                await store.run(store.finish_turn, turn_id, ok=False, reply=None, error=str(exc), now=clock())
                raise invalid_request(f"revision {target} is not part of this project") from exc
            reply = f"Moved the project to revision {target}."
            await store.run(store.finish_turn, turn_id, ok=True, reply=reply, error=None, now=clock())
        finally:
            engine.turns.busy.pop(session.id, None)
        return JSONResponse({"revision": target}, headers=_API_HEADERS)

    def routes(self) -> list[tuple[str, _Handler, str]]:
        """(path, handler, method) for the app's router."""
        return [
            ("/workspace/claim", self.page, "GET"),
            ("/workspace/static/{name}", self.static, "GET"),
            ("/workspace/api/state", self.state, "GET"),
            ("/workspace/api/events", self.events, "GET"),
            ("/workspace/api/storyboard", self.storyboard, "GET"),
            ("/workspace/api/message", self.message, "POST"),
            ("/workspace/api/upload", self.upload, "POST"),
            ("/workspace/api/export", self.export, "POST"),
            ("/workspace/api/history", self.history, "POST"),
        ]


def _shell() -> str:
    return (resources.files("engine.server") / "workspace" / "workspace.html").read_text(encoding="utf-8")
