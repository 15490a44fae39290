"""Generated media for the render benchmark (bench/render_bench.py): photo-like stills and synthetic audio.

Everything is made here with numpy and Pillow, deterministic from a seed, so every run of the
benchmark (and every machine) measures the same inputs.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SAMPLE_RATE = 44_100


def photo_like_still(path: Path, *, width: int = 3000, height: int = 2000, seed: int = 0) -> Path:
    """A JPEG (quality 90) that compresses like a photograph: gradients, many small shapes, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.empty((height, width, 3), dtype=np.float32)
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, math.tau)
        base[..., c] = 127 + 90 * np.sin(xx / width * fx * math.tau + ph) * np.cos(
            yy / height * fy * math.tau
        )
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(1500):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(4, 60))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noisy = np.asarray(img, dtype=np.int16) + rng.normal(0, 9, (height, width, 3)).astype(np.int16)
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB").save(path, "JPEG", quality=90)
    return path


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    return path


def speech_like(path: Path, *, seconds: float = 30.0, seed: int = 1) -> Path:
    """Voice-like audio: voiced syllables (~4-5 a second, gliding pitch, two formant-ish partials)
    grouped into words and phrases, with short gaps between words and longer pauses between phrases."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n, dtype=np.float64)
    pos = int(0.3 * SAMPLE_RATE)
    while pos < n:
        for _word in range(int(rng.integers(2, 6))):
            for _syl in range(int(rng.integers(1, 4))):
                length = int(rng.uniform(0.12, 0.24) * SAMPLE_RATE)
                if pos + length >= n:
                    break
                t = np.arange(length) / SAMPLE_RATE
                f0 = rng.uniform(110, 190) * (1 + 0.15 * np.sin(math.tau * 2 * t))
                phase = np.cumsum(f0) / SAMPLE_RATE * math.tau
                voice = sum(np.sin(k * phase) / k for k in range(1, 8))
                voice += 0.4 * np.sin(phase * rng.uniform(4, 9))
                env = np.sin(np.pi * np.arange(length) / length) ** 1.5
                out[pos : pos + length] += 0.3 * voice * env
                pos += length + int(rng.uniform(0.01, 0.04) * SAMPLE_RATE)
            pos += int(rng.uniform(0.08, 0.2) * SAMPLE_RATE)
        pos += int(rng.uniform(0.35, 0.7) * SAMPLE_RATE)
    return _write_wav(path, out)


def music_like(path: Path, *, seconds: float = 30.0, seed: int = 2) -> Path:
    """Music-like audio: sustained chords (a new one every two seconds, crossfaded) over a soft pulse,
    never silent."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n, dtype=np.float64)
    roots = [220.0, 196.0, 174.6, 246.9]
    chord_len = 2.0
    for i in range(math.ceil(seconds / chord_len)):
        root = roots[i % len(roots)] * rng.choice([1.0, 0.5])
        start, stop = int(i * chord_len * SAMPLE_RATE), min(n, int((i + 1.25) * chord_len * SAMPLE_RATE))
        tt = t[start:stop]
        chord = sum(np.sin(math.tau * root * r * tt) for r in (1.0, 1.26, 1.5, 2.0))
        env = np.minimum(1.0, np.minimum((tt - tt[0]) / 0.3, (tt[-1] - tt + 1e-9) / 0.5))
        out[start:stop] += 0.12 * chord * env
    out *= 1 + 0.15 * np.sin(math.tau * 2 * t)  # a gentle pulse, never down to silence
    return _write_wav(path, out)
