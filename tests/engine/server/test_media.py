"""Content sniffing and display names: files are judged by their bytes, names are made harmless."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.server._media import MAX_NAME_CHARS, safe_display_name, sniff


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "png"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "jpg"),
        (b"GIF89a" + b"\0" * 10, "gif"),
        (b"RIFF\x24\0\0\0WEBPVP8 ", "webp"),
        (b"RIFF\x24\0\0\0WAVEfmt ", "wav"),
        (b"RIFF\x24\0\0\0AVI LIST", "avi"),
        (b"\0\0\0\x20ftypisom\0\0\x02\0", "mp4"),
        (b"\0\0\0\x14ftypqt  \0\0\0\0", "mov"),
        (b"\0\0\0\x20ftypM4A \0\0\0\0", "m4a"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska", "mkv"),
        (b"ID3\x04\0\0\0\0\0\0", "mp3"),
        (b"\xff\xfb\x90\x64", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
    ],
)
def test_accepted_formats_are_recognised_by_content(head: bytes, fmt: str) -> None:
    assert sniff(head) == fmt


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello world, this is text",
        b"%PDF-1.7\n",
        b"PK\x03\x04zip",
        b"\0\0\0\x18ftypheic\0\0",
        b"MZ\x90\0",
    ],
)
def test_other_content_is_not_recognised(head: bytes) -> None:
    assert sniff(head) is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("a\0b.png", "ab.png"),
        ("..", "upload.png"),
        ("", "upload.png"),
        (None, "upload.png"),
        ("café – été.png", "café – été.png"),
        ("what?<now>.png", "what__now_.png"),
        ("  .hidden.png ", "hidden.png"),
    ],
)
def test_display_names_are_safe_whatever_the_client_sent(raw: str | None, shown: str) -> None:
    assert safe_display_name(raw, "png") == shown


def test_a_long_name_is_shortened_keeping_its_extension() -> None:
    name = safe_display_name("x" * 300 + ".jpeg", "jpg")
    assert len(name) == MAX_NAME_CHARS
    assert name.endswith(".jpeg")


@given(st.text())
def test_no_name_escapes_its_folder_or_carries_control_characters(raw: str) -> None:
    name = safe_display_name(raw, "png")
    assert name
    assert len(name) <= MAX_NAME_CHARS
    assert "/" not in name
    assert "\\" not in name
    assert "\0" not in name
    assert not name.startswith(".")
    assert all(ord(ch) >= 32 for ch in name)
