"""ADK events for a Turn (pure): order, roles, where the draft goes, and what faults do to texts."""

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.agent import Stage, ToolStep, Turn
from engine.server._events import closing_text, event_frames, turn_events
from engine.server.faults import FaultConfig, FaultState, split_partials

DRAFT_1: dict[str, Any] = {"m": {"width": 1920, "height": 1080}, "t": [], "n": 1}
DRAFT_2: dict[str, Any] = {"m": {"width": 1920, "height": 1080}, "t": [], "n": 2}


def _turn() -> Turn:
    return Turn(
        kind="generate",
        stages=(
            Stage(
                "raw_cut", (ToolStep("generate_video", {"d": 10}, "raw cut ready"),), DRAFT_1, "Stage 1 done."
            ),
            Stage(
                "music_and_title",
                (
                    ToolStep("set_audio", {"role": "bgm"}, "music"),
                    ToolStep("add_text", {"text": "Hi"}, "title"),
                ),
                DRAFT_2,
                "Stage 2 done.",
            ),
        ),
        reply="Stage 1 done.\nStage 2 done.\nTimeline (2 tracks): ...",
        cost=10,
    )


def _flat(turn: Turn) -> list[dict[str, Any]]:
    return [event for _, events in turn_events(turn, "e-1", lambda: 1.5) for event in events]


def test_each_stage_is_calls_and_responses_then_its_text_and_the_reply_adds_the_rest() -> None:
    events = _flat(_turn())
    shape = [(e["content"]["role"], next(iter(e["content"]["parts"][0]))) for e in events]
    assert shape == [
        ("model", "functionCall"),
        ("user", "functionResponse"),
        ("model", "text"),
        ("model", "functionCall"),
        ("user", "functionResponse"),
        ("model", "functionCall"),
        ("user", "functionResponse"),
        ("model", "text"),
        ("model", "text"),
    ]
    assert [e["actions"]["stateDelta"].get("draft") for e in events] == [
        None, DRAFT_1, None, None, None, None, DRAFT_2, None, None
    ]  # fmt: skip
    call, response = events[0]["content"]["parts"][0], events[1]["content"]["parts"][0]
    assert call["functionCall"]["id"] == response["functionResponse"]["id"]
    assert call["functionCall"]["id"].startswith("adk-")
    assert events[0]["longRunningToolIds"] == [call["functionCall"]["id"]]
    assert "longRunningToolIds" not in events[3]
    texts = [e["content"]["parts"][0]["text"] for e in events if "text" in e["content"]["parts"][0]]
    assert "\n".join(texts) == _turn().reply
    assert {e["invocationId"] for e in events} == {"e-1"}
    assert {e["author"] for e in events} == {"nemo_agent"}


def test_a_stage_without_steps_carries_its_draft_on_its_text() -> None:
    turn = Turn("revision", (Stage("revision", (), DRAFT_1, "Undone."),), "Undone.", revision="undo")
    events = _flat(turn)
    assert len(events) == 1
    assert events[0]["actions"]["stateDelta"]["draft"] == DRAFT_1
    assert events[0]["content"]["parts"] == [{"text": "Undone."}]


def test_a_turn_without_stages_is_its_reply() -> None:
    events = _flat(Turn("question", (), "Which clip do you mean: 1, 2 or 3?"))
    assert [e["content"]["parts"] for e in events] == [[{"text": "Which clip do you mean: 1, 2 or 3?"}]]


def test_a_silent_turn_keeps_the_draft_and_drops_the_words() -> None:
    faults = FaultState(FaultConfig())
    stepless = _flat(Turn("revision", (Stage("revision", (), DRAFT_1, "Undone."),), "Undone."))
    frames = event_frames(stepless[0], faults, silent=True)
    assert len(frames) == 1
    kept = json.loads(frames[0][6:])
    assert kept["content"]["parts"] == []
    assert kept["actions"]["stateDelta"]["draft"] == DRAFT_1
    plain_text = _flat(Turn("question", (), "A question?"))[0]
    assert event_frames(plain_text, faults, silent=True) == []


def test_closing_text_is_the_whole_reply_when_it_does_not_repeat_the_stages() -> None:
    turn = Turn("edit", (Stage("edit", (), DRAFT_1, "Trimmed."),), "Done: the intro is 2s.")
    assert closing_text(turn) == "Done: the intro is 2s."


@given(st.text(max_size=300))
def test_partial_chunks_always_join_back_to_the_text(text: str) -> None:
    chunks = split_partials(text)
    assert "".join(chunks) == text
    assert 1 <= len(chunks) <= 3
