"""The HTTP API (Starlette): routes, auth, attribution, envelopes; ``create_app`` and ``serve``."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from math import gcd
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from engine.render import RenderError
from engine.render import storyboard as draw_storyboard
from engine.server._edit import run_edit
from engine.server._errors import (
    ENGINE_FAILURE,
    RENDER_NOT_FOUND,
    RENDER_NOT_READY,
    ApiError,
    HttpError,
    bad_token,
    error_response,
    export_blocked,
    injected,
    invalid_request,
    missing_attribution,
    missing_client_id,
    rate_limited,
    session_not_found,
    too_large,
)
from engine.server._media import CONTENT_TYPES
from engine.server._procs import ChildRegistry
from engine.server._renders import RenderManager, check_draft_size, media_map, scrub_paths
from engine.server._store import RATE_WINDOW_S, RateLimitedError, RenderRow, SessionRow, Store, UploadRow
from engine.server._turns import TurnRunner
from engine.server._uploads import IncomingFile, check_urls, fetch_url, receive_multipart, store_files
from engine.server._workspace import Workspace
from engine.server.config import ServerConfig
from engine.server.faults import FaultState
from engine.timeline import is_ready, new_draft

__all__ = ["EXCEPTION_HANDLERS", "create_app", "parse_json"]

log = logging.getLogger("engine.server")

ATTRIBUTION_HEADERS: Final = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")
CLAIM_TTL_S: Final = 604800
MAX_JSON_DEPTH: Final = 64
_THREAD_PARSE_BYTES: Final = 64 * 1024  # bigger JSON bodies are parsed in a worker thread
_RENDER_TYPES: Final = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
}

_Handler = Callable[[Request], Awaitable[Response]]


def _envelope(data: Any) -> JSONResponse:
    return JSONResponse({"code": 0, "message": "ok", "data": data})


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def upload_record(row: UploadRow, base: str) -> dict[str, Any]:
    """An upload as ``data.files[]`` and ``state.video_infos[]`` show it (duration in seconds)."""
    return {
        "id": row.id,
        "filename": row.filename,
        "file_type": row.file_type,
        "cdn_url": f"{base}/files/media/{row.file_token}/{quote(row.filename)}",
        "size": row.size,
        "duration": None if row.duration_ms is None else row.duration_ms / 1000,
        "width": row.width,
        "height": row.height,
        "fps": row.fps,
    }


def _render_url(row: RenderRow, base: str) -> str:
    return f"{base}/files/renders/{row.file_token}/{quote(row.id)}.{row.format}"


@dataclass
class _Engine:
    """What the app's lifespan opens; handlers find it in the lifespan state (``request.state.engine``)."""

    config: ServerConfig
    store: Store
    faults: FaultState
    turns: TurnRunner
    renders: RenderManager
    children: ChildRegistry


def _engine(request: Request) -> _Engine:
    engine: _Engine | None = getattr(request.state, "engine", None)
    if engine is None:
        raise RuntimeError(
            "the engine app was called outside its lifespan: enter app.router.lifespan_context(app)"
        )
    return engine


def _faulted(name: str, handler: _Handler) -> _Handler:
    """Fault injection for endpoint ``name`` (engine.server.faults), then the handler."""

    async def endpoint(request: Request) -> Response:
        engine = _engine(request)
        code = engine.faults.take_error(name)
        if code is not None:
            error = injected(code, name, engine.config.max_upload_bytes)
            error.headers["X-Videogen-Fault"] = name
            raise error
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return endpoint


# -- exception handlers (Starlette's ``exception_handlers``): the one place errors become responses --


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError | HttpError)
    return error_response(exc)


async def _on_disconnect(request: Request, exc: Exception) -> Response:
    # The client hung up while sending its body (an upload cut short): nothing was stored, and
    # there is nobody left to answer.
    log.info("%s: the client disconnected before its request was complete", request.url.path)
    return Response(status_code=400)


async def _on_failure(request: Request, exc: Exception) -> Response:
    log.error("%s failed", request.url.path, exc_info=exc)
    return error_response(
        ApiError(
            ENGINE_FAILURE,
            f"the engine failed on this request ({type(exc).__name__}); details are in the "
            "engine's log. Check the state before trying again",
        )
    )


