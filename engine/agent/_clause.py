"""Clauses: one instruction each, with the slot finders the intent table uses.

``split_clauses`` cuts a message at sentence ends always, and at "and" / "," / "then" / "also" only
when what follows starts a new instruction (a verb), so "swap clips 1 and 2" and "between 5 and 8
seconds" stay whole. Quotes are single tokens, so nothing inside them is ever split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from engine.agent import _lexicon as lx
from engine.agent._lexer import Kind, Tok

__all__ = ["Clause", "TimeSlots", "split_clauses", "unquoted_text"]

_JOINERS = frozenset(
    {"and", "then", "also", "plus", "afterwards", "after", "next", "finally", "lastly", "but"}
)
_FILLER = frozenset({"then", "also", "please", "and", "pls", "plz", "could", "can", "you", "would", "kindly"})
_TIME_SKIP = frozenset(
    {
        "the",
        "a",
        "an",
        "about",
        "around",
        "exactly",
        "roughly",
        "approximately",
        "just",
        "only",
        "approx",
        "like",
        "some",
        "of",
        "first",
        "last",
        "its",
    }
)
_PREPS = {
    "at": "at",
    "after": "at",
    "on": "at",
    "around": "at",
    "in": "in",
    "from": "from",
    "since": "from",
    "to": "to",
    "until": "to",
    "till": "to",
    "til": "to",
    "into": "to",
    "up": "to",
    "for": "for",
    "lasting": "for",
    "over": "for",
    "during": "for",
    "within": "for",
    "by": "by",
    "between": "between",
    "before": "before",
    "starting": "from",
    "ending": "to",
    "is": "to",
    "be": "to",
    "becomes": "to",
}


@dataclass(frozen=True)
class TimeSlots:
    """The times of a clause, by the word in front of them (ms)."""

    at: int | None = None  # "at 10s", "after 5 seconds", "at the 10-second mark", "at 0:10"
    for_: int | None = None  # "for 3 seconds", "over 2s", "lasting 4 seconds"
    range_: tuple[int, int] | None = None  # "between 5 and 8 seconds", "from 5s to 8s", "5-8s"
    to: int | None = None  # "to 2 seconds"
    by: int | None = None  # "by 2 seconds"
    bare: tuple[int, ...] = ()  # durations with no preposition ("make it 15 seconds")
    before: int | None = None
    # every "to 2s" / "2s" / "for 2s", in order ("the intro to 2s, the outro to 3s")
    lengths: tuple[int, ...] = ()
    until: int | None = None  # "until 8 seconds": an end time

    @property
    def any_length(self) -> int | None:
        """A length the clause gives, whatever the preposition ("to 3s", "3 seconds", "for 3s")."""
        for value in (self.to, *self.bare, self.for_):
            if value is not None:
                return value
        return None


@dataclass(frozen=True)
class Clause:
    toks: tuple[Tok, ...]
    source: str  # the whole message (tokens index into it)

    @cached_property
    def text(self) -> str:
        if not self.toks:
            return ""
        return self.source[self.toks[0].start : self.toks[-1].end]

    @cached_property
    def words(self) -> tuple[str, ...]:
        return tuple(t.norm for t in self.toks if t.kind is Kind.WORD)

    @cached_property
    def concepts(self) -> frozenset[str]:
        out: set[str] = set()
        for w in self.words:
            out |= lx.concepts_of(w)
        return frozenset(out)

    def has(self, *concepts: str) -> bool:
        return any(c in self.concepts for c in concepts)

    def has_word(self, *words: str) -> bool:
        return any(w in self.words for w in words)

    def index_of(self, *concepts: str) -> int:
        """Token index of the first word of any of the concepts, or -1."""
        for i, t in enumerate(self.toks):
            if t.kind is Kind.WORD and lx.concepts_of(t.norm) & set(concepts):
                return i
        return -1

    def of_kind(self, kind: Kind) -> list[Tok]:
        return [t for t in self.toks if t.kind is kind]

    @property
    def quotes(self) -> list[str]:
        return [t.norm for t in self.toks if t.kind is Kind.QUOTE and not _quoted_file(t.norm)]

    @property
    def files(self) -> list[str]:
        return [
            t.norm
            for t in self.toks
            if t.kind is Kind.FILE or (t.kind is Kind.QUOTE and _quoted_file(t.norm))
        ]

    @property
    def percents(self) -> list[float]:
        return [t.value for t in self.of_kind(Kind.PCT)]

    @property
    def multipliers(self) -> list[float]:
        return [t.value for t in self.of_kind(Kind.MULT)]

    @property
    def ratios(self) -> list[str]:
        return [f"{t.value:g}:{t.value2:g}" for t in self.of_kind(Kind.RATIO)]

    @property
    def is_empty(self) -> bool:
        return not any(t.kind is not Kind.PUNCT for t in self.toks)

    def after_word(self, *words: str) -> str | None:
        """The original text after the first of ``words`` to the end of the clause (unquoted names)."""
        for i, t in enumerate(self.toks):
            if t.kind is Kind.WORD and t.norm in words and i + 1 < len(self.toks):
                rest = [x for x in self.toks[i + 1 :] if x.kind is not Kind.PUNCT or x.norm not in ".,"]
                if rest:
                    return self.source[rest[0].start : rest[-1].end].strip(" \"'“”‘’")
        return None

    def prep_before(self, i: int) -> str | None:
        """The preposition governing token i ("at", "for", "to", ...), skipping articles."""
        j = i - 1
        while j >= 0:
            t = self.toks[j]
            if t.kind is Kind.WORD and t.norm in _TIME_SKIP:
                j -= 1
                continue
            if t.kind is Kind.WORD and t.norm in _PREPS:
                return _PREPS[t.norm]
            return None
        return None

    @cached_property
    def times(self) -> TimeSlots:
        return _times(self)


def _quoted_file(text: str) -> bool:
    stem, dot, ext = text.rpartition(".")
    return bool(dot and stem and " " not in ext and ext.lower() in lx.MEDIA_EXTENSIONS)


def _ms(t: Tok) -> int:
    """A duration token, or a bare number read as seconds."""
    return round(t.value) if t.kind is Kind.DUR else round(t.value * 1000)


def _is_time(t: Tok) -> bool:
    return t.kind is Kind.DUR or (t.kind is Kind.NUM and 0 <= t.value <= 3600)


def joins_a_range(c: Clause, i: int) -> bool:
    """Is token ``i`` the "and" of "between 5 and 10 seconds" (not a conjunction)?"""
    toks = c.toks
    return (
        0 < i < len(toks) - 1
        and toks[i].is_word("and")
        and _is_time(toks[i - 1])
        and _is_time(toks[i + 1])
        and c.prep_before(i - 1) == "between"
    )


def _times(c: Clause) -> TimeSlots:
    toks = c.toks
    at = for_ = to = by = before = None
    range_: tuple[int, int] | None = None
    bare: list[int] = []
    lengths: list[int] = []
    until: int | None = None
    used: set[int] = set()
    # ranges first: between A and B / from A to B / A-B / A to B (at least one side a duration)
    for i, t in enumerate(toks):
        if not _is_time(t) or i + 2 >= len(toks):
            continue
        mid, b = toks[i + 1], toks[i + 2]
        linked = mid.is_word("and", "to", "until", "till", "through") or (
            mid.kind is Kind.PUNCT and mid.norm == "-"
        )
        if not linked or not _is_time(b) or (t.kind is not Kind.DUR and b.kind is not Kind.DUR):
            continue
        prep = c.prep_before(i)
        if mid.is_word("and") and prep != "between":
            continue
        if mid.is_word("to", "until", "till") and prep not in ("from", "between", "at"):
            continue
        a_ms = _ms(t) if t.kind is Kind.DUR else _unit_like(t, b)
        b_ms = _ms(b)
        if b_ms > a_ms:
            range_ = (a_ms, b_ms)
            used |= {i, i + 2}
            break
    for i, t in enumerate(toks):
        if i in used:
            continue
        bare_seconds = t.kind is Kind.NUM and _is_time(t) and c.prep_before(i) in ("at", "from", "to", "by")
        if t.kind is not Kind.DUR and not bare_seconds:
            continue  # "at 10" / "down to 20": a bare number after a time preposition is seconds
        ms = _ms(t)
        prep = c.prep_before(i)
        if until is None and _word_before(c, i) in ("until", "till", "til"):
            until = ms
        if prep in ("to", "for", None) and t.kind is Kind.DUR:
            lengths.append(ms)
        if prep in ("at", "from", "in") and at is None:
            at = ms
        elif prep == "for" and for_ is None:
            for_ = ms
        elif prep == "to" and to is None:
            to = ms
        elif prep == "by" and by is None:
            by = ms
        elif prep == "before" and before is None:
            before = ms
        elif t.kind is Kind.DUR and prep is None:
            bare.append(ms)
    return TimeSlots(
        at=at,
        for_=for_,
        range_=range_,
        to=to,
        by=by,
        bare=tuple(bare),
        before=before,
        lengths=tuple(lengths),
        until=until,
    )


def _word_before(c: Clause, i: int) -> str | None:
    """The word just before token i, skipping articles ("until the 8-second mark" → "until")."""
    j = i - 1
    while j >= 0 and c.toks[j].kind is Kind.WORD and c.toks[j].norm in ("the", "a", "an", "about", "around"):
        j -= 1
    return c.toks[j].norm if j >= 0 and c.toks[j].kind is Kind.WORD else None


def _unit_like(a: Tok, b: Tok) -> int:
    """The bare first number of a range takes the unit of the second ("between 5 and 8 seconds")."""
    unit = {"ms": 1.0, "min": 60000.0}.get(b.norm, 1000.0) if b.kind is Kind.DUR else 1000.0
    return round(a.value * unit)


def _starts_instruction(toks: Sequence[Tok], i: int) -> bool:
    """Does a new instruction start at token i (after skipping "then", "also", "please", ...)?"""
    limit = i + 6  # "and then also please <verb>": a few fillers at most (and linear time)
    while i < len(toks) and i < limit and toks[i].kind is Kind.WORD and toks[i].norm in _FILLER:
        i += 1
    if i >= len(toks):
        return False
    t = toks[i]
    if t.kind is Kind.WORD and t.norm in lx.CLAUSE_VERBS:
        return True
    # "... and frobnicate the intro": a word the agent does not know where a verb goes, before what it
    # acts on, is an instruction of its own (read alone, it is asked about instead of being dropped)
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return (
        t.kind is Kind.WORD
        and not lx.is_known(t.norm)
        and nxt is not None
        and nxt.is_word(
            "the", "a", "an", "my", "this", "that", "these", "those", "all", "every", "it", "them"
        )
    )


def split_clauses(toks: Sequence[Tok], source: str) -> list[Clause]:
    out: list[Clause] = []
    cur: list[Tok] = []

    def flush() -> None:
        if any(t.kind is not Kind.PUNCT for t in cur):
            out.append(Clause(tuple(cur), source))
        cur.clear()

    has_verb = False  # kept as tokens are added: the split stays linear in the message's length
    for i, t in enumerate(toks):
        if t.kind is Kind.PUNCT and t.norm == ".":
            flush()
            has_verb = False
            continue
        joiner = (t.kind is Kind.PUNCT and t.norm == ",") or (t.kind is Kind.WORD and t.norm in _JOINERS)
        if joiner and cur and has_verb and _starts_instruction(toks, i + 1):
            flush()
            has_verb = False
            continue
        cur.append(t)
        has_verb = has_verb or _is_verb_like(t)
    flush()
    return out


def _is_verb_like(t: Tok) -> bool:
    """A token that makes a clause an instruction already (so "and <verb>" after it starts another)."""
    if t.kind is Kind.WORD:
        return t.norm in lx.CLAUSE_VERBS or t.norm in ("undo", "redo")
    return t.kind in (Kind.QUOTE, Kind.PCT, Kind.DUR)


_SAYING = ("saying", "says", "say", "reading", "reads", "read", "titled", "called", "with")
_TEXT_STOP = frozenset(
    {
        "at",
        "for",
        "from",
        "between",
        "until",
        "on",
        "in",
        "to",
        "and",
        "after",
        "before",
        "then",
        "starting",
        "lasting",
        "over",
        "during",
        "top",
        "bottom",
        "center",
        "middle",
        "at_end",
        "at_start",
    }
)


_NOT_WORDS_OF_A_TEXT = frozenset(
    {"the", "a", "an", "text", "words", "title", "caption", "overlay", "subtitle"}
)


def unquoted_text(c: Clause) -> str | None:
    """The words after "saying" / "that says" / "titled" up to a time or place ("a title saying Hi at 3s");
    "with" counts only for a title ("a promo with the title Summer Sale") and only when nothing else does."""
    toks = c.toks
    for markers in ([m for m in _SAYING if m != "with"], ["with"] if c.has("title") else []):
        for i, t in enumerate(toks):
            if t.kind is not Kind.WORD or t.norm not in markers:
                continue
            words = []
            for x in toks[i + 1 :]:
                if x.kind is not Kind.WORD or x.norm in _TEXT_STOP:
                    break
                words.append(x)
            while words and words[0].norm in _NOT_WORDS_OF_A_TEXT:
                words = words[1:]
            if words:
                return c.source[words[0].start : words[-1].end]
    return None
