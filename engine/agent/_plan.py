"""What the parser decides: a plan of operations, or a question, an answer, a revision, a generation.

Operations name their targets symbolically (``MainRef(index=1)``, ``TextRef(contains="Sale")``):
the applier resolves them against the draft as it is when the operation runs, so "move the first
clip to the end and remove the first clip" means what it says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Answer",
    "GenSpec",
    "Generate",
    "Info",
    "MainRef",
    "Noop",
    "Op",
    "Outcome",
    "Plan",
    "Question",
    "Revision",
    "TextRef",
]


@dataclass(frozen=True)
class MainRef:
    """A main-track segment (or several): by index (negative from the end), upload name, or group."""

    index: int | None = None
    file: str | None = None
    every: Literal["all", "image", "video"] | None = None
    at_ms: int | None = None

    def describe(self) -> str:
        if self.every is not None:
            return {"all": "every clip", "image": "the images", "video": "the video clips"}[self.every]
        if self.file is not None:
            return self.file
        if self.at_ms is not None:
            return f"the clip at {self.at_ms / 1000:g}s"
        if self.index == -1:
            return "the last clip"
        if self.index is not None and self.index < 0:
            return f"clip {-self.index} from the end"
        return f"clip {(self.index or 0) + 1}"


@dataclass(frozen=True)
class TextRef:
    """A text segment (or several): by words it contains, role, index, time, or all of them."""

    contains: str | None = None
    role: Literal["title", "caption"] | None = None
    index: int | None = None
    at_ms: int | None = None
    every: bool = False

    def describe(self) -> str:
        if self.every:
            return f"all the {self.role}s" if self.role else "all the text"
        if self.contains is not None:
            return f'the text "{self.contains}"'
        if self.at_ms is not None:
            return f"the text at {self.at_ms / 1000:g}s"
        if self.index is not None:
            return f"text {self.index + 1}"
        return f"the {self.role or 'text'}"


@dataclass(frozen=True)
class Op:
    """One operation; ``name`` is the tool step's name, ``phrase`` the words it came from."""

    name: str
    args: dict[str, Any]
    phrase: str = ""


@dataclass(frozen=True)
class Plan:
    ops: tuple[Op, ...]
    notes: tuple[str, ...] = ()  # said with the result ("to export, use the export tool")


@dataclass(frozen=True)
class Question:
    text: str


@dataclass(frozen=True)
class Answer:
    text: str


@dataclass(frozen=True)
class Noop:
    text: str


@dataclass(frozen=True)
class Info:
    """A question about the video ("how long is it?"): answered with the track summary."""

    text: str


@dataclass(frozen=True)
class Revision:
    which: Literal["undo", "redo", "first"]
    steps: int = 1


@dataclass(frozen=True)
class GenSpec:
    """What a generation request asked for."""

    kind: Literal["promo", "tutorial", "reel", "slideshow", "video"] = "video"
    duration_ms: int | None = None
    preset: str | None = None
    title: str | None = None
    overlays: tuple[str, ...] = ()
    derive_overlays: bool = False
    mood: Literal["energetic", "calm", "neutral"] = "neutral"
    music_words: frozenset[str] = field(default_factory=frozenset)
    music_file: str | None = None
    want_music: bool | None = None  # None: use music when there is some
    want_voiceover: bool | None = None
    topic: str | None = None  # "about X" / "for X": the subject, for text cards without uploads
    visuals: tuple[str, ...] = ()  # the upload ids to use ("only the lifestyle photos"); empty: all
    per_item_ms: int | None = None  # "3 seconds each"
    music_vol: float | None = None  # "calm music at 20%"


@dataclass(frozen=True)
class Generate:
    spec: GenSpec


Outcome = Plan | Question | Answer | Noop | Revision | Generate | Info
