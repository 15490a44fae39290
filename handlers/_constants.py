"""Every number and default the client uses, in one place (timeouts are granular: connect/read/write/pool)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APP_NAME",
    "DEFAULT_API_URL",
    "DEFAULT_SERVE_PORT",
    "DEFAULT_WEB_URL",
    "DISCONNECT_GRACE_S",
    "DISCONNECT_POLL",
    "DOWNLOAD_CHUNK",
    "EMBEDDED_BASE_URL",
    "EXPORT_FORMATS",
    "HEARTBEAT_EVERY_S",
    "HTTP_TIMEOUTS",
    "RATE_LIMIT_WAIT_S",
    "RENDER_POLL_CLOUD",
    "RENDER_POLL_LOCAL",
    "STILL_WORKING_EVERY_S",
    "SUPPORTED_EXTENSIONS",
    "TURN_LIMITS",
    "UPLOAD_LIMIT_BYTES",
    "UPLOAD_LIMIT_MB",
    "HttpTimeouts",
    "PollPolicy",
    "TurnLimits",
]

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_WEB_URL = "https://nemovideo.com"
EMBEDDED_BASE_URL = "http://local.engine"
DEFAULT_SERVE_PORT = 8765  # `videogen serve` (contracts: 127.0.0.1:8765)
APP_NAME = "nemo_agent"

# docs/protocol.md §5: what the client checks before sending a file.
SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    "mp4", "mov", "avi", "webm", "mkv",
    "jpg", "jpeg", "png", "gif", "webp",
    "mp3", "wav", "m4a", "aac",
)  # fmt: skip
UPLOAD_LIMIT_MB = 500
UPLOAD_LIMIT_BYTES = UPLOAD_LIMIT_MB * 1024 * 1024
EXPORT_FORMATS: tuple[str, ...] = ("mp4", "mov", "avi", "webm", "mkv")


@dataclass(frozen=True)
class HttpTimeouts:
    """Per-phase HTTP timeouts in seconds. `read` bounds one read; SSE turns have their own limits."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 120.0
    pool: float = 10.0
    # An SSE read waits for the next chunk. The cloud's keep-alive cadence is not documented, so the socket
    # may stay quiet for long stretches of a generation: the read limit sits above the 10-minute idle rule
    # (TurnLimits.idle_s), which is what decides a timeout; this only catches a connection that is gone.
    sse_read: float = 630.0
    # Uploads: the backend answers after storing and probing the media (or fetching a URL).
    upload_read: float = 600.0


HTTP_TIMEOUTS = HttpTimeouts()


@dataclass(frozen=True)
class TurnLimits:
    """docs/protocol.md §4: 10 minutes of keep-alives only means a timeout; 15 minutes overall at most."""

    idle_s: float = 600.0
    total_s: float = 900.0


TURN_LIMITS = TurnLimits()


@dataclass(frozen=True)
class PollPolicy:
    """How to poll: the first wait, the interval after it, and when to give up."""

    first_wait_s: float
    interval_s: float
    max_polls: int


# Render status: every 30 s against the cloud, at most 10 polls; every second against the engine.
RENDER_POLL_CLOUD = PollPolicy(first_wait_s=30.0, interval_s=30.0, max_polls=10)
RENDER_POLL_LOCAL = PollPolicy(first_wait_s=1.0, interval_s=1.0, max_polls=900)
# Disconnect recovery: wait >= 3 s, poll at 30 s then every 60 s, give up after 5 unchanged polls.
DISCONNECT_POLL = PollPolicy(first_wait_s=30.0, interval_s=60.0, max_polls=5)
DISCONNECT_GRACE_S = 3.0
RATE_LIMIT_WAIT_S = 30.0
STILL_WORKING_EVERY_S = 120.0
HEARTBEAT_EVERY_S = 15.0
DOWNLOAD_CHUNK = 256 * 1024
