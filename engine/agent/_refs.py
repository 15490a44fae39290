"""Slot fillers for targets: which clips, which texts, which upload, where to.

Each function reads one clause (and the draft's digest) and returns symbolic references; the
applier resolves them against the draft when the operation runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from engine.agent import _lexicon as lx
from engine.agent._clause import Clause, unquoted_text
from engine.agent._lexer import Kind, Tok
from engine.agent._plan import MainRef, TextRef
from engine.agent._types import MediaRef
from engine.agent._view import TextInfo, View, is_voice_like, name_words, pick_audio

__all__ = [
    "Destination",
    "audio_choice",
    "destination",
    "generic_clip",
    "main_refs",
    "text_ref",
]

_SKIP = frozenset(
    {
        "the",
        "a",
        "an",
        "and",
        ",",
        "&",
        "or",
        "this",
        "that",
        "these",
        "those",
        "my",
        "our",
        "both",
        "video",
        "two",
        "three",
        "clip's",
        "very",
        "last",
        "#",
        "number",
        "no",
        "to",
    }
)
_PLURAL_IMAGES = frozenset({"images", "photos", "pictures", "pics", "stills", "slides"})
_PLURAL_CLIPS = frozenset({"clips", "shots", "scenes", "segments", "parts", "ones"})
_ALL = frozenset({"all", "every", "each", "everything"})
_NOUN_GROUPS = ("clip", "text", "title", "music", "voiceover", "transition")


def _noun_group(t: Tok) -> str | None:
    if t.kind is not Kind.WORD:
        return None
    concepts = lx.concepts_of(t.norm)
    for g in _NOUN_GROUPS:
        if g in concepts:
            return g
    if "intro" in concepts or "outro" in concepts:
        return "clip"
    return None


def _ordinal_noun(toks: Sequence[Tok], i: int) -> str | None:
    """The noun an ordinal at i belongs to ("the second clip" → clip), looking ahead a few tokens."""
    j = i + 1
    while j < len(toks) and j <= i + 5:
        t = toks[j]
        group = _noun_group(t)
        if group is not None:
            return group
        if (
            t.kind in (Kind.ORD, Kind.NUM)
            or (t.kind is Kind.WORD and t.norm in _SKIP)
            or (t.kind is Kind.PUNCT and t.norm in ",&")
        ):
            j += 1
            continue
        return None
    return None


def ordinal_run(first: int, count: int) -> range:
    """The places ``count`` items from an ordinal span: "the first three" → 0, 1, 2; "the last two"
    → -2, -1 (negative: from the end)."""
    return range(first - count + 1, first + 1) if first < 0 else range(first, first + count)


def text_ordinals(c: Clause) -> list[int]:
    """The ordinals said of texts ("the second and third captions" → [1, 2], "the last two captions"
    → [-2, -1]; negative: from the end)."""
    out: list[int] = []
    toks = c.toks
    for i, t in enumerate(toks):
        if t.kind is not Kind.ORD or _ordinal_noun(toks, i) not in ("text", "title"):
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        first = int(t.value)
        if nxt is not None and nxt.kind is Kind.NUM and 2 <= nxt.value <= 20 and first in (0, -1):
            out += ordinal_run(first, int(nxt.value))
        else:
            out.append(first)
    return out


def _clip_stem_match(t: Tok, v: View) -> str | None:
    named = t.kind is Kind.WORD and ("_" in t.norm or any(ch.isdigit() for ch in t.norm))
    if t.kind is Kind.FILE or t.kind is Kind.QUOTE or named:
        name = t.norm
    else:
        return None
    low = name.lower()
    for s in v.mains:
        if s.name.lower() == low or s.name.lower().rsplit(".", 1)[0] == low.rsplit(".", 1)[0]:
            return s.name
    return None


def main_refs(c: Clause, v: View) -> list[tuple[int, MainRef]]:
    """References to main-track segments, with the token index where each was said."""
    toks = c.toks
    out: list[tuple[int, MainRef]] = []
    consumed: set[int] = set()
    for i, t in enumerate(toks):
        if i in consumed:
            continue
        if t.kind is Kind.ORD:
            noun = _ordinal_noun(toks, i)
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if noun == "clip" and nxt is not None and nxt.kind is Kind.NUM and 2 <= nxt.value <= 50:
                # "the last two clips" / "the first 3 images"
                n = int(nxt.value)
                first = int(t.value)
                span = range(-n, 0) if first < 0 else range(first, first + n)
                out += [(i, MainRef(index=k)) for k in span]
                consumed.add(i + 1)
                continue
            if nxt is not None and nxt.kind is Kind.DUR:
                continue  # "the first 2 seconds": a stretch of time, not a clip
            if noun == "clip" or (noun is None and _bare_ordinal_is_clip(c, i)):
                out.append((i, MainRef(index=int(t.value))))
            continue
        if (
            t.is_word("number", "no", "nr", "num")
            and i + 1 < len(toks)
            and toks[i + 1].kind is Kind.NUM
            and not c.has("text", "title", "music", "voiceover", "clip")
        ):
            out.append((i, MainRef(index=int(toks[i + 1].value) - 1)))  # "remove number 3"
            consumed.add(i + 1)
            continue
        if t.is_word("clip_audio") and not out:
            out.append((i, MainRef(every="video")))  # "the original audio": every clip's own sound
            continue
        if t.kind is Kind.WORD and t.norm in lx.CONCEPTS["intro"] and t.norm != "start":
            out.append((i, MainRef(index=0)))
            continue
        if t.kind is Kind.WORD and t.norm in lx.CONCEPTS["outro"] and t.norm != "end":
            out.append((i, MainRef(index=-1)))
            continue
        if (name := _clip_stem_match(t, v)) is not None:
            out.append((i, MainRef(file=name)))
            continue
        if names := _clip_words_match(toks, i, v):
            out += [(i, MainRef(file=name)) for name in names]
            if (shot := _shot_noun_after(toks, i)) is not None:
                consumed.add(shot)  # "the lifestyle photos": the noun names those clips, not all
            continue
        if (found := _content_match(toks, i, v)) is not None:
            names, noun_at = found
            out += [(i, MainRef(file=name)) for name in names]
            consumed.add(noun_at)
            continue
        middle = _shot_noun_after(toks, i) if t.is_word("middle") else None
        if middle is not None and len(v.mains) % 2:
            out.append((i, MainRef(index=len(v.mains) // 2)))  # "the middle image" (an odd count)
            consumed.add(middle)
            continue
        if (
            t.kind is Kind.WORD
            and "clip" in lx.concepts_of(t.norm)
            and t.norm not in ("one", "ones", "part", "parts")
        ):
            nums = _numbers_after(toks, i + 1)
            for j, n in nums:
                consumed.add(j)
                out.append((j, MainRef(index=n - 1)))
            if not nums and _is_every(toks, i):
                images = t.norm in _PLURAL_IMAGES or t.norm in ("image", "photo", "picture")
                kind: Literal["all", "image"] = "image" if images else "all"
                out.append((i, MainRef(every=kind)))
    return out


SHOT_NOUNS = frozenset(
    {
        "shot",
        "shots",
        "photo",
        "photos",
        "image",
        "images",
        "picture",
        "pictures",
        "pic",
        "pics",
        "clip",
        "clips",
        "scene",
        "scenes",
        "view",
        "views",
        "slide",
        "slides",
        "still",
        "stills",
        "one",
        "ones",
        "angle",
        "frame",
        "footage",
        "video",
    }
)
_PLURAL_SHOTS = frozenset(w for w in SHOT_NOUNS if w.endswith("s") and w != "footage")


def _shot_noun_after(toks: Sequence[Tok], i: int) -> int | None:
    """The index of a shot noun right after token i (one word may sit between: "side view shot")."""
    for j in (i + 1, i + 2):
        if j < len(toks) and toks[j].kind is Kind.WORD and toks[j].norm in SHOT_NOUNS:
            return j
        if j < len(toks) and toks[j].kind is not Kind.WORD:
            return None
    return None


def _content_match(toks: Sequence[Tok], i: int, v: View) -> tuple[list[str], int] | None:
    """ "the detail shot", "the side view", "the front one", "the lifestyle photos": a word of the file
    names followed by a shot noun. One clip has it: that clip; several: all of them when the noun is
    plural ("the lifestyle photos"), else nothing (the caller asks)."""
    t = toks[i]
    if t.kind is not Kind.WORD or t.norm in _SKIP or t.norm in SHOT_NOUNS or len(t.norm) < 2:
        return None
    noun = _shot_noun_after(toks, i)
    if noun is None:
        return None
    names = list(dict.fromkeys(s.name for s in v.mains if t.norm in name_words(s.name)))
    if not names:
        return None
    if len(names) == 1 or toks[noun].norm in _PLURAL_SHOTS:
        return names, noun
    return None


def _says(t: Tok, word: str) -> bool:
    """The token is that word of a file name ("lifestyle 2": the number too)."""
    if t.kind is Kind.WORD:
        return t.norm == word
    return t.kind is Kind.NUM and word.isdigit() and t.value == int(word)


def _clip_words_match(toks: Sequence[Tok], i: int, v: View) -> list[str]:
    """ "the product detail shot": the words of one clip's file name, said in order ("the lifestyle
    images": every clip whose name starts so, when the noun after them is plural)."""
    hits: list[str] = []
    if toks[i].kind is not Kind.WORD:
        return []
    first = toks[i].norm
    for s in v.mains:
        words = name_words(s.name)
        if not words or words[0] != first:
            continue
        if len(words) < 2 and not (words and len(words[0]) > 3):
            continue
        window = toks[i : i + len(words)]
        if len(window) == len(words) and all(_says(w, x) for w, x in zip(window, words, strict=True)):
            hits.append(s.name)
    names = list(dict.fromkeys(hits))
    if len(names) <= 1:
        return names
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if nxt is not None and nxt.kind is Kind.NUM and nxt.value == int(nxt.value):
        # "lifestyle 2": the one whose name carries that number (lifestyle_2.jpg)
        numbered = [n for n in names if str(int(nxt.value)) in re.split(r"[_\-\s.]+", n.rsplit(".", 1)[0])]
        if len(numbered) == 1:
            return numbered
    after = [t.norm for t in toks[i + 1 : i + 4] if t.kind is Kind.WORD]
    return names if any(w in _PLURAL_IMAGES or w in _PLURAL_CLIPS for w in after) else []


