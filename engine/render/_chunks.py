"""Chunked rendering, the pure part: where the chunks are, what each one is, and its cache key.

A video is encoded as chunks of about ``CHUNK_SECONDS``; each chunk is an independent ffmpeg job (its
own filter graph over just its frames, its own x264 instance starting with a key frame) whose inputs
are *named by content*, never by path:

- ``sha256-<hex>``: a media file, by the SHA-256 of its bytes;
- ``fit-<hex>``: a still fitted to the canvas (``StillNeed``), by the hash of its recipe (the source's
  content name, fit, size, background);
- ``png-<hex>``: a text drawn with Pillow, by the SHA-256 of the PNG.

A job's ``argv`` is the ffmpeg argument list with those names where the files go and ``OUT`` for the
output; its key is the SHA-256 of that list (plus the format version and the ffmpeg build), so the key
changes exactly when something the chunk shows changes: a text inside it, a still's content, its
place on the timeline (Ken Burns depends on it), the canvas, the encoder settings. ``_smart`` runs the
jobs whose keys are not cached and assembles the rest by stream copy. See docs/render-chunks.md.

Exactness: every chunk is encoded the same way whether the whole video is new or one chunk changed
(one x264 instance per chunk, one thread, the same settings), so an assembled export is the very
bitstream a cold export of the same draft gives; joining H.264 chunks that each start with an IDR frame
(x264 GOPs are closed by default) by stream copy is exact.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

from ._compile import (
    MUXERS,
    QUIET,
    Canvas,
    Layout,
    StillNeed,
    TextOverlay,
    aac_args,
    compile_graph,
    compile_sound,
    graph_args,
    layout,
    picture_args,
    x264_args,
)
from ._ffmpeg import ffmpeg_exe, seconds
from ._types import Draft, MediaInfo, OutputSettings

CHUNK_SECONDS = Fraction(2)  # the length a chunk aims at between clean cuts
CHUNK_FORMAT = 1  # bump when the same argv would give different chunk bits (a change outside the argv)
H264_FORMATS = ("mp4", "mov", "mkv")  # what chunks are assembled into by stream copy
OUT = "OUT"  # the output's place in a job's argv


def media_name(content_sha256: str) -> str:
    return f"sha256-{content_sha256}"


def fit_name(need: StillNeed) -> str:
    """A fitted still's name: the hash of its recipe (``need.path`` is already a content name)."""
    recipe = [1, str(need.path), need.fit, need.width, need.height, need.background]
    return "fit-" + hashlib.sha256(json.dumps(recipe).encode()).hexdigest()


def png_name(content_sha256: str) -> str:
    return f"png-{content_sha256}"


def chunk_windows(
    draft: Draft, media: Mapping[str, Path], infos: Mapping[str, MediaInfo], canvas: Canvas
) -> list[tuple[int, int]]:
    """The chunks as frame windows ``[a, b)`` covering the whole video in order (``windows_of``)."""
    return windows_of(layout(draft, media, infos, canvas), canvas)


