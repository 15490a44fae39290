"""The grammar: named rules as data, and the slot filling that turns a clause into operations.

Each :class:`Rule` is one row of ``RULES``: its name and family, the concepts of
``_lexicon.CONCEPTS`` that trigger it (any of ``triggers``, any of ``also`` when given, none of
``unless``) plus an optional extra test on the slots, an explicit ``priority``, the operations it
produces (the applier's step names, each applied through :mod:`engine.ops`), and its own examples
and counter-examples: messages it must read and messages it must leave to another rule.
``tests/engine/agent/test_rules.py`` runs them all and fails on a rule that no example reaches.

``match`` tries the rules whose triggers fire from the highest priority down; the first one that
fills the clause wins. A filler returns operations, or a ``Question`` (the clause is ambiguous:
nothing changes, one focused question) or an ``Answer`` (it cannot be done, and why).

To teach the agent a new instruction: add words to the lexicon, and a rule with its examples here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from engine.agent import _lexicon as lx
from engine.agent._clause import Clause, unquoted_text
from engine.agent._lexer import Kind
from engine.agent._plan import Answer, MainRef, Op, Question, TextRef
from engine.agent._refs import (
    audio_choice,
    destination,
    generic_clip,
    main_refs,
    text_ordinals,
    text_ref,
    unused_audio,
)
from engine.agent._types import MediaRef
from engine.agent._view import TextInfo, View, is_voice_like, name_words, secs
from engine.agent._when import middle_is_time, spoken_span

__all__ = ["AI_TEXT", "CAN_DO", "RULES", "Fill", "Rule", "match"]

Fill = list[Op] | Question | Answer

CAN_DO = (
    "Here is what I can do: trim, remove, move, swap, split, duplicate or speed up clips; set the total "
    "length; add, change, move, restyle or remove text; swap, remove or re-level the music and voiceover, "
    "with fades; change transitions, motion and the aspect ratio; undo and redo."
)
DEFAULT_TEXT_MS = 3000
CLIP_TEXT_OFFSET_MS = 300  # text on a clip starts a moment after the cut
DEFAULT_VIDEO_FADE_MS = 1000
DEFAULT_AUDIO_FADE_MS = 2000
_SIZE_UP = frozenset({"bigger", "larger", "huge", "large", "big"})
_SIZE_DOWN = frozenset({"smaller", "tiny", "small", "little"})
_STYLE_WORDS = _SIZE_UP | _SIZE_DOWN | set(lx.COLORS) | {"bold", "font", "size", "outline", "color", "colour"}


Family = Literal["text", "clips", "audio", "canvas", "length", "look", "ask", "decline"]


@dataclass(frozen=True)
class Rule:
    """One reading of a clause: what triggers it, what it fills, what it produces, and its examples."""

    name: str
    triggers: frozenset[str]
    fill: Callable[[Clause, View], Fill]
    also: frozenset[str] = frozenset()
    unless: frozenset[str] = frozenset()
    test: Callable[[Clause, View], bool] | None = None
    priority: int = 0
    family: Family = "clips"
    produces: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counter: tuple[str, ...] = ()
    # what the operation changes for the whole video ("the music's level"), for rules whose operation
    # cannot be limited to part of it: a clause that limits it ("after 20 seconds", "during the intro")
    # is not read by the rule, and the reply says so instead of changing everything
    whole: str | None = None

    def matches(self, c: Clause, v: View) -> bool:
        if self.triggers and not c.has(*self.triggers):
            return False
        if self.also and not c.has(*self.also):
            return False
        if self.unless and c.has(*self.unless):
            return False
        return self.test is None or self.test(c, v)


def _op(c: Clause, op_name: str, /, **args: Any) -> Op:
    return Op(op_name, dict(args), c.text)


def _fs(words: str) -> frozenset[str]:
    return frozenset(words.split())


_NO_TEXT = Answer("There is no text on the video yet; add some first, e.g. add a title 'Summer Sale'.")


def _clip_list(v: View) -> str:
    return ", ".join(f"{i + 1}. {s.name} ({secs(s.st)}-{secs(s.st + s.d)})" for i, s in enumerate(v.mains))


def _text_list(texts: Iterable[TextInfo]) -> str:
    return ", ".join(t.label() for t in texts)


def _refs(c: Clause, v: View) -> list[MainRef]:
    """The clips the clause names, each once ("the product side photo 2": one clip, said twice)."""
    refs = [r for _, r in main_refs(c, v)]
    named = [_by_name(r, v) or r for r in refs]
    return [r for k, r in enumerate(refs) if named[k] not in named[:k]]


def _one_target(c: Clause, v: View, what: str) -> MainRef | Question | None:
    """The single clip a clause is about: named, the only one, or a question when it could be several."""
    refs = _refs(c, v)
    if refs:
        return refs[0]
    if len(v.mains) == 1:
        return MainRef(index=0)
    if generic_clip(c) and len(v.mains) > 1:
        return Question(f"Which clip should I {what}: {_clip_list(v)}?")
    return None


# ---------------------------------------------------------------------------------------------
# fillers: revisions and routing are handled by the caller (they are not plans); these make plans


_ASKS_BETTER = (
    "better",
    "nicer",
    "improve",
    "polish",
    "cooler",
    "prettier",
    "fix",
    "enhance",
    "professional",
)


def _quality(c: Clause, v: View) -> Fill:
    return Question(
        'What should I change first: the pacing (e.g. "use quick cuts"), the length (now '
        f"{secs(v.end_ms)}), the text, or the music?"
    )


AI_TEXT = (
    "I can't generate new footage here: AI footage generation needs the NemoVideo cloud "
    "(set NEMO_BACKEND=cloud). The local engine edits what you upload. " + CAN_DO
)


def _ai(c: Clause, v: View) -> Fill:
    return Answer(AI_TEXT)


def _speech_test(c: Clause, v: View) -> bool:
    """Speech in or out: subtitles transcribed from the voiceover, or a voiceover spoken from text."""
    transcribe = c.has("text", "caption") and (
        c.has_word(
            "auto", "automatic", "automatically", "transcribe", "transcribed", "transcript", "transcription"
        )
        or (c.has_word("from") and c.has("voiceover"))
    )
    speak = (
        c.has("voiceover")
        and not c.has("music")
        and (bool(c.quotes) or c.has_word("saying", "says", "reading"))
    )
    return transcribe or speak


def _speech(c: Clause, v: View) -> Fill:
    if c.has("voiceover") and (c.quotes or c.has_word("saying", "says", "reading")) and not c.has("caption"):
        return Answer(
            "Speaking a voiceover from text needs the NemoVideo cloud; upload a recording (mp3, wav, m4a) "
            "and I will put it under the video."
        )
    return Answer(
        "Subtitles transcribed from speech need the NemoVideo cloud; here I can add the captions you type, "
        "e.g. add the caption 'Welcome' from 0 to 3 seconds."
    )


def _rename(c: Clause, v: View) -> Fill:
    title = c.quotes[0] if c.quotes else c.after_word("to", "as", "titled", "it", "called")
    if not title:
        return Question(f'The video is called "{v.title or "untitled"}" now; what should its new title be?')
    return [_op(c, "set_title", title=title, retitle_text=True)]


def _canvas(c: Clause, v: View) -> Fill:
    words = set(c.words) | set(c.ratios)
    preset = next((p for p, names in lx.ASPECT_WORDS if words & names), None)
    fit = _fit(c)
    if preset is None:
        if c.ratios:
            return Answer(
                f"{c.ratios[0]} is not a canvas I can make; the choices are 16:9, 9:16, 1:1 and 4:5."
            )
        if fit is not None:
            return [_op(c, "set_fit", fit=fit)]
        return Question(
            "Which aspect ratio: 16:9 (landscape), 9:16 (vertical), 1:1 (square) or 4:5 (portrait post)?"
        )
    ops = [_op(c, "set_canvas", preset=preset, fit=fit)]
    length = c.times.any_length
    if length is not None and not _refs(c, v) and not c.has("text", "title", "music", "voiceover"):
        ops.append(_op(c, "set_total_duration", total_ms=length))  # "a vertical 15-second version"
    return ops


def _fit(c: Clause) -> str | None:
    words = set(c.words)
    if words & {"blur", "blurred"}:
        return "contain_blur"
    if words & {"letterbox", "letterboxed", "contain", "fit"}:
        return "contain"
    if words & {"cover", "fill"}:
        return "cover"
    return None


def _text_change_test(c: Clause, v: View) -> bool:
    saying = c.has_word("say", "says", "read", "reads")
    if c.has("text", "title") and saying and not c.has("add", "remove", "cut"):
        return True  # "the title should say Big Sale"
    if not v.texts:
        return False
    quotes = c.quotes
    matching = [q for q in quotes if v.texts_matching(q)]
    if len(set(quotes)) >= 2 and matching:
        return True
    if c.has("text", "title") and c.has("change", "replace", "rename", "edit"):
        other = c.has("aspect", "music", "voiceover") or bool(
            set(c.words) & (_STYLE_WORDS | set(lx.POSITIONS))
        )
        timed = c.times.at is not None or c.times.range_ is not None or c.times.any_length is not None
        return not other and not timed
    return False


def _text_change(c: Clause, v: View) -> Fill:
    quotes = c.quotes
    matching = [q for q in quotes if v.texts_matching(q)]
    if len(set(quotes)) >= 2 and matching:
        old = matching[0]
        new = next(q for q in quotes if q != old)
        return [_op(c, "edit_text", target=TextRef(contains=old), text=new)]
    new_text = quotes[-1] if quotes else _new_words(c)
    choice = text_ref(c, v)
    if not new_text:
        if choice.ref is None:
            return Question(f"Which text should I change, and to what words: {_text_list(choice.options)}?")
        return Question(f"What should {choice.ref.describe()} say instead (e.g. 'Last chance')?")
    if choice.ref is None and c.has("title") and not any(t.role == "title" for t in v.texts):
        return [
            _op(
                c,
                "add_text",
                text=new_text,
                st=0,
                d_ms=min(DEFAULT_TEXT_MS, v.end_ms),
                position="center",
                role="title",
            ),
            _op(c, "set_title", title=new_text, retitle_text=False),
        ]
    if choice.ref is None:
        return Question(f'Which text should say "{new_text}": {_text_list(choice.options)}?')
    ops = [_op(c, "edit_text", target=choice.ref, text=new_text)]
    if c.has("title") and choice.ref.role in (None, "title"):
        ops.append(_op(c, "set_title", title=new_text, retitle_text=False))
    return ops


def _new_words(c: Clause) -> str | None:
    """Unquoted new words for a text ("change the title to Summer Sale", "make it say Hello"); never an
    instruction ("the captions are hard to read, make them bigger") or "to read"."""
    said = next((i for i, t in enumerate(c.toks) if t.is_word("say", "says", "read", "reads")), None)
    if said is not None and said > 0 and c.toks[said - 1].is_word("to"):
        said = None  # "hard to read", "easy to read"
    words = (c.after_word(c.toks[said].norm) if said is not None else None) or c.after_word("to")
    if not words:
        return None
    first = words.split()[0].lower().strip(",.;:!?")
    return None if first in lx.CLAUSE_VERBS or first in ("read", "see") else words


def _targets_text(c: Clause, v: View) -> bool:
    return c.has("text", "title") or any(v.texts_matching(q) for q in c.quotes)


def _no_texts_wanted(c: Clause) -> bool:
    """ "I'd rather not have any captions", "I don't want any text": no texts (of that kind) at all."""
    negated = c.has_word("not", "don't", "dont", "no") and c.has_word("want", "have", "need", "like")
    return negated and c.has("text") and c.has_word("any", "captions", "texts", "subtitles") and not c.quotes


def _no_text(c: Clause, v: View) -> Fill:
    if not v.texts:
        return Answer("There is no text on the video.")
    captions_only = c.has_word("captions", "caption", "subtitles") and not c.has("title")
    return [_op(c, "remove_text", target=TextRef(every=True, role="caption" if captions_only else None))]


def _text_remove(c: Clause, v: View) -> Fill:
    if not v.texts:
        return Answer("There is no text on the video to remove.")
    ordinals = text_ordinals(c)
    if len(ordinals) > 1:  # "delete the second and third captions": each by its words (places shift)
        shown = v.texts_sorted()
        if not all(-len(shown) <= k < len(shown) for k in ordinals):
            return Question(f"There are {len(shown)} texts: {_text_list(shown)}. Which should I remove?")
        return [
            _op(c, "remove_text", target=TextRef(contains=shown[k].text)) for k in dict.fromkeys(ordinals)
        ]
    choice = text_ref(c, v)
    if choice.ref is None:
        return Question(f"Which text should I remove: {_text_list(choice.options)}, or all of them?")
    return [_op(c, "remove_text", target=choice.ref)]


def _style_test(c: Clause, v: View) -> bool:
    return bool(set(c.words) & _STYLE_WORDS) and _targets_text(c, v)


def _text_style(c: Clause, v: View) -> Fill:
    if not v.texts:
        return _NO_TEXT
    words = set(c.words)
    style: dict[str, Any] = {}
    factor = None
    grow = bool(words & _SIZE_UP) or ("font" in words and c.has("raise", "lengthen"))
    shrink = bool(words & _SIZE_DOWN) or ("font" in words and c.has("lower", "shorten"))
    if grow:
        factor = 1.5 if words & {"much", "huge", "lot"} else 1.3
    elif shrink:
        factor = 0.6 if words & {"much", "tiny", "lot"} else 0.75
    colors = [w for w in c.words if w in lx.COLORS]
    if colors:
        style["color"] = lx.COLORS[colors[0]]
    if "bold" in words:
        style["bold"] = "not" not in words
    position = _position(c)
    choice = text_ref(c, v)
    if c.has("title") and not any(t.role == "title" for t in v.texts) and choice.ref is None:
        return Question(
            f"There is no title yet; which text do you mean: {_text_list(v.texts)}, or all of them?"
        )
    ref = choice.ref or TextRef(every=True)  # a look applies to all the text unless one is named
    if not style and factor is None and position is None:
        return Question(
            "How should the text look: bigger, smaller, bold, or a colour such as white, yellow or red?"
        )
    return [_op(c, "edit_text", target=ref, style=style or None, size_factor=factor, position=position)]


def _position(c: Clause) -> str | None:
    toks = c.toks
    for i, t in enumerate(toks):
        if t.kind is Kind.WORD and t.norm in lx.POSITIONS and t.norm not in ("lower", "up", "down", "upper"):
            return lx.POSITIONS[t.norm]
        if (
            t.is_word("up", "down", "lower", "upper")
            and i > 0
            and (toks[i - 1].is_word("to", "at", "in", "on") or c.has("move"))
        ):
            return lx.POSITIONS[t.norm]  # "to the top" / "move the captions up"
    return None


def _shift(c: Clause) -> int | None:
    """ "2 seconds later" → +2000, "a second earlier" / "bring it forward a second" → -1000, "push it
    back" → later. A bare "forward" or "back" could be either way on a timeline: see ``_unclear_way``."""
    earlier = c.has_word("earlier", "sooner") or (c.has_word("bring") and c.has_word("forward"))
    later = c.has_word("later") or (c.has_word("push") and c.has_word("back", "backward", "backwards"))
    if not earlier and not later:
        return None
    durs = c.of_kind(Kind.DUR)
    ms = round(durs[0].value) if durs else 1000
    return -ms if earlier else ms


