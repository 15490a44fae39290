"""The grammar's rules as data: every rule is reached by its own examples and not by its counter-examples,
priorities are explicit, and the rules read only words of the one vocabulary."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from engine.agent import _lexicon as lx
from engine.agent._apply import APPLIERS
from engine.agent._clause import Clause
from engine.agent._intents import RULES, Rule, match
from engine.agent._lexer import Kind, tokenize
from engine.agent._parse import _sizes, _unlist
from engine.agent._respond import respond
from engine.agent._types import Draft, MediaRef
from engine.agent._view import View, make_view

from ._media import clip_media, promo_media

AGENT = Path(__file__).resolve().parents[3] / "engine" / "agent"
OPENINGS: dict[str, tuple[str, bool]] = {
    "promo5": ("Combine these images and audio into a 30-second promotional video with text overlays", True),
    "clips3": ("Make a 20-second video from these clips with background music", False),
    "two": ("make a video from product_front.jpg and product_side.jpg", True),
}


@cache
def _view(setup: str) -> View:
    opening, promo = OPENINGS[setup]
    media: list[MediaRef] = promo_media() if promo else clip_media()
    turn = respond(opening, None, media)
    draft: Draft = turn.stages[-1].draft
    return make_view(draft, media)


def _reading(example: str) -> tuple[Rule | None, object]:
    setup, _, message = example.partition(": ") if example.split(": ")[0] in OPENINGS else ("", "", example)
    text = _sizes(_unlist(message))
    found = match(Clause(tuple(tokenize(text)), text), _view(setup or "promo5"))
    return (found[0], found[1]) if found else (None, None)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_rule_is_reached_by_its_examples_and_not_by_its_counter_examples(rule: Rule) -> None:
    assert rule.examples, f"{rule.name} has no examples: no test would notice it is dead"
    assert rule.counter, f"{rule.name} has no counter-examples"
    for example in rule.examples:
        reached, fill = _reading(example)
        assert reached is not None, f"{example!r} is read by no rule"
        assert reached.name == rule.name, f"{example!r} is read by {reached.name}, not {rule.name}"
        if isinstance(fill, list):
            assert {op.name for op in fill} <= set(rule.produces), (example, fill)
    for counter in rule.counter:
        reached, _fill = _reading(counter)
        assert reached is None or reached.name != rule.name, f"{counter!r} must not be read by {rule.name}"


def test_priorities_are_explicit_and_unique_so_the_order_is_stated_once() -> None:
    priorities = [r.priority for r in RULES]
    assert len(set(priorities)) == len(priorities)
    assert len({r.name for r in RULES}) == len(RULES)


def test_every_operation_a_rule_produces_has_an_applier() -> None:
    for rule in RULES:
        if rule.family in ("ask", "decline"):
            continue
        assert rule.produces, rule.name
        assert set(rule.produces) <= set(APPLIERS), rule.name


def _literal_words() -> dict[str, set[str]]:
    """Every word the grammar's code tests literally (``has_word`` / ``is_word`` arguments)."""
    words: dict[str, set[str]] = {}
    for path in sorted(AGENT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            tests_a_word = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("has_word", "is_word")
            )
            if tests_a_word:
                assert isinstance(node, ast.Call)
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        words.setdefault(arg.value, set()).add(path.name)
    return words


def test_no_rule_tests_a_word_the_lexicon_does_not_know() -> None:
    words = _literal_words()
    assert len(words) > 100  # the scan finds the grammar's words
    unknown = {w: sorted(files) for w, files in words.items() if not lx.is_known(w)}
    assert unknown == {}


def test_the_typo_corrector_never_rewrites_a_known_word() -> None:
    vocabulary = (
        {w for w in _literal_words() if lx.is_known(w)} | set(lx.CLAUSE_VERBS) | set(lx.GRAMMAR_WORDS)
    )
    vocabulary |= {w for members in lx.CONCEPTS.values() for w in members} | set(lx.FUNCTION_WORDS)
    rewritten = {w: lx.correct(w) or lx.lemma(w) for w in vocabulary if lx.correct(w) or lx.lemma(w)}
    assert rewritten == {}
    for word in sorted(w for w in vocabulary if w.isalpha() and w.isascii() and len(w) >= 5):
        first = tokenize(word)[0]
        assert first.norm == word or first.kind is not Kind.WORD or (word,) in lx.PHRASES, word
