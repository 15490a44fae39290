"""Smart re-render on tiny drafts (4 s at 160x90): chunks against a whole render, re-exports against the
cache, and the cache's own failures. Every check decodes the real output with the project's ffmpeg."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image

from bench._frames import psnr_per_frame
from engine.render import (
    OutputSettings,
    RenderCache,
    RenderResult,
    _ffmpeg,
    output_canvas,
    probe,
    render,
    validate_media,
)
from engine.render._compile import compile_graph, graph_args
from engine.render._render import _draw_texts
from engine.render._smart import _Plan

from .conftest import draft, image_seg, tone, write_wav

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
HIGH = OutputSettings(quality="high")


@pytest.fixture
def media(still: Path, still_b: Path, media_dir: Path) -> dict[str, Path]:
    music = media_dir / "music3.wav"
    if not music.exists():
        write_wav(music, tone(4.2, freq=330))
    other = media_dir / "music3b.wav"
    if not other.exists():
        write_wav(other, tone(4.2, freq=550))
    return {"img": still, "img2": still_b, "music": music, "music2": other}


FRAMES = 100
JOINS = (40, 80)


def promo(*, caption_st: int = 1000, music: str = "music") -> dict[str, Any]:
    """4 s at 25 fps: a zooming still crossfading into another, a plain cut into a third; a caption
    that crosses the first chunk edge, and music. Chunks: frames 0-39, 40-79 (up to the cut), 80-99."""
    return draft(
        [
            image_seg("s1", 0, 1600, "img", motion="zoom_in", transition={"type": "crossfade", "d": 400}),
            image_seg("s2", 1600, 1600, "img", motion="zoom_out"),
            image_seg("s3", 3200, 800, "img2", motion="pan_left"),
        ],
        texts=[{"id": "t1", "st": caption_st, "d": 1500, "text": "Join me", "m": {"position": "center"}}],
        audio=[("bgm", {"id": "a1", "st": 0, "d": 4000, "src": music, "vol": 0.5})],
    )


async def export(
    d: dict[str, Any], media: dict[str, Path], out: Path, cache: RenderCache | None, **kw: Any
) -> RenderResult:
    with anyio.fail_after(90):
        return await render(d, media, out, OutputSettings(**({"quality": "high"} | kw)), cache=cache)


async def frame_count(video: Path) -> int:
    done = await _ffmpeg.run(
        ["-v", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "pipe:1"], capture_stdout=True
    )
    return sum(1 for line in done.stdout.decode().splitlines() if line.startswith("0,"))


async def sound_md5(video: Path) -> str:
    done = await _ffmpeg.run(
        ["-v", "error", "-i", str(video), "-map", "0:a", "-f", "md5", "pipe:1"], capture_stdout=True
    )
    return done.stdout.decode().strip()


def entries(cache: RenderCache) -> set[str]:
    return {e.key for e in cache.listing()}


@pytest.mark.slow
async def test_a_draft_rendered_whole_and_by_chunks_has_the_same_frames_at_joins_and_the_same_duration(
    media: dict[str, Path], tmp_path: Path
) -> None:
    whole = await export(promo(), media, tmp_path / "whole.mp4", None)
    chunked = await export(promo(), media, tmp_path / "chunked.mp4", RenderCache(tmp_path / "cache"))
    assert (whole.chunks, chunked.chunks, chunked.chunks_encoded) == (1, 3, 3)
    a, b = await probe(whole.path), await probe(chunked.path)
    assert a.duration_ms == b.duration_ms
    assert await frame_count(whole.path) == await frame_count(chunked.path) == FRAMES
    psnr = await anyio.to_thread.run_sync(psnr_per_frame, chunked.path, whole.path)
    around = [psnr[j - 1] for j in JOINS] + [psnr[j] for j in JOINS]
    assert min(around) >= 45, around
    assert await sound_md5(whole.path) == await sound_md5(chunked.path)  # the same sound, in place


async def test_an_edit_inside_one_chunk_encodes_only_that_chunk_and_gives_what_a_fresh_export_gives(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    await export(promo(caption_st=3300), media, tmp_path / "first.mp4", cache)
    before = entries(cache)
    edited = promo(caption_st=3400)  # the caption moves within the last chunk (3.2-4 s)
    again = await export(edited, media, tmp_path / "again.mp4", cache)
    assert (again.chunks, again.chunks_encoded, again.sound_encoded) == (3, 1, False)
    # one new chunk; the new whole (for other containers) and its alias (the draft that gave it)
    assert len(entries(cache) - before) == 3
    fresh = await export(edited, media, tmp_path / "fresh.mp4", RenderCache(tmp_path / "fresh-cache"))
    assert fresh.chunks_encoded == 3
    assert (tmp_path / "again.mp4").read_bytes() == (tmp_path / "fresh.mp4").read_bytes()


async def test_a_music_change_encodes_no_video_and_keeps_the_picture(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    first = await export(promo(), media, tmp_path / "first.mp4", cache)
    swapped = await export(promo(music="music2"), media, tmp_path / "swapped.mp4", cache)
    assert (swapped.chunks_encoded, swapped.sound_encoded) == (0, True)
    psnr = await anyio.to_thread.run_sync(psnr_per_frame, first.path, swapped.path)
    assert psnr == [float("inf")] * FRAMES
    assert await sound_md5(first.path) != await sound_md5(swapped.path)


async def test_mov_and_mkv_after_an_mp4_export_take_everything_from_the_cache(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    mp4 = await export(promo(), media, tmp_path / "v.mp4", cache)
    for fmt in ("mov", "mkv"):
        other = await export(promo(), media, tmp_path / f"v.{fmt}", cache, format=fmt)
        assert (other.chunks_encoded, other.sound_encoded) == (0, False)
        info = await probe(other.path)
        assert (info.codec, info.has_audio) == ("h264", True)
        assert info.duration_ms is not None
        assert abs(info.duration_ms - 4000) <= 40
        assert await frame_count(other.path) == FRAMES
    assert await sound_md5(mp4.path) == await sound_md5(tmp_path / "v.mkv")


async def test_the_mp4_export_is_faststart_and_leaves_no_work_files(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    out = tmp_path / "out" / "v.mp4"
    await export(promo(), media, out, cache)
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # the index first: plays while it downloads
    assert [p.name for p in out.parent.iterdir()] == ["v.mp4"]
    assert list(cache.work.iterdir()) == []


async def chunk_keys(d: dict[str, Any], media: dict[str, Path], folder: Path) -> list[str]:
    """The cache keys of the draft's chunks, as an export computes them."""
    infos = await validate_media(d, media)
    canvas = output_canvas(d, HIGH)
    texts = _draw_texts(d, canvas, folder)
    plan = _Plan(d, media, infos, canvas, HIGH, texts)
    return [plan.chunk(w).key for w in plan.windows]


