"""The embedded local engine: the ONE place the client reaches into `engine/`.

`embedded_app()` builds `engine.server.create_app(ServerConfig(home=...))` and runs its lifespan for the
duration of a tool call; `_transport.StreamingASGITransport` carries requests to it in-process, so the
client speaks exactly the HTTP it speaks to the cloud. `run_local_server()` is `videogen serve`.
The engine is imported lazily: the client works against the cloud without it.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers._constants import DEFAULT_SERVE_PORT
from handlers._errors import ConfigError

__all__ = [
    "DEFAULT_SERVE_PORT",
    "EngineFonts",
    "embedded_app",
    "engine_ffmpeg",
    "engine_fonts",
    "engine_home",
    "run_local_server",
    "run_workspace_server",
]


def _server_module() -> Any:
    try:
        return importlib.import_module("engine.server")
    except ImportError as exc:
        raise ConfigError(
            f"the local engine is not available ({exc})",
            recovery="Reinstall video-generator-ai, or use the cloud: set NEMO_BACKEND=cloud.",
        ) from exc


def _render_module() -> Any:
    try:
        return importlib.import_module("engine.render")
    except ImportError as exc:
        raise ConfigError(
            f"the local engine is not available ({exc})",
            recovery="Reinstall video-generator-ai, or use the cloud: set NEMO_BACKEND=cloud.",
        ) from exc


# What `videogen doctor` asks the engine (it keeps no copy of the engine's facts and spawns nothing).


@dataclass(frozen=True)
class EngineFonts:
    """The font files the renderer would use for each script; None where it has none."""

    latin: Path | None
    cjk: Path | None
    emoji: Path | None


def engine_fonts(dirs: Sequence[Path] | None = None) -> EngineFonts:
    """The renderer's fonts: its own search (font folders and VIDEOGEN_FONT_DIRS), or only `dirs`."""
    render = _render_module()
    fonts = render.find_fonts() if dirs is None else render.scan_fonts(dirs)
    return EngineFonts(latin=fonts.latin, cjk=fonts.cjk[0] if fonts.cjk else None, emoji=fonts.emoji)


def engine_ffmpeg() -> tuple[str, str]:
    """(the renderer's ffmpeg binary, its version line); ConfigError saying what to do when it fails."""
    render = _render_module()
    try:
        return str(render.ffmpeg_exe()), str(render.ffmpeg_version())
    except render.RenderError as exc:
        raise ConfigError(str(exc), recovery=str(exc.hint)) from exc


@asynccontextmanager
async def embedded_app(home: Path | None = None) -> AsyncIterator[Any]:
    """The engine's ASGI app with its lifespan entered (storage open, workers running)."""
    server = _server_module()
    app = server.create_app(server.ServerConfig(home=home or server.default_home()))
    async with app.router.lifespan_context(app):
        yield app


def run_local_server(
    host: str = "127.0.0.1", port: int = DEFAULT_SERVE_PORT, home: Path | None = None
) -> None:
    """Run the engine as a real HTTP server (blocking; bearer tokens required, as in the cloud)."""
    server = _server_module()
    server.serve(host, port, server.ServerConfig(home=home or server.default_home()))


def engine_home(home: Path | None = None) -> Path:
    """The engine's data folder: ``home``, else the engine's default (``$VIDEOGEN_HOME``, ...)."""
    if home is not None:
        return home
    return Path(_server_module().default_home())


def run_workspace_server(
    home: Path, port: int, idle_timeout_s: float, on_ready: Callable[[str, int], None]
) -> None:
    """The background workspace server of ``handlers._workspace``: the engine on 127.0.0.1, stopping
    by itself after ``idle_timeout_s`` without a connection (blocking)."""
    server = _server_module()
    # The browser's page is not a cloud emulation: faults set for the tools' engine stay off here.
    config = server.ServerConfig(home=home, faults=server.FaultConfig())
    server.serve("127.0.0.1", port, config, idle_timeout_s=idle_timeout_s, on_ready=on_ready)
