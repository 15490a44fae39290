"""Tiny generated media (160x90, about a second) for the renderer's tests."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image, ImageDraw

from engine.render import _ffmpeg

RATE = 16_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_wav(path: Path, samples: list[float], rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32000)) for s in samples))
    return path


def tone(seconds: float, freq: float = 440.0, level: float = 0.5, rate: int = RATE) -> list[float]:
    return [level * math.sin(2 * math.pi * freq * i / rate) for i in range(int(seconds * rate))]


def speech_like(seconds: float, rate: int = 8000) -> list[float]:
    """Syllable bursts (about 4 a second, pitch gliding) in words, with short and long silences."""
    out: list[float] = []
    k = 0
    while len(out) < seconds * rate:
        for syl in range(3):
            n = int(rate * (0.14 + 0.03 * ((k + syl) % 3)))
            f0 = 120 + 25 * ((k * 7 + syl) % 5)
            for i in range(n):
                env = math.sin(math.pi * i / n) ** 1.5
                t = i / rate
                out.append(0.5 * env * sum(math.sin(2 * math.pi * f0 * h * t) / h for h in (1, 2, 3)))
            out.extend([0.0] * int(rate * 0.03))
        out.extend([0.0] * int(rate * (0.15 if k % 3 else 0.5)))
        k += 1
    return out[: int(seconds * rate)]


def music_like(seconds: float, rate: int = 8000) -> list[float]:
    """Sustained chords that change every half second, never silent."""
    out = []
    for i in range(int(seconds * rate)):
        t = i / rate
        root = (220.0, 246.9, 196.0, 174.6)[int(t * 2) % 4]
        out.append(0.15 * sum(math.sin(2 * math.pi * root * r * t) for r in (1, 1.26, 1.5)))
    return out


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def still(media_dir: Path) -> Path:
    """A 320x180 JPEG: a blue-to-green gradient with a red square in the middle."""
    img = Image.new("RGB", (320, 180))
    draw = ImageDraw.Draw(img)
    for x in range(320):
        draw.line([(x, 0), (x, 179)], fill=(20, 60 + x // 2, 200 - x // 3))
    draw.rectangle((140, 70, 180, 110), fill=(220, 30, 30))
    path = media_dir / "still.jpg"
    img.save(path, quality=92)
    return path


@pytest.fixture(scope="session")
def still_b(media_dir: Path) -> Path:
    path = media_dir / "still_b.png"
    Image.new("RGB", (200, 200), (240, 200, 40)).save(path)
    return path


@pytest.fixture(scope="session")
def tone_wav(media_dir: Path) -> Path:
    return write_wav(media_dir / "tone.wav", tone(1.2))


@pytest.fixture(scope="session")
def clip(media_dir: Path) -> Path:
    """A 2 s 160x90 H.264/AAC clip (test pattern and a tone), made with the project's ffmpeg."""
    path = media_dir / "clip.mp4"

    async def make() -> None:
        await _ffmpeg.run(
            [
                *("-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2"),
                *("-f", "lavfi", "-i", "sine=f=660:d=2", "-c:v", "libx264", "-preset", "ultrafast"),
                *("-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)),
            ]
        )

    anyio.run(make)
    return path


def draft(
    main: list[dict[str, Any]],
    *,
    texts: list[dict[str, Any]] | None = None,
    audio: list[tuple[str, dict[str, Any]]] | None = None,
    size: tuple[int, int] = (160, 90),
    fps: int = 25,
) -> dict[str, Any]:
    tracks: list[dict[str, Any]] = [{"id": "v1", "tt": 0, "role": "main", "sg": main}]
    for n, (role, seg) in enumerate(audio or []):
        tracks.append({"id": f"a{n + 1}", "tt": 1, "role": role, "sg": [seg]})
    if texts:
        tracks.append({"id": "x1", "tt": 7, "role": "caption", "sg": texts})
    return {"m": {"title": "t", "width": size[0], "height": size[1], "fps": fps}, "t": tracks}


def image_seg(seg_id: str, st: int, d: int, src: str = "img", **meta: Any) -> dict[str, Any]:
    return {"id": seg_id, "st": st, "d": d, "src": src, "m": {"kind": "image", **meta}}


async def frame_at(video: Path, seconds: float, out: Path) -> Image.Image:
    """The decoded frame at ``seconds`` as RGB (through the project's ffmpeg)."""
    await _ffmpeg.run(
        [
            *("-v", "error", "-y", "-ss", _ffmpeg.seconds(seconds), "-i", str(video)),
            *("-frames:v", "1", "-f", "image2", "-c:v", "png", str(out)),
        ]
    )
    with Image.open(out) as img:
        return img.convert("RGB")


Factory = Callable[..., dict[str, Any]]


def copy_bytes(src: Path, dst: Path, *, fraction: float = 1.0) -> Path:
    """``dst`` with the first ``fraction`` of ``src``'s bytes (a truncated copy when < 1)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def file_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def file_size(path: Path) -> int:
    return path.stat().st_size