def _is_every(toks: Sequence[Tok], i: int) -> bool:
    t = toks[i]
    if any(x.kind in (Kind.NUM, Kind.ORD) for x in toks[max(0, i - 2) : i]):
        return False
    prev = [x.norm for x in toks[max(0, i - 3) : i] if x.kind is Kind.WORD]
    if any(p in _ALL for p in prev):
        return True
    if t.norm in _PLURAL_IMAGES or t.norm in _PLURAL_CLIPS:
        # "the images" (not "clips 1 and 2", not "both clips", not "the two clips")
        return not any(p in ("both", "two", "three", "these", "those") for p in prev)
    return False


def _numbers_after(toks: Sequence[Tok], j: int) -> list[tuple[int, int]]:
    """clip 3 / clips 1 and 2 / clip #3 / clip number 3 / clips 1, 2, 3."""
    out: list[tuple[int, int]] = []
    while j < len(toks):
        t = toks[j]
        if t.kind is Kind.NUM and t.value == int(t.value) and 1 <= t.value <= 999:
            out.append((j, int(t.value)))
            j += 1
            continue
        if (t.kind is Kind.PUNCT and t.norm in ",#&") or t.is_word(
            "and", "number", "no", "nr", "num", "or", "&"
        ):
            j += 1
            continue
        break
    return out


