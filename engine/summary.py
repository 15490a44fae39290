"""Human words for a draft: the one-line track summary and the list of what changed between two drafts.

``track_summary`` has exactly docs/protocol.md §6's shape (one line; wrapped here)::

    Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%)
    3. Title: "Urban Dreams" (0-3s)

``describe_changes`` matches segments by id and reports, in a fixed order: title and canvas, main clips
(removed, added/split/duplicated, reordered, then per clip), text, audio, overlays, total duration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from engine.timeline import (
    CANVAS_PRESETS,
    DEFAULT_TEXT_STYLE,
    Draft,
    Segment,
    Track,
    main_track,
    segment_kind,
    timeline_end,
)

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_KIND_NOUN = {
    "image": "image",
    "video": "video clip",
    "color": "colour card",
    "audio": "audio",
    "text": "text",
}


def kind_noun(kind: str) -> str:
    """The word for a kind of clip, the same in every reply and summary ("color" → "colour card")."""
    return _KIND_NOUN.get(kind, kind)


# --------------------------------------------------------------------------------------------------
# words for numbers and names


def seconds(ms: int | float) -> str:
    """Milliseconds as seconds without a unit: 6400 -> "6.4", 10000 -> "10", 6450 -> "6.45"."""
    return f"{ms / 1000:.2f}".rstrip("0").rstrip(".")


def _span(a: int, b: int) -> tuple[str, str]:
    """Two durations in seconds, precise enough to tell them apart."""
    left, right = seconds(a), seconds(b)
    if left == right and a != b:
        left, right = f"{a / 1000:.3f}".rstrip("0").rstrip("."), f"{b / 1000:.3f}".rstrip("0").rstrip(".")
    return left, right


def _percent(vol: object) -> str:
    value = vol if isinstance(vol, int | float) and not isinstance(vol, bool) else 1.0
    return f"{round(value * 100)}%"


def _m(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("m")
    return meta if isinstance(meta, dict) else {}


def _tracks(d: Draft) -> list[Track]:
    tracks = d.get("t")
    return [t for t in tracks if isinstance(t, dict)] if isinstance(tracks, list) else []


def _segments(track: Track) -> list[Segment]:
    segs = track.get("sg")
    return [s for s in segs if isinstance(s, dict)] if isinstance(segs, list) else []


def media_name(track: Track, seg: Segment) -> str:
    """The media's human name: ``m.name`` without folder or extension, underscores as spaces."""
    name = _m(seg).get("name")
    if not isinstance(name, str) or not name.strip():
        src = seg.get("src")
        path = urlsplit(src).path if isinstance(src, str) else ""
        name = path if _EXTENSION.search(path) else ""
    base = PurePosixPath(name.replace("\\", "/")).name if name else ""
    base = _EXTENSION.sub("", base) if _EXTENSION.search(base) and base[:1] != "." else base
    base = " ".join(base.replace("_", " ").split())
    return base or _KIND_NOUN.get(segment_kind(track, seg), "media")


def _end(seg: Segment) -> int:
    return int(seg["st"]) + int(seg["d"])


def _quote(text: object) -> str:
    return " ".join(str(text).split())


# --------------------------------------------------------------------------------------------------
# track summary


def _label(track: Track, is_main: bool) -> str:
    tt, role = track.get("tt"), track.get("role")
    if tt == 0:
        return "Video" if is_main else "Overlay"
    if tt == 1:
        return {"bgm": "BGM", "voiceover": "Voiceover"}.get(str(role), "Audio")
    if tt == 7:
        return {"title": "Title", "caption": "Caption"}.get(str(role), "Text")
    return "Track"


def _names(track: Track, segs: list[Segment]) -> str:
    names: list[str] = []
    for seg in segs:
        name = media_name(track, seg)
        if name not in names:
            names.append(name)
    if len(names) <= 2:
        return ", ".join(names)
    return f"{names[0]}, {names[1]} +{len(names) - 2} more"


