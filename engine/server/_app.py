"""The HTTP API (Starlette): routes, auth, attribution, envelopes; ``create_app`` and ``serve``."""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from math import gcd
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import anyio
import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from engine.render import RenderError
from engine.render import storyboard as draw_storyboard
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
)
from engine.server._media import CONTENT_TYPES
from engine.server._renders import RenderManager, media_map
from engine.server._store import RATE_WINDOW_S, RateLimitedError, RenderRow, SessionRow, Store, UploadRow
from engine.server._turns import TurnRunner
from engine.server._uploads import IncomingFile, check_urls, fetch_url, receive_multipart, store_files
from engine.server._workspace import Workspace
from engine.server.config import ServerConfig
from engine.server.faults import FaultState
from engine.timeline import is_ready, new_draft

__all__ = ["create_app", "serve"]

log = logging.getLogger("engine.server")

ATTRIBUTION_HEADERS: Final = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")
CLAIM_TTL_S: Final = 604800
_MAX_JSON_BYTES: Final = 16 * 1024 * 1024
_RENDER_TYPES: Final = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
}

_Handler = Callable[["_Api", Request], Awaitable[Response]]


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
    config: ServerConfig
    store: Store
    faults: FaultState
    turns: TurnRunner
    renders: RenderManager


def _endpoint(name: str | None) -> Callable[[_Handler], _Handler]:
    """Fault injection for ``name``, then the handler; API errors become their responses."""

    def decorate(fn: _Handler) -> _Handler:
        async def handler(api: _Api, request: Request) -> Response:
            engine = api.engine
            if name is not None:
                code = engine.faults.take_error(name)
                if code is not None:
                    return error_response(injected(code, name), {"X-Videogen-Fault": name})
            try:
                return await fn(api, request)
            except (ApiError, HttpError) as exc:
                return error_response(exc)
            except ClientDisconnect:
                # The client hung up while sending its body (an upload cut short): nothing was stored,
                # and there is nobody left to answer.
                log.info("%s: the client disconnected before its request was complete", request.url.path)
                return Response(status_code=400)
            except Exception as exc:
                log.exception("%s failed", request.url.path)
                return error_response(
                    ApiError(
                        ENGINE_FAILURE,
                        f"the engine failed on this request ({type(exc).__name__}); details are in the "
                        "engine's log. Check the state before trying again",
                    )
                )

        handler.__name__ = fn.__name__
        return handler

    return decorate


