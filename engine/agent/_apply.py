"""The applier: a plan's operations → engine.timeline calls → a new draft and the tool steps.

Targets are resolved here, against the draft as it is when each operation runs. Any failure (a
clip that does not exist, a time past the end, a rule of the timeline) raises ``ApplyError`` naming
the words of the instruction that failed; the caller then keeps the draft as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from engine import ops as eo
from engine import summary as sm
from engine import timeline as tl
from engine.agent._generate import GenPlan
from engine.agent._plan import MainRef, Op, TextRef
from engine.agent._types import Draft, ToolStep
from engine.agent._view import contains_words, secs

__all__ = ["ApplyError", "apply_ops", "build_generation"]


class ApplyError(Exception):
    def __init__(self, phrase: str, reason: str) -> None:
        super().__init__(f"{phrase}: {reason}")
        self.phrase = phrase
        self.reason = reason


def _m(seg: dict[str, Any]) -> dict[str, Any]:
    meta = seg.get("m")
    return meta if isinstance(meta, dict) else {}


def _mains(d: Draft) -> list[dict[str, Any]]:
    return tl.main_segments(d)


def _count(n: int) -> str:
    return f"{n} clip" if n == 1 else f"{n} clips"


def resolve_main(d: Draft, ref: MainRef) -> list[str]:
    segs = _mains(d)
    if not segs:
        raise ValueError("the video has no clips yet")
    if ref.every is not None:
        kinds = {"all": None, "image": "image", "video": "video"}[ref.every]
        chosen = [s["id"] for s in segs if kinds is None or _m(s).get("kind") == kinds]
        if not chosen:
            raise ValueError(f"the video has no {ref.every}s")
        return chosen
    if ref.file is not None:
        low = ref.file.lower()
        chosen = [s["id"] for s in segs if str(_m(s).get("name", "")).lower() == low]
        if not chosen:
            raise ValueError(f"{ref.file} is not in the video")
        return chosen[:1]
    if ref.at_ms is not None:
        for s in segs:
            if s["st"] <= ref.at_ms < s["st"] + s["d"]:
                return [s["id"]]
        raise ValueError(f"nothing plays at {secs(ref.at_ms)}; the video is {secs(tl.timeline_end(d))} long")
    index = ref.index or 0
    if not -len(segs) <= index < len(segs):
        which = f"clip {index + 1}" if index >= 0 else "such clip"
        raise ValueError(f"there is no {which}; the video has {_count(len(segs))}")
    return [segs[index]["id"]]


def resolve_text(d: Draft, ref: TextRef) -> list[str]:
    texts = tl.text_segments(d)
    if not texts:
        raise ValueError("there is no text on the video")
    listing = ", ".join(f'"{t.get("text", "")}"' for t in texts)
    if ref.every:
        if ref.role is None:
            return [t["id"] for t in texts]
        ids = {
            t["id"]
            for tr in d["t"]
            if tr.get("tt") == 7 and tr.get("role") == ref.role
            for t in tr.get("sg", [])
        }
        chosen = [t["id"] for t in texts if t["id"] in ids]
        if not chosen:
            raise ValueError(f"there are no {ref.role}s; the texts are {listing}")
        return chosen
    if ref.contains is not None:
        low = " ".join(ref.contains.lower().split())
        exact = [t["id"] for t in texts if " ".join(str(t.get("text", "")).lower().split()) == low]
        loose = [
            t["id"]
            for t in texts
            if contains_words(str(t.get("text", "")), low) or contains_words(low, str(t.get("text", "")))
        ]
        if exact or loose:
            return exact or loose
        raise ValueError(f'there is no text "{ref.contains}"; the texts are {listing}')
    if ref.index is not None:
        if -len(texts) <= ref.index < len(texts):
            return [texts[ref.index]["id"]]
        raise ValueError(f"there are only {len(texts)} texts: {listing}")
    if ref.at_ms is not None:
        hits = [t["id"] for t in texts if t["st"] <= ref.at_ms < t["st"] + t["d"]]
        if hits:
            return hits[:1]
        raise ValueError(f"no text is on screen at {secs(ref.at_ms)}; the texts are {listing}")
    role = ref.role or "caption"
    ids = {t["id"] for tr in d["t"] if tr.get("tt") == 7 and tr.get("role") == role for t in tr.get("sg", [])}
    chosen = [t["id"] for t in texts if t["id"] in ids]
    if not chosen:
        raise ValueError(f"there is no {role}; the texts are {listing}")
    return chosen


# ---------------------------------------------------------------------------------------------
# one function per operation name (the ToolStep names)


def _trim(d: Draft, a: dict[str, Any]) -> Draft:
    asked: list[str] = []  # clips given the length the user said (remembered once, after the loop)
    for seg_id in resolve_main(d, a["target"]):
        track, seg = tl.find_segment(d, seg_id)
        cur = int(seg["d"])
        head = int(a.get("head_ms") or 0)
        new_d = a["d_ms"] if a.get("d_ms") is not None else cur + int(a.get("change_ms") or 0) - head
        if a.get("factor"):
            new_d = round(cur * float(a["factor"]))  # "half as long"
        if new_d < 100:
            raise ValueError(f"it is {secs(cur)} long, so that would leave nothing of it")
        if a.get("keep_last") and new_d < cur:
            head = cur - int(new_d)
        is_video = tl.segment_kind(track, seg) == "video"
        if a.get("source_from") is not None and is_video:  # a stretch of the source: "from 1s to 5s"
            d = eo.apply_op(d, eo.TrimClip(seg_id, in_ms=int(a["source_from"]), d_ms=int(new_d)))
            continue
        if head and is_video:
            speed = float(_m(seg).get("speed", 1) or 1)
            in_ms = int(seg.get("in", 0)) + round(head * speed)
            d = eo.apply_op(d, eo.TrimClip(seg_id, in_ms=in_ms, d_ms=int(new_d)))
        else:
            d = eo.apply_op(d, eo.TrimClip(seg_id, d_ms=int(new_d)))
        if a.get("d_ms") is not None:
            asked.append(seg_id)
    return _asked(d, asked) if asked else d


ASKED_KEY = "asked_d"  # a clip's length as the user asked for it: a later change of the total keeps it


def _asked(d: Draft, seg_ids: Sequence[str]) -> Draft:
    """``d`` with these clips' present lengths remembered as asked for (in their metadata)."""
    new = copy.deepcopy(d)
    for seg_id in seg_ids:
        _track, seg = tl.find_segment(new, seg_id)
        seg["m"] = {**_m(seg), ASKED_KEY: int(seg["d"])}
    return new


