"""The one place that spawns ffmpeg (from the ``imageio-ffmpeg`` wheel; no ffprobe is shipped).

Everything else in the renderer builds argument lists and reads the results. Failures become
``RenderError`` (or ``MediaError`` where an input file is at fault) with the tail of ffmpeg's stderr and
a hint; ``OSError`` from spawning is translated here too.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream

from ._types import RenderError, RenderProgress

_TAIL_LINES = 30
_INLINE_GRAPH_MAX = 16 * 1024  # a longer filter graph goes through a file (one argv string is <= 128 KB)

SpawnWatch = Callable[[int, bool], None]
spawn_watch: ContextVar[SpawnWatch | None] = ContextVar("videogen_spawn_watch", default=None)
"""Called with (pid, True) when ffmpeg starts and (pid, False) once it has been reaped. The engine
server sets it to record its children (engine.server._procs); each child runs in its own session,
so its pid is its process group."""


def ffmpeg_exe() -> str:
    """The ffmpeg binary: ``$VIDEOGEN_FFMPEG`` if set, else the one inside the imageio-ffmpeg wheel."""
    override = os.environ.get("VIDEOGEN_FFMPEG")
    if override:
        return override
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise RenderError(
            "ffmpeg was not found",
            hint="install the project's dependencies (the imageio-ffmpeg wheel ships ffmpeg) "
            "or set VIDEOGEN_FFMPEG",
        ) from exc


def ffmpeg_version() -> str:
    """The first line of `ffmpeg -version` ("ffmpeg version 7.0.2 ..."); RenderError if it does not run."""
    exe = ffmpeg_exe()
    hint = "reinstall the skill's environment (the imageio-ffmpeg wheel ships ffmpeg) or fix VIDEOGEN_FFMPEG"
    try:
        done = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{exe} does not run ({exc})", hint=hint) from exc
    first = (done.stdout.splitlines() or [""])[0].strip()
    if done.returncode != 0 or not first.startswith("ffmpeg version"):
        raise RenderError(f"{exe} -version failed (exit {done.returncode})", hint=hint)
    return first


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: str


def hint_for(stderr: str) -> str:
    """A short, actionable reading of ffmpeg's complaint."""
    low = stderr.lower()
    rules = (
        ("no space left", "the disk is full: free some space and render again"),
        ("invalid data found", "an input file is damaged or not a media file: re-upload it"),
        ("moov atom not found", "an input video is truncated (an interrupted upload?): re-upload it"),
        ("no such file", "an input file is missing: re-upload it"),
        ("permission denied", "the output folder is not writable: choose another path"),
        ("unknown encoder", "this ffmpeg build lacks the encoder: choose another format (mp4 always works)"),
        ("error while filtering", "the filter graph failed: report this draft as a bug"),
        ("cannot allocate memory", "not enough memory: try preview mode or a lower resolution"),
    )
    return next(
        (h for key, h in rules if key in low),
        "see the ffmpeg output above; mp4 at 'medium' is the safest choice",
    )


async def _drain(stream: ByteReceiveStream | None, sink: Callable[[bytes], None]) -> None:
    if stream is None:
        return
    async for chunk in stream:
        sink(chunk)


async def run(
    args: Sequence[str],
    *,
    total_s: float | None = None,
    on_progress: Callable[[RenderProgress], None] | None = None,
    capture_stdout: bool = False,
    what: str = "ffmpeg",
) -> Completed:
    """Run ffmpeg with ``args`` (no binary name) and wait for it.

    With ``total_s`` the arguments must include ``-progress pipe:1``: its ``out_time_us`` lines become
    percentages and an ETA for ``on_progress``. Cancelling the calling task kills ffmpeg (the process
    is reaped before the cancellation propagates). A non-zero exit raises ``RenderError``.
    """
    argv = [ffmpeg_exe(), *args]
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    err_buf = bytearray()
    out_chunks: list[bytes] = []
    progress_buf = bytearray()
    started = time.monotonic()

    def on_stderr(chunk: bytes) -> None:
        err_buf.extend(chunk)
        *lines, rest = err_buf.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                tail.append(text)
        err_buf[:] = rest[-4096:]

    def report(out_time_s: float) -> None:
        if on_progress is None or not total_s:
            return
        frac = min(1.0, max(0.0, out_time_s / total_s))
        elapsed = time.monotonic() - started
        eta = elapsed * (1 - frac) / frac if frac > 0.01 else None
        on_progress(
            RenderProgress(percent=round(frac * 100, 1), eta_s=None if eta is None else round(eta, 1))
        )

    def on_stdout(chunk: bytes) -> None:
        if capture_stdout:
            out_chunks.append(chunk)
            return
        progress_buf.extend(chunk)
        *lines, rest = progress_buf.split(b"\n")
        progress_buf[:] = rest
        for line in lines:
            key, _, value = line.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.strip().lstrip("-").isdigit():
                report(max(0, int(value)) / 1e6)

    with tempfile.TemporaryDirectory(prefix="videogen-ffmpeg-") as scratch:
        argv = _graph_through_file(argv, Path(scratch))
        try:
            process = await anyio.open_process(argv, stdin=None, start_new_session=True)
        except OSError as exc:
            raise RenderError("could not start ffmpeg", hint=exc.strerror or type(exc).__name__) from exc
        watch = spawn_watch.get()
        if watch is not None:
            watch(process.pid, True)
        try:
            async with process:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_drain, process.stdout, on_stdout)
                    tg.start_soon(_drain, process.stderr, on_stderr)
                code = await process.wait()
        finally:
            if watch is not None:
                watch(process.pid, False)
    if err_buf.strip():
        tail.append(err_buf.decode("utf-8", "replace").rstrip())
    stderr = "\n".join(tail)
    if code != 0:
        raise RenderError(
            f"{what} failed (ffmpeg exit code {code})",
            stderr_tail=stderr,
            hint=hint_for(stderr),
        )
    if total_s and on_progress is not None:
        on_progress(RenderProgress(percent=100.0, eta_s=0.0))
    return Completed(returncode=code, stdout=b"".join(out_chunks), stderr=stderr)


def _graph_through_file(argv: list[str], folder: Path) -> list[str]:
    """``-filter_complex GRAPH`` with a long graph becomes ``-/filter_complex FILE``: Linux refuses an
    argument longer than 128 KB ("Argument list too long")."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "-filter_complex" and len(out[i + 1]) > _INLINE_GRAPH_MAX:
            script = folder / f"graph{i}.txt"
            script.write_text(out[i + 1], encoding="utf-8")
            out[i : i + 2] = ["-/filter_complex", str(script)]
    return out


async def read_header(path: str) -> str:
    """What ``ffmpeg -i path`` says about a file (it exits 1 for want of an output; that is expected)."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", path]
    try:
        result = await anyio.run_process(argv, check=False, start_new_session=True)
    except OSError as exc:
        raise RenderError("could not start ffmpeg", hint=exc.strerror or type(exc).__name__) from exc
    return result.stderr.decode("utf-8", "replace")


def seconds(value: float) -> str:
    """A time for an ffmpeg option: plain decimal seconds, never exponent notation."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not a time: {value}")
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
