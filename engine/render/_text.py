"""Text segments drawn with Pillow into transparent PNGs, so ffmpeg never interprets the words.

Quotes, colons, ``%``, emoji and CJK are all just pixels by the time ffmpeg sees them. Glyphs come from
fonts found on the machine (never a URL), one character at a time: the first font that has the glyph
draws it (a Latin font, then CJK fonts, then a colour emoji font). A character no font has is drawn as
the main font's missing-glyph box and logged as a warning naming the font package to install.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageColor, ImageDraw, ImageFont

from engine import timeline

log = logging.getLogger(__name__)

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont
EMOJI_NATIVE_SIZE = 109  # the only bitmap strike of Noto Color Emoji (CBDT); Pillow needs it exactly
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
# Preference order inside each role: file names (lower case) as Debian, Fedora, macOS and Windows ship them.
_LATIN_BOLD = ("dejavusans-bold.ttf", "notosans-bold.ttf", "liberationsans-bold.ttf", "arialbd.ttf")
_LATIN = ("dejavusans.ttf", "notosans-regular.ttf", "liberationsans-regular.ttf", "arial.ttf")
_CJK = (
    "wqy-microhei.ttc",
    "notosanscjk-bold.ttc",
    "notosanscjk-regular.ttc",
    "notosanscjksc-regular.otf",
    "wqy-zenhei.ttc",
    "droidsansfallbackfull.ttf",
    "droidsansfallback.ttf",
    "pingfang.ttc",
    "msyh.ttc",
)
_EMOJI = ("notocoloremoji.ttf", "apple color emoji.ttc", "seguiemj.ttf")
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no font maps: renders as the missing-glyph box
_JOINERS = {"\u200d", "\ufe0f", "\ufe0e"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}  # ZWJ, VS, skin tones
_CJK_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")

POSITIONS = timeline.POSITIONS


@dataclass(frozen=True)
class FontSet:
    latin: Path | None
    latin_bold: Path | None
    cjk: tuple[Path, ...]
    emoji: Path | None


@dataclass(frozen=True)
class TextStyle:
    size: float = 0.07  # fraction of the canvas height
    color: str = "#ffffff"
    outline: str | None = "#000000"
    bold: bool = True
    background: str | None = None


@dataclass(frozen=True)
class PlacedText:
    """A rendered text segment: its picture and where it goes on the canvas."""

    image: Image.Image
    x: int
    y: int
    missing: tuple[str, ...]  # characters no installed font could draw


def _font_dirs() -> list[Path]:
    extra = [p for p in os.environ.get("VIDEOGEN_FONT_DIRS", "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in (*extra, *_FONT_DIRS)]


@functools.cache
def find_fonts() -> FontSet:
    """The fonts this machine has for each role (searched once per process)."""
    return scan_fonts(_font_dirs())


def scan_fonts(dirs: Sequence[Path]) -> FontSet:
    """The fonts under `dirs` for each role (no cache; `videogen doctor` names what is missing)."""
    by_name: dict[str, Path] = {}
    for root in dirs:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in {".ttf", ".ttc", ".otf"}:
                by_name.setdefault(path.name.lower(), path)

    def first(names: Sequence[str]) -> Path | None:
        return next((by_name[n] for n in names if n in by_name), None)

    return FontSet(
        latin=first(_LATIN),
        latin_bold=first(_LATIN_BOLD),
        cjk=tuple(by_name[n] for n in _CJK if n in by_name),
        emoji=first(_EMOJI),
    )


@functools.cache
def _load(path: Path | None, size: int) -> FontT:
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)


@functools.cache
def _signature(path: Path | None, text: str, colour: bool) -> bytes:
    font = _load(path, EMOJI_NATIVE_SIZE if colour else 24)
    img = Image.new("RGBA" if colour else "L", (160, 160))
    fill: Any = (255, 255, 255, 255) if colour else 255
    ImageDraw.Draw(img).text((8, 8), text, font=font, fill=fill, embedded_color=colour)
    return img.tobytes()


def has_glyph(path: Path | None, ch: str, *, colour: bool = False) -> bool:
    """Whether the font draws ``ch`` as itself rather than as its missing-glyph box."""
    if ch.isspace():
        return not colour
    try:
        return _signature(path, ch, colour) != _signature(path, _NOTDEF_PROBE, colour)
    except OSError:  # a colour font asked at a size it has no strike for, or an unreadable font
        return False


@dataclass(frozen=True)
class _Run:
    text: str
    font_path: Path | None
    emoji: bool


def _runs(text: str, fonts: FontSet, bold: bool, missing: list[str]) -> list[_Run]:
    """Split ``text`` into runs that one font can draw, choosing per character."""
    primary = (fonts.latin_bold if bold else fonts.latin) or fonts.latin or fonts.latin_bold
    chain: list[tuple[Path | None, bool]] = [(primary, False), *((p, False) for p in fonts.cjk)]
    if fonts.emoji is not None:
        chain.append((fonts.emoji, True))
    runs: list[_Run] = []
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch in _JOINERS and runs:
            runs[-1] = _Run(runs[-1].text + ch, runs[-1].font_path, runs[-1].emoji)
            continue
        wants_emoji = i + 1 < len(chars) and chars[i + 1] == "\ufe0f"
        order = sorted(chain, key=lambda fe: not fe[1]) if wants_emoji else chain
        choice = next(((p, e) for p, e in order if has_glyph(p, ch, colour=e)), None)
        if choice is None:
            missing.append(ch)
            choice = (primary, False)
        if runs and (runs[-1].font_path, runs[-1].emoji) == choice:
            runs[-1] = _Run(runs[-1].text + ch, *choice)
        else:
            runs.append(_Run(ch, *choice))
    return runs


def _run_width(run: _Run, px: int) -> float:
    if run.emoji:
        font = _load(run.font_path, EMOJI_NATIVE_SIZE)
        return font.getlength(run.text) * px / EMOJI_NATIVE_SIZE
    return _load(run.font_path, px).getlength(run.text)


def _tokens(text: str) -> list[str]:
    """Break opportunities: words with their trailing spaces; each CJK character on its own."""
    out: list[str] = []
    for word in re.findall(r"\S+\s*|\s+", text):
        buf = ""
        for ch in word:
            if _CJK_RE.match(ch):
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(ch)
            else:
                buf += ch
        if buf:
            if out and _CJK_RE.match(out[-1][-1]) and buf.isspace():
                out[-1] += buf
            else:
                out.append(buf)
    return out


def wrap(text: str, measure: Any, max_width: float) -> list[str]:
    """Greedy wrap of ``text`` to ``max_width`` (``measure(str) -> float``); explicit newlines kept."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for tok in _tokens(para):
            candidate = line + tok
            if not line or measure(candidate.rstrip()) <= max_width:
                line = candidate
                continue
            lines.append(line.rstrip())
            line = tok.lstrip()
            while measure(line.rstrip()) > max_width and len(line) > 1:  # one word wider than the canvas
                cut = len(line) - 1
                while cut > 1 and measure(line[:cut]) > max_width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def style_of(segment: Mapping[str, Any], role: str | None) -> TextStyle:
    meta = segment.get("m") or {}
    raw = meta.get("style") or {}
    default_size = 0.1 if role == "title" else 0.065
    return TextStyle(
        size=float(raw.get("size") or default_size),
        color=str(raw.get("color") or "#ffffff"),
        outline=None if raw.get("outline") in {"none", ""} else str(raw.get("outline") or "#000000"),
        bold=bool(raw.get("bold", True)),
        background=raw.get("background") or None,
    )