def _bare_ordinal_is_clip(c: Clause, i: int) -> bool:
    """ "remove the second" / "the first one": an ordinal with no noun, in a clause about clips."""
    prev = c.toks[i - 1] if i > 0 else None
    if prev is not None and prev.kind is Kind.WORD and prev.norm in ("to", "after", "before", "as"):
        return False  # a destination ("move it to the first")
    if c.has("text", "title", "music", "voiceover", "transition"):
        return False
    return prev is None or prev.is_word(
        "the", "第", "remove", "delete", "drop", "duplicate", "mute", "split", "trim"
    )


def generic_clip(c: Clause) -> bool:
    """The clause names a clip without saying which ("remove the clip")."""
    return any(
        t.kind is Kind.WORD
        and t.norm in ("clip", "image", "photo", "picture", "shot", "scene", "segment", "slide", "pic")
        for t in c.toks
    )


# ---------------------------------------------------------------------------------------------
# destinations (move)


@dataclass(frozen=True)
class Destination:
    index: int | None = None  # 0 start, -1 end, else a position
    after: MainRef | None = None
    before: MainRef | None = None


def destination(c: Clause, v: View, after_pos: int) -> Destination | None:
    toks = c.toks
    for k in range(after_pos + 1, len(toks)):
        t = toks[k]
        if t.is_word("to_end", "at_end", "end", "back"):
            return Destination(index=-1)
        if t.is_word("to_start", "at_start", "start", "beginning", "front"):
            return Destination(index=0)
        if t.is_word("after", "before", "behind", "between"):
            nearby = Clause(toks[k + 1 : k + 9], c.source)  # "after clip 3": the clip is named right after
            refs = [r for p, r in main_refs(nearby, v) if p >= 0]
            if refs:
                return (
                    Destination(after=refs[0])
                    if t.norm in ("after", "behind", "between")
                    else Destination(before=refs[0])
                )
        if t.kind is Kind.ORD and _ordinal_noun(toks, k) in (None, "clip"):
            return Destination(index=int(t.value))
        after_to = k > 0 and toks[k - 1].is_word("to", "position", "place", "spot", "slot")
        if t.kind is Kind.NUM and after_to and t.value == int(t.value) and t.value >= 1:
            return Destination(index=int(t.value) - 1)
    return None


