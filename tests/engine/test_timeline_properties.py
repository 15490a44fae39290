"""Property tests: any sequence of edits on any valid draft keeps the timeline sound.

Random valid drafts (with unknown keys everywhere, tracks in any order, ids with gaps) go through random
sequences of operations with valid and invalid arguments. Every step either raises TimelineError or
returns a draft that loads cleanly and keeps every invariant; the input is never modified, unknown keys
survive, and the summary and the change list can always be written.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import timeline as tl
from engine.summary import describe_changes, track_summary
from engine.timeline import Draft, TimelineError

SETTINGS = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
UNKNOWN = st.one_of(st.integers(-5, 5), st.text(max_size=4), st.lists(st.booleans(), max_size=2))
BOGUS_IDS = ["s999", "nope", ""]


# --------------------------------------------------------------------------------------------------
# random valid drafts


@st.composite
def segment_ids(draw: st.DrawFn, count: int) -> list[str]:
    numbers = draw(st.lists(st.integers(1, 80), min_size=count, max_size=count, unique=True))
    return [f"s{n}" if draw(st.integers(0, 9)) else f"clip-{n}" for n in numbers]


def sprinkle(draw: st.DrawFn, obj: dict[str, Any], key: str) -> None:
    if draw(st.booleans()):
        obj[key] = draw(UNKNOWN)


@st.composite
def main_segment(draw: st.DrawFn, index: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["image", "video", "color"]))
    dur = draw(st.integers(1, 12000))
    seg: dict[str, Any] = {"id": "", "st": 0, "d": dur, "src": f"up_{index}"}
    meta: dict[str, Any] = {"kind": kind}
    if kind == "video":
        speed = draw(st.sampled_from([1, 0.5, 1.5, 2.0]))
        start = draw(st.integers(0, 4000))
        seg["in"] = start
        meta["source_d"] = start + math.ceil(dur * Fraction(speed)) + draw(st.integers(0, 4000))
        if speed != 1:
            meta["speed"] = speed
        if draw(st.booleans()):
            seg["vol"] = draw(st.floats(0, 1))
    elif kind == "image" and draw(st.booleans()):
        meta["motion"] = draw(st.sampled_from(tl.MOTIONS))
    elif kind == "color":
        meta["color"] = "#203040"
    if draw(st.booleans()):
        meta["name"] = draw(st.sampled_from(["product_front.jpg", "city timelapse.mp4", "Logo", "a.b.png"]))
    sprinkle(draw, seg, "x_seg")
    sprinkle(draw, meta, "x_meta")
    seg["m"] = meta
    return seg


@st.composite
def drafts(draw: st.DrawFn) -> Draft:
    width, height = draw(st.sampled_from(sorted(tl.CANVAS_PRESETS.values())))
    draft: dict[str, Any] = {
        "m": {"title": draw(st.text(max_size=8)), "width": width, "height": height},
        "t": [],
    }
    sprinkle(draw, draft, "x_top")
    sprinkle(draw, draft["m"], "x_canvas")
    mains = [draw(main_segment(i)) for i in range(draw(st.integers(0, 5)))]
    pos = 0
    for i, seg in enumerate(mains):
        seg["st"] = pos
        pos += seg["d"]
        if i + 1 < len(mains) and draw(st.booleans()):
            cap = min(seg["d"], mains[i + 1]["d"]) // 2
            kind = draw(st.sampled_from(["fade", "crossfade", "wipe", "slide"]))
            seg["m"]["transition"] = {"type": kind, "d": draw(st.integers(0, cap))}
    end = pos
    tracks: list[dict[str, Any]] = []
    if draw(st.booleans()) or mains:
        tracks.append({"id": "v1", "tt": 0, "role": "main", "sg": mains})
    texts: list[dict[str, Any]] = []
    for role in draw(st.lists(st.sampled_from(["title", "caption"]), unique=True, max_size=2)):
        segs = []
        for _ in range(draw(st.integers(1, 3))):
            start = draw(st.integers(0, max(0, end - 1))) if end else draw(st.integers(0, 9000))
            dur = draw(st.integers(1, end - start)) if end else draw(st.integers(1, 5000))
            seg = {"id": "", "st": start, "d": dur, "text": draw(st.text(min_size=1, max_size=10))}
            seg["m"] = {"position": draw(st.sampled_from(tl.POSITIONS)), "style": {"size": 0.1}}
            sprinkle(draw, seg, "x_seg")
            segs.append(seg)
        texts.extend(segs)
        tracks.append({"id": f"x{len(tracks) + 1}", "tt": 7, "role": role, "sg": segs})
    audios: list[dict[str, Any]] = []
    for role in draw(st.lists(st.sampled_from(["bgm", "voiceover", "sfx"]), unique=True, max_size=3)):
        dur = draw(st.integers(1, end)) if end else draw(st.integers(1, 20000))
        seg = {"id": "", "st": 0, "d": dur, "src": f"up_{role}", "vol": draw(st.floats(0, 1))}
        seg["m"] = {"kind": "audio", "loop": draw(st.booleans()), "fade_out": draw(st.integers(0, dur))}
        if draw(st.booleans()):
            seg["m"]["source_d"] = dur + draw(st.integers(0, 5000))
        sprinkle(draw, seg["m"], "x_meta")
        audios.append(seg)
        tracks.append({"id": f"a{len(tracks) + 1}", "tt": 1, "role": role, "sg": [seg]})
    for track in tracks:
        sprinkle(draw, track, "x_track")
    every = mains + texts + audios
    for seg, seg_id in zip(every, draw(segment_ids(len(every))), strict=True):
        seg["id"] = seg_id
    draft["t"] = draw(st.permutations(tracks))
    return tl.load_draft(draft)


# --------------------------------------------------------------------------------------------------
# random operations (valid and invalid arguments)


def _ids(d: Draft) -> list[str]:
    return [s["id"] for t in d["t"] for s in t["sg"]]


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """About four draws in five from ``valid`` (and shrinking towards it)."""
    return st.integers(0, 4).flatmap(lambda k: invalid if k == 4 else valid)


def _pool(ids: list[str]) -> st.SearchStrategy[str]:
    """Ids of the right kind, sometimes any other id or one that does not exist."""
    return mostly(st.sampled_from(ids), st.sampled_from(BOGUS_IDS)) if ids else st.sampled_from(BOGUS_IDS)


OPERATIONS = [
    "add_main",
    "remove_segment",
    "move_main",
    "swap_main",
    "reorder_main",
    "duplicate_segment",
    "trim",
    "split",
    "set_total_duration",
    "set_speed",
    "set_transition",
    "set_all_transitions",
    "set_motion",
    "add_text",
    "edit_text",
    "set_audio",
    "remove_audio",
    "set_volume",
    "set_fade",
    "set_canvas",
    "set_title",
]


def _draw_op(data: st.DataObject, d: Draft) -> tuple[str, Callable[[], Draft]]:
    draw = data.draw
    every = [(t, s) for t in d["t"] for s in t["sg"]]
    main_ids = [s["id"] for s in tl.main_segments(d)]
    text_ids = [s["id"] for t, s in every if t["tt"] == 7]
    image_ids = [s["id"] for t, s in every if tl.segment_kind(t, s) == "image"]
    video_ids = [s["id"] for t, s in every if tl.segment_kind(t, s) == "video"]
    any_id = _pool([s["id"] for _, s in every])
    end = tl.timeline_end(d)
    time = mostly(st.integers(0, max(0, end - 1)), st.integers(-50, end + 3000))
    length = mostly(st.integers(1, 15000), st.integers(-10, 0))
    maybe = st.none() | mostly(st.integers(0, 12000), st.just(-1))
    vol = mostly(st.floats(0, 1), st.sampled_from([-0.2, 1.5]))
    name = draw(st.sampled_from(OPERATIONS))
    if name == "add_main":
        kind = draw(mostly(st.sampled_from(tl.MAIN_KINDS), st.just("gif")))
        kwargs: dict[str, Any] = {
            "src": draw(mostly(st.sampled_from(["up_new", "https://x.test/a.mp4"]), st.just(""))),
            "kind": kind,
            "d_ms": draw(length),
            "in_ms": draw(mostly(st.just(0), st.sampled_from([500, -1]))),
            "source_d": draw(st.none() | st.integers(1, 30000)),
            "index": draw(st.none() | st.integers(-2, len(main_ids) + 1)),
            "motion": draw(st.sampled_from([None, "zoom_in", "none", "spin"])),
            "vol": draw(st.none() | vol),
            "color": draw(st.sampled_from([None, "#ff0000", "red"])),
            "has_audio": draw(st.none() | st.booleans()),
            "name": draw(st.none() | st.sampled_from(["new_clip.mp4", "x"])),
        }
        return name, lambda: tl.add_main(d, **kwargs)
    if name == "remove_segment":
        seg_id = draw(any_id)
        return name, lambda: tl.remove_segment(d, seg_id)
    if name == "move_main":
        seg_id, to = draw(_pool(main_ids)), draw(st.integers(-2, len(main_ids)))
        return name, lambda: tl.move_main(d, seg_id, to)
    if name == "swap_main":
        a, b = draw(_pool(main_ids)), draw(_pool(main_ids))
        return name, lambda: tl.swap_main(d, a, b)
    if name == "reorder_main":
        order = draw(st.permutations(main_ids))
        if order and draw(st.integers(0, 3)) == 0:
            order = order[1:] if draw(st.booleans()) else [*order, order[0]]
        return name, lambda: tl.reorder_main(d, order)
    if name == "duplicate_segment":
        seg_id = draw(any_id)
        return name, lambda: tl.duplicate_segment(d, seg_id)
    if name == "trim":
        seg_id = draw(mostly(_pool(main_ids), any_id))
        which = draw(mostly(st.sampled_from(["d", "in", "both"]), st.just("neither")))
        in_ms = draw(mostly(st.integers(0, 3000), st.just(-1))) if which in ("in", "both") else None
        d_ms = draw(length) if which in ("d", "both") else None
        return name, lambda: tl.trim(d, seg_id, in_ms=in_ms, d_ms=d_ms)
    if name == "split":
        seg_id = draw(mostly(_pool(main_ids + text_ids), any_id))
        found = next((s for _, s in every if s["id"] == seg_id), None)
        inside = st.integers(found["st"], found["st"] + found["d"]) if found else time
        at = draw(mostly(inside, time))
        return name, lambda: tl.split(d, seg_id, at)
    if name == "set_total_duration":
        total = draw(mostly(st.integers(1, 60000), st.integers(-1, 0)))
        return name, lambda: tl.set_total_duration(d, total)
    if name == "set_speed":
        seg_id = draw(mostly(_pool(video_ids), any_id))
        speed = draw(mostly(st.sampled_from([0.25, 0.5, 1, 1.5, 2, 3.7, 4]), st.sampled_from([0.1, 9])))
        return name, lambda: tl.set_speed(d, seg_id, speed)
    if name == "set_transition":
        seg_id = draw(_pool(main_ids[:-1]))
        kind = draw(mostly(st.sampled_from(tl.TRANSITIONS), st.just("zoom")))
        d_ms = draw(mostly(st.integers(0, 2000), st.integers(2001, 20000)))
        return name, lambda: tl.set_transition(d, seg_id, kind, d_ms)
    if name == "set_all_transitions":
        kind, d_ms = draw(st.sampled_from(tl.TRANSITIONS)), draw(st.integers(0, 3000))
        return name, lambda: tl.set_all_transitions(d, kind, d_ms)
    if name == "set_motion":
        seg_id = draw(mostly(_pool(image_ids), any_id))
        motion = draw(mostly(st.sampled_from(tl.MOTIONS), st.just("spin")))
        return name, lambda: tl.set_motion(d, seg_id, motion)
    if name == "add_text":
        text = draw(mostly(st.sampled_from(["Sale", "Urban Dreams"]), st.just("  ")))
        start, d_ms = draw(time), draw(length)
        position = draw(mostly(st.sampled_from(tl.POSITIONS), st.just("middle")))
        styles = [None, {"size": 0.2}, {"color": "#00ff00", "bold": True}]
        style = draw(mostly(st.sampled_from(styles), st.just({"font": "x"})))
        role = draw(mostly(st.sampled_from(tl.TEXT_ROLES), st.just("subtitle")))
        return name, lambda: tl.add_text(
            d, text, st=start, d_ms=d_ms, position=position, style=style, role=role
        )
    if name == "edit_text":
        seg_id = draw(mostly(_pool(text_ids), any_id))
        new_text = draw(mostly(st.sampled_from([None, "Now"]), st.just("")))
        start, d_ms = draw(st.none() | time), draw(st.none() | length)
        position = draw(mostly(st.sampled_from([None, "bottom"]), st.just("nowhere")))
        style = draw(mostly(st.sampled_from([None, {"size": 0.05}]), st.just({"size": 3})))
        return name, lambda: tl.edit_text(
            d, seg_id, text=new_text, st=start, d_ms=d_ms, position=position, style=style
        )
    if name == "set_audio":
        role = draw(mostly(st.sampled_from(tl.AUDIO_ROLES), st.just("sfx")))
        kwargs = {
            "src": draw(mostly(st.sampled_from(["up_song", "up_voice"]), st.just(""))),
            "name": draw(st.none() | st.sampled_from(["Lo-fi.mp3", "voice_take_2.wav"])),
            "vol": draw(st.none() | vol),
            "source_d": draw(st.none() | mostly(st.integers(1, 90000), st.just(-5))),
            "fade_in": draw(maybe),
            "fade_out": draw(maybe),
            "loop": draw(st.none() | st.booleans()),
        }
        return name, lambda: tl.set_audio(d, role, **kwargs)
    if name == "remove_audio":
        role = draw(mostly(st.sampled_from(tl.AUDIO_ROLES), st.just("sfx")))
        return name, lambda: tl.remove_audio(d, role)
    if name == "set_volume":
        target, value = draw(mostly(_pool([*video_ids, "bgm", "voiceover"]), any_id)), draw(vol)
        return name, lambda: tl.set_volume(d, target, value)
    if name == "set_fade":
        target = draw(mostly(st.sampled_from(["bgm", "voiceover"]), any_id))
        fade = mostly(st.integers(0, 3000), st.just(-1))
        which = draw(mostly(st.sampled_from(["in", "out", "both"]), st.just("neither")))
        fade_in = draw(fade) if which in ("in", "both") else None
        fade_out = draw(fade) if which in ("out", "both") else None
        return name, lambda: tl.set_fade(d, target, fade_in=fade_in, fade_out=fade_out)
    if name == "set_canvas":
        preset = draw(mostly(st.sampled_from(list(tl.CANVAS_PRESETS)), st.just("3:2")))
        fit = draw(mostly(st.sampled_from([None, *tl.FITS]), st.just("stretch")))
        return name, lambda: tl.set_canvas(d, preset, fit=fit)
    title = draw(mostly(st.sampled_from(["Spring", "  padded  "]), st.just("x" * 201)))
    return "set_title", lambda: tl.set_title(d, title)


# --------------------------------------------------------------------------------------------------
# the invariants


def _unknown_keys(d: Draft) -> dict[str, Any]:
    """Every x_* key, addressed by draft / track id / segment id."""
    found: dict[str, Any] = {}
    for key in ("x_top",):
        if key in d:
            found[key] = d[key]
    if "x_canvas" in d["m"]:
        found["m.x_canvas"] = d["m"]["x_canvas"]
    for track in d["t"]:
        if "x_track" in track:
            found[f"track {track['id']}"] = track["x_track"]
        for seg in track["sg"]:
            if "x_seg" in seg:
                found[f"seg {seg['id']}"] = seg["x_seg"]
            if "x_meta" in seg.get("m", {}):
                found[f"seg {seg['id']} m"] = seg["m"]["x_meta"]
    return found


def assert_sound(d: Draft) -> None:
    assert tl.load_draft(json.loads(json.dumps(d))) == d  # saved as JSON and loaded back: the same draft
    segs = tl.main_segments(d)
    pos = 0
    for seg in segs:
        assert seg["st"] == pos
        assert seg["d"] > 0
        pos += seg["d"]
    for i, seg in enumerate(segs[:-1]):
        transition = seg.get("m", {}).get("transition")
        if isinstance(transition, dict):
            assert transition.get("d", 0) <= min(seg["d"], segs[i + 1]["d"]) // 2
    end = tl.timeline_end(d)
    ids = _ids(d)
    assert len(ids) == len(set(ids))
    ranks = [0 if t is tl.main_track(d) else {0: 1, 1: 2, 7: 3}[t["tt"]] for t in d["t"]]
    assert ranks == sorted(ranks)
    voiceover = any(t["tt"] == 1 and t.get("role") == "voiceover" and t["sg"] for t in d["t"])
    for track in d["t"]:
        for seg in track["sg"]:
            meta = seg.get("m", {})
            assert seg["st"] >= 0
            assert seg["d"] > 0
            assert seg.get("in", 0) >= 0
            assert 0 <= seg.get("vol", 0) <= 1
            assert meta.get("fade_in", 0) <= seg["d"]
            assert meta.get("fade_out", 0) <= seg["d"]
            if segs and track["tt"] in (1, 7):
                assert seg["st"] + seg["d"] <= end
            if meta.get("kind") == "video" and "source_d" in meta:
                used = seg.get("in", 0) + seg["d"] * Fraction(meta.get("speed", 1))
                assert used <= meta["source_d"]
            if track["tt"] == 1 and track.get("role") == "bgm":
                if meta.get("loop") is True and segs:
                    assert seg["st"] + seg["d"] == end
                if not voiceover:
                    assert "duck" not in meta


@SETTINGS
@given(drafts())
def test_every_generated_draft_loads_and_already_keeps_the_invariants(d: Draft) -> None:
    assert tl.load_draft(d) == d
    assert track_summary(d).startswith("Timeline (")


def attempt(run: Callable[[], Draft]) -> Draft | TimelineError:
    """The operation's result, or the TimelineError it raised (any other exception fails the test)."""
    try:
        return run()
    except TimelineError as error:
        return error


