"""The main job as a newcomer runs it: `scripts/demo` makes a real 30-second 1080p promo, twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import anyio
import imageio_ffmpeg
import pytest
from PIL import Image

from engine.render import probe
from engine.render._text import place, render_text, style_of

ROOT = Path(__file__).resolve().parent.parent
W, H = 1920, 1080


def run_demo(out: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_", "SKILL_SOURCE"))}
    env.update(
        VIDEOGEN_HOME=str(home / "data"),
        VIDEOGEN_WORKSPACE="off",  # no background workspace server left behind
        XDG_CONFIG_HOME=str(home / "config"),
        COLUMNS="200",
    )
    return subprocess.run(
        # the suite's interpreter runs this folder's code (an editable install): the launcher uses it
        [sys.executable, str(ROOT / "scripts" / "demo"), "--out", str(out)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )


def frame(video: Path, at_s: float) -> Image.Image:
    raw = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            f"{at_s}",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert len(raw) == W * H * 3, f"a {W}x{H} frame at {at_s}s"
    return Image.frombytes("RGB", (W, H), raw)


def text_pixels(segment: dict[str, Any]) -> list[tuple[int, int]]:
    """Canvas pixels where the overlay's letters (not their outline) are drawn."""
    style = style_of(segment, "caption")
    placed = render_text(segment["text"], style, (W, H))
    x0, y0 = place(placed, segment["m"].get("position", "center"), (W, H))
    alpha = placed.image.getchannel("A")
    rgb = placed.image.convert("RGB")
    return [
        (x0 + x, y0 + y)
        for y in range(0, placed.image.height, 2)
        for x in range(0, placed.image.width, 2)
        if alpha.getpixel((x, y)) == 255 and min(rgb.getpixel((x, y))) > 240  # type: ignore[arg-type]
    ]


def white_share(img: Image.Image, pixels: list[tuple[int, int]]) -> float:
    return sum(1 for p in pixels if min(cast(tuple[int, ...], img.getpixel(p))) > 200) / len(pixels)


@pytest.mark.slow
def test_the_demo_makes_a_30_second_1080p_promo_with_the_overlay_at_10s_and_a_2s_intro(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    first = run_demo(out, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    said = first.stdout
    for line in (
        "you: Combine these images and audio",
        "you: Add a text overlay 'Limited offer'",
        "you: Shorten the intro to 2 seconds",
        "Timeline (",
        "✅ Video ready:",
        "storyboard:",
    ):
        assert line in said, f"{line!r} missing from the demo's output:\n{said}"

    record = json.loads((out / "demo.json").read_text(encoding="utf-8"))
    video = Path(record["export"]["path"])
    assert video == out / "promo.mp4"
    assert f"{video}" in said
    info = anyio.run(probe, video)
    assert (info.kind, info.width, info.height, info.codec) == ("video", W, H, "h264")
    assert info.has_audio
    assert info.duration_ms is not None
    assert abs(info.duration_ms - 30_000) <= 34
    assert f"duration {info.duration_ms / 1000:.1f} s" in said
    assert Path(record["storyboard_path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    draft = record["draft"]
    main = next(t for t in draft["t"] if t.get("role") == "main")["sg"]
    assert main[0]["d"] == 2000, "the intro is 2 s long"
    overlay = next(s for t in draft["t"] if t["tt"] == 7 for s in t["sg"] if s.get("text") == "Limited offer")
    assert overlay["st"] == 10_000

    letters = text_pixels(overlay)
    assert len(letters) > 200
    shown = white_share(frame(video, 11.0), letters)
    end_s = (overlay["st"] + overlay["d"]) / 1000
    gone = white_share(frame(video, end_s + 0.5), letters)
    before = white_share(frame(video, 9.5), letters)
    assert shown > 0.8, f"'Limited offer' is visible at 11 s ({shown:.0%} of its letters are white)"
    assert before < 0.3, f"'Limited offer' is not there before 10 s ({before:.0%})"
    assert gone < 0.3, f"nor after it ends ({gone:.0%})"

    again = run_demo(out, tmp_path)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert anyio.run(probe, video).duration_ms == info.duration_ms
