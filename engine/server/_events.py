"""Google ADK events for a turn, and their SSE frames (pure).

For each Stage of a Turn: for each ToolStep a ``functionCall`` event (role "model") and a
``functionResponse`` event (role "user"); the stage's last functionResponse carries the stage's draft
in ``actions.stateDelta.draft`` (a stage without steps carries it on its text event); then the
stage's text as a model text event. The turn's reply follows as the last text event, without what
the stage texts already said (``closing_text``). A turn without stages is its reply alone.

Frames are ``data: <compact JSON>\\n\\n``, no ``id:``/``retry:`` (docs/protocol.md §4).
"""

from __future__ import annotations

import json
import secrets
import string
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

from engine.agent import Stage, Turn
from engine.server.faults import FaultState, split_partials

__all__ = [
    "AUTHOR",
    "LONG_RUNNING_TOOLS",
    "PING_FRAME",
    "closing_text",
    "data_frame",
    "event_frames",
    "is_text_event",
    "new_invocation_id",
    "turn_events",
]

AUTHOR: Final = "nemo_agent"
PING_FRAME: Final = b": ping\n\n"
# Tools the cloud runs as long-running operations (their calls are listed in longRunningToolIds).
LONG_RUNNING_TOOLS: Final = frozenset(
    {"generate_video", "generate_music", "generate_image", "generate_voiceover", "generate_raw_cut"}
)
_ID_CHARS: Final = string.ascii_letters + string.digits


def new_invocation_id() -> str:
    return "e-" + str(uuid.uuid4())


def _event_id() -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(8))


def _event(
    invocation_id: str,
    now: float,
    role: str,
    parts: list[dict[str, Any]],
    *,
    draft: dict[str, Any] | None = None,
    long_running: Sequence[str] = (),
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": _event_id(),
        "invocationId": invocation_id,
        "author": AUTHOR,
        "timestamp": round(now, 3),
        "content": {"role": role, "parts": parts},
        "actions": {"stateDelta": {} if draft is None else {"draft": draft}, "artifactDelta": {}},
    }
    if long_running:
        event["longRunningToolIds"] = list(long_running)
    return event


def _stage_events(stage: Stage, invocation_id: str, now: float) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    last = len(stage.steps) - 1
    for i, step in enumerate(stage.steps):
        call_id = "adk-" + str(uuid.uuid4())
        call = {"functionCall": {"id": call_id, "name": step.name, "args": step.args}}
        long_running = [call_id] if step.name in LONG_RUNNING_TOOLS else []
        events.append(_event(invocation_id, now, "model", [call], long_running=long_running))
        response = {
            "functionResponse": {
                "id": call_id,
                "name": step.name,
                "response": {"status": "success", "summary": step.summary},
            }
        }
        events.append(
            _event(invocation_id, now, "user", [response], draft=stage.draft if i == last else None)
        )
    text_parts = [{"text": stage.text}] if stage.text else []
    if text_parts or not stage.steps:
        events.append(
            _event(invocation_id, now, "model", text_parts, draft=None if stage.steps else stage.draft)
        )
    return events


def turn_events(
    turn: Turn, invocation_id: str, clock: Callable[[], float]
) -> list[tuple[Stage | None, list[dict[str, Any]]]]:
    """The turn's events grouped by stage (None for the closing reply), in stream order."""
    groups: list[tuple[Stage | None, list[dict[str, Any]]]] = [
        (stage, _stage_events(stage, invocation_id, clock())) for stage in turn.stages
    ]
    rest = closing_text(turn)
    if rest:
        groups.append((None, [_event(invocation_id, clock(), "model", [{"text": rest}])]))
    return groups


def closing_text(turn: Turn) -> str:
    """What the reply adds to the stages' texts (the whole reply when it does not start with them).

    The agent's reply usually repeats the stage texts and then adds the track summary; sending it
    whole would say everything twice. The turn's text events, joined by newlines, are the reply.
    """
    said = "\n".join(stage.text for stage in turn.stages if stage.text)
    reply = turn.reply
    if said and reply.startswith(said):
        return reply[len(said) :].strip()
    return reply.strip()


def is_text_event(event: dict[str, Any]) -> bool:
    parts = event.get("content", {}).get("parts", [])
    return any("text" in part for part in parts)


def data_frame(event: dict[str, Any]) -> bytes:
    """One SSE frame: ``data: <compact JSON>`` and a blank line."""
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def event_frames(
    event: dict[str, Any], faults: FaultState, *, silent: bool, streaming: bool = False
) -> list[bytes]:
    """The frames one event becomes under the server's faults (none for a text event of a silent turn).

    Text events: GUI-speak appended (``gui_speak``), and when the request asked for ``streaming``
    (or with the fault ``streaming_partials``) sent as
    ``"partial": true`` chunks followed by the final event (same id). A text event that also carries
    the draft keeps it, but loses its text when silent.
    """
    if not is_text_event(event):
        return [data_frame(event)]
    if silent:
        if event["actions"]["stateDelta"]:
            quiet = {**event, "content": {**event["content"], "parts": []}}
            return [data_frame(quiet)]
        return []
    text = "".join(part["text"] for part in event["content"]["parts"] if "text" in part)
    text = faults.gui_speak(text)
    final = {**event, "content": {**event["content"], "parts": [{"text": text}]}}
    frames: list[bytes] = []
    if streaming or faults.config.streaming_partials:
        for chunk in split_partials(text):
            partial = {
                **final,
                "partial": True,
                "content": {**final["content"], "parts": [{"text": chunk}]},
                "actions": {"stateDelta": {}, "artifactDelta": {}},
            }
            frames.append(data_frame(partial))
    frames.append(data_frame(final))
    return frames