def _track_entry(track: Track, is_main: bool) -> str:
    segs = sorted(_segments(track), key=lambda s: int(s["st"]))
    label = _label(track, is_main)
    start, end = seconds(min(int(s["st"]) for s in segs)), seconds(max(_end(s) for s in segs))
    if track.get("tt") == 7:
        texts = [f'"{_quote(s.get("text", ""))}" ({seconds(s["st"])}-{seconds(_end(s))}s)' for s in segs]
        return f"{label}: {', '.join(texts)}"
    if track.get("tt") == 1:
        parts = [
            f"{media_name(track, s)} ({seconds(s['st'])}-{seconds(_end(s))}s, {_percent(s.get('vol'))})"
            for s in segs
        ]
        return f"{label}: {', '.join(parts)}"
    return f"{label}: {_names(track, segs)} ({start}-{end}s)"


def track_summary(d: Draft) -> str:
    """One entry per non-empty track in track order; ``Timeline (0 tracks): empty`` for nothing."""
    main = main_track(d) if isinstance(d.get("t"), list) else None
    entries = [_track_entry(t, t is main) for t in _tracks(d) if _segments(t)]
    if not entries:
        return "Timeline (0 tracks): empty"
    noun = "track" if len(entries) == 1 else "tracks"
    body = " ".join(f"{i}. {entry}" for i, entry in enumerate(entries, start=1))
    return f"Timeline ({len(entries)} {noun}): {body}"


# --------------------------------------------------------------------------------------------------
# describe_changes


def _canvas(m: dict[str, Any]) -> str:
    size = (m.get("width"), m.get("height"))
    preset = next((name for name, wh in CANVAS_PRESETS.items() if wh == size), None)
    return f"{size[0]}x{size[1]}" + (f" ({preset})" if preset else "")


def _meta_changes(before: Draft, after: Draft) -> list[str]:
    old, new = _m(before), _m(after)
    lines: list[str] = []
    if (old.get("title") or "") != (new.get("title") or ""):
        if not old.get("title"):
            lines.append(f"title set to '{new.get('title')}'")
        elif not new.get("title"):
            lines.append(f"title '{old.get('title')}' removed")
        else:
            lines.append(f"title changed from '{old.get('title')}' to '{new.get('title')}'")
    if (old.get("width"), old.get("height")) != (new.get("width"), new.get("height")):
        lines.append(f"canvas changed from {_canvas(old)} to {_canvas(new)}")
    if old.get("fit") != new.get("fit"):
        lines.append(
            f"fit changed from {_word(old.get('fit') or 'cover')} to {_word(new.get('fit') or 'cover')}"
        )
    if old.get("fps") != new.get("fps") and new.get("fps") is not None:
        lines.append(f"frame rate {old.get('fps')} → {new.get('fps')} fps")
    if old.get("background") != new.get("background"):
        lines.append(f"background colour {old.get('background') or 'default'} → {new.get('background')}")
    return lines


def _word(value: object) -> str:
    return str(value).replace("_", " ")


def _clip_label(index: int, count: int) -> str:
    if count == 1:
        return "the clip"
    if index == 0:
        return "intro"
    if index == count - 1:
        return "last clip"
    return f"clip {index + 1}"


def _transition(seg: Segment) -> tuple[str, int] | None:
    transition = _m(seg).get("transition")
    if not isinstance(transition, dict) or transition.get("type") in (None, "none"):
        return None
    duration = transition.get("d")
    return str(transition["type"]), int(duration) if isinstance(duration, int) else 0


def _transition_words(value: tuple[str, int]) -> str:
    return f"{value[0]} ({seconds(value[1])}s)"


def _speed(seg: Segment) -> float:
    speed = _m(seg).get("speed", 1)
    return float(speed) if isinstance(speed, int | float) and not isinstance(speed, bool) else 1.0


def _length_words(label: str, old: int, new: int) -> str:
    a, b = _span(old, new)
    verb = "shortened" if new < old else "lengthened"
    return f"{label} {verb} from {a}s to {b}s"


def _fade_changes(label: str, old: Segment, new: Segment) -> list[str]:
    lines = []
    for key, noun in (("fade_in", "fade-in"), ("fade_out", "fade-out")):
        a, b = _m(old).get(key, 0), _m(new).get(key, 0)
        if a != b:
            lines.append(f"{label} {noun} {seconds(a)}s → {seconds(b)}s")
    return lines


