"""Pure readers: what ``ffmpeg -i`` says about a file, and whether audio sounds like a voice.

No ffprobe ships with the ffmpeg wheel, so the header that ``ffmpeg -i`` prints is parsed instead.
"""

from __future__ import annotations

import cmath
import math
import re
from array import array
from dataclasses import dataclass

from ._types import MediaInfo

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_INPUT = re.compile(r"^Input #0, ([^,\s]+(?:,[^,\s]+)*), from", re.M)
_STREAM = re.compile(
    r"^\s*Stream #0:\d+(?:\[\w+\])?(?:\(\w+\))?: (Video|Audio|Subtitle|Data|Attachment): (.*)$", re.M
)
_SIZE = re.compile(r"(?<![\dx])(\d{2,5})x(\d{2,5})(?![\dx])")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:fps|tbr)")
_IMAGE_FORMATS = ("image2", "_pipe", "png", "webp", "bmp")
_IMAGE_CODECS = {"mjpeg", "png", "webp", "bmp", "tiff", "jpegls", "jpeg2000", "jpegxl", "gif", "qoi"}


@dataclass(frozen=True)
class Header:
    format: str
    duration_s: float | None
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    audio_codec: str | None
    cover_art: bool


class NotMedia(ValueError):
    """The header names no audio or video stream: not a media file ffmpeg can read."""


def parse_header(text: str) -> Header:
    m_in = _INPUT.search(text)
    if not m_in:
        raise NotMedia(_last_error(text) or "ffmpeg could not read the file")
    duration: float | None = None
    m_dur = _DURATION.search(text)
    if m_dur:
        h, m, s = m_dur.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    video_codec = audio_codec = None
    width = height = None
    fps: float | None = None
    cover_art = False
    for kind, rest in _STREAM.findall(text):
        codec = rest.split(",")[0].split()[0].strip() if rest.strip() else None
        if kind == "Video" and video_codec is None:
            if "(attached pic)" in rest:
                cover_art = True
                continue
            video_codec = codec
            m_size = _SIZE.search(rest)
            if m_size:
                width, height = int(m_size.group(1)), int(m_size.group(2))
            m_fps = _FPS.search(rest)
            if m_fps:
                fps = float(m_fps.group(1))
        elif kind == "Audio" and audio_codec is None:
            audio_codec = codec
    if video_codec is None and audio_codec is None:
        raise NotMedia(_last_error(text) or "no audio or video stream in the file")
    return Header(m_in.group(1), duration, video_codec, width, height, fps, audio_codec, cover_art)


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return next((ln for ln in reversed(lines) if "output file" not in ln.lower()), "")


def is_still(header: Header) -> bool:
    if header.video_codec is None or header.audio_codec is not None:
        return False
    if any(key in header.format for key in _IMAGE_FORMATS):
        return header.video_codec != "gif" or (header.duration_s or 0) < 0.1
    return header.video_codec in _IMAGE_CODECS and (header.duration_s is None or header.duration_s < 0.1)


def media_info(header: Header, speech_like: bool | None = None) -> MediaInfo:
    if is_still(header):
        return MediaInfo(
            "image", None, header.width, header.height, None, False, True, header.video_codec, None
        )
    dur = None if header.duration_s is None else round(header.duration_s * 1000)
    if header.video_codec is None:
        return MediaInfo("audio", dur, None, None, None, True, False, header.audio_codec, speech_like)
    return MediaInfo(
        "video",
        dur,
        header.width,
        header.height,
        header.fps,
        header.audio_codec is not None,
        True,
        header.video_codec,
        None,
    )


# ---------------------------------------------------------------- voice or music?

SPEECH_RATE = 8000  # Hz, mono s16le: enough for the energy envelope
_FRAME = 160  # 20 ms


@dataclass(frozen=True)
class SpeechFeatures:
    active_s: float  # seconds of signal above the silence floor
    gap_rate: float  # near-silent gaps (>= 60 ms) per second of signal
    quiet_fraction: float  # share of 20 ms frames far below the loud level
    syllabic: float  # share of envelope modulation energy in 2.5-8 Hz (of 0.5-20 Hz)


def speech_features(pcm: bytes) -> SpeechFeatures | None:
    """Energy-envelope features of 8 kHz mono s16le audio; ``None`` when it is (nearly) silent or short."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    n_frames = len(samples) // _FRAME
    if n_frames < 50:  # under a second
        return None
    energies = []
    for k in range(n_frames):
        chunk = samples[k * _FRAME : (k + 1) * _FRAME]
        energies.append(sum(x * x for x in chunk) / _FRAME + 1.0)
    levels = [10 * math.log10(e) for e in energies]
    loud = sorted(levels)[int(len(levels) * 0.95)]
    if loud < 30:  # about -60 dBFS: silence
        return None
    quiet = [lv < loud - 25 for lv in levels]
    # only runs of quiet frames between sounds count as gaps (not a silent lead-in or tail)
    first = next(i for i, q in enumerate(quiet) if not q)
    last = len(quiet) - next(i for i, q in enumerate(reversed(quiet)) if not q)
    body = quiet[first:last]
    gaps, run = 0, 0
    for q in body:
        if q:
            run += 1
        else:
            gaps += run >= 3
            run = 0
    seconds_ = max(1e-9, len(body) * _FRAME / SPEECH_RATE)
    env = [math.sqrt(e) for e in energies[first:last]]
    return SpeechFeatures(
        active_s=seconds_,
        gap_rate=gaps / seconds_,
        quiet_fraction=sum(body) / max(1, len(body)),
        syllabic=_band_share(env, rate=SPEECH_RATE / _FRAME),
    )


def _band_share(env: list[float], *, rate: float) -> float:
    n = len(env)
    if n < 16:
        return 0.0
    mean = sum(env) / n
    centred = [e - mean for e in env]
    step = rate / n

    def power(f: float) -> float:
        w = -2j * math.pi * f / rate
        return abs(sum(c * cmath.exp(w * i) for i, c in enumerate(centred))) ** 2

    freqs = [k * step for k in range(1, n // 2) if 0.5 <= k * step <= 20]
    if len(freqs) > 120:  # a bounded number of bins keeps this O(n) per bin and fast
        freqs = [0.5 + 19.5 * i / 119 for i in range(120)]
    powers = [(f, power(f)) for f in freqs]
    total = sum(p for _, p in powers) or 1.0
    return sum(p for f, p in powers if 2.5 <= f <= 8) / total


def looks_like_speech(features: SpeechFeatures | None) -> bool | None:
    """Speech: frequent short silences between words and a syllable-rate (3-6 Hz) loudness wobble.
    Music: continuous, rarely far below its loud level."""
    if features is None:
        return None
    return features.gap_rate >= 0.4 and 0.05 <= features.quiet_fraction <= 0.8 and features.syllabic >= 0.25
