"""Uploads: multipart bodies and URLs, streamed to disk, checked by content, stored by hash.

Nothing is held whole in memory: a multipart body is parsed as it arrives (python-multipart's
streaming parser, fed in ~256 kB batches from a worker thread) and each file part goes straight to
``tmp/<random>.part`` while its SHA-256 is computed. A part larger than the limit is dropped as soon
as it crosses it (the rest of the body is read and discarded, so the client gets the 4002 answer
instead of a broken pipe). Only when every file of the request has passed the content check (magic
bytes, then ``engine.render.probe``, then a full decode of stills, whose probe reads only the
header) are the files moved to ``media/`` and their rows written, in
one transaction: a request is stored entirely or not at all, and a server killed mid-upload leaves
only ``tmp/`` leftovers, removed at the next start.

A multipart body must end with its closing boundary: one cut short (an interrupted upload) is
refused, never stored as if complete. A request may not take a user past ``upload_quota_bytes``
(counted while it streams), and a picture or video frame may not have more than
``max_image_pixels`` pixels (read from the header, before anything decodes it).

URL uploads accept http(s) only, resolve the host first and refuse loopback, private, link-local
and other non-global addresses (unless ``allow_private_urls``; IPv4 addresses embedded in IPv6 ones
count as themselves), connect to the address that was
checked (so DNS cannot change its answer in between), follow at most 3 redirects (each checked the
same way), and are bounded by ``max_upload_bytes`` and ``url_fetch_timeout_s``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import socket
import uuid
import warnings
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import anyio
import anyio.to_thread
import httpx2
from PIL import Image
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from engine.render import MediaError, MediaInfo, probe
from engine.server._errors import (
    FILE_TOO_LARGE,
    ApiError,
    file_too_large,
    invalid_request,
    size_text,
    too_large,
    unsupported_file,
)
from engine.server._media import CONTENT_TYPES, SNIFF_BYTES, safe_display_name, sniff
from engine.server._renders import scrub_paths
from engine.server._store import Store, UploadRow
from engine.server.config import Limits

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = ["IncomingFile", "check_urls", "fetch_url", "receive_multipart", "store_files"]

_BATCH: Final = 256 * 1024
_MAX_FIELD_BYTES: Final = 64 * 1024
_MAX_REDIRECTS: Final = 3
_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


@dataclass
class IncomingFile:
    """One file of a request while it streams in and after."""

    raw_name: str | None
    tmp_path: Path
    size: int = 0
    head: bytes = b""
    too_large: bool = False
    digest: _Hash = field(default_factory=hashlib.sha256)
    handle: IO[bytes] | None = None

    def write(self, data: bytes, limit: int) -> None:
        if self.too_large or not data:
            return
        if self.size + len(data) > limit:
            self.too_large = True
            self.close()
            self.tmp_path.unlink(missing_ok=True)
            return
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        assert self.handle is not None
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def discard(self) -> None:
        self.close()
        self.tmp_path.unlink(missing_ok=True)


def _open_tmp(tmp_dir: Path, raw_name: str | None) -> IncomingFile:
    path = tmp_dir / f"{uuid.uuid4().hex}.part"
    incoming = IncomingFile(raw_name=raw_name, tmp_path=path)
    incoming.handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    return incoming


class _MultipartSink:
    """python-multipart callbacks that write file parts to ``tmp/`` (runs in a worker thread)."""

    def __init__(self, boundary: bytes, tmp_dir: Path, limit: int, max_files: int, budget: int) -> None:
        self.tmp_dir = tmp_dir
        self.limit = limit
        self.max_files = max_files
        self.budget = budget
        self.over_budget = False
        self.ended = False
        self.files: list[IncomingFile] = []
        self._current: IncomingFile | None = None
        self._field_bytes = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self.too_many = False
        self._skipping = False
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_end": self._end,
            },
        )

    def _part_begin(self) -> None:
        self._current = None
        self._skipping = False
        self._disposition = b""
        self._field_bytes = 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"filename" not in options:
            return  # a plain form field: read and ignored (bounded)
        if len(self.files) >= self.max_files:
            self.too_many = True
            self._skipping = True
            return
        raw = options[b"filename"].decode("utf-8", errors="replace")
        self._current = _open_tmp(self.tmp_dir, raw)
        self.files.append(self._current)

    def _end(self) -> None:
        self.ended = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.over_budget:
            return
        if self._current is not None:
            self._current.write(data[start:end], self.limit)
            if sum(f.size for f in self.files) > self.budget:
                self.over_budget = True  # the quota is crossed: keep nothing, read the rest unstored
                for incoming in self.files:
                    incoming.discard()
        elif not self._skipping:
            self._field_bytes += end - start
            if self._field_bytes > _MAX_FIELD_BYTES:
                raise MultipartParseError(f"a form field is longer than {_MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._current is not None:
            self._current.close()
        self._current = None

    def feed(self, chunk: bytes) -> None:
        self.parser.write(chunk)

    def finish(self) -> None:
        self.parser.finalize()
        for incoming in self.files:
            incoming.close()

    def discard(self) -> None:
        for incoming in self.files:
            incoming.discard()


async def receive_multipart(
    content_type: str,
    body: AsyncIterator[bytes],
    tmp_dir: Path,
    *,
    limit: int,
    max_files: int,
    budget: int | None = None,
) -> list[IncomingFile]:
    """Stream a multipart body's file parts to ``tmp_dir``; raises ApiError 4000/4002.

    ``limit`` bounds each file, ``budget`` (what is left of the user's quota) all of them together."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise invalid_request(
            "the multipart body has no boundary in its Content-Type; send it as multipart/form-data"
        )
    sink = _MultipartSink(boundary, tmp_dir, limit, max_files, budget if budget is not None else 1 << 62)
    try:
        pending: list[bytes] = []
        pending_size = 0
        async for chunk in body:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= _BATCH:
                await anyio.to_thread.run_sync(sink.feed, b"".join(pending))
                pending, pending_size = [], 0
        if pending:
            await anyio.to_thread.run_sync(sink.feed, b"".join(pending))
        await anyio.to_thread.run_sync(sink.finish)
    except MultipartParseError as exc:
        sink.discard()
        raise invalid_request(
            f"the multipart body is malformed ({exc}); send files as multipart/form-data"
        ) from exc
    except BaseException:
        sink.discard()
        raise
    if not sink.ended:
        sink.discard()
        raise invalid_request(
            "the multipart body ended before its closing boundary (an interrupted upload?); "
            "nothing was stored: send the files again"
        )
    if sink.over_budget:
        sink.discard()
        raise over_quota(budget or 0)
    if sink.too_many:
        sink.discard()
        raise invalid_request(
            f"too many files in one request: at most {max_files}; send the rest in another request"
        )
    oversized = next((f for f in sink.files if f.too_large), None)
    if oversized is not None:
        sink.discard()
        raise file_too_large(safe_display_name(oversized.raw_name, "file"), limit)
    if not sink.files:
        sink.discard()
        raise invalid_request('no file in the request: send one or more multipart parts named "files"')
    return sink.files


