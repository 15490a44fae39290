"""What every front-end shares (the CLI, `chat`, `make`, the MCP server) and the one failed-result shape.

The front-ends sit on top of `_dispatch` and import from here, never from each other, so `cli.py` is
only the dispatcher: it imports `chat`, `make`, `doctor` and `mcp_server`, and none of them imports
it back (tests/handlers/test_import_cycles.py keeps it so).

- `failure_result()`: the ONE way a failed result is built (by `_dispatch`, the tools, and every
  front-end's own failures: usage errors, interruptions, a broken configuration);
- the documented exit codes and `exit_code(result)`;
- `backend_config()`: the environment's Config with the embedded engine kept running for many calls;
- `StderrProgress`: progress events as short lines on stderr; `print_json()`: the one stdout object.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TextIO

from handlers._config import Config
from handlers._embedded import embedded_app
from handlers._errors import VideogenError
from handlers._progress import ProgressEvent

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "InterruptedByUser",
    "StderrProgress",
    "backend_config",
    "backend_label",
    "exit_code",
    "failure_result",
    "print_json",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

_USAGE_CODES = frozenset({"invalid_input", "unknown_tool"})
_UNREACHABLE_CODES = frozenset({"network_error", "timeout", "disconnected"})


class InterruptedByUser(VideogenError):
    """Ctrl-C during a command: reported as a result like any other failure."""

    code = "interrupted"
    default_recovery = "Run the command again when ready."


def backend_label() -> str:
    """What results say in `backend` when no tool ran: the environment's backend, or "unknown"."""
    try:
        return Config.from_env().label
    except VideogenError:
        return "unknown"


def failure_result(error: VideogenError, backend: str | None = None, **fields: Any) -> dict[str, Any]:
    """A failed result: `ok: false`, the backend (default: the environment's), one line of text saying
    what happened and what to do, `error{code, message, recovery, ...}`, and any extra `fields` (a
    front-end's own, e.g. make's `step`)."""
    return {
        **fields,
        "ok": False,
        "backend": backend_label() if backend is None else backend,
        "text": f"{_sentence(error.message)} {error.recovery}",
        "error": error.to_error(),
    }


def _sentence(text: str) -> str:
    """``text`` ended as a sentence: a question or an exclamation keeps its mark, else one full stop."""
    text = text.rstrip(" .")
    return text if text.endswith(("?", "!")) else text + "."


def exit_code(result: dict[str, Any]) -> int:
    """The documented exit code for a result: 0 ok, 2 usage, 3 unreachable, 130 interrupted, else 1."""
    if result.get("ok"):
        return EXIT_OK
    code = str((result.get("error") or {}).get("code", ""))
    if code in _USAGE_CODES:
        return EXIT_USAGE
    if code in _UNREACHABLE_CODES:
        return EXIT_UNREACHABLE
    if code == InterruptedByUser.code:
        return EXIT_INTERRUPTED
    return EXIT_FAILED


@asynccontextmanager
async def backend_config() -> AsyncIterator[Config]:
    """The environment's Config, with the embedded engine started once for several tool calls
    (chat, make, the MCP server) instead of once per call."""
    config = Config.from_env()
    if config.backend != "embedded" or config.asgi_app is not None:
        yield config
        return
    async with embedded_app(config.engine_home) as app:
        yield dataclasses.replace(config, asgi_app=app)


def print_json(obj: Any) -> None:
    """The one JSON object a command prints on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


class StderrProgress:
    """Prints ProgressEvents as short lines on a stream: every stage and note, render progress in
    10 % steps, heartbeats at most every `heartbeat_every_s` seconds (so a long turn stays visible)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        heartbeat_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._heartbeat_every_s = heartbeat_every_s
        self._clock = clock
        self._last_heartbeat: float | None = None
        self._last_step = -1

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "heartbeat":
            now = self._clock()
            if self._last_heartbeat is not None and now - self._last_heartbeat < self._heartbeat_every_s:
                return
            self._last_heartbeat = now
            self._write(f"… {event.message}")
        elif event.kind == "render" and event.percent is not None:
            step = int(event.percent // 10)
            if step == self._last_step:
                return
            self._last_step = step
            shown = event.message if "%" in event.message else f"{event.message} {event.percent:.0f}%"
            self._write(shown)
        elif event.kind == "still_working":
            self._write(f"⏳ {event.message}")
        else:
            self._write(event.message)

    def _write(self, line: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(f"videogen: {line}\n")
        stream.flush()
