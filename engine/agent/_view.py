"""A read-only digest of the draft and the uploads: what the parser needs to fill slots and ask.

It reads the draft JSON defensively (any shape, never raises), so the parser can run on whatever
it is given; the applier, not this, is where the timeline's rules are enforced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.agent import _lexicon as lx
from engine.agent._plan import MainRef
from engine.agent._types import Draft, MediaRef

__all__ = ["AudioInfo", "SegInfo", "TextInfo", "View", "contains_words", "make_view", "secs"]


def secs(ms: int | float) -> str:
    """12000 → "12s", 2500 → "2.5s"."""
    return f"{round(ms / 1000, 2):g}s"


@dataclass(frozen=True)
class SegInfo:
    id: str
    kind: str
    name: str
    st: int
    d: int
    has_audio: bool
    motion: str = "none"  # a still's Ken Burns motion (zoom_in, pan_left, ...)


@dataclass(frozen=True)
class TextInfo:
    id: str
    text: str
    role: str
    st: int
    d: int

    def label(self) -> str:
        return f'"{self.text}" ({secs(self.st)}-{secs(self.st + self.d)})'


@dataclass(frozen=True)
class AudioInfo:
    role: str
    name: str
    src: str
    vol: float | None = None  # as the draft has it (None: the engine's default for the role)


@dataclass(frozen=True)
class View:
    mains: tuple[SegInfo, ...]
    texts: tuple[TextInfo, ...]
    audio: tuple[AudioInfo, ...]
    media: tuple[MediaRef, ...]
    end_ms: int
    title: str
    width: int = 1920
    height: int = 1080
    focus_kind: str | None = None  # what the last edit touched (the draft's m.focus): text | clip | audio
    focus_ids: tuple[str, ...] = ()
    focus_next: str | None = None  # the clip after the one the last edit touched (or removed)
    focus_prev: str | None = None
    focus_op: tuple[str, tuple[tuple[str, Any], ...]] | None = None  # the last clip edit, to repeat
    last_op: tuple[str, dict[str, Any]] | None = None  # the last operation of the last edit, to correct

    def texts_sorted(self) -> list[TextInfo]:
        """The texts in the order they appear (by start)."""
        return sorted(self.texts, key=lambda t: (t.st, t.id))

    def focus_texts(self) -> list[TextInfo]:
        return [t for t in self.texts if t.id in self.focus_ids] if self.focus_kind == "text" else []

    def clip_index(self, ref: MainRef) -> int | None:
        """Where one named clip stands (its place, negative from the end, or the first clip showing its
        file); None when there is no such clip or the reference is a group."""
        if ref.index is not None:
            return ref.index if -len(self.mains) <= ref.index < len(self.mains) else None
        if ref.file is not None:
            return next((i for i, s in enumerate(self.mains) if s.name == ref.file), None)
        return None

    def focus_clips(self) -> list[int]:
        """Positions (0-based) of the clips the last edit touched."""
        if self.focus_kind != "clip":
            return []
        return [i for i, s in enumerate(self.mains) if s.id in self.focus_ids]

    @property
    def empty(self) -> bool:
        return not self.mains and not self.texts and not self.audio

    def audio_role(self, role: str) -> AudioInfo | None:
        return next((a for a in self.audio if a.role == role), None)

    def media_named(self, name: str) -> MediaRef | None:
        low = name.lower()
        for m in self.media:
            if m.filename.lower() == low:
                return m
        for m in self.media:  # without extension: "music_calm"
            if m.filename.lower().rsplit(".", 1)[0] == low.rsplit(".", 1)[0]:
                return m
        return None

    def texts_matching(self, words: str) -> list[TextInfo]:
        """Texts the quoted words name: the same words, else whole words of it ("Sale" → "Summer Sale")."""
        low = " ".join(words.lower().split())
        exact = [t for t in self.texts if " ".join(t.text.lower().split()) == low]
        if exact or len(low) < 3:
            return exact
        return [t for t in self.texts if contains_words(t.text, low) or contains_words(low, t.text)]


def contains_words(text: str, part: str) -> bool:
    """Is ``part`` a run of whole words of ``text`` (case-insensitive)? CJK text: any substring."""
    hay, needle = text.lower().split(), part.lower().split()
    if not needle or len(part.strip()) < 3:
        return False
    if any(ord(ch) > 0x2E80 for ch in part):
        return part.lower().strip() in text.lower()
    return any(hay[i : i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def is_voice_like(m: MediaRef) -> bool:
    """Voice-like by file name first (voice, vo, narration, 旁白, ...), then by the probe's verdict."""
    stem = m.filename.lower().rsplit(".", 1)[0]
    parts = {p for p in _split_name(stem) if p}
    if parts & lx.VOICE_NAME_HINTS or any(h in stem for h in ("旁白", "配音", "解说", "voiceover", "narrat")):
        return True
    return bool(m.speech_like)


