"""The tokenizer: message text → typed tokens (words, numbers, times, quotes, ordinals, ...).

Two passes, both pure and linear in the length of the text:

1. ``_scan`` cuts the text into raw pieces: quoted strings (``"…"``, ``'…'``, ``“…”``, ``「…」``, ...),
   file names (``music_calm.mp3``), digit numbers, ``a:b`` pairs (timecodes or aspect ratios),
   latin words, CJK runs (translated word by word into the English vocabulary through
   ``_lexicon.CJK_WORDS``) and punctuation. Anything else (emoji, symbols) is dropped.
2. ``_merge`` combines them into meaning: number words ("twenty-five", "one and a half"),
   durations ("10s", "10-second", "half a minute", "0:12", "十秒"), percentages, speed
   multipliers ("2x", "twice"), ordinals ("2nd", "the second", "last", "第二个") and aspect
   ratios ("9:16").

The grammar (``_clause``) works on the result and never looks at raw characters again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from engine.agent import _lexicon as lx

__all__ = ["Kind", "Tok", "tokenize"]


class Kind(StrEnum):
    WORD = "word"  # norm: lowercase word (or a phrase from the lexicon, "background_music")
    NUM = "num"  # value: the number
    DUR = "dur"  # value: milliseconds; norm "timecode" when written as m:ss
    PCT = "pct"  # value: fraction 0..1+
    MULT = "mult"  # value: speed factor ("2x")
    ORD = "ord"  # value: index from 0, negative from the end (-1 last)
    QUOTE = "quote"  # norm: the quoted text, as written
    FILE = "file"  # norm: the file name, as written
    RATIO = "ratio"  # value, value2: "9:16" → 9, 16
    PUNCT = "punct"  # norm: the character; sentence ends are normalised to "."


@dataclass(frozen=True)
class Tok:
    kind: Kind
    norm: str
    start: int
    end: int
    value: float = 0.0
    value2: float = 0.0

    def is_word(self, *words: str) -> bool:
        return self.kind is Kind.WORD and self.norm in words


# ---------------------------------------------------------------------------------------------
# pass 1: scanning

_QUOTE_PAIRS = {
    '"': '"',
    "“": "”",
    "”": "”",
    "„": "“",
    "«": "»",
    "「": "」",
    "『": "』",
    "‘": "’",
    "'": "'",
    "＂": "＂",
    "《": "》",
}
_SENTENCE_END = set(".!?;。！？；…")
_SOFT_PUNCT = set(",，、:：")
_CJK_NUMERALS = set("零〇一二两三四五六七八九十百半")
_CJK_UNITS = set("秒分个段张条号幕倍%")
_CJK_CLASSIFIERS = set("个段张条幕")
_UNIT_NAMES = {1.0: "ms", 1000.0: "s", 60000.0: "min"}
_MAX_TOKENS = 2000  # a message longer than this is cut: nobody edits a video with a novel


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or c in "々〇"


_DIGITS = frozenset("0123456789")
_FULLWIDTH = str.maketrans("０１２３４５６７８９％：", "0123456789%:")


def _is_letter(c: str) -> bool:
    return (c.isalpha() and not _is_cjk(c)) or c == "_"


def _is_word_char(c: str) -> bool:
    return (c.isalnum() and not _is_cjk(c)) or c == "_"


@dataclass(frozen=True)
class _Raw:
    kind: str  # word num pair quote file cjk punct
    text: str
    start: int
    end: int
    nums: tuple[float, ...] = ()


def _quote_end(s: str, i: int) -> int:
    """Index of the closing quote for the opener at ``s[i]``, or -1."""
    opener = s[i]
    closers = {_QUOTE_PAIRS[opener]}
    if opener == "“":
        closers.add('"')
    if opener in "'‘" and i > 0 and _is_word_char(s[i - 1]):
        return -1  # an apostrophe: don't, it's, clip's
    j = i + 1
    while j < len(s):
        if s[j] in closers:
            after = s[j + 1] if j + 1 < len(s) else " "
            if opener in "'‘" and _is_word_char(after):
                j += 1  # an apostrophe inside the quote: 'Don't miss it'
                continue
            return j
        j += 1
    return -1


def _run(s: str, i: int) -> int:
    """End of the word-ish run starting at ``i``: letters, digits, ``_ - ' .`` (a dot only inside)."""
    j = i
    while j < len(s):
        c = s[j]
        if _is_word_char(c) or (c in "-'’." and j + 1 < len(s) and _is_word_char(s[j + 1]) and j > i):
            j += 1
        else:
            break
    return j


