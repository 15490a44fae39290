"""Text drawn with Pillow: per-character font fallback, wrapping, outline and placement."""

from __future__ import annotations

import logging
from typing import cast

import pytest
from PIL import Image

from engine.render._text import FontSet, TextStyle, find_fonts, has_glyph, place, render_text, wrap
from tests.engine.render._pixels import pixels

FONTS = find_fonts()
needs_emoji = pytest.mark.skipif(FONTS.emoji is None, reason="no colour emoji font installed")
needs_cjk = pytest.mark.skipif(not FONTS.cjk, reason="no CJK font installed")


def coloured_pixels(img: Image.Image) -> int:
    """Opaque pixels that are clearly neither grey nor white (the text is white with a black outline)."""
    rgba = img.convert("RGBA")
    return sum(1 for r, g, b, a in pixels(rgba) if a > 200 and max(r, g, b) - min(r, g, b) > 60)


def test_a_latin_font_is_found_on_this_machine() -> None:
    assert FONTS.latin is not None or FONTS.latin_bold is not None


def test_quotes_colons_and_percent_are_ordinary_glyphs() -> None:
    placed = render_text('50% off: "now"', TextStyle(size=0.2), (320, 180))
    assert placed.missing == ()
    assert placed.image.getbbox() is not None


@needs_emoji
def test_emoji_is_drawn_in_colour_from_the_emoji_font() -> None:
    with_emoji = render_text("Big sale 🔥", TextStyle(size=0.2), (640, 360))
    without = render_text("Big sale", TextStyle(size=0.2), (640, 360))
    assert with_emoji.missing == ()
    assert coloured_pixels(with_emoji.image) > 50
    assert coloured_pixels(without.image) == 0


@needs_cjk
def test_cjk_comes_from_a_cjk_font() -> None:
    placed = render_text("限时优惠", TextStyle(size=0.2), (640, 360))
    assert placed.missing == ()
    assert placed.image.width > 100


def test_a_character_no_font_has_is_reported_and_drawn_as_a_box(caplog: pytest.LogCaptureFixture) -> None:
    latin_only = FontSet(latin=FONTS.latin, latin_bold=FONTS.latin_bold, cjk=(), emoji=None)
    with caplog.at_level(logging.WARNING, logger="engine.render._text"):
        placed = render_text("sale 🔥 限", TextStyle(size=0.2), (640, 360), fonts=latin_only)
    assert placed.missing == ("🔥", "限")
    assert "fonts-noto-color-emoji" in caplog.text
    assert placed.image.getbbox() is not None  # the boxes are visible, not blank


def test_has_glyph_tells_present_from_missing() -> None:
    assert has_glyph(FONTS.latin_bold, "A")
    assert not has_glyph(FONTS.latin_bold, "\U0001f525")


def test_long_text_wraps_to_the_canvas_width() -> None:
    canvas = (320, 180)
    placed = render_text("a fairly long caption that cannot fit on one line", TextStyle(size=0.12), canvas)
    assert placed.image.width <= canvas[0]
    single = render_text("short", TextStyle(size=0.12), canvas)
    assert placed.image.height > 2 * single.image.height


def test_wrap_breaks_between_words_and_between_cjk_characters() -> None:
    def measure(s: str) -> float:
        return float(len(s))

    assert wrap("one two three four", measure, 9) == ["one two", "three", "four"]
    assert wrap("限时优惠活动", measure, 4) == ["限时优惠", "活动"]
    assert wrap("line one\nline two", measure, 100) == ["line one", "line two"]


def test_size_is_a_fraction_of_the_canvas_height() -> None:
    small = render_text("Hi", TextStyle(size=0.05), (1920, 1080))
    big = render_text("Hi", TextStyle(size=0.1), (1920, 1080))
    assert 1.7 < big.image.height / small.image.height < 2.3


def test_the_outline_keeps_descenders_inside_the_image() -> None:
    placed = render_text("gjpqy", TextStyle(size=0.3), (320, 180))
    alpha = placed.image.getchannel("A")
    bottom_row = [cast(int, alpha.getpixel((x, placed.image.height - 1))) for x in range(placed.image.width)]
    assert max(bottom_row) < 255  # nothing clipped at the bottom edge


@pytest.mark.parametrize(
    ("position", "check"),
    [
        ("center", lambda x, y, w, h: abs(y + h / 2 - 540) <= 1),
        ("top", lambda x, y, w, h: y < 100),
        ("bottom", lambda x, y, w, h: y + h > 980),
        ("lower_third", lambda x, y, w, h: abs(y + h / 2 - 810) <= 1),
        ("top_left", lambda x, y, w, h: x < 100 and y < 100),
        ("bottom_right", lambda x, y, w, h: x + w > 1800 and y + h > 980),
    ],
)
def test_named_positions_place_the_text(position: str, check: object) -> None:
    placed = render_text("Fast", TextStyle(size=0.07), (1920, 1080))
    x, y = place(placed, position, (1920, 1080))
    w, h = placed.image.size
    assert callable(check)
    assert check(x, y, w, h)
    assert 0 <= x <= 1920 - w
    assert 0 <= y <= 1080 - h
