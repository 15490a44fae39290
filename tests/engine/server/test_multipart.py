"""The streaming multipart reader: any body either yields files or a clear refusal, and leaves no litter."""

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.server._errors import ApiError
from engine.server._uploads import receive_multipart

BOUNDARY = "xYzBoundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _part(name: str, data: bytes, filename: str | None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"


def _read(body: bytes, tmp: Path, *, chunk: int = 7, limit: int = 1000, max_files: int = 3) -> list[bytes]:
    async def go() -> list[bytes]:
        files = await receive_multipart(
            CONTENT_TYPE, _chunks(body, chunk), tmp, limit=limit, max_files=max_files
        )
        contents = [f.tmp_path.read_bytes() for f in files]
        for f in files:
            f.discard()
        return contents

    return anyio.run(go)


def test_file_parts_arrive_whole_whatever_the_chunking(tmp_path: Path) -> None:
    body = (
        _part("files", b"A" * 300, "a.png")
        + _part("note", b"ignored", None)
        + _part("files", b"\r\n--x", "b.wav")
    )
    body += f"--{BOUNDARY}--\r\n".encode()
    for chunk in (1, 5, 64, len(body)):
        assert _read(body, tmp_path, chunk=chunk) == [b"A" * 300, b"\r\n--x"]
    assert list(tmp_path.iterdir()) == []


def test_limits_refuse_with_their_code_and_keep_nothing(tmp_path: Path) -> None:
    big = _part("files", b"B" * 1001, "big.png") + f"--{BOUNDARY}--\r\n".encode()
    with pytest.raises(ApiError) as too_large:
        _read(big, tmp_path)
    assert too_large.value.code == 4002
    many = b"".join(_part("files", b"c", f"{i}.png") for i in range(4)) + f"--{BOUNDARY}--\r\n".encode()
    with pytest.raises(ApiError, match="at most 3") as too_many:
        _read(many, tmp_path)
    assert too_many.value.code == 4000
    none = _part("note", b"text only", None) + f"--{BOUNDARY}--\r\n".encode()
    with pytest.raises(ApiError, match='parts named "files"'):
        _read(none, tmp_path)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.binary(max_size=200),
    tail=st.binary(max_size=200),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_any_body_yields_files_or_an_api_error_and_no_litter(
    tmp_path: Path, prefix: bytes, tail: bytes, chunk: int
) -> None:
    folder = tmp_path / f"t{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    body = prefix + _part("files", tail, "f.png") + tail
    assert _refusal(body, folder, chunk) in (None, 4000, 4002)
    assert list(folder.iterdir()) == []


def _refusal(body: bytes, folder: Path, chunk: int) -> int | None:
    """The code the body is refused with, or None when it was read (any other exception escapes)."""
    try:
        _read(body, folder, chunk=chunk)
    except ApiError as exc:
        return exc.code
    return None
