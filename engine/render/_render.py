"""The I/O around the compiler: check the media, draw the texts, run ffmpeg, check and publish the output."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from PIL import Image, ImageDraw, ImageFont

from engine import timeline

from . import _ffmpeg, _probe, _text
from ._compile import (
    DEFAULT_SETTINGS,
    Canvas,
    Job,
    StillNeed,
    TextOverlay,
    compile_render,
    compile_storyboard,
    output_canvas,
    still_needs,
)
from ._stills import fit_still
from ._types import Draft, MediaError, MediaInfo, OutputSettings, RenderError, RenderProgress, RenderResult

log = logging.getLogger(__name__)
_SPEECH_SECONDS = 30
_EXPECTED_CODECS = {
    "mp4": ("h264", "aac"),
    "mov": ("h264", "aac"),
    "mkv": ("h264", "aac"),
    "webm": ("vp9", "opus"),
    "avi": ("mpeg4", "mp3"),
}


# ---------------------------------------------------------------- probing


_PILLOW_STILLS = {"JPEG": "mjpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp", "TIFF": "tiff"}


def _still_by_pillow(path: Path) -> MediaInfo | None:
    """A single-frame picture, identified and fully decoded by Pillow (no ffmpeg spawn); ``None`` when
    Pillow does not know the content (then ffmpeg is asked). A damaged picture raises ``MediaError``."""
    try:
        img = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise MediaError(
            f"the image '{path.name}' has too many pixels ({exc})", file=str(path), hint="scale it down"
        ) from exc
    except (OSError, ValueError):
        return None
    with img:
        codec = _PILLOW_STILLS.get(str(img.format))
        if codec is None or getattr(img, "n_frames", 1) > 1:  # animated GIF/WebP: a video to ffmpeg
            return None
        width, height = img.size
        if img.getexif().get(0x0112, 1) in {5, 6, 7, 8}:  # EXIF orientation: rotated a quarter turn
            width, height = height, width
        try:
            img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))  # DCT-scaled: fast
            img.load()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise MediaError(
                f"the image '{path.name}' is damaged or truncated ({exc})",
                file=str(path),
                hint="upload the picture again",
            ) from exc
    return MediaInfo("image", None, width, height, None, False, True, codec, None)


async def _speech_like(path: Path) -> bool | None:
    done = await _ffmpeg.run(
        [
            *("-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-t", str(_SPEECH_SECONDS)),
            *("-vn", "-ac", "1", "-ar", str(_probe.SPEECH_RATE), "-f", "s16le", "pipe:1"),
        ],
        capture_stdout=True,
        what=f"reading the audio of '{path.name}'",
    )
    features = await anyio.to_thread.run_sync(_probe.speech_features, done.stdout)
    return _probe.looks_like_speech(features)


async def probe(path: Path) -> MediaInfo:
    """What a media file is, judged by its content (not its name): kind, duration, size, fps, streams,
    codec, and for audio whether it sounds like a voice. Unreadable files raise ``MediaError``."""
    return await _probe_file(Path(path), speech=True)


def _size(path: Path) -> int | None:
    """The file's size, or ``None`` when it is not a regular file."""
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


async def _probe_file(path: Path, *, speech: bool) -> MediaInfo:
    size = _size(path)
    if size is None:
        raise MediaError(f"'{path}' does not exist", file=str(path), hint="check the path or upload it again")
    if size == 0:
        raise MediaError(f"'{path.name}' is empty (0 bytes)", file=str(path), hint="upload the file again")
    still = await anyio.to_thread.run_sync(_still_by_pillow, path)
    if still is not None:
        return still
    text = await _ffmpeg.read_header(str(path))
    try:
        header = _probe.parse_header(text)
    except _probe.NotMedia as exc:
        raise MediaError(
            f"'{path.name}' is not a readable image, video or audio file ({exc})",
            file=str(path),
            stderr_tail=text[-2000:],
            hint="supported: mp4 mov avi webm mkv jpg png gif webp mp3 wav m4a aac",
        ) from exc
    info = _probe.media_info(header)
    if info.kind == "audio":
        if not info.duration_ms:
            raise MediaError(f"the audio '{path.name}' has no length", file=str(path), hint="upload it again")
        if speech:
            info = _probe.media_info(header, await _speech_like(path))
    return info


