"""The draft model of the local engine: pure, immutable timeline operations.

A draft is the JSON timeline of docs/protocol.md §6 (``schemas/draft.schema.json``): ``m`` metadata and ``t``
tracks bottom to top, each with segments ``sg`` (``st`` start and ``d`` duration in ms on the timeline,
``src`` media, ``in`` source in-point, ``vol``, ``text``, and ``m`` for everything else).

Every operation takes a draft and returns a new one (a deep copy); the input is never mutated and unknown
keys are kept. Invalid requests raise :class:`TimelineError` saying what was wrong and what is allowed.
After every operation a normalisation pass restores the invariants:

- the main track's segments are contiguous from 0 in list order (ripple), every ``d > 0``;
- text and overlay segments lie inside ``[0, timeline_end]`` (text keeps at least 500 ms where it can);
- audio ends at or before ``timeline_end``: music and voiceover with ``m.loop`` span to the end, without
  it they end at ``min(source end, timeline end)``; volumes lie in 0..1, fades within their segment;
- a transition lasts at most half of either neighbour (one on the last main clip has nothing to go
  into: it is kept, for when a clip is added after it, and renderers ignore it);
- music is ducked (``m.duck``) while a voiceover exists;
- tracks are ordered main video, overlay video, text, audio (stable within each group).

Queries (``main_track``, ``find_segment``...) return views into the draft they were given: read them, do
not mutate them.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Collection, Iterable, Sequence
from fractions import Fraction
from typing import Any, Final

from engine._schemas import draft_validator

Draft = dict[str, Any]
Track = dict[str, Any]
Segment = dict[str, Any]


class TimelineError(ValueError):
    """A request or a draft that breaks the timeline's rules; the message says what is allowed."""


CANVAS_PRESETS: Final[dict[str, tuple[int, int]]] = {
    "16:9": (1920, 1080),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "4:5": (1080, 1350),
}
FITS: Final = ("cover", "contain", "contain_blur")
TRANSITIONS: Final = ("none", "fade", "crossfade", "wipe", "slide")
MOTIONS: Final = ("none", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")
POSITIONS: Final = (
    "center",
    "top",
    "bottom",
    "lower_third",
    "upper_third",
    "top_left",
    "top_right",
    "bottom_left",
    "bottom_right",
)
MAIN_KINDS: Final = ("image", "video", "color")
TEXT_ROLES: Final = ("title", "caption")
AUDIO_ROLES: Final = ("bgm", "voiceover")
MIN_SPEED: Final = 0.25
MAX_SPEED: Final = 4.0
MIN_TEXT_MS: Final = 500
BGM_DEFAULT_VOL: Final = 0.35
BGM_DEFAULT_FADE_OUT: Final = 2000
DEFAULT_TEXT_STYLE: Final[dict[str, dict[str, Any]]] = {
    "caption": {"size": 0.08, "color": "#ffffff", "outline": "#000000"},
    "title": {"size": 0.12, "color": "#ffffff", "outline": "#000000"},
}
STYLE_KEYS: Final = ("size", "color", "outline", "bold", "background")
MAX_TITLE_CHARS: Final = 200

_SEG_ID = re.compile(r"^s(\d+)$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")
_IMAGE_EXT: Final = frozenset({"jpg", "jpeg", "png", "gif", "webp", "bmp"})
_VIDEO_EXT: Final = frozenset({"mp4", "mov", "avi", "webm", "mkv", "m4v"})
_AUDIO_EXT: Final = frozenset({"mp3", "wav", "m4a", "aac", "ogg", "flac"})


# --------------------------------------------------------------------------------------------------
# small helpers


def _secs(ms: int) -> str:
    """10000 -> "10s", 6400 -> "6.4s" (for error messages)."""
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".") + "s"


def _a(kind: str) -> str:
    """ "an image", "a video", "a colour card" (for messages)."""
    noun = {"color": "colour card", "audio": "audio track", "text": "text segment"}.get(kind, kind)
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _ms(value: object, what: str, *, positive: bool = False) -> int:
    """A duration/time argument as whole milliseconds (floats are rounded)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TimelineError(f"{what} must be a number of milliseconds, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TimelineError(f"{what} must be a finite number of milliseconds, got {value!r}")
        value = round(value)
    if positive and value <= 0:
        raise TimelineError(f"{what} must be more than 0 ms, got {value}")
    if value < 0:
        raise TimelineError(f"{what} must be 0 ms or more, got {value}")
    return int(value)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TimelineError(f"{what} must be a number, got {value!r}")
    return float(value)


def _volume(value: object) -> float:
    vol = _number(value, "volume")
    if not 0.0 <= vol <= 1.0:
        raise TimelineError(f"volume must be between 0 and 1 (0%-100%), got {value!r}")
    return vol


def _choice(value: object, what: str, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if not isinstance(value, str) or value not in options:
        raise TimelineError(f"{what} must be one of {', '.join(options)}; got {value!r}")
    return value


def _color(value: object, what: str) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise TimelineError(f"{what} must be a colour written #rrggbb (or #rrggbbaa), got {value!r}")
    return value


def _style(style: object) -> dict[str, Any]:
    if not isinstance(style, dict):
        raise TimelineError(f"style must be an object with keys {', '.join(STYLE_KEYS)}; got {style!r}")
    out: dict[str, Any] = {}
    for key, value in style.items():
        if key == "size":
            size = _number(value, "style size")
            if not 0 < size <= 1:
                raise TimelineError(
                    f"style size is a fraction of the canvas height, more than 0 and at most 1; got {value!r}"
                )
            out[key] = size
        elif key in ("color", "outline", "background"):
            out[key] = _color(value, f"style {key}")
        elif key == "bold":
            if not isinstance(value, bool):
                raise TimelineError(f"style bold must be true or false, got {value!r}")
            out[key] = value
        else:
            raise TimelineError(f"unknown style key {key!r}; style keys are {', '.join(STYLE_KEYS)}")
    return out


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TimelineError(f"text must be non-empty words, got {value!r}")
    return value.strip()


def _meta(seg: Segment) -> dict[str, Any]:
    """The segment's ``m`` (created when missing; only used on drafts this module owns)."""
    meta = seg.get("m")
    if not isinstance(meta, dict):
        meta = {}
        seg["m"] = meta
    return meta