def asked_lengths(d: Draft) -> list[str]:
    """The clips that still have the length the user asked for."""
    return [str(s["id"]) for s in _mains(d) if _m(s).get(ASKED_KEY) == int(s["d"])]


def _remove(d: Draft, a: dict[str, Any]) -> Draft:
    ids: list[str] = []
    for ref in a["targets"]:
        ids += [i for i in resolve_main(d, ref) if i not in ids]
    if len(ids) >= len(_mains(d)):
        raise ValueError("that would leave no clips; keep at least one, or ask for a new video")
    for seg_id in ids:
        d = eo.apply_op(d, eo.RemoveClip(seg_id))
    return d


def _main_index(d: Draft, seg_id: str) -> int:
    return [s["id"] for s in _mains(d)].index(seg_id)


def _move(d: Draft, a: dict[str, Any]) -> Draft:
    seg_id = resolve_main(d, a["target"])[0]
    cur = _main_index(d, seg_id)
    n = len(_mains(d))
    if a.get("after") is not None or a.get("before") is not None:
        other_ref: MainRef = a["after"] if a.get("after") is not None else a["before"]
        other = _main_index(d, resolve_main(d, other_ref)[0])
        if other == cur:
            raise ValueError("a clip can't move next to itself")
        if a.get("after") is not None:
            to = other if cur < other else other + 1
        else:
            to = other - 1 if cur < other else other
    else:
        to = int(a["to"])
        if to < 0:
            to = n + to
        if not 0 <= to < n:
            raise ValueError(f"there are {n} positions; pick one from 1 to {n}")
    return eo.apply_op(d, eo.MoveClip(seg_id, to))


