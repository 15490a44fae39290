"""The client's own view of a draft (pure; docs/protocol.md §6): track summary, readiness, duration, and a
human diff between two drafts. Shares no code with the engine: it reads the draft as the cloud sends it
and tolerates anything missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "canvas",
    "describe_changes",
    "duration_ms",
    "fmt_s",
    "is_ready",
    "listing",
    "track_summary",
]

Draft = Mapping[str, Any]

_ROLE_LABELS = {
    "main": "Video",
    "overlay": "Overlay",
    "bgm": "BGM",
    "music": "BGM",
    "voiceover": "Voiceover",
    "sfx": "SFX",
    "title": "Title",
    "caption": "Caption",
    "subtitle": "Subtitle",
}
_TYPE_LABELS = {0: "Video", 1: "Audio", 7: "Text"}


def _tracks(draft: Draft | None) -> list[Mapping[str, Any]]:
    if not isinstance(draft, Mapping):
        return []
    tracks = draft.get("t")
    return [t for t in tracks if isinstance(t, Mapping)] if isinstance(tracks, list) else []


def _segments(track: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sg = track.get("sg")
    return [s for s in sg if isinstance(s, Mapping)] if isinstance(sg, list) else []


def _int(value: Any) -> int:
    """A number of the draft as an int; anything else (text, a bool, NaN or infinity) is 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) else 0


def fmt_s(ms: int | float) -> str:
    """Milliseconds as seconds: 10000 → '10', 6400 → '6.4'."""
    text = f"{ms / 1000:.1f}"
    return text[:-2] if text.endswith(".0") else text


def fmt_size(size: int) -> str:
    """Bytes as a person reads them: 812 → '812 bytes', 43_520 → '43 KB', 1_572_864 → '1.5 MB'."""
    if size < 1024:
        return f"{size} bytes"
    for unit, scale in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3)):
        value = size / scale
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def sentences(parts: list[str]) -> str:
    """Join text parts into sentences: each ends with a full stop unless it has its own punctuation."""
    return " ".join(
        p if p.endswith((".", "!", "?", "…")) else f"{p}." for p in (s.strip() for s in parts) if p
    )


def _label(track: Mapping[str, Any]) -> str:
    role = track.get("role")
    if isinstance(role, str) and role:
        return _ROLE_LABELS.get(role, role.replace("_", " ").capitalize())
    return _TYPE_LABELS.get(_int(track.get("tt")), "Track")


def _meta(seg: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = seg.get("m")
    return meta if isinstance(meta, Mapping) else {}


def _name(seg: Mapping[str, Any]) -> str:
    text = seg.get("text")
    if isinstance(text, str) and text:
        return f'"{text}"'
    name = _meta(seg).get("name")
    if not (isinstance(name, str) and name):
        src = seg.get("src")
        name = src.rstrip("/").rsplit("/", 1)[-1] if isinstance(src, str) and src else ""
    if name:  # a media name reads like the protocol's "city timelapse": no extension, no underscores
        stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
        return stem.replace("_", " ").strip() or name
    kind = _meta(seg).get("kind")
    return str(kind) if kind else str(seg.get("id", "segment"))


def _span(seg: Mapping[str, Any]) -> tuple[int, int]:
    st = _int(seg.get("st"))
    return st, st + _int(seg.get("d"))


def _range(start: int, end: int) -> str:
    return f"{fmt_s(start)}-{fmt_s(end)}s"


def _is_text_track(track: Mapping[str, Any]) -> bool:
    return _int(track.get("tt")) == 7


def _track_line(track: Mapping[str, Any]) -> str:
    segs = _segments(track)
    label = _label(track)
    if not segs:
        return f"{label}: (empty)"
    if _is_text_track(track):
        return f"{label}: " + ", ".join(f"{_name(s)} ({_range(*_span(s))})" for s in segs)
    start = min(_span(s)[0] for s in segs)
    end = max(_span(s)[1] for s in segs)
    names = [_name(s) for s in segs]
    if len(names) == 1:
        what = names[0]
    else:
        what = ", ".join(names[:2]) + (f" +{len(names) - 2} more" if len(names) > 2 else "")
    extra = _range(start, end)
    vols = {float(s["vol"]) for s in segs if isinstance(s.get("vol"), int | float)}
    if _int(track.get("tt")) == 1 and len(vols) == 1:
        extra += f", {round(next(iter(vols)) * 100)}%"
    return f"{label}: {what} ({extra})"


def track_summary(draft: Draft | None) -> str:
    """docs/protocol.md §6's shape, e.g. `Timeline (3 tracks): 1. Video: city timelapse (0-10s)
    2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)` (on one line)."""
    tracks = _tracks(draft)
    if not tracks:
        return "Timeline (0 tracks): empty"
    noun = "track" if len(tracks) == 1 else "tracks"
    body = " ".join(f"{i}. {_track_line(t)}" for i, t in enumerate(tracks, start=1))
    return f"Timeline ({len(tracks)} {noun}): {body}"


def is_ready(draft: Draft | None) -> bool:
    """Ready for export: at least one track with a non-empty `sg`."""
    return any(_segments(t) for t in _tracks(draft))


def duration_ms(draft: Draft | None) -> int:
    """The end of the main track (or of anything when there is no main video track)."""
    tracks = _tracks(draft)
    main = [t for t in tracks if t.get("role") == "main"] or [t for t in tracks if _int(t.get("tt")) == 0]
    pool = main or tracks
    return max((_span(s)[1] for t in pool for s in _segments(t)), default=0)


def canvas(draft: Draft | None) -> dict[str, Any] | None:
    meta = draft.get("m") if isinstance(draft, Mapping) else None
    if not isinstance(meta, Mapping) or not meta.get("width") or not meta.get("height"):
        return None
    fps = meta.get("fps")
    return {
        "width": _int(meta["width"]),
        "height": _int(meta["height"]),
        "fps": fps if isinstance(fps, int | float) else None,
    }


def _index(draft: Draft | None) -> dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]]:
    return {str(s.get("id")): (t, s) for t in _tracks(draft) for s in _segments(t) if s.get("id") is not None}