def _main_changes(before: Draft, after: Draft) -> tuple[list[str], list[str]]:
    """(structural lines, per-clip lines) for the main track."""
    old_main, new_main = main_track(before), main_track(after)
    olds = _segments(old_main) if old_main is not None else []
    news = _segments(new_main) if new_main is not None else []
    old_track: Track = old_main if old_main is not None else {"tt": 0}
    new_track: Track = new_main if new_main is not None else {"tt": 0}
    old_by_id = {s["id"]: (i, s) for i, s in enumerate(olds)}
    new_ids = {s["id"] for s in news}
    structural: list[str] = []
    per_clip: list[str] = []
    for i, seg in enumerate(olds):
        if seg["id"] not in new_ids:
            structural.append(f"clip {i + 1} ({media_name(old_track, seg)}) removed")
    explained: set[str] = set()
    for j, seg in enumerate(news):
        if seg["id"] in old_by_id:
            continue
        name = media_name(new_track, seg)
        prev = news[j - 1] if j > 0 else None
        if prev is not None and prev["id"] in old_by_id and prev.get("src") == seg.get("src"):
            k, prev_before = old_by_id[prev["id"]]
            if int(prev_before["d"]) == int(prev["d"]) + int(seg["d"]):
                structural.append(f"clip {k + 1} ({name}) split at {seconds(seg['st'])}s")
                explained.add(prev["id"])
                continue
            if int(prev_before["d"]) == int(prev["d"]) == int(seg["d"]):
                structural.append(f"clip {k + 1} ({name}) duplicated")
                continue
        structural.append(f"clip {j + 1} ({name}) added at {seconds(seg['st'])}s ({seconds(seg['d'])}s)")
    common_old = [s["id"] for s in olds if s["id"] in new_ids]
    common_new = [s["id"] for s in news if s["id"] in old_by_id]
    if common_old != common_new:
        names = [media_name(new_track, s) for s in news if s["id"] in old_by_id]
        structural.append(f"clips reordered: {', '.join(names)}")
    for j, seg in enumerate(news):
        if seg["id"] not in old_by_id:
            continue
        old = old_by_id[seg["id"]][1]
        label = _clip_label(j, len(news))
        per_clip.extend(_clip_changes(label, old, seg, new_track, old_track, seg["id"] in explained))
    return structural, per_clip


def _clip_changes(
    label: str, old: Segment, new: Segment, track: Track, old_track: Track, split: bool
) -> list[str]:
    lines: list[str] = []
    if old.get("src") != new.get("src"):
        lines.append(f"{label} replaced: {media_name(old_track, old)} → {media_name(track, new)}")
    old_speed, new_speed = _speed(old), _speed(new)
    old_d, new_d = int(old["d"]), int(new["d"])
    old_in, new_in = int(old.get("in", 0)), int(new.get("in", 0))
    if old_speed != new_speed:
        lines.append(f"{label} speed {old_speed:g}x → {new_speed:g}x (now {seconds(new_d)}s)")
    elif not split:
        if old_in != new_in and old_d != new_d:
            a, b = _span(old_d, new_d)
            lines.append(f"{label} trimmed from {a}s to {b}s (starts {seconds(new_in)}s into the source)")
        elif old_in != new_in:
            lines.append(f"{label} now starts {seconds(new_in)}s into the source")
        elif old_d != new_d:
            lines.append(_length_words(label, old_d, new_d))
    old_t, new_t = _transition(old), _transition(new)
    if old_t != new_t and not split:  # a split hands the transition on to the second half
        if old_t is None and new_t is not None:
            lines.append(f"{_transition_words(new_t)} transition added after {label}")
        elif new_t is None and old_t is not None:
            lines.append(f"transition after {label} removed")
        elif old_t is not None and new_t is not None:
            lines.append(
                f"transition after {label} changed from {_transition_words(old_t)} "
                f"to {_transition_words(new_t)}"
            )
    old_motion, new_motion = _m(old).get("motion") or "none", _m(new).get("motion") or "none"
    if old_motion != new_motion:
        if old_motion == "none":
            lines.append(f"{label} motion set to {_word(new_motion)}")
        elif new_motion == "none":
            lines.append(f"{label} motion removed (was {_word(old_motion)})")
        else:
            lines.append(f"{label} motion changed from {_word(old_motion)} to {_word(new_motion)}")
    if old.get("vol", 1.0) != new.get("vol", 1.0):
        lines.append(f"{label} volume {_percent(old.get('vol'))} → {_percent(new.get('vol'))}")
    if not split:  # a split hands the fade-out on to the second half
        lines.extend(_fade_changes(label, old, new))
    return lines