def _move_group(d: Draft, a: dict[str, Any]) -> Draft:
    ids: list[str] = []
    for ref in a["targets"]:
        ids += [i for i in resolve_main(d, ref) if i not in ids]
    for seg_id in ids:
        d = eo.apply_op(d, eo.MoveClip(seg_id, 0 if a["to"] == 0 else len(_mains(d)) - 1))
    return d


def _swap(d: Draft, a: dict[str, Any]) -> Draft:
    x = resolve_main(d, a["a"])[0]
    y = resolve_main(d, a["b"])[0]
    if x == y:
        raise ValueError("those are the same clip")
    return eo.apply_op(d, eo.SwapClips(x, y))


def _reorder(d: Draft, a: dict[str, Any]) -> Draft:
    segs = _mains(d)
    order: Sequence[int] = a["order"]
    if sorted(order) != list(range(len(segs))):
        raise ValueError(f"the order must name each of the {len(segs)} clips once")
    return eo.apply_op(d, eo.ReorderClips(tuple(str(segs[i]["id"]) for i in order)))


def _duplicate(d: Draft, a: dict[str, Any]) -> Draft:
    to = a.get("to")
    return eo.apply_op(d, eo.DuplicateClip(resolve_main(d, a["target"])[0], None if to is None else int(to)))


def _split(d: Draft, a: dict[str, Any]) -> Draft:
    if a.get("target") is None:
        at = int(a["at_ms"])
        for s in _mains(d):
            if s["st"] < at < s["st"] + s["d"]:
                return eo.apply_op(d, eo.SplitClip(str(s["id"]), at))
        end = tl.timeline_end(d)
        if at >= end:
            raise ValueError(f"the video is only {secs(end)} long")
        raise ValueError(f"{secs(at)} is already a cut between two clips")
    seg_id = resolve_main(d, a["target"])[0]
    _track, seg = tl.find_segment(d, seg_id)
    st, dur = int(seg["st"]), int(seg["d"])
    offset = dur // 2 if a.get("half") else int(a["at_ms"])
    if not 0 < offset < dur:
        raise ValueError(f"that clip is {secs(dur)} long, so the split must be inside it (0-{secs(dur)})")
    return eo.apply_op(d, eo.SplitClip(seg_id, st + offset))


def _total(d: Draft, a: dict[str, Any]) -> Draft:
    present = {s["id"] for s in _mains(d)}
    keep = tuple(str(i) for i in a.get("keep", ()) if i in present)
    return eo.apply_op(d, eo.SetTotalDuration(int(a["total_ms"]), keep=keep))


_KEEPS_TARGET = frozenset({"trim_segment"})


def _keep_target(before: Draft, d: Draft, keep: Sequence[str]) -> tuple[Draft, ToolStep | None]:
    fitted, said = eo.keep_target(before, d, keep)
    if not said:
        return fitted, None
    return fitted, ToolStep("set_total_duration", {"total_ms": fitted["m"][eo.TARGET_KEY]}, said[0])


def _speed(d: Draft, a: dict[str, Any]) -> Draft:
    ids = resolve_main(d, a["target"])
    speed = float(a["speed"])
    if not tl.MIN_SPEED <= speed <= tl.MAX_SPEED:
        raise ValueError(f"speed goes from {tl.MIN_SPEED:g}x to {tl.MAX_SPEED:g}x")
    changed = False
    for seg_id in ids:
        track, seg = tl.find_segment(d, seg_id)
        kind = tl.segment_kind(track, seg)
        if kind == "video":
            d = eo.apply_op(d, eo.SetSpeed(seg_id, speed))
            changed = True
        elif len(ids) == 1 or a["target"].every is not None:
            # a still: show it shorter/longer
            d = eo.apply_op(d, eo.TrimClip(seg_id, d_ms=max(100, round(int(seg["d"]) / speed))))
            changed = True
    if not changed:
        raise ValueError("speed applies to video clips")
    return d