@SETTINGS
@given(drafts(), st.data())
def test_random_edit_sequences_keep_the_timeline_sound(d: Draft, data: st.DataObject) -> None:
    current = d
    for _ in range(data.draw(st.integers(1, 6))):
        name, run = _draw_op(data, current)
        before = copy.deepcopy(current)
        unknown_before = _unknown_keys(current)
        after = attempt(run)
        assert current == before, f"{name} modified its input"
        if isinstance(after, TimelineError):
            assert str(after), f"{name} raised an empty TimelineError"
            continue
        assert_sound(after)
        unknown_after = _unknown_keys(after)
        for key, value in unknown_after.items():
            if key in unknown_before:
                assert value == unknown_before[key], f"{name} changed unknown key {key}"
        surviving = {f"seg {i}" for i in _ids(after)} | {f"track {t['id']}" for t in after["t"]}
        for key, value in unknown_before.items():
            owner = key.removesuffix(" m")
            if owner in surviving or not owner.startswith(("seg ", "track ")):
                assert unknown_after.get(key) == value, f"{name} dropped unknown key {key}"
        assert isinstance(track_summary(after), str)
        assert all(isinstance(line, str) and line for line in describe_changes(current, after))
        current = after


@SETTINGS
@given(drafts(), st.data())
def test_the_same_edit_on_the_same_draft_gives_the_same_result(d: Draft, data: st.DataObject) -> None:
    _name, run = _draw_op(data, d)
    first, second = attempt(run), attempt(run)
    if isinstance(first, TimelineError):
        assert isinstance(second, TimelineError)
        assert str(second) == str(first)
        return
    assert second == first
    assert describe_changes(d, first) == describe_changes(d, run())


@SETTINGS
@given(drafts(), st.integers(1, 60000))
def test_fitting_to_a_duration_is_exact_or_refused_with_the_maximum(d: Draft, total: int) -> None:
    fitted = attempt(lambda: tl.set_total_duration(d, total))
    if isinstance(fitted, TimelineError):
        message = str(fitted)
        assert "no clips" in message or "at most" in message or "at least" in message
        return
    assert tl.timeline_end(fitted) == total
    assert_sound(fitted)
