"""The ``edit`` extension endpoint: exact edits as JSON ops, applied as ONE revision.

``POST /api/edit/nemo_agent/{user}/{session_id}`` with ``{"ops": [{"op": ..., ...}, ...]}`` (the cloud
has no such endpoint and answers 404; the client then says to send the instruction as a message).

Each JSON op is checked and resolved against the draft as it stands when the op runs (after the
earlier ops of the list): clips are 1-based numbers as the track summary shows them or segment ids,
texts are ids or their current words, uploads are ids or file names, times are seconds, volumes 0-1.
The resolved ops are typed :mod:`engine.ops` operations, applied by ``engine.ops.apply_ops``: the same
timeline operations and change descriptions as the conversation. All ops of one call are applied
together or not at all, as one revision (one undo reverts them all). A bad op is refused with a
message naming its index, the field and what is allowed (``ops[2].start_s: -3 is before the start;
use 0 to 30``), as error 4000 (HTTP 422), and nothing changes.

``undo`` and ``redo`` move between revisions (as the conversation's "undo" does); they come alone.

The call is recorded like a conversation turn (kind ``edit``, or ``revision`` for undo/redo) so that
history, credits (an edit costs what a conversation edit costs) and the busy rule are the same.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import anyio.to_thread

from engine import ops as eo
from engine import summary as sm
from engine import timeline as tl
from engine.agent import COSTS
from engine.server._errors import invalid_request, no_credits
from engine.server._store import SessionRow, Store, UploadRow
from engine.server._turns import TurnRunner, busy_error

__all__ = ["EDIT_OPS", "MAX_OPS", "EditRefused", "Resolved", "resolve_ops", "run_edit"]

MAX_OPS: Final = 50
DEFAULT_STILL_MS: Final = 5000  # a still in set_clips without duration_s (as the conversation adds one)
DEFAULT_TEXT_MS: Final = 3000  # a text without duration_s (the conversation's default too)
DEFAULT_TRANSITION_S: Final = 0.5
HISTORY_OPS: Final = ("undo", "redo")

# every op and its fields (required first); the order is the one error messages list them in
EDIT_OPS: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "add_text": (("text", "start_s"), ("duration_s", "position")),
    "update_text": (("target",), ("text", "start_s", "duration_s", "position")),
    "remove_text": (("target",), ()),
    "set_clips": (("clips",), ()),
    "trim_clip": (("clip",), ("duration_s", "in_s")),
    "remove_clip": (("clip",), ()),
    "move_clip": (("clip", "to"), ()),
    "duplicate_clip": (("clip",), ("to",)),
    "split_clip": (("clip", "at_s"), ()),
    "swap_clips": (("a", "b"), ()),
    "set_total_duration": (("duration_s",), ()),
    "set_canvas": (("aspect",), ("fit",)),
    "set_audio": (("role", "upload"), ("volume", "start_s")),
    "remove_audio": (("role",), ()),
    "set_volume": (("volume",), ("role", "clip")),
    "set_transition": (("type",), ("between", "duration_s")),
    "undo": ((), ("steps",)),
    "redo": ((), ("steps",)),
}


class EditRefused(ValueError):
    """An op that cannot be applied; the message names ``ops[i].field`` and what is allowed."""


def _s(ms: int | float) -> str:
    """Milliseconds as seconds for messages: 30000 -> "30", 6400 -> "6.4"."""
    return f"{round(ms / 1000, 2):g}"


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


def _words(items: Sequence[str], conj: str = "or") -> str:
    return ", ".join(items[:-1]) + f" {conj} {items[-1]}" if len(items) > 1 else (items[0] if items else "")


@dataclass(frozen=True)
class Resolved:
    """The typed operations of a list of JSON ops, and the result of applying them."""

    ops: tuple[eo.Op, ...]
    applied: eo.Applied


class _Op:
    """One JSON op being resolved: field access with errors that say ``ops[i].field: ...``."""

    def __init__(self, index: int, raw: object, draft: tl.Draft, uploads: Sequence[UploadRow]) -> None:
        self.index = index
        self.draft = draft
        self.uploads = uploads
        if not isinstance(raw, dict):
            self.fail("", f'each op is an object like {{"op": "add_text", ...}}, got {_shown(raw)}')
        name = raw.get("op")
        if not isinstance(name, str) or name not in EDIT_OPS:
            self.fail("op", f"{_shown(name)} is not an op; use one of {', '.join(EDIT_OPS)}")
        self.name = name
        required, optional = EDIT_OPS[name]
        self.raw: dict[str, Any] = raw
        allowed = (*required, *optional)
        for key in raw:
            if key != "op" and key not in allowed:
                fields = ", ".join(allowed) or "none"
                self.fail(key, f"{name} has no field {key!r}; its fields are {fields}")
        for key in required:
            if key not in raw:
                self.fail(key, f"missing; {name} needs {_words(list(required), 'and')}")

    # -- errors and plain values -------------------------------------------------------------------

    def fail(self, field: str, message: str) -> NoReturn:
        where = f"ops[{self.index}]" + (f".{field}" if field else "")
        raise EditRefused(f"{where}: {message}")

    def has(self, field: str) -> bool:
        return self.raw.get(field) is not None

    def number(self, field: str, value: object | None = None) -> float:
        value = self.raw.get(field) if value is None else value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(field, f"{_shown(value)} is not a number; give seconds, e.g. 2.5")
        return float(value)

    def duration_ms(self, field: str, value: object | None = None) -> int:
        seconds = self.number(field, value)
        if seconds <= 0:
            self.fail(field, f"{seconds:g} is not a length; use more than 0 seconds")
        return max(1, round(seconds * 1000))

    def time_ms(self, field: str, *, end_ms: int | None = None) -> int:
        """A time on the timeline: from 0 to the end (the end itself excluded when given)."""
        seconds = self.number(field)
        if seconds < 0:
            span = f"; use 0 to {_s(end_ms)}" if end_ms else ""
            self.fail(field, f"{seconds:g} is before the start{span}")
        ms = round(seconds * 1000)
        if end_ms is not None and ms >= end_ms:
            self.fail(
                field, f"{seconds:g} is past the end of the video ({_s(end_ms)}s); use 0 to {_s(end_ms)}"
            )
        return ms

    def role(self, field: str) -> eo.AudioRole:
        return "bgm" if self.choice(field, tl.AUDIO_ROLES) == "bgm" else "voiceover"

    def choice(self, field: str, options: Sequence[str]) -> str:
        value = self.raw.get(field)
        if not isinstance(value, str) or value not in options:
            self.fail(field, f"{_shown(value)} is not allowed; use {_words(list(options))}")
        return value

    def text(self, field: str) -> str:
        value = self.raw.get(field)
        if not isinstance(value, str) or not value.strip():
            self.fail(field, f"{_shown(value)} is not text; give the words to show")
        return value.strip()

    def volume(self, field: str) -> float:
        value = self.raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.fail(field, f"{_shown(value)} is not a volume; use 0 to 1 (0.2 = 20%)")
        return float(value)

    def count(self, field: str) -> int:
        value = self.raw.get(field, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(field, f"{_shown(value)} is not a number of steps; use 1 or more")
        return value

    # -- what the draft holds ----------------------------------------------------------------------

    @property
    def end_ms(self) -> int:
        return tl.timeline_end(self.draft)

    def clips(self) -> list[tl.Segment]:
        return tl.main_segments(self.draft)

    def clip(self, field: str, value: object | None = None) -> str:
        """A main clip's segment id from its 1-based number or its id."""
        value = self.raw.get(field) if value is None else value
        segs = self.clips()
        ids = [str(s["id"]) for s in segs]
        if not segs:
            self.fail(field, "there are no clips yet; add some first with set_clips")
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= len(segs):
                self.fail(
                    field,
                    f"clip {value} does not exist; use 1 to {len(segs)} or a clip id ({', '.join(ids)})",
                )
            return ids[value - 1]
        if isinstance(value, str) and value in ids:
            return value
        self.fail(
            field,
            f"{_shown(value)} is not a clip; use a number from 1 to {len(segs)} "
            f"or a clip id ({', '.join(ids)})",
        )

    def clip_number(self, seg_id: str) -> int:
        return [str(s["id"]) for s in self.clips()].index(seg_id) + 1

    def clip_span(self, seg_id: str) -> tuple[int, int]:
        _track, seg = tl.find_segment(self.draft, seg_id)
        return int(seg["st"]), int(seg["st"]) + int(seg["d"])

    def clip_kind(self, seg_id: str) -> str:
        main = tl.main_track(self.draft)
        _track, seg = tl.find_segment(self.draft, seg_id)
        return tl.segment_kind(main, seg) if main is not None else "clip"

    def text_target(self, field: str) -> str:
        value = self.raw.get(field)
        texts = tl.text_segments(self.draft)
        listing = ", ".join(f'{t["id"]} "{t.get("text", "")}"' for t in texts) or "none"
        if not isinstance(value, str) or not value.strip():
            self.fail(field, f"{_shown(value)} is not a text; give its id or its words (texts: {listing})")
        try:
            found = eo.text_ids(self.draft, value)
        except tl.TimelineError:
            self.fail(field, f"no text is {value!r}; the texts are {listing}")
        if len(found) > 1:
            self.fail(field, f"{len(found)} texts read {value!r} ({', '.join(found)}); give one id")
        return found[0]

    def upload(self, field: str, kinds: Sequence[str], value: object | None = None) -> UploadRow:
        """An upload of the session by id or file name (exact, then ignoring case), of one of ``kinds``."""
        value = self.raw.get(field) if value is None else value
        rows = list(self.uploads)
        listing = ", ".join(f"{r.filename} ({r.id})" for r in rows) or "none yet: upload files first"
        if not isinstance(value, str) or not value.strip():
            self.fail(
                field, f"{_shown(value)} is not an upload; give its id or file name (uploads: {listing})"
            )
        match = [r for r in rows if value in (r.id, r.filename)] or [
            r for r in rows if r.filename.lower() == value.strip().lower()
        ]
        if not match:
            self.fail(field, f"no upload is {value!r}; the uploads are {listing}")
        row = match[-1]  # the same file name twice: the newest upload
        if row.file_type not in kinds:
            self.fail(field, f"{row.filename} is {row.file_type}; {self.name} takes {_words(list(kinds))}")
        return row