def _file_name(run: str) -> bool:
    stem, dot, ext = run.rpartition(".")
    return bool(dot) and bool(stem) and ext.lower() in lx.MEDIA_EXTENSIONS


def _scan_number(s: str, i: int) -> tuple[_Raw, int]:
    j = i
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    if j + 1 < len(s) and s[j] == "." and s[j + 1] in _DIGITS:
        j = _digits_end(s, j + 1)  # 2.5
    elif j + 1 < len(s) and s[j] == "," and s[j + 1] in _DIGITS:
        k = _digits_end(s, j + 1)
        if k - j == 4:  # 1,000: a thousands separator
            value = float(s[i:j] + s[j + 1 : k])
            return _Raw("num", s[i:k], i, k, (value,)), k
        if _unit_follows(s, k):  # 1,5 s: a decimal comma, said with a unit
            j = k
    first = s[i:j].replace(",", ".")
    first = s[i:j].replace(",", ".")
    if j + 1 < len(s) and s[j] in ":：" and s[j + 1] in _DIGITS:
        parts = [float(first)]
        k = j
        while k + 1 < len(s) and s[k] in ":：" and s[k + 1] in _DIGITS and len(parts) < 3:
            m = k + 1
            while m < len(s) and s[m] in _DIGITS:
                m += 1
            if len(parts) >= 1 and m + 1 < len(s) and s[m] == "." and s[m + 1] in _DIGITS:
                m += 1
                while m < len(s) and s[m] in _DIGITS:
                    m += 1
            parts.append(float(s[k + 1 : m]))
            k = m
        return _Raw("pair", s[i:k], i, k, tuple(parts)), k
    return _Raw("num", s[i:j], i, j, (float(first),)), j


def _digits_end(s: str, j: int) -> int:
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    return j


def _unit_follows(s: str, k: int) -> bool:
    """Is a time unit, % or x written right after position k ("1,5 s", "2,5sec", "1,5x")?"""
    while k < len(s) and s[k] == " ":
        k += 1
    m = k
    while m < len(s) and s[m].isalpha():
        m += 1
    word = s[k:m].lower()
    return (k < len(s) and s[k] == "%") or word in lx.TIME_UNITS or word == "x"


def _cjk_number(text: str) -> float | None:
    """Value of a run of Chinese numerals (二十五 → 25, 两 → 2, 半 → 0.5), None when malformed."""
    digits = {
        "零": 0,
        "〇": 0,
        "一": 1,
        "二": 2,
        "两": 2,
        "三": 3,
        "四": 4,
        "五": 5,
        "六": 6,
        "七": 7,
        "八": 8,
        "九": 9,
    }
    if text == "半":
        return 0.5
    total, current = 0, 0
    seen = False
    for ch in text:
        if ch in digits:
            current = digits[ch]
            seen = True
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
            seen = True
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
            seen = True
        else:
            return None
    return float(total + current) if seen else None


def _scan_cjk(s: str, i: int) -> tuple[list[_Raw], int]:
    """A CJK run: numerals before a unit/classifier (or after 第) become numbers, words are looked up."""
    j = i
    while j < len(s) and _is_cjk(s[j]):
        j += 1
    out: list[_Raw] = []
    k = i
    while k < j:
        if s[k] in _CJK_NUMERALS:
            m = k
            while m < j and s[m] in _CJK_NUMERALS:
                m += 1
            nxt = s[m] if m < len(s) else ""
            value = _cjk_number(s[k:m])
            if value is not None and (nxt in _CJK_UNITS or (k > i and s[k - 1] == "第")):
                out.append(_Raw("num", s[k:m], k, m, (value,)))
                k = m
                continue
        word = lx.longest_cjk_word(s, k, j)
        if word is None:
            k += 1
            continue
        key, english = word
        for w in english.split():
            out.append(_Raw("cjkword", w, k, k + len(key)))
        k += len(key)
    return out, j