def over_quota(left: int) -> ApiError:
    return too_large(
        "this upload",
        left,
        "that is what is left of your upload quota (limit upload_quota_bytes): "
        "remove old projects' media or ask the engine's operator for a larger quota",
    )


@dataclass(frozen=True)
class _Checked:
    incoming: IncomingFile
    fmt: str
    name: str
    row_fields: dict[str, Any]


async def store_files(
    files: Sequence[IncomingFile],
    store: Store,
    *,
    session_id: str,
    user_id: str,
    now: float,
    limits: Limits | None = None,
) -> list[UploadRow]:
    """Check every file by content, then store them all (or none); raises ApiError 4001/4002."""
    limits = limits or Limits()
    try:
        used = await store.run(store.user_upload_bytes, user_id)
        adding = sum(f.size for f in files)
        if used + adding > limits.upload_quota_bytes:
            raise too_large(
                f"this upload ({size_text(adding)}) with the {size_text(used)} you already keep",
                limits.upload_quota_bytes,
                "the per-user upload quota (limit upload_quota_bytes): remove old projects' media or "
                "ask the engine's operator for a larger quota",
            )
        checked = [await _check(incoming, limits.max_image_pixels) for incoming in files]
        rows = await anyio.to_thread.run_sync(_publish, checked, store, session_id, now)
        await store.run(store.add_uploads, user_id, rows)
    finally:
        for incoming in files:
            incoming.discard()
    return rows