# --------------------------------------------------------------------------------------------------
# one resolver per op: JSON -> a typed engine.ops operation


def _clip_spec(o: _Op, item: object, where: str) -> eo.ClipSpec:
    if not isinstance(item, dict):
        o.fail(where, f'each clip is {{"upload": ..., "duration_s"?: ...}}, got {_shown(item)}')
    extra = sorted(set(item) - {"upload", "duration_s"})
    if extra:
        o.fail(f"{where}.{extra[0]}", "unknown field; a clip has upload and duration_s")
    if "upload" not in item:
        o.fail(f"{where}.upload", "missing; give the upload's id or file name")
    row = o.upload(f"{where}.upload", ("image", "video"), item["upload"])
    source = row.duration_ms if row.file_type == "video" else None
    if item.get("duration_s") is not None:
        d_ms = o.duration_ms(f"{where}.duration_s", item["duration_s"])
        if source is not None and d_ms > source:
            o.fail(
                f"{where}.duration_s",
                f"{_s(d_ms)} is longer than {row.filename} ({_s(source)}s); use up to {_s(source)}",
            )
    else:
        d_ms = source or DEFAULT_STILL_MS
    return eo.ClipSpec(
        src=row.id,
        kind=row.file_type,
        d_ms=d_ms,
        name=row.filename,
        source_d=source,
        has_audio=row.has_audio if row.file_type == "video" else None,
        motion="zoom_in" if row.file_type == "image" else None,
    )