def _m(obj: dict[str, Any]) -> dict[str, Any]:
    """Read-only view of ``m`` ({} when missing)."""
    meta = obj.get("m")
    return meta if isinstance(meta, dict) else {}


def _ids(segs: Iterable[Segment]) -> str:
    ids = [str(s.get("id")) for s in segs]
    return ", ".join(ids) if ids else "none"


def _edit(d: object) -> Draft:
    """A deep copy to work on, after a shape check of the draft given."""
    if not isinstance(d, dict) or not isinstance(d.get("m"), dict) or not isinstance(d.get("t"), list):
        raise TimelineError(
            "a draft is an object with 'm' (metadata) and 't' (a list of tracks); load it with load_draft"
        )
    return copy.deepcopy(d)


def segment_kind(track: Track, seg: Segment) -> str:
    """image | video | audio | text | color: ``m.kind``, else inferred from the track type and ``src``."""
    kind = _m(seg).get("kind")
    if isinstance(kind, str) and kind:
        return kind
    tt = track.get("tt")
    if tt == 7 or "text" in seg:
        return "text"
    if tt == 1:
        return "audio"
    src = seg.get("src")
    ext = src.rsplit(".", 1)[-1].lower() if isinstance(src, str) and "." in src else ""
    if ext in _IMAGE_EXT:
        return "image"
    if ext in _VIDEO_EXT:
        return "video"
    if ext in _AUDIO_EXT:
        return "audio"
    return "video" if ("in" in seg or "source_d" in _m(seg)) else "image"


def _speed(seg: Segment) -> Fraction:
    speed = _m(seg).get("speed", 1)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0:
        return Fraction(1)
    return Fraction(speed)


def _source_cap(track: Track, seg: Segment, in_ms: int | None = None) -> int | None:
    """The longest ``d`` the segment's source allows from ``in_ms`` at its speed (None: unbounded)."""
    if segment_kind(track, seg) not in ("video", "audio"):
        return None
    source_d = _m(seg).get("source_d")
    if isinstance(source_d, bool) or not isinstance(source_d, int | float):
        return None
    start = seg.get("in", 0) if in_ms is None else in_ms
    return max(0, math.floor(Fraction(source_d - start) / _speed(seg)))


# --------------------------------------------------------------------------------------------------
# construction and queries


def new_draft(*, title: str = "", width: int = 1920, height: int = 1080, fps: float = 30) -> Draft:
    """An empty draft (no tracks) with the given canvas."""
    if not isinstance(title, str):
        raise TimelineError(f"title must be a string, got {title!r}")
    for what, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not 16 <= value <= 7680:
            raise TimelineError(f"{what} must be a whole number of pixels from 16 to 7680, got {value!r}")
    rate = _number(fps, "fps")
    if not 0 < rate <= 120:
        raise TimelineError(f"fps must be more than 0 and at most 120, got {fps!r}")
    return {"m": {"title": title.strip(), "width": width, "height": height, "fps": fps}, "t": []}