def _transition(d: Draft, a: dict[str, Any]) -> Draft:
    segs = _mains(d)
    if len(segs) < 2:
        raise ValueError("transitions go between clips, and the video has one")
    current = next((_m(s).get("transition") for s in segs if isinstance(_m(s).get("transition"), dict)), None)
    cur_kind = str(current.get("type", "crossfade")) if isinstance(current, dict) else "crossfade"
    cur_d = int(current.get("d", 500)) if isinstance(current, dict) else 500
    kind = a.get("kind") or cur_kind
    length = a.get("d_ms")
    if length is None:
        length = round(cur_d * a["scale"]) if a.get("scale") else (cur_d if a.get("kind") is None else 500)
    length = max(100, int(length))
    if a.get("target") is None:
        return eo.apply_op(d, eo.SetTransition(kind, length))
    seg_id = resolve_main(d, a["target"])[0]
    if kind != "none":
        i = _main_index(d, seg_id)
        if i == len(segs) - 1:
            raise ValueError("that is the last clip; a transition goes from a clip into the next one")
        cap = min(int(segs[i]["d"]), int(segs[i + 1]["d"])) // 2
        length = min(length, cap)
    return eo.apply_op(d, eo.SetTransition(kind, length, seg_id))


def _motion(d: Draft, a: dict[str, Any]) -> Draft:
    ids = resolve_main(d, a["target"])
    images = [i for i in ids if _m(tl.find_segment(d, i)[1]).get("kind", "image") == "image"]
    if not images:
        raise ValueError("motion applies to still images, and those are video clips")
    for k, seg_id in enumerate(images):
        motion = a["motion"]
        if a.get("alternate") and k % 2:
            motion = "zoom_out"
        d = eo.apply_op(d, eo.SetMotion(seg_id, motion))
    return d


def _volume(d: Draft, a: dict[str, Any]) -> Draft:
    target = a["target"]
    if isinstance(target, str):
        _track, seg = _role_segment(d, target)
        vol = (
            a["vol"]
            if a.get("vol") is not None
            else _scaled(seg, a["factor"], 0.35 if target == "bgm" else 1.0)
        )
        if a.get("factor") and vol == seg.get("vol", vol):
            what = "the music" if target == "bgm" else "the voiceover"
            limit = "100%, the loudest it goes" if a["factor"] > 1 else "0%"
            hint = (
                '; to make it stand out, lower the music instead (e.g. "music at 20%")'
                if (target == "voiceover" and a["factor"] > 1)
                else ""
            )
            raise ValueError(f"{what} is already at {limit}{hint}")
        return eo.apply_op(d, eo.SetVolume(target, vol))
    ids = resolve_main(d, target)
    changed = False
    for seg_id in ids:
        track, seg = tl.find_segment(d, seg_id)
        if tl.segment_kind(track, seg) == "video":
            vol = a["vol"] if a.get("vol") is not None else _scaled(seg, a["factor"], 1.0)
            changed = True
            if float(seg.get("vol", 1.0)) != vol:
                d = eo.apply_op(d, eo.SetVolume(seg_id, vol))
    if not changed:
        raise ValueError("only video clips have their own sound (this is a still image)")
    return d


def _scaled(seg: dict[str, Any], factor: float, default: float) -> float:
    vol = seg.get("vol", default)
    base = float(vol) if isinstance(vol, int | float) else default
    new = base * factor
    if factor > 1:
        new = max(new, base + 0.15)
    return round(max(0.0, min(1.0, new)), 2)


def _role_segment(d: Draft, role: str) -> tuple[dict[str, Any], dict[str, Any]]:
    track = tl.audio_track(d, role)
    if track is None or not track.get("sg"):
        raise ValueError(f"there is no {'music' if role == 'bgm' else role}")
    return track, track["sg"][0]


def _fade(d: Draft, a: dict[str, Any]) -> Draft:
    target = a["target"]
    if isinstance(target, str):
        _role_segment(d, target)
    else:
        target = resolve_main(d, target)[0]
    fin, fout = a.get("fade_in"), a.get("fade_out")
    return eo.apply_op(
        d,
        eo.SetFade(
            target, fade_in=None if fin is None else int(fin), fade_out=None if fout is None else int(fout)
        ),
    )