def _add_text(o: _Op) -> eo.Op:
    end = o.end_ms if o.clips() else None
    st = o.time_ms("start_s", end_ms=end)
    d_ms = o.duration_ms("duration_s") if o.has("duration_s") else DEFAULT_TEXT_MS
    position = o.choice("position", tl.POSITIONS) if o.has("position") else "center"
    return eo.AddText(o.text("text"), st, d_ms, position=position)


def _update_text(o: _Op) -> eo.Op:
    seg_id = o.text_target("target")
    if not any(o.has(k) for k in ("text", "start_s", "duration_s", "position")):
        o.fail("target", "nothing to change; give text, start_s, duration_s or position")
    end = o.end_ms if o.clips() else None
    return eo.UpdateText(
        seg_id,
        text=o.text("text") if o.has("text") else None,
        st=o.time_ms("start_s", end_ms=end) if o.has("start_s") else None,
        d_ms=o.duration_ms("duration_s") if o.has("duration_s") else None,
        position=o.choice("position", tl.POSITIONS) if o.has("position") else None,
    )


def _remove_text(o: _Op) -> eo.Op:
    return eo.RemoveText(o.text_target("target"))


def _set_clips(o: _Op) -> eo.Op:
    items = o.raw["clips"]
    if not isinstance(items, list) or not items:
        o.fail("clips", 'give a list of at least one clip: [{"upload": "photo1.jpg", "duration_s": 3}, ...]')
    return eo.SetClips(tuple(_clip_spec(o, item, f"clips[{k}]") for k, item in enumerate(items)))


