"""Properties of the conversation over random messages and random drafts (precision first).

- a message changes the draft only when every part of it is read: one unclear part and nothing is
  applied, whatever the clear parts were;
- a reply that declines ("I can't do ...") names only something no rule of the grammar reads;
- every question ends with its only question mark.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.agent import respond
from engine.agent._clause import Clause
from engine.agent._intents import RULES, match
from engine.agent._lexer import tokenize
from engine.agent._view import make_view
from tests.engine.agent._media import PROMO, promo_media

MEDIA = promo_media()
BASE: dict[str, Any] = respond(PROMO, None, MEDIA).stages[-1].draft

# Clear edits (each read by a rule) and parts whose action is known but whose target or meaning is not.
CLEAR = [
    "make the music 20%",
    "remove the last photo",
    "add the text 'Sale' at 5 seconds",
    "make it vertical",
    "swap the first two photos",
    "make the intro 3 seconds",
    "kill the voiceover",
    "duplicate the second photo",
]
UNCLEAR = [
    "move the clip",
    "change the font",
    "make the text nicer",
    "shorten the shot",
    "put the text somewhere else",
    "swap the photos",
]
_DRAFT_EDITS = [
    "remove the last photo",
    "add the text 'Why not?' at 4s",
    "add the text 'Big? Sale' at 12s for 2 seconds",
    "make the intro 2 seconds",
    "make it square",
    "remove the music",
    "duplicate the third photo",
    "make it 20 seconds",
]
_WORDS = [
    "add",
    "remove",
    "move",
    "make",
    "the",
    "a",
    "clip",
    "photo",
    "text",
    "music",
    "voiceover",
    "at",
    "for",
    "to",
    "and",
    "5s",
    "10",
    "seconds",
    "20%",
    "it",
    "that",
    "first",
    "last",
    "second",
    "shot",
    "side",
    "detail",
    "front",
    "lifestyle",
    "'Hi'",
    '"Sale?"',
    "swap",
    "split",
    "copy",
    "shorter",
    "longer",
    "later",
    "earlier",
    "halfway",
    "end",
    "start",
    "vertical",
    "square",
    "undo",
    "twice",
    "same",
    "one",
    "after",
    "too",
    "dancing",
    "robot",
    "8K",
    "3D",
    "font",
    "nicer",
    "somewhere",
    "else",
    "?",
    "please",
    "can",
    "you",
    "could",
    "would",
]


@st.composite
def drafts(draw: st.DrawFn) -> dict[str, Any]:
    """The promo draft after a few random edits (texts with question marks among them)."""
    d = BASE
    for message in draw(st.lists(st.sampled_from(_DRAFT_EDITS), max_size=3)):
        turn = respond(message, d, MEDIA)
        if turn.stages:
            d = turn.stages[-1].draft
    return d


_MESSAGES = st.one_of(
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=14).map(" ".join),
    st.sampled_from(CLEAR + UNCLEAR),
    st.text(max_size=60),
)
_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(
    draft=drafts(),
    clear=st.lists(st.sampled_from(CLEAR), min_size=1, max_size=2),
    unclear=st.sampled_from(UNCLEAR),
)
def test_one_unclear_part_and_nothing_is_applied(
    draft: dict[str, Any], clear: list[str], unclear: str
) -> None:
    before = copy.deepcopy(draft)
    for message in (", then ".join([*clear, unclear]), ". ".join([unclear, *clear])):
        turn = respond(message, draft, MEDIA)
        assert not turn.stages, (message, turn.reply)
        assert turn.kind in ("question", "answer"), (message, turn.reply)
    assert draft == before


@_SETTINGS
@given(draft=drafts(), message=_MESSAGES)
def test_a_declining_reply_names_only_what_no_rule_reads(draft: dict[str, Any], message: str) -> None:
    turn = respond(message, draft, MEDIA)
    if turn.kind != "answer" or not turn.reply.startswith("I can't do \""):
        return
    declined = turn.reply[len("I can't do \"") :].split('" with the local engine', 1)[0]
    found = match(Clause(tuple(tokenize(declined)), declined), make_view(draft, MEDIA))
    assert found is None or not isinstance(found[1], list), (message, turn.reply)


def test_no_example_of_an_ability_is_declined() -> None:
    for rule in RULES:
        if rule.family == "decline":
            continue
        for example in rule.examples:
            if ": " in example and example.split(": ")[0] in ("clips3", "two"):
                continue
            reply = respond(example, BASE, MEDIA).reply
            assert not reply.startswith("I can't"), (rule.name, example, reply)


@_SETTINGS
@given(draft=drafts(), message=_MESSAGES)
def test_every_question_ends_with_its_only_question_mark(draft: dict[str, Any], message: str) -> None:
    before = copy.deepcopy(draft)
    turn = respond(message, draft, MEDIA)
    if turn.kind == "question":
        assert turn.reply.rstrip().endswith("?"), turn.reply
        assert turn.reply.count("?") == 1, turn.reply
        assert not turn.stages
    assert draft == before
