"""The tokenizer: what a message's numbers, times, quotes and ordinals mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.agent import _lexicon as lx
from engine.agent._lexer import Kind, tokenize


def _durations(text: str) -> list[float]:
    return [t.value for t in tokenize(text) if t.kind is Kind.DUR]


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("at 10s", 10000),
        ("at the 10-second mark", 10000),
        ("at 0:12", 12000),
        ("at 1:02:03", 3723000),
        ("for 3 secs", 3000),
        ("at twenty seconds", 20000),
        ("twenty-five seconds", 25000),
        ("ninety nine seconds", 99000),
        ("half a minute", 30000),
        ("a half-minute video", 30000),
        ("one and a half minutes", 90000),
        ("a minute and a half", 90000),
        ("1 min", 60000),
        ("1m30s", 90000),
        ("500ms", 500),
        ("2.5 seconds", 2500),
        ("2 and a half seconds", 2500),
        ("at 3 and a half secs", 3500),
        ("1 and a half minutes", 90000),
        ("十五秒", 15000),
        ("第10秒", 10000),
    ],
)
def test_times_are_read_in_every_usual_spelling(text: str, ms: float) -> None:
    assert _durations(text) == [ms]


def test_quotes_of_every_kind_become_single_tokens_with_their_words() -> None:
    text = "add \"Big sale 🔥 50% off!\" and 'Don't miss it' and “Spring” and 「限时优惠」"
    quotes = [t.norm for t in tokenize(text) if t.kind is Kind.QUOTE]
    assert quotes == ["Big sale 🔥 50% off!", "Don't miss it", "Spring", "限时优惠"]


def test_apostrophes_in_words_do_not_open_a_quote() -> None:
    toks = tokenize("don't touch the clip's sound, it's fine")
    assert not [t for t in toks if t.kind is Kind.QUOTE]


def test_ordinals_in_words_digits_and_chinese() -> None:
    toks = tokenize("the second clip, the 3rd image, the last one, second to last, 第二个")
    assert [t.value for t in toks if t.kind is Kind.ORD] == [1, 2, -1, -2, 1]


def test_second_after_a_number_is_a_unit_not_an_ordinal() -> None:
    toks = tokenize("make the second clip 3 second long")
    assert [t.value for t in toks if t.kind is Kind.ORD] == [1]
    assert _durations("make the second clip 3 second long") == [3000]


def test_percentages_multipliers_and_aspect_ratios() -> None:
    toks = tokenize("music at 30% or 45 percent, speed 2x, 1.5x, twice, ratio 9:16 and 4:5")
    assert [t.value for t in toks if t.kind is Kind.PCT] == [0.3, 0.45]
    assert [t.value for t in toks if t.kind is Kind.MULT] == [2, 1.5, 2]
    assert [(t.value, t.value2) for t in toks if t.kind is Kind.RATIO] == [(9, 16), (4, 5)]


def test_file_names_are_one_token_even_at_the_end_of_a_sentence() -> None:
    toks = tokenize("Swap the music for music_calm.mp3. Then use IMG_2034.JPG")
    assert [t.norm for t in toks if t.kind is Kind.FILE] == ["music_calm.mp3", "IMG_2034.JPG"]


def test_chinese_words_are_read_into_the_english_vocabulary() -> None:
    words = [t.norm for t in tokenize("删除第二个片段，然后改成竖屏") if t.kind is Kind.WORD]
    assert words == ["remove", "clip", "then", "change", "to", "vertical"]


def test_phrases_become_one_word() -> None:
    words = [t.norm for t in tokenize("swap the background music and use quick cuts") if t.kind is Kind.WORD]
    assert "music" in words
    assert "quick_cuts" in words
    assert "background" not in words


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("trasition", "transition"),
        ("muisc", "music"),
        ("remvoe", "remove"),
        ("secnd", "second"),
        ("twnety", "20"),
    ],
)
def test_a_word_one_slip_from_the_vocabulary_is_read_as_that_word(typed: str, meant: str) -> None:
    (tok,) = tokenize(typed)
    assert (tok.norm if tok.kind is not Kind.NUM else f"{tok.value:g}") == meant or tok.kind is Kind.ORD


@pytest.mark.parametrize("word", ["there", "these", "other", "height", "product", "lifestyle", "bakery"])
def test_common_words_and_names_are_never_corrected(word: str) -> None:
    (tok,) = tokenize(word)
    assert (tok.kind, tok.norm) == (Kind.WORD, word)


def test_the_grammars_own_words_are_never_corrected() -> None:
    from engine.agent._lexicon import GRAMMAR_WORDS, correct

    assert [w for w in sorted(GRAMMAR_WORDS) if correct(w) is not None] == []


def test_a_comma_between_digits_is_a_list_unless_a_unit_makes_it_a_decimal() -> None:
    assert [t.value for t in tokenize("clips 3,1,2") if t.kind is Kind.NUM] == [3, 1, 2]
    assert _durations("2,5 s") == [2500]
    assert _durations("1,000 ms") == [1000]


@pytest.mark.no_cover  # timed: coverage's tracer would slow it several times over
@pytest.mark.parametrize("opener", ["“", '"', "'", "「", "«"])
def test_thousands_of_unclosed_quotes_are_read_in_linear_time(opener: str) -> None:
    import time

    started = time.perf_counter()
    tokenize(opener * 4000 + " add the text 'Sale'")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("take the voiceover out", "remove"),
        ("turn the music down", "lower"),
        ("turn the clip audio off", "mute"),
        ("take the last caption off please", "remove"),
    ],
)
def test_a_verb_and_its_particle_apart_read_as_the_phrase(text: str, phrase: str) -> None:
    words = [t.norm for t in tokenize(text) if t.kind is Kind.WORD]
    assert words[0] == phrase
    assert words.count("out") + words.count("off") + words.count("down") == 0


def test_a_particle_that_starts_something_else_stays_where_it_is() -> None:
    words = [t.norm for t in tokenize("turn the music down the middle of the clip")]
    assert "down" in words


@pytest.mark.parametrize("word", ["feels", "reals", "fades"])
def test_an_english_word_is_never_read_as_a_typo(word: str) -> None:
    assert lx.correct(word) is None or lx.correct(word) == word


def test_a_word_that_is_no_english_is_still_read_as_its_typo() -> None:
    assert lx.correct("trasition") == "transition"
    assert lx.correct("vidoe") == "video"


WORD_LIST = Path("/usr/share/dict/american-english")


@pytest.mark.skipif(
    not WORD_LIST.is_file(), reason="no English word list (scripts/test-prerequisites installs it)"
)
def test_the_english_word_list_near_the_vocabulary_is_current() -> None:
    """engine/agent/english_near.txt is what scripts/make-english-near.py makes from the vocabulary
    now: a word the vocabulary gained must not turn a real English word into a 'typo' of it."""
    english = {w.strip() for w in WORD_LIST.read_text(encoding="utf-8").splitlines()}
    wanted = {w for w in english if w.isascii() and w.isalpha() and w.islower() and lx.typo_of(w)}
    assert wanted == set(lx._english_near()), "run scripts/make-english-near.py"