def _json_path(parts: Iterable[object]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def load_draft(obj: object) -> Draft:
    """A schema-validated deep copy of ``obj``; TimelineError lists every problem with its JSON path."""
    errors = sorted(draft_validator().iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [f"{_json_path(e.absolute_path)}: {e.message}" for e in errors]
    if not problems:
        assert isinstance(obj, dict)
        problems = _invariant_problems(obj)
    if problems:
        raise TimelineError(
            f"the draft is not valid ({len(problems)} problem{'s' if len(problems) > 1 else ''}): "
            + "; ".join(problems)
        )
    assert isinstance(obj, dict)
    return copy.deepcopy(obj)


def _invariant_problems(d: Draft) -> list[str]:
    problems: list[str] = []
    track_ids: set[str] = set()
    seg_ids: set[str] = set()
    for ti, track in enumerate(d["t"]):
        if track["id"] in track_ids:
            problems.append(f"$.t[{ti}].id: track id {track['id']!r} is used twice; track ids must be unique")
        track_ids.add(track["id"])
        for si, seg in enumerate(track["sg"]):
            if seg["id"] in seg_ids:
                problems.append(
                    f"$.t[{ti}].sg[{si}].id: segment id {seg['id']!r} is used twice; "
                    "segment ids must be unique"
                )
            seg_ids.add(seg["id"])
            if track["tt"] == 7 and not isinstance(seg.get("text"), str):
                problems.append(f"$.t[{ti}].sg[{si}]: a text segment needs 'text' (its words)")
    main = main_track(d)
    pos = 0
    for track_index, track in enumerate(d["t"]):
        if track is not main:
            continue
        main_segs: list[Segment] = d["t"][track_index]["sg"]
        for si, seg in enumerate(main_segs):
            if seg["st"] != pos:
                problems.append(
                    f"$.t[{track_index}].sg[{si}].st: main segments must be contiguous from 0; "
                    f"expected {pos}, got {seg['st']}"
                )
            pos = seg["st"] + seg["d"]
    if main is not None and main["sg"]:
        end = timeline_end(d)
        for ti, track in enumerate(d["t"]):
            if track["tt"] not in (1, 7):
                continue
            what = "text" if track["tt"] == 7 else "audio"
            for si, seg in enumerate(track["sg"]):
                if seg["st"] + seg["d"] > end:
                    problems.append(
                        f"$.t[{ti}].sg[{si}]: {what} segment {seg['id']!r} ends at "
                        f"{seg['st'] + seg['d']} ms, after the end of the timeline ({end} ms)"
                    )
    return problems


def main_track(d: Draft) -> Track | None:
    """The track with role "main", else the first video track (tt 0), else None."""
    for track in d["t"]:
        if track.get("role") == "main":
            return track  # type: ignore[no-any-return]
    for track in d["t"]:
        if track.get("tt") == 0:
            return track  # type: ignore[no-any-return]
    return None


def main_segments(d: Draft) -> list[Segment]:
    """The main track's segments in timeline order ([] when there is none)."""
    main = main_track(d)
    return list(main["sg"]) if main is not None else []


def text_segments(d: Draft) -> list[Segment]:
    """Every segment of every text track (tt 7), in timeline order."""
    segs = [seg for track in d["t"] if track.get("tt") == 7 for seg in track["sg"]]
    return sorted(segs, key=lambda s: int(s["st"]))


def audio_track(d: Draft, role: str) -> Track | None:
    """The first audio track (tt 1) with this role ("bgm" | "voiceover"), else None."""
    for track in d["t"]:
        if track.get("tt") == 1 and track.get("role") == role:
            return track  # type: ignore[no-any-return]
    return None


def _all_segments(d: Draft) -> list[Segment]:
    return [seg for track in d["t"] for seg in track["sg"]]


def find_segment(d: Draft, seg_id: str) -> tuple[Track, Segment]:
    """(track, segment) of the segment with this id."""
    for track in d["t"]:
        for seg in track["sg"]:
            if seg.get("id") == seg_id:
                return track, seg
    ordered = sorted(_all_segments(d), key=lambda s: _id_order(str(s.get("id", ""))))
    raise TimelineError(f"no segment {seg_id!r}; segments are {_ids(ordered)}")


def _id_order(seg_id: str) -> tuple[int, str]:
    match = _SEG_ID.match(seg_id)
    return (int(match.group(1)), "") if match else (1 << 62, seg_id)


def timeline_end(d: Draft) -> int:
    """End of the last main segment, or of anything when the main track is empty (0 for nothing)."""
    main = main_track(d)
    if main is not None and main["sg"]:
        return max(int(s["st"]) + int(s["d"]) for s in main["sg"])
    return max((int(s["st"]) + int(s["d"]) for s in _all_segments(d)), default=0)


def is_ready(d: Draft) -> bool:
    """Ready for export: at least one track with a non-empty ``sg``."""
    return any(track["sg"] for track in d["t"])


def _main_index(d: Draft, seg_id: str) -> tuple[Track, int]:
    main = main_track(d)
    segs: list[Segment] = main["sg"] if main is not None else []
    for i, seg in enumerate(segs):
        if seg.get("id") == seg_id:
            assert main is not None
            return main, i
    for track in d["t"]:
        if track is not main and any(s.get("id") == seg_id for s in track["sg"]):
            raise TimelineError(
                f"segment {seg_id!r} is on track {track['id']} ({track.get('role', 'no role')}), "
                f"not on the main track; main segments are {_ids(segs)}"
            )
    raise TimelineError(f"no segment {seg_id!r} on the main track; main segments are {_ids(segs)}")


def _next_segment_id(d: Draft) -> str:
    numbers = [int(m.group(1)) for seg in _all_segments(d) if (m := _SEG_ID.match(str(seg.get("id", ""))))]
    return f"s{max(numbers, default=0) + 1}"


def _next_track_id(d: Draft, prefix: str) -> str:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    numbers = [int(m.group(1)) for track in d["t"] if (m := pattern.match(str(track.get("id", ""))))]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _ensure_main(d: Draft) -> Track:
    main = main_track(d)
    if main is None:
        main = {"id": _next_track_id(d, "v"), "tt": 0, "role": "main", "sg": []}
        d["t"].insert(0, main)
    return main


def _is_role_audio(track: Track) -> bool:
    return track.get("tt") == 1 and track.get("role") in AUDIO_ROLES


# --------------------------------------------------------------------------------------------------
# normalisation


def _clamp_into(seg: Segment, end: int, min_keep: int | None) -> None:
    """Keep the segment inside [0, end], moving it earlier rather than below ``min_keep`` ms."""
    dur = int(seg["d"])
    keep = min(dur, end) if min_keep is None else min(min_keep, dur, end)
    start = max(0, min(int(seg["st"]), end - keep))
    seg["st"] = start
    seg["d"] = max(1, min(dur, end - start))


def _fit_role_audio(seg: Segment, end: int) -> None:
    """Music/voiceover: with loop to the end; else to min(source end, timeline end)."""
    start = max(0, min(int(seg["st"]), end - 1))
    seg["st"] = start
    meta = _m(seg)
    source_d = meta.get("source_d")
    room = end - start
    if meta.get("loop") is True or isinstance(source_d, bool) or not isinstance(source_d, int | float):
        seg["d"] = room
    else:
        seg["d"] = max(1, min(int(source_d) - int(seg.get("in", 0)), room))


def _normalize(d: Draft) -> Draft:
    tracks: list[Track] = d["t"]
    main = main_track(d)

    def rank(track: Track) -> int:
        if track is main:
            return 0
        return {0: 1, 1: 2, 7: 3}.get(track.get("tt", -1), 4)  # docs/protocol.md §6 order: video, audio, text

    tracks.sort(key=rank)
    if main is not None:
        segs: list[Segment] = main["sg"]
        pos = 0
        for seg in segs:
            seg["st"] = pos
            seg["d"] = max(1, int(seg["d"]))
            pos += seg["d"]
        for i, seg in enumerate(segs[:-1]):
            transition = _m(seg).get("transition")
            if isinstance(transition, dict) and isinstance(transition.get("d"), int):
                cap = min(int(seg["d"]), int(segs[i + 1]["d"])) // 2
                transition["d"] = max(0, min(transition["d"], cap))
    has_main = main is not None and bool(main["sg"])
    starts = {str(seg["id"]): int(seg["st"]) for seg in (main["sg"] if main is not None else [])}
    for track in tracks:
        if track.get("tt") != 7:
            continue
        for seg in track["sg"]:
            anchor = _m(seg).get("anchor")
            if not isinstance(anchor, dict):
                continue
            offset = anchor.get("offset")
            if anchor.get("seg") in starts and isinstance(offset, int) and not isinstance(offset, bool):
                seg["st"] = max(0, starts[str(anchor["seg"])] + offset)
            else:  # its clip was removed: the text stays where it is, no longer pinned
                _m(seg).pop("anchor", None)
        track["sg"].sort(key=lambda s: int(s["st"]))
    end = timeline_end(d)
    for track in tracks:
        if track is main:
            continue
        for seg in track["sg"]:
            seg["st"] = max(0, int(seg["st"]))
            if _is_role_audio(track):
                if end > 0:
                    _fit_role_audio(seg, end)
            elif has_main:
                _clamp_into(seg, end, MIN_TEXT_MS if track.get("tt") == 7 else None)
    voiceover = any(_is_role_audio(t) and t.get("role") == "voiceover" and t["sg"] for t in tracks)
    for track in tracks:
        for seg in track["sg"]:
            vol = seg.get("vol")
            if isinstance(vol, int | float) and not isinstance(vol, bool):
                seg["vol"] = min(1.0, max(0.0, float(vol)))
            meta = seg.get("m")
            if isinstance(meta, dict):
                for key in ("fade_in", "fade_out"):
                    fade = meta.get(key)
                    if isinstance(fade, int) and not isinstance(fade, bool):
                        meta[key] = max(0, min(fade, int(seg["d"])))
            if track.get("tt") == 1 and track.get("role") == "bgm":
                bgm_meta = _meta(seg)
                if voiceover:
                    bgm_meta.setdefault("duck", True)
                else:
                    bgm_meta.pop("duck", None)
    return d


# --------------------------------------------------------------------------------------------------
# main track


def add_main(
    d: Draft,
    *,
    src: str,
    kind: str,
    d_ms: int,
    in_ms: int = 0,
    name: str | None = None,
    index: int | None = None,
    source_d: int | None = None,
    motion: str | None = None,
    vol: float | None = None,
    color: str | None = None,
    has_audio: bool | None = None,
) -> Draft:
    """Insert a clip, still or colour card on the main track at ``index`` (None or -1: the end)."""
    kind = _choice(kind, "kind", MAIN_KINDS)
    if not isinstance(src, str) or (kind != "color" and not src):
        raise TimelineError(f"src must be the media's upload id or URL, got {src!r}")
    dur = _ms(d_ms, "d_ms", positive=True)
    start = _ms(in_ms, "in_ms")
    if kind != "video" and start:
        raise TimelineError(f"in_ms applies to videos; {_a(kind)} has no in-point (got {start})")
    source = None if source_d is None else _ms(source_d, "source_d", positive=True)
    if kind == "video" and source is not None:
        if start >= source:
            raise TimelineError(f"in_ms must be inside the clip's {_secs(source)} source, got {_secs(start)}")
        if start + dur > source:
            raise TimelineError(
                f"the clip is {_secs(source)} long, so from {_secs(start)} at most {_secs(source - start)} "
                f"fits; got d_ms={dur}"
            )
    if motion is not None:
        motion = _choice(motion, "motion", MOTIONS)
        if kind != "image" and motion != "none":
            raise TimelineError(f"motion applies to still images; this is {_a(kind)}")
    volume = None if vol is None else _volume(vol)
    if volume is not None and kind != "video":
        raise TimelineError(f"volume applies to videos (their sound); this is {_a(kind)}")
    if kind == "color":
        color = _color("#000000" if color is None else color, "color")
    elif color is not None:
        raise TimelineError(f"color applies to colour cards (kind 'color'); this is {_a(kind)}")
    if has_audio is not None and not isinstance(has_audio, bool):
        raise TimelineError(f"has_audio must be true or false, got {has_audio!r}")
    if name is not None and not isinstance(name, str):
        raise TimelineError(f"name must be a string (the file name), got {name!r}")

    new = _edit(d)
    main = _ensure_main(new)
    segs: list[Segment] = main["sg"]
    if index is None or index == -1:
        pos = len(segs)
    elif isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= len(segs):
        raise TimelineError(f"index must be from 0 to {len(segs)} (or -1 for the end), got {index!r}")
    else:
        pos = index
    seg: Segment = {"id": _next_segment_id(new), "st": 0, "d": dur, "src": src}
    if kind == "video":
        seg["in"] = start
    if volume is not None:
        seg["vol"] = volume
    meta: dict[str, Any] = {"kind": kind}
    if name is not None:
        meta["name"] = name
    if source is not None:
        meta["source_d"] = source
    if motion is not None:
        meta["motion"] = motion
    if color is not None:
        meta["color"] = color
    if has_audio is not None:
        meta["has_audio"] = has_audio
    seg["m"] = meta
    segs.insert(pos, seg)
    return _normalize(new)


def remove_segment(d: Draft, seg_id: str) -> Draft:
    """Remove a segment from any track (main: the following clips ripple left, and the texts pinned to
    that clip go with it); emptied side tracks go."""
    new = _edit(d)
    track, seg = find_segment(new, seg_id)
    track["sg"].remove(seg)
    if track is main_track(new):
        for other in new["t"]:
            if other is not track:
                other["sg"] = [s for s in other["sg"] if (_m(s).get("anchor") or {}).get("seg") != seg_id]
    for emptied in [t for t in new["t"] if not t["sg"] and t is not main_track(new)]:
        new["t"].remove(emptied)
    return _normalize(new)


def move_main(d: Draft, seg_id: str, to_index: int) -> Draft:
    """Move a main clip to position ``to_index`` (0-based; -1: the end)."""
    new = _edit(d)
    main, i = _main_index(new, seg_id)
    segs: list[Segment] = main["sg"]
    n = len(segs)
    if isinstance(to_index, bool) or not isinstance(to_index, int) or not (-1 <= to_index < n):
        raise TimelineError(f"to_index must be from 0 to {n - 1} (or -1 for the end), got {to_index!r}")
    seg = segs.pop(i)
    segs.insert(n - 1 if to_index == -1 else to_index, seg)
    return _normalize(new)


def swap_main(d: Draft, a_id: str, b_id: str) -> Draft:
    """Swap two main clips' places."""
    if a_id == b_id:
        raise TimelineError(f"swap needs two different clips; got {a_id!r} twice")
    new = _edit(d)
    main, i = _main_index(new, a_id)
    _, j = _main_index(new, b_id)
    segs = main["sg"]
    segs[i], segs[j] = segs[j], segs[i]
    return _normalize(new)


def reorder_main(d: Draft, ids: Sequence[str]) -> Draft:
    """Put the main clips in this order (every main id exactly once)."""
    new = _edit(d)
    main = main_track(new)
    segs: list[Segment] = main["sg"] if main is not None else []
    current = [str(s["id"]) for s in segs]
    wanted = [str(i) for i in ids] if not isinstance(ids, str) else [ids]
    duplicates = sorted({i for i in wanted if wanted.count(i) > 1})
    unknown = [i for i in wanted if i not in current]
    missing = [i for i in current if i not in wanted]
    if duplicates or unknown or missing:
        details = []
        if duplicates:
            details.append(f"repeated: {', '.join(duplicates)}")
        if unknown:
            details.append(f"not on the main track: {', '.join(unknown)}")
        if missing:
            details.append(f"missing: {', '.join(missing)}")
        raise TimelineError(
            f"the new order must list every main segment exactly once ({'; '.join(details)}); "
            f"main segments are {_ids(segs)}"
        )
    by_id = {str(s["id"]): s for s in segs}
    assert main is not None or not wanted
    if main is not None:
        main["sg"] = [by_id[i] for i in wanted]
    return _normalize(new)


def duplicate_segment(d: Draft, seg_id: str) -> Draft:
    """Copy a segment (new id); main: inserted right after it; text/overlay: placed right after it in time."""
    new = _edit(d)
    track, seg = find_segment(new, seg_id)
    if _is_role_audio(track):
        raise TimelineError(
            f"the {track['role']} track holds one segment; use set_audio to replace it instead of duplicating"
        )
    twin = copy.deepcopy(seg)
    twin["id"] = _next_segment_id(new)
    if track is not main_track(new):
        twin["st"] = int(seg["st"]) + int(seg["d"])
    track["sg"].insert(track["sg"].index(seg) + 1, twin)
    return _normalize(new)


def trim(d: Draft, seg_id: str, *, in_ms: int | None = None, d_ms: int | None = None) -> Draft:
    """Change a segment's in-point and/or duration; videos are bounded by ``m.source_d`` at their speed.

    A new in-point without a duration keeps the length where the source allows, else shortens it.
    """
    if in_ms is None and d_ms is None:
        raise TimelineError("trim needs in_ms (where the source starts) or d_ms (the new length), or both")
    new = _edit(d)
    track, seg = find_segment(new, seg_id)
    kind = segment_kind(track, seg)
    if d_ms is not None and _is_role_audio(track):
        raise TimelineError(
            f"the {track['role']}'s length follows the video; change the clips, or use in_ms to start "
            "later in the audio"
        )
    start = int(seg.get("in", 0))
    if in_ms is not None:
        if kind not in ("video", "audio"):
            raise TimelineError(f"in_ms applies to videos and audio; {seg_id!r} is {_a(kind)}")
        start = _ms(in_ms, "in_ms")
        source_d = _m(seg).get("source_d")
        if isinstance(source_d, int) and start >= source_d:
            raise TimelineError(
                f"in_ms must be inside {seg_id!r}'s {_secs(source_d)} source, got {_secs(start)}"
            )
        seg["in"] = start
    cap = _source_cap(track, seg, start)
    if cap is not None and cap < 1:
        raise TimelineError(
            f"from {_secs(start)} less than 1 ms of {seg_id!r}'s {_secs(int(_m(seg)['source_d']))} source "
            f"is left at {float(_speed(seg)):g}x; choose an earlier in_ms"
        )
    if d_ms is not None:
        dur = _ms(d_ms, "d_ms", positive=True)
        if cap is not None and dur > cap:
            raise TimelineError(
                f"{seg_id!r} can be at most {_secs(cap)} long: its source is "
                f"{_secs(int(_m(seg)['source_d']))}, it starts at {_secs(start)}, "
                f"speed {float(_speed(seg)):g}x; "
                f"got {_secs(dur)}"
            )
        seg["d"] = dur
    elif cap is not None:
        seg["d"] = max(1, min(int(seg["d"]), cap))
    return _normalize(new)


def split(d: Draft, seg_id: str, at_ms: int) -> Draft:
    """Cut a segment in two at timeline time ``at_ms`` (strictly inside it); the second half gets a new id.

    Both halves keep the media; the second's in-point advances by the elapsed time × speed. The
    transition (into the next clip) and the fade-out go with the second half, the fade-in stays.
    """
    at = _ms(at_ms, "at_ms")
    new = _edit(d)
    track, seg = find_segment(new, seg_id)
    if _is_role_audio(track):
        raise TimelineError(f"the {track['role']} track holds one segment; it cannot be split")
    st, dur = int(seg["st"]), int(seg["d"])
    if not st < at < st + dur:
        raise TimelineError(
            f"the split time must be strictly inside {seg_id!r} ({_secs(st)}-{_secs(st + dur)}), "
            f"got {_secs(at)}"
        )
    elapsed = at - st
    second = copy.deepcopy(seg)
    second["id"] = _next_segment_id(new)
    second["st"] = at
    second["d"] = dur - elapsed
    seg["d"] = elapsed
    if "in" in seg or segment_kind(track, seg) in ("video", "audio"):
        second["in"] = int(seg.get("in", 0)) + math.floor(elapsed * _speed(seg))
    first_meta, second_meta = seg.get("m"), second.get("m")
    if isinstance(first_meta, dict) and isinstance(second_meta, dict):
        first_meta.pop("transition", None)
        first_meta.pop("fade_out", None)
        second_meta.pop("fade_in", None)
    track["sg"].insert(track["sg"].index(seg) + 1, second)
    return _normalize(new)


def _apportion(durations: list[int], caps: list[int | None], total: int) -> list[int]:
    """Scale ``durations`` to sum exactly to ``total`` (integers >= 1), none above its cap."""
    n = len(durations)
    targets: list[Fraction] = [Fraction(0)] * n
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in range(n) if i not in fixed]
        remaining = total - sum(fixed.values())
        weight = sum(durations[i] for i in free)
        over = []
        for i in free:
            targets[i] = (
                Fraction(remaining * durations[i], weight) if weight else Fraction(remaining, len(free))
            )
            cap = caps[i]
            if cap is not None and targets[i] > cap:
                over.append(i)
        if not over:
            break
        for i in over:
            cap = caps[i]
            assert cap is not None
            fixed[i] = cap
            targets[i] = Fraction(cap)
    result = [max(1, math.floor(t)) for t in targets]
    leftover = total - sum(result)
    order = sorted(range(n), key=lambda i: (-(targets[i] - math.floor(targets[i])), i))
    while leftover > 0:
        for i in order:
            cap = caps[i]
            if leftover > 0 and (cap is None or result[i] < cap):
                result[i] += 1
                leftover -= 1
    while leftover < 0:
        i = max(range(n), key=lambda k: (result[k], -k))
        result[i] -= 1
        leftover += 1
    return result


def set_total_duration(d: Draft, total_ms: int, *, keep: Collection[str] = ()) -> Draft:
    """Scale the main clips proportionally so the video lasts exactly ``total_ms``.

    Video clips cannot outgrow their source: what they cannot take goes to the stills. Clips named in
    ``keep`` keep their length (an intro the user just set to 2 s); the others absorb the difference.
    """
    total = _ms(total_ms, "total_ms", positive=True)
    new = _edit(d)
    main = main_track(new)
    all_segs: list[Segment] = main["sg"] if main is not None else []
    if not all_segs:
        raise TimelineError("the main track has no clips to fit to a duration; add clips first")
    assert main is not None
    unknown = [k for k in keep if not any(s["id"] == k for s in all_segs)]
    if unknown:
        raise TimelineError(
            f"keep names no main segment: {', '.join(unknown)}; main segments are {_ids(all_segs)}"
        )
    kept = sum(int(s["d"]) for s in all_segs if s["id"] in keep)
    segs = [s for s in all_segs if s["id"] not in keep]
    if not segs:
        raise TimelineError("every clip is kept at its length, so the total cannot change; keep fewer clips")
    if kept and total - kept < len(segs):
        raise TimelineError(
            f"the kept clips already last {_secs(kept)}; "
            "the total must leave at least 1 ms for each other clip"
        )
    total -= kept
    caps = [_source_cap(main, s) for s in segs]
    caps = [None if c is None else max(c, 1) for c in caps]
    if total < len(segs):
        raise TimelineError(f"{len(segs)} clips need at least {len(segs)} ms; got total_ms={total + kept}")
    if all(c is not None for c in caps):
        most = sum(c for c in caps if c is not None)
        if total > most:
            raise TimelineError(
                f"the clips' sources allow at most {_secs(most + kept)} in total "
                "(no stills to take the rest); "
                f"got {_secs(total + kept)}: add images or clips, or ask for at most {_secs(most + kept)}"
            )
    for seg, dur in zip(segs, _apportion([int(s["d"]) for s in segs], caps, total), strict=True):
        seg["d"] = dur
    return _normalize(new)


def set_speed(d: Draft, seg_id: str, speed: float) -> Draft:
    """Play a video at ``speed`` (0.25..4); its duration becomes the source span / speed."""
    value = _number(speed, "speed")
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise TimelineError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {speed!r}")
    new = _edit(d)
    track, seg = find_segment(new, seg_id)
    kind = segment_kind(track, seg)
    if kind != "video" or track.get("tt") != 0:
        raise TimelineError(f"speed applies to video clips; {seg_id!r} is {_a(kind)}")
    span = int(seg["d"]) * _speed(seg)
    meta = _meta(seg)
    if value == 1:
        meta.pop("speed", None)
    else:
        meta["speed"] = value
    dur = max(1, round(span / Fraction(value)))
    cap = _source_cap(track, seg)
    if cap is not None and cap < 1:
        raise TimelineError(
            f"at {value:g}x less than 1 ms of {seg_id!r} is left after its in-point "
            f"({_secs(int(seg.get('in', 0)))} of {_secs(int(_m(seg)['source_d']))}); choose a slower speed "
            "or an earlier in-point"
        )
    seg["d"] = min(dur, cap) if cap is not None else dur
    return _normalize(new)


def _transition_cap(segs: list[Segment], i: int) -> int:
    return min(int(segs[i]["d"]), int(segs[i + 1]["d"])) // 2


def set_transition(d: Draft, seg_id: str, kind: str, d_ms: int = 500) -> Draft:
    """The transition from main clip ``seg_id`` into the next one ("none" removes it)."""
    kind = _choice(kind, "transition", TRANSITIONS)
    dur = _ms(d_ms, "d_ms")
    new = _edit(d)
    main, i = _main_index(new, seg_id)
    segs: list[Segment] = main["sg"]
    meta = _meta(segs[i])
    if kind == "none":
        meta.pop("transition", None)
        return _normalize(new)
    if i == len(segs) - 1:
        raise TimelineError(
            f"{seg_id!r} is the last clip; a transition goes from a clip into the next one "
            f"(clips with a next one: {_ids(segs[:-1])})"
        )
    cap = _transition_cap(segs, i)
    if dur > cap:
        raise TimelineError(
            f"a {_secs(dur)} {kind} is too long between {seg_id!r} and {segs[i + 1]['id']!r}: a transition "
            f"lasts at most half of either clip, here {_secs(cap)}"
        )
    existing = meta.get("transition")
    transition = dict(existing) if isinstance(existing, dict) else {}
    transition.update({"type": kind, "d": dur})
    meta["transition"] = transition
    return _normalize(new)


def set_all_transitions(d: Draft, kind: str, d_ms: int = 500) -> Draft:
    """The same transition between every pair of main clips, shortened where a clip is too short."""
    kind = _choice(kind, "transition", TRANSITIONS)
    dur = _ms(d_ms, "d_ms")
    new = _edit(d)
    main = main_track(new)
    segs: list[Segment] = main["sg"] if main is not None else []
    if kind != "none" and len(segs) < 2:
        raise TimelineError(f"transitions go between clips; the main track has {len(segs)} clip(s)")
    for i, seg in enumerate(segs):
        meta = _meta(seg)
        if kind == "none" or i == len(segs) - 1:
            meta.pop("transition", None)
            continue
        existing = meta.get("transition")
        transition = dict(existing) if isinstance(existing, dict) else {}
        transition.update({"type": kind, "d": min(dur, _transition_cap(segs, i))})
        meta["transition"] = transition
    return _normalize(new)


def set_motion(d: Draft, seg_id: str, motion: str) -> Draft:
    """Camera motion on a still image (none, zoom_in, zoom_out, pan_left/right/up/down)."""
    motion = _choice(motion, "motion", MOTIONS)
    new = _edit(d)
    track, seg = find_segment(new, seg_id)
    kind = segment_kind(track, seg)
    if kind != "image":
        raise TimelineError(f"motion applies to still images; {seg_id!r} is {_a(kind)}")
    _meta(seg)["motion"] = motion
    return _normalize(new)


# --------------------------------------------------------------------------------------------------
# text


def _text_segment(d: Draft, seg_id: str) -> tuple[Track, Segment]:
    track, seg = find_segment(d, seg_id)
    if track.get("tt") != 7:
        texts = text_segments(d)
        raise TimelineError(f"{seg_id!r} is not a text segment; text segments are {_ids(texts)}")
    return track, seg


def _text_start(d: Draft, st: object) -> int:
    start = _ms(st, "st")
    if main_segments(d):
        end = timeline_end(d)
        if start >= end:
            raise TimelineError(
                f"text start {_secs(start)} is at or past the end of the video ({_secs(end)}); "
                f"start it before {_secs(end)}"
            )
    return start


def add_text(
    d: Draft,
    text: str,
    *,
    st: int,
    d_ms: int,
    position: str = "center",
    style: dict[str, Any] | None = None,
    role: str = "caption",
    anchor: str | None = None,
) -> Draft:
    """Add words on screen on the text track of ``role`` (title | caption), created when missing.

    With ``anchor`` (a main segment id) the text follows that clip: when the clip moves, because an
    earlier clip got shorter or the clips were reordered, the text keeps its offset into the clip.
    Setting the text's start explicitly (edit_text st=...) unpins it.
    """
    words = _text(text)
    role = _choice(role, "role", TEXT_ROLES)
    position = _choice(position, "position", POSITIONS)
    merged = dict(DEFAULT_TEXT_STYLE[role])
    if style is not None:
        merged.update(_style(style))
    dur = _ms(d_ms, "d_ms", positive=True)
    new = _edit(d)
    start = _text_start(new, st)
    track = next((t for t in new["t"] if t.get("tt") == 7 and t.get("role") == role), None)
    if track is None:
        track = {"id": _next_track_id(new, "x"), "tt": 7, "role": role, "sg": []}
        new["t"].append(track)
    seg: Segment = {
        "id": _next_segment_id(new),
        "st": start,
        "d": dur,
        "text": words,
        "m": {"kind": "text", "position": position, "style": merged},
    }
    if anchor is not None:
        _, index = _main_index(new, anchor)
        clip = main_segments(new)[index]
        seg["m"]["anchor"] = {"seg": anchor, "offset": start - int(clip["st"])}
    track["sg"].append(seg)
    track["sg"].sort(key=lambda s: int(s["st"]))
    return _normalize(new)


def edit_text(
    d: Draft,
    seg_id: str,
    *,
    text: str | None = None,
    st: int | None = None,
    d_ms: int | None = None,
    position: str | None = None,
    style: dict[str, Any] | None = None,
) -> Draft:
    """Change a text segment's words, start, duration, position or style (style keys are merged)."""
    if text is None and st is None and d_ms is None and position is None and style is None:
        raise TimelineError("edit_text needs at least one of text, st, d_ms, position, style")
    new = _edit(d)
    track, seg = _text_segment(new, seg_id)
    if text is not None:
        seg["text"] = _text(text)
    meta = _meta(seg)
    if st is not None:
        seg["st"] = _text_start(new, st)
        meta.pop("anchor", None)
    if d_ms is not None:
        seg["d"] = _ms(d_ms, "d_ms", positive=True)
    if position is not None:
        meta["position"] = _choice(position, "position", POSITIONS)
    if style is not None:
        existing = meta.get("style")
        merged = dict(existing) if isinstance(existing, dict) else {}
        merged.update(_style(style))
        meta["style"] = merged
    track["sg"].sort(key=lambda s: int(s["st"]))
    return _normalize(new)


# --------------------------------------------------------------------------------------------------
# audio


def set_audio(
    d: Draft,
    role: str,
    *,
    src: str,
    name: str | None = None,
    vol: float | None = None,
    source_d: int | None = None,
    fade_in: int | None = None,
    fade_out: int | None = None,
    loop: bool | None = None,
) -> Draft:
    """Set or replace the music (bgm) or voiceover; replacing keeps volume, fades and loop unless given.

    Music defaults: volume 0.35, fade-out 2 s, looped to the end of the video.
    """
    role = _choice(role, "role", AUDIO_ROLES)
    if not isinstance(src, str) or not src:
        raise TimelineError(f"src must be the audio's upload id or URL, got {src!r}")
    if name is not None and not isinstance(name, str):
        raise TimelineError(f"name must be a string (the file name), got {name!r}")
    source = None if source_d is None else _ms(source_d, "source_d", positive=True)
    volume = None if vol is None else _volume(vol)
    fades = {
        key: _ms(value, key)
        for key, value in (("fade_in", fade_in), ("fade_out", fade_out))
        if value is not None
    }
    if loop is not None and not isinstance(loop, bool):
        raise TimelineError(f"loop must be true or false, got {loop!r}")
    new = _edit(d)
    end = timeline_end(new)
    if end == 0 and source is None:
        raise TimelineError(
            f"the timeline is empty and the {role}'s length is unknown: add clips first, or give source_d"
        )
    track = audio_track(new, role)
    if track is None:
        track = {"id": _next_track_id(new, "a"), "tt": 1, "role": role, "sg": []}
        new["t"].append(track)
    previous: Segment | None = track["sg"][0] if track["sg"] else None
    if previous is not None:
        seg = previous
        old_meta = _m(previous)
        meta = {k: v for k, v in old_meta.items() if k not in ("name", "source_d")}
    else:
        seg = {"id": _next_segment_id(new), "st": 0}
        meta = {}
    seg["src"] = src
    seg["in"] = 0
    seg["d"] = source if end == 0 and source is not None else max(1, end)
    meta["kind"] = "audio"
    if name is not None:
        meta["name"] = name
    if source is not None:
        meta["source_d"] = source
    is_bgm = role == "bgm"
    if volume is not None:
        seg["vol"] = volume
    elif "vol" not in seg:
        seg["vol"] = BGM_DEFAULT_VOL if is_bgm else 1.0
    meta.update(fades)
    if is_bgm and "fade_out" not in meta:
        meta["fade_out"] = BGM_DEFAULT_FADE_OUT
    if loop is not None:
        meta["loop"] = loop
    elif "loop" not in meta:
        meta["loop"] = is_bgm
    seg["m"] = meta
    track["sg"] = [seg]
    return _normalize(new)


def remove_audio(d: Draft, role: str) -> Draft:
    """Remove the music (bgm) or the voiceover."""
    role = _choice(role, "role", AUDIO_ROLES)
    new = _edit(d)
    tracks = [t for t in new["t"] if t.get("tt") == 1 and t.get("role") == role]
    if not tracks:
        present = sorted({str(t.get("role")) for t in new["t"] if t.get("tt") == 1})
        raise TimelineError(f"there is no {role} to remove; audio tracks: {', '.join(present) or 'none'}")
    new["t"] = [t for t in new["t"] if not any(t is r for r in tracks)]
    return _normalize(new)


def _targets(d: Draft, target: str) -> list[tuple[Track, Segment]]:
    if target in AUDIO_ROLES:
        track = audio_track(d, target)
        if track is None or not track["sg"]:
            present = sorted({str(t.get("role")) for t in d["t"] if t.get("tt") == 1 and t["sg"]})
            raise TimelineError(
                f"there is no {target}; give a segment id or an audio role present "
                f"({', '.join(present) or 'none'})"
            )
        return [(track, seg) for seg in track["sg"]]
    if not isinstance(target, str):
        raise TimelineError(f"target must be a segment id or one of {', '.join(AUDIO_ROLES)}, got {target!r}")
    return [find_segment(d, target)]


def set_volume(d: Draft, target: str, vol: float) -> Draft:
    """Volume 0..1 of a segment (video or audio) or of a role ("bgm", "voiceover")."""
    volume = _volume(vol)
    new = _edit(d)
    for track, seg in _targets(new, target):
        kind = segment_kind(track, seg)
        if kind not in ("video", "audio"):
            raise TimelineError(f"volume applies to videos and audio; {seg['id']!r} is {_a(kind)}")
        seg["vol"] = volume
    return _normalize(new)


def set_fade(d: Draft, target: str, *, fade_in: int | None = None, fade_out: int | None = None) -> Draft:
    """Fade-in / fade-out (ms) of a segment or of a role ("bgm", "voiceover")."""
    if fade_in is None and fade_out is None:
        raise TimelineError("set_fade needs fade_in or fade_out (ms), or both")
    fades = {k: _ms(v, k) for k, v in (("fade_in", fade_in), ("fade_out", fade_out)) if v is not None}
    new = _edit(d)
    for _track, seg in _targets(new, target):
        for key, value in fades.items():
            if value > int(seg["d"]):
                raise TimelineError(
                    f"{key} must be at most {seg['id']!r}'s length ({_secs(int(seg['d']))}), "
                    f"got {_secs(value)}"
                )
        _meta(seg).update(fades)
    return _normalize(new)


# --------------------------------------------------------------------------------------------------
# canvas


def set_canvas(d: Draft, preset: str, *, fit: str | None = None) -> Draft:
    """Canvas size from a preset (16:9, 9:16, 1:1, 4:5) and how mismatched media is fitted."""
    preset = _choice(preset, "canvas preset", CANVAS_PRESETS)
    chosen_fit = None if fit is None else _choice(fit, "fit", FITS)
    new = _edit(d)
    width, height = CANVAS_PRESETS[preset]
    new["m"]["width"] = width
    new["m"]["height"] = height
    if chosen_fit is not None:
        new["m"]["fit"] = chosen_fit
    return _normalize(new)


def set_title(d: Draft, title: str) -> Draft:
    """The project's title (``m.title``)."""
    if not isinstance(title, str):
        raise TimelineError(f"title must be a string, got {title!r}")
    cleaned = title.strip()
    if len(cleaned) > MAX_TITLE_CHARS:
        raise TimelineError(f"title must be at most {MAX_TITLE_CHARS} characters, got {len(cleaned)}")
    new = _edit(d)
    new["m"]["title"] = cleaned
    return _normalize(new)