def _unclear_way(c: Clause) -> bool:
    """ "move it forward a second": earlier (as a meeting is brought forward) or later (rightwards on the
    timeline)? Asked, not guessed."""
    return _shift(c) is None and c.has_word("forward", "backward", "backwards", "back")


def _grow(c: Clause) -> int | None:
    """ "2 seconds longer" → +2000, "a second shorter" → -1000 (a length that changes by an amount)."""
    if not c.has_word("longer", "shorter", "more", "less", "extra") or c.has_word(
        "later", "earlier", "sooner"
    ):
        return None
    durs = c.of_kind(Kind.DUR)
    if len(durs) != 1:
        return None
    ms = round(durs[0].value)
    return -ms if c.has_word("shorter", "less") else ms


def _text_move_test(c: Clause, v: View) -> bool:
    if _grow(c) is not None:
        return False
    asked = c.has("move", "make", "change", "set", "add") or c.has_word(
        "appear", "appears", "start", "starts", "begin", "begins", "come", "comes", "keep", "stay", "stays"
    )
    return (
        asked
        and _targets_text(c, v)
        and (
            _shift(c) is not None
            or _unclear_way(c)
            or c.times.until is not None
            or c.times.at is not None
            or c.times.to is not None
            or c.times.range_ is not None
            or _position(c) is not None
            or c.has_word("to_start", "at_start", "to_end", "at_end")
        )
    )


_ENDING = (
    "disappear",
    "disappears",
    "vanish",
    "vanishes",
    "end",
    "ends",
    "finish",
    "finishes",
    "stop",
    "stops",
)


def _text_move(c: Clause, v: View) -> Fill:
    if not v.texts:
        return _NO_TEXT
    if _unclear_way(c) and c.of_kind(Kind.DUR):
        return Question("Earlier (toward the start) or later?")
    choice = text_ref(c, v)
    if choice.ref is None:
        return Question(f"Which text should I move: {_text_list(choice.options)}?")
    times = c.times
    args: dict[str, Any] = {}
    if (shift := _shift(c)) is not None and c.has_word(*_ENDING):
        args["grow_ms"] = shift  # "make the last caption disappear 1 second earlier": its end moves
    elif shift is not None:
        args["shift_ms"] = shift
    elif times.until is not None and times.at is None and times.range_ is None:
        args["end_ms"] = times.until  # "keep the title on screen until 8 seconds"
    elif times.at is not None and c.has_word("until", "till") and c.has_word("end", "ending", "outro"):
        args["st"], args["end_ms"] = times.at, v.end_ms  # "from 20s until the end"
    elif times.range_ is not None:
        args["st"], args["d_ms"] = times.range_[0], times.range_[1] - times.range_[0]
    elif times.at is not None or times.to is not None:
        args["st"] = times.to if times.to is not None else times.at  # "the caption at 6s to 20s"
        if times.for_ is not None:
            args["d_ms"] = times.for_
    elif c.has_word("to_start", "at_start"):
        args["st"] = 0  # "move the lifestyle caption to the start"
    elif c.has_word("to_end", "at_end"):
        ref, ordered = choice.ref, v.texts_sorted()
        shown = next((t for t in ordered if ref.contains is not None and t.text == ref.contains), None)
        if shown is None and ref.index is not None and -len(ordered) <= ref.index < len(ordered):
            shown = ordered[ref.index]
        if shown is None:
            return Question("Which text should end the video?")
        args["st"] = max(0, v.end_ms - shown.d)  # "... to the end": it ends with the video
    position = _position(c)
    if position is not None:
        args["position"] = position
    return [_op(c, "edit_text", target=choice.ref, **args)]


def _text_time_test(c: Clause, v: View) -> bool:
    timed = c.times.any_length is not None or _grow(c) is not None
    return bool(v.texts) and _targets_text(c, v) and timed and not _text_add_test(c, v)


def _text_time(c: Clause, v: View) -> Fill:
    if not v.texts:
        return _NO_TEXT
    choice = text_ref(c, v)
    if choice.ref is None:
        return Question(f"Which text should I change: {_text_list(choice.options)}?")
    if (grow := _grow(c)) is not None:
        return [_op(c, "edit_text", target=choice.ref, grow_ms=grow)]
    length = c.times.any_length
    return [_op(c, "edit_text", target=choice.ref, d_ms=length)]


def _text_add_test(c: Clause, v: View) -> bool:
    new = [q for q in c.quotes if not v.texts_matching(q)]
    if new:
        return True
    asks = c.has_word("add", "insert", "include", "put", "overlay", "append")
    placing = (  # "put the title at the bottom": the title there is, not a new one
        bool(v.texts)
        and unquoted_text(c) is None
        and (_position(c) is not None or c.times.at is not None or c.times.range_ is not None)
    )
    return (
        asks and c.has("text", "title") and not c.quotes and not c.has("music", "voiceover") and not placing
    )


