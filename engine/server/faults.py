"""Fault emulation: the NemoVideo cloud at its worst, on demand (off by default).

A server gets its faults from ``ServerConfig.faults``, whose default reads the environment:
``VIDEOGEN_FAULTS='{"silent_rate": 1.0, "errors": {"upload": 4002}}'`` (a JSON object whose keys are
``FaultConfig``'s fields). Every fault is deterministic: rates draw from
``random.Random(seed)``, one draw per turn in the order the server starts turns, and counters count
per server process. Each fault, exactly:

``silent_rate`` (0..1)
    Share of turns whose *text* events are left out (tool call / tool response events, and the draft
    in ``actions.stateDelta``, are still sent; the work is done and stored). With 1.0 every turn is
    silent, with 0.0 none; in between, turn k is silent when the k-th draw of ``Random(seed)`` is
    below the rate.

``gui_speak``
    Every text event of a turn gets one GUI-speak sentence appended, in turn (event 0, 1, 2, ...
    of the whole server): "Click the Export button to download your video.", "打开 the timeline panel
    to preview the result.", "Drag the clip on the timeline to adjust its timing."

``keepalive_only_s``
    Before a turn's first event the stream carries only keep-alives for this many seconds: one frame
    at once, then one every ``ServerConfig.ping_interval_s``, cycling through ``: ping``, an empty
    ``data:``, ``event: heartbeat`` (with an empty ``data:``) and ``data: {"type":"heartbeat"}``.
    The turn counts as running (HTTP 409 for another message) and is stored only after the stretch.

``drop_stream_after`` (N)
    The stream is cut after N data events (keep-alives not counted): the connection closes without
    the chunked body's terminator, so the client sees a read error, not the end of the turn. The
    turn's work still completes and is stored (``/latest`` shows it). A turn with N or fewer events
    ends normally. (uvicorn logs "ASGI callable returned without completing response." for it.)

``trailing_temporary_issue``
    After a turn's normal events, one more model text event: ``TEMPORARY_ISSUE_TEXT``.

``errors`` (endpoint -> code) and ``error_times``
    The first ``error_times`` requests to that endpoint (each endpoint counts separately) fail with
    that code before anything else happens (no auth check, the body is not read, nothing changes).
    Endpoints: ``ENDPOINTS``. Codes and what the client receives:
    1001 -> HTTP 401, 1002 -> HTTP 404, 2001 -> HTTP 403, 4001 -> HTTP 415, 4002 -> HTTP 413, each with
    the envelope ``{"code": <code>, "message": ..., "data": null}``; 400, 402, 429 -> that HTTP status
    with ``{"detail": ...}`` (429 also sends ``Retry-After: 30``); 404 -> ``{"detail": "Not Found"}``,
    what the cloud answers for a route it does not have (the ``edit`` extension). The messages are the
    same as those of the real errors. Injected errors carry the response header
    ``X-Videogen-Fault: <endpoint>``.
    ``download`` covers both ``output.url`` and ``GET /api/render/proxy/<id>/download``.

``render_fail_once``
    The first render job the server runs fails (pending -> processing -> failed, progress 0,
    ``error`` says the render worker stopped and to submit again with a new id) without running
    ffmpeg; later jobs render normally.

``render_status_shape`` ("A" | "B")
    "B": the render endpoints (POST and poll) answer ``{"success": true, "data": {"id", "status",
    "progress", "outputUrl"}}`` instead of shape A.

``streaming_partials``
    Every text event is also sent as up to three ``"partial": true`` chunks (split at word
    boundaries), followed by the final event with the whole text; chunks and final share one ``id``.

``stream_error`` ("off" | "json" | "unescaped"), with ``error_times``
    The first ``error_times`` turns fail inside the stream: HTTP 200, then one frame
    ``data: {"error": ..., "error_details": {...}}`` and a clean close. Nothing is stored and no
    credits are spent. "unescaped" writes that frame the way older servers did, without JSON escaping
    (the message holds double quotes and a tab, so the frame is not valid JSON).

``seed``
    Seeds the random draws above.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal

__all__ = [
    "ENDPOINTS",
    "ERROR_CODES",
    "GUI_PHRASES",
    "KEEPALIVE_FRAMES",
    "TEMPORARY_ISSUE_TEXT",
    "FaultConfig",
    "FaultState",
    "error_frame",
    "split_partials",
    "with_gui_speak",
]

ENDPOINTS: Final = (
    "anonymous_token",
    "create_session",
    "claim_token",
    "run_sse",
    "upload",
    "state",
    "credits",
    "render",
    "render_status",
    "download",
    "storyboard",
    "edit",
)
ERROR_CODES: Final = (1001, 1002, 2001, 4001, 4002, 400, 402, 404, 429)

GUI_PHRASES: Final = (
    "Click the Export button to download your video.",
    "打开 the timeline panel to preview the result.",
    "Drag the clip on the timeline to adjust its timing.",
)
KEEPALIVE_FRAMES: Final = (
    b": ping\n\n",
    b"data: \n\n",
    b"event: heartbeat\ndata: \n\n",
    b'data: {"type":"heartbeat"}\n\n',
)
TEMPORARY_ISSUE_TEXT: Final = (
    "I encountered a temporary issue while processing your request. Please try again."
)
STREAM_ERROR_MESSAGE: Final = (
    'The agent failed: unexpected "tool_result" in\tresponse; the request was not applied'
)


@dataclass(frozen=True)
class FaultConfig:
    """Which faults a server emulates; the default emulates none. See the module docstring."""

    silent_rate: float = 0.0
    gui_speak: bool = False
    keepalive_only_s: float = 0.0
    drop_stream_after: int | None = None
    trailing_temporary_issue: bool = False
    errors: Mapping[str, int] = field(default_factory=dict)
    error_times: int = 1
    render_fail_once: bool = False
    render_status_shape: Literal["A", "B"] = "A"
    streaming_partials: bool = False
    stream_error: Literal["off", "json", "unescaped"] = "off"
    seed: int = 0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0.0 <= self.silent_rate <= 1.0:
            problems.append(f"silent_rate must be within 0..1, got {self.silent_rate}")
        if self.keepalive_only_s < 0:
            problems.append(f"keepalive_only_s must be >= 0, got {self.keepalive_only_s}")
        if self.drop_stream_after is not None and self.drop_stream_after < 0:
            problems.append(f"drop_stream_after must be >= 0 or null, got {self.drop_stream_after}")
        if self.error_times < 0:
            problems.append(f"error_times must be >= 0, got {self.error_times}")
        for endpoint, code in self.errors.items():
            if endpoint not in ENDPOINTS:
                problems.append(
                    f"errors: unknown endpoint {endpoint!r}; endpoints are {', '.join(ENDPOINTS)}"
                )
            if code not in ERROR_CODES:
                codes = ", ".join(str(c) for c in ERROR_CODES)
                problems.append(f"errors[{endpoint!r}]: unknown code {code!r}; codes are {codes}")
        if self.render_status_shape not in ("A", "B"):
            problems.append(f"render_status_shape must be 'A' or 'B', got {self.render_status_shape!r}")
        if self.stream_error not in ("off", "json", "unescaped"):
            problems.append(f"stream_error must be 'off', 'json' or 'unescaped', got {self.stream_error!r}")
        if problems:
            raise ValueError("invalid fault configuration: " + "; ".join(problems))

    @property
    def active(self) -> bool:
        """Whether any fault is switched on."""
        return self != FaultConfig(seed=self.seed)

    @classmethod
    def from_mapping(cls, obj: Mapping[str, Any]) -> FaultConfig:
        """Build from a JSON-like mapping; unknown keys and wrong types are refused, by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise ValueError(
                f"unknown fault setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        kwargs: dict[str, Any] = dict(obj)
        if "errors" in kwargs:
            errors = kwargs["errors"]
            if not isinstance(errors, Mapping) or not all(
                isinstance(k, str) and isinstance(v, int) for k, v in errors.items()
            ):
                raise ValueError('"errors" must be an object of endpoint -> integer code')
            kwargs["errors"] = dict(errors)
        for name in ("silent_rate", "keepalive_only_s"):
            if name in kwargs and not isinstance(kwargs[name], int | float):
                raise ValueError(f"{name!r} must be a number, got {kwargs[name]!r}")
        for name in ("gui_speak", "trailing_temporary_issue", "render_fail_once", "streaming_partials"):
            if name in kwargs and not isinstance(kwargs[name], bool):
                raise ValueError(f"{name!r} must be true or false, got {kwargs[name]!r}")
        for name in ("error_times", "seed"):
            if name in kwargs and not isinstance(kwargs[name], int):
                raise ValueError(f"{name!r} must be an integer, got {kwargs[name]!r}")
        return cls(**kwargs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultConfig:
        """``VIDEOGEN_FAULTS`` (a JSON object), or no faults when it is unset or empty."""
        env = os.environ if environ is None else environ
        raw = env.get("VIDEOGEN_FAULTS", "").strip()
        if not raw:
            return cls()
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"VIDEOGEN_FAULTS is not valid JSON ({exc.msg}); example: '{{\"silent_rate\": 1.0}}'"
            ) from exc
        if not isinstance(obj, dict):
            raise ValueError("VIDEOGEN_FAULTS must be a JSON object, e.g. '{\"silent_rate\": 1.0}'")
        return cls.from_mapping(obj)


class FaultState:
    """The running counters and random draws of one server's faults (used from its event loop only)."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._errors_fired: dict[str, int] = {}
        self._stream_errors_fired = 0
        self._render_failed = False
        self._gui_counter = 0

    def take_error(self, endpoint: str) -> int | None:
        """The code to fail this request to ``endpoint`` with, or None."""
        code = self.config.errors.get(endpoint)
        if code is None:
            return None
        fired = self._errors_fired.get(endpoint, 0)
        if fired >= self.config.error_times:
            return None
        self._errors_fired[endpoint] = fired + 1
        return code

    def silent_turn(self) -> bool:
        """Whether the next turn is silent (one draw per turn, whatever the rate)."""
        return self._rng.random() < self.config.silent_rate

    def take_stream_error(self) -> Literal["json", "unescaped"] | None:
        """The stream-error style for the next turn, or None."""
        style = self.config.stream_error
        if style == "off" or self._stream_errors_fired >= self.config.error_times:
            return None
        self._stream_errors_fired += 1
        return style

    def take_render_failure(self) -> bool:
        """True once (for the first render job) when ``render_fail_once`` is on."""
        if not self.config.render_fail_once or self._render_failed:
            return False
        self._render_failed = True
        return True

    def gui_speak(self, text: str) -> str:
        """``text`` with the next GUI-speak sentence appended, when ``gui_speak`` is on."""
        if not self.config.gui_speak:
            return text
        phrase = GUI_PHRASES[self._gui_counter % len(GUI_PHRASES)]
        self._gui_counter += 1
        return with_gui_speak(text, phrase)


def with_gui_speak(text: str, phrase: str) -> str:
    """Append ``phrase`` to ``text`` as a new sentence."""
    return f"{text.rstrip()} {phrase}" if text.strip() else phrase


def split_partials(text: str, parts: int = 3) -> list[str]:
    """``text`` cut at word boundaries into at most ``parts`` non-empty chunks that join back to it."""
    words = text.split(" ")
    if len(words) < 2 or parts < 2:
        return [text]
    count = min(parts, len(words))
    size = -(-len(words) // count)
    chunks = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    # Re-attach the separating spaces so that "".join(chunks) == text.
    return [chunk + (" " if i < len(chunks) - 1 else "") for i, chunk in enumerate(chunks)]


def error_frame(message: str, details: Mapping[str, Any], *, escaped: bool = True) -> bytes:
    """An in-stream error frame; ``escaped=False`` writes it the old way, without JSON escaping."""
    if escaped:
        payload = json.dumps(
            {"error": message, "error_details": dict(details)}, ensure_ascii=False, separators=(",", ":")
        )
        return f"data: {payload}\n\n".encode()
    inner = ",".join(f'"{key}":"{value}"' for key, value in details.items())
    return f'data: {{"error":"{message}","error_details":{{{inner}}}}}\n\n'.encode()