async def _check(incoming: IncomingFile, max_pixels: int) -> _Checked:
    fmt = sniff(incoming.head)
    shown = safe_display_name(incoming.raw_name, "bin")
    if fmt is None:
        raise unsupported_file(
            f"{shown!r} is not a supported media file (checked by its content, not its name)"
        )
    if CONTENT_TYPES[fmt][0] == "image":
        size = await anyio.to_thread.run_sync(_declared_size, incoming.tmp_path)
        _check_pixels(shown, size, max_pixels)
    try:
        info = await probe(incoming.tmp_path)
        if info.width and info.height:
            _check_pixels(shown, (info.width, info.height), max_pixels)
        problem = _incomplete(info)
        if problem is None and CONTENT_TYPES[fmt][0] == "image":
            problem = await anyio.to_thread.run_sync(_image_problem, incoming.tmp_path)
    except MediaError as exc:
        problem = exc.message
    except OSError as exc:  # a decoder's complaint about the content (the file itself is ours, in tmp/)
        problem = str(exc) or type(exc).__name__
    if problem is not None:
        problem = scrub_paths(problem, {incoming.tmp_path: shown, Path(incoming.tmp_path.name): shown})
        raise unsupported_file(f"{shown!r} looks like {fmt} but cannot be read as media ({problem})")
    return _Checked(
        incoming=incoming,
        fmt=fmt,
        name=safe_display_name(incoming.raw_name, fmt),
        row_fields={
            "file_type": info.kind,
            "duration_ms": info.duration_ms,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "has_audio": info.has_audio,
            "speech_like": info.speech_like,
        },
    )


