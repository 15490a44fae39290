"""The pure core: message text + draft + uploads → what to do (a plan, a question, an answer, ...).

No I/O and no timeline calls: the message is tokenized, split into clauses, and each clause is
matched against the intent table. Several clauses make one plan (applied in order, atomically by the
caller); the first question or refusal wins, so an ambiguous part never half-applies.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.agent._clause import Clause, split_clauses
from engine.agent._generate import read_spec, wants_generation
from engine.agent._intents import AI_TEXT, CAN_DO, INTENTS, match
from engine.agent._lexer import tokenize
from engine.agent._plan import Answer, Generate, Noop, Op, Outcome, Plan, Question, Revision
from engine.agent._types import Draft, MediaRef
from engine.agent._view import View, make_view

__all__ = ["parse"]

MAX_MESSAGE_CHARS = 4000  # longer messages are read up to here (a pasted essay is not an edit list)

ROUTES = (
    ("export", "To export, use the export tool (mp4, mov, avi, webm or mkv); exporting costs no credits."),
    ("credits", "To see your credits, use the credits tool; generating costs 10 credits and each edit 1."),
    ("status", "To see the timeline, use the get_state tool: it shows the track summary."),
    (
        "upload",
        "To add media, use the upload tool (mp4 mov avi webm mkv jpg png gif webp mp3 wav m4a aac, up "
        "to 500 MB), then tell me what to do with it.",
    ),
)

NOOP_TEXT = (
    "I didn't find an edit in that, so nothing changed. "
    + CAN_DO
    + (' For example: "shorten the intro to 2 seconds" or "add a text overlay \'Limited offer\' at 10s".')
)


_REVISION_WORDS = {"undo": "undo", "redo": "redo", "first": "go back to the first version"}


def _revision(c: Clause) -> Revision | None:
    if c.has("first_version"):
        return Revision("first")
    if c.has("redo"):
        return Revision("redo")
    if c.has("undo"):
        return Revision("undo")
    return None


def _route(c: Clause) -> Answer | None:
    for concept, text in ROUTES:
        if c.has(concept):
            return Answer(text)
    return None


def _is_ai_request(c: Clause) -> bool:
    return c.has("ai") or (
        c.has_word("generate", "film", "shoot", "animate") and c.has_word("footage", "scene", "shots", "of")
    )


def parse(message: str, draft: Draft | None, media: Sequence[MediaRef]) -> Outcome:
    text = message[:MAX_MESSAGE_CHARS]
    toks = tokenize(text)
    whole = Clause(tuple(toks), text)
    if whole.is_empty:
        return Noop("The message was empty, so nothing changed. " + CAN_DO)
    view = make_view(draft, media)
    clauses = split_clauses(toks, text)

    revisions = [r for c in clauses if (r := _revision(c)) is not None]
    if revisions:
        if len(clauses) == 1:
            return revisions[0]
        return Answer(
            f'Let\'s do that in two steps: say "{_REVISION_WORDS[revisions[0].which]}" '
            "on its own first, then the next change. Nothing changed."
        )
    route = _route(whole)
    if route is not None and (len(clauses) == 1 or view.empty):
        return route

    if view.empty:
        if _is_ai_request(whole) and not [m for m in media if m.kind in ("image", "video")]:
            return Answer(AI_TEXT)
        if wants_generation(whole) or (media and whole.has("add", "use", "combine")):
            return Generate(read_spec(whole, media))
        if any(intent.matches(c, view) for c in clauses for intent in INTENTS):
            return Answer(
                'There is no video yet. Describe the video to make, e.g. "make a 30-second promo '
                'from these images with the upbeat music".'
            )
        return Noop(NOOP_TEXT)

    if (
        whole.has("generate")
        and whole.has_word("new", "another", "again", "regenerate", "scratch", "fresh")
        and (whole.has("video") or wants_generation(whole))
    ):
        return Generate(read_spec(whole, media))
    return _edit_plan(clauses, view)


def _edit_plan(clauses: Sequence[Clause], view: View) -> Outcome:
    ops: list[Op] = []
    understood: list[str] = []
    for c in clauses:
        found = match(c, view)
        if found is None:
            if not understood and len(clauses) == 1:
                if _is_ai_request(c) or c.has("add", "generate", "change", "make"):
                    return Answer(f'I can\'t do "{c.text}" with the local engine. ' + CAN_DO)
                return Noop(NOOP_TEXT)
            if c.has("add", "remove", "change", "make", "move", "generate", "use"):
                done = "; ".join(f'"{u}"' for u in understood) or "the rest"
                return Answer(f'I understood {done} but not "{c.text}", so nothing changed. ' + CAN_DO)
            continue  # a tail with no instruction in it ("please", "thanks")
        _intent, fill = found
        if isinstance(fill, Question | Answer):
            if isinstance(fill, Answer) and len(clauses) > 1:
                return Answer(f'"{c.text}" can\'t be done: {fill.text} Nothing changed.')
            return fill
        ops += fill
        understood.append(c.text)
    if not ops:
        return Noop(NOOP_TEXT)
    return Plan(tuple(ops))