def damage(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


async def test_a_corrupt_cached_chunk_is_detected_and_encoded_again(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    await export(promo(caption_st=3300), media, tmp_path / "first.mp4", cache)
    keys = await chunk_keys(promo(caption_st=3300), media, tmp_path)
    damage(cache.entries / f"{keys[0]}.mp4")
    edited = promo(caption_st=3400)  # the last chunk changes; the first is damaged in the cache
    again = await export(edited, media, tmp_path / "again.mp4", cache)
    assert (again.chunks_encoded, again.sound_encoded) == (2, False)
    fresh = await export(edited, media, tmp_path / "fresh.mp4", RenderCache(tmp_path / "fresh-cache"))
    assert (tmp_path / "again.mp4").read_bytes() == fresh.path.read_bytes()


async def test_a_corrupt_cached_export_is_rebuilt_from_its_chunks(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    first = await export(promo(), media, tmp_path / "first.mp4", cache)
    whole = max(cache.entries.glob("*.mp4"), key=lambda p: p.stat().st_size)  # the whole export
    damage(whole)
    again = await export(promo(), media, tmp_path / "again.mov", cache, format="mov")
    assert (again.chunks_encoded, again.sound_encoded) == (0, False)
    assert await frame_count(again.path) == FRAMES
    assert await sound_md5(again.path) == await sound_md5(first.path)


async def test_a_cache_over_its_limit_evicts_the_older_exports_chunks(
    media: dict[str, Path], tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    await export(promo(), media, tmp_path / "a.mp4", cache)
    first = entries(cache)
    cache.limit_bytes = cache.size() + 1000  # room for one export, not two
    other = promo()
    other["t"][0]["sg"][2]["src"] = "img"  # the last chunk changes
    other["m"]["background"] = "#203040"  # and so does every key (the background is in every graph)
    other["t"][1]["sg"][0]["src"] = "music2"  # and the sound's
    await export(other, media, tmp_path / "b.mp4", cache)
    assert cache.size() <= cache.limit_bytes
    assert first - entries(cache)  # the least recently used went
    assert not (set(await chunk_keys(promo(), media, tmp_path)) & entries(cache))  # every chunk of it


@pytest.mark.slow
async def test_webm_with_a_cache_is_one_pass_of_its_own_codec(media: dict[str, Path], tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "cache")
    result = await export(promo(), media, tmp_path / "v.webm", cache, format="webm", quality="low")
    assert (result.chunks, (await probe(result.path)).codec) == (1, "vp9")
    assert entries(cache) == set()


async def raw_frames(
    d: dict[str, Any], media: dict[str, Path], folder: Path, window: tuple[int, int] | None
) -> bytes:
    """The graph's frames (``window`` of them, or all) as raw yuv420p: before any encoder."""
    infos = await validate_media(d, media)
    canvas = output_canvas(d, HIGH)
    texts = _draw_texts(d, canvas, folder)
    graph = compile_graph(d, media, infos, texts, canvas, with_audio=False, window=window)
    done = await _ffmpeg.run(
        [
            "-v",
            "error",
            *graph_args(graph),
            "-map",
            f"[{graph.video}]",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "pipe:1",
        ],
        capture_stdout=True,
    )
    return done.stdout


async def test_any_window_of_the_graph_gives_exactly_those_frames_of_the_whole_graph(
    media: dict[str, Path], clip: Path, tmp_path: Path
) -> None:
    d = draft(
        [
            {
                "id": "v",
                "st": 0,
                "d": 1200,
                "src": "clip",
                "in": 300,
                "m": {"kind": "video", "speed": 1.5, "transition": {"type": "wipe", "d": 400}},
            },
            image_seg("s2", 1200, 1000, "img", motion="zoom_in", transition={"type": "crossfade", "d": 400}),
            {"id": "k", "st": 2200, "d": 600, "m": {"kind": "color", "color": "#3366ff"}},
            image_seg("s4", 2800, 1200, "img2", motion="pan_up", fit="contain"),
        ],
        texts=[{"id": "t", "st": 700, "d": 2600, "text": "Across", "m": {"position": "bottom"}}],
    )
    media = media | {"clip": clip}
    frame = 160 * 90 * 3 // 2
    whole = await raw_frames(d, media, tmp_path, None)
    assert len(whole) == 100 * frame
    for a, b in [(0, 40), (25, 35), (30, 55), (40, 70), (54, 56), (69, 100), (99, 100)]:
        part = await raw_frames(d, media, tmp_path, (a, b))
        assert part == whole[a * frame : b * frame], (a, b)


async def test_a_window_deep_into_a_long_clip_reads_from_near_it_and_gives_the_same_frames(
    media: dict[str, Path], tmp_path: Path
) -> None:
    """A chunk of a long clip used to decode and fit the clip from its in-point (a 60 s clip exported
    by chunks took 5.5x a one-pass render). Now a window reads from the key frame before it: a 24 fps
    source with key frames every 12 frames, slowed to 0.75x on a 25 fps canvas, in-point 0.7 s, held
    on its last frame past its end; every window equals those frames of the whole."""
    clip = tmp_path / "long.mp4"
    await _ffmpeg.run(
        [
            *("-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=4"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-pix_fmt", "yuv420p", str(clip)),
        ]
    )
    seg = {"id": "v", "st": 600, "d": 5000, "src": "clip", "in": 700, "m": {"kind": "video", "speed": 0.75}}
    d = draft([image_seg("s0", 0, 600, "img"), seg])
    media = media | {"clip": clip}
    frame = 160 * 90 * 3 // 2
    whole = await raw_frames(d, media, tmp_path, None)
    assert len(whole) == 140 * frame
    for a, b in [(15, 20), (40, 52), (77, 78), (90, 110), (118, 125), (130, 140)]:
        part = await raw_frames(d, media, tmp_path, (a, b))
        assert part == whole[a * frame : b * frame], (a, b)
    # the source ends at 4.0 s, the segment at 0.7 s + 5 s x 0.75 = 4.45 s: its last frame is held
    assert whole[-frame:] == whole[-10 * frame : -9 * frame]
    infos = await validate_media(d, media)
    plan = compile_graph(d, media, infos, [], output_canvas(d, HIGH), with_audio=False, window=(130, 140))
    seek = plan.input_args[plan.input_args.index("-ss") + 1]
    assert float(seek) > 3.5  # read from near the window, not from the in-point


async def test_a_file_changed_in_place_is_not_served_from_an_earlier_export(
    media: dict[str, Path], still: Path, tmp_path: Path
) -> None:
    cache = RenderCache(tmp_path / "cache")
    own = tmp_path / "img.jpg"
    shutil.copyfile(still, own)
    mine = media | {"img": own}
    await export(promo(), mine, tmp_path / "first.mp4", cache)
    again = await export(promo(), mine, tmp_path / "again.mkv", cache, format="mkv")
    assert (again.chunks, again.chunks_encoded) == (3, 0)
    with Image.open(still) as img:
        img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(own, quality=92)  # same name, new picture
    changed = await export(promo(), mine, tmp_path / "changed.mkv", cache, format="mkv")
    assert changed.chunks_encoded == 2  # the chunks that show img; the last one shows img2
