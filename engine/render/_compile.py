"""The pure compiler: a draft (plus facts about its media) -> one ffmpeg argument list, one filter graph.

Nothing here touches the disk or spawns anything; ``_render`` does the I/O around it.

How the picture is built (cheapest first, because every per-frame operation is paid 30 times a second):
- each still is an input once, decoded once, fitted to the canvas (plus a margin when it moves),
  converted to yuv420p/tv range/bt709 once, then *repeated* with ``loop`` (no per-frame decode: that is
  what ``-loop 1`` on a JPEG would cost);
- Ken Burns zoom is one small per-frame ``scale`` of the fitted still followed by a centred ``crop``; pans
  are a moving ``crop`` only (free);
- the main track is cut into pieces: each segment's solo part, and each transition as its own short
  ``xfade`` of just the overlapping frames (``xfade`` copies every frame it sees, so it never sees the
  rest); the pieces are joined by one ``concat``;
- text is Pillow PNGs (see ``_text``), converted once and laid on with ``overlay`` only inside the
  frame window of each text (``enable='between(n,a,b)'`` on frame numbers, so the end is exact).

Timing rule: main segments are contiguous; a transition of T ms on segment i blends i into i+1 starting
at st[i+1] (segment i's picture is held T ms more), so the output lasts exactly until the end of the
last main segment and text times are absolute.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from engine import timeline

from ._ffmpeg import seconds
from ._types import Draft, MediaInfo, OutputSettings, RenderError

PREVIEW_SHORT_SIDE = 540
PREVIEW_FPS = 15
ZOOM = Fraction(11, 10)  # Ken Burns: 1.0 -> 1.1 (or back), centred
PAN_MARGIN = Fraction(11, 10)
TRANSITIONS = {"fade": "fadeblack", "crossfade": "fade", "wipe": "wipeleft", "slide": "slideleft"}
VOICE_ROLES = {"voiceover", "voice", "narration"}
MUSIC_ROLES = {"bgm", "music"}
# x264 (crf, preset) per quality; webm: VP9 crf; avi: MPEG-4 qscale
_X264 = {"high": (18, "faster"), "medium": (22, "veryfast"), "low": (27, "superfast")}
_VP9 = {"high": 31, "medium": 35, "low": 41}
_MPEG4_Q = {"high": 3, "medium": 5, "low": 8}
_AAC = {"high": "192k", "medium": "160k", "low": "128k"}
_COLOR_RE = re.compile(r"^(#|0x)?([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$|^[a-zA-Z]{3,20}$")


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    fps: Fraction

    def frames(self, ms: float) -> int:
        """The frame index at ``ms`` on the timeline."""
        return round(Fraction(ms) * self.fps / 1000)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass(frozen=True)
class TextOverlay:
    """A text segment already drawn to ``path`` (RGBA PNG), placed at ``x, y`` for ``[start_ms, end_ms)``."""

    segment_id: str
    path: Path
    x: int
    y: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Job:
    """A compiled render: ``argv`` for ffmpeg (without the binary) and what the output must be."""

    argv: list[str]
    duration_s: float
    canvas: Canvas
    has_audio: bool = True


def _even(v: float | Fraction) -> int:
    return max(2, round(v / 2) * 2)


def _frame_rate(value: Any) -> Fraction:
    """The draft's fps as an exact rate; 23.976 / 29.97 / 59.94 mean the NTSC rates (n*1000/1001)."""
    try:
        fps = Fraction(str(value or 30)).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        fps = Fraction(30)
    if fps <= 0 or fps > 120:
        fps = Fraction(30)
    ntsc = Fraction(round(fps * Fraction(1001, 1000)) * 1000, 1001)
    if fps.denominator != 1 and abs(fps - ntsc) < Fraction(1, 100):
        return ntsc
    return fps


def output_canvas(draft: Draft, settings: OutputSettings) -> Canvas:
    meta = draft.get("m") or {}
    width, height = int(meta.get("width") or 1920), int(meta.get("height") or 1080)
    fps = _frame_rate(meta.get("fps"))
    if settings.preview:
        scale = min(Fraction(1), Fraction(PREVIEW_SHORT_SIDE, min(width, height)))
        width, height = _even(width * scale), _even(height * scale)
        fps = min(fps, Fraction(PREVIEW_FPS))
    return Canvas(_even(width), _even(height), fps)


def colour(value: Any, default: str = "black") -> str:
    """A colour safe to put in a filter graph (hex or a plain name), else ``default``."""
    text = str(value or "").strip()
    if not _COLOR_RE.match(text):
        return default
    if text.startswith("#"):
        return "0x" + text[1:]
    return text


# ---------------------------------------------------------------- draft reading (through engine.timeline)


@dataclass(frozen=True)
class MainSeg:
    id: str
    kind: str  # image | video | color
    st: int
    d: int
    path: Path | None
    info: MediaInfo | None
    in_ms: int
    vol: float
    speed: float
    motion: str
    fit: str
    color: str
    transition: str
    transition_ms: int


@dataclass(frozen=True)
class AudioSeg:
    id: str
    role: str
    st: int
    d: int
    path: Path
    in_ms: int
    vol: float
    fade_in: int
    fade_out: int
    loop: bool
    duck: bool


