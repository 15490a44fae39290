"""respond(): one message → one Turn (stages, reply, cost). Pure: no I/O, no clock, no randomness."""

from __future__ import annotations

from collections.abc import Sequence

from engine import summary as sm
from engine import timeline as tl
from engine.agent._apply import ApplyError, apply_ops, build_generation
from engine.agent._generate import plan_generation
from engine.agent._parse import parse
from engine.agent._plan import Answer, Generate, Info, Noop, Plan, Question, Revision
from engine.agent._types import Draft, History, MediaRef, Stage, ToolStep, Turn

__all__ = ["COSTS", "respond"]

_NO_HISTORY = History()
COSTS = {"generate": 10, "edit": 1, "question": 0, "answer": 0, "noop": 0, "revision": 0}


MAX_CHANGES_SAID = 6  # a reply stays short: the track summary after it shows the rest


def _sentence(parts: Sequence[str]) -> str:
    """The changes as one sentence; past a handful, the total duration and a count of the rest."""
    shown = list(parts)
    if len(shown) > MAX_CHANGES_SAID:
        total = [p for p in shown if p.startswith("total duration")]
        head = [p for p in shown if not p.startswith("total duration")][: MAX_CHANGES_SAID - 1]
        shown = [*head, *total, f"and {len(parts) - len(head) - len(total)} more changes"]
    text = "; ".join(shown)
    return text[:1].upper() + text[1:] + "." if text else ""


def respond(
    message: str, draft: Draft | None, media: Sequence[MediaRef], history: History = _NO_HISTORY
) -> Turn:
    """What the local engine's agent does with ``message`` (docs/contracts.md, engine.agent)."""
    if draft is not None:
        try:
            draft = tl.load_draft(draft)  # a checked copy: a broken draft is reported, never half-read
        except tl.TimelineError as exc:
            return Turn("answer", (), f"The video's draft is damaged, so nothing was changed: {exc}")
    outcome = parse(message if isinstance(message, str) else "", draft, media)
    if isinstance(outcome, Question):
        return Turn("question", (), _one_question_mark(outcome.text))
    if isinstance(outcome, Answer):
        return Turn("answer", (), outcome.text)
    now = f"\nRight now: {sm.track_summary(draft)}" if draft is not None and tl.is_ready(draft) else ""
    if isinstance(outcome, Noop):
        return Turn("noop", (), outcome.text + now)
    if isinstance(outcome, Info):
        return Turn("answer", (), outcome.text + (now or "\nThere is no video yet."))
    if isinstance(outcome, Revision):
        return _revision(outcome, draft, history)
    if isinstance(outcome, Generate):
        return _generate(outcome, media)
    return _edit(outcome, draft)


def _one_question_mark(text: str) -> str:
    """A question ends with its only question mark (one quoted with a text's words is dropped)."""
    body = text.rstrip().rstrip("?？")
    return body.replace("?", "").replace("？", "") + "?"


def _revision(r: Revision, draft: Draft | None, history: History) -> Turn:
    target = {"undo": history.undo, "redo": history.redo, "first": history.first}[r.which]
    what = {"undo": "undo", "redo": "redo", "first": "go back to"}[r.which]
    if r.steps > 1:
        chain = history.undo_chain if r.which == "undo" else history.redo_chain
        if not chain:
            return Turn("answer", (), "Nothing to undo yet." if r.which == "undo" else "Nothing to redo.")
        if len(chain) < r.steps:
            return Turn(
                "answer",
                (),
                f"There {'is' if len(chain) == 1 else 'are'} only {len(chain)} step"
                f"{'' if len(chain) == 1 else 's'} to {what}, so nothing changed; "
                f'say "{what}" on its own to go back one.',
            )
        target = chain[r.steps - 1]
    if target is None:
        nothing = {
            "undo": "Nothing to undo yet.",
            "redo": "Nothing to redo.",
            "first": "There is no earlier version.",
        }
        return Turn("answer", (), nothing[r.which])
    try:
        target = tl.load_draft(target)
    except tl.TimelineError as exc:
        return Turn("answer", (), f"That version of the draft is damaged, so nothing was changed: {exc}")
    if r.which == "first" and target == draft:
        return Turn("answer", (), "This is the first version already.")
    changes = sm.describe_changes(draft, target) if isinstance(draft, dict) else []
    label = {"undo": "Undone", "redo": "Redone", "first": "Back to the first version"}[r.which]
    text = f"{label}: {_sentence(changes)}" if changes else f"{label}."
    reply = f"{text}\n{sm.track_summary(target)}"
    step = ToolStep("restore_version" if r.which == "first" else r.which, {"to": what}, text)
    return Turn(
        "revision",
        (Stage("revision", (step,), target, text),),
        reply,
        revision=r.which,
        cost=COSTS["revision"],
        steps=r.steps,
    )


def _generate(g: Generate, media: Sequence[MediaRef]) -> Turn:
    plan = plan_generation(g.spec, media)
    try:
        raw, raw_steps, final, steps = build_generation(plan)
    except (tl.TimelineError, ValueError) as exc:
        return Turn("answer", (), f"I couldn't build the video: {str(exc).rstrip('. ')}. Nothing changed.")
    stage1 = "Stage 1 (raw cut): " + raw_steps[0].summary + "."
    extras = [s.summary for s in steps if s.summary]
    stage2 = "Stage 2 (music and title): " + (_sentence(extras) if extras else "no music or text to add.")
    notes = (" Note: " + "; ".join(plan.notes) + ".") if plan.notes else ""
    reply = f"{stage1}\n{stage2}{notes}\n{sm.track_summary(final)}"
    return Turn(
        "generate",
        (
            Stage("raw_cut", tuple(raw_steps), raw, stage1),
            Stage("music_and_title", tuple(steps), final, stage2),
        ),
        reply,
        cost=COSTS["generate"],
    )


def _edit(plan: Plan, draft: Draft | None) -> Turn:
    if not isinstance(draft, dict):
        return Turn("answer", (), "There is no video yet; describe the video to make first.")
    try:
        new, steps = apply_ops(draft, plan.ops)
    except ApplyError as exc:
        reason = exc.reason.rstrip(". ")
        return Turn("answer", (), f'Nothing changed: I couldn\'t do "{exc.phrase}" because {reason}.')
    changes = sm.describe_changes(draft, new)
    if new == draft or not changes:
        # (no change a person would see: only the agent's own memory of the last edit would move)
        why = "Those changes cancel each other out" if len(plan.ops) > 1 else "That is already how it is"
        return Turn("noop", (), f"{why}, so nothing changed.\n" + sm.track_summary(draft))
    text = "Done: " + _sentence(changes) + "".join(f" {n}" for n in plan.notes)
    return Turn(
        "edit",
        (Stage("edit", tuple(steps), new, text),),
        f"{text}\n{sm.track_summary(new)}",
        cost=COSTS["edit"],
    )