# ---------------------------------------------------------------------------------------------
# texts


@dataclass(frozen=True)
class TextChoice:
    ref: TextRef | None  # None: the clause does not say which, and there are several
    options: tuple[TextInfo, ...] = ()


def text_ref(c: Clause, v: View, *, role_hint: str | None = None) -> TextChoice:
    """Which text a clause means: by its words, by ordinal, by time, by role, or the only one."""
    for q in c.quotes:
        if v.texts_matching(q):
            return TextChoice(TextRef(contains=q))
    said = unquoted_text(c)  # "the text that says Lifestyle"
    if said and len(v.texts_matching(said)) == 1:
        return TextChoice(TextRef(contains=v.texts_matching(said)[0].text))
    named = _texts_named(c, v)  # "remove the Lifestyle caption"
    if len(named) == 1:
        return TextChoice(TextRef(contains=named[0].text))
    toks = c.toks
    for i, t in enumerate(toks):
        if t.kind is Kind.ORD and _ordinal_noun(toks, i) in ("text", "title"):
            return TextChoice(TextRef(index=int(t.value)))
    words = set(c.words)
    plural = bool(words & {"texts", "captions", "overlays", "subtitles", "titles", "words", "labels"})
    if plural or (words & _ALL and c.has("text", "title")):
        group: Literal["title", "caption"] | None = None  # "the captions": not the title
        if words & {"captions", "subtitles", "overlays", "caption", "subtitle", "overlay"}:
            group = "caption"
        elif words & {"titles", "title"} and not words & {"texts", "text", "words"}:
            group = "title"
        return TextChoice(TextRef(every=True, role=group))
    role = "title" if c.has("title") else ("caption" if c.has("caption") else role_hint)
    pool = [t for t in v.texts if role is None or t.role == role or (role == "caption" and t.role != "title")]
    on_clip = _text_on_clip(c, v, pool)  # "the caption on the second photo"
    if on_clip is not None:
        return TextChoice(TextRef(contains=on_clip.text))
    if role == "title" and not pool:
        pool = [t for t in v.texts if t.st == 0] or list(v.texts)
    at = c.times.at
    if at is not None:
        hits = [t for t in pool if t.st <= at < t.st + t.d] or [t for t in v.texts if t.st <= at < t.st + t.d]
        if not hits:  # "the caption at 6 seconds" when it starts at 6.3s
            near = sorted((abs(t.st - at), t.st, t.text) for t in pool or v.texts if abs(t.st - at) <= 1000)
            hits = [t for t in v.texts if near and t.text == near[0][2]]
        if len(hits) == 1:
            return TextChoice(TextRef(contains=hits[0].text))
    if len(pool) == 1:
        return TextChoice(TextRef(contains=pool[0].text))
    if role == "title" and pool:
        return TextChoice(TextRef(role="title")) if len(pool) == 1 else TextChoice(None, tuple(pool))
    return TextChoice(None, tuple(pool or v.texts))