def _scan(s: str) -> Iterator[_Raw]:
    i, n = 0, len(s)
    unclosed: set[str] = set()  # openers with no closer left: not searched again (linear time)
    while i < n:
        c = s[i]
        end = -1
        if c in _QUOTE_PAIRS and c not in unclosed:
            end = _quote_end(s, i)
            if end < 0 and not (c in "'‘" and i > 0 and _is_word_char(s[i - 1])):
                unclosed.add(c)
        if c.isspace():
            i += 1
        elif end > i + 1 and s[i + 1 : end].strip():
            yield _Raw("quote", s[i + 1 : end].strip(), i, end + 1)
            i = end + 1
        elif _is_word_char(c):
            j = _run(s, i)
            run = s[i:j].rstrip("-'’.")
            if _file_name(run):
                yield _Raw("file", run, i, i + len(run))
                i += len(run)
            elif run.lower() in lx.FORMAT_WORDS:
                yield _Raw("word", run, i, i + len(run))
                i += len(run)
            elif c in _DIGITS:
                raw, i = _scan_number(s, i)
                yield raw
            else:
                k = i + 1
                while k < n and (_is_letter(s[k]) or (s[k] in "-'’" and k + 1 < n and _is_letter(s[k + 1]))):
                    k += 1
                yield _Raw("word", s[i:k], i, k)
                i = k
        elif _is_cjk(c):
            raws, i = _scan_cjk(s, i)
            yield from raws
        elif c in _SENTENCE_END or c in _SOFT_PUNCT or c in "%-–—~#&+×/()":
            yield _Raw("punct", c, i, i + 1)
            i += 1
        else:
            i += 1  # emoji and other symbols carry no instruction


# ---------------------------------------------------------------------------------------------
# pass 2: merging


def _first_pass(raws: Sequence[_Raw], *, typos: bool = True) -> list[Tok]:
    toks: list[Tok] = []
    for r in raws:
        if r.kind == "word":
            norm = r.text.lower().replace("’", "'")
            if norm.endswith("'s") and norm[:-2] in lx.NOUN_WORDS:
                norm = norm[:-2]
            if typos:
                norm = (
                    lx.lemma(norm) or lx.correct(norm) or norm
                )  # "swapping" → swap, "trasition" → transition
            toks.append(Tok(Kind.WORD, norm, r.start, r.end))
        elif r.kind == "cjkword":
            toks.append(Tok(Kind.WORD, r.text, r.start, r.end))
        elif r.kind == "num":
            toks.append(Tok(Kind.NUM, r.text, r.start, r.end, r.nums[0]))
        elif r.kind == "pair":
            toks.append(_pair(r))
        elif r.kind == "quote":
            toks.append(Tok(Kind.QUOTE, r.text, r.start, r.end))
        elif r.kind == "file":
            toks.append(Tok(Kind.FILE, r.text, r.start, r.end))
        else:
            ch = r.text
            norm = "." if ch in _SENTENCE_END else ("," if ch in _SOFT_PUNCT else ch)
            if ch in "–—~":
                norm = "-"
            toks.append(Tok(Kind.PUNCT, norm, r.start, r.end))
    return toks


def _is_spanish(raws: Sequence[_Raw]) -> bool:
    return any(r.kind == "word" and r.text.lower() in lx.ES_MARKERS for r in raws)


def _spanish(toks: list[Tok]) -> list[Tok]:
    """Spanish words → the English words of the vocabulary (phrases first), keeping their place."""
    out: list[Tok] = []
    longest = max(len(k) for k in lx.ES_PHRASES)
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.kind is not Kind.WORD:
            out.append(t)
            i += 1
            continue
        english: str | None = None
        length = 1
        for size in range(min(longest, n - i), 1, -1):
            window = toks[i : i + size]
            if all(w.kind is Kind.WORD for w in window):
                english = lx.ES_PHRASES.get(tuple(w.norm for w in window))
                if english is not None:
                    length = size
                    break
        if english is None:
            english = lx.ES_WORDS.get(t.norm, t.norm)
        end = toks[i + length - 1].end
        out += [Tok(Kind.WORD, w, t.start, end) for w in english.split()]
        i += length
    return out


def _abbreviations(toks: list[Tok]) -> list[Tok]:
    """ "no. 3" / "nr. 3": the dot of the abbreviation is not the end of a sentence."""
    out: list[Tok] = []
    for i, t in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        dotted = prev is not None and prev.is_word("no", "nr", "num") and prev.end == t.start
        if t.kind is Kind.PUNCT and t.norm == "." and dotted and nxt is not None and nxt.kind is Kind.NUM:
            continue
        out.append(t)
    return out


