"""Typed draft operations and the one path that applies them (pure: no I/O).

Every way of editing a draft goes through here: the conversation (``engine.agent``) turns what the user
said into these operations, and the ``edit`` tool turns its JSON ops into them. Each operation is a
frozen dataclass whose targets are already resolved: segment ids of the draft, times in milliseconds on
the timeline, media as the upload id (``src``) and file name the timeline stores.

``apply_ops(draft, ops)`` applies them in order through :mod:`engine.timeline` and returns the new
draft with the changes in words (:func:`engine.summary.describe_changes`, the words the conversation
replies with). It is all-or-nothing: when one operation fails it raises :class:`OpError` naming the
operation's index and why, and the caller keeps the draft it had.

Undo and redo are not operations: they move between revisions, which the server keeps.

The draft remembers the length the user asked for (``m.target_d``, set by :class:`SetTotalDuration`).
Shortening a clip keeps that promise: the stills stretch to absorb the difference (video clips keep
their length, so no footage the user did not choose appears). Where no still can take it, the video
gets shorter and the draft forgets the target. Lengthening a clip, removing or adding one changes the
length, as asked.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from engine import summary as sm
from engine import timeline as tl

__all__ = [
    "TARGET_KEY",
    "AddClip",
    "AddText",
    "Applied",
    "AudioRole",
    "ClipSpec",
    "DuplicateClip",
    "MoveClip",
    "Op",
    "OpError",
    "OpResult",
    "RemoveAudio",
    "RemoveClip",
    "RemoveText",
    "ReorderClips",
    "SetAudio",
    "SetCanvas",
    "SetClips",
    "SetFade",
    "SetFit",
    "SetLoop",
    "SetMotion",
    "SetSpeed",
    "SetTitle",
    "SetTotalDuration",
    "SetTransition",
    "SetVolume",
    "SplitClip",
    "SwapClips",
    "TrimClip",
    "UpdateText",
    "apply_op",
    "apply_ops",
    "clip_id",
    "keep_target",
    "text_ids",
]

Draft = tl.Draft
AudioRole = Literal["bgm", "voiceover"]
TARGET_KEY: Final = "target_d"


# --------------------------------------------------------------------------------------------------
# the operations


@dataclass(frozen=True)
class AddText:
    """Words on screen from ``st`` for ``d_ms`` (cut at the video's end); ``anchor``: a clip to follow."""

    text: str
    st: int
    d_ms: int
    position: str = "center"
    role: str = "caption"  # title | caption
    anchor: str | None = None
    style: dict[str, Any] | None = None


@dataclass(frozen=True)
class UpdateText:
    """Change a text's words, start, length, end (``end_ms``: its length follows), position or style."""

    seg_id: str
    text: str | None = None
    st: int | None = None
    d_ms: int | None = None
    end_ms: int | None = None
    position: str | None = None
    style: dict[str, Any] | None = None


@dataclass(frozen=True)
class RemoveText:
    seg_id: str


@dataclass(frozen=True)
class ClipSpec:
    """One clip of :class:`SetClips` / :class:`AddClip`: the media and how long it shows."""

    src: str
    kind: str  # image | video | color (the timeline checks it)
    d_ms: int
    name: str | None = None
    source_d: int | None = None
    has_audio: bool | None = None
    motion: str | None = None
    color: str | None = None
    in_ms: int = 0


@dataclass(frozen=True)
class SetClips:
    """The main track from scratch: these clips in this order (texts and audio stay, cut to the new end)."""

    clips: tuple[ClipSpec, ...]


@dataclass(frozen=True)
class AddClip:
    """Insert a clip at ``index`` (0-based; None: the end)."""

    clip: ClipSpec
    index: int | None = None


@dataclass(frozen=True)
class TrimClip:
    """A clip's new length and/or where its source starts (``in_ms``, videos)."""

    seg_id: str
    d_ms: int | None = None
    in_ms: int | None = None


@dataclass(frozen=True)
class RemoveClip:
    seg_id: str


@dataclass(frozen=True)
class MoveClip:
    """Move a clip to position ``to`` (0-based; -1: the end)."""

    seg_id: str
    to: int


@dataclass(frozen=True)
class DuplicateClip:
    """Show a clip again: the copy goes right after it, or at position ``to`` (0-based; -1: the end)."""

    seg_id: str
    to: int | None = None


@dataclass(frozen=True)
class SplitClip:
    """Cut a clip in two at ``at_ms`` on the timeline (strictly inside the clip)."""

    seg_id: str
    at_ms: int


@dataclass(frozen=True)
class SwapClips:
    a: str
    b: str


@dataclass(frozen=True)
class ReorderClips:
    order: tuple[str, ...]


@dataclass(frozen=True)
class SetTotalDuration:
    """Fit the clips to ``total_ms``; clips in ``keep`` keep their length. The draft remembers the length."""

    total_ms: int
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetCanvas:
    preset: str
    fit: str | None = None


@dataclass(frozen=True)
class SetFit:
    """How media that does not match the canvas is fitted (the canvas stays)."""

    fit: str


@dataclass(frozen=True)
class SetAudio:
    """The music (bgm) or voiceover: set or replace; ``in_ms``: where in the audio it starts."""

    role: AudioRole
    src: str
    name: str | None = None
    source_d: int | None = None
    vol: float | None = None
    loop: bool | None = None
    in_ms: int | None = None


@dataclass(frozen=True)
class RemoveAudio:
    role: AudioRole


@dataclass(frozen=True)
class SetLoop:
    role: AudioRole
    loop: bool


@dataclass(frozen=True)
class SetVolume:
    """Volume 0..1 of a role ("bgm", "voiceover") or of a video clip (its segment id)."""

    target: str
    vol: float


@dataclass(frozen=True)
class SetFade:
    """Fade in/out (ms) of a role or a segment; longer than the segment: cut to its length."""

    target: str
    fade_in: int | None = None
    fade_out: int | None = None


@dataclass(frozen=True)
class SetTransition:
    """The transition out of clip ``seg_id`` into the next one, or between every pair (``seg_id`` None)."""

    kind: str
    d_ms: int = 500
    seg_id: str | None = None


@dataclass(frozen=True)
class SetSpeed:
    seg_id: str
    speed: float


@dataclass(frozen=True)
class SetMotion:
    seg_id: str
    motion: str


@dataclass(frozen=True)
class SetTitle:
    """The project's title; ``retitle_text``: the one title text on screen takes the new words too."""

    title: str
    retitle_text: bool = False


Op = (
    AddText
    | UpdateText
    | RemoveText
    | SetClips
    | AddClip
    | TrimClip
    | RemoveClip
    | MoveClip
    | DuplicateClip
    | SplitClip
    | SwapClips
    | ReorderClips
    | SetTotalDuration
    | SetCanvas
    | SetFit
    | SetAudio
    | RemoveAudio
    | SetLoop
    | SetVolume
    | SetFade
    | SetTransition
    | SetSpeed
    | SetMotion
    | SetTitle
)


# --------------------------------------------------------------------------------------------------
# errors and results


class OpError(tl.TimelineError):
    """Operation ``index`` (0-based in the list given) failed for ``reason``; nothing was applied."""

    def __init__(self, index: int, op: Op, reason: str) -> None:
        super().__init__(f"ops[{index}] ({op_name(op)}): {reason}")
        self.index = index
        self.op = op
        self.reason = reason


@dataclass(frozen=True)
class OpResult:
    """One operation as applied: what it changed, in words."""

    op: Op
    changes: tuple[str, ...]


@dataclass(frozen=True)
class Applied:
    """The new draft, what changed overall (in words, with times) and per operation."""

    draft: Draft
    changes: tuple[str, ...]
    steps: tuple[OpResult, ...] = field(default=())


def op_name(op: Op) -> str:
    """The snake_case name of an operation's class: ``TrimClip`` → ``trim_clip``."""
    name = type(op).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


# --------------------------------------------------------------------------------------------------
# resolving what a caller names (numbers, ids, words) to segment ids


def clip_id(d: Draft, ref: int | str) -> str:
    """A main clip's segment id from its 1-based number (as the track summary shows) or its id."""
    segs = tl.main_segments(d)
    if isinstance(ref, bool):
        raise tl.TimelineError(f"a clip is a number from 1 to {len(segs)} or a segment id, got {ref!r}")
    if isinstance(ref, int):
        if not segs:
            raise tl.TimelineError("the video has no clips yet")
        if not 1 <= ref <= len(segs):
            raise tl.TimelineError(f"clip {ref} does not exist; use 1 to {len(segs)}")
        return str(segs[ref - 1]["id"])
    ids = [str(s["id"]) for s in segs]
    if ref in ids:
        return ref
    raise tl.TimelineError(f"{ref!r} is not a clip; the clips are {', '.join(ids) or 'none'}")


def text_ids(d: Draft, ref: str) -> list[str]:
    """Text segment ids from an id or the text's current words (exact first, then case-insensitive)."""
    texts = tl.text_segments(d)
    if any(str(t["id"]) == ref for t in texts):
        return [ref]
    exact = [str(t["id"]) for t in texts if t.get("text") == ref]
    if exact:
        return exact
    low = " ".join(ref.lower().split())
    loose = [str(t["id"]) for t in texts if " ".join(str(t.get("text", "")).lower().split()) == low]
    if loose:
        return loose
    listing = ", ".join(f'{t["id"]} "{t.get("text", "")}"' for t in texts) or "none"
    raise tl.TimelineError(f"no text is {ref!r}; the texts are {listing}")


# --------------------------------------------------------------------------------------------------
# applying one operation


def _secs(ms: int) -> str:
    return f"{round(ms / 1000, 2):g}s"


def _meta(seg: dict[str, Any]) -> dict[str, Any]:
    meta = seg.get("m")
    return meta if isinstance(meta, dict) else {}


def _main_index(d: Draft, seg_id: str) -> int:
    ids = [str(s["id"]) for s in tl.main_segments(d)]
    if seg_id not in ids:
        raise tl.TimelineError(f"{seg_id!r} is not a clip; the clips are {', '.join(ids) or 'none'}")
    return ids.index(seg_id)


def _add_clip(d: Draft, c: ClipSpec, index: int | None) -> Draft:
    return tl.add_main(
        d,
        src=c.src,
        kind=c.kind,
        d_ms=c.d_ms,
        in_ms=c.in_ms,
        name=c.name if c.kind != "color" else None,
        index=index,
        source_d=c.source_d,
        has_audio=c.has_audio if c.kind == "video" else None,
        motion=c.motion,
        color=c.color if c.kind == "color" else None,
    )


def _set_clips(d: Draft, op: SetClips) -> Draft:
    if not op.clips:
        raise tl.TimelineError("set_clips needs at least one clip")
    old = [str(s["id"]) for s in tl.main_segments(d)]
    for c in op.clips:
        d = _add_clip(d, c, None)
    for seg_id in old:
        d = tl.remove_segment(d, seg_id)
    return d


def _text_times(d: Draft, st: int, d_ms: int | None) -> int | None:
    """Check a text's start against the end of the video; cut its length there."""
    if not tl.main_segments(d):
        return d_ms
    end = tl.timeline_end(d)
    if st >= end:
        raise tl.TimelineError(
            f"{_secs(st)} is past the end of the video ({_secs(end)}); use 0 to {_secs(end)}"
        )
    return None if d_ms is None else max(1, min(d_ms, end - st))


def _add_text(d: Draft, op: AddText) -> Draft:
    dur = _text_times(d, op.st, op.d_ms)
    return tl.add_text(
        d,
        op.text,
        st=op.st,
        d_ms=op.d_ms if dur is None else dur,
        position=op.position,
        style=op.style,
        role=op.role,
        anchor=op.anchor,
    )


def _update_text(d: Draft, op: UpdateText) -> Draft:
    _track, seg = tl.find_segment(d, op.seg_id)
    start = int(op.st if op.st is not None else seg["st"])
    dur = op.d_ms
    if op.end_ms is not None:
        if op.end_ms <= start:
            raise tl.TimelineError(f"it starts at {_secs(start)}, so it can't end at {_secs(op.end_ms)}")
        dur = op.end_ms - start
    if op.st is not None or dur is not None:
        dur = _text_times(d, start, dur)
    return tl.edit_text(
        d, op.seg_id, text=op.text, st=op.st, d_ms=dur, position=op.position, style=op.style or None
    )


def _remove_text(d: Draft, op: RemoveText) -> Draft:
    track, _seg = tl.find_segment(d, op.seg_id)
    if track.get("tt") != 7:
        raise tl.TimelineError(f"{op.seg_id!r} is not a text")
    return tl.remove_segment(d, op.seg_id)


def _remove_clip(d: Draft, op: RemoveClip) -> Draft:
    _main_index(d, op.seg_id)
    if len(tl.main_segments(d)) == 1:
        raise tl.TimelineError("that would leave no clips; keep at least one, or ask for a new video")
    return tl.remove_segment(d, op.seg_id)


def _duplicate(d: Draft, op: DuplicateClip) -> Draft:
    _main_index(d, op.seg_id)
    before = {str(s["id"]) for s in tl.main_segments(d)}
    d = tl.duplicate_segment(d, op.seg_id)
    if op.to is None:
        return d
    twin = next(str(s["id"]) for s in tl.main_segments(d) if str(s["id"]) not in before)
    return tl.move_main(d, twin, op.to)


def _split(d: Draft, op: SplitClip) -> Draft:
    _track, seg = tl.find_segment(d, op.seg_id)
    st, dur = int(seg["st"]), int(seg["d"])
    if not st < op.at_ms < st + dur:
        raise tl.TimelineError(
            f"the clip plays from {_secs(st)} to {_secs(st + dur)}, so the split must be strictly inside it"
        )
    return tl.split(d, op.seg_id, op.at_ms)


def _total(d: Draft, op: SetTotalDuration) -> Draft:
    present = {str(s["id"]) for s in tl.main_segments(d)}
    fitted = tl.set_total_duration(d, op.total_ms, keep=[i for i in op.keep if i in present])
    fitted["m"][TARGET_KEY] = int(op.total_ms)  # the length the user asked for; later edits keep it
    return fitted


def _fit(d: Draft, op: SetFit) -> Draft:
    size = (d["m"].get("width"), d["m"].get("height"))
    preset = next((p for p, wh in tl.CANVAS_PRESETS.items() if wh == size), "16:9")
    return tl.set_canvas(d, preset, fit=op.fit)


def _set_audio(d: Draft, op: SetAudio) -> Draft:
    d = tl.set_audio(d, op.role, src=op.src, name=op.name, source_d=op.source_d, vol=op.vol, loop=op.loop)
    if op.in_ms is not None:
        track = tl.audio_track(d, op.role)
        assert track is not None
        d = tl.trim(d, str(track["sg"][0]["id"]), in_ms=op.in_ms)
    return d


def _set_loop(d: Draft, op: SetLoop) -> Draft:
    track = tl.audio_track(d, op.role)
    if track is None or not track.get("sg"):
        raise tl.TimelineError(f"there is no {'music' if op.role == 'bgm' else op.role}")
    seg = track["sg"][0]
    meta = _meta(seg)
    return tl.set_audio(
        d, op.role, src=str(seg["src"]), name=meta.get("name"), source_d=meta.get("source_d"), loop=op.loop
    )


def _fade(d: Draft, op: SetFade) -> Draft:
    if op.target in tl.AUDIO_ROLES:
        track = tl.audio_track(d, op.target)
        if track is None or not track.get("sg"):
            raise tl.TimelineError(f"there is no {'music' if op.target == 'bgm' else op.target}")
        seg = track["sg"][0]
    else:
        _track, seg = tl.find_segment(d, op.target)
    limit = int(seg["d"])
    fin = None if op.fade_in is None else min(op.fade_in, limit)
    fout = None if op.fade_out is None else min(op.fade_out, limit)
    return tl.set_fade(d, op.target, fade_in=fin, fade_out=fout)


def _transition(d: Draft, op: SetTransition) -> Draft:
    if op.seg_id is None:
        return tl.set_all_transitions(d, op.kind, op.d_ms)
    return tl.set_transition(d, op.seg_id, op.kind, op.d_ms)


def _title(d: Draft, op: SetTitle) -> Draft:
    d = tl.set_title(d, op.title)
    if op.retitle_text:
        titles = [
            s for tr in d["t"] if tr.get("tt") == 7 and tr.get("role") == "title" for s in tr.get("sg", [])
        ]
        if len(titles) == 1:
            d = tl.edit_text(d, titles[0]["id"], text=op.title)
    return d


def apply_op(d: Draft, op: Op) -> Draft:
    """One operation through the timeline; :class:`engine.timeline.TimelineError` when it breaks a rule."""
    match op:
        case AddText():
            return _add_text(d, op)
        case UpdateText():
            return _update_text(d, op)
        case RemoveText():
            return _remove_text(d, op)
        case SetClips():
            return _set_clips(d, op)
        case AddClip():
            return _add_clip(d, op.clip, op.index)
        case TrimClip():
            return tl.trim(d, op.seg_id, in_ms=op.in_ms, d_ms=op.d_ms)
        case RemoveClip():
            return _remove_clip(d, op)
        case MoveClip():
            _main_index(d, op.seg_id)
            return tl.move_main(d, op.seg_id, op.to)
        case DuplicateClip():
            return _duplicate(d, op)
        case SplitClip():
            return _split(d, op)
        case SwapClips():
            return tl.swap_main(d, op.a, op.b)
        case ReorderClips():
            return tl.reorder_main(d, op.order)
        case SetTotalDuration():
            return _total(d, op)
        case SetCanvas():
            return tl.set_canvas(d, op.preset, fit=op.fit)
        case SetFit():
            return _fit(d, op)
        case SetAudio():
            return _set_audio(d, op)
        case RemoveAudio():
            return tl.remove_audio(d, op.role)
        case SetLoop():
            return _set_loop(d, op)
        case SetVolume():
            return tl.set_volume(d, op.target, op.vol)
        case SetFade():
            return _fade(d, op)
        case SetTransition():
            return _transition(d, op)
        case SetSpeed():
            return tl.set_speed(d, op.seg_id, op.speed)
        case SetMotion():
            return tl.set_motion(d, op.seg_id, op.motion)
        case SetTitle():
            return _title(d, op)


# --------------------------------------------------------------------------------------------------
# the target length, and applying a list


def keep_target(before: Draft, d: Draft, keep: Sequence[str]) -> tuple[Draft, tuple[str, ...]]:
    """After clips got shorter, stretch the stills back to the asked length (``m.target_d``).

    Returns the draft and what the stretching changed (empty when nothing was kept). Where no still
    can take the difference the draft forgets the target and stays shorter.
    """
    target = d.get("m", {}).get(TARGET_KEY)
    if not isinstance(target, int) or isinstance(target, bool) or tl.timeline_end(d) >= target:
        return d, ()
    if tl.timeline_end(before) != target:
        return d, ()  # the video had already drifted from the asked length: nothing to keep
    main = tl.main_track(d)
    segs = tl.main_segments(d)
    clips = [str(s["id"]) for s in segs if main is not None and tl.segment_kind(main, s) == "video"]
    present = {str(s["id"]) for s in segs}
    kept = [i for i in dict.fromkeys([*keep, *clips]) if i in present]
    try:
        fitted = tl.set_total_duration(d, target, keep=kept)
    except tl.TimelineError:
        forgotten = copy.deepcopy(d)
        forgotten["m"].pop(TARGET_KEY, None)
        return forgotten, ()
    return fitted, (f"kept the video at {_secs(target)}: " + "; ".join(sm.describe_changes(d, fitted)),)


def apply_ops(draft: Draft, ops: Sequence[Op]) -> Applied:
    """Apply every operation in order, all or nothing; :class:`OpError` names the one that failed.

    Clips given a length by a :class:`TrimClip` keep it when a later :class:`SetTotalDuration` fits
    the others; without one, a shortened video keeps its asked length (:func:`keep_target`).
    """
    d = draft
    steps: list[OpResult] = []
    trimmed: list[str] = []
    for i, op in enumerate(ops):
        before = d
        step = op
        if isinstance(op, SetTotalDuration) and trimmed:
            step = SetTotalDuration(op.total_ms, keep=tuple(dict.fromkeys([*op.keep, *trimmed])))
        try:
            d = apply_op(d, step)
        except tl.TimelineError as exc:
            raise OpError(i, op, str(exc)) from exc
        if isinstance(op, TrimClip) and op.d_ms is not None:
            trimmed.append(op.seg_id)
        steps.append(OpResult(op, tuple(sm.describe_changes(before, d))))
    if any(isinstance(op, TrimClip) for op in ops) and not any(
        isinstance(op, SetTotalDuration) for op in ops
    ):
        d, kept = keep_target(draft, d, trimmed)
        if kept:
            steps.append(OpResult(SetTotalDuration(int(d["m"][TARGET_KEY]), tuple(trimmed)), kept))
    return Applied(d, tuple(sm.describe_changes(draft, d)), tuple(steps))