def _trim_clip(o: _Op) -> eo.Op:
    seg_id = o.clip("clip")
    if not o.has("duration_s") and not o.has("in_s"):
        o.fail("clip", "nothing to change; give duration_s (the new length) or in_s (where a video starts)")
    in_ms = None
    if o.has("in_s"):
        kind = o.clip_kind(seg_id)
        if kind != "video":
            o.fail(
                "in_s",
                f"clip {o.clip_number(seg_id)} is {kind}; in_s (where the source starts) applies to videos",
            )
        seconds = o.number("in_s")
        if seconds < 0:
            o.fail("in_s", f"{seconds:g} is before the start of the video; use 0 or more")
        in_ms = round(seconds * 1000)
    d_ms = o.duration_ms("duration_s") if o.has("duration_s") else None
    return eo.TrimClip(seg_id, d_ms=d_ms, in_ms=in_ms)


def _position(o: _Op, field: str, count: int) -> int:
    """A 1-based position among ``count`` places -> 0-based."""
    value = o.raw.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= count:
        o.fail(field, f"{_shown(value)} is not a position; use 1 to {count}")
    return value - 1


def _move_clip(o: _Op) -> eo.Op:
    return eo.MoveClip(o.clip("clip"), _position(o, "to", len(o.clips())))


def _duplicate_clip(o: _Op) -> eo.Op:
    seg_id = o.clip("clip")
    to = _position(o, "to", len(o.clips()) + 1) if o.has("to") else None
    return eo.DuplicateClip(seg_id, to)


def _split_clip(o: _Op) -> eo.Op:
    seg_id = o.clip("clip")
    start, end = o.clip_span(seg_id)
    at = round(o.number("at_s") * 1000)
    if not start < at < end:
        o.fail(
            "at_s",
            f"{_s(at)} is not inside clip {o.clip_number(seg_id)} ({_s(start)} to {_s(end)}s); "
            "use a time strictly between them",
        )
    return eo.SplitClip(seg_id, at)


def _swap_clips(o: _Op) -> eo.Op:
    a, b = o.clip("a"), o.clip("b")
    if a == b:
        o.fail("b", "is the same clip as a; swap two different clips")
    return eo.SwapClips(a, b)