@dataclass(frozen=True)
class StillNeed:
    """A still fitted once, outside ffmpeg, to exactly ``width x height`` (the canvas plus any motion
    margin) and handed to ffmpeg as one raw RGB frame: ``_render`` makes it with Pillow."""

    path: Path
    fit: str
    width: int
    height: int
    background: str  # a Pillow colour

    @property
    def key(self) -> tuple[str, str, int, int, str]:
        return (str(self.path), self.fit, self.width, self.height, self.background)


_MOTIONS = frozenset(timeline.MOTIONS) - {"none"}


def still_margin(seg: MainSeg) -> Fraction:
    if seg.motion not in _MOTIONS:
        return Fraction(1)
    return ZOOM if seg.motion.startswith("zoom") else PAN_MARGIN


def pillow_colour(value: str) -> str:
    return "#" + value[2:] if value.startswith("0x") else value


def still_needs(
    draft: Draft, media: Mapping[str, Path], infos: Mapping[str, MediaInfo], canvas: Canvas
) -> dict[str, StillNeed]:
    """The fitted stills the render needs, by segment id."""
    return _needs(main_segments(draft, media, infos), canvas)


def _needs(segs: Sequence[MainSeg], canvas: Canvas) -> dict[str, StillNeed]:
    out: dict[str, StillNeed] = {}
    for seg in segs:
        if seg.kind == "image" and seg.path is not None:
            margin = still_margin(seg)
            out[seg.id] = StillNeed(
                seg.path,
                seg.fit if seg.fit in {"cover", "contain", "contain_blur"} else "cover",
                _even(canvas.width * margin),
                _even(canvas.height * margin),
                pillow_colour(seg.color),
            )
    return out


def _tracks(draft: Draft) -> list[dict[str, Any]]:
    return [t for t in draft.get("t") or [] if isinstance(t, dict)]


def visual_kind(track: Mapping[str, Any], seg: Mapping[str, Any], info: MediaInfo | None) -> str:
    """image | video | color of a main-track segment.

    What the draft says (``engine.timeline.segment_kind``: ``m.kind``, else inferred); where the draft
    leaves it to inference (no ``m.kind``), the probed content decides, because upload ids carry no file
    extension to infer from, and a segment without media is a colour card.
    """
    if (seg.get("m") or {}).get("kind") is None:
        if not seg.get("src"):
            return "color"
        if info is not None and info.kind in {"image", "video"}:
            return info.kind
    kind = timeline.segment_kind(dict(track), dict(seg))
    return kind if kind in timeline.MAIN_KINDS else "image"


def main_segments(draft: Draft, media: Mapping[str, Path], infos: Mapping[str, MediaInfo]) -> list[MainSeg]:
    main = timeline.main_track(draft)
    fit_default = str((draft.get("m") or {}).get("fit") or "cover")
    background = colour((draft.get("m") or {}).get("background"), "black")
    out: list[MainSeg] = []
    for seg in sorted((main or {}).get("sg") or [], key=lambda s: int(s["st"])):
        meta = seg.get("m") or {}
        src = seg.get("src")
        info = infos.get(src) if src else None
        kind = visual_kind(main or {}, seg, info)
        path = media.get(src) if src else None
        if kind != "color" and path is None:
            raise RenderError(
                f"segment '{seg['id']}' uses media '{src}' that was not provided",
                segment_id=str(seg["id"]),
                file=str(src),
                hint="upload the file again, or remove the segment",
            )
        trans = meta.get("transition") or {}
        ttype = str(trans.get("type") or "none")
        out.append(
            MainSeg(
                id=str(seg["id"]),
                kind=kind,
                st=int(seg["st"]),
                d=int(seg["d"]),
                path=path,
                info=info,
                in_ms=int(seg.get("in") or 0),
                vol=float(seg["vol"]) if seg.get("vol") is not None else 1.0,
                speed=float(meta.get("speed") or 1.0),
                motion=str(meta.get("motion") or "none"),
                fit=str(meta.get("fit") or fit_default),
                color=colour(meta.get("color"), background) if kind == "color" else background,
                transition=ttype if ttype in TRANSITIONS else "none",
                transition_ms=int(trans.get("d", 500) or 0) if ttype in TRANSITIONS else 0,
            )
        )
    return out


def audio_segments(draft: Draft, media: Mapping[str, Path], end_ms: int) -> list[AudioSeg]:
    out: list[AudioSeg] = []
    for track in _tracks(draft):
        if track.get("tt") != 1:
            continue
        role = str(track.get("role") or "sfx")
        for seg in track.get("sg") or []:
            meta = seg.get("m") or {}
            src = seg.get("src")
            path = media.get(src) if src else None
            if path is None:
                raise RenderError(
                    f"audio segment '{seg['id']}' uses media '{src}' that was not provided",
                    segment_id=str(seg["id"]),
                    file=str(src),
                    hint="upload the file again, or remove the audio",
                )
            st = int(seg["st"])
            d = min(int(seg["d"]), end_ms - st)
            if d <= 0:
                continue
            out.append(
                AudioSeg(
                    id=str(seg["id"]),
                    role=role,
                    st=st,
                    d=d,
                    path=path,
                    in_ms=int(seg.get("in") or 0),
                    vol=float(seg["vol"]) if seg.get("vol") is not None else 1.0,
                    fade_in=int(meta.get("fade_in") or 0),
                    fade_out=int(meta.get("fade_out") or 0),
                    loop=bool(meta.get("loop")),
                    duck=meta.get("duck") is not False,
                )
            )
    return out