def _add_text(d: Draft, a: dict[str, Any]) -> Draft:
    end = tl.timeline_end(d)
    st = int(a["st"])
    dur = int(a["d_ms"])
    anchor: str | None = None
    if a.get("anchor") is not None:  # on a clip: from just after its cut, at most to its end
        anchor = resolve_main(d, a["anchor"])[0]
        _track, clip = tl.find_segment(d, anchor)
        offset = min(int(a.get("offset_ms") or 0), max(0, int(clip["d"]) - 500))
        st = int(clip["st"]) + offset
        dur = max(500, min(dur, int(clip["d"]) - offset))
    if tl.main_segments(d) and st >= end:
        raise ValueError(f"{secs(st)} is past the end of the video ({secs(end)})")
    return eo.apply_op(
        d,
        eo.AddText(a["text"], st=st, d_ms=max(1, dur), position=a["position"], role=a["role"], anchor=anchor),
    )


def _edit_text(d: Draft, a: dict[str, Any]) -> Draft:
    ids = resolve_text(d, a["target"])
    end = tl.timeline_end(d)
    for seg_id in ids:
        track, seg = tl.find_segment(d, seg_id)
        style = dict(a.get("style") or {})
        if a.get("size_factor"):
            cur = _m(seg).get("style", {}).get("size") if isinstance(_m(seg).get("style"), dict) else None
            base = (
                float(cur)
                if isinstance(cur, int | float)
                else tl.DEFAULT_TEXT_STYLE.get(str(track.get("role")), tl.DEFAULT_TEXT_STYLE["caption"])[
                    "size"
                ]
            )
            style["size"] = round(min(0.5, max(0.02, base * float(a["size_factor"]))), 3)
        st = a.get("st")
        if a.get("shift_ms") is not None:
            st = max(0, int(seg["st"]) + int(a["shift_ms"]))
        if st is not None and tl.main_segments(d) and st >= end:
            raise ValueError(f"{secs(st)} is past the end of the video ({secs(end)})")
        dur, end_ms = a.get("d_ms"), a.get("end_ms")
        if a.get("grow_ms") is not None:  # "2 seconds longer"
            dur = int(seg["d"]) + int(a["grow_ms"])
            if dur < tl.MIN_TEXT_MS:
                raise ValueError(f"it is on screen for {secs(int(seg['d']))}, so that would leave too little")
        d = eo.apply_op(
            d,
            eo.UpdateText(
                seg_id,
                text=a.get("text"),
                st=None if st is None else int(st),
                d_ms=None if dur is None else int(dur),
                end_ms=None if end_ms is None else int(end_ms),
                position=a.get("position"),
                style=style or None,
            ),
        )
    return d


def _remove_text(d: Draft, a: dict[str, Any]) -> Draft:
    for seg_id in resolve_text(d, a["target"]):
        d = eo.apply_op(d, eo.RemoveText(seg_id))
    return d


def _set_audio(d: Draft, a: dict[str, Any]) -> Draft:
    current = tl.audio_track(d, a["role"])
    if current is not None and current.get("sg") and current["sg"][0].get("src") == a["media"]:
        raise ValueError(f"{a['name']} is already the {'music' if a['role'] == 'bgm' else 'voiceover'}")
    return eo.apply_op(d, eo.SetAudio(a["role"], a["media"], name=a["name"], source_d=a.get("source_d")))


def _set_loop(d: Draft, a: dict[str, Any]) -> Draft:
    return eo.apply_op(d, eo.SetLoop(a["role"], bool(a["loop"])))


def _remove_audio(d: Draft, a: dict[str, Any]) -> Draft:
    return eo.apply_op(d, eo.RemoveAudio(a["role"]))


def _canvas(d: Draft, a: dict[str, Any]) -> Draft:
    return eo.apply_op(d, eo.SetCanvas(a["preset"], fit=a.get("fit")))


def _fit(d: Draft, a: dict[str, Any]) -> Draft:
    return eo.apply_op(d, eo.SetFit(a["fit"]))


def _title(d: Draft, a: dict[str, Any]) -> Draft:
    return eo.apply_op(d, eo.SetTitle(a["title"], retitle_text=bool(a.get("retitle_text"))))


