"""Server configuration and where the engine keeps its data.

``ServerConfig`` holds the fields of docs/contracts.md ("engine.server") plus a few extensions, all with
defaults so the contract's calls keep working:

- ``max_upload_bytes`` (500 MB, docs/protocol.md §5): the per-file limit, enforced while the body streams in;
  tests set it small to see code 4002 without sending half a gigabyte.
- ``max_files_per_request``, ``max_urls_per_request``: bounds on one upload request.
- ``url_fetch_timeout_s``: overall time allowed to download one URL upload.
- ``max_render_height``: ``None`` renders at the draft's canvas. A number scales the canvas of the
  rendered copy of the draft down (keeping its aspect, even sizes) so that it is at most that tall:
  the tests use 90, which renders a 1920x1080 draft at 160x90. The stored draft never changes.
- ``clock``: seconds since the epoch; injectable so tests can move time past a token's expiry.
- ``limits`` (``Limits``): what one user or one request may ask of the engine (render length, segments
  per draft, pixels per picture, upload quota, queued renders, message length, JSON body size).
  Defaults come from ``VIDEOGEN_LIMITS`` (a JSON object of ``Limits`` fields) when it is set.
- ``allowed_hosts``: Host names accepted besides the loopback names and the address ``serve`` listens
  on (DNS-rebinding guard; see ``engine.server._net``).
- ``trusted_proxies``: addresses whose ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed
  (empty: none, so the per-address token limit counts the real peer).
- ``read_timeout_s``: how long a connection may take to send its request headers, and how long the
  engine waits for each piece of a request body; ``keep_alive_s``: how long an idle connection stays
  open between requests.

``faults`` defaults to ``FaultConfig.from_env()``: no faults unless ``VIDEOGEN_FAULTS`` is set, so the
same variable switches them on for ``python -m engine.server``, ``videogen serve`` and the embedded
engine alike. Pass ``faults=FaultConfig()`` to ignore the environment.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.server.faults import FaultConfig

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "LIMITS_ENV", "Limits", "ServerConfig", "default_home"]

DEFAULT_MAX_UPLOAD_BYTES = 500 * 1024 * 1024
LIMITS_ENV = "VIDEOGEN_LIMITS"
_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request or one user may ask of the engine. The README's "Limits" table lists them.

    Every limit is enforced before the work starts and refused with a message that names the limit
    and what to do (code 4000, or 4002 for sizes).
    """

    max_render_seconds: float = 1800.0
    """Longest video a render may produce (the draft's end), in seconds."""
    max_segments: int = 2000
    """Segments in one draft (all tracks together), for a render or a storyboard."""
    max_image_pixels: int = 40_000_000
    """Pixels (width x height) of one uploaded picture or video frame."""
    upload_quota_bytes: int = 2048 * _MB
    """Bytes of uploads one user may keep (all sessions together)."""
    max_queued_renders: int = 10
    """Renders of one user that may be pending or running at once (a user exporting several projects
    at once, as bench/load_test.py does with 4 sessions x 2 renders per client, stays under it)."""
    max_message_chars: int = 20_000
    """Characters of one message to ``/run_sse``."""
    max_json_bytes: int = 4 * _MB
    """Bytes of one JSON request body, whatever its transfer encoding (a maximal draft is well under
    1 MB; parsing holds the interpreter, so a smaller cap keeps every request's worst case short)."""

    def __post_init__(self) -> None:
        bad = [
            f"{f.name} must be > 0, got {getattr(self, f.name)!r}"
            for f in fields(self)
            if isinstance(getattr(self, f.name), bool)
            or not isinstance(getattr(self, f.name), int | float)
            or getattr(self, f.name) <= 0
        ]
        if bad:
            raise ValueError("invalid Limits: " + "; ".join(bad))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Limits:
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown limit(s) {', '.join(unknown)}; known: {', '.join(known)}")
        return cls(**dict(values))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """``$VIDEOGEN_LIMITS`` (a JSON object of fields), else the defaults."""
        raw = (os.environ if env is None else env).get(LIMITS_ENV, "").strip()
        if not raw:
            return cls()
        try:
            values = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{LIMITS_ENV} is not valid JSON ({exc})") from exc
        if not isinstance(values, dict):
            raise ValueError(f'{LIMITS_ENV} must be a JSON object such as {{"max_segments": 500}}')
        return cls.from_mapping(values)


def default_home() -> Path:
    """``$VIDEOGEN_HOME``, else ``$XDG_DATA_HOME/video-generator-ai``, else the user data dir.

    The user data dir is ``~/.local/share/video-generator-ai``.
    """
    explicit = os.environ.get("VIDEOGEN_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "video-generator-ai"


@dataclass(frozen=True)
class ServerConfig:
    """Everything that makes one engine server different from another."""

    home: Path
    faults: FaultConfig = field(default_factory=FaultConfig.from_env)
    initial_credits: int = 1_000_000
    allow_private_urls: bool = False
    max_concurrent_renders: int = 1
    ping_interval_s: float = 15.0
    token_ttl_s: int = 7 * 86400
    tokens_per_ip: int = 10
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_files_per_request: int = 20
    max_urls_per_request: int = 10
    url_fetch_timeout_s: float = 60.0
    max_render_height: int | None = None
    clock: Callable[[], float] = time.time
    limits: Limits = field(default_factory=Limits.from_env)
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    read_timeout_s: float = 30.0
    keep_alive_s: float = 5.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.initial_credits < 0:
            problems.append(f"initial_credits must be >= 0, got {self.initial_credits}")
        if self.max_concurrent_renders < 1:
            problems.append(f"max_concurrent_renders must be >= 1, got {self.max_concurrent_renders}")
        if self.ping_interval_s <= 0:
            problems.append(f"ping_interval_s must be > 0, got {self.ping_interval_s}")
        if self.token_ttl_s <= 0:
            problems.append(f"token_ttl_s must be > 0, got {self.token_ttl_s}")
        if self.tokens_per_ip < 1:
            problems.append(f"tokens_per_ip must be >= 1, got {self.tokens_per_ip}")
        if self.max_upload_bytes < 1:
            problems.append(f"max_upload_bytes must be >= 1, got {self.max_upload_bytes}")
        if self.max_files_per_request < 1 or self.max_urls_per_request < 1:
            problems.append("max_files_per_request and max_urls_per_request must be >= 1")
        if self.url_fetch_timeout_s <= 0:
            problems.append(f"url_fetch_timeout_s must be > 0, got {self.url_fetch_timeout_s}")
        if self.max_render_height is not None and self.max_render_height < 16:
            problems.append(f"max_render_height must be >= 16 or None, got {self.max_render_height}")
        if self.read_timeout_s <= 0 or self.keep_alive_s <= 0:
            problems.append("read_timeout_s and keep_alive_s must be > 0")
        if problems:
            raise ValueError("invalid ServerConfig: " + "; ".join(problems))
