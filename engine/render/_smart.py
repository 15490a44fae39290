"""Smart re-render: an export encodes only the chunks whose keys are not in the cache, mixes the sound
whole (or takes it from the cache too), and joins everything by stream copy.

``render`` is the renderer's entry point: with a ``RenderCache`` and an H.264 format (mp4, mov, mkv) it
renders by chunks (``_chunks`` says what a chunk is and how its key is made); otherwise, and for webm
and avi, which are other codecs, it is the one-pass render of ``_render``. See docs/render-chunks.md.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import anyio

from . import _ffmpeg, _probe, _text
from ._cache import RenderCache, file_sha256
from ._chunks import (
    CHUNK_FORMAT,
    H264_FORMATS,
    EncodeJob,
    assemble_argv,
    chunk_job,
    concat_list,
    ffmpeg_build,
    fit_name,
    master_key,
    media_name,
    png_name,
    remux_argv,
    sound_job,
    windows_of,
)
from ._compile import (
    DEFAULT_SETTINGS,
    Canvas,
    Job,
    StillNeed,
    TextOverlay,
    end_frame_of,
    layout,
    output_canvas,
    still_needs,
)
from ._render import (
    _check_output,
    _draw_texts,
    _media_uses,
    _partial_path,
    _prepare_stills,
    render_whole,
    validate_media,
)
from ._types import Draft, MediaInfo, OutputSettings, RenderError, RenderProgress, RenderResult

log = logging.getLogger(__name__)
_PARTIAL = Path("PARTIAL")  # the output's place in an argv until it gets its temporary name
_SOUND_WEIGHT = 0.05  # the sound's share of an export's progress, when it is encoded
_hashes: dict[tuple[str, int, int, int], str] = {}


def _content_sha256(path: Path) -> str:
    """The SHA-256 of a media file, remembered per (path, size, mtime, inode) for this process."""
    st = path.stat()
    memo = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    digest = _hashes.get(memo)
    if digest is None:
        digest = _hashes[memo] = file_sha256(path)
    return digest


async def render(
    draft: Draft,
    media: Mapping[str, Path],
    out: Path,
    settings: OutputSettings = DEFAULT_SETTINGS,
    *,
    on_progress: Callable[[RenderProgress], None] | None = None,
    cache: RenderCache | None = None,
) -> RenderResult:
    """Render ``draft`` to ``out`` (written under a temporary name, checked, then renamed into place).

    With ``cache`` and an H.264 format the video is rendered by chunks and only the chunks not already
    in the cache are encoded (``RenderResult.chunks_encoded`` says how many). Cancelling the calling
    task kills ffmpeg and leaves no output file.
    """
    if cache is None or settings.format not in H264_FORMATS:
        return await render_whole(draft, media, out, settings, on_progress=on_progress)
    return await _render_chunked(
        draft, {k: Path(v) for k, v in media.items()}, Path(out), settings, on_progress, cache
    )


class _Plan:
    """The export's jobs with content names, and the files those names stand for."""

    def __init__(
        self,
        draft: Draft,
        media: Mapping[str, Path],
        infos: Mapping[str, MediaInfo],
        canvas: Canvas,
        settings: OutputSettings,
        texts: Sequence[TextOverlay],
    ) -> None:
        self.draft, self.infos, self.canvas, self.settings = draft, infos, canvas, settings
        self.build = ffmpeg_build()
        used = {src for src in media if src in infos}
        self.files: dict[str, Path] = {}
        self.named_media: dict[str, Path] = {}
        for src in sorted(used):
            name = media_name(_content_sha256(media[src]))
            self.named_media[src] = Path(name)
            self.files[name] = media[src]
        self.texts: list[TextOverlay] = []
        for t in texts:
            name = png_name(file_sha256(t.path))
            self.files[name] = t.path
            self.texts.append(replace(t, path=Path(name)))
        self.real_needs = still_needs(draft, media, infos, canvas)
        self.layout = layout(draft, self.named_media, infos, canvas)
        named_needs = self.layout.needs
        self.fits: dict[str, StillNeed] = {}  # fit name -> the real recipe
        self.prepared: dict[tuple[str, str, int, int, str], Path] = {}
        for seg_id, need in named_needs.items():
            name = fit_name(need)
            self.fits[name] = self.real_needs[seg_id]
            self.prepared[need.key] = Path(name)
        self.windows = windows_of(self.layout, canvas)
        self.jobs = [self.chunk(w) for w in self.windows]
        self.sound_job = sound_job(draft, self.named_media, infos, canvas, settings, self.build)

    def chunk(self, window: tuple[int, int]) -> EncodeJob:
        return chunk_job(
            self.draft,
            self.named_media,
            self.infos,
            self.texts,
            self.canvas,
            self.settings,
            self.prepared,
            window,
            self.build,
            self.layout,
        )

    def without_fits(self, failed: set[str], todo: Sequence[int]) -> None:
        """Stills Pillow could not fit are read by ffmpeg itself (the jobs of ``todo`` that use them
        change)."""
        self.prepared = {k: v for k, v in self.prepared.items() if str(v) not in failed}
        for i in todo:
            if failed & set(self.jobs[i].inputs):
                self.jobs[i] = self.chunk(self.windows[i])


