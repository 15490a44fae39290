"""Progress reporting: what a tool tells its caller while it works (the CLI prints these on stderr)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ProgressCallback", "ProgressEvent", "ProgressKind", "emit"]

ProgressKind = Literal["heartbeat", "still_working", "stage", "render", "info"]


@dataclass(frozen=True)
class ProgressEvent:
    """heartbeat: the backend is alive; still_working: every 2 minutes of a long turn; stage: a generation
    stage or tool step; render: export progress (percent 0-100); info: anything else worth a line."""

    kind: ProgressKind
    message: str
    percent: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]


def emit(
    callback: ProgressCallback | None, kind: ProgressKind, message: str, percent: float | None = None
) -> None:
    """Call the callback if there is one; a failing callback never breaks the tool."""
    if callback is None:
        return
    # a display problem must not abort a render or a paid turn
    with contextlib.suppress(Exception):
        callback(ProgressEvent(kind, message, percent))