def _pair(r: _Raw) -> Tok:
    a = r.nums
    if len(a) == 2 and (a[0], a[1]) in lx.ASPECT_RATIOS:
        return Tok(Kind.RATIO, r.text, r.start, r.end, a[0], a[1])
    ms = 0.0
    for part in a:
        ms = ms * 60 + part
    return Tok(Kind.DUR, "timecode", r.start, r.end, ms * 1000)


def _number_words(toks: list[Tok]) -> list[Tok]:
    """twenty-five → 25, one hundred and twenty → 120, one and a half → 1.5, a half → 0.5."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        value, j = _read_number_words(toks, i)
        if j == i and t.kind is Kind.NUM and _and_a_half(toks, i + 1):
            value, j = t.value + 0.5, i + 4  # "2 and a half"
        if j > i:
            out.append(Tok(Kind.NUM, " ".join(x.norm for x in toks[i:j]), t.start, toks[j - 1].end, value))
            i = j
        else:
            out.append(t)
            i += 1
    return out


def _word_value(norm: str) -> float | None:
    parts = norm.split("-")
    if len(parts) == 2 and parts[0] in lx.TENS and parts[1] in lx.UNITS and lx.UNITS[parts[1]] < 10:
        return float(lx.TENS[parts[0]] + lx.UNITS[parts[1]])
    if norm in lx.UNITS:
        return float(lx.UNITS[norm])
    if norm in lx.TENS:
        return float(lx.TENS[norm])
    return None


def _read_number_words(toks: list[Tok], i: int) -> tuple[float, int]:
    def word(k: int) -> str:
        return toks[k].norm if k < len(toks) and toks[k].kind is Kind.WORD else ""

    total = 0.0
    j = i
    first = _word_value(word(j))
    if first is None:
        if word(j) == "half" and word(j + 1) in ("a", "an") and _is_unit(toks, j + 2):
            return 0.5, j + 2  # "half a minute" (the unit stays)
        return 0.0, i
    total = first
    j += 1
    if first < 100 and first >= 20 and first % 10 == 0 and (v := _word_value(word(j))) is not None and v < 10:
        total += v
        j += 1
    if word(j) == "hundred":
        total = (total or 1) * 100
        j += 1
        if word(j) == "and" and _word_value(word(j + 1)) is not None:
            j += 1
        rest, k = _read_number_words(toks, j)
        if k > j and rest < 100:
            total += rest
            j = k
    if _and_a_half(toks, j):
        total += 0.5
        j += 3
    elif word(j) == "point" and (v := _word_value(word(j + 1))) is not None and v < 10:
        total += v / 10
        j += 2
    return total, j


def _and_a_half(toks: Sequence[Tok], k: int) -> bool:
    """``toks[k:k+3]`` read "and a half" (or "and an half")."""
    words = [t.norm for t in toks[k : k + 3] if t.kind is Kind.WORD]
    return len(words) == 3 and words[0] == "and" and words[1] in ("a", "an") and words[2] == "half"


def _is_unit(toks: Sequence[Tok], k: int) -> bool:
    return k < len(toks) and toks[k].kind is Kind.WORD and toks[k].norm in lx.TIME_UNITS


def _adjacent(a: Tok, b: Tok) -> bool:
    return a.end == b.start


def _units(toks: list[Tok]) -> list[Tok]:
    """Numbers with their units: durations, percentages, multipliers, numeric ordinals."""
    out: list[Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n else None
        if t.kind is Kind.NUM:
            j = i + 1
            if nxt is not None and nxt.kind is Kind.PUNCT and nxt.norm == "-" and _is_unit(toks, i + 2):
                j = i + 2  # "10-second mark"
            if _is_unit(toks, j):
                unit = lx.TIME_UNITS[toks[j].norm]
                ms = t.value * unit
                end = toks[j].end
                j += 1
                if (
                    j + 2 < n
                    and toks[j].is_word("and")
                    and toks[j + 1].is_word("a")
                    and toks[j + 2].is_word("half")
                ):
                    ms += 0.5 * unit  # "a minute and a half"
                    end = toks[j + 2].end
                    j += 3
                out.append(Tok(Kind.DUR, _UNIT_NAMES.get(unit, "s"), t.start, end, ms))
                i = j
                continue
            if nxt is not None and (
                nxt.is_word("percent", "pct", "per-cent") or (nxt.kind is Kind.PUNCT and nxt.norm == "%")
            ):
                out.append(Tok(Kind.PCT, "", t.start, nxt.end, t.value / 100))
                i += 2
                continue
            if nxt is not None and nxt.is_word("per") and i + 2 < n and toks[i + 2].is_word("cent"):
                out.append(Tok(Kind.PCT, "", t.start, toks[i + 2].end, t.value / 100))
                i += 3
                continue
            if nxt is not None and (
                nxt.is_word("x", "times", "fold") or (nxt.kind is Kind.PUNCT and nxt.norm == "×")
            ):
                out.append(Tok(Kind.MULT, "", t.start, nxt.end, t.value))
                i += 2
                continue
            if nxt is not None and nxt.is_word("st", "nd", "rd", "th") and _adjacent(t, nxt) and t.value >= 1:
                out.append(Tok(Kind.ORD, "", t.start, nxt.end, t.value - 1))
                i += 2
                continue
            out.append(t)
            i += 1
            continue
        if t.is_word("x") and nxt is not None and nxt.kind is Kind.NUM and _adjacent(t, nxt):
            out.append(Tok(Kind.MULT, "", t.start, nxt.end, nxt.value))  # "x2"
            i += 2
            continue
        if t.is_word("twice"):
            out.append(Tok(Kind.MULT, "", t.start, t.end, 2.0))
            i += 1
            continue
        full = 1 if i + 2 < n and toks[i + 1].is_word("full", "whole", "entire") else 0  # "a full minute"
        if (
            t.is_word("a", "an", "one")
            and _is_unit(toks, i + 1 + full)
            and toks[i + 1 + full].norm not in ("s", "m")
        ):
            unit = lx.TIME_UNITS[toks[i + 1 + full].norm]
            j, ms = i + 2 + full, unit
            if (
                j + 2 < n
                and toks[j].is_word("and")
                and toks[j + 1].is_word("a")
                and toks[j + 2].is_word("half")
            ):
                j, ms = j + 3, unit * 1.5  # "a minute and a half"
            out.append(Tok(Kind.DUR, _UNIT_NAMES.get(unit, "s"), t.start, toks[j - 1].end, ms))
            i = j
            continue
        if t.is_word("half-minute", "half-a-minute"):
            out.append(Tok(Kind.DUR, "", t.start, t.end, 30000.0))
            i += 1
            continue
        if t.is_word("half") and _is_unit(toks, i + 1):
            out.append(Tok(Kind.DUR, "", t.start, toks[i + 1].end, 0.5 * lx.TIME_UNITS[toks[i + 1].norm]))
            i += 2  # "half minute"
            continue
        out.append(t)
        i += 1
    return _sum_durations(out)


def _sum_durations(toks: list[Tok]) -> list[Tok]:
    """1 minute 30 seconds / 1m30s → one duration."""
    out: list[Tok] = []
    for t in toks:
        prev = out[-1] if out else None
        if (
            t.kind is Kind.DUR
            and prev is not None
            and prev.kind is Kind.DUR
            and prev.norm != "timecode"
            and t.norm != "timecode"
            and prev.value >= 60000
            and prev.value % 60000 == 0
            and t.value < 60000
        ):
            out[-1] = replace(prev, end=t.end, value=prev.value + t.value)
        else:
            out.append(t)
    return out


def _ordinals(toks: list[Tok]) -> list[Tok]:
    """Ordinal words; "第二个" (第 + number + classifier); "second to last"."""
    out: list[Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if (t.kind is Kind.WORD or (t.kind is Kind.ORD and t.norm)) and t.norm in lx.ORDINAL_WORDS:
            value = lx.ORDINAL_WORDS[t.norm]
            end = t.end
            j = i + 1
            if value == 1 and j + 1 < n and toks[j].is_word("to") and toks[j + 1].is_word("last"):
                value, end, j = -2, toks[j + 1].end, j + 2
            elif value >= 0 and j < n and toks[j].is_word("last"):
                value, end, j = -(value + 1), toks[j].end, j + 1  # "second last"
            elif value >= 0 and j + 1 < n and toks[j].is_word("from") and toks[j + 1].is_word("last", "end"):
                value, end, j = -(value + 1), toks[j + 1].end, j + 2
            out.append(Tok(Kind.ORD, t.norm, t.start, end, float(value)))
            i = j
            continue
        if t.is_word("第") and i + 1 < n and toks[i + 1].kind is Kind.NUM:
            num = toks[i + 1]
            out.append(Tok(Kind.ORD, "", t.start, num.end, num.value - 1))
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _seconds(toks: list[Tok]) -> list[Tok]:
    """ "second" after a number is the unit ("3 second", "10-second", "a second"); else the ordinal."""
    return [
        t
        if not t.is_word("second") or _after_number(toks, k)
        else Tok(Kind.ORD, "second", t.start, t.end, 1.0)
        for k, t in enumerate(toks)
    ]


def _cjk_times(toks: list[Tok]) -> list[Tok]:
    """第10秒 → "at" 10 s (a point in time, not a length)."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if (
            t.is_word("第")
            and i + 1 < len(toks)
            and toks[i + 1].kind is Kind.DUR
            and toks[i + 1].start == t.end
        ):
            out.append(Tok(Kind.WORD, "at", t.start, t.end))
            out.append(toks[i + 1])
            i += 2
            continue
        out.append(t)
        i += 1
    return out