async def _render_chunked(
    draft: Draft,
    media: dict[str, Path],
    out: Path,
    settings: OutputSettings,
    on_progress: Callable[[RenderProgress], None] | None,
    cache: RenderCache,
) -> RenderResult:
    canvas = output_canvas(draft, settings)
    end_frame = end_frame_of(draft, canvas)
    whole = Job(argv=[], duration_s=end_frame / float(canvas.fps), canvas=canvas)
    with cache.workspace() as folder:
        alias = await anyio.to_thread.run_sync(_alias_key, draft, media, settings, canvas)
        found = await anyio.to_thread.run_sync(_follow, cache, alias, folder)
        if found is not None:  # this very draft, media and renderer were exported before
            chunks, whole_file = found
            header = await _publish(remux_argv(whole_file, _PARTIAL, settings.format), out, whole, settings)
            return _result(out, header, whole, settings, chunks, 0, False, on_progress)
    infos = await validate_media(draft, media)
    with cache.workspace() as folder:
        texts = await anyio.to_thread.run_sync(_draw_texts, draft, canvas, folder)
        # compiling every chunk of a long draft takes a while: off the event loop, like all the planning
        plan = await anyio.to_thread.run_sync(_Plan, draft, media, infos, canvas, settings, texts)
        jobs, sound = plan.jobs, plan.sound_job
        master = master_key(jobs, sound)
        if await anyio.to_thread.run_sync(cache.take, master, folder / "master.mp4"):
            # this very video was exported before (as mp4 or mov): another container is one stream copy
            header = await _publish(
                remux_argv(folder / "master.mp4", _PARTIAL, settings.format),
                out,
                whole,
                settings,
            )
            encoded, sound_encoded = 0, False
        else:
            header, encoded, sound_encoded = await _encode_and_join(
                plan, jobs, sound, folder, out, whole, settings, on_progress, cache
            )
            if settings.format in {"mp4", "mov"}:
                await _keep(cache, master, out, copy=True)
        keep = {job.key for job in jobs} | {sound.key, master}
        if alias is not None:
            pointer = folder / "alias.json"
            pointer.write_text(json.dumps({"master": master, "chunks": len(jobs)}))
            await _keep(cache, alias, pointer)
            keep.add(alias)
        await anyio.to_thread.run_sync(cache.evict, keep)
    return _result(out, header, whole, settings, len(jobs), encoded, sound_encoded, on_progress)


def _result(
    out: Path,
    header: _probe.Header,
    whole: Job,
    settings: OutputSettings,
    chunks: int,
    encoded: int,
    sound_encoded: bool,
    on_progress: Callable[[RenderProgress], None] | None,
) -> RenderResult:
    if on_progress is not None:
        on_progress(RenderProgress(percent=100.0, eta_s=0.0))
    return RenderResult(
        path=out,
        duration_s=header.duration_s or whole.duration_s,
        size=_file_size(out),
        width=whole.canvas.width,
        height=whole.canvas.height,
        format=settings.format,
        chunks=chunks,
        chunks_encoded=encoded,
        sound_encoded=sound_encoded,
    )


