"""probe(): what a file is, by content; whether audio sounds like a voice."""

from __future__ import annotations

import struct
from pathlib import Path

import anyio
import pytest

from engine.render import MediaError, probe
from engine.render._probe import NotMedia, looks_like_speech, parse_header, speech_features

from .conftest import copy_bytes, music_like, speech_like, tone, write_wav

pytestmark = pytest.mark.anyio

HEADER = (
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':\n"
    "  Duration: 00:00:02.04, start: 0.000000, bitrate: 120 kb/s\n"
    "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 160x90, "
    "50 kb/s, 25 fps, 25 tbr, 12800 tbn (default)\n"
    "  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)\n"
    "At least one output file must be specified\n"
)
MP3_WITH_COVER = """Input #0, mp3, from 'song.mp3':
  Duration: 00:03:10.50, start: 0.025057, bitrate: 192 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, stereo, fltp, 192 kb/s
  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc), 500x500, 90k tbr, 90k tbn (attached pic)
"""


def pcm(samples: list[float]) -> bytes:
    return b"".join(struct.pack("<h", int(s * 30000)) for s in samples)


def test_the_header_of_a_clip_gives_its_streams_size_fps_and_duration() -> None:
    h = parse_header(HEADER)
    assert (h.video_codec, h.audio_codec, h.width, h.height, h.fps) == ("h264", "aac", 160, 90, 25.0)
    assert h.duration_s == pytest.approx(2.04)


def test_cover_art_does_not_make_a_song_a_video() -> None:
    h = parse_header(MP3_WITH_COVER)
    assert h.video_codec is None
    assert h.cover_art
    assert h.audio_codec == "mp3"


def test_a_header_without_streams_is_not_media() -> None:
    with pytest.raises(NotMedia):
        parse_header("notes.mp4: Invalid data found when processing input\n")


def test_syllabic_bursts_with_pauses_sound_like_speech() -> None:
    features = speech_features(pcm(speech_like(8)))
    assert features is not None
    assert looks_like_speech(features) is True


def test_continuous_chords_sound_like_music() -> None:
    assert looks_like_speech(speech_features(pcm(music_like(8)))) is False


def test_a_steady_tone_is_not_speech_and_silence_is_unknown() -> None:
    assert looks_like_speech(speech_features(pcm(tone(4, 300, rate=8000)))) is False
    assert looks_like_speech(speech_features(pcm([0.0] * 8000 * 3))) is None


async def test_probe_tells_an_image_by_its_content(still: Path, tmp_path: Path) -> None:
    disguised = copy_bytes(still, tmp_path / "photo.mp4")
    with anyio.fail_after(30):
        info = await probe(disguised)
    assert (info.kind, info.width, info.height, info.has_audio) == ("image", 320, 180, False)


async def test_probe_reads_a_clip(clip: Path) -> None:
    with anyio.fail_after(30):
        info = await probe(clip)
    assert info.kind == "video"
    assert info.has_video
    assert info.has_audio
    assert (info.width, info.height, info.codec) == (160, 90, "h264")
    assert info.duration_ms is not None
    assert abs(info.duration_ms - 2000) < 100
    assert info.fps == 25.0


async def test_probe_judges_voice_and_music_files(tmp_path: Path) -> None:
    voice = write_wav(tmp_path / "voice.wav", speech_like(6), rate=8000)
    music = write_wav(tmp_path / "music.wav", music_like(6), rate=8000)
    with anyio.fail_after(60):
        v, m = await probe(voice), await probe(music)
    assert (v.kind, v.speech_like) == ("audio", True)
    assert (m.kind, m.speech_like) == ("audio", False)
    assert v.duration_ms == 6000


async def test_a_text_file_named_mp4_is_not_media(tmp_path: Path) -> None:
    fake = tmp_path / "movie.mp4"
    fake.write_text("this is not a video\n")
    with anyio.fail_after(30), pytest.raises(MediaError) as err:
        await probe(fake)
    assert "movie.mp4" in err.value.message
    assert err.value.file == str(fake)


async def test_an_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    empty = tmp_path / "song.mp3"
    empty.write_bytes(b"")
    with anyio.fail_after(30), pytest.raises(MediaError, match="empty"):
        await probe(empty)


async def test_a_truncated_image_is_reported_as_damaged(still: Path, tmp_path: Path) -> None:
    cut = copy_bytes(still, tmp_path / "cut.jpg", fraction=0.5)
    with anyio.fail_after(30), pytest.raises(MediaError, match="damaged or truncated"):
        await probe(cut)