_PHRASE_STARTS = frozenset(k[0] for k in lx.PHRASES)


def _phrases(toks: list[Tok]) -> list[Tok]:
    """Multi-word phrases of the lexicon become one word ("background music" → background_music)."""
    out: list[Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        matched = False
        if toks[i].kind is Kind.WORD and toks[i].norm in _PHRASE_STARTS:
            for length in range(min(lx.MAX_PHRASE, n - i), 1, -1):
                window = toks[i : i + length]
                if all(w.kind is Kind.WORD for w in window):
                    key = tuple(w.norm for w in window)
                    phrase = lx.PHRASES.get(key)
                    if phrase is not None:
                        out += [Tok(Kind.WORD, w, window[0].start, window[-1].end) for w in phrase.split()]
                        i += length
                        matched = True
                        break
        if not matched and (particle := _separated_particle(toks, i)) is not None:
            # "take the voiceover out", "turn the music down": the particle joins its verb, and what
            # stood between them is read as usual after the phrase
            toks = [*toks[: i + 1], toks[particle], *toks[i + 1 : particle], *toks[particle + 1 :]]
            continue
        if not matched:
            out.append(toks[i])
            i += 1
    return out


_PARTICLES = frozenset({"out", "off", "up", "down"})
_PARTICLE_ENDS = frozenset({"and", "then", "please", "too", "instead", "now", "for", "to", "by", "a", "bit"})


def _separated_particle(toks: Sequence[Tok], i: int) -> int | None:
    """Where the particle of a two-word verb of the lexicon stands when one to four words part them
    ("take the voiceover out"), up to the end of what it acts on; None when it does not."""
    verb = toks[i]
    if verb.kind is not Kind.WORD:
        return None
    for j in range(i + 2, min(i + 6, len(toks))):
        t = toks[j]
        if t.kind is Kind.PUNCT or t.is_word("and", "then"):
            return None
        if t.kind is Kind.WORD and t.norm in _PARTICLES and (verb.norm, t.norm) in lx.PHRASES:
            after = toks[j + 1] if j + 1 < len(toks) else None
            if after is None or after.kind in (Kind.PUNCT, Kind.PCT) or after.norm in _PARTICLE_ENDS:
                return j
            return None
    return None


def tokenize(text: str) -> list[Tok]:
    """All tokens of ``text``, in order; deterministic, never raises."""
    raws: list[_Raw] = []
    for raw in _scan(text.translate(_FULLWIDTH)):
        raws.append(raw)
        if len(raws) >= _MAX_TOKENS:
            break
    spanish = _is_spanish(raws)
    first = _first_pass(raws, typos=not spanish)
    toks = _phrases(_abbreviations(_spanish(first) if spanish else first))
    toks = _number_words(toks)
    toks = _seconds(toks)
    toks = _units(toks)
    toks = _cjk_times(toks)
    return _ordinals(toks)


def _after_number(toks: list[Tok], k: int) -> bool:
    """Is the word at k a unit of the number before it ("3 second", "10-second", "a second")?"""
    j = k - 1
    if j >= 0 and toks[j].kind is Kind.PUNCT and toks[j].norm == "-":
        j -= 1
    if j >= 0 and toks[j].kind is Kind.NUM:
        return True
    if j >= 0 and toks[j].is_word("a", "one", "half"):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        return (
            nxt is None
            or nxt.kind is Kind.PUNCT
            or nxt.is_word("and", "or", "longer", "shorter", "more", "less", "later", "earlier")
        )
    return False
