"""Configuration from the environment, resolved once per tool call (README, "The NemoVideo cloud").

- `NEMO_BACKEND=local` → the embedded engine in-process; `NEMO_BACKEND=cloud` → `NEMO_API_URL` or the
  cloud's default URL.
- no `NEMO_BACKEND`: a URL in `NEMO_API_URL` decides; a `NEMO_TOKEN` alone means the cloud; none of the
  three → the embedded engine.

The timings are fields so tests can shrink them (seconds instead of minutes) without sleeping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from handlers._attribution import default_skill_md
from handlers._constants import (
    DEFAULT_API_URL,
    DEFAULT_SERVE_PORT,
    DEFAULT_WEB_URL,
    DISCONNECT_GRACE_S,
    DISCONNECT_POLL,
    EMBEDDED_BASE_URL,
    HTTP_TIMEOUTS,
    RATE_LIMIT_WAIT_S,
    RENDER_POLL_CLOUD,
    RENDER_POLL_LOCAL,
    STILL_WORKING_EVERY_S,
    TURN_LIMITS,
    HttpTimeouts,
    PollPolicy,
    TurnLimits,
)
from handlers._errors import ConfigError

__all__ = ["BackendKind", "Config", "Timings", "config_dir"]

BackendKind = Literal["embedded", "http"]


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/nemovideo`, default `~/.config/nemovideo` (where the client id lives)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nemovideo"


@dataclass(frozen=True)
class Timings:
    turn: TurnLimits = TURN_LIMITS
    http: HttpTimeouts = HTTP_TIMEOUTS
    render_poll: PollPolicy | None = None  # None: by backend (cloud 30 s x 10, engine 1 s)
    disconnect_poll: PollPolicy = DISCONNECT_POLL
    disconnect_grace_s: float = DISCONNECT_GRACE_S
    rate_limit_wait_s: float = RATE_LIMIT_WAIT_S
    still_working_every_s: float = STILL_WORKING_EVERY_S


@dataclass(frozen=True)
class Config:
    backend: BackendKind
    label: str  # what results say in "backend": local | cloud | <url>
    api_url: str
    web_url: str
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None  # from NEMO_CLIENT_ID; else the persisted file
    config_dir: Path = field(default_factory=config_dir)
    skill_md: Path = field(default_factory=default_skill_md)
    engine_home: Path | None = None  # embedded engine data ($VIDEOGEN_HOME); None: the engine's default
    timings: Timings = field(default_factory=Timings)
    # Tests (and `videogen chat`) may hand in a running ASGI app instead of building the embedded engine.
    asgi_app: Any = field(default=None, repr=False, compare=False)
    cwd: Path | None = None  # where ./videogen-output/ goes; None: the process's working directory

    @property
    def is_engine(self) -> bool:
        """The local engine answers (embedded or on a loopback URL): poll renders every second."""
        if self.backend == "embedded":
            return True
        host = urlsplit(self.api_url).hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"}

    @property
    def render_poll(self) -> PollPolicy:
        if self.timings.render_poll is not None:
            return self.timings.render_poll
        return RENDER_POLL_LOCAL if self.is_engine else RENDER_POLL_CLOUD

    def with_timings(self, **changes: Any) -> Config:
        return replace(self, timings=replace(self.timings, **changes))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        env = os.environ if env is None else env
        backend_var = env.get("NEMO_BACKEND", "").strip().lower()
        url_var = env.get("NEMO_API_URL", "").strip().rstrip("/")
        token = env.get("NEMO_TOKEN", "").strip() or None
        web = env.get("NEMO_WEB_URL", "").strip().rstrip("/")
        if backend_var not in {"", "local", "cloud"}:
            raise ConfigError(
                f"NEMO_BACKEND={backend_var!r} is not understood",
                recovery="Set NEMO_BACKEND to local or cloud.",
            )
        if url_var and urlsplit(url_var).scheme not in {"http", "https"}:
            raise ConfigError(
                f"NEMO_API_URL={url_var!r} is not an http(s) URL",
                recovery="Set NEMO_API_URL to a URL such as https://mega-api-prod.nemovideo.ai or unset it.",
            )
        if backend_var == "local" or (not backend_var and not url_var and not token):
            kind: BackendKind = "embedded"
            api_url, label = EMBEDDED_BASE_URL, "local"
        else:
            kind = "http"
            api_url = url_var or DEFAULT_API_URL
            label = (
                "cloud" if api_url == DEFAULT_API_URL or (backend_var == "cloud" and not url_var) else api_url
            )
        if not web:
            # The engine serves its own /workspace/claim pages: a served engine's at its own URL; the
            # embedded engine's links go to the home's background workspace server (handlers._workspace,
            # ToolContext.web_base), this address only when that is switched off and none runs.
            loopback = (urlsplit(api_url).hostname or "") in {"127.0.0.1", "localhost", "::1"}
            web = (
                f"http://127.0.0.1:{DEFAULT_SERVE_PORT}"
                if kind == "embedded"
                else api_url
                if loopback
                else DEFAULT_WEB_URL
            )
        home = env.get("VIDEOGEN_HOME", "").strip()
        values: dict[str, Any] = {
            "backend": kind,
            "label": label,
            "api_url": api_url,
            "web_url": web,
            "token": token,
            "client_id": env.get("NEMO_CLIENT_ID", "").strip() or None,
            "config_dir": config_dir(env),
            "engine_home": Path(home) if home else None,
        }
        values.update(overrides)
        return cls(**values)