class _Api:
    """Endpoint handlers; ``engine`` exists while the app's lifespan runs."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._engine: _Engine | None = None
        self.workspace = Workspace(self)

    @property
    def engine(self) -> _Engine:
        if self._engine is None:
            raise RuntimeError(
                "the engine app was called outside its lifespan: enter app.router.lifespan_context(app)"
            )
        return self._engine

    # -- helpers -----------------------------------------------------------------------------------

    async def _user(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise bad_token()
        store = self.engine.store
        user = await store.run(store.user_for_token, token, self.config.clock())
        if user is None:
            raise bad_token()
        return user

    @staticmethod
    def _attribution(request: Request, *, export: bool = False) -> None:
        missing = [h for h in ATTRIBUTION_HEADERS if not request.headers.get(h, "").strip()]
        if missing:
            raise export_blocked(missing) if export else missing_attribution(missing)

    async def _session(self, session_id: str, user_id: str) -> SessionRow:
        store = self.engine.store
        session = await store.run(store.get_session, session_id, user_id)
        if session is None:
            raise session_not_found(session_id)
        return session

    @staticmethod
    async def _json(request: Request, *, required: bool = True) -> dict[str, Any]:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > _MAX_JSON_BYTES:
            raise invalid_request(f"the JSON body is larger than {_MAX_JSON_BYTES // (1024 * 1024)} MB")
        raw = await request.body()
        if not raw.strip():
            if required:
                raise invalid_request("the request needs a JSON body")
            return {}
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise invalid_request(f"the body is not valid JSON ({exc})") from exc
        if not isinstance(obj, dict):
            raise invalid_request("the JSON body must be an object")
        return obj

    def _render_shape(self, row: RenderRow, base: str) -> dict[str, Any]:
        progress = self.engine.renders.progress(row)
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

    @_endpoint("anonymous_token")
    async def anonymous_token(self, request: Request) -> Response:
        client_id = request.headers.get("x-client-id", "").strip()
        if not client_id:
            raise missing_client_id()
        if len(client_id) > 200:
            raise invalid_request("X-Client-Id is longer than 200 characters; use a UUID")
        store, cfg = self.engine.store, self.config
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

    @_endpoint("claim_token")
    async def claim_token(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        body = await self._json(request)
        session_id, task_id = body.get("session_id"), body.get("task_id")
        if not isinstance(session_id, str) or not session_id:
            raise invalid_request('"session_id" is required (and "task_id")')
        session = await self._session(session_id, user)
        if task_id is not None and task_id != session.task_id:
            raise session_not_found(session_id)
        store = self.engine.store
        token = await store.run(store.create_claim, session.id, self.config.clock(), CLAIM_TTL_S)
        return _envelope({"claim_token": token, "expires_in": CLAIM_TTL_S})

    # -- §3 sessions -------------------------------------------------------------------------------

    @_endpoint("create_session")
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
        store = self.engine.store
        session = await store.run(store.create_session, user, task_name, language, self.config.clock())
        return _envelope({"task_id": session.task_id, "session_id": session.id, "user_id": user})

    # -- §4 messages -------------------------------------------------------------------------------

    @_endpoint("run_sse")
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
        store = self.engine.store
        session = await store.run(store.get_session, session_id, user)
        if session is None:
            raise HttpError(404, f"Session not found: {session_id}")
        streaming = body.get("streaming", False)
        if not isinstance(streaming, bool):
            raise invalid_request('"streaming" must be true or false')
        return await self.engine.turns.start(session, user, text, streaming=streaming)

    # -- §5 uploads --------------------------------------------------------------------------------

    @_endpoint("upload")
    async def upload(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request.path_params["session_id"], user)
        cfg, store = self.config, self.engine.store
        content_type = request.headers.get("content-type", "")
        files: Sequence[IncomingFile]
        if content_type.lower().startswith("multipart/form-data"):
            files = await receive_multipart(
                content_type,
                request.stream(),
                store.tmp_dir,
                limit=cfg.max_upload_bytes,
                max_files=cfg.max_files_per_request,
            )
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
        rows = await store_files(files, store, session_id=session.id, user_id=user, now=cfg.clock())
        base = _base(request)
        return _envelope({"files": [upload_record(r, base) for r in rows], "session_state_applied": True})

    async def media_file(self, request: Request) -> Response:
        store = self.engine.store
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

    @_endpoint("credits")
    async def credits(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        store = self.engine.store
        available, frozen = await store.run(store.credits, user)
        return _envelope({"available": available, "frozen": frozen, "total": available + frozen})

    @_endpoint("state")
    async def state(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request.path_params["session_id"], user)
        store, base = self.engine.store, _base(request)
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
                "busy": self.engine.turns.is_busy(session.id)
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

    @_endpoint("storyboard")
    async def storyboard(self, request: Request) -> Response:
        """An engine extension (the cloud has none): a PNG contact sheet of the current draft.

        Drawn once per revision and kept under ``<home>/storyboards/``, so asking again is free.
        """
        user = await self._user(request)
        self._attribution(request)
        session = await self._session(request.path_params["session_id"], user)
        out = await self.storyboard_file(session)
        return FileResponse(out, media_type="image/png", headers={"X-Content-Type-Options": "nosniff"})

    async def storyboard_file(self, session: SessionRow) -> Path:
        """The contact sheet of the session's current revision, drawn on first request."""
        store = self.engine.store
        draft = await store.run(store.draft_at, session.id, session.head)
        if draft is None or not is_ready(draft):
            raise invalid_request(
                "there is nothing on the timeline to draw yet: describe the video first, then ask again"
            )
        out = self.engine.config.home / "storyboards" / f"{session.id}-r{session.head}.png"
        if not out.is_file():
            uploads = await store.run(store.uploads, session.id)
            media = media_map(draft, uploads, store)
            try:
                await draw_storyboard(draft, media, out)
            except RenderError as exc:
                raise invalid_request(f"the storyboard could not be drawn: {exc}") from exc
        return out

    # -- for the workspace page (engine/server/_workspace.py) ----------------------------------------

    @staticmethod
    def render_url(row: RenderRow, base: str = "") -> str:
        return _render_url(row, base)

    async def json_body(self, request: Request) -> dict[str, Any]:
        return await self._json(request)

    @_endpoint("render")
    async def render(self, request: Request) -> Response:
        user = await self._user(request)
        self._attribution(request, export=True)
        body = await self._json(request)
        session_id = body.get("sessionId")
        if not isinstance(session_id, str) or not session_id:
            raise invalid_request('"sessionId" (camelCase) is required')
        session = await self._session(session_id, user)
        row = await self.engine.renders.submit(user, session, body)
        return JSONResponse(self._render_shape(row, _base(request)))

    async def _render_row(self, request: Request) -> RenderRow:
        user = await self._user(request)
        self._attribution(request, export=True)
        render_id = request.path_params["render_id"]
        store = self.engine.store
        row = await store.run(store.get_render, user, render_id)
        if row is None:
            raise ApiError(
                RENDER_NOT_FOUND,
                f"no render {render_id!r} for this user; submit one with POST /api/render/proxy/lambda",
            )
        return row

    @_endpoint("render_status")
    async def render_status(self, request: Request) -> Response:
        row = await self._render_row(request)
        return JSONResponse(self._render_shape(row, _base(request)))

    @_endpoint("download")
    async def download(self, request: Request) -> Response:
        row = await self._render_row(request)
        return self._render_file(row, inline=False)

    @_endpoint("download")
    async def render_file(self, request: Request) -> Response:
        store = self.engine.store
        row = await store.run(store.render_by_token, request.path_params["token"])
        if row is None or row.status != "completed":
            return PlainTextResponse("no such render", status_code=404)
        return self._render_file(row, inline=True)

    def _render_file(self, row: RenderRow, *, inline: bool) -> Response:
        path = self.engine.renders.output_path(row)
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

    async def health(self, request: Request) -> Response:
        if self._engine is None:
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    def _guarded(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A workspace handler with the API's error handling (errors become their responses)."""
        guarded = _endpoint(None)(lambda _api, request: handler(request))

        async def endpoint(request: Request) -> Response:
            return await guarded(self, request)

        endpoint.__name__ = getattr(handler, "__name__", "workspace")
        return endpoint

    def routes(self) -> list[Route]:
        return [
            Route("/api/auth/anonymous-token", self.anonymous_token, methods=["POST"]),
            Route("/api/auth/claim-token", self.claim_token, methods=["POST"]),
            Route("/api/tasks/{user}/with-session/nemo_agent", self.create_session, methods=["POST"]),
            Route("/run_sse", self.run_sse, methods=["POST"]),
            Route("/api/upload-video/nemo_agent/{user}/{session_id}", self.upload, methods=["POST"]),
            Route("/api/credits/balance/simple", self.credits, methods=["GET"]),
            Route("/api/state/nemo_agent/{user}/{session_id}/latest", self.state, methods=["GET"]),
            Route("/api/storyboard/nemo_agent/{user}/{session_id}/latest", self.storyboard, methods=["GET"]),
            Route("/api/render/proxy/lambda", self.render, methods=["POST"]),
            Route("/api/render/proxy/lambda/{render_id}", self.render_status, methods=["GET"]),
            Route("/api/render/proxy/{render_id}/download", self.download, methods=["GET"]),
            *(
                Route(path, self._guarded(handler), methods=[method])
                for path, handler, method in self.workspace.routes()
            ),
            Route("/files/media/{token}/{name:path}", self.media_file, methods=["GET"]),
            Route("/files/renders/{token}/{name:path}", self.render_file, methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
        ]


def _aspect(width: int, height: int) -> str:
    g = gcd(int(width), int(height)) or 1
    return f"{int(width) // g}:{int(height) // g}"


def create_app(config: ServerConfig) -> Starlette:
    """The engine as an ASGI app. Its lifespan opens the home and runs the background work: enter it."""
    api = _Api(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
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
                    clock=config.clock,
                ),
            )
            async with anyio.create_task_group() as tg:
                engine.turns.task_group = tg
                engine.renders.task_group = tg
                api._engine = engine
                try:
                    yield
                finally:
                    api._engine = None
                    tg.cancel_scope.cancel()
        finally:
            await anyio.to_thread.run_sync(store.close)

    return Starlette(routes=api.routes(), lifespan=lifespan)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn, announcing the address it really listens on once it is ready (port 0 works), and
    stopping by itself after ``idle_timeout_s`` without an open connection (None: never)."""

    def __init__(
        self, config: uvicorn.Config, announce: Callable[[], None], idle_timeout_s: float | None = None
    ) -> None:
        super().__init__(config)
        self._announce = announce
        self._idle_timeout_s = idle_timeout_s
        self._last_busy = time.monotonic()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._announce()

    async def on_tick(self, counter: int) -> bool:
        if self._idle_timeout_s is not None:
            now = time.monotonic()
            if self.server_state.connections or self.server_state.tasks:
                self._last_busy = now
            elif now - self._last_busy >= self._idle_timeout_s:
                log.info("no request for %g s: the engine server stops", self._idle_timeout_s)
                return True
        return await super().on_tick(counter)


def serve(
    host: str,
    port: int,
    config: ServerConfig,
    *,
    idle_timeout_s: float | None = None,
    on_ready: Callable[[str, int], None] | None = None,
) -> None:
    """Run the engine over HTTP with uvicorn until interrupted (127.0.0.1 unless told otherwise).

    Prints ``engine.server ready on http://HOST:PORT`` on stdout once it accepts requests, then calls
    ``on_ready(host, port)``. With ``idle_timeout_s`` it stops by itself after that long without an
    open connection (the background workspace server of ``handlers._workspace``).
    """
    if not any(not isinstance(h, logging.NullHandler) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     engine: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    if not _is_loopback(host):
        print(
            f"warning: binding the engine to {host}, not a loopback address: anyone who can reach this "
            "machine can get a token and use the engine, its files and its renders",
            file=sys.stderr,
            flush=True,
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from exc
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host

    def announce() -> None:
        print(f"engine.server ready on http://{shown_host}:{actual_port} (home {config.home})", flush=True)
        if on_ready is not None:
            on_ready(host, actual_port)

    uconfig = uvicorn.Config(
        create_app(config), lifespan="on", access_log=False, log_level="info", timeout_graceful_shutdown=5
    )
    _Server(uconfig, announce, idle_timeout_s).run(sockets=[sock])