def _kind(track: Mapping[str, Any], seg: Mapping[str, Any]) -> str:
    if _is_text_track(track):
        return "text"
    label = _label(track)
    if label in {"BGM", "Voiceover", "SFX", "Audio"}:
        return {"BGM": "music", "Audio": "audio"}.get(label, label.lower())
    return str(_meta(seg).get("kind") or "clip")


def _pct(vol: Any) -> str:
    return f"{round(float(vol) * 100)}%" if isinstance(vol, int | float) else "100%"


def _segment_changes(track: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    kind = _kind(track, new)
    who = f"{kind} {_name(new)}" if kind != "text" else f"text {_name(new)}"
    out: list[str] = []
    if old.get("text") != new.get("text") and kind == "text":
        out.append(f"text {_name(old)} changed to {_name(new)}")
    elif old.get("src") != new.get("src"):
        out.append(f"{kind} {_name(old)} replaced with {_name(new)}")
    od, nd = _int(old.get("d")), _int(new.get("d"))
    if od != nd:
        verb = "shortened" if nd < od else "lengthened"
        out.append(f"{who} {verb} from {fmt_s(od)}s to {fmt_s(nd)}s")
    if _int(old.get("st")) != _int(new.get("st")) and kind in {"text", "music", "voiceover", "sfx", "audio"}:
        out.append(f"{who} moved from {fmt_s(_int(old.get('st')))}s to {fmt_s(_int(new.get('st')))}s")
    if old.get("vol") != new.get("vol"):
        out.append(f"{who} volume from {_pct(old.get('vol'))} to {_pct(new.get('vol'))}")
    om, nm = _meta(old), _meta(new)
    for key, words in (
        ("transition", "transition"),
        ("motion", "motion"),
        ("speed", "speed"),
        ("position", "position"),
        ("fade_in", "fade-in"),
        ("fade_out", "fade-out"),
        ("style", "style"),
    ):
        if om.get(key) != nm.get(key):
            value = nm.get(key)
            if isinstance(value, Mapping):
                value = value.get("type", "changed") if key == "transition" else "changed"
            if isinstance(value, int) and key in {"fade_in", "fade_out"}:
                value = f"{fmt_s(value)}s"
            out.append(f"{who} {words} set to {value}" if value is not None else f"{who} {words} removed")
    return out


def _seconds(ms: int) -> float:
    return round(ms / 1000, 3)


def _media(seg: Mapping[str, Any]) -> str | None:
    """The file name a segment shows (as uploaded), None for a colour card or text."""
    name = _meta(seg).get("name")
    if isinstance(name, str) and name:
        return name
    src = seg.get("src")
    return src.rstrip("/").rsplit("/", 1)[-1] if isinstance(src, str) and src else None


def listing(draft: Draft | None) -> dict[str, list[dict[str, Any]]]:
    """What an agent needs to address the timeline exactly (schemas/listing.schema.json): each main
    clip with its 1-based number, id, media and span; each text with id, words and span; the audio by
    role with media, volume and span. Seconds throughout; small enough to read every turn."""
    tracks = _tracks(draft)
    main = next((t for t in tracks if t.get("role") == "main"), None) or next(
        (t for t in tracks if _int(t.get("tt")) == 0), None
    )
    clips = [
        {
            "number": n,
            "id": str(seg.get("id")),
            "kind": str(_meta(seg).get("kind") or "clip"),
            "media": _media(seg) if _meta(seg).get("kind") != "color" else None,
            "start_s": _seconds(_span(seg)[0]),
            "end_s": _seconds(_span(seg)[1]),
        }
        for n, seg in enumerate(_segments(main) if main is not None else [], start=1)
    ]
    text_segs = sorted(
        (seg for t in tracks if _is_text_track(t) for seg in _segments(t)), key=lambda seg: _span(seg)[0]
    )
    texts = [
        {
            "id": str(seg.get("id")),
            "text": str(seg.get("text", "")),
            "start_s": _seconds(_span(seg)[0]),
            "end_s": _seconds(_span(seg)[1]),
        }
        for seg in text_segs
    ]
    audio = [
        {
            "role": str(t.get("role") or "audio"),
            "media": _media(seg),
            "volume": float(seg["vol"]) if isinstance(seg.get("vol"), int | float) else None,
            "start_s": _seconds(_span(seg)[0]),
            "end_s": _seconds(_span(seg)[1]),
        }
        for t in tracks
        if _int(t.get("tt")) == 1
        for seg in _segments(t)
    ]
    return {"clips": clips, "texts": texts, "audio": audio}


def _main_order(draft: Draft | None) -> list[str]:
    for t in _tracks(draft):
        if t.get("role") == "main" or _int(t.get("tt")) == 0:
            return [str(s.get("id")) for s in _segments(t)]
    return []


def describe_changes(before: Draft | None, after: Draft | None) -> list[str]:
    """What changed between two drafts, as short sentences (for a silent reply)."""
    changes: list[str] = []
    if not _tracks(before) and _tracks(after):
        return [f"timeline created: {track_summary(after)}"]
    bm = before.get("m") if isinstance(before, Mapping) else None
    am = after.get("m") if isinstance(after, Mapping) else None
    bm = bm if isinstance(bm, Mapping) else {}
    am = am if isinstance(am, Mapping) else {}
    if (bm.get("width"), bm.get("height")) != (am.get("width"), am.get("height")) and am.get("width"):
        changes.append(
            f"canvas changed from {bm.get('width')}x{bm.get('height')} "
            f"to {am.get('width')}x{am.get('height')}"
        )
    if bm.get("title") != am.get("title") and am.get("title"):
        changes.append(f'title set to "{am.get("title")}"')
    old, new = _index(before), _index(after)
    for sid, (track, seg) in new.items():
        if sid not in old:
            kind = _kind(track, seg)
            st, end = _span(seg)
            if kind == "text":
                changes.append(f"text {_name(seg)} added at {fmt_s(st)}s ({fmt_s(end - st)}s)")
            else:
                changes.append(f"{kind} {_name(seg)} added ({_range(st, end)})")
        else:
            changes.extend(_segment_changes(track, old[sid][1], seg))
    for sid, (track, seg) in old.items():
        if sid not in new:
            changes.append(f"{_kind(track, seg)} {_name(seg)} removed (was {_range(*_span(seg))})")
    bo, ao = _main_order(before), _main_order(after)
    common = [s for s in ao if s in bo]
    if common != [s for s in bo if s in ao]:
        names = {sid: _name(seg) for sid, (_t, seg) in new.items()}
        changes.append("clips reordered: " + ", ".join(names.get(s, s) for s in common))
    bd, ad = duration_ms(before), duration_ms(after)
    if bd != ad:
        changes.append(f"total duration from {fmt_s(bd)}s to {fmt_s(ad)}s")
    return changes
