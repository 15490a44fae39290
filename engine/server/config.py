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

``faults`` defaults to ``FaultConfig.from_env()``: no faults unless ``VIDEOGEN_FAULTS`` is set, so the
same variable switches them on for ``python -m engine.server``, ``videogen serve`` and the embedded
engine alike. Pass ``faults=FaultConfig()`` to ignore the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.server.faults import FaultConfig

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "ServerConfig", "default_home"]

DEFAULT_MAX_UPLOAD_BYTES = 500 * 1024 * 1024


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
        if problems:
            raise ValueError("invalid ServerConfig: " + "; ".join(problems))