def _text_add(c: Clause, v: View) -> Fill:
    new = [q for q in c.quotes if not v.texts_matching(q)]
    if not new and (said := unquoted_text(c)):
        new = [said]
    if not new:
        return Question(
            "What should the text say, and when (e.g. add a text overlay 'Limited offer' at 10s)?"
        )
    role = "title" if c.has("title") and not c.has("caption") else "caption"
    times = c.times
    end = v.end_ms
    position = _position(c) or ("center" if role == "title" else "bottom")
    on_clip = next((r for r in _refs(c, v) if r.every is None), None)
    span = spoken_span(c, v) if times.range_ is None else None
    if span is None and times.at is None and times.range_ is None:
        unplaced = len(c.of_kind(Kind.DUR)) - (times.for_ is not None)
        timed = c.has_word(
            "when",
            "once",
            "halfway",
            "midpoint",
            "until",
            "after",
            "before",
            "ends",
            "finishes",
            "during",
            "while",
        ) or middle_is_time(c)
        if unplaced > 0 or timed:
            return Question(
                f'When should "{new[0]}" appear, and for how long (e.g. "at 10s for 3 seconds", '
                '"for the last 5 seconds", "during the second shot")?'
            )
    ops: list[Op] = []
    for k, text in enumerate(new):
        if span is not None:
            d = span.d_ms or times.for_ or DEFAULT_TEXT_MS
            if span.clip is not None:
                ops.append(
                    _op(
                        c,
                        "add_text",
                        text=text,
                        st=0,
                        d_ms=d,
                        position=position,
                        role=role,
                        anchor=span.clip,
                        offset_ms=k * d,
                    )
                )
            else:
                ops.append(
                    _op(c, "add_text", text=text, st=span.st + k * d, d_ms=d, position=position, role=role)
                )
            continue
        if on_clip is not None and times.at is None and times.range_ is None:
            # "caption 'Fresh look' on the third image": shown on that clip, and it follows the clip
            ops.append(
                _op(
                    c,
                    "add_text",
                    text=text,
                    st=0,
                    d_ms=times.for_ or DEFAULT_TEXT_MS,
                    position=position,
                    role=role,
                    anchor=on_clip,
                    offset_ms=CLIP_TEXT_OFFSET_MS + k * DEFAULT_TEXT_MS,
                )
            )
            continue
        if times.range_ is not None:
            st, d = times.range_[0], times.range_[1] - times.range_[0]
        elif times.at is not None:
            st, d = times.at, times.for_ or DEFAULT_TEXT_MS
        elif c.has_word("at_end", "end", "ending", "outro"):
            d = times.for_ or DEFAULT_TEXT_MS
            st = max(0, end - d)
        elif role == "title" or c.has_word("at_start", "start", "beginning", "intro"):
            st, d = 0, times.for_ or DEFAULT_TEXT_MS
        else:
            st, d = 0, times.for_ or end  # no time given: on screen for the whole video
        if k and st + k * d < end:
            st += k * d  # several texts at one time: one after the other
        ops.append(_op(c, "add_text", text=text, st=st, d_ms=d, position=position, role=role))
    if role == "title" and not v.title:
        ops.append(_op(c, "set_title", title=new[0], retitle_text=False))
    return ops


def _audio_role(c: Clause, v: View) -> str:
    if c.has("voiceover") and not c.has("music"):
        return "voiceover"
    return "bgm"


def _audio_remove_test(c: Clause, v: View) -> bool:
    if c.percents or c.has_word("volume", "level"):
        return False  # "drop the music to 20%": a verb of removal with a level is a volume
    unwanted = c.has_word("want", "need") and c.has_word("don't", "dont", "not")  # "I don't want the music"
    return c.has("remove", "cut") or c.has_word("nomusic", "novoice") or unwanted


def _audio_remove(c: Clause, v: View) -> Fill:
    roles = []
    if c.has("music") or c.has_word("nomusic"):
        roles.append("bgm")
    if c.has("voiceover") or c.has_word("novoice"):
        roles.append("voiceover")
    if not roles:
        roles = ["bgm"]
    present = [r for r in roles if v.audio_role(r) is not None]
    if not present:
        return Answer(
            "There is no "
            + " or ".join("music" if r == "bgm" else "voiceover" for r in roles)
            + " to remove."
        )
    return [_op(c, "remove_audio", role=r) for r in present]


def _volume_test(c: Clause, v: View) -> bool:
    if c.has_word("loud", "quiet", "noisy") or (c.has_word("too") and c.has_word("soft", "low")):
        return True
    if c.has_word("halve", "halved") and c.has("music", "voiceover"):
        return True  # "halve the music"
    bare_level = bool(c.of_kind(Kind.NUM)) and not c.of_kind(Kind.DUR) and len(c.words) <= 4  # "music 50"
    return (
        bool(c.percents)
        or c.has("lower", "raise", "mute", "unmute")
        or c.has_word("volume", "level")
        or bare_level
    )


def _volume(c: Clause, v: View) -> Fill:
    roles = []
    if c.has("music"):
        roles.append("bgm")
    if c.has("voiceover"):
        roles.append("voiceover")
    if len(roles) == 2 and not c.has_word("both", "and", "all"):
        # "lower the music when the voice talks": the first one named
        roles = ["bgm"] if c.index_of("music") < c.index_of("voiceover") else ["voiceover"]
    if not roles:
        roles = ["bgm"] if v.audio_role("bgm") else ["voiceover"]
    present = [r for r in roles if v.audio_role(r) is not None]
    if not present:
        return Answer("There is no " + ("music" if roles[0] == "bgm" else "voiceover") + " on the video yet.")
    if len(present) == 2 and (parts := _each_role(c)) is not None:
        # "the music is too loud and the voice is too quiet": each its own way
        ops: list[Op] = []
        for part in parts:
            fill = _volume(part, v)
            if not isinstance(fill, list):
                return fill
            ops += fill
        return ops
    role = present[0]
    current = next((a.vol for a in v.audio if a.role == role and a.vol is not None), None)
    default = 0.35 if role == "bgm" else 1.0  # the engine's level for a track that sets none
    level = _level(
        c, default if current is None else current, "the music" if role == "bgm" else "the voiceover"
    )
    if isinstance(level, Question):
        return level
    vol, factor = level
    if vol is None and factor is None:
        return Question("How loud should it be: a percentage like 30%, or louder / quieter?")
    if vol is not None and not 0 <= vol <= 1:
        return Answer(f"A volume goes from 0% to 100%; {vol * 100:g}% is out of range.")
    return [_op(c, "set_volume", target=r, vol=vol, factor=factor) for r in present]


def _each_role(c: Clause) -> tuple[Clause, Clause] | None:
    """The clause cut where its second audio role begins, when each part says its own level
    ("the music is too loud and the voice is too quiet"); None when they share one ("lower both")."""
    marks = [
        i
        for i, t in enumerate(c.toks)
        if t.kind is Kind.WORD and lx.concepts_of(t.norm) & {"music", "voiceover"}
    ]
    if len(marks) < 2:
        return None
    start = marks[1]
    while start > marks[0] + 1 and c.toks[start - 1].is_word("the", "my", "your"):
        start -= 1
    end = start
    while end > marks[0] + 1 and (
        c.toks[end - 1].is_word("and", "but", "while") or c.toks[end - 1].kind is Kind.PUNCT
    ):
        end -= 1
    first, second = Clause(c.toks[:end], c.source), Clause(c.toks[start:], c.source)

    def says_a_level(part: Clause) -> bool:
        return (
            bool(part.percents)
            or part.has("lower", "raise", "mute")
            or part.has_word("loud", "quiet", "soft", "low")
        )

    return (first, second) if says_a_level(first) and says_a_level(second) else None


# spoken fractions of a level: "half", "a third", "a quarter", "three quarters"
_FRACTION_WORDS = {"half": 0.5, "halves": 0.5, "quarter": 0.25, "quarters": 0.25, "thirds": 1 / 3}


def _fraction(c: Clause) -> tuple[float, int] | None:
    """A spoken fraction in the clause and the index of its first token ("a quarter" → 0.25)."""
    toks = c.toks
    for i, t in enumerate(toks):
        prev = toks[i - 1] if i > 0 else None
        count = prev.value if prev is not None and prev.kind is Kind.NUM else 1.0
        start = i - 1 if prev is not None and prev.kind is Kind.NUM else i
        if t.kind is Kind.WORD and t.norm in _FRACTION_WORDS:
            return min(1.0, count * _FRACTION_WORDS[t.norm]), start
        if t.kind is Kind.ORD and t.value == 2 and prev is not None and (prev.is_word("a", "one")):
            return 1 / 3, i - 1  # "a third" (the ordinal "third")
    return None


def _level(
    c: Clause, current: float | None, what: str, *, bare_numbers: bool = True
) -> tuple[float | None, float | None] | Question:
    """The volume a clause asks for: ``(vol, None)`` for a level, ``(None, factor)`` for a change
    relative to the current one, or a question when the words allow two readings.

    "at 20%", "to a quarter", "half volume", "music 50" are levels; "by half", "halve it", "double it"
    and "down by a third" change the level by a factor; "down by 20%" could be points or a share of
    the level, so it is asked.
    """
    lower = c.has("lower") or (c.has_word("too") and c.has_word("loud", "noisy", "much"))
    louder = c.has("raise") or (c.has_word("too") and c.has_word("quiet", "soft", "low"))
    by = c.has_word("by")
    # a bare number is a level only where no number names a clip ("music 50", not "clip 3 to 50%")
    amounts = c.of_kind(Kind.PCT) or (c.of_kind(Kind.NUM) if bare_numbers else [])
    fraction = _fraction(c)
    if c.has_word("halve", "halved", "halves") or (
        by and fraction is not None and fraction[0] == 0.5 and not louder
    ):
        return None, 0.5  # "halve the music", "cut it in half", "lower it by half"
    if c.has_word("double", "doubled"):
        return None, 2.0
    if c.multipliers:  # "twice as loud", "3x louder", "2x quieter"
        return None, (1 / c.multipliers[0]) if lower and not louder else c.multipliers[0]
    if c.has("mute"):
        return 0.0, None
    if c.has("unmute") or c.has_word("full", "max", "maximum"):
        return 1.0, None
    if fraction is not None and not c.percents:
        share = fraction[0]
        if not by:
            return share, None  # "down to a quarter", "at half volume"
        if lower == louder:
            return Question(f"Should the level go down or up by {share:.0%} of what it is now?")
        return None, (1 - share) if lower else (1 + share)
    if amounts:
        first = amounts[0]
        value = first.value if first.kind is Kind.PCT or first.value <= 1 else first.value / 100
        if not by:
            return value, None
        if lower == louder:
            return Question(f"Should the level go down or up by {value:.0%}?")
        sign = -1 if lower else 1
        verb = "Lower" if lower else "Raise"
        if current is None:
            return Question(
                f"{verb} {what} by {value * 100:g} percentage points, or by {value * 100:g}% of its level?"
            )
        points = max(0.0, min(1.0, current + sign * value))
        share = max(0.0, min(1.0, current * (1 + sign * value)))
        return Question(
            f"{verb} {what} by {value * 100:g} points ({current:.0%} → {points:.0%}), or by {value * 100:g}%"
            f" of its level ({current:.0%} → {share:.0%})?"
        )
    if lower:
        return None, 0.5  # "turn the music down", "the music is too loud"
    if louder or c.has_word("loud"):
        return None, 1.5  # "the voiceover is too quiet"
    return None, None


def _audio_fade(c: Clause, v: View) -> Fill:
    role = _audio_role(c, v)
    if v.audio_role(role) is None:
        return Answer("There is no " + ("music" if role == "bgm" else "voiceover") + " to fade.")
    length = c.times.for_ or c.times.any_length or c.times.at or DEFAULT_AUDIO_FADE_MS
    wants_in = c.has("fade_in") or c.has_word("in", "start", "starts", "beginning")
    fade_in = length if wants_in else None
    fade_out = length if c.has("fade_out") or c.has_word("out") or not wants_in else None
    return [_op(c, "set_fade", target=role, fade_in=fade_in, fade_out=fade_out)]


def _dislike_test(c: Clause, v: View) -> bool:
    return c.has_word("like", "hate", "dislike", "love") and c.has_word(
        "don't", "dont", "not", "hate", "dislike"
    )