EXCEPTION_HANDLERS: Final[dict[Any, Callable[[Request, Exception], Awaitable[Response]]]] = {
    ApiError: _on_api_error,
    HttpError: _on_api_error,
    ClientDisconnect: _on_disconnect,
    Exception: _on_failure,
}


# -- JSON bodies ------------------------------------------------------------------------------------


_JSON_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS: Final = bytes(sorted(set(range(256)) - set(b"[]{}")))
_BRACKET_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")


def json_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings left out), at C speed."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON has not (a length of Infinity is no length)."""
    raise _NotJson(f"{name} is not a JSON number; send a finite number")


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, or ApiError 4000: malformed, nested deeper than ``MAX_JSON_DEPTH`` (checked
    before parsing, so no recursion limit is ever reached here or later), or holding text that is not
    Unicode (an escaped lone surrogate such as ``"\\ud800"``, which no UTF-8 encoder accepts)."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise invalid_request(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        obj = json.loads(raw, parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise invalid_request(f"the body is not valid JSON ({exc})") from exc
    except _NotJson as exc:
        raise invalid_request(f"the body is not valid JSON ({exc})") from exc
    if _SURROGATE_ESCAPE.search(raw):  # only an escape can make a surrogate: look closer
        stack: list[Any] = [obj]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                _check_text(value)
            elif isinstance(value, dict):
                stack.extend(value.keys())
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
    return obj


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid_request(
            "the JSON body holds text that is not valid Unicode (an escaped lone surrogate such as "
            f"\\u{ord(text[exc.start]):04x}); send the text as UTF-8"
        ) from exc