def _declared_size(path: Path) -> tuple[int, int] | None:
    """The picture size its header declares (nothing is decoded); None when Pillow cannot tell.

    ``(0, 0)`` stands for "more than Pillow will even open" (its decompression-bomb refusal)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                return int(width), int(height)
    except Image.DecompressionBombError:
        return (0, 0)
    except (OSError, SyntaxError, ValueError):
        return None


def _check_pixels(shown: str, size: tuple[int, int] | None, max_pixels: int) -> None:
    """ApiError 4002 when a picture (or a video frame) of ``size`` has more than ``max_pixels``."""
    if size is None:
        return
    width, height = size
    if size != (0, 0) and width * height <= max_pixels:
        return
    declared = "more than 178 million" if size == (0, 0) else f"{width}x{height} = {width * height:,}"
    raise ApiError(
        FILE_TOO_LARGE,
        f"{shown!r} has {declared} pixels; the engine accepts at most {max_pixels:,} per picture or "
        "frame (limit max_image_pixels): scale it down and upload it again",
    )


def _incomplete(info: MediaInfo) -> str | None:
    """What a probe left unknown that every use of the file needs (None when nothing)."""
    if info.kind in ("image", "video") and not (info.width and info.height):
        return "its picture size is unknown"
    if info.kind == "video" and not info.has_video:
        return "it has no picture"
    if info.kind == "audio" and not info.duration_ms:
        return "its length is unknown"
    return None


def _image_problem(path: Path) -> str | None:
    """Decode a still completely (a probe reads only its header): truncated or corrupt data shows here."""
    try:
        with Image.open(path) as image:
            image.load()
    except Image.DecompressionBombError:
        return "the picture has too many pixels"
    except (OSError, SyntaxError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _publish(checked: Sequence[_Checked], store: Store, session_id: str, now: float) -> list[UploadRow]:
    rows: list[UploadRow] = []
    for item in checked:
        sha = item.incoming.digest.hexdigest()
        target = store.media_path(sha, item.fmt)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.exists():
            item.incoming.tmp_path.unlink(missing_ok=True)
        else:
            with item.incoming.tmp_path.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(item.incoming.tmp_path, target)
        rows.append(
            UploadRow(
                id="up_" + uuid.uuid4().hex[:16],
                session_id=session_id,
                sha256=sha,
                format=item.fmt,
                filename=item.name,
                size=item.incoming.size,
                file_token=secrets.token_urlsafe(18),
                created_at=now,
                **item.row_fields,
            )
        )
    return rows


# -- URL uploads -----------------------------------------------------------------------------------


def _shown(url: str) -> str:
    """The URL without credentials, query or fragment (safe to put in a message), even when its port
    is not a number or out of range."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.netloc.rpartition("@")[2]
    port = port.rpartition("]")[2] if port.startswith("[") else port
    port = port.rpartition(":")[2] if ":" in port else ""
    shown_host = f"[{host}]" if ":" in host else host
    return urlunsplit(
        (parts.scheme, shown_host + (f":{port[:12]}" if port else ""), parts.path[:200], "", "")
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible (``::a.b.c.d``),
    6to4 (``2002::/16``), Teredo (server and client) and NAT64 (``64:ff9b::/96``, ``64:ff9b:1::/48``)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 or any(ip in net for net in _NAT64):
        found.append(low32)
    return found


def _public(address: str) -> bool:
    """Whether an address is one the engine may fetch from: global unicast, and every IPv4 address
    embedded in it global too (site-local ``fec0::/10`` counts as private)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local or ip.is_multicast or not ip.is_global:
            return False
        if any(ip in net for net in _NAT64[1:]):
            return False  # local-use NAT64: a translator on this network
        return all(_public(str(v4)) for v4 in _embedded_ipv4(ip))
    return ip.is_global and not ip.is_multicast


async def _resolve(url: str, allow_private: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, checked address) for ``url``, or ApiError 4000 saying why not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise invalid_request(f"{_shown(url)!r}: only http and https URLs can be uploaded")
    host = parts.hostname
    if not host:
        raise invalid_request(f"{_shown(url)!r} has no host name")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise invalid_request(f"{_shown(url)!r} has an invalid port") from exc
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise invalid_request(f"cannot resolve the host of {_shown(url)!r} ({exc}); check the URL") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise invalid_request(f"the host of {_shown(url)!r} has no address")
    if not allow_private:
        blocked = [a for a in addresses if not _public(a)]
        if blocked:
            raise invalid_request(
                f"{_shown(url)!r} points to a loopback, private or link-local address ({blocked[0]}); "
                "the engine "
                "only downloads from public addresses: upload the file itself (multipart) instead"
            )
    return scheme, host, port, addresses[0]


async def fetch_url(
    url: str, tmp_dir: Path, *, limit: int, timeout_s: float, allow_private: bool
) -> IncomingFile:
    """Download ``url`` to ``tmp_dir`` (bounded in size and time); raises ApiError 4000/4002."""
    try:
        with anyio.fail_after(timeout_s):
            return await _fetch(url, tmp_dir, limit=limit, allow_private=allow_private)
    except TimeoutError as exc:
        raise invalid_request(
            f"downloading {_shown(url)!r} took longer than {timeout_s:g} s; upload the file itself"
        ) from exc


async def _fetch(url: str, tmp_dir: Path, *, limit: int, allow_private: bool) -> IncomingFile:
    timeout = httpx2.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)
    async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(_MAX_REDIRECTS + 1):
            scheme, host, port, address = await _resolve(url, allow_private)
            parts = urlsplit(url)
            ip_host = f"[{address}]" if ":" in address else address
            pinned = urlunsplit((scheme, f"{ip_host}:{port}", parts.path or "/", parts.query, ""))
            host_header = host if parts.port is None else f"{host}:{port}"
            try:
                async with client.stream(
                    "GET", pinned, headers={"Host": host_header}, extensions={"sni_hostname": host}
                ) as response:
                    if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise invalid_request(
                            f"{_shown(url)!r} answered HTTP {response.status_code}; "
                            "check the URL or upload the file"
                        )
                    declared = response.headers.get("content-length")
                    name = unquote(parts.path.rsplit("/", 1)[-1]) or None
                    if declared is not None and declared.isdigit() and int(declared) > limit:
                        raise file_too_large(safe_display_name(name, "file"), limit)
                    return await _download(response, tmp_dir, name, limit)
            except httpx2.HTTPError as exc:
                raise invalid_request(
                    f"could not download {_shown(url)!r} ({type(exc).__name__}); "
                    "check the URL or upload the file"
                ) from exc
    raise invalid_request(f"{_shown(url)!r} redirects more than {_MAX_REDIRECTS} times")


async def _download(response: httpx2.Response, tmp_dir: Path, name: str | None, limit: int) -> IncomingFile:
    incoming = await anyio.to_thread.run_sync(_open_tmp, tmp_dir, name)
    try:
        pending: list[bytes] = []
        pending_size = 0
        async for chunk in response.aiter_bytes():
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= _BATCH:
                await anyio.to_thread.run_sync(incoming.write, b"".join(pending), limit)
                pending, pending_size = [], 0
                if incoming.too_large:
                    break
        if pending and not incoming.too_large:
            await anyio.to_thread.run_sync(incoming.write, b"".join(pending), limit)
        incoming.close()
    except BaseException:
        incoming.discard()
        raise
    if incoming.too_large:
        incoming.discard()
        raise file_too_large(safe_display_name(name, "file"), limit)
    return incoming


def check_urls(obj: object, max_urls: int) -> list[str]:
    """The ``urls`` of a JSON upload body, or ApiError 4000 saying what is wrong."""
    if not isinstance(obj, dict):
        raise invalid_request(
            'the JSON body must be an object: {"urls": ["https://..."], "source_type": "url"}'
        )
    urls = obj.get("urls")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
        raise invalid_request('"urls" must be a non-empty list of http(s) URLs')
    if len(urls) > max_urls:
        raise invalid_request(f"too many URLs in one request: at most {max_urls}")
    source_type = obj.get("source_type", "url")
    if source_type != "url":
        raise invalid_request(f'"source_type" must be "url", got {source_type!r}')
    return list(urls)
