"""Fixtures for the client's tests: the local engine in-process (with fault emulation), reached over
HTTP through the client's own streaming ASGI transport, and every request recorded at the transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from handlers import _clock
from handlers._config import Config, Timings
from handlers._constants import TurnLimits
from handlers._progress import ProgressEvent

SKILL_FRONT = (
    "---\nname: video-generator-ai\ndescription: test copy\nmetadata:\n  version: 0.1.0\n---\n# Skill\n"
)


def file_head(path: Path, n: int = 16) -> bytes:
    with path.open("rb") as handle:
        return handle.read(n)


def file_size(path: Path) -> int:
    return path.stat().st_size


def rewrite(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    status: int | None = None
    content_type: str = ""
    body: bytes = b""


@dataclass
class Recorder:
    """An ASGI wrapper that records every request (and its answer's status) on the server side."""

    app: Any
    requests: list[Seen] = field(default_factory=list)
    stream_opened: anyio.Event = field(default_factory=anyio.Event)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = Seen(
            scope["method"],
            scope["path"] + (("?" + scope["query_string"].decode()) if scope.get("query_string") else ""),
            {k.decode().lower(): v.decode() for k, v in scope["headers"]},
        )
        self.requests.append(seen)

        async def recv() -> Any:
            message = await receive()
            if message.get("type") == "http.request" and len(seen.body) < 65536:
                seen.body += message.get("body", b"")
            return message

        async def snd(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
                seen.content_type = headers.get("content-type", "")
                if seen.content_type.startswith("text/event-stream"):
                    self.stream_opened.set()
            await send(message)

        await self.app(scope, recv, snd)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)

    def streams_started(self) -> int:
        """POST /run_sse answered with an event stream: messages the backend accepted."""
        return sum(
            1
            for r in self.requests
            if r.method == "POST" and r.path == "/run_sse" and r.content_type.startswith("text/event-stream")
        )


@dataclass
class Engine:
    config: Config
    recorder: Recorder
    progress: list[ProgressEvent]
    root: Path

    @property
    def cwd(self) -> Path:
        """The client's working directory (where exports and storyboards are saved)."""
        if self.config.cwd is None:
            raise AssertionError("the engine fixture always sets the client's cwd")
        return self.config.cwd

    def on_progress(self, event: ProgressEvent) -> None:
        self.progress.append(event)

    async def call(
        self, tool: str, args: dict[str, Any] | None = None, *, limit: float = 60.0
    ) -> dict[str, Any]:
        from handlers import acall_tool

        with anyio.fail_after(limit):
            return await acall_tool(tool, args or {}, config=self.config, progress=self.on_progress)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every deliberate wait of the client (retry delays, polls) is recorded and shrunk to a blink."""
    asked: list[float] = []

    async def pause(seconds: float) -> None:
        asked.append(seconds)
        await anyio.sleep(min(seconds, 0.02))

    monkeypatch.setattr(_clock, "pause", pause)
    return asked


@pytest.fixture
def skill_md(tmp_path: Path) -> Path:
    path = tmp_path / "ws" / ".claude" / "skills" / "video-generator-ai" / "SKILL.md"
    path.parent.mkdir(parents=True)
    path.write_text(SKILL_FRONT, encoding="utf-8")
    return path


EngineFactory = Callable[..., Awaitable[Engine]]


@pytest.fixture
async def engine(
    tmp_path: Path, skill_md: Path, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[EngineFactory]:
    """`await engine(faults=FaultConfig(...), idle_s=...)` → an Engine: the local engine in-process."""
    from engine.server import FaultConfig, ServerConfig, create_app

    monkeypatch.delenv("SKILL_SOURCE", raising=False)
    counter = iter(range(1000))
    async with AsyncExitStack() as stack:

        async def make(
            faults: FaultConfig | None = None,
            *,
            idle_s: float = 30.0,
            total_s: float = 60.0,
            ping_s: float = 0.05,
            still_working_s: float = 120.0,
            initial_credits: int = 1_000_000,
        ) -> Engine:
            n = next(counter)
            app = create_app(
                ServerConfig(
                    home=tmp_path / f"home{n}",
                    faults=faults or FaultConfig(),
                    ping_interval_s=ping_s,
                    initial_credits=initial_credits,
                )
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            recorder = Recorder(app)
            config = Config.from_env(
                {},
                asgi_app=recorder,
                config_dir=tmp_path / f"config{n}",
                skill_md=skill_md,
                cwd=tmp_path / f"cwd{n}",
                timings=Timings(
                    turn=TurnLimits(idle_s=idle_s, total_s=total_s),
                    still_working_every_s=still_working_s,
                ),
            )
            (tmp_path / f"cwd{n}").mkdir()
            return Engine(config=config, recorder=recorder, progress=[], root=tmp_path)

        yield make


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny real media: three stills and a short music bed (generated, no download)."""
    from handlers._samples import make_samples

    folder = tmp_path_factory.mktemp("media")
    samples = make_samples(folder, voice_s=2.0, music_s=4.0, still_size=(320, 240))
    return {
        "still1": samples.stills[0],
        "still2": samples.stills[1],
        "still3": samples.stills[2],
        "music": samples.music,
    }


__all__ = ["Engine", "EngineFactory", "Recorder", "Seen", "file_head", "file_size", "rewrite"]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded engine with its data and the client's config under tmp_path; no cloud settings."""
    for var in (
        "NEMO_TOKEN",
        "NEMO_API_URL",
        "NEMO_BACKEND",
        "NEMO_CLIENT_ID",
        "VIDEOGEN_FAULTS",
        "SKILL_SOURCE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDEOGEN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path
