"""The render cache: encoded chunks and sound tracks, by key, in the engine's data folder.

Layout of ``root`` (the engine keeps it at ``<home>/cache/render``)::

    entries/<key>.mp4    an encoded chunk (H.264), a sound track (AAC) or a whole export, by its key
    entries/<key>.json   its SHA-256 and size, written after the data; its modification time is the
                         entry's last use (least-recently-used eviction)
    work/<tmp>/          one folder per export while it runs (hard links to entries, new encodes)

An entry is used only after its bytes hash to what its ``.json`` says: a damaged or truncated file is
deleted and encoded again. Entries are written under a temporary name and renamed into place, so two
exports can share the cache. After each export the least recently used entries go until the cache is
under its limit (``VIDEOGEN_RENDER_CACHE_MB``, default 2048 MB), never those the export just used.
An export hard-links what it uses into its own work folder first, so eviction by another export
cannot pull a chunk from under it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_LIMIT_MB = 2048
_STALE_WORK_S = 24 * 3600


def default_limit_bytes() -> int:
    """``$VIDEOGEN_RENDER_CACHE_MB`` megabytes, else ``DEFAULT_LIMIT_MB``."""
    raw = os.environ.get("VIDEOGEN_RENDER_CACHE_MB", "").strip()
    if not raw:
        return DEFAULT_LIMIT_MB * 1024 * 1024
    try:
        mb = float(raw)
    except ValueError as exc:
        raise ValueError(f"VIDEOGEN_RENDER_CACHE_MB must be a number of megabytes, got {raw!r}") from exc
    if mb < 0:
        raise ValueError(f"VIDEOGEN_RENDER_CACHE_MB must be 0 or more, got {raw!r}")
    return int(mb * 1024 * 1024)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except FileNotFoundError:
        raise
    except OSError:  # a file system without hard links
        shutil.copyfile(src, dst)


@dataclass(frozen=True)
class CacheEntry:
    key: str
    size: int
    used: float


class RenderCache:
    """Encoded chunks by key, with a size limit and least-recently-used eviction (see the module doc)."""

    def __init__(self, root: Path, limit_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.limit_bytes = default_limit_bytes() if limit_bytes is None else limit_bytes
        if self.limit_bytes < 0:
            raise ValueError(f"limit_bytes must be 0 or more, got {self.limit_bytes}")
        self.entries = self.root / "entries"
        self.work = self.root / "work"

    def _data(self, key: str) -> Path:
        return self.entries / f"{key}.mp4"

    def _meta(self, key: str) -> Path:
        return self.entries / f"{key}.json"

    @contextlib.contextmanager
    def workspace(self) -> Iterator[Path]:
        """A private folder beside the entries (so they can be hard-linked in), removed afterwards."""
        self.work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="export-", dir=self.work) as tmp:
            yield Path(tmp)

    def clear_work(self) -> None:
        """Remove what exports left in the work folder (a killed process's chunks in progress).

        Only for a caller that knows no export of this cache is running (the engine's start-up recovery,
        which holds its home exclusively)."""
        if self.work.is_dir():
            for leftover in self.work.iterdir():
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)

    def take(self, key: str, dest: Path) -> bool:
        """Put entry ``key`` at ``dest`` if it is cached and intact (and mark it used); else ``False``.

        A damaged entry (its bytes do not hash to what was recorded) is deleted and reported as missing.
        """
        try:
            meta = json.loads(self._meta(key).read_text())
            _link_or_copy(self._data(key), dest)
        except FileNotFoundError:
            self.discard(key)  # a record without its data (or none at all)
            return False
        except (OSError, ValueError):
            return False
        try:
            intact = dest.stat().st_size == meta.get("size") and file_sha256(dest) == meta.get("sha256")
        except OSError:
            intact = False
        if not intact:
            log.warning("render cache: entry %s is damaged; it is deleted and encoded again", key)
            dest.unlink(missing_ok=True)
            self.discard(key)
            return False
        with contextlib.suppress(OSError):
            os.utime(self._meta(key))
        return True

    def put(self, key: str, src: Path, *, copy: bool = False) -> None:
        """Store the file ``src`` as entry ``key`` (``src`` stays where it is). A file of the export's own
        work folder is hard-linked; ``copy`` for one that lives on (a published video), so that nothing
        done to it later can touch the entry."""
        self.entries.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        data_tmp = self.entries / f".{key}.{token}.mp4"
        meta_tmp = self.entries / f".{key}.{token}.json"
        try:
            if copy:
                shutil.copyfile(src, data_tmp)
            else:
                _link_or_copy(src, data_tmp)
            meta = {"sha256": file_sha256(data_tmp), "size": data_tmp.stat().st_size, "stored": time.time()}
            meta_tmp.write_text(json.dumps(meta))
            os.replace(data_tmp, self._data(key))
            os.replace(meta_tmp, self._meta(key))
        finally:
            data_tmp.unlink(missing_ok=True)
            meta_tmp.unlink(missing_ok=True)

    def discard(self, key: str) -> None:
        self._meta(key).unlink(missing_ok=True)
        self._data(key).unlink(missing_ok=True)

    def listing(self) -> list[CacheEntry]:
        """Every entry with its size and last use, least recently used first."""
        out: list[CacheEntry] = []
        if not self.entries.is_dir():
            return out
        for meta in self.entries.glob("*.json"):
            if meta.name.startswith("."):
                continue
            key = meta.stem
            try:
                used = meta.stat().st_mtime
                size = self._data(key).stat().st_size + meta.stat().st_size
            except OSError:
                continue
            out.append(CacheEntry(key, size, used))
        return sorted(out, key=lambda e: (e.used, e.key))

    def size(self) -> int:
        return sum(e.size for e in self.listing())

    def evict(self, keep: Collection[str] = ()) -> list[str]:
        """Delete least recently used entries (never those in ``keep``) until the cache fits its limit;
        also clears leftovers of interrupted writes and exports. Returns the keys deleted."""
        self._sweep()
        entries = self.listing()
        total = sum(e.size for e in entries)
        gone: list[str] = []
        for entry in entries:
            if total <= self.limit_bytes:
                break
            if entry.key in keep:
                continue
            self.discard(entry.key)
            total -= entry.size
            gone.append(entry.key)
        if total > self.limit_bytes:
            log.info("render cache: the last export alone (%d bytes) is over the limit", total)
        return gone

    def _sweep(self) -> None:
        """Entries without a record, temporary files and work folders left by a process that died."""
        now = time.time()
        if self.entries.is_dir():
            for path in self.entries.iterdir():
                try:
                    old = now - path.stat().st_mtime > 3600
                except OSError:
                    continue
                orphan = path.suffix == ".mp4" and not self._meta(path.stem).exists()
                if (path.name.startswith(".") or orphan) and old:
                    path.unlink(missing_ok=True)
        if self.work.is_dir():
            for folder in self.work.iterdir():
                with contextlib.suppress(OSError):
                    if now - folder.stat().st_mtime > _STALE_WORK_S:
                        shutil.rmtree(folder, ignore_errors=True)