def _set_total_duration(o: _Op) -> eo.Op:
    if not o.clips():
        o.fail("duration_s", "there are no clips yet to fit; add some first with set_clips")
    return eo.SetTotalDuration(o.duration_ms("duration_s"))


def _set_canvas(o: _Op) -> eo.Op:
    aspect = o.choice("aspect", tuple(tl.CANVAS_PRESETS))
    return eo.SetCanvas(aspect, fit=o.choice("fit", tl.FITS) if o.has("fit") else None)


def _set_audio(o: _Op) -> eo.Op:
    role = o.role("role")
    row = o.upload("upload", ("audio",))
    in_ms = None
    if o.has("start_s"):
        seconds = o.number("start_s")
        source = row.duration_ms
        if seconds < 0 or (source is not None and seconds * 1000 >= source):
            span = f"0 to {_s(source)}" if source is not None else "0 or more"
            o.fail(
                "start_s",
                f"{seconds:g} is not inside {row.filename}; use {span} (where in the audio it starts)",
            )
        in_ms = round(seconds * 1000)
    vol = o.volume("volume") if o.has("volume") else None
    if not o.clips() and row.duration_ms is None:
        o.fail("upload", "the timeline is empty and the audio's length is unknown; add clips first")
    return eo.SetAudio(role, row.id, name=row.filename, source_d=row.duration_ms, vol=vol, in_ms=in_ms)


def _audio_roles(o: _Op) -> list[str]:
    return [r for r in tl.AUDIO_ROLES if (t := tl.audio_track(o.draft, r)) is not None and t.get("sg")]


def _remove_audio(o: _Op) -> eo.Op:
    role = o.role("role")
    present = _audio_roles(o)
    if role not in present:
        o.fail("role", f"there is no {role}; the audio is {_words(present) or 'none'}")
    return eo.RemoveAudio(role)


def _set_volume(o: _Op) -> eo.Op:
    if o.has("role") == o.has("clip"):
        o.fail("role", "give role (bgm or voiceover) or clip (a video clip), one of them")
    vol = o.volume("volume")
    if o.has("role"):
        role = o.choice("role", tl.AUDIO_ROLES)
        present = _audio_roles(o)
        if role not in present:
            o.fail("role", f"there is no {role}; the audio is {_words(present) or 'none'}")
        return eo.SetVolume(role, vol)
    seg_id = o.clip("clip")
    kind = o.clip_kind(seg_id)
    if kind != "video":
        o.fail(
            "clip", f"clip {o.clip_number(seg_id)} is {kind}; volume applies to video clips and audio roles"
        )
    return eo.SetVolume(seg_id, vol)


def _set_transition(o: _Op) -> eo.Op:
    kind = o.choice("type", tl.TRANSITIONS)
    d_ms = o.duration_ms("duration_s") if o.has("duration_s") else round(DEFAULT_TRANSITION_S * 1000)
    if not o.has("between"):
        if len(o.clips()) < 2 and kind != "none":
            o.fail("type", f"transitions go between clips; there are {len(o.clips())}")
        return eo.SetTransition(kind, d_ms)
    pair = o.raw["between"]
    if not isinstance(pair, list) or len(pair) != 2:
        o.fail("between", f"{_shown(pair)} is not two clips; give [a, b] of neighbouring clips, e.g. [1, 2]")
    a = o.clip("between[0]", pair[0])
    b = o.clip("between[1]", pair[1])
    na, nb = o.clip_number(a), o.clip_number(b)
    if nb != na + 1:
        o.fail(
            "between",
            f"clips {na} and {nb} are not neighbours in that order; a transition goes from a clip "
            f"into the next, e.g. [{na}, {na + 1}]",
        )
    return eo.SetTransition(kind, d_ms, seg_id=a)