def _add_main(d: Draft, a: dict[str, Any]) -> Draft:
    segs = _mains(d)
    kind = a["kind"]
    if a.get("d_ms"):
        dur = int(a["d_ms"])
    elif kind == "video":
        dur = int(a.get("source_d") or 5000)
    else:
        stills = [int(s["d"]) for s in segs if _m(s).get("kind") == "image"]
        dur = sum(stills) // len(stills) if stills else 5000
    if kind == "video" and a.get("source_d"):
        dur = min(dur, int(a["source_d"]))
    index: int | None = None
    if a.get("after") is not None:
        index = _main_index(d, resolve_main(d, a["after"])[0]) + 1
    elif a.get("before") is not None:
        index = _main_index(d, resolve_main(d, a["before"])[0])
    elif a.get("to") is not None:
        index = None if a["to"] == -1 else max(0, min(len(segs), int(a["to"])))
    clip = eo.ClipSpec(
        src=a["media"],
        kind=kind,
        d_ms=dur,
        name=a["name"],
        source_d=a.get("source_d"),
        has_audio=bool(a.get("has_audio")) if kind == "video" else None,
        motion="zoom_in" if kind == "image" else None,
        color=a.get("color") if kind == "color" else None,
    )
    return eo.apply_op(d, eo.AddClip(clip, index))


APPLIERS: dict[str, Callable[[Draft, dict[str, Any]], Draft]] = {
    "trim_segment": _trim,
    "remove_segment": _remove,
    "move_segment": _move,
    "move_segments": _move_group,
    "swap_segments": _swap,
    "reorder_segments": _reorder,
    "duplicate_segment": _duplicate,
    "split_segment": _split,
    "set_total_duration": _total,
    "set_speed": _speed,
    "set_transition": _transition,
    "set_motion": _motion,
    "set_volume": _volume,
    "set_fade": _fade,
    "add_text": _add_text,
    "edit_text": _edit_text,
    "remove_text": _remove_text,
    "set_audio": _set_audio,
    "remove_audio": _remove_audio,
    "set_loop": _set_loop,
    "set_canvas": _canvas,
    "set_fit": _fit,
    "set_title": _title,
    "add_main": _add_main,
}


def _step_args(op: Op) -> dict[str, Any]:
    """JSON-friendly arguments for the tool step (references as words)."""
    out: dict[str, Any] = {}
    for k, v in op.args.items():
        if v is None:
            continue
        if isinstance(v, MainRef | TextRef):
            out[k] = v.describe()
        elif isinstance(v, tuple | list):
            out[k] = [x.describe() if isinstance(x, MainRef | TextRef) else x for x in v]
        else:
            out[k] = v
    return out


def humanize(reason: str, d: Draft) -> str:
    """A timeline message in the user's words: segment ids become "clip 2", "the text "Sale"", ..."""
    labels: dict[str, str] = {}
    for i, s in enumerate(_mains(d)):
        labels[str(s.get("id"))] = f"clip {i + 1}"
    for t in tl.text_segments(d):
        labels[str(t.get("id"))] = f'the text "{t.get("text", "")}"'
    for role in ("bgm", "voiceover"):
        track = tl.audio_track(d, role)
        for s in track.get("sg", []) if track else []:
            labels[str(s.get("id"))] = "the music" if role == "bgm" else "the voiceover"
    for seg_id in sorted(labels, key=len, reverse=True):
        reason = reason.replace(f"{seg_id!r}", labels[seg_id]).replace(f"'{seg_id}'", labels[seg_id])
    return reason