def _dislike_audio(c: Clause, v: View) -> Fill:
    role = _audio_role(c, v)
    current = v.audio_role(role)
    what = "music" if role == "bgm" else "voiceover"
    if current is None:
        return Answer(f"There is no {what} on the video.")
    others = [
        m.filename
        for m in v.media
        if m.kind == "audio" and m.id != current.src and is_voice_like(m) == (role == "voiceover")
    ]
    swap = f"swap it for {' or '.join(others)}, " if others else ""
    return Question(f"The {what} is {current.name}; should I {swap}lower it, or remove it?")


def _audio_set_test(c: Clause, v: View) -> bool:
    if c.has("change", "swap", "use", "add", "replace", "make") or bool(c.files):
        return True
    wish = c.has_word(
        "be", "should", "want", "prefer", "instead", "rather"
    )  # "the music should be the calm one"
    return wish and audio_choice(c, v, _audio_role(c, v)) is not None


def _loop(c: Clause, v: View) -> Fill:
    role = _audio_role(c, v)
    if v.audio_role(role) is None:
        return Answer("There is no " + ("music" if role == "bgm" else "voiceover") + " to loop.")
    off = c.has_word("don't", "dont", "not", "no", "stop", "without", "once")
    return [_op(c, "set_loop", role=role, loop=not off)]


def _audio_timing_test(c: Clause, v: View) -> bool:
    return c.has_word("start", "starts", "begin", "begins", "delay", "later") and (
        c.times.at is not None or c.has_word("delay", "later")
    )


def _audio_timing(c: Clause, v: View) -> Fill:
    what = "voiceover" if _audio_role(c, v) == "voiceover" else "music"
    return Answer(
        f"The {what} starts with the video and the local engine can't move it yet; I can trim the clips, "
        f"fade the {what} in (e.g. fade in the {what} over 2 seconds) or change its volume."
    )


def _audio_set(c: Clause, v: View) -> Fill:
    role = _audio_role(c, v)
    if (
        c.has("voiceover")
        and c.has("music")
        and c.has_word("as")
        and c.index_of("music") > c.index_of("voiceover")
    ):
        role = "bgm"
    chosen = audio_choice(c, v, role)
    if chosen is None and c.has_word("another", "different", "other", "next"):
        current = v.audio_role(role)
        others = [
            m
            for m in v.media
            if m.kind == "audio"
            and is_voice_like(m) == (role == "voiceover")
            and (current is None or m.id != current.src)
        ]
        chosen = others[0] if others else None
    current = v.audio_role(role)
    if chosen is None and not c.files and c.has("add") and current is not None:
        names = [
            m.filename for m in v.media if m.kind == "audio" and m.id != current.src and not is_voice_like(m)
        ]
        what = "music" if role == "bgm" else "voiceover"
        return Question(
            f"The {what} is {current.name} now; should I swap it for "
            + (" or ".join(names) or "another upload")
            + "?"
        )
    if chosen is None and not c.files and (c.has("add") or current is None):
        chosen = unused_audio(v, role)
    if chosen is None:
        audios = [
            m.filename for m in v.media if m.kind == "audio" and is_voice_like(m) == (role == "voiceover")
        ]
        audios = audios or [m.filename for m in v.media if m.kind == "audio"]
        what = "music" if role == "bgm" else "voiceover"
        if c.files:
            return Answer(
                f"There is no upload named {c.files[0]}; the audio uploads are: "
                f"{', '.join(audios) or 'none'}."
            )
        if not audios:
            return Answer(
                f"There is no audio upload to use as {what}; upload one first "
                "(AI music generation needs the NemoVideo cloud)."
            )
        return Question(f"Which track should be the {what}: {', '.join(audios)}?")
    return [
        _op(c, "set_audio", role=role, media=chosen.id, name=chosen.filename, source_d=chosen.duration_ms)
    ]


def _video_fade(c: Clause, v: View) -> Fill:
    if not v.mains:
        return Answer("There are no clips to fade yet.")
    length = c.times.for_ or c.times.any_length or DEFAULT_VIDEO_FADE_MS
    ops: list[Op] = []
    start = c.has("fade_in") or c.has_word("in", "at_start", "beginning", "start", "intro")
    end = c.has("fade_out") or c.has_word("out", "at_end", "end", "ending", "outro")
    if start:
        ops.append(_op(c, "set_fade", target=MainRef(index=0), fade_in=length, fade_out=None))
    if end or not ops:
        ops.append(_op(c, "set_fade", target=MainRef(index=-1), fade_in=None, fade_out=length))
    return ops


def _between_clips(c: Clause, v: View) -> list[MainRef]:
    """ "between clips 2 and 3" / "between 1 and 2": the clips a transition joins."""
    if not c.has_word("between"):
        return []
    refs = _refs(c, v)
    return refs if len(refs) >= 2 else [MainRef(index=n - 1) for n in _bare_numbers(c)][:2]


def _transition_test(c: Clause, v: View) -> bool:
    return c.has("transition") or (
        c.has("fade", "fade_in", "fade_out") and (len(_between_clips(c, v)) >= 2 or _between_all(c))
    )


def _names_the_current(c: Clause) -> bool:
    """A transition word after "the" ("the fade", "the crossfades") names the ones there are."""
    toks = c.toks
    return any(
        t.kind is Kind.WORD
        and (t.norm in lx.TRANSITIONS or t.norm in ("fade", "fades"))
        and toks[i - 1].is_word("the")
        for i, t in enumerate(toks)
        if i > 0
    )


def _between_all(c: Clause) -> bool:
    """ "the fade between photos", "fades between each clip": the transitions, not the video's fade."""
    return c.has_word("between") and (c.has_word("each", "every", "all") or c.has_word(*_PLURAL_CLIPS))


_PLURAL_CLIPS = ("photos", "pictures", "images", "clips", "shots", "scenes", "slides", "stills", "videos")


def _transition(c: Clause, v: View) -> Fill:
    words = c.words
    kinds = [lx.TRANSITIONS[w] for w in words if w in lx.TRANSITIONS]
    # "replace the crossfades with wipes": the kind named last is the one wanted
    kind = kinds[-1] if kinds else None
    if kind is None and c.has("fade_in", "fade_out"):
        kind = "fade"  # "a fade to black between clips 4 and 5"
    length = c.times.for_ or c.times.any_length
    scale = None
    if length is None:
        if c.has_word("slower", "longer", "slow", "gentler", "smoother"):
            scale = 2.0
        elif c.has_word("faster", "quicker", "shorter", "snappier", "quick", "fast"):
            scale = 0.5
    if kind is not None and c.has("remove") and not c.has_word("to", "with", "into", "instead", "for"):
        kind = "none"  # "get rid of the crossfades": no transitions there (not crossfades again)
    if kind is not None and (scale is not None or length is not None) and _names_the_current(c):
        kind = None  # "make the fade between photos shorter": the transitions there are, shorter
    if kind is None and c.has("remove"):
        kind = "none"
    if kind is None and scale is None and length is None:
        kind = "crossfade"
    nth = _nth_transition(c, v)
    if isinstance(nth, Question):
        return nth
    refs = [nth] if nth is not None else (_between_clips(c, v) or _refs(c, v))
    target = refs[0] if refs and refs[0].every is None else None
    return [_op(c, "set_transition", target=target, kind=kind, d_ms=length, scale=scale)]


def _nth_transition(c: Clause, v: View) -> MainRef | Question | None:
    """ "the first transition" → the clip it leads out of (clip 1); "the last transition" → the one
    before the last clip."""
    toks = c.toks
    count = len(v.mains) - 1
    for i, t in enumerate(toks[:-1]):
        if t.kind is Kind.ORD and toks[i + 1].is_word(
            "transition", "transitions", "cut", "fade", "crossfade"
        ):
            index = int(t.value) if t.value >= 0 else count + int(t.value)
            if not 0 <= index < count:
                return Question(
                    f"There are {count} transitions here; which one (the first to the {_nth(count)})?"
                )
            return MainRef(index=index)
    return None


