"""Pure helpers for uploaded media: what a file is by its first bytes, and a safe name to show for it.

``sniff`` looks only at content (the name a client sends proves nothing); the probe of
``engine.render`` then confirms that the file really decodes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

__all__ = ["CONTENT_TYPES", "SNIFF_BYTES", "Kind", "safe_display_name", "sniff"]

Kind = Literal["image", "video", "audio"]
SNIFF_BYTES: Final = 64
MAX_NAME_CHARS: Final = 120

# Format -> (kind a file of that container usually holds, MIME type to serve it with).
CONTENT_TYPES: Final[dict[str, tuple[Kind, str]]] = {
    "png": ("image", "image/png"),
    "jpg": ("image", "image/jpeg"),
    "gif": ("image", "image/gif"),
    "webp": ("image", "image/webp"),
    "mp4": ("video", "video/mp4"),
    "mov": ("video", "video/quicktime"),
    "m4a": ("audio", "audio/mp4"),
    "avi": ("video", "video/x-msvideo"),
    "webm": ("video", "video/webm"),
    "mkv": ("video", "video/x-matroska"),
    "wav": ("audio", "audio/wav"),
    "mp3": ("audio", "audio/mpeg"),
    "aac": ("audio", "audio/aac"),
}

# ISO base media brands that are still images (HEIF/AVIF): not accepted.
_IMAGE_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"})
_AUDIO_BRANDS: Final = frozenset({b"M4A ", b"M4B ", b"M4P "})
_QT_BRANDS: Final = frozenset({b"qt  "})


def sniff(head: bytes) -> str | None:
    """The accepted format (a key of ``CONTENT_TYPES``) the first bytes of a file announce, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(head[8:12])
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        if brand in _AUDIO_BRANDS:
            return "m4a"
        if brand in _QT_BRANDS:
            return "mov"
        return "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "mkv"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync word, layer bits 00
            return "aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0:  # MPEG audio frame sync, a real layer
            return "mp3"
    return None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*\\/]")


def safe_display_name(raw: str | None, fmt: str) -> str:
    """A name that is safe to store and show, whatever the client sent.

    Keeps the last path component only, drops control characters (NUL included) and characters
    that are special on common file systems, normalises Unicode (NFC), trims leading dots and
    spaces, and keeps at most 120 characters with the extension intact. An empty result becomes
    ``upload.<format>``. The name is only ever displayed: files are stored under their hash.
    """
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE.sub("_", name).strip().lstrip(". ").rstrip(" ")
    if not name or set(name) <= {"_", "."}:
        return f"upload.{fmt}"
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME_CHARS].rstrip()
    return name