def apply_ops(draft: Draft, ops: Sequence[Op]) -> tuple[Draft, list[ToolStep]]:
    """Apply every operation in order; ``ApplyError`` (and the draft untouched) if one fails."""
    d = draft
    steps: list[ToolStep] = []
    trimmed: list[str] = []  # clips given a length in this message keep it when the total changes
    focus: dict[str, Any] | None = None
    for op in ops:
        before = d
        args = dict(op.args)
        if op.name == "set_total_duration":
            args["keep"] = tuple(dict.fromkeys([*trimmed, *asked_lengths(d)]))
        try:
            try:
                d = APPLIERS[op.name](d, args)
            except tl.TimelineError:
                if op.name != "set_total_duration" or args["keep"] == tuple(trimmed):
                    raise
                d = APPLIERS[op.name](d, {**args, "keep": tuple(trimmed)})  # not all can keep their length
            if op.name == "trim_segment":
                trimmed += resolve_main(before, op.args["target"])
        except (tl.TimelineError, ValueError) as exc:
            raise ApplyError(op.phrase or op.name, humanize(str(exc), d)) from exc
        changes = sm.describe_changes(before, d)
        steps.append(ToolStep(op.name, _step_args(op), "; ".join(changes) or "no change"))
        focus = touched(before, d, op) or focus
    names = {op.name for op in ops}
    if names & _KEEPS_TARGET and "set_total_duration" not in names:
        d, step = _keep_target(draft, d, list(dict.fromkeys([*trimmed, *asked_lengths(d)])))
        if step is not None:
            steps.append(step)
    if ops:
        # the last operation too, so that a follow-up can correct it ("no, white", "longer, 25")
        focus = {**(focus or {"kind": "video", "ids": []}), "last": _memory(ops[-1])}
        meta = {k: v for k, v in d["m"].items() if k != FOCUS_KEY}
        d = {**d, "m": {**meta, FOCUS_KEY: focus}}
    return d, steps


def _memory(op: Op) -> dict[str, Any]:
    """An operation as the draft can keep it (JSON): its name and plain arguments, a role target kept."""
    args: dict[str, Any] = {}
    for key, value in op.args.items():
        plain = isinstance(value, int | float | str | bool) or (
            isinstance(value, dict) and all(isinstance(v, int | float | str | bool) for v in value.values())
        )
        if plain and (key != "target" or isinstance(value, str)):
            args[key] = value
    return {"name": op.name, "args": args}


# The conversation's memory: what the last edit touched, kept in the draft's metadata (m.focus) so
# that it is stored with the revision (undo brings back the memory of that revision, and it
# survives a restart of the engine). "it", "that text", "the one I just added", "the copy" refer to it.
FOCUS_KEY = "focus"
_AUDIO_OPS = frozenset({"set_audio", "remove_audio", "set_loop"})


def touched(before: Draft, after: Draft, op: Op) -> dict[str, Any] | None:
    """What one operation touched: {"kind": "text"|"clip"|"audio", "ids": [...]} (None: the video)."""
    old_texts = {str(t["id"]) for t in tl.text_segments(before)}
    new_texts = [str(t["id"]) for t in tl.text_segments(after) if str(t["id"]) not in old_texts]
    old_main = {str(s["id"]) for s in _mains(before)}
    new_main = [str(s["id"]) for s in _mains(after) if str(s["id"]) not in old_main]
    if new_texts and not new_main:
        return {"kind": "text", "ids": new_texts}
    if new_main and not new_texts and op.name != "split_segment":
        return {"kind": "clip", "ids": new_main}
    target = op.args.get("target")
    try:
        if isinstance(target, TextRef) and op.name != "remove_text":
            return {"kind": "text", "ids": resolve_text(before, target)}
        if isinstance(target, MainRef) and op.name != "remove_segment":
            ids = resolve_main(before, target)
            return {"kind": "clip", "ids": ids, **_neighbours(after, ids), **_repeatable(op)}
        removed = [
            str(s["id"]) for s in _mains(before) if str(s["id"]) not in {str(x["id"]) for x in _mains(after)}
        ]
        if op.name == "remove_segment" and len(removed) == 1:  # "and the one after it too"
            return {"kind": "removed", "ids": [], **_neighbours(before, removed), **_repeatable(op)}
    except ValueError:
        return None
    role = op.args.get("role") if op.name in _AUDIO_OPS else target
    if isinstance(role, str) and role in tl.AUDIO_ROLES and op.name != "remove_audio":
        return {"kind": "audio", "ids": [role]}
    return None