def _nth(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _motion(c: Clause, v: View) -> Fill:
    words = set(c.words)
    moving = words & {"zoom", "zooms", "zooming", "pan", "panning", "motion", "movement"}
    verb = c.words[0] if c.words else ""
    # "slow the zoom", "make the pan faster" ask for a speed; "give it a slow zoom out" names a motion
    if moving and (words & {"slower", "faster", "quicker", "speed", "gentler"} or verb in ("slow", "speed")):
        return Answer(
            "The motion runs over the whole photo, so its speed follows the photo's length: make the photo "
            'longer to slow it, or shorter to speed it up (e.g. "make the first photo 8 seconds").'
        )
    if words & {"static"} or c.has("remove") or "none" in words or "stop" in words:
        motion = "none"
    elif "zoom" in words or "zooms" in words or "zooming" in words:
        motion = "zoom_out" if "out" in words else "zoom_in"
    elif words & {"pan", "panning"}:
        direction = next((w for w in ("left", "right", "up", "down") if w in words), "right")
        motion = f"pan_{direction}"
    elif "ken" in words or "zoom_in" in words:
        motion = "zoom_in"
    else:
        motion = "zoom_in"
    refs = _refs(c, v)
    if not refs:
        refs = [MainRef(every="all" if motion == "none" else "image")]
    kind = "zoom" if words & {"zoom", "zooms", "zooming"} else "pan" if words & {"pan", "panning"} else None
    if motion == "none" and kind is not None and all(r.every is not None for r in refs):
        # "remove the zoom from the photos": the zooming ones stop; a pan stays
        refs = [MainRef(index=i) for i, s in enumerate(v.mains) if s.motion.startswith(kind)]
        if not refs:
            return Answer(f"No clip has a {kind} now, so nothing changed.")
    return [_op(c, "set_motion", target=r, motion=motion, alternate="ken" in words) for r in refs]


def _slower(c: Clause) -> bool:
    """ "slow down", "slow the second clip down", "slow motion", "slower"."""
    return c.has("slowdown") or (c.has_word("slow") and c.has_word("down", "motion"))


def _speed_test(c: Clause, v: View) -> bool:
    split_up = c.has_word("speed") and c.has_word("up")  # "speed the intro up"
    return (
        c.has("speedup")
        or _slower(c)
        or split_up
        or (bool(c.multipliers) and _length_factor(c) is None and not _shown_again(c))  # "2x": a speed
        or c.has_word("speed", "normal_speed", "slowmo")
    )


def _speed(c: Clause, v: View) -> Fill:
    if c.multipliers:
        speed = c.multipliers[0]
        if _slower(c) and speed > 1:
            speed = 1 / speed  # "slow it down 2x"
    elif c.has_word("normal_speed", "normal", "regular"):
        speed = 1.0
    elif c.percents:
        speed = c.percents[0]
    elif c.has_word("double_speed"):
        speed = 2.0
    elif _slower(c):
        speed = 0.5
    else:
        speed = 1.5
    refs = _refs(c, v)
    if not refs:
        if c.has("video") or len(v.mains) == 1:
            refs = [MainRef(every="all")]
        else:
            return Question(f"Which clip should play at {speed:g}x: {_clip_list(v)}, or all of them?")
    return [_op(c, "set_speed", target=r, speed=speed) for r in refs]


def _clip_volume_test(c: Clause, v: View) -> bool:
    if c.has("music", "voiceover") or not _refs(c, v):
        return False
    switched_off = c.has_word("turn", "switch") and c.has_word("off")  # "turn the clip audio off"
    return (
        c.has("mute", "unmute")
        or switched_off
        or c.has_word("volume", "sound", "audio", "louder", "quieter", "softer", "loud", "quiet", "noise")
        or (c.has_word("clip_audio") and (c.has("lower", "raise") or bool(c.percents)))
    )


def _clip_volume(c: Clause, v: View) -> Fill:
    """A clip's own sound: "lower the volume of clip 3 to 50%", "turn off the sound of the first clip"."""
    if (c.has_word("turn", "switch") and c.has_word("off")) or (
        c.has_word("no", "without") and c.has_word("sound", "audio", "clip_audio")
    ):
        vol: float | None = 0.0  # "turn the clip audio off", "could the clips have no sound"
        factor: float | None = None
    else:
        level = _level(c, None, "the clip's sound", bare_numbers=False)
        if isinstance(level, Question):
            return level
        vol, factor = level
    if vol is None and factor is None:
        return Question("How loud should the clip be: a percentage like 50%, or muted?")
    return [_op(c, "set_volume", target=r, vol=vol, factor=factor) for r in _refs(c, v)]


def _mute_clip(c: Clause, v: View) -> Fill:
    vol = 0.0 if c.has("mute") else 1.0
    refs = _refs(c, v)
    if not refs:
        target = _one_target(c, v, "mute")
        if isinstance(target, Question):
            return target
        refs = [target] if target is not None else [MainRef(every="video")]
    return [_op(c, "set_volume", target=r, vol=vol, factor=None) for r in refs]


def _split(c: Clause, v: View) -> Fill:
    refs = _refs(c, v)
    times = c.times
    at = times.at if times.at is not None else (times.bare[0] if times.bare else None)
    half = c.has_word("half", "middle", "halves", "two")
    if at is None and not half:
        return Question("Where should I split it (e.g. split the first clip at 3 seconds)?")
    if refs:
        return [_op(c, "split_segment", target=refs[0], at_ms=at, relative=True, half=half and at is None)]
    if at is None:
        if c.has_word("video", "whole", "everything", "movie", "film") and len(v.mains) > 1:
            # "cut the video in half": half as long, or a clip cut in two?
            return Question(
                f"Should the whole video be half as long ({secs(v.end_ms / 2)}), or one clip cut in two "
                f"(which: {_clip_list(v)})?"
            )
        target = _one_target(c, v, "split in half")
        if isinstance(target, Question):
            return target
        return [
            _op(c, "split_segment", target=target or MainRef(index=0), at_ms=None, relative=True, half=True)
        ]
    return [_op(c, "split_segment", target=None, at_ms=at, relative=False, half=False)]


def _shown_again(c: Clause) -> bool:
    """ "show the first photo twice", "play clip 2 again at the end": a clip seen again is a copy."""
    again = 2.0 in c.multipliers or c.has_word("again")
    return again and c.has_word("show", "see", "play", "display", "use", "include") and not c.quotes


def _duplicate(c: Clause, v: View) -> Fill:
    target = _one_target(c, v, "duplicate")
    if isinstance(target, Question):
        return target
    if target is None:
        return Question(f"Which clip should I duplicate: {_clip_list(v)}?")
    to = -1 if c.has_word("at_end", "to_end") else 0 if c.has_word("at_start", "to_start") else None
    return [_op(c, "duplicate_segment", target=target, to=to)]


def _bare_numbers(c: Clause) -> list[int]:
    """Whole numbers said without a unit ("swap 1 & 5")."""
    return [int(t.value) for t in c.of_kind(Kind.NUM) if t.value == int(t.value) and t.value >= 1]


def _swap(c: Clause, v: View) -> Fill:
    refs = _refs(c, v)
    if len(refs) < 2:
        refs = [MainRef(index=n - 1) for n in _bare_numbers(c)]
    if len(refs) < 2:
        return Question(f"Which two clips should I swap: {_clip_list(v)}?")
    return [_op(c, "swap_segments", a=refs[0], b=refs[1])]


def _reorder(c: Clause, v: View) -> Fill:
    backwards = c.has("reverse") and not c.has_word("order", "reorder", "rearrange", "sort")
    if backwards and any(r.every is None for r in _refs(c, v)):
        return Answer(
            'Playing a clip backwards isn\'t something the local engine does; "reverse the order" plays the '
            "clips last to first."
        )
    if c.has("reverse") or c.has_word("reverse"):
        return [_op(c, "reorder_segments", order=tuple(range(len(v.mains) - 1, -1, -1)))]
    nums = [int(t.value) for t in c.of_kind(Kind.NUM) if t.value == int(t.value)]
    if sorted(nums) == list(range(1, len(v.mains) + 1)) and nums:
        return [_op(c, "reorder_segments", order=tuple(n - 1 for n in nums))]
    return Question(
        f"Now the clips are {_clip_list(v)}; in which order should they play (all {len(v.mains)} numbers, "
        f'e.g. "reorder the clips {", ".join(str(k) for k in range(len(v.mains), 0, -1))}")?'
    )


_SHOT_WORDS = ("shot", "clip", "photo", "image", "picture", "scene")


def _leads_with(c: Clause) -> int | None:
    """ "lead with clip C", "open with the detail shot" → 0; "end on / close with the front shot" → -1."""
    words = c.words
    # "make the side shot the opening shot": a clip named first, then the place it takes (one shot noun
    # alone is the subject: "make the closing shot twice as long")
    becomes = (c.has("make") or c.has_word("be")) and sum(w in _SHOT_WORDS for w in words) >= 2
    for i, w in enumerate(words[:-1]):
        placed_last = not any(x in _SHOT_WORDS for x in words[i + 2 :])
        if becomes and placed_last and words[i + 1] in _SHOT_WORDS and w in ("opening", "closing", "final"):
            return 0 if w == "opening" else -1
        if words[i + 1] not in ("with", "on"):
            continue
        if w in ("lead", "open", "begin", "start", "starts", "opens", "leads", "kick"):
            return 0
        if w in ("end", "close", "finish", "ends", "closes", "finishes", "wrap"):
            return -1
    return None


def _move_test(c: Clause, v: View) -> bool:
    placed = c.has("move") or _ends_with_place(c) or _leads_with(c) is not None
    # "play clip c before clip a", "show the detail shot after the front one": one clip placed by another
    ordered = c.has_word("play", "show") and c.has_word("before", "after") and len(main_refs(c, v)) == 2
    return bool(_refs(c, v)) and (placed or ordered)


def _ends_with_place(c: Clause) -> bool:
    """ "show the lifestyle images first", "the third picture should come first": a place at the end."""
    toks = [t for t in c.toks if t.kind is not Kind.PUNCT]
    last = toks[-1] if toks else None
    if last is None:
        return False
    return (
        last.kind is Kind.ORD
        and last.value in (0, -1)
        and len(toks) > 1
        and toks[-2].kind is Kind.WORD
        and "clip" in lx.concepts_of(toks[-2].norm)
    ) or last.is_word("to_end", "to_start", "at_end", "at_start")


def _move(c: Clause, v: View) -> Fill:
    found = main_refs(c, v)
    pos, target = found[0]
    if (lead := _leads_with(c)) is not None:
        group = [r for p, r in found if p == pos]
        if len(group) > 1:
            return [_op(c, "move_segments", targets=tuple(group if lead == -1 else reversed(group)), to=lead)]
        return [_op(c, "move_segment", target=target, to=lead, after=None, before=None)]
    dest = destination(c, v, pos)
    if dest is None:
        return Question(
            f"Where should {target.describe()} go: to the start, to the end, or after another clip?"
        )
    group = [r for p, r in found if p == pos]  # "the first 2 clips", "the lifestyle photos"
    if dest.index in (0, -1) and len(group) > 1:
        order = group if dest.index == -1 else list(reversed(group))
        return [_op(c, "move_segments", targets=tuple(order), to=dest.index)]
    if len(group) > 1 and (dest.before is not None or dest.after is not None):
        # each in turn, so that they keep their order: before X, or after X (last one first)
        order = [_named(r, v) for r in (group if dest.before is not None else reversed(group))]
        after, before = _by_name(dest.after, v), _by_name(dest.before, v)  # places shift as clips move
        return [_op(c, "move_segment", target=r, to=None, after=after, before=before) for r in order]
    return [_op(c, "move_segment", target=target, to=dest.index, after=dest.after, before=dest.before)]


def _named(ref: MainRef, v: View) -> MainRef:
    return _by_name(ref, v) or ref


def _by_name(ref: MainRef | None, v: View) -> MainRef | None:
    """A clip named by its place as the same clip named by its file (when no other clip shows that file),
    which the moves before it do not shift."""
    if ref is None or ref.index is None or not -len(v.mains) <= ref.index < len(v.mains):
        return ref
    name = v.mains[ref.index].name
    return MainRef(file=name) if sum(s.name == name for s in v.mains) == 1 else ref


def _unwanted_test(c: Clause, v: View) -> bool:
    """ "I don't want the lifestyle photos in there": clips the user does not want are removed."""
    negated = c.has_word("want", "need") and c.has_word("don't", "dont", "not", "no")
    return negated and bool(_refs(c, v)) and not c.has("text", "title", "music", "voiceover")


def _photo_background(c: Clause, v: View) -> Fill:
    return Answer(
        "I can't cut out or replace what is behind the subject of a photo with the local engine. The "
        'closest I can do is how a photo fills the frame: "fit the photos with a blurred background" or '
        '"fill the frame".'
    )


def _remove_clip_test(c: Clause, v: View) -> bool:
    return not (c.has("cut", "shorten") and c.times.any_length is not None)


def _remove_clip(c: Clause, v: View) -> Fill:
    refs = _refs(c, v)
    if not refs:
        target = _one_target(c, v, "remove")
        if isinstance(target, Question):
            return target
        if target is None:
            return Question(
                f"What should I remove: a clip ({_clip_list(v)})"
                + (f", or a text ({_text_list(v.texts)})" if v.texts else "")
                + "?"
            )
        refs = [target]
    return [_op(c, "remove_segment", targets=tuple(refs))]


def _new_visual(c: Clause, v: View) -> MediaRef | None:
    """An uploaded image or clip the clause names that the video does not show yet."""
    used = {s.name for s in v.mains}
    named = [m for f in c.files if (m := v.media_named(f)) is not None and m.kind in ("image", "video")]
    return next((m for m in named if m.filename not in used), None)


def _replace_clip_test(c: Clause, v: View) -> bool:
    return c.has("replace", "swap", "use", "change") and bool(_refs(c, v)) and _new_visual(c, v) is not None


def _replace_clip(c: Clause, v: View) -> Fill:
    """ "replace clip 2 with bonus.jpg", "use bonus.jpg instead of the second image": same place."""
    m = _new_visual(c, v)
    assert m is not None
    target = next(r for r in _refs(c, v) if r.file != m.filename)
    index = target.index
    if index is None:
        index = next((k for k, s in enumerate(v.mains) if s.name == target.file), 0)
    if not -len(v.mains) <= index < len(v.mains):
        return Answer(f"There is no {target.describe()}; the video has {len(v.mains)} clips.")
    index %= len(v.mains)
    length = c.times.any_length or (v.mains[index].d if m.kind == "image" else None)
    add = _op(
        c,
        "add_main",
        media=m.id,
        name=m.filename,
        kind=m.kind,
        source_d=m.duration_ms,
        has_audio=m.has_audio,
        d_ms=length,
        to=index if index < len(v.mains) - 1 else -1,
        after=None,
        before=None,
    )
    return [_op(c, "remove_segment", targets=(MainRef(index=index),)), add]


_CARD_COLOURS = {**lx.COLORS, "blank": "#000000", "dark": "#111111"}


def _card_test(c: Clause, v: View) -> bool:
    screen = c.has_word("screen", "frame") and c.has_word(
        "black", "blank", "white", "colour", "color", *lx.COLORS
    )
    return c.has("add") and (c.has_word("card", "slate") or screen)


def _add_card(c: Clause, v: View) -> Fill:
    """ "add an end card saying 'Thanks for watching'", "a 3 second title card 'Summer' at the start"."""
    first = c.has_word("intro", "opening", "start", "beginning", "at_start", "to_start", "title", "front")
    last = c.has_word("end", "outro", "ending", "closing", "at_end", "to_end")
    to = 0 if first and not last else -1
    colour = next((_CARD_COLOURS[w] for w in c.words if w in _CARD_COLOURS), "#111111")
    length = c.times.for_ or c.times.any_length or DEFAULT_TEXT_MS
    ops = [
        _op(
            c,
            "add_main",
            media="",
            name=None,
            kind="color",
            color=colour,
            d_ms=length,
            to=to,
            after=None,
            before=None,
            source_d=None,
            has_audio=False,
        )
    ]
    for text in c.quotes or ([said] if (said := unquoted_text(c)) else []):
        ops.append(
            _op(
                c,
                "add_text",
                text=text,
                st=0,
                d_ms=length,
                position="center",
                role="title" if to == 0 else "caption",
                anchor=MainRef(index=to),
                offset_ms=0,
            )
        )
    return ops


def _add_clip_test(c: Clause, v: View) -> bool:
    files = [v.media_named(f) for f in c.files]
    if any(m is not None and m.kind in ("image", "video") for m in files):
        return True
    return c.has("clip") and c.has_word("new", "latest", "uploaded", "another")


def _add_clip(c: Clause, v: View) -> Fill:
    used = {s.name for s in v.mains}
    media = [m for f in c.files if (m := v.media_named(f)) is not None and m.kind in ("image", "video")]
    if not media:
        fresh = [m for m in v.media if m.kind in ("image", "video") and m.filename not in used]
        if not fresh:
            return Answer("Every uploaded image and clip is already in the video; upload a new one first.")
        media = [fresh[-1]]
    named_at = next((i for i, t in enumerate(c.toks) if t.kind in (Kind.FILE, Kind.QUOTE)), -1)
    dest = destination(c, v, named_at)
    ops = []
    for m in media:
        ops.append(
            _op(
                c,
                "add_main",
                media=m.id,
                name=m.filename,
                kind=m.kind,
                source_d=m.duration_ms,
                has_audio=m.has_audio,
                d_ms=c.times.any_length,
                to=None if dest is None else dest.index,
                after=None if dest is None else dest.after,
                before=None if dest is None else dest.before,
            )
        )
    return ops


def _length_of(c: Clause) -> tuple[int | None, int | None]:
    """(new length, change): "to 2s" / "2 seconds" → length; "by 2s" / "2 seconds off" → change."""
    t = c.times
    longer = c.has("lengthen") or c.has_word("increase", "add", "more", "extra", "longer", "extend")
    sign = 1 if longer and not c.has("shorten") else -1
    if t.by is not None:
        return None, sign * t.by
    if t.bare and c.has_word("off", "from", "less", "more", "extra", "longer", "shorter"):
        if not c.has_word("off", "from", "less", "more", "extra") and _comparative_first(c):
            return t.bare[0], None  # "a bit longer, like 8 seconds": the length it should have
        change = t.bare[0]
        return None, change if c.has_word("more", "extra", "longer") else -change
    length = t.to if t.to is not None else (t.bare[0] if t.bare else t.for_)
    return length, None


def _comparative_first(c: Clause) -> bool:
    """ "longer" / "shorter" comes before the clause's first duration ("longer, like 8 seconds"), not
    right after it ("8 seconds longer", an amount)."""
    comparative = next((i for i, t in enumerate(c.toks) if t.is_word("longer", "shorter")), None)
    duration = next((i for i, t in enumerate(c.toks) if t.kind is Kind.DUR), None)
    return comparative is not None and duration is not None and comparative < duration


def _contradicts(c: Clause, length: int, now: int) -> bool:
    """A length that goes the other way than the clause's own word ("longer ... 3 seconds" of 6 s)."""
    grow = c.has_word("longer", "lengthen", "extend", "prolong", "stretch")
    shrink = c.has_word("shorter", "shorten", "shrink", "tighten")  # "trim to 10s" just sets a length
    return grow != shrink and ((grow and length <= now) or (shrink and length >= now))


def _length_factor(c: Clause) -> float | None:
    """ "half as long" → 0.5, "twice as long" / "double the length" → 2, "3x longer" → 3."""
    if not c.has_word("long", "longer", "length", "duration", "short", "shorter"):
        return None
    if c.has_word("half", "halve", "halved", "halving"):
        return 0.5
    if c.has_word("double", "doubled"):
        return 2.0
    if c.multipliers:
        m = c.multipliers[0]
        return 1 / m if c.has_word("shorter", "short") and m > 1 else m
    return None


def _edge(c: Clause) -> tuple[int, int] | None:
    """ "the first 2 seconds" → (0, 2000), "the last 3 seconds" → (-1, 3000)."""
    toks = c.toks
    for i, t in enumerate(toks[:-1]):
        if t.kind is Kind.ORD and t.value in (0, -1) and toks[i + 1].kind is Kind.DUR:
            return int(t.value), round(toks[i + 1].value)
    return None


def _to_the_edge(c: Clause) -> bool:
    """ "trim it to its first 3 seconds": the edge is what stays (not "cut the first 3 seconds off")."""
    toks = c.toks
    for i, t in enumerate(toks[:-1]):
        if t.kind is Kind.ORD and t.value in (0, -1) and toks[i + 1].kind is Kind.DUR:
            j = i - 1
            while j >= 0 and toks[j].is_word("its", "the", "their"):
                j -= 1
            return j >= 0 and toks[j].is_word("to", "down")
    return False


def _span_trim(c: Clause, v: View) -> Fill | None:
    """ "trim clip b from 1s to 5s", "keep only 0:02-0:05 of the first clip": that stretch of the source."""
    rng = c.times.range_
    refs = [r for r in _refs(c, v) if r.every is None]
    if (
        rng is None
        or len(refs) != 1
        or (not c.has("shorten", "use", "make", "cut") and not c.has_word("keep", "only"))
    ):
        return None
    return [_op(c, "trim_segment", target=refs[0], source_from=rng[0], d_ms=rng[1] - rng[0])]


def _edge_trim(c: Clause, v: View, edge: tuple[int, int]) -> Fill:
    side, ms = edge
    refs = [r for r in _refs(c, v) if r.every is None] or [MainRef(index=side)]
    keep = c.has_word("keep", "only", "use", "just") or _to_the_edge(c)
    ops = []
    for r in refs:
        if keep:
            ops.append(_op(c, "trim_segment", target=r, d_ms=ms, keep_last=side == -1))
        elif side == 0:
            ops.append(_op(c, "trim_segment", target=r, head_ms=ms))
        else:
            ops.append(_op(c, "trim_segment", target=r, change_ms=-ms))
    return ops


_ENDS = ("finish", "finishes", "end", "ends", "stop", "stops", "cut", "out")


def _ends_at(c: Clause, v: View) -> list[Op] | None:
    """ "the opening shot should finish at 0:04": one clip ends at a time → its new length."""
    at = c.times.at
    refs = [r for r in _refs(c, v) if r.every is None and r.index is not None]
    if at is None or len(refs) != 1 or not c.has_word(*_ENDS) or c.times.range_ is not None:
        return None
    index = refs[0].index or 0
    if not -len(v.mains) <= index < len(v.mains):
        return None
    start = v.mains[index].st
    if at <= start:
        return None
    return [_op(c, "trim_segment", target=refs[0], d_ms=at - start, change_ms=None)]


def _trim_test(c: Clause, v: View) -> bool:
    if _ends_at(c, v) is not None:
        return True
    if _edge(c) is not None and (c.has("shorten", "remove", "cut", "use", "make") or c.has_word("keep")):
        return True
    refs = _refs(c, v)
    sized = (
        c.times.range_ is not None
        or c.has("shorten", "lengthen")
        or (c.has_word("too") and c.has_word("long", "short"))  # "the first image is on screen too long"
        or c.times.any_length is not None
        or c.times.by is not None
        or _length_factor(c) is not None
    )
    return (bool(refs) and sized) or (
        generic_clip(c) and not c.has("video") and len(v.mains) > 0 and c.times.any_length is not None
    )


def _trim(c: Clause, v: View) -> Fill:
    if (ends := _ends_at(c, v)) is not None:
        return ends
    if (edge := _edge(c)) is not None:
        return _edge_trim(c, v, edge)
    if (span := _span_trim(c, v)) is not None:
        return span
    refs = _refs(c, v)
    if refs and all(r.every for r in refs):  # "make every photo shorter"
        length, change = _length_of(c)
        if length is None and change is None:
            return Question(
                f'The clips are {_clip_list(v)}; how long should each be (e.g. "3 seconds each")?'
            )
        return [_op(c, "trim_segment", target=r, d_ms=length, change_ms=change) for r in refs]
    refs = [r for r in refs if r.every is None]
    if not refs:
        target = _one_target(c, v, "change")
        if isinstance(target, Question):
            return target
        refs = [target] if target is not None else []
    if not refs:
        return Question(f"Which clip: {_clip_list(v)}?")
    length, change = _length_of(c)
    if length is None and change is None and (factor := _length_factor(c)) is not None:
        return [_op(c, "trim_segment", target=r, factor=factor) for r in refs]
    lengths = [*c.times.lengths] if len(c.times.lengths) == len(refs) > 1 else []
    if length is None and change is None:
        now = ", ".join(f"{r.describe()} is {secs(_seg_d(v, r))}" for r in refs)
        verb = "long" if c.has("lengthen") or (c.has_word("too") and c.has_word("short")) else "short"
        return Question(f'Right now {now}; how {verb} should it be (e.g. "to 3 seconds")?')
    ops = []
    for k, r in enumerate(refs):
        wanted = lengths[k] if lengths else length
        if wanted is not None and _contradicts(c, wanted, was := _seg_d(v, r)):
            way = "shorter" if c.has_word("shorter", "shorten", "shrink", "tighten") else "longer"
            other = was + wanted if way == "longer" else was - wanted
            readings = f"{secs(wanted)} long" + (
                f", or {secs(wanted)} {way} ({secs(other)})" if other > 0 else ""
            )
            return Question(f"{r.describe().capitalize()} is {secs(was)} now; make it {readings}?")
        ops.append(_op(c, "trim_segment", target=r, d_ms=wanted, change_ms=change))
    return ops


def _seg_d(v: View, r: MainRef) -> int:
    index = v.clip_index(r)
    return 0 if index is None else v.mains[index].d


def _total_test(c: Clause, v: View) -> bool:
    if c.has("text", "title", "music", "voiceover", "transition", "motion", "fade", "fade_in", "fade_out"):
        return False
    if c.has("video"):
        return True
    about_length = c.has("shorten", "lengthen", "make", "duration")
    return about_length and not _refs(c, v) and (c.times.any_length is not None or c.times.by is not None)


def _total(c: Clause, v: View) -> Fill:
    length, change = _length_of(c)
    if length is None and change is None and (factor := _length_factor(c)) is not None:
        length = round(v.end_ms * factor)  # "make the video half as long"
    if length is None and change is None:
        if c.has("shorten", "lengthen") or c.has_word("duration", "length", "long"):
            verb = "long" if c.has("lengthen") else "short"
            return Question(
                f'The video is {secs(v.end_ms)} now; how {verb} should it be (e.g. "make it 15 seconds")?'
            )
        return []
    total = length if length is not None else v.end_ms + (change or 0)
    if total <= 0:
        return Answer(f"The video can't be {secs(total)} long; it is {secs(v.end_ms)} now.")
    if change is not None and change < 0 and v.mains and (side := _side_of_video(c)) is not None:
        # "trim 2 seconds from the start", "cut 5 seconds off the end": that end of the video, shorter
        first = side == "start"
        which = "first" if first else "last"
        clip = v.mains[0 if first else -1]
        if -change >= clip.d:
            return Answer(
                f"The {which} clip is only {secs(clip.d)}; to cut {secs(-change)} there, remove it or say "
                f'which clips to shorten (e.g. "remove the {which} clip").'
            )
        cut = (
            _op(c, "trim_segment", target=MainRef(index=0), head_ms=-change)
            if first
            else _op(c, "trim_segment", target=MainRef(index=-1), change_ms=change)
        )
        return [cut, _op(c, "set_total_duration", total_ms=total)]  # (the asked length is the new one)
    return [_op(c, "set_total_duration", total_ms=total)]


def _side_of_video(c: Clause) -> str | None:
    """ "from the start (of the video)" → start; "off the end" / "at the end" → end; else None."""
    toks = c.toks
    for i, t in enumerate(toks):
        if t.is_word("at_start", "at_end"):
            return "start" if t.norm == "at_start" else "end"
        if (
            t.is_word("start", "beginning", "end", "ending")
            and i >= 2
            and toks[i - 1].is_word("the")
            and toks[i - 2].is_word("from", "off", "of", "at")
        ):
            return "start" if t.norm in ("start", "beginning") else "end"
    return None


_MORE_ENERGY = lx.MOOD_ENERGETIC | {"energetic", "punchier", "faster-paced", "snappier", "livelier", "pacier"}
_LESS_ENERGY = lx.MOOD_CALM | {"calmer", "slower-paced", "gentler", "softer", "mellower", "relaxing"}


def _mood_test(c: Clause, v: View) -> bool:
    words = set(c.words)
    about_whole = not _refs(c, v) and not c.has("text", "title", "music", "voiceover", "transition", "motion")
    return about_whole and bool(words & (_MORE_ENERGY | _LESS_ENERGY)) and not c.quotes


def _mood(c: Clause, v: View) -> Fill:
    """ "make it more energetic" / "make it calmer": the pacing and the music, as generation sets them."""
    words = set(c.words)
    energetic = bool(words & _MORE_ENERGY) and not (c.has_word("less") and not words & _LESS_ENERGY)
    if not v.mains:
        return Answer("There are no clips to pace yet.")
    ops = [
        _op(c, "set_transition", target=None, kind="crossfade", d_ms=250 if energetic else 1000, scale=None)
    ]
    group = lx.MUSIC_MOODS[0] if energetic else (lx.MUSIC_MOODS[2] if words & {"cinematic", "epic"} else None)
    group = group or lx.MUSIC_MOODS[1]
    current = v.audio_role("bgm")
    fitting = [
        m
        for m in v.media
        if m.kind == "audio" and not is_voice_like(m) and group & set(name_words(m.filename))
    ]
    if fitting and (current is None or all(m.id != current.src for m in fitting)):
        m = fitting[0]
        ops.append(_op(c, "set_audio", role="bgm", media=m.id, name=m.filename, source_d=m.duration_ms))
    if not energetic:
        ops.append(_op(c, "set_motion", target=MainRef(every="image"), motion="zoom_in", alternate=True))
    return ops


def _generic_clip_test(c: Clause, v: View) -> bool:
    return bool(_refs(c, v)) or generic_clip(c)


# ---------------------------------------------------------------------------------------------
# the table (first match wins)

_TEXT = _fs("text title caption")
_AUDIO = _fs("music voiceover")

RULES: tuple[Rule, ...] = (
    Rule(
        "ai_footage",
        _fs("ai"),
        _ai,
        unless=_fs("text title"),
        priority=1000,
        family="decline",
        produces=(),
        examples=("add a dancing robot", "generate AI footage of a beach"),
        counter=("add a title 'Robot sale'",),
    ),
    Rule(
        "photo_background",
        frozenset(),
        _photo_background,
        test=lambda c, v: c.has_word("background", "backdrop", "backgrounds") and not c.has("music", "fit"),
        priority=980,
        family="decline",
        produces=(),
        examples=("remove the background from the product photos", "replace the backdrop of the photos"),
        counter=("remove the background music",),
    ),
    Rule(
        "speech",
        frozenset(),
        _speech,
        test=_speech_test,
        priority=960,
        family="decline",
        produces=(),
        examples=("add automatic captions from the voiceover",),
        counter=("add a caption 'Hi' at 2s",),
    ),
    Rule(
        "vague",
        _fs("quality"),
        _quality,
        test=lambda c, v: (
            not c.quotes
            and not _refs(c, v)
            and not c.has("text", "title", "music", "voiceover", "transition", "motion", "aspect")
            and (c.has_word(*_ASKS_BETTER) or c.has("make", "change", "generate"))  # "looks great" is praise
        ),
        priority=940,
        family="ask",
        produces=(),
        examples=("make it better", "can you improve the video"),
        counter=("make the music better",),
    ),
    Rule(
        "add_card",
        frozenset(),
        _add_card,
        test=_card_test,
        priority=920,
        family="clips",
        produces=("add_main", "add_text"),
        examples=("add a black card saying 'The end' at the end",),
        counter=("add the text 'The end' at 28s",),
    ),
    Rule(
        "rename",
        _fs("rename"),
        _rename,
        test=lambda c, v: not _text_change_test(c, v) or c.has("video"),
        priority=900,
        family="text",
        produces=("set_title", "edit_text"),
        examples=("rename the video to Aurora",),
        counter=("rename the caption 'Lifestyle' to 'Home'",),
    ),
    Rule(
        "text_change",
        frozenset(),
        _text_change,
        test=_text_change_test,
        priority=880,
        family="text",
        produces=("edit_text",),
        examples=("change the text 'Lifestyle' to 'At home'",),
        counter=("change the music to the calm one",),
    ),
    Rule(
        "text_remove",
        _fs("remove cut"),
        _text_remove,
        test=lambda c, v: _targets_text(c, v) and not c.has("music", "voiceover"),
        priority=860,
        family="text",
        produces=("remove_text",),
        examples=("remove the caption 'Lifestyle'", "delete all the captions"),
        counter=("remove the last photo",),
    ),
    Rule(
        "no_text",
        frozenset(),
        _no_text,
        test=lambda c, v: c.has_word("notext") or _no_texts_wanted(c),
        priority=840,
        family="text",
        produces=("remove_text",),
        examples=("no text",),
        counter=("no music",),
    ),
    Rule(
        "text_style",
        frozenset(),
        _text_style,
        test=_style_test,
        priority=820,
        family="text",
        produces=("edit_text",),
        examples=("make the captions bigger", "make the text yellow"),
        counter=("make the music louder",),
    ),
    Rule(
        "text_add",
        frozenset(),
        _text_add,
        test=_text_add_test,
        priority=800,
        family="text",
        produces=("add_text", "set_title"),
        examples=("add the text 'Sale' at 5s", "for the last 5 seconds show 'Tap to shop'"),
        counter=("move the caption 'Lifestyle' to 20s",),
    ),
    Rule(
        "text_move",
        frozenset(),
        _text_move,
        test=_text_move_test,
        priority=780,
        family="text",
        produces=("edit_text",),
        examples=("move the caption 'Lifestyle' to 20s", "show the caption 'Product side' 2 seconds later"),
        counter=("make the caption 'Lifestyle' 2 seconds longer",),
    ),
    Rule(
        "text_time",
        frozenset(),
        _text_time,
        test=_text_time_test,
        priority=760,
        family="text",
        produces=("edit_text",),
        examples=(
            "make the caption 'Lifestyle' 2 seconds longer",
            "keep the caption 'Product front' on for 5 seconds",
        ),
        counter=("move the caption 'Lifestyle' to 20s",),
    ),
    Rule(
        "canvas",
        frozenset(),
        _canvas,
        test=lambda c, v: c.has("aspect") or bool(c.ratios),
        priority=740,
        family="canvas",
        produces=("set_canvas",),
        examples=("make it vertical", "format this for YouTube Shorts", "resize it to 1080 x 1080 pixels"),
        counter=("make it 20 seconds",),
        whole="the aspect ratio",
    ),
    Rule(
        "clip_volume",
        frozenset(),
        _clip_volume,
        test=_clip_volume_test,
        priority=720,
        family="audio",
        produces=("set_volume",),
        examples=("clips3: mute the first clip's own sound", "clips3: lower the original audio to 20%"),
        counter=("lower the music to 20%",),
        whole="a clip's sound level",
    ),
    Rule(
        "audio_remove",
        frozenset(),
        _audio_remove,
        test=lambda c, v: (c.has(*_AUDIO) or c.has_word("nomusic", "novoice")) and _audio_remove_test(c, v),
        priority=700,
        family="audio",
        produces=("remove_audio",),
        examples=("remove the music", "kill the voiceover"),
        counter=("drop the music to 20%",),
        whole="whether the music or voiceover plays",
    ),
    Rule(
        "audio_dislike",
        _AUDIO,
        _dislike_audio,
        test=_dislike_test,
        priority=680,
        family="audio",
        produces=("set_audio",),
        examples=("I don't like the music",),
        counter=("I don't want the lifestyle photos in there",),
    ),
    Rule(
        "audio_timing",
        _AUDIO,
        _audio_timing,
        test=_audio_timing_test,
        priority=660,
        family="audio",
        produces=("trim_segment", "set_audio"),
        examples=("start the music at 10 seconds into the song",),
        counter=("start the video with the detail shot",),
    ),
    Rule(
        "audio_loop",
        _AUDIO,
        _loop,
        test=lambda c, v: c.has_word("loop", "looping", "loops", "repeat"),
        priority=640,
        family="audio",
        produces=("set_loop",),
        examples=("don't loop the music", "loop the music"),
        counter=("loop the intro",),
        whole="whether the audio loops",
    ),
    Rule(
        "audio_fade",
        _fs("fade_in fade_out fade"),
        _audio_fade,
        also=_AUDIO,
        priority=620,
        family="audio",
        produces=("set_fade",),
        examples=("fade out the music", "fade in the music over 3 seconds"),
        counter=("fade out the video",),
    ),
    Rule(
        "audio_volume",
        _AUDIO | _fs("audio"),
        _volume,
        test=lambda c, v: _volume_test(c, v) and not (c.has("mute", "unmute") and _refs(c, v)),
        priority=600,
        family="audio",
        produces=("set_volume",),
        examples=(
            "set the music to 20%",
            "drop the background track down to 12 percent",
            "lower the music by a third",
            "make the music twice as loud",
        ),
        counter=("remove the music",),
        whole="the music or voiceover level (the music already ducks under the voiceover by itself)",
    ),
    Rule(
        "audio_set",
        _AUDIO,
        _audio_set,
        test=_audio_set_test,
        priority=580,
        family="audio",
        produces=("set_audio",),
        examples=("use the calm music", "would you mind swapping in the calm music?"),
        counter=("use the detail shot first",),
        whole="which music or voiceover plays",
    ),
    Rule(
        "audio_file",
        frozenset(),
        _audio_set,
        test=lambda c, v: any((m := v.media_named(f)) is not None and m.kind == "audio" for f in c.files),
        priority=560,
        family="audio",
        produces=("set_audio",),
        examples=("music_calm.mp3 please",),
        counter=("product_side.jpg first",),
    ),
    Rule(
        "transition",
        frozenset(),
        _transition,
        test=_transition_test,
        priority=540,
        family="look",
        produces=("set_transition",),
        examples=("use wipe transitions", "make the transitions longer"),
        counter=("fade out the music",),
    ),
    Rule(
        "video_fade",
        _fs("fade_in fade_out fade"),
        _video_fade,
        unless=_fs("transition"),
        test=lambda c, v: not _between_all(c),
        priority=520,
        family="look",
        produces=("set_fade",),
        examples=("fade out the end of the video",),
        counter=("fade out the music",),
    ),
    Rule(
        "motion",
        _fs("motion"),
        _motion,
        unless=_fs("speedup slowdown"),
        priority=500,
        family="look",
        produces=("set_motion",),
        examples=("add a slow zoom to the photos", "no zoom on the images"),
        counter=("speed up the first photo",),
    ),
    Rule(
        "speed",
        frozenset(),
        _speed,
        test=_speed_test,
        priority=480,
        family="clips",
        produces=("set_speed", "trim_segment"),
        examples=("clips3: speed up the first clip 2x", "clips3: play clip 2 in slow motion"),
        counter=("show the first photo twice",),
    ),
    Rule(
        "mute_clip",
        _fs("mute unmute"),
        _mute_clip,
        priority=460,
        family="audio",
        produces=("set_volume",),
        examples=("clips3: mute the clip",),
        counter=("mute the music",),
    ),
    Rule(
        "split",
        _fs("split"),
        _split,
        priority=440,
        family="clips",
        produces=("split_segment",),
        examples=("split the first clip in half", "chop the first clip into two equal halves"),
        counter=("halve the total length",),
    ),
    Rule(
        "duplicate",
        frozenset(),
        _duplicate,
        test=lambda c, v: (
            (c.has("duplicate") or _shown_again(c))
            and not c.has_word("double_speed")
            and _length_factor(c) is None
        ),
        priority=420,
        family="clips",
        produces=("duplicate_segment",),
        examples=(
            "duplicate the second photo",
            "show the first photo twice",
            "show the last photo again at the end",
        ),
        counter=("double the length of the first clip",),
    ),
    Rule(
        "replace_clip",
        frozenset(),
        _replace_clip,
        test=_replace_clip_test,
        priority=400,
        family="clips",
        produces=("add_main", "remove_segment"),
        examples=("two: replace the first photo with product_detail.jpg",),
        counter=("replace the music with music_calm.mp3",),
    ),
    Rule(
        "swap",
        _fs("swap"),
        _swap,
        test=lambda c, v: _generic_clip_test(c, v) or len(_bare_numbers(c)) == 2,
        priority=380,
        family="clips",
        produces=("swap_segments",),
        examples=("swap the first and last photos", "swap the side view with the detail shot"),
        counter=("swap the music",),
    ),
    Rule(
        "reorder",
        _fs("reorder reverse"),
        _reorder,
        unless=_fs("text title music voiceover"),
        priority=360,
        family="clips",
        produces=("reorder_segments",),
        examples=("reverse the order of the clips",),
        counter=("reverse the text",),
    ),
    Rule(
        "add_clip",
        _fs("add"),
        _add_clip,
        test=_add_clip_test,
        priority=340,
        family="clips",
        produces=("add_main",),
        examples=("add product_side.jpg at the end",),
        counter=("add the text 'Hi' at 3s",),
    ),
    Rule(
        "move",
        frozenset(),
        _move,
        test=_move_test,
        priority=320,
        family="clips",
        produces=("move_segment", "move_segments"),
        examples=("move the detail shot to the start", "clips3: lead with clip C please"),
        counter=("move the caption 'Lifestyle' to 20s",),
    ),
    Rule(
        "remove_clip",
        _fs("remove cut"),
        _remove_clip,
        test=_remove_clip_test,
        priority=300,
        family="clips",
        produces=("remove_segment",),
        examples=("remove the last photo", "get rid of the detail shot"),
        counter=("remove the caption 'Lifestyle'",),
    ),
    Rule(
        "unwanted_clips",
        frozenset(),
        _remove_clip,
        test=_unwanted_test,
        priority=280,
        family="clips",
        produces=("remove_segment",),
        examples=("I don't want the lifestyle photos in there",),
        counter=("I don't want music",),
    ),
    Rule(
        "mood",
        frozenset(),
        _mood,
        test=_mood_test,
        priority=260,
        family="look",
        produces=("set_transition", "set_audio", "set_motion"),
        examples=("make it more energetic", "make it calmer"),
        counter=("make the music calmer",),
    ),
    Rule(
        "trim",
        frozenset(),
        _trim,
        test=_trim_test,
        priority=240,
        family="clips",
        produces=("trim_segment",),
        examples=(
            "make the first photo 3 seconds",
            "would it be possible for the opening shot to finish at 0:04?",
            "make the closing shot twice as long",
        ),
        counter=("make it 20 seconds",),
    ),
    Rule(
        "total_duration",
        frozenset(),
        _total,
        test=_total_test,
        priority=220,
        family="length",
        produces=("set_total_duration",),
        examples=("make it 20 seconds", "halve the total length", "honestly 16 seconds total is all I need"),
        counter=("make the first photo 3 seconds",),
    ),
)


_BY_PRIORITY: tuple[Rule, ...] = tuple(sorted(RULES, key=lambda r: -r.priority))


def _about_a_text(c: Clause) -> bool:
    """The clause's subject is a text ("the title", "the caption", "the text"), not a card to add."""
    return c.has("text", "title") and not c.quotes and not c.has_word("card", "cards", "slate", "slide")


def part_of_video(c: Clause) -> str | None:
    """The words that limit a clause to part of the timeline ("after 20 seconds", "during the intro",
    "in the second half", "while the voiceover talks"), or None."""
    t = c.times
    if t.at is not None or t.range_ is not None or t.until is not None or t.before is not None:
        return "a time"
    for i, tok in enumerate(c.toks):
        nxt = c.toks[i + 1] if i + 1 < len(c.toks) else None
        if tok.is_word("during", "until", "till") or (
            tok.is_word("after") and not (nxt and nxt.is_word("all"))
        ):
            return tok.norm  # ("while the voice talks" is what the ducking does already: not a part)
        if tok.is_word("at_end", "at_start"):
            return "part"
        prev = c.toks[i - 1] if i > 0 else None
        if (
            tok.kind is Kind.DUR
            and prev is not None
            and (
                (prev.kind is Kind.ORD and prev.value in (0, -1))
                or prev.is_word("first", "last", "final", "opening")
            )
        ):
            return "part"  # "for the first 10 seconds"
        if (
            tok.is_word("half")
            and prev is not None
            and (prev.kind is Kind.ORD or prev.is_word("first", "second", "last", "other"))
        ):
            return "part"
        if (
            tok.is_word("end", "start", "beginning", "ending", "middle")
            and prev is not None
            and prev.is_word("the")
            and i >= 2
            and c.toks[i - 2].is_word("at", "near", "towards")
        ):
            return "part"
    return None


def _limited(intent: Rule, c: Clause) -> Answer | None:
    """For a rule that changes the whole video: the reply to a clause that limits it to a part."""
    if intent.whole is None or part_of_video(c) is None:
        return None
    return Answer(
        f'I can\'t change {intent.whole} for only part of the video ("{c.text}"): with the local engine it '
        "applies to the whole video. Say it without the time to change it everywhere."
    )


def match(c: Clause, v: View) -> tuple[Rule, Fill] | None:
    """The first intent of the table that matches the clause, with its filling."""
    for intent in _BY_PRIORITY:
        if intent.matches(c, v):
            if (limited := _limited(intent, c)) is not None:
                return intent, limited
            if intent.family in ("clips", "length") and _about_a_text(c):
                # "make the title last 5 seconds" is about the title, never "the last 5 seconds" of a clip
                if not v.texts:
                    return intent, _NO_TEXT
                continue
            fill = intent.fill(c, v)
            if isinstance(fill, list) and not fill:
                continue
            return intent, fill
    return None
