"""The engine on the network: uvicorn with the engine's connection rules, and ``serve``.

What a network listener adds to the ASGI app (``create_app``), in ``network_app`` and ``uvicorn_config``:

- **Allowed Host names.** A request whose ``Host`` is not one of the loopback names (``localhost``,
  ``*.localhost``, ``127.0.0.1``, ``::1``), the address the server listens on, or a name given with
  ``ServerConfig.allowed_hosts`` (``--allow-host``) is refused with HTTP 421 before any route runs:
  a web page cannot drive the engine by DNS rebinding, and the absolute URLs the engine writes
  (``cdn_url``, ``output.url``) only ever name a host it answers to. This covers every route of
  the app (the API, the public file URLs, the workspace pages).
- **Proxy headers** (``X-Forwarded-For``/``-Proto``) are believed only from the addresses in
  ``ServerConfig.trusted_proxies`` (``--trust-proxy``); by default from nobody, so the per-address
  token limit counts the real peer.
- **Per-connection timeouts.** A connection has ``read_timeout_s`` to send its request headers
  (an idle or slow-header connection is closed), each piece of a request body must arrive within
  ``read_timeout_s`` of the last (else HTTP 408 and the connection is closed), and an idle
  connection between requests is closed after ``keep_alive_s``. Headers are bounded by h11 (64 KB).
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, Final

import anyio
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.server._app import _is_loopback, create_app
from engine.server._errors import HttpError, error_response, read_timeout
from engine.server.config import ServerConfig

__all__ = ["LOOPBACK_NAMES", "allowed_host_names", "network_app", "serve", "uvicorn_config"]

log = logging.getLogger("engine.server")

LOOPBACK_NAMES: Final = ("localhost", "127.0.0.1", "::1")
_MAX_HEADER_BYTES: Final = 64 * 1024
_WILDCARDS: Final = ("0.0.0.0", "::", "")  # noqa: S104 - names to leave out, not to bind


def allowed_host_names(host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The Host names the engine answers to when it listens on ``host`` (lower case, no port)."""
    names = {*LOOPBACK_NAMES, *(n.strip().lower().strip("[]") for n in extra if n.strip())}
    if host.strip("[]") not in _WILDCARDS:
        names.add(host.lower().strip("[]"))
    return frozenset(names)


def _host_name(value: str) -> str:
    """The name part of a Host header: ``[::1]:8765`` -> ``::1``, ``Example.com:80`` -> ``example.com``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _NetworkGuard:
    """ASGI middleware for a network listener: allowed Host names and the request body timeout."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str], read_timeout_s: float) -> None:
        self.app = app
        self.allowed = allowed
        self.read_timeout_s = read_timeout_s

    def _allowed(self, name: str) -> bool:
        return name in self.allowed or name.endswith(".localhost")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(b"host", b"")
        name = _host_name(raw.decode("latin-1"))
        if not self._allowed(name):
            shown = name[:100] or "(none)"
            error = HttpError(
                421,
                f"this engine does not answer to the host name {shown!r}: use http://127.0.0.1:<port> "
                "(or start the engine with --allow-host NAME for a name you trust)",
                {"Connection": "close"},
            )
            if scope["type"] == "http":
                await error_response(error)(scope, receive, send)
            return
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()  # after the body: waiting for a disconnect is not bounded
            try:
                with anyio.fail_after(self.read_timeout_s):
                    message = await receive()
            except TimeoutError:
                raise read_timeout(self.read_timeout_s) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)


def network_app(config: ServerConfig, host: str) -> ASGIApp:
    """``create_app(config)`` behind the network guard for a server listening on ``host``."""
    return _NetworkGuard(
        create_app(config), allowed_host_names(host, config.allowed_hosts), config.read_timeout_s
    )


class _TimedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request headers.

    uvicorn closes an idle connection only after a first response (``timeout_keep_alive``); a
    connection that never sends a request, or sends its headers a byte at a time, would stay open.
    Here the headers of every request must be complete within ``read_timeout_s`` of the connection
    being made or the previous response finishing.
    """

    header_timeout_s: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: Any = None
        self._timed_cycle: object = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self.cycle is not self._timed_cycle:
            self._timed_cycle = self.cycle  # a request's headers are in: its body has its own timeout
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # before the base class, which may start a pipelined request (and disarm)
        super().on_response_complete()


def uvicorn_config(app: ASGIApp, config: ServerConfig, *, log_level: str = "info") -> uvicorn.Config:
    """uvicorn's settings for the engine: proxy headers, timeouts and header limits (module docstring)."""
    protocol = type("_EngineH11", (_TimedH11,), {"header_timeout_s": config.read_timeout_s})
    return uvicorn.Config(
        app,
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        http=protocol,
        ws="none",
        timeout_keep_alive=max(1, round(config.keep_alive_s)),
        h11_max_incomplete_event_size=_MAX_HEADER_BYTES,
        proxy_headers=bool(config.trusted_proxies),
        forwarded_allow_ips=list(config.trusted_proxies) or None,
        server_header=False,
    )


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
                self._last_busy = now  # a request, or an open page's event stream
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
            "machine can get a token and use the engine, its files and its renders "
            "(see the README's Security section)",
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

    server = _Server(uvicorn_config(network_app(config, host), config), announce, idle_timeout_s)
    server.run(sockets=[sock])