def _text_map(d: Draft) -> dict[str, Segment]:
    segs = [s for t in _tracks(d) if t.get("tt") == 7 for s in _segments(t)]
    return {s["id"]: s for s in sorted(segs, key=lambda s: (int(s["st"]), str(s["id"])))}


def _text_changes(before: Draft, after: Draft) -> list[str]:
    olds, news = _text_map(before), _text_map(after)
    lines: list[str] = []
    for seg_id, seg in olds.items():
        if seg_id not in news:
            lines.append(f"text '{_quote(seg.get('text', ''))}' removed")
    for seg_id, seg in news.items():
        words = _quote(seg.get("text", ""))
        old = olds.get(seg_id)
        if old is None:
            style = _m(seg).get("style")
            base = DEFAULT_TEXT_STYLE.get("title" if _m(seg).get("role") == "title" else "caption", {})
            own = [
                f"{key} {value}"
                for key, value in sorted((style if isinstance(style, dict) else {}).items(), key=str)
                if base.get(key) != value and key != "size"
            ]
            extra = f", {', '.join(own)}" if own else ""  # "... added at 0s (3s), color #ff3b30"
            lines.append(f"text '{words}' added at {seconds(seg['st'])}s ({seconds(seg['d'])}s){extra}")
            continue
        old_words = _quote(old.get("text", ""))
        if old_words != words:
            lines.append(f"text '{old_words}' changed to '{words}'")
        if int(old["st"]) != int(seg["st"]):
            a, b = _span(int(old["st"]), int(seg["st"]))
            lines.append(f"text '{words}' moved from {a}s to {b}s")
        if int(old["d"]) != int(seg["d"]):
            lines.append(_length_words(f"text '{words}'", int(old["d"]), int(seg["d"])))
        old_pos, new_pos = _m(old).get("position", "center"), _m(seg).get("position", "center")
        if old_pos != new_pos:
            lines.append(f"text '{words}' position changed from {_word(old_pos)} to {_word(new_pos)}")
        old_style, new_style = _m(old).get("style"), _m(seg).get("style")
        old_style = old_style if isinstance(old_style, dict) else {}
        new_style = new_style if isinstance(new_style, dict) else {}
        changed = [
            f"{key} {old_style.get(key, 'default')} → {new_style.get(key, 'default')}"
            for key in sorted(set(old_style) | set(new_style), key=str)
            if old_style.get(key) != new_style.get(key)
        ]
        if changed:
            lines.append(f"text '{words}' style changed: {', '.join(changed)}")
    return lines


_ROLE_WORDS = {"bgm": ("background music", "music"), "voiceover": ("voiceover", "voiceover")}


def _role_segment(d: Draft, role: str) -> tuple[Track, Segment] | None:
    for track in _tracks(d):
        if track.get("tt") == 1 and track.get("role") == role and _segments(track):
            return track, _segments(track)[0]
    return None


