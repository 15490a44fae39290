"""The pure compiler, tested by the argument lists it produces (no ffmpeg runs here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.render import MediaInfo, OutputSettings, TextOverlay, compile_render, output_canvas
from engine.render._compile import StillNeed, still_needs

from .conftest import draft, image_seg

JPEG = MediaInfo("image", None, 3000, 2000, None, False, True, "mjpeg", None)
CLIP = MediaInfo("video", 10_000, 1280, 720, 30.0, True, True, "h264", None)
MUSIC = MediaInfo("audio", 30_000, None, None, None, True, False, "mp3", False)


def compile_(d: dict[str, Any], *, texts: list[TextOverlay] | None = None, **settings: Any) -> list[str]:
    media = {s: Path(f"/media/{s}.bin") for s in ("img", "img2", "clip", "voice", "music")}
    infos = {"img": JPEG, "img2": JPEG, "clip": CLIP, "voice": MUSIC, "music": MUSIC}
    job = compile_render(d, media, infos, texts or [], Path("/out/video.mp4"), OutputSettings(**settings))
    return job.argv


def graph(argv: list[str]) -> str:
    return argv[argv.index("-filter_complex") + 1]


def inputs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "-i"]


def five_stills(transition: str = "crossfade", motion: str = "zoom_in") -> dict[str, Any]:
    segs = [
        image_seg(
            f"s{i}",
            i * 6000,
            6000,
            "img" if i % 2 else "img2",
            motion=motion,
            transition={"type": transition, "d": 500},
        )
        for i in range(5)
    ]
    return draft(segs, size=(1920, 1080), fps=30)


def test_each_still_file_is_one_input_even_when_used_by_several_segments() -> None:
    argv = compile_(five_stills())
    assert sorted(inputs(argv)) == ["/media/img.bin", "/media/img2.bin"]
    assert "-loop" not in argv  # no per-frame decode of a still
    assert "split=2" in graph(argv) or "split=3" in graph(argv)


def test_stills_are_repeated_in_the_graph_not_decoded_per_frame() -> None:
    g = graph(compile_(five_stills()))
    assert g.count("loop=loop=") == 5  # one per segment, over the still decoded once


def test_a_crossfade_between_each_pair_of_stills_is_one_short_xfade() -> None:
    g = graph(compile_(five_stills("crossfade")))
    assert g.count("xfade=transition=fade:duration=0.5:offset=0") == 4


@pytest.mark.parametrize(
    ("kind", "xfade"), [("fade", "fadeblack"), ("wipe", "wipeleft"), ("slide", "slideleft")]
)
def test_each_transition_kind_maps_to_its_xfade(kind: str, xfade: str) -> None:
    assert graph(compile_(five_stills(kind))).count(f"xfade=transition={xfade}:") == 4


def test_no_transition_means_a_plain_cut() -> None:
    g = graph(compile_(five_stills("none")))
    assert "xfade" not in g
    assert "concat=n=5" in g


def test_transitions_do_not_lengthen_the_video() -> None:
    argv = compile_(five_stills())
    assert argv[argv.index("-t") + 1] == "30"


def test_zoom_is_centred_on_every_frame() -> None:
    g = graph(compile_(five_stills(motion="zoom_in")))
    assert "eval=frame" in g
    # re-centred each frame from the zoom itself (crop's iw is stale when sizes change): no drift
    assert "crop=1920:1080:'(2*trunc(1920*(1+0.1000*min(1,n/194))/2+0.5)-1920)/2'" in g


def test_a_still_without_motion_costs_no_per_frame_scaling() -> None:
    g = graph(compile_(five_stills(motion="none")))
    assert "eval=frame" not in g


def test_pans_move_a_crop_window_across_the_fitted_still() -> None:
    d = draft([image_seg("s1", 0, 3000, motion="pan_right")], size=(1920, 1080), fps=30)
    g = graph(compile_(d))
    assert "crop=1920:1080:'(iw-1920)*min(1,n/89)':(ih-1080)/2" in g


def test_jpeg_full_range_becomes_tv_range_yuv420p() -> None:
    argv = compile_(five_stills())
    assert "out_range=tv" in graph(argv)
    assert argv[argv.index("-pix_fmt") + 1] == "yuv420p"


def test_prepared_stills_are_raw_frames_of_exactly_the_fitted_size() -> None:
    d = five_stills()
    media = {s: Path(f"/media/{s}.bin") for s in ("img", "img2")}
    infos = {"img": JPEG, "img2": JPEG}
    canvas = output_canvas(d, OutputSettings())
    needs = still_needs(d, media, infos, canvas)
    assert {n.width for n in needs.values()} == {2112}  # 1920 plus the 10% zoom margin
    prepared = {n.key: Path(f"/tmp/{n.path.name}.rgb") for n in needs.values()}
    argv = compile_render(d, media, infos, [], Path("/out/v.mp4"), canvas=canvas, prepared=prepared).argv
    assert sorted(inputs(argv)) == ["/tmp/img.bin.rgb", "/tmp/img2.bin.rgb"]
    assert argv.count("rawvideo") == 2
    assert "2112x1188" in argv


def test_text_is_a_png_overlay_shown_only_in_its_frame_window() -> None:
    d = five_stills()
    texts = [
        TextOverlay("t1", Path("/tmp/t1.png"), 10, 20, 0, 3000),
        TextOverlay("t2", Path("/tmp/t2.png"), 30, 40, 8000, 11000),
    ]
    argv = compile_(d, texts=texts)
    g = graph(argv)
    assert "/tmp/t1.png" in inputs(argv)
    assert "/tmp/t2.png" in inputs(argv)
    assert "overlay=x=10:y=20:format=yuv420:enable='between(n,0,89)'" in g
    assert "overlay=x=30:y=40:format=yuv420:enable='between(n,240,329)'" in g
    assert "drawtext" not in g


def test_words_never_reach_the_filter_graph() -> None:
    d = five_stills()
    d["t"].append({"id": "x", "tt": 7, "sg": [{"id": "t", "st": 0, "d": 1000, "text": "50% off: 'now'"}]})
    argv = compile_(d, texts=[TextOverlay("t", Path("/tmp/t.png"), 0, 0, 0, 1000)])
    assert not any("50%" in a or "'now'" in a for a in argv)


def test_music_is_looped_faded_mixed_without_halving_and_ducked_under_the_voice() -> None:
    d = draft(
        [image_seg("s1", 0, 20_000)],
        audio=[
            ("voiceover", {"id": "vo", "st": 1000, "d": 15_000, "src": "voice"}),
            (
                "bgm",
                {
                    "id": "bg",
                    "st": 0,
                    "d": 20_000,
                    "src": "music",
                    "vol": 0.35,
                    "m": {"loop": True, "fade_in": 1000, "fade_out": 2000},
                },
            ),
        ],
    )
    argv = compile_(d)
    g = graph(argv)
    music_input = argv.index("/media/music.bin")
    assert argv[music_input - 4 : music_input] == ["-stream_loop", "-1", "-vn", "-i"]
    assert "volume=0.3500" in g
    assert "afade=t=in:d=1" in g
    assert "afade=t=out:st=18:d=2" in g
    assert "adelay=1000:all=1" in g
    assert "sidechaincompress" in g
    assert "amix=inputs=2:normalize=0" in g
    assert "apad=whole_dur=20,atrim=duration=20" in g


def test_a_draft_without_sound_still_gets_a_silent_audio_track() -> None:
    g = graph(compile_(five_stills()))
    assert "anullsrc=r=48000:cl=stereo,atrim=duration=30" in g


def test_a_clip_uses_its_in_point_duration_speed_and_own_sound() -> None:
    seg = {
        "id": "c1",
        "st": 0,
        "d": 2000,
        "src": "clip",
        "in": 1500,
        "vol": 0.5,
        "m": {"kind": "video", "speed": 2},
    }
    argv = compile_(draft([seg]))
    picture, sound = (i for i, a in enumerate(argv) if a == "/media/clip.bin")
    # the picture from the key frame before the in-point, its timestamps kept; the sound exactly from it
    assert argv[picture - 4 : picture - 1] == ["-noaccurate_seek", "-ss", "1.500000"]
    assert argv[sound - 6 : sound - 1] == ["-ss", "1.5", "-t", "4.5", "-vn"]  # 2 s at 2x = 4 s (+ margin)
    g = graph(argv)
    assert "setpts=PTS/2.000000+0/(25*TB),fps=25/1,tpad=stop_mode=clone:stop=50,trim=start_pts=0," in g
    assert "atempo=2" in g
    assert "volume=0.5000" in g


def test_a_muted_clip_contributes_no_sound() -> None:
    seg = {"id": "c1", "st": 0, "d": 2000, "src": "clip", "vol": 0, "m": {"kind": "video"}}
    g = graph(compile_(draft([seg])))
    assert ":a]" not in g
    assert "anullsrc" in g


def test_a_colour_card_is_generated_and_bad_colours_are_not_passed_through() -> None:
    good = {"id": "c", "st": 0, "d": 1000, "m": {"kind": "color", "color": "#ff8800"}}
    bad = {"id": "c", "st": 0, "d": 1000, "m": {"kind": "color", "color": "red;[0:v]nullsink"}}
    assert "color=c=0xff8800" in graph(compile_(draft([good])))
    assert "nullsink" not in graph(compile_(draft([bad])))


@pytest.mark.parametrize(
    ("preset", "size"),
    [
        ((1920, 1080), "960x540"),
        ((1080, 1920), "540x960"),
        ((1080, 1080), "540x540"),
        ((1080, 1350), "540x676"),
    ],
)
def test_preview_is_at_most_540p_at_15_fps_with_the_fastest_preset(
    preset: tuple[int, int], size: str
) -> None:
    d = draft([image_seg("s1", 0, 2000)], size=preset, fps=30)
    canvas = output_canvas(d, OutputSettings(preview=True))
    assert f"{canvas.width}x{canvas.height}" == size
    argv = compile_(d, preview=True)
    assert argv[argv.index("-r") + 1] == "15/1"
    assert argv[argv.index("-preset") + 1] == "ultrafast"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mp4", ["libx264", "aac", "+faststart", "mp4"]),
        ("mov", ["libx264", "aac", "mov"]),
        ("mkv", ["libx264", "aac", "matroska"]),
        ("webm", ["libvpx-vp9", "libopus", "webm"]),
        ("avi", ["mpeg4", "libmp3lame", "avi"]),
    ],
)
def test_each_format_gets_its_codecs_and_muxer(fmt: str, expected: list[str]) -> None:
    argv = compile_(five_stills(), format=fmt)
    for token in expected:
        assert token in argv


def test_quality_sets_the_x264_crf_and_a_benchmark_may_pin_the_preset() -> None:
    crfs = {q: compile_(five_stills(), quality=q) for q in ("low", "medium", "high")}
    values = {q: int(a[a.index("-crf") + 1]) for q, a in crfs.items()}
    assert values["high"] < values["medium"] < values["low"]
    pinned = compile_(five_stills(), preset="veryfast")
    assert pinned[pinned.index("-preset") + 1] == "veryfast"


def test_the_canvas_is_the_drafts_size_by_default() -> None:
    canvas = output_canvas(draft([image_seg("s1", 0, 1000)], size=(1080, 1920)), OutputSettings())
    assert (canvas.width, canvas.height, float(canvas.fps)) == (1080, 1920, 25.0)


def test_still_needs_follow_fit_and_motion() -> None:
    d = draft(
        [image_seg("s1", 0, 1000, fit="contain_blur"), image_seg("s2", 1000, 1000, src="img2", motion="none")]
    )
    needs = still_needs(
        d,
        {"img": Path("/a.jpg"), "img2": Path("/b.jpg")},
        {"img": JPEG, "img2": JPEG},
        output_canvas(d, OutputSettings()),
    )
    assert needs["s1"] == StillNeed(Path("/a.jpg"), "contain_blur", 160, 90, "black")
    assert (needs["s2"].fit, needs["s2"].width) == ("cover", 160)


def test_graph_labels_are_all_connected_once() -> None:
    g = graph(compile_(five_stills()))
    produced = re.findall(r"\[([a-z]+\d+)\](?=;|$)", g)
    for label in produced:
        assert g.count(f"[{label}]") == 2 or label.startswith(("vout", "aout"))


@pytest.mark.parametrize(
    ("fps", "rate"), [(30, "30/1"), (29.97, "30000/1001"), (23.976, "24000/1001"), (12.5, "25/2")]
)
def test_frame_rates_are_exact_and_ntsc_rates_are_recognised(fps: float, rate: str) -> None:
    argv = compile_(draft([image_seg("s1", 0, 1000)], fps=fps))  # type: ignore[arg-type]
    assert argv[argv.index("-r") + 1] == rate


def test_a_transition_longer_than_the_next_segment_is_shortened_and_the_last_one_is_ignored() -> None:
    segs = [
        image_seg("s1", 0, 2000, transition={"type": "crossfade", "d": 5000}),
        image_seg("s2", 2000, 400, src="img2", transition={"type": "crossfade", "d": 500}),
    ]
    argv = compile_(draft(segs))
    g = graph(argv)
    assert g.count("xfade=") == 1
    assert "xfade=transition=fade:duration=0.4:offset=0" in g  # clamped to s2's 400 ms
    assert argv[argv.index("-t") + 1] == "2.4"


def test_a_timeline_that_starts_late_opens_on_the_background_colour() -> None:
    d = draft([image_seg("s1", 1000, 1000)])
    d["m"]["background"] = "#102030"
    g = graph(compile_(d))
    assert "color=c=0x102030" in g
    assert "concat=n=2" in g


def test_only_high_quality_pays_for_the_slow_aac_coder() -> None:
    assert "-aac_coder" not in compile_(five_stills(), quality="high")
    fast = compile_(five_stills(), quality="medium")
    assert fast[fast.index("-aac_coder") + 1] == "fast"
