"""Public value types and errors of the renderer.

Exception tree::

    RenderError            ffmpeg failed, the output did not check out, or the draft cannot be rendered
     └── MediaError        an input file is missing, empty, truncated or not what its segment says
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Draft = dict[str, Any]
Format = Literal["mp4", "mov", "avi", "webm", "mkv"]
Quality = Literal["low", "medium", "high"]
MediaKind = Literal["image", "video", "audio"]

FORMATS: tuple[Format, ...] = ("mp4", "mov", "avi", "webm", "mkv")
QUALITIES: tuple[Quality, ...] = ("low", "medium", "high")


@dataclass(frozen=True)
class OutputSettings:
    """What to write: container, quality, and the preview shortcut (<= 540p, 15 fps, fastest preset)."""

    format: Format = "mp4"
    quality: Quality = "high"
    preview: bool = False
    preset: str | None = None  # x264 preset override (benchmarks)


@dataclass(frozen=True)
class RenderProgress:
    percent: float
    eta_s: float | None


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration_s: float
    size: int
    width: int
    height: int
    format: str
    chunks: int = 1  # the video's chunks (1: rendered in one pass)
    chunks_encoded: int = 1  # of which encoded by this render (the others came from the cache)
    sound_encoded: bool = True  # False: the sound track came from the cache


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    duration_ms: int | None
    width: int | None
    height: int | None
    fps: float | None
    has_audio: bool
    has_video: bool
    codec: str | None
    speech_like: bool | None  # audio: voice-like by content (None: unknown or not audio)


class RenderError(Exception):
    """A render that did not produce a finished file. ``hint`` says what to do about it."""

    def __init__(
        self,
        message: str,
        *,
        segment_id: str | None = None,
        file: str | None = None,
        stderr_tail: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segment_id = segment_id
        self.file = file
        self.stderr_tail = stderr_tail
        self.hint = hint

    def __str__(self) -> str:
        parts = [self.message]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return " | ".join(parts)


class MediaError(RenderError):
    """Bad input media (missing, empty, truncated, or not the kind its segment needs)."""
