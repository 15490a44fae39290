"""The public value types of the conversation (docs/contracts.md, "engine.agent")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Draft = dict[str, Any]


@dataclass(frozen=True)
class MediaRef:
    """One upload of the session, as the agent needs to know it."""

    id: str
    filename: str
    kind: Literal["image", "video", "audio"]
    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool = False
    speech_like: bool | None = None


@dataclass(frozen=True)
class History:
    """The drafts around the current revision: what undo, redo and "the first version" go to."""

    undo: Draft | None = None
    redo: Draft | None = None
    first: Draft | None = None
    # the drafts 1, 2, ... steps back (undo) or forward (redo), for "undo the last 3 changes"
    undo_chain: tuple[Draft | None, ...] = ()
    redo_chain: tuple[Draft | None, ...] = ()


@dataclass(frozen=True)
class ToolStep:
    """One tool call of a turn (an ADK functionCall/functionResponse pair)."""

    name: str
    args: dict[str, Any]
    summary: str


@dataclass(frozen=True)
class Stage:
    """A stage of a turn: "raw_cut" | "music_and_title" | "edit" | "revision"."""

    name: str
    steps: tuple[ToolStep, ...]
    draft: Draft
    text: str


TurnKind = Literal["generate", "edit", "question", "answer", "revision", "noop"]


@dataclass(frozen=True)
class Turn:
    """What the agent does with one message: the stages (empty when nothing changes) and the reply."""

    kind: TurnKind
    stages: tuple[Stage, ...]
    reply: str
    revision: Literal["undo", "redo", "first"] | None = None
    cost: int = 0
    steps: int = 1  # how many revisions an undo/redo moves
