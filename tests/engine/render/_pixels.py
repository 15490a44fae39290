"""Pixel iteration for tests that works on every Pillow the project allows (getdata is deprecated in 13)."""

from __future__ import annotations

from collections.abc import Iterator

from PIL import Image


def pixels(img: Image.Image) -> Iterator[tuple[int, ...]]:
    """Every pixel of ``img`` as a tuple of its bands, row by row."""
    raw = img.tobytes()
    bands = len(img.getbands())
    return (tuple(raw[i : i + bands]) for i in range(0, len(raw), bands))