def _audio_changes(before: Draft, after: Draft) -> list[str]:
    lines: list[str] = []
    consequences: list[str] = []  # ducking follows from the voiceover: told after it
    for role, (full, short) in _ROLE_WORDS.items():
        old, new = _role_segment(before, role), _role_segment(after, role)
        if old is None and new is None:
            continue
        if new is None:
            lines.append(f"{full} removed")
            continue
        new_track, new_seg = new
        if old is None:
            lines.append(f"{full} added: {media_name(new_track, new_seg)} ({_percent(new_seg.get('vol'))})")
            continue
        old_track, old_seg = old
        if old_seg.get("src") != new_seg.get("src"):
            lines.append(
                f"{full} changed from {media_name(old_track, old_seg)} to {media_name(new_track, new_seg)}"
            )
        if old_seg.get("vol", 1.0) != new_seg.get("vol", 1.0):
            lines.append(f"{short} volume {_percent(old_seg.get('vol'))} → {_percent(new_seg.get('vol'))}")
        lines.extend(_fade_changes(short, old_seg, new_seg))
        old_loop, new_loop = bool(_m(old_seg).get("loop")), bool(_m(new_seg).get("loop"))
        if old_loop != new_loop:
            lines.append(f"{short} {'now loops' if new_loop else 'no longer loops'}")
        old_in, new_in = int(old_seg.get("in", 0)), int(new_seg.get("in", 0))
        if old_in != new_in and old_seg.get("src") == new_seg.get("src"):
            lines.append(f"{short} now starts {seconds(new_in)}s into the track")
        old_duck, new_duck = bool(_m(old_seg).get("duck")), bool(_m(new_seg).get("duck"))
        if old_duck != new_duck:
            consequences.append(f"{short} {'ducks under the voiceover' if new_duck else 'no longer ducks'}")
    return lines + consequences


def _other_changes(before: Draft, after: Draft) -> list[str]:
    """Overlays and other audio (sfx...), matched by id."""

    def collect(d: Draft) -> dict[str, tuple[Track, Segment]]:
        main = main_track(d) if isinstance(d.get("t"), list) else None
        found: dict[str, tuple[Track, Segment]] = {}
        for track in _tracks(d):
            overlay = track.get("tt") == 0 and track is not main
            other_audio = track.get("tt") == 1 and track.get("role") not in _ROLE_WORDS
            if overlay or other_audio:
                for seg in _segments(track):
                    found[str(seg["id"])] = (track, seg)
        return found

    olds, news = collect(before), collect(after)
    lines: list[str] = []

    def noun(track: Track) -> str:
        return "overlay" if track.get("tt") == 0 else "audio"

    for seg_id in sorted(olds, key=_id_key):
        if seg_id not in news:
            track, seg = olds[seg_id]
            lines.append(f"{noun(track)} '{media_name(track, seg)}' removed")
    for seg_id in sorted(news, key=_id_key):
        track, seg = news[seg_id]
        label = f"{noun(track)} '{media_name(track, seg)}'"
        if seg_id not in olds:
            lines.append(f"{label} added at {seconds(seg['st'])}s ({seconds(seg['d'])}s)")
            continue
        _, old = olds[seg_id]
        if int(old["st"]) != int(seg["st"]):
            a, b = _span(int(old["st"]), int(seg["st"]))
            lines.append(f"{label} moved from {a}s to {b}s")
        if int(old["d"]) != int(seg["d"]):
            lines.append(_length_words(label, int(old["d"]), int(seg["d"])))
        if old.get("vol", 1.0) != seg.get("vol", 1.0):
            lines.append(f"{label} volume {_percent(old.get('vol'))} → {_percent(seg.get('vol'))}")
    return lines


def _id_key(seg_id: str) -> tuple[int, str]:
    match = re.match(r"^s(\d+)$", seg_id)
    return (int(match.group(1)), "") if match else (1 << 62, seg_id)


def _end_of(d: Draft) -> int:
    return timeline_end(d) if isinstance(d.get("t"), list) else 0


def describe_changes(before: Draft, after: Draft) -> list[str]:
    """What changed from ``before`` to ``after``, as short sentences (empty: nothing a user would see)."""
    structural, per_clip = _main_changes(before, after)
    lines: list[str] = [
        *_meta_changes(before, after),
        *structural,
        *per_clip,
        *_text_changes(before, after),
        *_audio_changes(before, after),
        *_other_changes(before, after),
    ]
    old_end, new_end = _end_of(before), _end_of(after)
    if old_end != new_end:
        a, b = _span(old_end, new_end)
        lines.append(f"total duration {a}s → {b}s")
    return _unique(lines)


def _unique(lines: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out
