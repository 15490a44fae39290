"""render(), storyboard() and remux() on tiny drafts (1 s at 160x90), checked by probing and decoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image, ImageChops

from engine.render import (
    MediaError,
    OutputSettings,
    RenderError,
    RenderProgress,
    probe,
    remux,
    render,
    storyboard,
)
from engine.render._text import find_fonts
from engine.render._types import Format
from tests.engine.render._pixels import pixels

from .conftest import copy_bytes, draft, file_names, file_size, frame_at, image_seg

pytestmark = pytest.mark.anyio
EMOJI_TEXT = 'Big sale 🔥 50% off: "now"'


def tiny(text: str | None = "Hello", **meta: Any) -> dict[str, Any]:
    texts = [{"id": "t1", "st": 0, "d": 1000, "text": text, "m": {"position": "center"}}] if text else None
    return draft(
        [image_seg("s1", 0, 1000, **meta)],
        texts=texts,
        audio=[("bgm", {"id": "a1", "st": 0, "d": 1000, "src": "tone", "vol": 0.5})],
    )


@pytest.fixture
def media(still: Path, tone_wav: Path, clip: Path, still_b: Path) -> dict[str, Path]:
    return {"img": still, "img2": still_b, "tone": tone_wav, "clip": clip}


@pytest.mark.parametrize(
    ("fmt", "codecs"),
    [
        ("mp4", ("h264", "aac")),
        ("mov", ("h264", "aac")),
        ("mkv", ("h264", "aac")),
        ("webm", ("vp9", "opus")),
        ("avi", ("mpeg4", "mp3")),
    ],
)
async def test_each_format_renders_a_video_with_picture_and_sound_of_the_right_length(
    fmt: Format, codecs: tuple[str, str], media: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / f"video.{fmt}"
    with anyio.fail_after(60):
        result = await render(tiny(), media, out, OutputSettings(format=fmt, quality="low"))
        info = await probe(out)
    assert result.path == out
    assert result.size == file_size(out) > 0
    assert (result.width, result.height, result.format) == (160, 90, fmt)
    assert (info.codec, info.has_audio, info.width, info.height) == (codecs[0], True, 160, 90)
    assert info.duration_ms is not None
    assert abs(info.duration_ms - 1000) <= 40
    assert file_names(tmp_path) == [out.name]  # no partial file left behind


async def test_text_with_emoji_quotes_colons_and_percent_is_in_the_picture(
    media: dict[str, Path], tmp_path: Path
) -> None:
    size = (320, 180)
    with_text = draft(
        [image_seg("s1", 0, 1000)],
        size=size,
        texts=[{"id": "t", "st": 0, "d": 1000, "text": EMOJI_TEXT, "m": {"style": {"size": 0.16}}}],
    )
    plain = draft([image_seg("s1", 0, 1000)], size=size)
    with anyio.fail_after(60):
        await render(with_text, media, tmp_path / "text.mp4", OutputSettings(quality="high"))
        await render(plain, media, tmp_path / "plain.mp4", OutputSettings(quality="high"))
        a = await frame_at(tmp_path / "text.mp4", 0.5, tmp_path / "a.png")
        b = await frame_at(tmp_path / "plain.mp4", 0.5, tmp_path / "b.png")
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 60 else 0)
    box = diff.getbbox()
    assert box is not None, "the text is not in the frame"
    assert box[2] - box[0] > 160  # a wide line of words (wrapped to the canvas)
    white = sum(1 for p in pixels(a) if min(p) > 220)
    assert white > 400  # the white letters themselves, not only a smudge
    if find_fonts().emoji is not None:
        # the flame is orange/red/yellow: saturated pixels that the plain render lacks where the text is
        def saturated(img: Image.Image) -> int:
            region = img.crop(box)
            return sum(1 for r, g, bl in pixels(region.convert("RGB")) if r > 180 and r - bl > 100 and g > 60)

        assert saturated(a) > saturated(b) + 20


async def test_a_clip_a_colour_card_and_a_crossfade_render_to_the_drafts_length(
    media: dict[str, Path], tmp_path: Path
) -> None:
    d = draft(
        [
            {
                "id": "c1",
                "st": 0,
                "d": 600,
                "src": "clip",
                "in": 500,
                "m": {"kind": "video", "transition": {"type": "crossfade", "d": 200}},
            },
            {
                "id": "k1",
                "st": 600,
                "d": 400,
                "m": {"kind": "color", "color": "#00ff00", "transition": {"type": "wipe", "d": 200}},
            },
            image_seg("s3", 1000, 500, src="img2", motion="zoom_out", fit="contain_blur"),
        ]
    )
    out = tmp_path / "mix.mp4"
    with anyio.fail_after(60):
        result = await render(d, media, out, OutputSettings(quality="low"))
        green = await frame_at(out, 0.95, tmp_path / "g.png")
    assert abs(result.duration_s - 1.5) <= 0.05
    r, g, b = green.getpixel((80, 45))  # type: ignore[misc]
    assert g > 200
    assert r < 60
    assert b < 60


async def test_progress_is_reported_up_to_100_percent(media: dict[str, Path], tmp_path: Path) -> None:
    seen: list[RenderProgress] = []
    with anyio.fail_after(60):
        await render(
            tiny(), media, tmp_path / "p.mp4", OutputSettings(quality="low"), on_progress=seen.append
        )
    assert seen
    assert seen[-1].percent == 100.0
    assert all(0 <= p.percent <= 100 for p in seen)


async def test_cancelling_a_render_kills_ffmpeg_and_leaves_no_file(
    media: dict[str, Path], tmp_path: Path
) -> None:
    long = draft(
        [image_seg("s1", 0, 600_000, motion="zoom_in")],
        size=(640, 360),
        audio=[("bgm", {"id": "a1", "st": 0, "d": 600_000, "src": "tone", "m": {"loop": True}})],
    )
    started = anyio.Event()

    def on_progress(p: RenderProgress) -> None:
        started.set()

    out = tmp_path / "long.mp4"
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: render(long, media, out, OutputSettings(quality="low"), on_progress=on_progress)
            )
            await started.wait()
            tg.cancel_scope.cancel()
    assert file_names(tmp_path) == []  # neither the video nor a partial one


async def test_a_truncated_image_names_its_segment_and_file_before_ffmpeg_runs(
    media: dict[str, Path], still: Path, tmp_path: Path
) -> None:
    cut = copy_bytes(still, tmp_path / "cut.jpg", fraction=0.3)
    d = draft([image_seg("s1", 0, 500), image_seg("s2", 500, 500, src="broken")])
    with anyio.fail_after(30), pytest.raises(MediaError) as err:
        await render(d, {**media, "broken": cut}, tmp_path / "out.mp4")
    assert err.value.segment_id == "s2"
    assert err.value.file == str(cut)
    assert "s2" in str(err.value)
    assert "cut.jpg" in str(err.value)
    assert not (tmp_path / "out.mp4").exists()


async def test_a_text_file_posing_as_a_clip_is_rejected(media: dict[str, Path], tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("hello")
    d = draft([{"id": "c9", "st": 0, "d": 1000, "src": "fake", "m": {"kind": "video"}}])
    with anyio.fail_after(30), pytest.raises(MediaError) as err:
        await render(d, {**media, "fake": fake}, tmp_path / "out.mp4")
    assert err.value.segment_id == "c9"
    assert "fake.mp4" in err.value.message


async def test_an_empty_audio_file_is_rejected(media: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "voice.mp3"
    empty.write_bytes(b"")
    d = draft(
        [image_seg("s1", 0, 1000)], audio=[("voiceover", {"id": "vo", "st": 0, "d": 1000, "src": "vo"})]
    )
    with anyio.fail_after(30), pytest.raises(MediaError) as err:
        await render(d, {**media, "vo": empty}, tmp_path / "out.mp4")
    assert err.value.segment_id == "vo"
    assert "empty" in err.value.message


async def test_an_image_used_where_audio_belongs_is_rejected(media: dict[str, Path], tmp_path: Path) -> None:
    d = draft([image_seg("s1", 0, 1000)], audio=[("bgm", {"id": "m1", "st": 0, "d": 1000, "src": "img"})])
    with anyio.fail_after(30), pytest.raises(MediaError, match="needs an audio"):
        await render(d, media, tmp_path / "out.mp4")


async def test_media_missing_from_the_mapping_is_named(media: dict[str, Path], tmp_path: Path) -> None:
    d = draft([image_seg("s1", 0, 1000, src="nowhere")])
    with anyio.fail_after(30), pytest.raises(MediaError, match="'s1' uses 'nowhere'"):
        await render(d, media, tmp_path / "out.mp4")


async def test_a_storyboard_of_a_clip_with_sound_leaves_its_sound_out(
    media: dict[str, Path], tmp_path: Path
) -> None:
    d = draft([{"id": "c1", "st": 0, "d": 1500, "src": "clip", "m": {"kind": "video"}}])
    with anyio.fail_after(60):
        path = await storyboard(d, media, tmp_path / "board.png", frames=2)
    with Image.open(path) as sheet:
        assert sheet.width > 2 * 100


async def test_an_empty_draft_cannot_be_rendered(media: dict[str, Path], tmp_path: Path) -> None:
    with anyio.fail_after(30), pytest.raises(RenderError, match="empty"):
        await render({"m": {"width": 160, "height": 90}, "t": []}, media, tmp_path / "out.mp4")


async def test_a_storyboard_is_one_png_of_labelled_frames(media: dict[str, Path], tmp_path: Path) -> None:
    d = draft([image_seg("s1", 0, 1000), image_seg("s2", 1000, 1000, src="img2")], size=(320, 180))
    with anyio.fail_after(60):
        path = await storyboard(d, media, tmp_path / "board.png", frames=4)
    with Image.open(path) as sheet:
        assert sheet.width > 4 * 200
        assert sheet.height > 150
        left, right = sheet.getpixel((120, 60)), sheet.getpixel((sheet.width - 60, 60))
    assert left != right  # the first frames show the first still, the last ones the second


async def test_remux_changes_the_container_without_reencoding(media: dict[str, Path], tmp_path: Path) -> None:
    with anyio.fail_after(60):
        master = (await render(tiny(), media, tmp_path / "m.mp4", OutputSettings(quality="low"))).path
        out = await remux(master, tmp_path / "m.mkv", "mkv")
        info = await probe(out)
    assert (info.codec, info.has_audio) == ("h264", True)
    with pytest.raises(RenderError):
        await remux(master, tmp_path / "m.webm", "webm")


def red_box(img: Image.Image) -> tuple[float, float, int]:
    """Centre and width of the red square in a frame."""
    xs, ys = [], []
    for y in range(img.height):
        for x in range(img.width):
            r, g, b = img.getpixel((x, y))  # type: ignore[misc]
            if r > 170 and g < 90 and b < 90:
                xs.append(x)
                ys.append(y)
    return sum(xs) / len(xs), sum(ys) / len(ys), max(xs) - min(xs) + 1


async def test_a_zoom_in_grows_the_picture_about_its_centre_without_drifting(
    media: dict[str, Path], tmp_path: Path
) -> None:
    d = draft([image_seg("s1", 0, 2000, motion="zoom_in")], size=(320, 180))
    out = tmp_path / "zoom.mp4"
    with anyio.fail_after(60):
        await render(d, media, out, OutputSettings(quality="high"))
        first = await frame_at(out, 0.0, tmp_path / "first.png")
        last = await frame_at(out, 1.95, tmp_path / "last.png")
    x0, y0, w0 = red_box(first)
    x1, y1, w1 = red_box(last)
    assert abs(x0 - 160) < 2
    assert abs(y0 - 90) < 2
    assert abs(x1 - 160) < 2
    assert abs(y1 - 90) < 2
    assert 1.06 < w1 / w0 < 1.14  # about 10% larger at the end


def fake_ffmpeg(folder: Path, *, exit_code: int, message: str) -> Path:
    """A stand-in ffmpeg that writes a half-made output file, complains, and exits with ``exit_code``."""
    script = folder / "fake-ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        "for last; do :; done\n"
        'case "$last" in *.mp4) echo half-made > "$last";; esac\n'
        f'echo "{message}" >&2\n'
        f"exit {exit_code}\n"
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(
    ("exit_code", "message", "expected"),
    [
        (1, "Error while filtering: Invalid argument", "ffmpeg exit code 1"),
        (0, "all fine, honest", "did not check out|not a readable video"),
    ],
)
async def test_a_failed_or_unreadable_render_leaves_no_file_and_says_why(
    media: dict[str, Path],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    exit_code: int,
    message: str,
    expected: str,
) -> None:
    tools = tmp_path_factory.mktemp("tools")
    monkeypatch.setenv("VIDEOGEN_FFMPEG", str(fake_ffmpeg(tools, exit_code=exit_code, message=message)))
    d = draft([image_seg("s1", 0, 1000)], texts=[{"id": "t", "st": 0, "d": 500, "text": "hi"}])
    with anyio.fail_after(30), pytest.raises(RenderError, match=expected) as err:
        await render(d, media, tmp_path / "out.mp4")
    assert file_names(tmp_path) == []
    if exit_code:
        assert "Error while filtering" in err.value.stderr_tail
        assert "filter graph" in err.value.hint