def windows_of(lay: Layout, canvas: Canvas) -> list[tuple[int, int]]:
    """The chunks of a draft's layout as frame windows ``[a, b)`` covering the whole video in order.

    Edges go at cuts that no transition crosses, and between those every ``CHUNK_SECONDS`` or so (each
    stretch split in equal parts), so an edit that does not move the cuts keeps every edge in place.
    Texts may cross an edge: each chunk draws its own part of them.
    """
    end = lay.end_frame
    edges = {0, end}
    for i, (prev, _seg) in enumerate(pairwise(lay.segs)):
        crossed = prev.transition != "none" and canvas.frames(prev.transition_ms) > 0
        cut = lay.starts[i + 1]
        if not crossed and 0 < cut < end:
            edges.add(cut)
    target = max(1, round(CHUNK_SECONDS * canvas.fps))
    windows: list[tuple[int, int]] = []
    for a, b in pairwise(sorted(edges)):
        n = max(1, round(Fraction(b - a, target)))
        windows += pairwise(a + (b - a) * k // n for k in range(n + 1))
    return windows


@dataclass(frozen=True)
class EncodeJob:
    """One ffmpeg run whose inputs are content names: a chunk of the picture, or the whole sound."""

    key: str
    argv: tuple[str, ...]
    frames: int  # 0 for the sound
    duration_s: float

    @property
    def inputs(self) -> tuple[str, ...]:
        """The content names this job reads, in input order."""
        return tuple(self.argv[i + 1] for i, a in enumerate(self.argv[:-1]) if a == "-i")

    def resolve(self, files: Mapping[str, Path], out: Path) -> list[str]:
        """The runnable argument list: each content name replaced by its file, ``OUT`` by ``out``."""
        argv = list(self.argv)
        for i, a in enumerate(argv[:-1]):
            if a == "-i":
                argv[i + 1] = str(files[argv[i + 1]])
        argv[-1] = str(out)
        return argv


def ffmpeg_build() -> str:
    """Which ffmpeg encodes (its file name carries the version; the size tells builds apart)."""
    exe = Path(ffmpeg_exe())
    try:
        return f"{exe.name}:{exe.stat().st_size}"
    except OSError:
        return exe.name


def _keyed(argv: Sequence[str], frames: int, duration_s: float, build: str) -> EncodeJob:
    digest = hashlib.sha256(json.dumps([CHUNK_FORMAT, build, list(argv)]).encode()).hexdigest()
    return EncodeJob(key=digest, argv=tuple(argv), frames=frames, duration_s=duration_s)


def chunk_job(
    draft: Draft,
    media: Mapping[str, Path],
    infos: Mapping[str, MediaInfo],
    texts: Sequence[TextOverlay],
    canvas: Canvas,
    settings: OutputSettings,
    prepared: Mapping[tuple[str, str, int, int, str], Path],
    window: tuple[int, int],
    build: str,
    lay: Layout | None = None,
) -> EncodeJob:
    """The chunk ``window`` as a job (``media``, ``prepared`` and text paths are content names; ``lay``
    is the draft's layout over those names, when many chunks of it are compiled)."""
    graph = compile_graph(
        draft, media, infos, texts, canvas, with_audio=False, prepared=prepared, window=window, lay=lay
    )
    frames = window[1] - window[0]
    argv = [
        *QUIET,
        *("-progress", "pipe:1"),
        *graph_args(graph),
        *("-map", f"[{graph.video}]", "-frames:v", str(frames)),
        *picture_args(canvas),
        *x264_args(settings),
        # one encoder thread: the same bits whichever machine or batch encodes the chunk, and two chunks
        # at once keep two cores busier than frame threads inside one short encode
        *("-threads", "1", "-an", "-f", "mp4", OUT),
    ]
    return _keyed(argv, frames, graph.duration_s, build)


def sound_job(
    draft: Draft,
    media: Mapping[str, Path],
    infos: Mapping[str, MediaInfo],
    canvas: Canvas,
    settings: OutputSettings,
    build: str,
) -> EncodeJob:
    """The whole sound track, mixed and encoded to AAC on its own (``media`` paths are content names)."""
    graph = compile_sound(draft, media, infos, canvas)
    argv = [
        *QUIET,
        *("-progress", "pipe:1"),
        *graph_args(graph),
        *("-map", f"[{graph.audio}]", *aac_args(settings), "-vn", "-f", "mp4", OUT),
    ]
    return _keyed(argv, 0, graph.duration_s, build)


def concat_list(chunks: Sequence[tuple[str, int]], canvas: Canvas) -> str:
    """An ffconcat list of ``(file name, frames)``: each chunk's exact length is written down, so the
    join does not depend on how a container rounds its duration."""
    lines = ["ffconcat version 1.0"]
    for name, frames in chunks:
        if "'" in name or os.sep in name:
            raise ValueError(f"chunk file name {name!r} must be a plain name")
        lines += [f"file '{name}'", f"duration {seconds(float(Fraction(frames) / canvas.fps))}"]
    return "\n".join(lines) + "\n"


def master_key(chunks: Sequence[EncodeJob], sound: EncodeJob) -> str:
    """The key of a whole export: its chunks and its sound, in order (kept so that another container of
    the same video is one stream copy of one file)."""
    parts = ["master", CHUNK_FORMAT, [j.key for j in chunks], sound.key]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def remux_argv(master: Path, out: Path, fmt: str) -> list[str]:
    """An H.264/AAC file into another of the H.264 containers, by stream copy."""
    if fmt not in H264_FORMATS:
        raise ValueError(f"an H.264/AAC master is remuxed into {', '.join(H264_FORMATS)}, not {fmt}")
    return [
        *QUIET,
        *("-i", str(master), "-map", "0:v:0", "-map", "0:a:0", "-c", "copy"),
        *(["-movflags", "+faststart"] if fmt in {"mp4", "mov"} else []),
        *("-f", MUXERS[fmt], str(out)),
    ]


def assemble_argv(concat: Path, sound: Path, out: Path, fmt: str) -> list[str]:
    """Chunks (by an ffconcat list) and the sound into one file, by stream copy."""
    if fmt not in H264_FORMATS:
        raise ValueError(f"chunks are assembled into {', '.join(H264_FORMATS)}, not {fmt}")
    return [
        *QUIET,
        *("-f", "concat", "-safe", "0", "-i", str(concat), "-i", str(sound)),
        *("-map", "0:v:0", "-map", "1:a:0", "-c", "copy"),
        *(["-movflags", "+faststart"] if fmt in {"mp4", "mov"} else []),
        *("-f", MUXERS[fmt], str(out)),
    ]
