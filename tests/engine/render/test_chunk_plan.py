"""Where chunks go and what their keys depend on (pure: no ffmpeg runs here), and the cache on its own."""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from engine.render import MediaInfo, OutputSettings, RenderCache, TextOverlay, output_canvas
from engine.render._chunks import chunk_job, chunk_windows, concat_list, sound_job
from engine.render._compile import layout

from .conftest import draft, image_seg

JPEG = MediaInfo("image", None, 3000, 2000, None, False, True, "mjpeg", None)
MUSIC = MediaInfo("audio", 30_000, None, None, None, True, False, "mp3", False)
INFOS = {"img": JPEG, "img2": JPEG, "music": MUSIC}


def promo(*, caption_st: int = 9000, music: str = "music", cut_at_12: bool = True) -> dict[str, Any]:
    """18 s at 30 fps: three 6 s stills; a crossfade into the second, a plain cut into the third."""
    segs = [
        image_seg("s1", 0, 6000, "img", motion="zoom_in", transition={"type": "crossfade", "d": 500}),
        image_seg("s2", 6000, 6000, "img2", motion="zoom_in"),
        image_seg("s3", 12000, 6000, "img", motion="pan_left"),
    ]
    if not cut_at_12:
        segs[1]["m"]["transition"] = {"type": "fade", "d": 500}
    d = draft(
        segs,
        texts=[{"id": "t1", "st": caption_st, "d": 1000, "text": "Hello", "m": {"position": "lower_third"}}],
        audio=[("bgm", {"id": "a1", "st": 0, "d": 18000, "src": music, "vol": 0.3})],
        size=(320, 180),
        fps=30,
    )
    return d


def named(d: dict[str, Any]) -> dict[str, Path]:
    return {src: Path(f"sha256-{src}") for src in ("img", "img2", "music", "music2")}


def overlays(d: dict[str, Any]) -> list[TextOverlay]:
    """The draft's texts as drawn overlays (named by a stand-in for the PNG's content hash)."""
    return [
        TextOverlay(s["id"], Path(f"png-{s['text']}"), 10, 20, s["st"], s["st"] + s["d"])
        for t in d["t"]
        if t["tt"] == 7
        for s in t["sg"]
    ]


def keys(d: dict[str, Any], **settings: Any) -> list[str]:
    out = OutputSettings(**settings)
    canvas = output_canvas(d, out)
    media = named(d)
    return [
        chunk_job(d, media, INFOS, overlays(d), canvas, out, {}, w, "ffmpeg-test").key
        for w in chunk_windows(d, media, INFOS, canvas)
    ]


def test_chunk_edges_fall_on_a_clean_cut_and_about_every_two_seconds_between() -> None:
    d = promo()
    canvas = output_canvas(d, OutputSettings())
    windows = chunk_windows(d, named(d), INFOS, canvas)
    edges = [a for a, _ in windows] + [windows[-1][1]]
    assert edges == [0, 60, 120, 180, 240, 300, 360, 420, 480, 540]
    assert 360 in edges  # the plain cut at 12 s


def test_no_edge_at_a_cut_that_a_transition_crosses() -> None:
    d = promo(cut_at_12=False)
    d["t"][0]["sg"][2]["st"] = 12500  # no 2 s grid point here either: only a clean cut could be an edge
    d["t"][0]["sg"][1]["d"] = 6500
    d["t"][0]["sg"][2]["d"] = 5500
    canvas = output_canvas(d, OutputSettings())
    edges = {a for a, _ in chunk_windows(d, named(d), INFOS, canvas)}
    assert canvas.frames(12500) not in edges
    assert all(b - a >= 40 for a, b in chunk_windows(d, named(d), INFOS, canvas))


def test_a_caption_moved_inside_one_chunk_changes_only_that_chunks_key() -> None:
    before, after = keys(promo(caption_st=8100)), keys(promo(caption_st=8500))
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [4]  # 8.1-9.1 s and 8.5-9.5 s both lie in 8-10 s


def test_a_music_change_changes_no_chunk_key_but_the_sounds() -> None:
    assert keys(promo(music="music2")) == keys(promo())
    d, other = promo(), promo(music="music2")
    canvas = output_canvas(d, OutputSettings())
    a = sound_job(d, named(d), INFOS | {"music2": MUSIC}, canvas, OutputSettings(), "ffmpeg-test")
    b = sound_job(other, named(other), INFOS | {"music2": MUSIC}, canvas, OutputSettings(), "ffmpeg-test")
    assert a.key != b.key
    assert a.inputs == ("sha256-music",)


def test_every_key_changes_with_the_encoder_settings_or_the_ffmpeg_build() -> None:
    d = promo()
    base = keys(d)
    assert not set(base) & set(keys(d, quality="low"))
    canvas = output_canvas(d, OutputSettings())
    job = chunk_job(d, named(d), INFOS, [], canvas, OutputSettings(), {}, (0, 60), "another-ffmpeg")
    assert job.key != base[0]


def test_a_still_changed_in_content_changes_the_keys_of_the_chunks_that_show_it() -> None:
    d = promo()
    canvas = output_canvas(d, OutputSettings())
    media = named(d)
    windows = chunk_windows(d, media, INFOS, canvas)
    other = dict(media, img2=Path("sha256-new-content"))
    changed = [
        i
        for i, w in enumerate(windows)
        if chunk_job(d, media, INFOS, [], canvas, OutputSettings(), {}, w, "x").key
        != chunk_job(d, other, INFOS, [], canvas, OutputSettings(), {}, w, "x").key
    ]
    assert changed == [3, 4, 5]  # img2 is on screen from the crossfade at 6 s to the cut at 12 s