def _neighbours(d: Draft, ids: list[str]) -> dict[str, str]:
    """The clips just before and after the one touched ("the one after it")."""
    order = [str(s["id"]) for s in _mains(d)]
    if len(ids) != 1 or ids[0] not in order:
        return {}
    i = order.index(ids[0])
    out = {}
    if i > 0:
        out["prev"] = order[i - 1]
    if i + 1 < len(order):
        out["next"] = order[i + 1]
    return out


def _repeatable(op: Op) -> dict[str, Any]:
    """The last clip operation, without its target, so "do the same for the last one" can repeat it."""
    args = {k: v for k, v in op.args.items() if isinstance(v, int | float | str | bool) and k != "target"}
    return {"op": {"name": op.name, "args": args}}


# ---------------------------------------------------------------------------------------------
# generation (two stages)


def build_generation(plan: GenPlan) -> tuple[Draft, list[ToolStep], Draft, list[ToolStep]]:
    """The raw cut (visuals) and then the music-and-title stage, each with its tool steps."""
    w, h = tl.CANVAS_PRESETS[plan.preset]
    d = tl.new_draft(title=plan.title[: tl.MAX_TITLE_CHARS], width=w, height=h, fps=30)
    if plan.asked_ms is not None and plan.asked_ms == plan.duration_ms:
        d["m"][eo.TARGET_KEY] = plan.asked_ms
    for v in plan.visuals:
        clip = eo.ClipSpec(
            src=v.media,
            kind=v.kind,
            d_ms=v.d_ms,
            name=v.name,
            source_d=v.source_d,
            has_audio=v.has_audio,
            motion=v.motion,
            color=v.color,
        )
        d = eo.apply_op(d, eo.AddClip(clip))
    kind, length = plan.transition
    if len(plan.visuals) >= 2:
        d = eo.apply_op(d, eo.SetTransition(kind, length))
    counts: dict[str, int] = {}
    for v in {(v.media or str(i), v.kind): v for i, v in enumerate(plan.visuals)}.values():
        counts[v.kind] = counts.get(v.kind, 0) + 1
    what = ", ".join(f"{n} {sm.kind_noun(k)}{'s' if n > 1 else ''}" for k, n in counts.items())
    if len(plan.visuals) > sum(counts.values()):
        what += f" in {len(plan.visuals)} cuts"  # an energetic slideshow shows the photos again
    raw_steps = [
        ToolStep(
            "generate_video",
            {
                "canvas": plan.preset,
                "duration_ms": tl.timeline_end(d),
                "visuals": [v.name for v in plan.visuals],
                "transition": kind,
            },
            f"{what}, {secs(tl.timeline_end(d))}, {plan.preset}"
            + (f", {kind} transitions" if len(plan.visuals) >= 2 else ""),
        )
    ]
    raw = d
    steps: list[ToolStep] = []
    if plan.voiceover is not None:
        before = d
        vo = plan.voiceover
        d = eo.apply_op(d, eo.SetAudio("voiceover", vo.media, name=vo.name, source_d=vo.source_d, loop=False))
        steps.append(
            ToolStep(
                "set_audio",
                {"role": "voiceover", "media": plan.voiceover.name},
                "; ".join(sm.describe_changes(before, d)),
            )
        )
    if plan.bgm is not None:
        before = d
        bgm = plan.bgm
        d = eo.apply_op(
            d, eo.SetAudio("bgm", bgm.media, name=bgm.name, source_d=bgm.source_d, loop=True, vol=bgm.vol)
        )
        steps.append(
            ToolStep(
                "set_audio",
                {"role": "bgm", "media": plan.bgm.name},
                "; ".join(sm.describe_changes(before, d)),
            )
        )
    end = tl.timeline_end(d)
    for t in plan.texts:
        if t.st >= end:
            continue
        before = d
        anchor = str(tl.main_segments(d)[t.clip]["id"]) if t.clip is not None else None
        d = eo.apply_op(
            d, eo.AddText(t.text, st=t.st, d_ms=t.d_ms, position=t.position, role=t.role, anchor=anchor)
        )
        steps.append(
            ToolStep(
                "add_text",
                {"text": t.text, "st": t.st, "d_ms": t.d_ms, "role": t.role},
                "; ".join(sm.describe_changes(before, d)),
            )
        )
    return raw, raw_steps, d, steps