# ---------------------------------------------------------------- validation


def _media_uses(draft: Draft) -> list[tuple[str, str, str]]:
    """(segment id, src, needed kind) for every segment that uses a file."""
    main = timeline.main_track(draft)
    uses: list[tuple[str, str, str]] = []
    for track in draft.get("t") or []:
        for seg in track.get("sg") or []:
            src = seg.get("src")
            if not src:
                continue
            if track.get("tt") == 1:
                uses.append((str(seg["id"]), str(src), "audio"))
            elif track is main or track.get("tt") == 0:
                kind = (seg.get("m") or {}).get("kind")
                uses.append((str(seg["id"]), str(src), str(kind) if kind in {"image", "video"} else "visual"))
    return uses


_known: dict[tuple[str, int, int, int], MediaInfo] = {}


async def _probe_known(path: Path) -> MediaInfo:
    """``_probe_file`` without the voice check, remembered per (path, size, mtime, inode) in this process:
    a conversation exports the same files again and again."""
    try:
        st = await anyio.Path(path).stat()
    except OSError:
        return await _probe_file(path, speech=False)  # says what is wrong with it
    memo = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    info = _known.get(memo)
    if info is None:
        info = _known[memo] = await _probe_file(path, speech=False)
    return info


async def validate_media(draft: Draft, media: Mapping[str, Path]) -> dict[str, MediaInfo]:
    """Probe every file the draft uses (each once) before ffmpeg runs; ``MediaError`` names the segment."""
    uses = _media_uses(draft)
    for seg_id, src, _ in uses:
        if src not in media:
            raise MediaError(
                f"segment '{seg_id}' uses '{src}', which is not among the uploaded media",
                segment_id=seg_id,
                file=src,
                hint="upload the file again, or remove the segment",
            )
    infos: dict[str, MediaInfo] = {}
    errors: dict[str, MediaError] = {}
    limiter = anyio.CapacityLimiter(4)

    async def one(src: str) -> None:
        async with limiter:
            try:
                infos[src] = await _probe_known(media[src])
            except MediaError as exc:
                errors[src] = exc

    async with anyio.create_task_group() as tg:
        for src in dict.fromkeys(src for _, src, _ in uses):
            tg.start_soon(one, src)
    for seg_id, src, need in uses:
        if src in errors:
            exc = errors[src]
            raise MediaError(
                f"segment '{seg_id}': {exc.message}",
                segment_id=seg_id,
                file=str(media[src]),
                stderr_tail=exc.stderr_tail,
                hint=exc.hint,
            ) from exc
        info = infos[src]
        ok = info.kind == need or (need == "visual" and info.kind in {"image", "video"})
        ok = ok or (need == "audio" and info.has_audio)
        if not ok:
            raise MediaError(
                f"segment '{seg_id}' needs {'an' if need in {'image', 'audio'} else 'a'} "
                f"{'image or video' if need == 'visual' else need} "
                f"but '{Path(media[src]).name}' is {info.kind}",
                segment_id=seg_id,
                file=str(media[src]),
                hint="replace the file, or change the segment",
            )
    return infos


# ---------------------------------------------------------------- texts


def _draw_texts(draft: Draft, canvas: Canvas, folder: Path) -> list[TextOverlay]:
    end = timeline.timeline_end(draft)
    out: list[TextOverlay] = []
    for track in draft.get("t") or []:
        if track.get("tt") != 7:
            continue
        for seg in track.get("sg") or []:
            words = str(seg.get("text") or "")
            st, d = int(seg["st"]), int(seg["d"])
            if not words.strip() or st >= end:
                continue
            meta = seg.get("m") or {}
            style = _text.style_of(seg, track.get("role"))
            placed = _text.render_text(words, style, canvas.size)
            x, y = _text.place(placed, str(meta.get("position") or "center"), canvas.size)
            path = folder / f"text-{len(out)}.png"
            placed.image.save(path, compress_level=1)
            out.append(TextOverlay(str(seg["id"]), path, x, y, st, min(end, st + d)))
    return out