def _text_on_clip(c: Clause, v: View, pool: Sequence[TextInfo]) -> TextInfo | None:
    """The one text of ``pool`` shown over the one clip the clause names after "on"/"over"/"during"."""
    toks = c.toks
    for i, t in enumerate(toks):
        if not t.is_word("on", "over", "during", "for", "of"):
            continue
        places = [r.index for p, r in main_refs(c, v) if p > i and r.every is None and r.index is not None]
        if len(places) != 1 or not -len(v.mains) <= places[0] < len(v.mains):
            return None
        clip = v.mains[places[0]]
        shown = [x for x in pool if x.st < clip.st + clip.d and x.st + x.d > clip.st]
        return shown[0] if len(shown) == 1 else None
    return None


def _texts_named(c: Clause, v: View) -> list[TextInfo]:
    """Texts whose words the clause says in order, unquoted ("the Lifestyle caption"); the longest win."""
    said = [t.norm for t in c.toks if t.kind is Kind.WORD]
    hits: list[tuple[int, TextInfo]] = []
    for t in v.texts:
        words = t.text.lower().split()
        if not words or (len(words) == 1 and len(words[0]) < 4):
            continue
        for i in range(len(said) - len(words) + 1):
            after = said[i + len(words)] if i + len(words) < len(said) else ""
            # "the product side shot" names the clip the caption is about, not the caption
            if said[i : i + len(words)] == words and "clip" not in lx.concepts_of(after):
                hits.append((len(words), t))
                break
    longest = max((n for n, _ in hits), default=0)
    return [t for n, t in hits if n == longest]


# ---------------------------------------------------------------------------------------------
# uploads


def audio_choice(c: Clause, v: View, role: str) -> MediaRef | None:
    """The audio upload a clause names: by file name, else by words of its name ("the calm track")."""
    for f in c.files:
        m = v.media_named(f)
        if m is not None and m.kind in ("audio", "video"):
            return m
    audios = [m for m in v.media if m.kind == "audio"]
    pool = [m for m in audios if is_voice_like(m) == (role == "voiceover")] or audios
    return pick_audio(pool, set(c.words))


def unused_audio(v: View, role: str) -> MediaRef | None:
    """An audio upload for ``role`` that the draft does not play yet (the first, in upload order)."""
    playing = {a.src for a in v.audio}
    pool = [m for m in v.media if m.kind == "audio" and is_voice_like(m) == (role == "voiceover")]
    return next((m for m in pool if m.id not in playing), None) or (pool[0] if pool else None)
