"""Sample media for the demo and the tests: product-like stills, a spoken-word-like voiceover, a music bed.

Everything is generated here (Pillow for the stills, the standard library for 16-bit PCM WAV), so the demo
needs no download and no ffmpeg on the client side. The voice is not speech, but it has speech's shape:
voiced syllables with formant-like timbre, 3–6 per second, short gaps between words and longer pauses
between phrases. The music is continuous: a chord pad over a four-chord progression with a soft beat.
"""

from __future__ import annotations

import math
import random
import struct
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["SampleSet", "make_music", "make_samples", "make_still", "make_voice"]

_RATE = 22050
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


@dataclass(frozen=True)
class SampleSet:
    stills: tuple[Path, ...]
    voiceover: Path
    music: Path

    @property
    def all(self) -> tuple[Path, ...]:
        return (*self.stills, self.voiceover, self.music)


_STILLS: Sequence[tuple[str, str, tuple[int, int, int], tuple[int, int, int]]] = (
    ("product_front", "Aurora bottle · front", (18, 32, 64), (80, 160, 220)),
    ("product_side", "Aurora bottle · side", (40, 18, 60), (210, 110, 170)),
    ("product_detail", "Brushed steel cap", (20, 48, 40), (120, 210, 160)),
    ("lifestyle_1", "On the trail", (70, 40, 16), (240, 180, 90)),
    ("lifestyle_2", "At the desk", (30, 30, 34), (170, 170, 190)),
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for base in _FONT_DIRS:
        for path in sorted(base.rglob("DejaVuSans-Bold.ttf")) if base.is_dir() else ():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def make_still(
    path: Path,
    label: str,
    dark: tuple[int, int, int],
    light: tuple[int, int, int],
    *,
    size: tuple[int, int] = (1600, 1200),
    seed: int = 0,
) -> Path:
    """A product-like photo: a lit gradient backdrop, a bottle with a shadow and a caption."""
    w, h = size
    rnd = random.Random(seed)
    top = Image.new("RGB", (1, 2))
    top.putpixel((0, 0), light)
    top.putpixel((0, 1), dark)
    img = top.resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img, "RGBA")
    for _ in range(60):  # bokeh, so the still compresses like a photograph
        r = rnd.randint(h // 60, h // 12)
        x, y = rnd.randint(0, w), rnd.randint(0, h)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, rnd.randint(8, 40)))
    cx, base_y = w // 2 + rnd.randint(-w // 8, w // 8), int(h * 0.82)
    bw, bh = w // 7, int(h * 0.5)
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse((cx - bw, base_y - bh // 20, cx + bw, base_y + bh // 20), fill=150)
    img.paste((0, 0, 0), (0, 0), shadow.filter(ImageFilter.GaussianBlur(h // 60)))
    body = (cx - bw // 2, base_y - bh, cx + bw // 2, base_y)
    draw.rounded_rectangle(body, radius=bw // 3, fill=(*light, 255), outline=(255, 255, 255, 200), width=4)
    draw.rectangle(
        (cx - bw // 5, base_y - bh - bh // 6, cx + bw // 5, base_y - bh + 10), fill=(200, 200, 210)
    )
    draw.rounded_rectangle(
        (cx - bw // 2 + 12, base_y - bh // 2, cx + bw // 2 - 12, base_y - bh // 4),
        radius=8,
        fill=(*dark, 230),
    )
    draw.text((w // 20, h // 16), label, font=_font(h // 16), fill=(255, 255, 255, 235))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=90)
    return path


def _write_wav(path: Path, samples: Sequence[float]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = struct.pack(f"<{len(samples)}h", *(int(max(-1.0, min(1.0, s)) * 32000) for s in samples))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(frames)
    return path


def make_voice(path: Path, seconds: float, *, seed: int = 7) -> Path:
    """Speech-shaped audio: syllables of a voiced tone with formants, words and phrase pauses."""
    rnd = random.Random(seed)
    total = int(seconds * _RATE)
    out = [0.0] * total
    vowels = ((700, 1200), (400, 2000), (300, 2300), (500, 900), (600, 1700))
    pos = int(0.3 * _RATE)
    while pos < total - _RATE // 4:
        for _word in range(rnd.randint(3, 8)):  # a phrase
            for _syl in range(rnd.randint(1, 3)):  # a word
                n = int(rnd.uniform(0.12, 0.24) * _RATE)
                f0 = rnd.uniform(105, 145)
                f1, f2 = rnd.choice(vowels)
                period = max(2, int(_RATE / f0))
                table = [
                    sum(
                        math.sin(2 * math.pi * k * i / period)
                        * (1.0 / k)
                        * (1.0 + 2.5 * math.exp(-(((k * f0 - f1) / 180) ** 2)))
                        * (1.0 + 1.5 * math.exp(-(((k * f0 - f2) / 260) ** 2)))
                        for k in range(1, 16)
                    )
                    for i in range(period)
                ]
                peak = max(abs(v) for v in table) or 1.0
                for i in range(min(n, total - pos)):
                    env = math.sin(math.pi * i / n) ** 2
                    out[pos + i] += 0.6 * env * table[i % period] / peak
                pos += n
            pos += int(rnd.uniform(0.04, 0.11) * _RATE)
            if pos >= total:
                break
        pos += int(rnd.uniform(0.35, 0.7) * _RATE)
    return _write_wav(path, out)


def make_music(path: Path, seconds: float, *, bpm: float = 104.0) -> Path:
    """A continuous music bed: a four-chord pad (I-V-vi-IV in C), bass and a soft kick on each beat."""
    total = int(seconds * _RATE)
    chords = ((261.6, 329.6, 392.0), (196.0, 246.9, 293.7), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6))
    table_size = 4096
    sine = [math.sin(2 * math.pi * i / table_size) for i in range(table_size)]
    beat = 60.0 / bpm
    bar = int(4 * beat * _RATE)
    phases = [0.0, 0.0, 0.0, 0.0]
    out = [0.0] * total
    for i in range(total):
        chord = chords[(i // bar) % len(chords)]
        freqs = (*chord, chord[0] / 2)
        v = 0.0
        for j, f in enumerate(freqs):
            phases[j] = (phases[j] + f * table_size / _RATE) % table_size
            v += sine[int(phases[j])] * (0.16 if j < 3 else 0.22)
        t_in_beat = (i / _RATE) % beat
        if t_in_beat < 0.12:
            v += 0.35 * math.exp(-t_in_beat * 30) * sine[int(55 * t_in_beat * table_size) % table_size]
        out[i] = v
    return _write_wav(path, out)


def make_samples(
    folder: Path, *, voice_s: float = 25.0, music_s: float = 40.0, still_size: tuple[int, int] = (1600, 1200)
) -> SampleSet:
    """Write the demo's media into ``folder`` (kept when already there) and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stills = []
    for n, (name, label, dark, light) in enumerate(_STILLS):
        p = folder / f"{name}.jpg"
        if not p.exists():
            make_still(p, label, dark, light, size=still_size, seed=n)
        stills.append(p)
    voice = folder / "voiceover.wav"
    if not voice.exists():
        make_voice(voice, voice_s)
    music = folder / "music_upbeat.wav"
    if not music.exists():
        make_music(music, music_s)
    return SampleSet(tuple(stills), voice, music)