Prepared = dict[tuple[str, str, int, int, str], Path]


async def _prepare_stills(needs: Mapping[str, StillNeed], folder: Path) -> Prepared:
    """Fit every distinct still once (two at a time: Pillow releases the GIL while decoding)."""
    unique = {need.key: need for need in needs.values()}
    prepared: Prepared = {}
    limiter = anyio.CapacityLimiter(2)

    async def one(n: int, need: StillNeed) -> None:
        async with limiter:
            try:
                prepared[need.key] = await anyio.to_thread.run_sync(
                    fit_still, need, folder / f"still-{n}.rgb"
                )
            except (OSError, ValueError) as exc:  # ffmpeg will fit this one itself
                log.warning("could not pre-fit %s with Pillow (%s); ffmpeg will decode it", need.path, exc)

    async with anyio.create_task_group() as tg:
        for n, need in enumerate(unique.values()):
            tg.start_soon(one, n, need)
    return prepared


# ---------------------------------------------------------------- output checks and publishing


def _partial_path(out: Path) -> Path:
    return out.with_name(f".{out.stem}.partial-{secrets.token_hex(4)}{out.suffix}")


async def _check_output(path: Path, job: Job, fmt: str) -> _probe.Header:
    if not _size(path):
        raise RenderError("ffmpeg reported success but wrote no output", hint="render again")
    text = await _ffmpeg.read_header(str(path))
    try:
        header = _probe.parse_header(text)
    except _probe.NotMedia as exc:
        raise RenderError(
            "the rendered file is not a readable video", stderr_tail=text[-2000:], hint="render again"
        ) from exc
    want_v, want_a = _EXPECTED_CODECS[fmt]
    problems = []
    if header.video_codec != want_v:
        problems.append(f"video stream is {header.video_codec}, expected {want_v}")
    if job.has_audio and header.audio_codec != want_a:
        problems.append(f"audio stream is {header.audio_codec}, expected {want_a}")
    frame = 1 / float(job.canvas.fps)
    if header.duration_s is None or abs(header.duration_s - job.duration_s) > frame + 0.011:
        problems.append(f"lasts {header.duration_s} s, expected {job.duration_s:.3f} s")
    if (header.width, header.height) != job.canvas.size:
        problems.append(f"is {header.width}x{header.height}, expected {job.canvas.width}x{job.canvas.height}")
    if problems:
        raise RenderError("the rendered file did not check out: " + "; ".join(problems), hint="render again")
    return header


async def _run_to(
    out: Path, argv_for: Callable[[Path], Job], on_progress: Callable[[RenderProgress], None] | None, fmt: str
) -> tuple[Job, _probe.Header]:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_path(out)
    try:
        job = await anyio.to_thread.run_sync(argv_for, partial)  # compiling a long draft takes CPU
        await _ffmpeg.run(job.argv, total_s=job.duration_s, on_progress=on_progress, what="the render")
        header = await _check_output(partial, job, fmt)
        os.replace(partial, out)
        return job, header
    finally:
        partial.unlink(missing_ok=True)


async def render_whole(
    draft: Draft,
    media: Mapping[str, Path],
    out: Path,
    settings: OutputSettings = DEFAULT_SETTINGS,
    *,
    on_progress: Callable[[RenderProgress], None] | None = None,
) -> RenderResult:
    """Render ``draft`` to ``out`` in one ffmpeg pass (written under a temporary name, checked, then
    renamed into place). Cancelling the calling task kills ffmpeg and leaves no output file.
    """
    out = Path(out)
    media = {k: Path(v) for k, v in media.items()}
    infos = await validate_media(draft, media)
    canvas = output_canvas(draft, settings)
    with tempfile.TemporaryDirectory(prefix="videogen-render-") as tmp:
        folder = Path(tmp)
        texts = await anyio.to_thread.run_sync(_draw_texts, draft, canvas, folder)
        prepared = await _prepare_stills(still_needs(draft, media, infos, canvas), folder)
        job, header = await _run_to(
            out,
            lambda partial: compile_render(
                draft, media, infos, texts, partial, settings, canvas=canvas, prepared=prepared
            ),
            on_progress,
            settings.format,
        )
    return RenderResult(
        path=out,
        duration_s=header.duration_s or job.duration_s,
        size=out.stat().st_size,
        width=canvas.width,
        height=canvas.height,
        format=settings.format,
    )


