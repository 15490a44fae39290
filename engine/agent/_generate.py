"""Generation: a description plus the uploads → a spec → a complete first draft's plan (pure).

``read_spec`` fills a ``GenSpec`` from the message (kind, length, canvas, title, overlays, mood, music
wishes); ``plan_generation`` lays the uploads out over the length: stills share it (with motion and
crossfades), clips are trimmed to fit in upload order, and with no uploads the words go on colour
cards. The applier turns the plan into timeline operations in two stages, as the cloud does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.agent import _lexicon as lx
from engine.agent._clause import Clause, unquoted_text
from engine.agent._lexer import Kind
from engine.agent._plan import GenSpec
from engine.agent._types import MediaRef
from engine.agent._view import is_voice_like, name_words, pick_audio, secs

__all__ = [
    "GenPlan",
    "TextItem",
    "VisualItem",
    "card_words",
    "has_visuals",
    "plan_generation",
    "read_spec",
    "wants_generation",
]


def _ws(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KIND_WORDS = {
    "promo": _ws(
        "promo promotional promotion ad advert advertisement commercial showcase product sale teaser"
    ),
    "tutorial": _ws("tutorial walkthrough how-to guide demo explainer lesson instructions"),
    "reel": _ws("reel reels story stories tiktok shorts social instagram"),
    "slideshow": _ws("slideshow slide-show montage gallery collage"),
}
_VIDEO_WORDS = _ws(
    "video videos movie film clip reel promo slideshow montage tutorial walkthrough teaser "
    "trailer story ad commercial showcase recap highlight highlights compilation"
)
_TITLE_MARKERS = ("titled", "called", "named", "title")
_STOP = _ws("with and for using in at that which from set to on featuring plus but over by")
_GENERIC_NAME = _ws(
    "img image photo pic picture clip video vid file untitled screenshot copy final dsc mov "
    "edit export frame still shot scene"
)
MIN_SEG_MS = 300
SHORT_MS = 15000  # "a short promo"
_CARD_COLORS = {
    "energetic": ("#ff5a36", "#1b1b3a"),
    "calm": ("#1f3b4d", "#2f4f4f"),
    "neutral": ("#222831", "#393e46"),
}


def wants_generation(c: Clause) -> bool:
    """Does the message ask for a video to be made (a verb of making, a kind of video, or "I want a
    YouTube intro")?"""
    wish = c.has_word("want", "need", "like", "wanna", "love") and (
        c.has("aspect") or c.has_word("intro", "outro", "card", "ad")
    )
    return c.has("generate") or bool(set(c.words) & _VIDEO_WORDS) or wish


def _title(c: Clause) -> str | None:
    toks = c.toks
    for i, t in enumerate(toks):
        if t.kind is Kind.WORD and t.norm in _TITLE_MARKERS and i + 1 < len(toks):
            start = i + 1
            if t.norm == "title":  # "title: Summer Sale", "the title is Summer Sale"
                if toks[start].kind is Kind.PUNCT and toks[start].norm == ",":
                    start += 1
                elif toks[start].is_word("is", "should", "will"):
                    start += 2 if start + 1 < len(toks) and toks[start + 1].is_word("be") else 1
                elif toks[start].kind is not Kind.QUOTE and not (
                    i > 0 and toks[i - 1].is_word("the") and toks[start].kind is Kind.WORD
                ):
                    continue  # "the title Aurora" names it; "a title" alone does not
            if start >= len(toks):
                continue
            nxt = toks[start]
            if nxt.kind is Kind.QUOTE:
                return nxt.norm
            words = []
            for x in toks[start:]:
                if x.kind is not Kind.WORD or x.norm in _STOP:
                    break
                words.append(x)
            if words:
                return c.source[words[0].start : words[-1].end]
    return None


_STRONG_TOPIC = ("about", "introducing", "announcing", "presenting", "launching")


def _topic(c: Clause, markers: tuple[str, ...] = ("about", "for", "of", *_STRONG_TOPIC[1:])) -> str | None:
    """What the video is about: the words after "about" / "for" / "introducing" (not a platform)."""
    toks = c.toks
    for i, t in enumerate(toks):
        if t.is_word(*markers):
            words = []
            for x in toks[i + 1 :]:
                if (
                    x.kind is not Kind.WORD
                    or x.norm in _STOP
                    or x.norm in lx.CONCEPTS["aspect"] | _VIDEO_WORDS
                ):
                    break
                words.append(x)
            words = [
                w for w in words if w.norm not in ("a", "an", "the", "these", "this", "my", "those")
            ] or []
            if words and not set(w.norm for w in words) <= lx.CONCEPTS["clip"]:
                return _title_case(c.source[words[0].start : words[-1].end])
    return None


_SMALL_WORDS = _ws("a an and the of for in on at to with or")


def _title_case(text: str) -> str:
    """our summer sale → Our Summer Sale (words the user capitalised stay as they are)."""
    if text != text.lower():
        return text[:1].upper() + text[1:]
    words = text.split()
    return " ".join(w if (k and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for k, w in enumerate(words))


def read_spec(c: Clause, media: Sequence[MediaRef]) -> GenSpec:
    words = set(c.words) | set(c.ratios)
    kind = next((k for k, names in _KIND_WORDS.items() if words & names), "video")
    if kind == "reel" and "instagram" in words and "square" in words:
        kind = "video"
    times = c.times
    dur_toks = [t for t in c.toks if t.kind is Kind.DUR]
    duration = times.any_length or (round(dur_toks[0].value) if dur_toks else None)
    per_item = _per_item(c)
    if per_item is not None:
        duration = None
    if duration is None and c.has_word("short", "quick", "brief", "shorter"):
        duration = SHORT_MS
    preset = next((p for p, names in lx.ASPECT_WORDS if words & names), None)
    topic_title = _topic(c, _STRONG_TOPIC)
    title = _title(c) or topic_title
    overlays = tuple(q for q in c.quotes if q != title)
    if not overlays and not title and (said := unquoted_text(c)):
        if c.has("title"):
            title = said
        else:
            overlays = (said,)
    derive = not overlays and (c.has("text") or c.has_word("overlay", "captions", "caption", "subtitles"))
    if c.has_word("notext"):
        derive = False
    mood: str = "neutral"
    if words & lx.MOOD_ENERGETIC or "quick_cuts" in words:
        mood = "energetic"
    elif words & lx.MOOD_CALM:
        mood = "calm"
    music_files = [f for f in c.files if (m := _named(media, f)) is not None and m.kind == "audio"]
    want_music = False if "nomusic" in words else (True if c.has("music") else None)
    want_voice = False if "novoice" in words else (True if c.has("voiceover") else None)
    if _silent(c):  # "with no sound at all", "silent": neither music nor voiceover
        want_music = want_voice = False
    if words & {"only", "just"}:  # "with the voiceover only", "just music"
        if want_voice and not want_music:
            want_music = False
        elif want_music and not want_voice:
            want_voice = False
    return GenSpec(
        kind=kind,  # type: ignore[arg-type]
        duration_ms=duration if duration and duration > 0 else None,
        preset=preset,
        title=title,
        overlays=overlays,
        derive_overlays=derive,
        mood=mood,  # type: ignore[arg-type]
        music_words=frozenset(words),
        music_file=music_files[0] if music_files else None,
        want_music=want_music,
        want_voiceover=want_voice,
        topic=_topic(c),
        visuals=_chosen_visuals(c, media),
        per_item_ms=per_item,
        music_vol=c.percents[0] if c.percents and c.has("music") and 0 <= c.percents[0] <= 1 else None,
    )


def _per_item(c: Clause) -> int | None:
    """ "3 seconds each" / "2s per photo": the length of every visual, not of the video."""
    toks = c.toks
    for i, t in enumerate(toks[:-1]):
        if t.kind is Kind.DUR and toks[i + 1].is_word("each", "per", "apiece", "a"):
            if toks[i + 1].is_word("a") and not (i + 2 < len(toks) and toks[i + 2].norm in _PER_NOUNS):
                continue
            return round(t.value)
    return None


_PER_NOUNS = frozenset({"photo", "image", "picture", "pic", "clip", "shot", "slide", "piece"})


def _silent(c: Clause) -> bool:
    words = set(c.words)
    no_sound = bool(words & {"no", "without"}) and bool(words & {"sound", "audio"})
    return no_sound or bool(words & {"silent", "muted", "soundless"})


_STILL_WORDS = _ws("photo photos image images picture pictures pics stills still slides")
_CLIP_WORDS = _ws("clip clips footage videos shots")


def _chosen_visuals(c: Clause, media: Sequence[MediaRef]) -> tuple[str, ...]:
    """Which uploads to show: the ones named ("product_front.jpg and product_side.jpg"), those whose
    name words follow "only"/"just" ("only the lifestyle photos"), only stills for "these photos" and
    only clips for "these clips" when both kinds were uploaded; else all of them (empty)."""
    visuals = [m for m in media if m.kind in ("image", "video")]
    named = [m for f in c.files if (m := _named(media, f)) is not None and m.kind in ("image", "video")]
    if named:
        return tuple(m.id for m in visuals if m in named)
    words = set(c.words)
    if words & {"only", "just"}:
        picked = [
            m for m in visuals if (n := [w for w in name_words(m.filename) if len(w) > 2]) and set(n) <= words
        ]
        if picked:
            return tuple(m.id for m in picked)
    said = _shots_said(c, visuals)
    if said:
        return tuple(m.id for m in visuals if m.id in said)
    stills = [m for m in visuals if m.kind == "image"]
    clips = [m for m in visuals if m.kind == "video"]
    if stills and clips:
        if words & _STILL_WORDS and not words & _CLIP_WORDS:
            return tuple(m.id for m in stills)
        if words & _CLIP_WORDS and not words & _STILL_WORDS:
            return tuple(m.id for m in clips)
    return ()


_SHOT_NOUNS = _STILL_WORDS | _CLIP_WORDS | _ws("shot view views one ones clip video")


def _shots_said(c: Clause, visuals: Sequence[MediaRef]) -> set[str]:
    """ "the detail shot and both lifestyle photos", "front and side photos": uploads named by a word of
    their file name that a shot noun follows (a list "X and Y photos" shares the noun)."""
    toks = c.toks
    picked: set[str] = set()
    for i, t in enumerate(toks):
        if t.kind is not Kind.WORD or len(t.norm) < 2 or t.norm in _SHOT_NOUNS:
            continue
        owners = [m for m in visuals if t.norm in name_words(m.filename)]
        if not owners or len(owners) == len(visuals):
            continue
        for x in toks[i + 1 : i + 5]:
            if x.kind is Kind.WORD and x.norm in _SHOT_NOUNS:
                picked |= {m.id for m in owners}
                break
            listed = x.kind is Kind.WORD and (
                x.norm in ("and", "both", "or") or any(x.norm in name_words(m.filename) for m in visuals)
            )
            if not listed and not (x.kind is Kind.PUNCT and x.norm == ","):
                break
    return picked


def _named(media: Sequence[MediaRef], name: str) -> MediaRef | None:
    low = name.lower()
    return next((m for m in media if m.filename.lower() == low), None)


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass(frozen=True)
class VisualItem:
    media: str  # upload id ("" for a colour card)
    name: str
    kind: str  # image | video | color
    d_ms: int
    source_d: int | None = None
    has_audio: bool = False
    motion: str | None = None
    color: str | None = None


@dataclass(frozen=True)
class TextItem:
    text: str
    st: int
    d_ms: int
    position: str
    role: str
    clip: int | None = None  # the visual it belongs to (it follows that clip when the cut changes)


@dataclass(frozen=True)
class AudioItem:
    media: str
    name: str
    source_d: int | None
    loop: bool
    vol: float | None = None


@dataclass(frozen=True)
class GenPlan:
    preset: str
    title: str
    visuals: tuple[VisualItem, ...]
    transition: tuple[str, int]
    texts: tuple[TextItem, ...]
    bgm: AudioItem | None
    voiceover: AudioItem | None
    notes: tuple[str, ...]
    duration_ms: int
    asked_ms: int | None = None  # the length the user asked for, if they said one


PER_IMAGE_MS = 6000  # the default length of a still: 5 photos make 30 s
QUICK_CUT_MS = 3000  # energetic: a cut every 3 s, the photos shown again in order to fill the length


def _quick_cuts(visuals: list[MediaRef], target: int) -> list[MediaRef]:
    """An energetic slideshow: as many ~3 s cuts as the length holds, cycling through the photos."""
    if not visuals or any(m.kind != "image" for m in visuals):
        return visuals
    cuts = max(len(visuals), round(target / QUICK_CUT_MS))
    return [visuals[k % len(visuals)] for k in range(cuts)]


def _spread(total: int, n: int) -> list[int]:
    base, rest = divmod(total, n)
    return [base + (1 if i < rest else 0) for i in range(n)]


def _allocate(visuals: Sequence[MediaRef], target: int, per_image: int) -> tuple[list[int], int]:
    """Durations summing to ``target`` where the clips allow it: (durations, shortfall)."""
    wants = [(m.duration_ms or 5000) if m.kind == "video" else per_image for m in visuals]
    caps = [(m.duration_ms or 5000) if m.kind == "video" else None for m in visuals]
    natural = sum(wants)
    scaled = [max(MIN_SEG_MS, w * target // natural) for w in wants]
    out = [min(s, c) if c is not None else s for s, c in zip(scaled, caps, strict=True)]
    short = target - sum(out)
    stills = [i for i, m in enumerate(visuals) if m.kind != "video"]
    if short > 0 and stills:
        for i, extra in zip(stills, _spread(short, len(stills)), strict=True):
            out[i] += extra
        short = 0
    elif short > 0:
        for i, cap in enumerate(caps):  # give clips their spare source, in order
            if short <= 0:
                break
            room = (cap or out[i]) - out[i]
            take = min(room, short)
            out[i] += take
            short -= take
    elif short < 0:
        excess = -short
        for i in sorted(range(len(out)), key=lambda k: -out[k]):
            if excess <= 0:
                break
            take = min(excess, out[i] - MIN_SEG_MS)
            if take > 0:
                out[i] -= take
                excess -= take
        short = 0
    return out, max(0, short)


def _caption_from_name(filename: str) -> str | None:
    words = [w for w in name_words(filename) if w not in _GENERIC_NAME and len(w) > 1]
    if not words:
        return None
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _pick_music(spec: GenSpec, musics: Sequence[MediaRef]) -> MediaRef | None:
    if not musics:
        return None
    return pick_audio(musics, spec.music_words, spec.music_file, spec.mood) or musics[0]


def card_words(spec: GenSpec) -> list[str]:
    """The words for colour cards when there is nothing to show: the title and overlays, else the topic."""
    words = [t for t in ([spec.title] if spec.title else []) + list(spec.overlays) if t]
    return words or ([spec.topic] if spec.topic else [])


def has_visuals(spec: GenSpec, media: Sequence[MediaRef]) -> bool:
    return any(m.kind in ("image", "video") and (not spec.visuals or m.id in spec.visuals) for m in media)


def plan_generation(spec: GenSpec, media: Sequence[MediaRef]) -> GenPlan:
    visuals = [
        m for m in media if m.kind in ("image", "video") and (not spec.visuals or m.id in spec.visuals)
    ]
    audios = [m for m in media if m.kind == "audio"]
    voices = [m for m in audios if is_voice_like(m)]
    musics = [m for m in audios if not is_voice_like(m)]
    notes: list[str] = []
    per_image = PER_IMAGE_MS
    clips_total = sum((m.duration_ms or 5000) for m in visuals if m.kind == "video")
    stills = sum(1 for m in visuals if m.kind != "video")
    title = spec.title
    texts_words = list(spec.overlays)

    items: list[VisualItem] = []
    motions = {
        "calm": ("zoom_in", "zoom_out"),
        "energetic": ("zoom_in", "pan_left", "zoom_out", "pan_right"),
    }.get(spec.mood, ("zoom_in", "pan_right", "zoom_out", "pan_left"))
    if visuals:
        if spec.per_item_ms is not None:
            target = spec.per_item_ms * len(visuals)
        elif spec.duration_ms is not None:
            target = spec.duration_ms
        elif stills and not clips_total:
            target = min(60000, max(10000, stills * per_image))
        else:
            target = clips_total + stills * per_image
        if spec.mood == "energetic":
            visuals = _quick_cuts(visuals, target)
        durations, short = _allocate(visuals, target, per_image)
        k = 0
        for m, dur in zip(visuals, durations, strict=True):
            motion = None
            if m.kind == "image":
                motion = motions[k % len(motions)]
                k += 1
            items.append(
                VisualItem(
                    m.id,
                    m.filename,
                    m.kind,
                    dur,
                    m.duration_ms if m.kind == "video" else None,
                    m.has_audio,
                    motion,
                )
            )
        if short >= 1000:
            card = min(short, 5000)
            items.append(VisualItem("", "end card", "color", card, color=_CARD_COLORS[spec.mood][1]))
            if short > card:
                notes.append(
                    f"the clips hold {secs(target - short)} of footage, so the video is shorter than asked"
                )
    else:
        cards = card_words(spec)
        if not cards:
            raise ValueError("there is nothing to show: no images or clips, and no words for a title card")
        target = spec.duration_ms or min(60000, max(5000, 4000 * len(cards)))
        for i, dur in enumerate(_spread(target, len(cards))):
            items.append(VisualItem("", "title card", "color", dur, color=_CARD_COLORS[spec.mood][i % 2]))
        notes.append(
            "nothing was uploaded, so I made text cards: AI footage generation needs the NemoVideo cloud"
        )

    total = sum(i.d_ms for i in items)
    texts: list[TextItem] = []
    if not visuals:
        cards = card_words(spec)
        st = 0
        for text, item in zip(cards, items, strict=True):
            role = "title" if text == title or (not title and st == 0 and len(cards) == 1) else "caption"
            texts.append(TextItem(text, st, item.d_ms, "center", role))
            st += item.d_ms
    else:
        head = 0
        if title:
            head = min(3000, max(1000, total // 4))
            texts.append(TextItem(title, 0, head, "center", "title"))
        overlays = list(texts_words)
        starts_at_clips = False
        if not overlays and spec.derive_overlays:
            if spec.kind == "tutorial":
                overlays = [
                    f"Step {i + 1}" + (f": {c}" if (c := _caption_from_name(v.name)) else "")
                    for i, v in enumerate(items)
                    if v.kind != "color"
                ]
                starts_at_clips = True
            else:
                named = [_caption_from_name(v.name) if v.kind != "color" else None for v in items]
                if any(named):
                    overlays = [n or "" for n in named]
                    starts_at_clips = True
                elif spec.topic:
                    overlays = [spec.topic]
        if starts_at_clips:
            st = 0
            seen: set[str] = set()
            for k, (text, item) in enumerate(zip(overlays, items, strict=False)):
                start = max(st, head) + 300
                end = st + item.d_ms
                if text and text not in seen and end - start >= 1000 and text != title:
                    seen.add(text)
                    texts.append(
                        TextItem(text, start, min(3000, end - start), "lower_third", "caption", clip=k)
                    )
                st += item.d_ms
        elif overlays:
            span = total - head
            slot = span // len(overlays)
            for i, text in enumerate(overlays):
                start = head + i * slot
                texts.append(TextItem(text, start, max(500, min(4000, slot)), "lower_third", "caption"))
        if not title:
            notes.append("no title was given (say e.g. add a title 'Summer Sale')")
        if spec.derive_overlays and not any(t.role == "caption" for t in texts):
            notes.append("tell me the words for the text overlays (e.g. add the text 'Shop now' at 10s)")

    bgm = None
    music = _pick_music(spec, musics) if spec.want_music is not False else None
    if music is not None:
        bgm = AudioItem(music.id, music.filename, music.duration_ms, True, spec.music_vol)
    elif spec.want_music:
        notes.append("no music was uploaded (AI music generation needs the NemoVideo cloud)")
    voice = None
    if spec.want_voiceover is not False and voices:
        v = voices[0]
        voice = AudioItem(v.id, v.filename, v.duration_ms, False)
        if v.duration_ms and v.duration_ms > total:
            notes.append(f"the voiceover is longer than the video, so it is cut at {total / 1000:g}s")
    elif spec.want_voiceover:
        notes.append("no voiceover was uploaded")

    transition = {"energetic": ("crossfade", 250), "calm": ("crossfade", 1000)}.get(
        spec.mood, ("crossfade", 500)
    )
    doc_title = title or (texts[0].text if texts and texts[0].role == "title" else "") or spec.topic or ""
    return GenPlan(
        preset=spec.preset or "16:9",
        title=doc_title,
        visuals=tuple(items),
        transition=transition,
        texts=tuple(texts),
        bgm=bgm,
        voiceover=voice,
        notes=tuple(notes),
        duration_ms=total,
        asked_ms=spec.duration_ms,
    )
