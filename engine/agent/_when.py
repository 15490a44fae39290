"""Spoken and relative time: where a text goes and how long it stays, as people say it.

``spoken_span`` reads the time words of a clause against the draft (its length and its clips) and
returns a :class:`Span`: a start, and a length or an end when the words give one. It knows

- points: "N seconds in" / "N secs into the video", "halfway (through)", "the middle/midpoint (of the
  video)", "at the very start", "when/as soon as/once the third photo appears/comes up/shows up";
- stretches: "the first/last/final N seconds", "the whole/entire second shot / last shot",
  "from the start until 5s", "starting N seconds in, keep it up for M seconds";
- the plain forms (``Clause.times``: "at 7s", 0:07, "from 0:18 to 0:24", "for 3 seconds") stay with
  the caller; this module only adds what they cannot say.

A clause with a time word this module cannot place (``unplaced_time``) must not be guessed: the
caller asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.agent import _lexicon as lx
from engine.agent._clause import Clause
from engine.agent._lexer import Kind
from engine.agent._plan import MainRef
from engine.agent._refs import main_refs
from engine.agent._view import View

__all__ = ["HALF_WORDS", "Span", "middle_is_time", "spoken_span"]

HALF_WORDS = frozenset({"halfway", "midpoint", "midway", "half-way"})
_APPEAR = frozenset({"appears", "appear", "shows", "comes", "starts", "begins", "pops", "enters", "hits"})
_WHEN = frozenset({"when", "once", "soon", "whenever"})
_WHOLE = frozenset({"whole", "entire", "all", "throughout", "full"})
_INTO = frozenset({"in", "into"})


@dataclass(frozen=True)
class Span:
    """Where a text goes: from ``st``; for ``d_ms`` when the words say how long (None: the caller's)."""

    st: int
    d_ms: int | None = None
    clip: MainRef | None = None  # the clip the span belongs to (the text follows it)


def _clip_span(v: View, ref: MainRef) -> tuple[int, int] | None:
    n = len(v.mains)
    if ref.index is None or not -n <= ref.index < n:
        return None
    s = v.mains[ref.index]
    return s.st, s.d


def _named_clip(c: Clause, v: View) -> MainRef | None:
    refs = [r for _, r in main_refs(c, v) if r.every is None]
    if len(refs) != 1:
        return None
    ref = refs[0]
    if ref.file is not None:
        index = v.clip_index(ref)
        return None if index is None else MainRef(index=index)
    return ref


def spoken_span(c: Clause, v: View) -> Span | None:
    """The span the clause's relative time words give, or None when it has none."""
    toks = c.toks
    words = set(c.words)
    end = v.end_ms
    n = len(toks)
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < n else None
        # "the first 4 seconds" / "the last 5 seconds" / "the final four seconds"
        if t.kind is Kind.ORD and nxt is not None and nxt.kind is Kind.DUR and t.value in (0, -1):
            length = min(round(nxt.value), end)
            if t.value == 0:
                return Span(0, length)
            return Span(max(0, end - length), length)
        # "9 secs in", "20 seconds into the video"
        if t.kind is Kind.DUR and nxt is not None and nxt.is_word(*_INTO):
            after = toks[i + 2] if i + 2 < n else None
            if (
                after is None
                or after.kind is Kind.PUNCT
                or after.is_word("the", "video", "and", "for", "keep")
            ):
                st = round(t.value)
                for_ = c.times.for_
                return Span(st, for_)
    if words & HALF_WORDS or ("middle" in words and middle_is_time(c)):
        return Span(end // 2, c.times.for_)
    clip = _named_clip(c, v)
    if clip is not None and (span := _clip_span(v, clip)) is not None:
        st, d = span
        if words & _WHOLE:  # "during the whole 2nd shot", "for the entire last shot"
            return Span(st, d, clip)
        if words & _WHEN and words & _APPEAR:  # "right when the third photo appears"
            return Span(st, c.times.for_, clip)
    if ("start" in words or "beginning" in words) and c.times.until is not None and c.times.at is None:
        return Span(0, c.times.until)  # "from the start until 5s"
    return None


def middle_is_time(c: Clause) -> bool:
    """ "in the middle of the video" is a time; "the middle image" is a clip; "in the middle" a place."""
    toks = c.toks
    for i, t in enumerate(toks):
        if not t.is_word("middle"):
            continue
        after = [x for x in toks[i + 1 : i + 4] if x.kind is Kind.WORD]
        if after and "clip" in lx.concepts_of(after[0].norm):
            return False
        if any(x.norm in ("video", "of") for x in after[:2]) and not any(
            x.norm in ("screen", "frame") for x in after
        ):
            return True
    return False
