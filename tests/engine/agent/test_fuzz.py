"""Fuzzing the parser: no input crashes it, and the draft changes only when a plan was made."""

from __future__ import annotations

import copy
import random
import string
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.agent import respond
from engine.agent._parse import parse
from engine.agent._plan import Plan
from tests.engine.agent._media import PROMO, promo_media

MEDIA = promo_media()
DRAFT: dict[str, Any] = respond(PROMO, None, MEDIA).stages[-1].draft

_VOCABULARY_TEXT = (
    "add remove delete the a clip clips intro outro text title caption music voiceover at for "
    "to and then between 10s 0:12 3 secs twenty first last second third 30% 2x 1.5x vertical "
    "square landscape 'Sale' \"Shop now\" “Hi” 「好」 第二个 删除 添加 文字 音乐 undo redo swap move split "
    "mute unmute fade in out zoom crossfade wipe make it seconds , . ; ? 🔥 music_calm.mp3 "
    "product_front.jpg speed up slow down slower faster bigger red bold top bottom louder "
    "quieter volume 50 half minute one and a half after before later earlier keep only use "
    "with new another reverse order reorder duplicate copy rename call titled saying says no "
    "text no music it them lifestyle product side detail shot image photo 4:5 9:16 1:1 tiktok "
    "reels cut trim shorten lengthen extend every each come show instead replace how long what "
    "is too loud quiet don't like"
    " except but leave half as long twice until the end appear 每张 所有 no. number"
)
_WORDS = st.sampled_from(_VOCABULARY_TEXT.split())
_MESSAGES = st.one_of(
    st.text(max_size=300),
    st.lists(_WORDS, max_size=30).map(" ".join),
    st.lists(st.one_of(_WORDS, st.text(max_size=5)), max_size=20).map(" ".join),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=_MESSAGES)
def test_no_message_crashes_the_agent_and_the_draft_only_changes_with_a_plan(message: str) -> None:
    before = copy.deepcopy(DRAFT)
    turn = respond(message, DRAFT, MEDIA)
    assert before == DRAFT
    if turn.kind in ("question", "answer", "noop"):
        assert turn.stages == ()
        assert turn.cost == 0
    else:
        assert turn.stages
    if turn.kind == "question":  # one focused question, at the end
        assert turn.reply.endswith("?")
        assert turn.reply.count("?") == 1
    assert turn.reply


@settings(max_examples=30, deadline=None)
@given(
    chunk=st.lists(st.one_of(_WORDS, st.text(min_size=1, max_size=8)), min_size=1, max_size=12).map(" ".join)
)
def test_ten_kilobytes_of_repeated_text_is_handled(chunk: str) -> None:
    message = (chunk * (10_000 // max(1, len(chunk)) + 1))[:10_000]
    turn = respond(message, DRAFT, MEDIA)
    assert turn.reply


def test_ten_kilobytes_of_random_characters_change_nothing() -> None:
    rng = random.Random(7)
    alphabet = string.printable + "“”「」第二秒删除添加🔥é"
    message = "".join(rng.choice(alphabet) for _ in range(10_000))
    turn = respond(message, DRAFT, MEDIA)
    assert turn.reply
    assert turn.kind in ("question", "answer", "noop", "edit")


@settings(max_examples=100, deadline=None)
@given(message=_MESSAGES)
def test_the_core_is_deterministic(message: str) -> None:
    assert parse(message, DRAFT, MEDIA) == parse(message, DRAFT, MEDIA)


@settings(max_examples=100, deadline=None)
@given(message=_MESSAGES)
def test_a_message_on_an_empty_session_never_crashes(message: str) -> None:
    turn = respond(message, None, [])
    assert turn.reply


_QUOTED = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\"“”'‘’「」『』«»„＂《》"
    ),
    min_size=1,
    max_size=40,
).filter(lambda q: q.strip() != "")


@settings(max_examples=150, deadline=None)
@given(words=_QUOTED, joiner=st.sampled_from([" and ", ", ", " then ", "; and then ", " & "]))
def test_nothing_inside_quotes_is_split_or_read(words: str, joiner: str) -> None:
    quoted = f"{words}{joiner}remove the second clip"
    outcome = parse(f'add the text "{quoted}" at 3s', DRAFT, MEDIA)
    assert isinstance(outcome, Plan)
    adds = [op for op in outcome.ops if op.name == "add_text"]
    assert [op.args["text"] for op in adds] == [quoted.strip()]
    assert not [op for op in outcome.ops if op.name == "remove_segment"]


@pytest.mark.no_cover  # timed: coverage's tracer would slow it several times over
@pytest.mark.parametrize(
    "message",
    [
        "move clip 1 " + "after " * 800,
        "remove " + "clip 1 and " * 400,
        "make it " + "vertical, " * 400,
        "add " + "'a' " * 900,
        "add 'x' " + "at 1s " * 600,
        "between 1 and 2 " * 300,
        "make it bigger and make it " * 200,
        "删除第二个片段，" * 300,
        "“" * 4000,
        "but " * 1000,
        "and " * 1000,
        "bigger " * 600,
    ],
    ids=[
        "after",
        "clips",
        "commas",
        "quotes",
        "times",
        "between",
        "pronouns",
        "chinese",
        "unclosed",
        "buts",
        "ands",
        "unknown-words",
    ],
)
def test_long_repetitive_messages_are_answered_quickly_without_changing_the_input(message: str) -> None:
    before = copy.deepcopy(DRAFT)
    started = time.process_time()  # CPU time: other processes on a busy machine do not count
    turn = respond(message, DRAFT, MEDIA)
    assert time.process_time() - started < 1.5
    assert turn.reply
    assert before == DRAFT