# ---------------------------------------------------------------- graph building


@dataclass
class _Graph:
    canvas: Canvas
    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    _n: int = 0

    def input(self, *args: str) -> int:
        self.inputs.append(list(args))
        return len(self.inputs) - 1

    def label(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def add(self, chain: str) -> None:
        self.chains.append(chain)

    def split(self, src: str, n: int, audio: bool = False) -> list[str]:
        if n == 1:
            return [src]
        outs = [self.label("s") for _ in range(n)]
        self.add(f"[{src}]{'asplit' if audio else 'split'}={n}" + "".join(f"[{o}]" for o in outs))
        return outs

    @property
    def fps(self) -> str:
        return f"{self.canvas.fps.numerator}/{self.canvas.fps.denominator}"


_TO_TV = "out_range=tv:out_color_matrix=bt709"


def _fit_chain(fit: str, w: int, h: int, bg: str, per_frame: bool) -> str:
    """Filters fitting any picture into w x h (cover crops, contain pads). ``per_frame`` = video input."""
    flags = "bilinear" if per_frame else "bicubic"
    if fit == "contain":
        return (
            f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags={flags}:{_TO_TV},"
            f"format=yuv420p,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={bg}"
        )
    return (
        f"scale={w}:{h}:force_original_aspect_ratio=increase:flags={flags}:{_TO_TV},"
        f"crop={w}:{h},format=yuv420p"
    )


def _contain_blur(g: _Graph, src: str, w: int, h: int) -> str:
    """Contain over a blurred, cover-fitted copy of itself (computed once for a still)."""
    a, b, bg, fg, out = (g.label("cb") for _ in range(5))
    sw, sh = _even(w / 8), _even(h / 8)
    g.add(f"[{src}]split=2[{a}][{b}]")
    g.add(
        f"[{a}]scale={sw}:{sh}:force_original_aspect_ratio=increase,crop={sw}:{sh},boxblur=6:2,"
        f"scale={w}:{h}:flags=bicubic:{_TO_TV},format=yuv420p[{bg}]"
    )
    g.add(
        f"[{b}]scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic:{_TO_TV},"
        f"format=yuv420p[{fg}]"
    )
    g.add(f"[{bg}][{fg}]overlay=(W-w)/2:(H-h)/2:format=yuv420[{out}]")
    return out


def _motion_filters(motion: str, w: int, h: int, margin: Fraction, span: int, first: int = 0) -> str:
    """Per-frame filters turning the fitted still (w*margin x h*margin) into a w x h moving picture
    over ``span`` frames (the segment's whole time on screen, held part included), starting at the
    segment's frame ``first`` (a chunk that begins inside the segment)."""
    n = f"(n+{first})" if first else "n"
    p = f"min(1,{n}/{max(1, span - 1)})"
    m = float(margin)
    if motion in {"zoom_in", "zoom_out"}:
        z = f"(1+{m - 1:.4f}*{p})" if motion == "zoom_in" else f"({m:.4f}-{m - 1:.4f}*{p})"
        zw, zh = f"2*trunc({w}*{z}/2+0.5)", f"2*trunc({h}*{z}/2+0.5)"
        # crop's iw/ih keep the size of the *first* frame when a per-frame scale changes it, so the
        # centring is computed from the same expressions: otherwise the zoom drifts to the top-left
        scale = f"scale=w='{zw}':h='{zh}':eval=frame:flags=bilinear"
        return f"{scale},crop={w}:{h}:'({zw}-{w})/2':'({zh}-{h})/2'"
    if motion in {"pan_left", "pan_right"}:
        x = f"(iw-{w})*{p}" if motion == "pan_right" else f"(iw-{w})*(1-{p})"
        return f"crop={w}:{h}:'{x}':(ih-{h})/2"
    if motion in {"pan_up", "pan_down"}:
        y = f"(ih-{h})*{p}" if motion == "pan_down" else f"(ih-{h})*(1-{p})"
        return f"crop={w}:{h}:(iw-{w})/2:'{y}'"
    return ""


def _lowres_for(info: MediaInfo | None, need_w: int, need_h: int) -> int:
    """JPEG DCT-domain downscale (1/2, 1/4, 1/8) that still leaves at least the needed pixels."""
    if info is None or info.codec != "mjpeg" or not info.width or not info.height:
        return 0
    k = 0
    while k < 3 and info.width >> (k + 1) >= need_w and info.height >> (k + 1) >= need_h:
        k += 1
    return k


def _still_pieces(
    g: _Graph,
    seg: MainSeg,
    source: str,
    prepared: bool,
    ranges: Sequence[tuple[int, int]],
    span: int,
    first: int,
    stop: int,
) -> list[str]:
    """The still's frames ``[first, stop)`` of its ``span``, cut into ``ranges`` (relative to ``first``)."""
    w, h = g.canvas.size
    margin = still_margin(seg)
    motion = seg.motion if seg.motion in _MOTIONS else ""
    mw, mh = _even(w * margin), _even(h * margin)
    fitted = g.label("fit")
    if prepared:
        fitted = source  # already fitted, converted and split by _main_video
    elif seg.fit == "contain_blur":
        out = _contain_blur(g, source, mw, mh)
        g.add(f"[{out}]setsar=1[{fitted}]")
    else:
        g.add(f"[{source}]{_fit_chain(seg.fit, mw, mh, seg.color, per_frame=False)},setsar=1[{fitted}]")
    # one loop and one per-frame motion per segment (each scaler instance keeps its own frame pool),
    # then cut into pieces by frame number: ``trim`` drops what a piece does not need without copying
    moving = _motion_filters(motion, w, h, margin, span, first)
    body = g.label("still")
    g.add(
        f"[{fitted}]loop=loop={stop - first - 1}:size=1,setpts=N/(FRAME_RATE*TB)"
        + (f",{moving},setsar=1" if moving else "")
        + f",format=yuv420p[{body}]"
    )
    return _cut(g, body, ranges, stop - first)


_SEEK_MARGIN = 2  # frames read before a window's first frame of a clip (the fps filter's rounding)


def _exact_seconds(value: Fraction) -> str:
    """Seconds for ffmpeg, to the microsecond (its time base), never in exponent form."""
    return f"{float(value):.6f}"


def _cut(g: _Graph, body: str, ranges: Sequence[tuple[int, int]], span: int) -> list[str]:
    """Pieces ``[a, b)`` (in frames) of a stream ``span`` frames long."""
    if len(ranges) == 1 and ranges[0] == (0, span):
        return [body]
    labels: list[str] = []
    for src, (a, b) in zip(g.split(body, len(ranges)), ranges, strict=True):
        out = g.label("p")
        g.add(f"[{src}]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[{out}]")
        labels.append(out)
    return labels


def _colour_pieces(g: _Graph, fill: str, ranges: Sequence[tuple[int, int]]) -> list[str]:
    w, h = g.canvas.size
    labels = []
    for a, b in ranges:
        out = g.label("c")
        g.add(
            f"color=c={fill}:s={w}x{h}:r={g.fps}:d=1,trim=end_frame=1,scale={_TO_TV},format=yuv420p,"
            f"loop=loop={b - a - 1}:size=1,setpts=N/(FRAME_RATE*TB),setsar=1[{out}]"
        )
        labels.append(out)
    return labels


def _atempo(speed: float) -> list[str]:
    """``atempo`` takes 0.5..2 per instance (older builds): chain as many as needed."""
    out: list[str] = []
    s = speed
    while s > 2.0:
        out.append("atempo=2")
        s /= 2
    while s < 0.5:
        out.append("atempo=0.5")
        s /= 0.5
    if abs(s - 1) > 1e-6:
        out.append(f"atempo={s:.6f}")
    return out


def _video_pieces(
    g: _Graph, seg: MainSeg, index: int, ranges: Sequence[tuple[int, int]], span: int, skip: int = 0
) -> list[str]:
    """A clip's frames ``[skip, span)`` (segment-local) cut into ``ranges`` (counted from ``skip``).

    The input is read from ``skip`` frames into the segment without an accurate seek (from the key
    frame before that point, timestamps kept), and its timestamps are put back on the segment's own
    clock: each output frame is the source frame shown at that moment, whether reading began at the
    in-point or later, so a window of the clip is exactly those frames of the whole clip. Past the
    source's end its last frame is held. Only the frames kept are fitted to the canvas.
    """
    w, h = g.canvas.size
    body = g.label("vid")
    left = span - skip
    fps = g.canvas.fps
    timing = (
        f"setpts=PTS/{seg.speed:.6f}+{skip * fps.denominator}/({fps.numerator}*TB),fps={g.fps},"
        f"tpad=stop_mode=clone:stop={span},trim=start_pts={skip},setpts=PTS-STARTPTS"
    )
    if seg.fit == "contain_blur":
        pre = g.label("vpre")
        g.add(f"[{index}:v]{timing}[{pre}]")
        fitted = _contain_blur(g, pre, w, h)
        g.add(f"[{fitted}]setsar=1,trim=end_frame={left}[{body}]")
    else:
        g.add(
            f"[{index}:v]{timing},"
            f"{_fit_chain(seg.fit, w, h, seg.color, per_frame=True)},setsar=1,trim=end_frame={left}[{body}]"
        )
    return _cut(g, body, ranges, left)


@dataclass(frozen=True)
class _Piece:
    """A stretch ``[a, b)`` of output frames: a segment's own frames, or the blend into segment ``seg``."""

    kind: str  # lead | solo | blend
    seg: int
    a: int
    b: int


@dataclass(frozen=True)
class Layout:
    """What every window of one draft's picture shares, worked out once: the main segments, the stills
    they need, and the pieces of the timeline in frames (a long draft's chunks each cost their own
    frames, not the whole draft again)."""

    segs: tuple[MainSeg, ...]
    needs: Mapping[str, StillNeed]
    end_frame: int
    background: str
    starts: tuple[int, ...]
    bounds: tuple[int, ...]
    trans: tuple[int, ...]  # each segment's blend into the next, in frames
    pieces: tuple[_Piece, ...]  # in order, contiguous from frame 0 to ``end_frame``
    piece_ends: tuple[int, ...]

    def pieces_in(self, window: tuple[int, int]) -> list[_Piece]:
        """The pieces that show frames of ``window``."""
        first = bisect.bisect_right(self.piece_ends, window[0])
        out: list[_Piece] = []
        for p in self.pieces[first:]:
            if p.a >= window[1]:
                break
            out.append(p)
        return out


def layout(draft: Draft, media: Mapping[str, Path], infos: Mapping[str, MediaInfo], canvas: Canvas) -> Layout:
    """The draft's ``Layout`` on ``canvas`` (raises ``RenderError`` for media that was not provided)."""
    end_frame = end_frame_of(draft, canvas)
    segs = main_segments(draft, media, infos)
    starts = [canvas.frames(s.st) for s in segs]
    bounds = [*starts[1:], end_frame]
    # transitions, in frames, clamped so that a blend never eats more than the next segment
    trans = [0] * len(segs)
    for i, s in enumerate(segs[:-1]):
        if s.transition != "none" and s.transition_ms > 0:
            trans[i] = max(0, min(canvas.frames(s.transition_ms), bounds[i + 1] - bounds[i]))
    pieces: list[_Piece] = []
    lead = starts[0] if segs else end_frame
    if lead > 0:
        pieces.append(_Piece("lead", -1, 0, lead))
    for i in range(len(segs)):
        length = bounds[i] - starts[i]
        head = trans[i - 1] if i > 0 else 0
        if head:
            pieces.append(_Piece("blend", i, starts[i], starts[i] + head))
        if length > head:
            pieces.append(_Piece("solo", i, starts[i] + head, starts[i] + length))
    return Layout(
        segs=tuple(segs),
        needs=_needs(segs, canvas),
        end_frame=end_frame,
        background=colour((draft.get("m") or {}).get("background"), "black"),
        starts=tuple(starts),
        bounds=tuple(bounds),
        trans=tuple(trans),
        pieces=tuple(pieces),
        piece_ends=tuple(p.b for p in pieces),
    )


def _main_video(
    g: _Graph,
    lay: Layout,
    prepared: Mapping[tuple[str, str, int, int, str], Path],
    window: tuple[int, int],
    with_audio: bool,
) -> tuple[str, list[str]]:
    """The main track's frames ``window`` as one stream of canvas frames; returns its label and the video
    clips' audio labels. Only what the window shows is built: a chunk of a long draft costs its own
    frames (plus, for a blend that starts before it, that blend's frames)."""
    cv = g.canvas
    w0, w1 = window
    segs, needs, background = lay.segs, lay.needs, lay.background
    starts, bounds, trans = lay.starts, lay.bounds, lay.trans
    plan = lay.pieces_in(window)
    # the frames each segment must give (segment-local ranges, in order): a blend's head and the previous
    # segment's tail are made whole (a transition is short); a solo stretch only inside the window
    wanted: dict[int, list[tuple[str, int, int]]] = {}
    for p in plan:
        if p.kind == "blend":
            prev = p.seg - 1
            wanted.setdefault(prev, []).append(
                ("tail", bounds[prev] - starts[prev], bounds[prev] - starts[prev] + trans[prev])
            )
            wanted.setdefault(p.seg, []).append(("head", 0, trans[p.seg - 1]))
        elif p.kind == "solo":
            wanted.setdefault(p.seg, []).append(
                ("solo", max(p.a, w0) - starts[p.seg], min(p.b, w1) - starts[p.seg])
            )
    for asked in wanted.values():
        asked.sort(key=lambda r: r[1])
    clip_audio: list[str] = []
    # each still is an input once: a prepared (fitted) raw frame, else the original file
    groups: dict[tuple[str | int, ...], list[int]] = {}
    for i in sorted(wanted):
        s = segs[i]
        if s.kind == "image" and s.path is not None:
            need = needs.get(s.id)
            key: tuple[str | int, ...] = (
                need.key if need is not None and need.key in prepared else ("file", str(s.path))
            )
            groups.setdefault(key, []).append(i)
    still_labels: dict[int, tuple[str, bool]] = {}
    for key, users in groups.items():
        if key[0] == "file":
            margin = max(still_margin(segs[u]) for u in users)
            lowres = _lowres_for(segs[users[0]].info, _even(cv.width * margin), _even(cv.height * margin))
            args = ["-framerate", g.fps, "-threads", "1"]
            if lowres:
                args += ["-lowres", str(lowres)]
            idx = g.input(*args, "-i", str(key[1]))
            labels = g.split(f"{idx}:v", len(users))
            still_labels.update({u: (lb, False) for u, lb in zip(users, labels, strict=True)})
            continue
        need = needs[segs[users[0]].id]
        idx = g.input(
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{need.width}x{need.height}"),
            *("-framerate", g.fps, "-i", str(prepared[need.key])),
        )
        converted = g.label("rgb")
        g.add(f"[{idx}:v]scale=in_range=pc:{_TO_TV},format=yuv420p,setsar=1[{converted}]")
        labels = g.split(converted, len(users))
        still_labels.update({u: (lb, True) for u, lb in zip(users, labels, strict=True)})
    made: dict[tuple[int, str], str] = {}
    for i in sorted(wanted):
        s = segs[i]
        span = bounds[i] - starts[i] + trans[i]
        parts = wanted[i]
        if s.kind == "image":
            first, stop = parts[0][1], max(b for _, _, b in parts)
            ranges = [(a - first, b - first) for _, a, b in parts]
            labels = _still_pieces(g, s, *still_labels[i], ranges, span, first, stop)
        elif s.kind == "video":
            assert s.path is not None
            stop = max(b for _, _, b in parts)
            # a window deep into a long clip starts reading the clip just before its own frames (a chunk
            # would otherwise decode and fit everything before them, chunk after chunk)
            skip = max(0, min(a for _, a, _ in parts) - _SEEK_MARGIN)
            skip_src = Fraction(skip) / cv.fps * Fraction(s.speed)  # seconds into the clip
            idx = g.input(
                *("-noaccurate_seek", "-ss", _exact_seconds(Fraction(s.in_ms, 1000) + skip_src)),
                *("-i", str(s.path)),
            )
            ranges = [(a - skip, b - skip) for _, a, b in parts]
            labels = _video_pieces(g, s, idx, ranges, stop, skip)
            if with_audio:  # the one-pass render mixes the clip's sound (a chunk and a storyboard have none)
                clip_audio += _clips_audio_only(g, [s])
        else:
            labels = _colour_pieces(g, s.color, [(a, b) for _, a, b in parts])
        made.update({(i, role): label for (role, _, _), label in zip(parts, labels, strict=True)})
    pieces: list[str] = []
    for p in plan:
        if p.kind == "lead":
            pieces += _colour_pieces(g, background, [(max(p.a, w0), min(p.b, w1))])
        elif p.kind == "solo":
            pieces.append(made[(p.seg, "solo")])
        else:
            head = p.b - p.a
            blended = g.label("x")
            kind = TRANSITIONS[segs[p.seg - 1].transition]
            g.add(
                f"[{made[(p.seg - 1, 'tail')]}][{made[(p.seg, 'head')]}]xfade=transition={kind}:"
                f"duration={seconds(float(head / cv.fps))}:offset=0,format=yuv420p[{blended}]"
            )
            if p.a < w0 or p.b > w1:
                trimmed = g.label("p")
                g.add(
                    f"[{blended}]trim=start_frame={max(0, w0 - p.a)}:end_frame={min(p.b, w1) - p.a},"
                    f"setpts=PTS-STARTPTS[{trimmed}]"
                )
                blended = trimmed
            pieces.append(blended)
    out = g.label("main")
    if len(pieces) == 1:
        g.add(f"[{pieces[0]}]null[{out}]")
    else:
        g.add("".join(f"[{p}]" for p in pieces) + f"concat=n={len(pieces)}:v=1:a=0[{out}]")
    return out, clip_audio


def _clip_audio(g: _Graph, s: MainSeg, idx: int) -> list[str]:
    """A video clip's own sound, from its input ``idx``, placed at its start (nothing when muted)."""
    has_audio = s.info is None or s.info.has_audio
    if not has_audio or s.vol <= 0:
        return []
    a = g.label("ca")
    tempo = "".join(f",{t}" for t in _atempo(s.speed))
    g.add(
        f"[{idx}:a]asetpts=PTS-STARTPTS{tempo},atrim=duration={seconds(s.d / 1000)},"
        f"volume={s.vol:.4f},adelay={s.st}:all=1[{a}]"
    )
    return [a]


def _clips_audio_only(g: _Graph, segs: Sequence[MainSeg]) -> list[str]:
    """The video clips' sound without their pictures (the sound track mixed on its own)."""
    out: list[str] = []
    for s in segs:
        if s.kind != "video" or s.path is None or (s.info is not None and not s.info.has_audio) or s.vol <= 0:
            continue
        # its own input, read from the in-point exactly (the picture's input starts at a key frame)
        span_s = Fraction(s.d, 1000) * Fraction(s.speed)
        idx = g.input(
            "-ss", seconds(s.in_ms / 1000), "-t", seconds(float(span_s) + 0.5), "-vn", "-i", str(s.path)
        )
        out += _clip_audio(g, s, idx)
    return out


def _texts(
    g: _Graph, video: str, texts: Sequence[TextOverlay], end_frame: int, window: tuple[int, int]
) -> str:
    """Each text over the frames of ``window`` it shows on (frame numbers count from the window's start)."""
    cur = video
    w0, w1 = window
    for t in sorted(texts, key=lambda t: (t.start_ms, t.segment_id)):
        a = max(g.canvas.frames(t.start_ms), w0) - w0
        b = min(end_frame, g.canvas.frames(t.end_ms), w1) - 1 - w0
        if b < a:
            continue
        idx = g.input("-i", str(t.path))
        img, out = g.label("t"), g.label("v")
        g.add(f"[{idx}:v]scale={_TO_TV},format=yuva420p[{img}]")
        g.add(f"[{cur}][{img}]overlay=x={t.x}:y={t.y}:format=yuv420:enable='between(n,{a},{b})'[{out}]")
        cur = out
    return cur


def _audio(g: _Graph, segs: Sequence[AudioSeg], clip_audio: Sequence[str], total_s: str) -> str:
    groups: dict[str, list[str]] = {"voice": [], "music": [], "other": list(clip_audio)}
    duck = False
    for s in segs:
        args = ["-stream_loop", "-1"] if s.loop else []
        if s.in_ms:
            args += ["-ss", seconds(s.in_ms / 1000)]
        idx = g.input(*args, "-vn", "-i", str(s.path))
        chain = [f"[{idx}:a]atrim=duration={seconds(s.d / 1000)}", "asetpts=PTS-STARTPTS"]
        chain.append("aformat=sample_rates=48000:channel_layouts=stereo")
        if abs(s.vol - 1) > 1e-6:
            chain.append(f"volume={s.vol:.4f}")
        if s.fade_in:
            chain.append(f"afade=t=in:d={seconds(min(s.fade_in, s.d) / 1000)}")
        if s.fade_out:
            fo = min(s.fade_out, s.d)
            chain.append(f"afade=t=out:st={seconds((s.d - fo) / 1000)}:d={seconds(fo / 1000)}")
        if s.st:
            chain.append(f"adelay={s.st}:all=1")
        out = g.label("a")
        g.add(",".join(chain) + f"[{out}]")
        group = "voice" if s.role in VOICE_ROLES else "music" if s.role in MUSIC_ROLES else "other"
        groups[group].append(out)
        duck = duck or (group == "music" and s.duck)

    def mixed(labels: list[str]) -> str | None:
        if not labels:
            return None
        if len(labels) == 1:
            return labels[0]
        out = g.label("m")
        g.add(
            "".join(f"[{x}]" for x in labels)
            + f"amix=inputs={len(labels)}:normalize=0:duration=longest[{out}]"
        )
        return out

    voice, music, other = (mixed(groups[k]) for k in ("voice", "music", "other"))
    finals: list[str] = []
    if voice and music and duck:
        v_mix, v_side, ducked = g.label("vm"), g.label("vs"), g.label("duck")
        g.add(f"[{voice}]asplit=2[{v_mix}][{v_side}]")
        # the music dips (about 12 dB) while the voice speaks, and comes back within half a second
        g.add(
            f"[{music}][{v_side}]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400:"
            f"makeup=1[{ducked}]"
        )
        finals += [v_mix, ducked]
    else:
        finals += [x for x in (voice, music) if x]
    if other:
        finals.append(other)
    out = g.label("aout")
    if not finals:
        g.add(f"anullsrc=r=48000:cl=stereo,atrim=duration={total_s}[{out}]")
        return out
    mix = mixed(finals)
    g.add(
        f"[{mix}]alimiter=limit=0.97:level=0,aformat=sample_rates=48000:channel_layouts=stereo,"
        f"apad=whole_dur={total_s},atrim=duration={total_s}[{out}]"
    )
    return out


@dataclass(frozen=True)
class Graph:
    """The compiled graph: input arguments, the graph text, and its output labels."""

    input_args: list[str]
    filter_complex: str
    video: str
    audio: str
    canvas: Canvas
    duration_s: float
    end_frame: int
    window: tuple[int, int]


def end_frame_of(draft: Draft, canvas: Canvas) -> int:
    """The number of frames of the video (the end of the timeline, in frames); an empty draft is refused."""
    end_ms = timeline.timeline_end(draft)
    if end_ms <= 0:
        raise RenderError("the draft is empty: nothing to render", hint="add media to the timeline first")
    return max(1, canvas.frames(end_ms))


def compile_graph(
    draft: Draft,
    media: Mapping[str, Path],
    infos: Mapping[str, MediaInfo],
    texts: Sequence[TextOverlay],
    canvas: Canvas,
    *,
    with_audio: bool = True,
    prepared: Mapping[tuple[str, str, int, int, str], Path] | None = None,
    window: tuple[int, int] | None = None,
    lay: Layout | None = None,
) -> Graph:
    """The draft's graph; with ``window`` (frames ``[a, b)``) only those frames, and no sound. ``lay``
    is the draft's ``layout`` when the caller compiles many windows of it."""
    lay = lay or layout(draft, media, infos, canvas)
    end_frame = lay.end_frame
    whole = (0, end_frame)
    window = window or whole
    if not 0 <= window[0] < window[1] <= end_frame:
        raise ValueError(f"window {window} is not inside the video's {end_frame} frames")
    if window != whole and with_audio:
        raise ValueError("a window of the video has no sound of its own: compile the sound whole")
    g = _Graph(canvas)
    video, clip_audio = _main_video(g, lay, prepared or {}, window, with_audio)
    video = _texts(g, video, texts, end_frame, window)
    final_v = g.label("vout")
    # ``copy`` gives the encoder frames from one pool: every upstream filter then holds only the frame
    # or two in flight, instead of each growing its own pool to the depth of the encoder's queue
    g.add(f"[{video}]format=yuv420p,copy[{final_v}]")
    total_s = seconds(float(Fraction(end_frame) / canvas.fps))
    audio = ""
    if with_audio:
        audio = _audio(g, audio_segments(draft, media, timeline.timeline_end(draft)), clip_audio, total_s)
    return Graph(
        input_args=[a for chunk in g.inputs for a in chunk],
        filter_complex=";".join(g.chains),
        video=final_v,
        audio=audio,
        canvas=canvas,
        duration_s=float(Fraction(window[1] - window[0]) / canvas.fps),
        end_frame=end_frame,
        window=window,
    )


def codec_args(settings: OutputSettings, fmt: str) -> list[str]:
    q = settings.quality
    if fmt == "webm":
        speed = "8" if settings.preview else "6"
        return [
            *("-c:v", "libvpx-vp9", "-crf", str(_VP9[q]), "-b:v", "0", "-deadline", "realtime"),
            *("-cpu-used", speed, "-row-mt", "1", "-c:a", "libopus", "-b:a", "128k"),
        ]
    if fmt == "avi":
        return [
            *("-c:v", "mpeg4", "-q:v", str(_MPEG4_Q[q]), "-vtag", "xvid"),
            *("-c:a", "libmp3lame", "-q:a", "2" if q == "high" else "4"),
        ]
    args = [*x264_args(settings), *aac_args(settings)]
    if fmt in {"mp4", "mov"}:
        args += ["-movflags", "+faststart"]
    return args


def x264_args(settings: OutputSettings) -> list[str]:
    """The H.264 encoder and its settings for ``settings`` (mp4, mov and mkv alike)."""
    crf, preset = _X264[settings.quality]
    if settings.preview:
        crf, preset = max(crf, 26), "ultrafast"
    return ["-c:v", "libx264", "-preset", settings.preset or preset, "-crf", str(crf)]


def aac_args(settings: OutputSettings) -> list[str]:
    """The AAC encoder and its settings for ``settings`` (mp4, mov and mkv alike)."""
    args = ["-c:a", "aac", "-b:a", _AAC[settings.quality]]
    if settings.preview or settings.quality != "high":
        # ffmpeg's default AAC coder ("twoloop") costs as much CPU as a third of an ultrafast 540p
        # encode; "fast" is indistinguishable at these bitrates
        args += ["-aac_coder", "fast"]
    return args


DEFAULT_SETTINGS = OutputSettings()
MUXERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm", "avi": "avi"}
QUIET = ("-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats")


def picture_args(canvas: Canvas) -> list[str]:
    """The output frame rate, pixel format and colour tags every video stream is written with."""
    return [
        *("-r", f"{canvas.fps.numerator}/{canvas.fps.denominator}", "-pix_fmt", "yuv420p"),
        *("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"),
    ]


def compile_render(
    draft: Draft,
    media: Mapping[str, Path],
    infos: Mapping[str, MediaInfo],
    texts: Sequence[TextOverlay],
    out: Path,
    settings: OutputSettings = DEFAULT_SETTINGS,
    *,
    canvas: Canvas | None = None,
    prepared: Mapping[tuple[str, str, int, int, str], Path] | None = None,
) -> Job:
    """The whole render as one ffmpeg invocation writing ``out`` (progress on stdout)."""
    canvas = canvas or output_canvas(draft, settings)
    graph = compile_graph(draft, media, infos, texts, canvas, prepared=prepared)
    argv = [
        *QUIET,
        *("-progress", "pipe:1"),
        *graph_args(graph),
        *("-map", f"[{graph.video}]", "-map", f"[{graph.audio}]"),
        *picture_args(canvas),
        *codec_args(settings, settings.format),
        *("-t", seconds(graph.duration_s)),
        *("-f", MUXERS[settings.format], str(out)),
    ]
    return Job(argv=argv, duration_s=graph.duration_s, canvas=canvas)


def compile_sound(
    draft: Draft, media: Mapping[str, Path], infos: Mapping[str, MediaInfo], canvas: Canvas
) -> Graph:
    """The sound track alone, mixed whole: the audio tracks and the video clips' own sound, exactly as
    long as the picture (``video`` is empty)."""
    end_ms = timeline.timeline_end(draft)
    end_frame = end_frame_of(draft, canvas)
    g = _Graph(canvas)
    total_s = seconds(float(Fraction(end_frame) / canvas.fps))
    clips = _clips_audio_only(g, main_segments(draft, media, infos))
    audio = _audio(g, audio_segments(draft, media, end_ms), clips, total_s)
    return Graph(
        input_args=[a for chunk in g.inputs for a in chunk],
        filter_complex=";".join(g.chains),
        video="",
        audio=audio,
        canvas=canvas,
        duration_s=float(Fraction(end_frame) / canvas.fps),
        end_frame=end_frame,
        window=(0, end_frame),
    )


def graph_args(graph: Graph) -> list[str]:
    # one filter thread: the encoder already keeps both cores busy, and each thread costs frame buffers
    return [*graph.input_args, "-filter_complex_threads", "1", "-filter_complex", graph.filter_complex]


def storyboard_times(duration_s: float, frames: int) -> list[float]:
    """Evenly spread sample times, in the middle of each of ``frames`` equal slices."""
    return [duration_s * (k + 0.5) / frames for k in range(frames)]


def compile_storyboard(
    draft: Draft,
    media: Mapping[str, Path],
    infos: Mapping[str, MediaInfo],
    texts: Sequence[TextOverlay],
    out_pattern: Path,
    canvas: Canvas,
    frames: int,
    prepared: Mapping[tuple[str, str, int, int, str], Path] | None = None,
) -> tuple[Job, list[float]]:
    """One low-resolution pass over the timeline that writes only the selected frames as PNGs."""
    graph = compile_graph(draft, media, infos, texts, canvas, with_audio=False, prepared=prepared)
    times = storyboard_times(graph.duration_s, frames)
    picks = sorted({min(graph.end_frame - 1, int(t * canvas.fps)) for t in times})
    select = "+".join(f"eq(n,{p})" for p in picks)
    sel = "sel"
    argv = [
        *("-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"),
        *graph.input_args,
        "-filter_complex",
        f"{graph.filter_complex};[{graph.video}]select='{select}'[{sel}]",
        *("-map", f"[{sel}]", "-fps_mode", "passthrough", "-f", "image2", str(out_pattern)),
    ]
    return Job(argv=argv, duration_s=graph.duration_s, canvas=canvas, has_audio=False), [
        p / float(canvas.fps) for p in picks
    ]