_RESOLVERS: Final[Mapping[str, Callable[[_Op], eo.Op]]] = {
    "add_text": _add_text,
    "update_text": _update_text,
    "remove_text": _remove_text,
    "set_clips": _set_clips,
    "trim_clip": _trim_clip,
    "remove_clip": lambda o: eo.RemoveClip(o.clip("clip")),
    "move_clip": _move_clip,
    "duplicate_clip": _duplicate_clip,
    "split_clip": _split_clip,
    "swap_clips": _swap_clips,
    "set_total_duration": _set_total_duration,
    "set_canvas": _set_canvas,
    "set_audio": _set_audio,
    "remove_audio": _remove_audio,
    "set_volume": _set_volume,
    "set_transition": _set_transition,
}


def check_list(ops: object) -> list[object]:
    """The ``ops`` of a request body: a list of 1 to MAX_OPS items."""
    if not isinstance(ops, list) or not ops:
        raise EditRefused(
            f'ops: give a list of 1 to {MAX_OPS} ops, e.g. [{{"op": "add_text", "text": "Hi", "start_s": 0}}]'
        )
    if len(ops) > MAX_OPS:
        raise EditRefused(f"ops: {len(ops)} ops are too many for one call; send at most {MAX_OPS}")
    return ops


def resolve_ops(draft: tl.Draft, uploads: Sequence[UploadRow], ops: Sequence[object]) -> Resolved:
    """Check and resolve every JSON op (each against the draft the earlier ones leave) and apply them
    all through ``engine.ops.apply_ops``; :class:`EditRefused` at the first that cannot be applied."""
    typed: list[eo.Op] = []
    applied = eo.Applied(draft, ())
    for index, raw in enumerate(ops):
        op = _Op(index, raw, applied.draft, uploads)
        if op.name in HISTORY_OPS:
            op.fail("op", f"{op.name} moves between revisions; send it alone, in its own edit call")
        typed.append(_RESOLVERS[op.name](op))
        try:
            applied = eo.apply_ops(draft, typed)  # the whole list so far: what the next op resolves against
        except eo.OpError as exc:
            raise EditRefused(f"ops[{exc.index}] ({op.name}): {exc.reason}") from exc
    return Resolved(tuple(typed), applied)


# --------------------------------------------------------------------------------------------------
# the endpoint's work (the route in _app.py parses the request and calls this)


async def run_edit(
    store: Store,
    turns: TurnRunner,
    session: SessionRow,
    user_id: str,
    body: Mapping[str, Any],
    now: Callable[[], float],
) -> dict[str, Any]:
    """Apply the body's ops to the session as one revision (or move the head for undo/redo).

    Returns ``{"session_id", "revision", "changed", "changes", "draft"}``; raises ApiError 4000 for a
    bad op (nothing changed), 1003 while a turn runs, 2001 without the credits an edit costs.
    """
    extra = sorted(set(body) - {"ops"})
    if extra:
        raise invalid_request(f'unknown field(s) {", ".join(extra)}: the body is {{"ops": [...]}}')
    try:
        ops = check_list(body.get("ops"))
    except EditRefused as exc:
        raise invalid_request(str(exc)) from exc
    if turns.is_busy(session.id):
        raise busy_error(session.id)
    edit_id = "turn_" + uuid.uuid4().hex
    turns.busy[session.id] = edit_id  # no await since the check: no turn starts while this edit runs
    try:
        first = ops[0]
        history = first.get("op") if isinstance(first, dict) and first.get("op") in HISTORY_OPS else None
        if history is not None:
            return await _move(store, session, user_id, edit_id, ops, str(history), now)
        return await _apply(store, session, user_id, edit_id, ops, now)
    finally:
        turns.busy.pop(session.id, None)


async def _begin(
    store: Store,
    session: SessionRow,
    user_id: str,
    turn_id: str,
    message: str,
    kind: str,
    now: Callable[[], float],
) -> None:
    cost = COSTS[kind]
    began = await store.run(store.begin_turn, turn_id, session.id, user_id, message, kind, cost, now())
    if began == "busy":  # a turn of this session runs in another engine process on this home
        raise busy_error(session.id)
    if began == "no_credits":
        available, _ = await store.run(store.credits, user_id)
        raise no_credits(available, cost)