def _rgba(colour: str, fallback: str) -> tuple[int, int, int, int]:
    try:
        rgb = ImageColor.getcolor(colour, "RGBA")
    except ValueError:
        rgb = ImageColor.getcolor(fallback, "RGBA")
    assert isinstance(rgb, tuple)
    return (int(rgb[0]), int(rgb[1]), int(rgb[2]), int(rgb[3]))


def render_text(
    text: str, style: TextStyle, canvas: tuple[int, int], fonts: FontSet | None = None
) -> PlacedText:
    """Draw ``text`` (wrapped to 90% of the canvas width) into a tight transparent image.

    The returned position is the top-left corner for a centred placement; see :func:`place`.
    """
    fonts = fonts or find_fonts()
    cw, ch = canvas
    px = max(8, round(style.size * ch))
    stroke = max(1, round(px * 0.07)) if style.outline else 0
    pad = stroke + (round(px * 0.3) if style.background else 0)
    missing: list[str] = []

    def measure(s: str) -> float:
        return sum(_run_width(r, px) for r in _runs(s, fonts, style.bold, []))

    lines = wrap(text, measure, cw * 0.9 - 2 * pad)
    primary = _load((fonts.latin_bold if style.bold else fonts.latin) or fonts.latin or fonts.latin_bold, px)
    ascent, descent = primary.getmetrics() if isinstance(primary, ImageFont.FreeTypeFont) else (px, px // 4)
    line_h = round((ascent + descent) * 1.12)
    line_runs = [_runs(line, fonts, style.bold, missing) for line in lines]
    widths = [sum(_run_width(r, px) for r in runs) for runs in line_runs]
    w = max(1, round(max(widths, default=1))) + 2 * pad
    h = line_h * len(lines) - (line_h - ascent - descent) + 2 * pad
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if style.background:
        draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=pad, fill=_rgba(style.background, "#000000"))
    fill = _rgba(style.color, "#ffffff")
    outline = _rgba(style.outline, "#000000") if style.outline else None
    for i, (runs, lw) in enumerate(zip(line_runs, widths, strict=True)):
        x = pad + (w - 2 * pad - lw) / 2
        baseline = pad + i * line_h + ascent
        for run in runs:
            if run.emoji:
                x += _paste_emoji(img, run, px, round(x), baseline, ascent, descent)
                continue
            font = _load(run.font_path, px)
            draw.text(
                (x, baseline),
                run.text,
                font=font,
                fill=fill,
                anchor="ls",
                stroke_width=stroke,
                stroke_fill=outline,
            )
            x += font.getlength(run.text)
    if missing:
        log.warning(
            "no installed font draws %s: shown as boxes; install fonts-noto-color-emoji (emoji) or "
            "fonts-wqy-microhei / fonts-noto-cjk (Chinese, Japanese, Korean)",
            " ".join(f"{c} (U+{ord(c):04X})" for c in dict.fromkeys(missing)),
        )
    return PlacedText(image=img, x=(cw - w) // 2, y=(ch - h) // 2, missing=tuple(dict.fromkeys(missing)))


def _paste_emoji(
    img: Image.Image, run: _Run, px: int, x: int, baseline: int, ascent: int, descent: int
) -> float:
    """Draw a colour-emoji run at its font's native size, scale it to the line, paste it; its width."""
    font = _load(run.font_path, EMOJI_NATIVE_SIZE)
    native_w = max(1, round(font.getlength(run.text)))
    _left, _top, right, bottom = font.getbbox(run.text)
    big = Image.new("RGBA", (max(native_w, int(right)), max(1, int(bottom))), (0, 0, 0, 0))
    ImageDraw.Draw(big).text((0, 0), run.text, font=font, embedded_color=True)
    scale = (ascent + descent) / max(1, bottom) * 0.92
    small = big.resize(
        (max(1, round(big.width * scale)), max(1, round(big.height * scale))), Image.Resampling.LANCZOS
    )
    top_y = baseline - ascent + round((ascent + descent - small.height) / 2)
    img.alpha_composite(small, (max(0, x), max(0, top_y)))
    return native_w * scale


def place(placed: PlacedText, position: str, canvas: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of the text image for a named position (kept inside the canvas)."""
    cw, ch = canvas
    w, h = placed.image.size
    margin_x, margin_y = round(cw * 0.05), round(ch * 0.05)
    cx = (cw - w) // 2
    centres_y = {
        "top": margin_y + h / 2,
        "upper_third": ch / 4,
        "center": ch / 2,
        "lower_third": ch * 0.75,
        "bottom": ch - margin_y - h / 2,
    }
    if position in {"top_left", "top_right", "bottom_left", "bottom_right"}:
        x = margin_x if position.endswith("left") else cw - margin_x - w
        y = margin_y if position.startswith("top") else ch - margin_y - h
    else:
        x = cx
        y = round(centres_y.get(position, ch / 2) - h / 2)
    x = min(max(0, x), max(0, cw - w))
    y = min(max(0, y), max(0, ch - h))
    return x, y