class _Api:
    """Endpoint handlers. The engine they work on is the lifespan state's (``_engine(request)``)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.workspace = Workspace(self)

    # -- helpers -----------------------------------------------------------------------------------

    async def _user(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise bad_token()
        store = _engine(request).store
        user = await store.run(store.user_for_token, token, self.config.clock())
        if user is None:
            raise bad_token()
        return user

    @staticmethod
    def _attribution(request: Request, *, export: bool = False) -> None:
        missing = [h for h in ATTRIBUTION_HEADERS if not request.headers.get(h, "").strip()]
        if missing:
            raise export_blocked(missing) if export else missing_attribution(missing)

    @staticmethod
    async def _session(request: Request, session_id: str, user_id: str) -> SessionRow:
        store = _engine(request).store
        session = await store.run(store.get_session, session_id, user_id)
        if session is None:
            raise session_not_found(session_id)
        return session

    async def _json(self, request: Request, *, required: bool = True) -> dict[str, Any]:
        """The JSON object of the body, read up to ``limits.max_json_bytes`` whatever the transfer
        encoding (a chunked body has no Content-Length to check first)."""
        cap = self.config.limits.max_json_bytes

        def too_big() -> ApiError:
            # the rest of the body is discarded by the server as it arrives, never held
            return too_large("the JSON body", cap, "send less, or upload media as files")

        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise too_big()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                raise too_big()
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            if required:
                raise invalid_request("the request needs a JSON body")
            return {}
        if len(raw) > _THREAD_PARSE_BYTES:
            obj = await anyio.to_thread.run_sync(parse_json, raw)
        else:
            obj = parse_json(raw)
        if not isinstance(obj, dict):
            raise invalid_request("the JSON body must be an object")
        return obj

    def _render_shape(self, request: Request, row: RenderRow, base: str) -> dict[str, Any]:
        progress = _engine(request).renders.progress(row)
        url = _render_url(row, base) if row.status == "completed" else None
        if self.config.faults.render_status_shape == "B":
            return {
                "success": True,
                "data": {"id": row.id, "status": row.status, "progress": progress, "outputUrl": url},
            }
        output = None if url is None else {"url": url, "duration": row.duration, "size": row.size}
        return {
            "id": row.id,
            "status": row.status,
            "progress": progress,
            "output": output,
            "error": row.error,
        }

    # -- §2 auth -----------------------------------------------------------------------------------

    async def anonymous_token(self, request: Request) -> Response:
        client_id = request.headers.get("x-client-id", "").strip()
        if not client_id:
            raise missing_client_id()
        if len(client_id) > 200:
            raise invalid_request("X-Client-Id is longer than 200 characters; use a UUID")
        store, cfg = _engine(request).store, self.config
        ip = request.client.host if request.client else "unknown"
        try:
            grant = await store.run(
                store.issue_token,
                client_id,
                ip,
                now=cfg.clock(),
                ttl_s=cfg.token_ttl_s,
                per_ip=cfg.tokens_per_ip,
                initial_credits=cfg.initial_credits,
            )
        except RateLimitedError as exc:
            raise rate_limited(cfg.tokens_per_ip, RATE_WINDOW_S / 86400) from exc
        return _envelope(
            {
                "token": grant.token,
                "user_id": grant.user_id,
                "credits": grant.credits,
                "expires_at": _iso(grant.expires_at),
            }
        )

    async def claim_token(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        body = await self._json(request)
        session_id, task_id = body.get("session_id"), body.get("task_id")
        if not isinstance(session_id, str) or not session_id:
            raise invalid_request('"session_id" is required (and "task_id")')
        session = await self._session(request, session_id, user)
        if task_id is not None and task_id != session.task_id:
            raise session_not_found(session_id)
        store = _engine(request).store
        token = await store.run(store.create_claim, session.id, self.config.clock(), CLAIM_TTL_S)
        return _envelope({"claim_token": token, "expires_in": CLAIM_TTL_S})

    # -- §3 sessions -------------------------------------------------------------------------------

    async def create_session(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        body = await self._json(request, required=False)
        task_name = body.get("task_name", "project")
        language = body.get("language", "en")
        if not isinstance(task_name, str) or not 0 < len(task_name) <= 200:
            raise invalid_request('"task_name" must be a string of 1-200 characters')
        if not isinstance(language, str) or not 0 < len(language) <= 35:
            raise invalid_request('"language" must be a language tag such as "en"')
        store = _engine(request).store
        session = await store.run(store.create_session, user, task_name, language, self.config.clock())
        return _envelope({"task_id": session.task_id, "session_id": session.id, "user_id": user})

    # -- §4 messages -------------------------------------------------------------------------------

    async def run_sse(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        body = await self._json(request)
        session_id = body.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            raise invalid_request('"session_id" is required')
        message = body.get("new_message")
        parts = message.get("parts") if isinstance(message, dict) else None
        if not isinstance(parts, list):
            raise invalid_request('"new_message" must be {"role": "user", "parts": [{"text": "..."}]}')
        text = "\n".join(
            p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
        ).strip()
        if not text:
            raise invalid_request("the message has no text: put it in new_message.parts[0].text")
        self.check_message(text)
        store = _engine(request).store
        session = await store.run(store.get_session, session_id, user)
        if session is None:
            raise HttpError(404, f"Session not found: {session_id}")
        streaming = body.get("streaming", False)
        if not isinstance(streaming, bool):
            raise invalid_request('"streaming" must be true or false')
        return await _engine(request).turns.start(session, user, text, streaming=streaming)

    # -- §5 uploads --------------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request, request.path_params["session_id"], user)
        cfg, store = self.config, _engine(request).store
        content_type = request.headers.get("content-type", "")
        files: Sequence[IncomingFile]
        if content_type.lower().startswith("multipart/form-data"):
            files = await self.receive_files(request, user)
        elif content_type.lower().startswith("application/json"):
            urls = check_urls(await self._json(request), cfg.max_urls_per_request)
            fetched: list[IncomingFile] = []
            try:
                for url in urls:
                    fetched.append(
                        await fetch_url(
                            url,
                            store.tmp_dir,
                            limit=cfg.max_upload_bytes,
                            timeout_s=cfg.url_fetch_timeout_s,
                            allow_private=cfg.allow_private_urls,
                        )
                    )
            except BaseException:
                for incoming in fetched:
                    incoming.discard()
                raise
            files = fetched
        else:
            raise invalid_request(
                'send files as multipart/form-data ("files" parts) '
                'or JSON {"urls": [...], "source_type": "url"}'
            )
        rows = await store_files(
            files, store, session_id=session.id, user_id=user, now=cfg.clock(), limits=cfg.limits
        )
        base = _base(request)
        return _envelope({"files": [upload_record(r, base) for r in rows], "session_state_applied": True})

    async def media_file(self, request: Request) -> Response:
        store = _engine(request).store
        row = await store.run(store.upload_by_token, request.path_params["token"])
        if row is None:
            return PlainTextResponse("no such file", status_code=404)
        path = store.media_path(row.sha256, row.format)
        return FileResponse(
            path,
            media_type=CONTENT_TYPES[row.format][1],
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    # -- §6 state, credits, render -----------------------------------------------------------------

    async def credits(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        store = _engine(request).store
        available, frozen = await store.run(store.credits, user)
        return _envelope({"available": available, "frozen": frozen, "total": available + frozen})

    async def state(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request, request.path_params["session_id"], user)
        store, base = _engine(request).store, _base(request)
        draft = await store.run(store.draft_at, session.id, session.head)
        if draft is None:
            draft = new_draft(title=session.task_name if session.task_name != "project" else "")
        uploads = await store.run(store.uploads, session.id)
        renders = await store.run(store.session_renders, session.id)
        meta = draft.get("m", {})
        width, height = meta.get("width", 1920), meta.get("height", 1080)
        generated = [
            {
                "id": r.id,
                "type": "video",
                "url": _render_url(r, base),
                "format": r.format,
                "duration": r.duration,
                "size": r.size,
                "created_at": _iso(r.created_at),
            }
            for r in renders
            if r.status == "completed"
        ]
        return _envelope(
            {
                "session_id": session.id,
                "task_id": session.task_id,
                "task_name": session.task_name,
                "busy": _engine(request).turns.is_busy(session.id)
                or await store.run(store.turn_running, session.id),
                "revision": session.head,
                "state": {
                    "draft": draft,
                    "video_infos": [upload_record(u, base) for u in uploads],
                    "canvas_config": {
                        "width": width,
                        "height": height,
                        "fps": meta.get("fps", 30),
                        "aspect_ratio": _aspect(width, height),
                    },
                    "generated_media": generated,
                },
            }
        )

    async def storyboard(self, request: Request) -> Response:
        """An engine extension (the cloud has none): a PNG contact sheet of the current draft.

        Drawn once per revision and kept under ``<home>/storyboards/``, so asking again is free.
        """
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request, request.path_params["session_id"], user)
        out = await self.storyboard_file(request, session)
        return FileResponse(out, media_type="image/png", headers={"X-Content-Type-Options": "nosniff"})

    async def storyboard_file(self, request: Request, session: SessionRow) -> Path:
        """The contact sheet of the session's current revision, drawn on first request."""
        store = _engine(request).store
        draft = await store.run(store.draft_at, session.id, session.head)
        if draft is None or not is_ready(draft):
            raise invalid_request(
                "there is nothing on the timeline to draw yet: describe the video first, then ask again"
            )
        out = store.storyboards_dir / f"{session.id}-r{session.head}.png"
        if not out.is_file():
            check_draft_size(draft, self.config.limits)
            uploads = await store.run(store.uploads, session.id)
            media = await anyio.to_thread.run_sync(media_map, draft, uploads, store)
            try:
                await draw_storyboard(draft, media, out)
            except RenderError as exc:
                reason = scrub_paths(str(exc), {path: src for src, path in media.items()})
                raise invalid_request(f"the storyboard could not be drawn: {reason}") from exc
            await anyio.to_thread.run_sync(os.chmod, out, 0o600)
        return out

    # -- for the workspace page (engine/server/_workspace.py) ----------------------------------------

    @staticmethod
    def engine_of(request: Request) -> _Engine:
        return _engine(request)

    @staticmethod
    def render_url(row: RenderRow, base: str = "") -> str:
        return _render_url(row, base)

    async def json_body(self, request: Request) -> dict[str, Any]:
        return await self._json(request)

    async def receive_files(self, request: Request, user: str) -> list[IncomingFile]:
        """A multipart body's files, streamed to ``tmp/`` within the size, count and quota limits."""
        cfg, store = self.config, _engine(request).store
        used = await store.run(store.user_upload_bytes, user)
        return await receive_multipart(
            request.headers.get("content-type", ""),
            request.stream(),
            store.tmp_dir,
            limit=cfg.max_upload_bytes,
            max_files=cfg.max_files_per_request,
            budget=max(0, cfg.limits.upload_quota_bytes - used),
        )

    def check_message(self, text: str) -> None:
        """A message longer than ``limits.max_message_chars`` is refused (4000), from the API or the page."""
        cap = self.config.limits.max_message_chars
        if len(text) > cap:
            raise invalid_request(
                f"the message is {len(text):,} characters long; at most {cap:,} are accepted "
                "(limit max_message_chars): say it in fewer words, or send it in parts"
            )

    async def edit(self, request: Request) -> Response:
        """An engine extension (the cloud has none): exact edits as JSON ops, one revision (_edit.py)."""
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request, request.path_params["session_id"], user)
        body = await self._json(request)
        engine = _engine(request)
        return _envelope(await run_edit(engine.store, engine.turns, session, user, body, self.config.clock))

    async def render(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request, export=True)
        body = await self._json(request)
        session_id = body.get("sessionId")
        if not isinstance(session_id, str) or not session_id:
            raise invalid_request('"sessionId" (camelCase) is required')
        session = await self._session(request, session_id, user)
        row = await _engine(request).renders.submit(user, session, body)
        return JSONResponse(self._render_shape(request, row, _base(request)))

    async def _render_row(self, request: Request) -> RenderRow:
        user = await self._user(request)
        self._attribution(request, export=True)
        render_id = request.path_params["render_id"]
        store = _engine(request).store
        row = await store.run(store.get_render, user, render_id)
        if row is None:
            raise ApiError(
                RENDER_NOT_FOUND,
                f"no render {render_id!r} for this user; submit one with POST /api/render/proxy/lambda",
            )
        return row

    async def render_status(self, request: Request) -> Response:
        row = await self._render_row(request)
        return JSONResponse(self._render_shape(request, row, _base(request)))

    async def download(self, request: Request) -> Response:
        row = await self._render_row(request)
        return self._render_file(request, row, inline=False)

    async def render_file(self, request: Request) -> Response:
        store = _engine(request).store
        row = await store.run(store.render_by_token, request.path_params["token"])
        if row is None or row.status != "completed":
            return PlainTextResponse("no such render", status_code=404)
        return self._render_file(request, row, inline=True)

    @staticmethod
    def _render_file(request: Request, row: RenderRow, *, inline: bool) -> Response:
        path = _engine(request).renders.output_path(row)
        if row.status != "completed" or not path.is_file():
            status = row.status if row.status != "completed" else "missing its file"
            raise ApiError(
                RENDER_NOT_READY,
                f"render {row.id!r} is {status}; "
                f"poll GET /api/render/proxy/lambda/{row.id} until it is completed",
            )
        return FileResponse(
            path,
            media_type=_RENDER_TYPES[row.format],
            filename=f"{row.id}.{row.format}",
            content_disposition_type="inline" if inline else "attachment",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    async def cancel_render(self, request: Request) -> Response:
        """An engine extension: stop a pending or running render (it ends ``failed``, "cancelled")."""
        row = await self._render_row(request)
        row = await _engine(request).renders.cancel(row)
        return JSONResponse(self._render_shape(request, row, _base(request)))

    async def health(self, request: Request) -> Response:
        if getattr(request.state, "engine", None) is None:
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    def routes(self) -> list[Route]:
        return [
            Route(
                "/api/auth/anonymous-token",
                _faulted("anonymous_token", self.anonymous_token),
                methods=["POST"],
            ),
            Route("/api/auth/claim-token", _faulted("claim_token", self.claim_token), methods=["POST"]),
            Route(
                "/api/tasks/{user}/with-session/nemo_agent",
                _faulted("create_session", self.create_session),
                methods=["POST"],
            ),
            Route("/run_sse", _faulted("run_sse", self.run_sse), methods=["POST"]),
            Route(
                "/api/upload-video/nemo_agent/{user}/{session_id}",
                _faulted("upload", self.upload),
                methods=["POST"],
            ),
            Route("/api/credits/balance/simple", _faulted("credits", self.credits), methods=["GET"]),
            Route(
                "/api/state/nemo_agent/{user}/{session_id}/latest",
                _faulted("state", self.state),
                methods=["GET"],
            ),
            Route(
                "/api/storyboard/nemo_agent/{user}/{session_id}/latest",
                _faulted("storyboard", self.storyboard),
                methods=["GET"],
            ),
            Route("/api/edit/nemo_agent/{user}/{session_id}", _faulted("edit", self.edit), methods=["POST"]),
            Route("/api/render/proxy/lambda", _faulted("render", self.render), methods=["POST"]),
            Route(
                "/api/render/proxy/lambda/{render_id}",
                _faulted("render_status", self.render_status),
                methods=["GET"],
            ),
            Route("/api/render/proxy/lambda/{render_id}/cancel", self.cancel_render, methods=["POST"]),
            Route(
                "/api/render/proxy/{render_id}/download", _faulted("download", self.download), methods=["GET"]
            ),
            *(Route(path, handler, methods=[method]) for path, handler, method in self.workspace.routes()),
            Route("/files/media/{token}/{name:path}", self.media_file, methods=["GET"]),
            Route(
                "/files/renders/{token}/{name:path}", _faulted("download", self.render_file), methods=["GET"]
            ),
            Route("/healthz", self.health, methods=["GET"]),
        ]


def _aspect(width: int, height: int) -> str:
    g = gcd(int(width), int(height)) or 1
    return f"{int(width) // g}:{int(height) // g}"


class EngineApp(Starlette):
    """The engine's Starlette app: its lifespan state holds the engine (``request.state.engine``).

    A server runs the lifespan through the ASGI protocol and copies that state into every request's
    scope. A host that enters ``app.router.lifespan_context(app)`` itself (the embedded engine, the
    client's tests) gets the same state: the app adds it to a scope that lacks it. Every request also
    runs with the engine's child-process registry as the ffmpeg spawn hook (``engine.render``), so
    ffmpeg started for it (or for a job it starts) is recorded and ended with the server.
    """

    lifespan_state: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            state = scope.setdefault("state", {})
            if "engine" not in state and self.lifespan_state is not None:
                state.update(self.lifespan_state)
            engine = state.get("engine")
            if isinstance(engine, _Engine):
                with engine.children.watching():
                    await super().__call__(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(config: ServerConfig) -> Starlette:
    """The engine as an ASGI app. Its lifespan opens the home and runs the background work: enter it."""
    api = _Api(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        store = await anyio.to_thread.run_sync(Store, config.home)
        try:
            recovered = await store.run(store.recover, config.clock())
            if recovered is None:
                log.info("another engine process is using %s; its jobs are left alone", config.home)
            elif any(recovered):
                renders_failed, turns_failed = recovered
                log.warning(
                    "the engine stopped last time with %d render(s) and %d turn(s) running; "
                    "they are marked failed",
                    renders_failed,
                    turns_failed,
                )
            faults = FaultState(config.faults)
            if config.faults.active:
                log.warning("fault emulation is on: %s", config.faults)
            async with ChildRegistry.running(store) as children, anyio.create_task_group() as tg:
                engine = _Engine(
                    config=config,
                    store=store,
                    faults=faults,
                    turns=TurnRunner(store, faults, config.ping_interval_s, config.clock),
                    renders=RenderManager(
                        store,
                        faults,
                        max_concurrent=config.max_concurrent_renders,
                        max_height=config.max_render_height,
                        limits=config.limits,
                        clock=config.clock,
                    ),
                    children=children,
                )
                engine.turns.task_group = tg
                engine.renders.task_group = tg
                state = {"engine": engine}
                assert isinstance(app, EngineApp)
                app.lifespan_state = state
                try:
                    yield state
                finally:
                    app.lifespan_state = None
                    tg.cancel_scope.cancel()
        finally:
            await anyio.to_thread.run_sync(store.close)

    return EngineApp(routes=api.routes(), lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