def _result(
    session: SessionRow, revision: int | None, changes: Sequence[str], draft: tl.Draft
) -> dict[str, Any]:
    return {
        "session_id": session.id,
        "revision": revision,
        "changed": bool(changes),
        "changes": list(changes),
        "draft": draft,
    }


async def _current(store: Store, session: SessionRow) -> tuple[int | None, tl.Draft]:
    targets = await store.run(store.history_targets, session.id)
    draft = await store.run(store.draft_at, session.id, targets.head)
    if draft is None:
        draft = tl.new_draft(title=session.task_name if session.task_name != "project" else "")
    return targets.head, draft


async def _apply(
    store: Store,
    session: SessionRow,
    user_id: str,
    turn_id: str,
    ops: Sequence[object],
    now: Callable[[], float],
) -> dict[str, Any]:
    head, draft = await _current(store, session)
    uploads = await store.run(store.uploads, session.id)
    try:
        resolved = await anyio.to_thread.run_sync(lambda: resolve_ops(draft, uploads, ops))
    except EditRefused as exc:
        raise invalid_request(f"{exc}. Nothing was changed") from exc
    applied = resolved.applied
    if applied.draft == draft:
        return _result(session, head, [], draft)  # nothing to record, nothing to pay
    message = "edit " + json.dumps(ops, ensure_ascii=False, separators=(",", ":"))
    await _begin(store, session, user_id, turn_id, message, "edit", now)
    try:
        n = await store.run(store.add_revision, session.id, turn_id, "edit", applied.draft, now())
    except BaseException:
        await store.run(store.finish_turn, turn_id, ok=False, reply=None, error="not stored", now=now())
        raise
    reply = "Done: " + "; ".join(applied.changes) + "." if applied.changes else "Done."
    await store.run(store.finish_turn, turn_id, ok=True, reply=reply, error=None, now=now())
    return _result(session, n, applied.changes, applied.draft)


async def _move(
    store: Store,
    session: SessionRow,
    user_id: str,
    turn_id: str,
    ops: Sequence[object],
    which: str,
    now: Callable[[], float],
) -> dict[str, Any]:
    """undo / redo ``steps`` times, all or nothing (the head goes back where it was on a failure)."""
    try:
        if len(ops) > 1:
            raise EditRefused(f"ops[1]: {which} moves between revisions; send it alone, in its own edit call")
        op = _Op(0, ops[0], tl.new_draft(), ())
        steps = op.count("steps")
    except EditRefused as exc:
        raise invalid_request(f"{exc}. Nothing was changed") from exc
    start, before = await _current(store, session)
    await _begin(store, session, user_id, turn_id, f"edit {which} {steps}", "revision", now)
    done = 0
    try:
        for done in range(steps):
            targets = await store.run(store.history_targets, session.id)
            target = targets.undo if which == "undo" else targets.redo
            if target is None:
                problem = (
                    f"{steps} is more than the {done} change(s) there are to {which}; use 1 to {done}"
                    if done
                    else f"there is nothing to {which}"
                )
                raise invalid_request(f"ops[0].steps: {problem}. Nothing was changed")
            await store.run(store.move_head, session.id, turn_id, target, now())
    except BaseException:
        with anyio.CancelScope(shield=True):
            if done and start is not None:
                await store.run(store.move_head, session.id, turn_id, start, now())
            await store.run(store.finish_turn, turn_id, ok=False, reply=None, error="refused", now=now())
        raise
    head, after = await _current(store, session)
    changes = sm.describe_changes(before, after)
    await store.run(
        store.finish_turn, turn_id, ok=True, reply="; ".join(changes) or which, error=None, now=now()
    )
    return _result(session, head, changes, after)