@functools.cache
def _renderer_source() -> str:
    """A hash of the renderer's own code: an alias (below) must not outlive a change to how it renders."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _alias_key(
    draft: Draft, media: Mapping[str, Path], settings: OutputSettings, canvas: Canvas
) -> str | None:
    """A key for "this draft, this media content, these settings, this renderer, these fonts", known
    before anything is probed or drawn: it points at the whole export it gave (``None`` when a file is
    missing; the full path then says what is wrong)."""
    srcs = sorted({src for _, src, _ in _media_uses(draft)})
    try:
        hashes = {src: _content_sha256(media[src]) for src in srcs}
    except (KeyError, OSError):
        return None
    fonts = _text.find_fonts()
    parts = [
        "alias",
        CHUNK_FORMAT,
        ffmpeg_build(),
        _renderer_source(),
        [str(p) for p in (fonts.latin, fonts.latin_bold, *fonts.cjk, fonts.emoji)],
        json.dumps(draft, sort_keys=True, ensure_ascii=False),
        hashes,
        [settings.quality, settings.preview, settings.preset],
        [canvas.width, canvas.height, str(canvas.fps)],
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _follow(cache: RenderCache, alias: str | None, folder: Path) -> tuple[int, Path] | None:
    """The whole export an alias points at (its chunk count and file), if both are intact."""
    if alias is None or not cache.take(alias, folder / "alias.json"):
        return None
    try:
        pointer = json.loads((folder / "alias.json").read_text())
        master, chunks = str(pointer["master"]), int(pointer["chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        cache.discard(alias)
        return None
    if not cache.take(master, folder / "master.mp4"):
        return None
    return chunks, folder / "master.mp4"


async def _encode_and_join(
    plan: _Plan,
    jobs: list[EncodeJob],
    sound: EncodeJob,
    folder: Path,
    out: Path,
    whole: Job,
    settings: OutputSettings,
    on_progress: Callable[[RenderProgress], None] | None,
    cache: RenderCache,
) -> tuple[_probe.Header, int, bool]:
    """Take what the cache has, encode the rest (two jobs at a time), join it all into ``out``; returns
    the output's header, how many chunks were encoded and whether the sound was."""
    names = [f"c{i:04d}.mp4" for i in range(len(jobs))]
    sound_file = folder / "sound.m4a"

    def look_up(indices: Sequence[int]) -> list[int]:
        return [i for i in indices if not cache.take(jobs[i].key, folder / names[i])]

    todo = await anyio.to_thread.run_sync(look_up, range(len(jobs)))
    sound_cached = await anyio.to_thread.run_sync(cache.take, sound.key, sound_file)
    wanted_fits = {n for i in todo for n in jobs[i].inputs if n in plan.fits}
    if wanted_fits:
        needs = {n: plan.fits[n] for n in sorted(wanted_fits)}
        made = await _prepare_stills(needs, folder)
        for name, need in needs.items():
            if need.key in made:
                plan.files[name] = made[need.key]
        failed = {n for n, need in needs.items() if need.key not in made}
        if failed:
            await anyio.to_thread.run_sync(plan.without_fits, failed, todo)
            todo = await anyio.to_thread.run_sync(look_up, todo)
    progress = _Progress(on_progress, [jobs[i] for i in todo], None if sound_cached else sound)
    limiter = anyio.CapacityLimiter(max(1, min(2, os.cpu_count() or 1)))

    async def encode(job: EncodeJob, dest: Path, what: str) -> None:
        async with limiter:
            partial = dest.with_name(f".{dest.name}")
            try:
                await _ffmpeg.run(
                    job.resolve(plan.files, partial),
                    total_s=job.duration_s,
                    on_progress=lambda p: progress.update(job.key, p.percent / 100),
                    what="the render",
                )
            except RenderError as exc:
                raise RenderError(
                    f"{exc.message} ({what})", stderr_tail=exc.stderr_tail, hint=exc.hint
                ) from exc
            if not partial.is_file() or partial.stat().st_size == 0:
                raise RenderError(f"{what} wrote nothing", hint="render again")
            os.replace(partial, dest)
            await _keep(cache, job.key, dest)
            progress.update(job.key, 1.0)

    async with anyio.create_task_group() as tg:
        if not sound_cached:
            tg.start_soon(encode, sound, sound_file, "encoding the sound track")
        for i in todo:
            window = plan.windows[i]
            tg.start_soon(
                encode,
                jobs[i],
                folder / names[i],
                f"encoding chunk {i + 1}, frames {window[0]}-{window[1] - 1}",
            )
    concat = folder / "chunks.ffconcat"
    concat.write_text(concat_list([(names[i], job.frames) for i, job in enumerate(jobs)], plan.canvas))
    header = await _publish(
        assemble_argv(concat, sound_file, _PARTIAL, settings.format), out, whole, settings
    )
    return header, len(todo), not sound_cached


async def _publish(argv: list[str], out: Path, whole: Job, settings: OutputSettings) -> _probe.Header:
    """Run ``argv`` (its ``_PARTIAL`` output becomes a temporary name beside ``out``), check the file
    against ``whole``, and rename it into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_path(out)
    try:
        await _ffmpeg.run([str(partial) if a == str(_PARTIAL) else a for a in argv], what="the remux")
        header = await _check_output(partial, whole, settings.format)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return header


async def _keep(cache: RenderCache, key: str, path: Path, *, copy: bool = False) -> None:
    """Store an encode in the cache; a cache that cannot take it (a full disk) costs only the reuse."""
    try:
        await anyio.to_thread.run_sync(functools.partial(cache.put, key, path, copy=copy))
    except OSError as exc:
        log.warning("render cache: could not keep %s (%s); the export goes on without it", key, exc)


def _file_size(path: Path) -> int:
    return path.stat().st_size


class _Progress:
    """One percentage over the encodes of an export, weighted by their frames (the sound a little)."""

    def __init__(
        self,
        sink: Callable[[RenderProgress], None] | None,
        chunks: Sequence[EncodeJob],
        sound: EncodeJob | None,
    ) -> None:
        self.sink = sink
        frames = sum(j.frames for j in chunks) or 1
        chunk_share = 1 - (_SOUND_WEIGHT if sound is not None else 0)
        self.weights = {j.key: chunk_share * j.frames / frames for j in chunks}
        if sound is not None:
            self.weights[sound.key] = _SOUND_WEIGHT if chunks else 1.0
        self.done: dict[str, float] = {}

    def update(self, key: str, fraction: float) -> None:
        if self.sink is None or key not in self.weights:
            return
        self.done[key] = max(self.done.get(key, 0.0), min(1.0, fraction))
        total = sum(self.weights[k] * f for k, f in self.done.items())
        self.sink(RenderProgress(percent=round(min(99.0, total * 99), 1), eta_s=None))