def test_a_job_names_its_inputs_by_content_and_resolves_them_to_files() -> None:
    d = promo()
    canvas = output_canvas(d, OutputSettings())
    job = chunk_job(d, named(d), INFOS, [], canvas, OutputSettings(), {}, (150, 210), "x")
    assert set(job.inputs) == {"sha256-img", "sha256-img2"}  # the crossfade at 6 s needs both stills
    argv = job.resolve({"sha256-img": Path("/m/a.jpg"), "sha256-img2": Path("/m/b.jpg")}, Path("/o/c.mp4"))
    assert "/m/a.jpg" in argv
    assert "/m/b.jpg" in argv
    assert argv[-1] == "/o/c.mp4"
    assert argv[argv.index("-frames:v") + 1] == "60"
    assert argv[argv.index("-threads") + 1] == "1"


def test_the_concat_list_writes_each_chunks_exact_length() -> None:
    canvas = output_canvas(draft([image_seg("s1", 0, 1000)], fps=30), OutputSettings())
    text = concat_list([("c0000.mp4", 60), ("c0001.mp4", 45)], canvas)
    assert "file 'c0000.mp4'\nduration 2\n" in text
    assert "duration 1.5\n" in text
    with pytest.raises(ValueError, match="plain name"):
        concat_list([("../x.mp4", 1)], canvas)


# ---------------------------------------------------------------- the cache on its own


def stored(cache: RenderCache, tmp_path: Path, key: str, size: int, used: float) -> None:
    src = tmp_path / f"{key}.src"
    src.write_bytes(os.urandom(size))
    cache.put(key, src)
    os.utime(cache.entries / f"{key}.json", (used, used))


def test_a_cache_over_its_limit_evicts_the_least_recently_used_entries_first(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache", limit_bytes=3000)
    now = time.time()
    for n, key in enumerate(("a", "b", "c", "d")):
        stored(cache, tmp_path, key, 1000, now - 100 + n)
    assert cache.take("a", tmp_path / "a.out")  # used now: the most recent
    gone = cache.evict(keep={"b"})
    assert gone == ["c", "d"] or gone == ["c"]
    remaining = {e.key for e in cache.listing()}
    assert {"a", "b"} <= remaining
    assert "c" not in remaining
    assert cache.size() <= 3000


def test_a_cache_keeps_what_the_last_export_used_even_over_its_limit(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache", limit_bytes=10)
    stored(cache, tmp_path, "a", 100, time.time())
    assert cache.evict(keep={"a"}) == []
    assert [e.key for e in cache.listing()] == ["a"]
    assert cache.evict() == ["a"]


def test_a_damaged_entry_is_not_handed_out_and_is_deleted(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    stored(cache, tmp_path, "k", 2000, time.time())
    data = cache.entries / "k.mp4"
    raw = bytearray(data.read_bytes())
    raw[700] ^= 0xFF
    data.write_bytes(bytes(raw))
    assert not cache.take("k", tmp_path / "k.out")
    assert not (tmp_path / "k.out").exists()
    assert cache.listing() == []


def test_an_entry_records_its_hash_and_size(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    stored(cache, tmp_path, "k", 1234, time.time())
    meta = json.loads((cache.entries / "k.json").read_text())
    assert meta["size"] == 1234
    assert len(meta["sha256"]) == 64


def test_the_cache_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDEOGEN_RENDER_CACHE_MB", "1.5")
    assert RenderCache(tmp_path).limit_bytes == 1_572_864
    monkeypatch.setenv("VIDEOGEN_RENDER_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="number of megabytes"):
        RenderCache(tmp_path)


def test_promo_is_not_changed_by_planning() -> None:
    d = promo()
    snapshot = copy.deepcopy(d)
    keys(d)
    assert d == snapshot


def test_a_chunk_of_a_long_draft_is_compiled_from_its_own_cuts_only() -> None:
    """A 1000-cut draft used to compile the whole timeline for each of its 1000 chunks (23 s of planning
    on the server, which held /healthz for over a minute in CI); each chunk's graph now holds only the
    segments it shows, so the last chunk's graph is as small as the first's and every argv is short."""
    cards = [
        {"id": f"s{i}", "st": i * 100, "d": 100, "src": "", "m": {"kind": "color", "color": "#204080"}}
        for i in range(1000)
    ]
    d = draft(cards, size=(320, 180), fps=30)
    out = OutputSettings()
    canvas = output_canvas(d, out)
    windows = chunk_windows(d, {}, {}, canvas)
    assert len(windows) == 1000
    lay = layout(d, {}, {}, canvas)
    jobs = [chunk_job(d, {}, {}, [], canvas, out, {}, w, "ffmpeg-test", lay) for w in windows]
    graphs = [job.argv[job.argv.index("-filter_complex") + 1] for job in jobs]
    assert all(g.count("color=c=") == 1 for g in graphs), graphs[500]
    assert len(graphs[-1]) == len(graphs[0])
    # the layout changes nothing: a chunk compiled on its own is the same job
    assert chunk_job(d, {}, {}, [], canvas, out, {}, windows[700], "ffmpeg-test") == jobs[700]