async def remux(master: Path, out: Path, fmt: str) -> Path:
    """Change the container of an H.264/AAC master (mp4 -> mov/mkv) by stream copy: no re-encode."""
    if fmt not in {"mp4", "mov", "mkv"}:
        raise RenderError(f"cannot stream-copy H.264/AAC into {fmt}", hint="render that format instead")
    muxer = {"mp4": "mp4", "mov": "mov", "mkv": "matroska"}[fmt]
    partial = _partial_path(out)
    try:
        extra = ["-movflags", "+faststart"] if fmt in {"mp4", "mov"} else []
        await _ffmpeg.run(
            [
                *("-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(master)),
                *("-map", "0", "-c", "copy", *extra, "-f", muxer, str(partial)),
            ],
            what="the remux",
        )
        try:
            header = _probe.parse_header(await _ffmpeg.read_header(str(partial)))
        except _probe.NotMedia as exc:
            raise RenderError("the remuxed file is not readable", hint="render that format instead") from exc
        if header.video_codec != "h264":
            raise RenderError(
                f"the remuxed file has {header.video_codec} video", hint="render that format instead"
            )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------- storyboard


def _label_font(px: int) -> Any:
    fonts = _text.find_fonts()
    path = fonts.latin_bold or fonts.latin
    return ImageFont.truetype(str(path), px) if path else ImageFont.load_default(px)


def _contact_sheet(frames: list[Path], times: list[float], out: Path, tile: tuple[int, int]) -> None:
    cols = min(4, len(frames))
    rows = -(-len(frames) // cols)
    tw, th = tile
    label_h = max(14, th // 7)
    gap = 6
    sheet = Image.new("RGB", (cols * (tw + gap) + gap, rows * (th + label_h + gap) + gap), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    font = _label_font(label_h - 4)
    for k, (frame, t) in enumerate(zip(frames, times, strict=True)):
        x = gap + (k % cols) * (tw + gap)
        y = gap + (k // cols) * (th + label_h + gap)
        with Image.open(frame) as img:
            sheet.paste(img.convert("RGB").resize((tw, th)), (x, y))
        draw.text((x + 2, y + th + 1), f"{int(t // 60)}:{t % 60:04.1f}", font=font, fill=(235, 235, 235))
    sheet.save(out)


def _frames_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("frame-*.png"))


async def storyboard(draft: Draft, media: Mapping[str, Path], out: Path, *, frames: int = 8) -> Path:
    """A PNG contact sheet of ``frames`` moments across the timeline, each labelled with its time.

    One ffmpeg pass at low resolution and frame rate over the compiled graph writes only the chosen frames.
    """
    out = Path(out)
    frames = max(1, min(frames, 48))
    media = {k: Path(v) for k, v in media.items()}
    infos = await validate_media(draft, media)
    full = output_canvas(draft, OutputSettings())
    scale = 320 / max(full.width, full.height)
    canvas = Canvas(
        max(2, round(full.width * scale / 2) * 2),
        max(2, round(full.height * scale / 2) * 2),
        min(full.fps, full.fps.__class__(10)),
    )
    with tempfile.TemporaryDirectory(prefix="videogen-storyboard-") as tmp:
        folder = Path(tmp)
        texts = await anyio.to_thread.run_sync(_draw_texts, draft, canvas, folder)
        prepared = await _prepare_stills(still_needs(draft, media, infos, canvas), folder)
        job, times = await anyio.to_thread.run_sync(
            lambda: compile_storyboard(
                draft, media, infos, texts, folder / "frame-%03d.png", canvas, frames, prepared
            )
        )
        await _ffmpeg.run(job.argv, what="the storyboard")
        shots = _frames_in(folder)
        if not shots:
            raise RenderError("the storyboard pass produced no frames", hint="render the video instead")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial_path(out)
        try:
            await anyio.to_thread.run_sync(_contact_sheet, shots, times[: len(shots)], partial, canvas.size)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return out