def _split_name(stem: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in stem:
        if ch.isalpha():
            word += ch
        else:
            if word:
                out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


def name_words(filename: str) -> list[str]:
    """music_calm-01.mp3 → ["music", "calm"]."""
    return list(_name_words(filename))


@lru_cache(maxsize=1024)
def _name_words(filename: str) -> tuple[str, ...]:
    return tuple(_split_name(filename.lower().rsplit(".", 1)[0]))


_GENERIC_NAME_WORDS = frozenset(
    {
        "music",
        "track",
        "song",
        "audio",
        "bgm",
        "the",
        "a",
        "background",
        "sound",
        "file",
        "mp3",
        "wav",
        "instead",
        "as",
        "use",
        "with",
        "for",
        "to",
        "swap",
        "change",
    }
)


def pick_audio(
    pool: Sequence[MediaRef],
    words: set[str] | frozenset[str],
    file: str | None = None,
    mood: str | None = None,
) -> MediaRef | None:
    """The one way music (or a voiceover) is picked from what was said, for a generation and an edit:
    the file named, else a word of a file's name ("the calm track"), else a mood word of the message
    that a file's name shares, else the mood of the video; None when nothing says which."""
    if file is not None:
        hit = next((m for m in pool if m.filename.lower() == file.lower()), None)
        if hit is not None:
            return hit
    wanted = set(words) - _GENERIC_NAME_WORDS
    for m in pool:
        if wanted & set(name_words(m.filename)):
            return m
    for group in lx.MUSIC_MOODS:
        if wanted & group:
            for m in pool:
                if group & set(name_words(m.filename)):
                    return m
    mood_group = {"energetic": lx.MUSIC_MOODS[0], "calm": lx.MUSIC_MOODS[1]}.get(mood or "")
    if mood_group is not None:
        for m in pool:
            if mood_group & set(name_words(m.filename)):
                return m
    return None


def _int(v: Any, default: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return default
    return int(v)


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def make_view(draft: Draft | None, media: Sequence[MediaRef]) -> View:
    names = {m.id: m.filename for m in media}
    tracks = [t for t in (draft or {}).get("t", []) if isinstance(t, dict)] if isinstance(draft, dict) else []
    main = next((t for t in tracks if t.get("role") == "main"), None) or next(
        (t for t in tracks if t.get("tt") == 0), None
    )
    mains: list[SegInfo] = []
    texts: list[TextInfo] = []
    audio: list[AudioInfo] = []
    if main is not None:
        for s in main.get("sg", []) or []:
            if not isinstance(s, dict):
                continue
            m = _dict(s.get("m"))
            src = str(s.get("src", ""))
            kind = str(m.get("kind") or ("video" if "source_d" in m else "image"))
            name = str(m.get("name") or names.get(src, src))
            mains.append(
                SegInfo(
                    str(s.get("id", "")),
                    kind,
                    name,
                    _int(s.get("st")),
                    _int(s.get("d")),
                    bool(m.get("has_audio", kind == "video")),
                    str(m.get("motion") or "none"),
                )
            )
    for t in tracks:
        sg = [s for s in (t.get("sg", []) or []) if isinstance(s, dict)]
        if t.get("tt") == 7:
            role = str(t.get("role") or "caption")
            texts += [
                TextInfo(
                    str(s.get("id", "")), str(s.get("text", "")), role, _int(s.get("st")), _int(s.get("d"))
                )
                for s in sg
            ]
        elif t.get("tt") == 1 and sg:
            s = sg[0]
            src = str(s.get("src", ""))
            audio.append(
                AudioInfo(
                    str(t.get("role", "")),
                    str(_dict(s.get("m")).get("name") or names.get(src, src)),
                    src,
                    float(s["vol"]) if isinstance(s.get("vol"), int | float) else None,
                )
            )
    texts.sort(key=lambda x: (x.st, x.id))
    end = max((s.st + s.d for s in mains), default=0)
    if not mains:
        end = max([t.st + t.d for t in texts], default=0)
    meta = _dict(draft.get("m")) if isinstance(draft, dict) else {}
    size = (_int(meta.get("width"), 1920), _int(meta.get("height"), 1080))
    focus = _dict(meta.get("focus"))
    ids = focus.get("ids")
    return View(
        tuple(mains),
        tuple(texts),
        tuple(audio),
        tuple(media),
        end,
        str(meta.get("title", "")),
        *size,
        focus_kind=str(focus["kind"]) if isinstance(focus.get("kind"), str) else None,
        focus_ids=tuple(str(i) for i in ids) if isinstance(ids, list) else (),
        focus_next=str(focus["next"]) if isinstance(focus.get("next"), str) else None,
        focus_prev=str(focus["prev"]) if isinstance(focus.get("prev"), str) else None,
        focus_op=_focus_op(focus.get("op")),
        last_op=_last_op(focus.get("last")),
    )


def _last_op(value: object) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    args = value.get("args")
    return value["name"], dict(args) if isinstance(args, dict) else {}


def _focus_op(value: object) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    args = value.get("args")
    return value["name"], tuple(sorted(args.items())) if isinstance(args, dict) else ()
