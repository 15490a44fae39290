"""SSE frames → typed events → one turn's texts, tool calls and draft (docs/protocol.md §4)."""

from __future__ import annotations

import json

import pytest

from handlers._sse import (
    DraftUpdate,
    ErrorEvent,
    KeepAlive,
    TextEvent,
    ToolCall,
    ToolResult,
    TurnLog,
    parse_frame,
)

DRAFT = {
    "m": {"width": 1920, "height": 1080},
    "t": [{"id": "v1", "tt": 0, "sg": [{"id": "s1", "st": 0, "d": 3000}]}],
}


def adk(parts: list[dict[str, object]], **extra: object) -> str:
    event = {"id": extra.pop("id", "ev1"), "invocationId": "e-1", "author": "nemo_agent", "timestamp": 1.0}
    event["content"] = {"role": extra.pop("role", "model"), "parts": parts}
    event.update(extra)
    return json.dumps(event, separators=(",", ":"))


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("heartbeat", ""),
        ("heartbeat", '{"anything": 1}'),
        ("message", ""),
        ("message", "   "),
        ("message", '{"type":"heartbeat"}'),
        ("message", '{"type":"ping"}'),
        ("message", "ping"),
        ("message", "not json at all"),
        ("message", "42"),
    ],
)
def test_every_keepalive_form_is_ignored(event: str, data: str) -> None:
    assert parse_frame(event, data) == [KeepAlive()]


def test_a_model_text_part_becomes_text_for_the_agent() -> None:
    events = parse_frame("message", adk([{"text": 'Added the title "Urban Dreams" (0-3s).'}]))
    assert events == [
        TextEvent('Added the title "Urban Dreams" (0-3s).', event_id="ev1", author="nemo_agent")
    ]


def test_function_calls_and_responses_are_tool_steps_and_the_draft_in_state_delta_is_kept() -> None:
    call = adk(
        [{"functionCall": {"id": "adk-1", "name": "generate_video", "args": {}}}],
        longRunningToolIds=["adk-1"],
    )
    response = adk(
        [{"functionResponse": {"id": "adk-1", "name": "generate_video", "response": {"ok": True}}}],
        role="user",
        actions={"stateDelta": {"draft": DRAFT}, "artifactDelta": {}},
    )
    assert parse_frame("message", call) == [ToolCall("generate_video", "adk-1", long_running=True)]
    assert parse_frame("message", response) == [
        ToolResult("generate_video", "adk-1", {"ok": True}),
        DraftUpdate(DRAFT),
    ]


def test_a_user_role_text_is_not_shown_as_the_backends_words() -> None:
    assert parse_frame("message", adk([{"text": "echo of the prompt"}], role="user")) == [KeepAlive()]


def test_an_error_frame_becomes_an_error_event() -> None:
    frame = json.dumps({"error": "quota exceeded", "error_details": {"code": 2001}})
    assert parse_frame("message", frame) == [ErrorEvent("quota exceeded", details={"code": 2001})]


def test_an_unescaped_legacy_error_frame_is_still_read() -> None:
    frame = '{"error":"tool "render" failed: bad "draft"","error_details":{"x":1}}'
    [event] = parse_frame("message", frame)
    assert isinstance(event, ErrorEvent)
    assert event.message == 'tool "render" failed: bad "draft"'


def test_an_event_with_error_code_becomes_an_error_event() -> None:
    frame = json.dumps({"id": "e", "errorCode": "MODEL_ERROR", "errorMessage": "the model is overloaded"})
    assert parse_frame("message", frame) == [ErrorEvent("the model is overloaded", code="MODEL_ERROR")]


def test_reference_v44_shapes_are_accepted() -> None:
    assert parse_frame("message", '{"type":"text","content":"Hello"}') == [TextEvent("Hello")]
    assert parse_frame("message", '{"type":"tool_call","name":"add_text","args":{}}') == [
        ToolCall("add_text")
    ]
    result = parse_frame(
        "message", json.dumps({"type": "tool_result", "name": "add_text", "result": {"draft": DRAFT}})
    )
    assert result == [ToolResult("add_text", None, {"draft": DRAFT}), DraftUpdate(DRAFT)]


def test_u2028_inside_a_json_string_survives_the_frame() -> None:
    [event] = parse_frame("message", adk([{"text": "line one\u2028line two\u2029end"}]))
    assert isinstance(event, TextEvent)
    assert event.text == "line one\u2028line two\u2029end"


def feed(log: TurnLog, *frames: str) -> TurnLog:
    for frame in frames:
        for event in parse_frame("message", frame):
            log.feed(event)
    return log


def test_streamed_partials_and_their_final_event_are_shown_once() -> None:
    log = feed(
        TurnLog(),
        adk([{"text": "I made "}], id="t1", partial=True),
        adk([{"text": "a 10-second "}], id="t1", partial=True),
        adk([{"text": "reel."}], id="t1", partial=True),
        adk([{"text": "I made a 10-second reel."}], id="t1"),
    )
    assert log.texts == ["I made a 10-second reel."]


def test_a_final_event_with_a_new_id_after_partials_replaces_them() -> None:
    log = feed(
        TurnLog(),
        adk([{"text": "Shortened "}], id="p1", partial=True),
        adk([{"text": "the intro."}], id="p2", partial=True),
        adk([{"text": "Shortened the intro."}], id="final"),
    )
    assert log.texts == ["Shortened the intro."]


def test_partials_without_a_final_event_are_kept_joined() -> None:
    log = feed(
        TurnLog(),
        adk([{"text": "Half "}], id="t", partial=True),
        adk([{"text": "a reply"}], id="t", partial=True),
    )
    assert log.texts == ["Half a reply"]


def test_a_trailing_temporary_issue_after_a_normal_turn_is_ignored() -> None:
    log = feed(
        TurnLog(),
        adk([{"functionCall": {"id": "a", "name": "trim", "args": {}}}]),
        adk([{"text": "The intro is now 2s."}], id="x"),
        adk([{"text": "I encountered a temporary issue. Please try again."}], id="y"),
    )
    assert log.texts == ["The intro is now 2s."]


def test_a_temporary_issue_alone_is_reported() -> None:
    log = feed(TurnLog(), adk([{"text": "I encountered a temporary issue."}], id="y"))
    assert log.texts == ["I encountered a temporary issue."]


def test_a_trailing_temporary_issue_error_frame_after_normal_events_is_not_an_error() -> None:
    log = feed(TurnLog(), adk([{"text": "Done."}]), json.dumps({"error": "I encountered a temporary issue"}))
    assert log.real_errors == []
    assert log.texts == ["Done."]


def test_tool_calls_are_counted_and_the_last_draft_is_kept() -> None:
    second = {**DRAFT, "m": {"width": 1080, "height": 1920}}
    log = feed(
        TurnLog(),
        adk([{"functionCall": {"id": "a", "name": "add_text", "args": {}}}]),
        adk(
            [{"functionResponse": {"id": "a", "name": "add_text", "response": {}}}],
            actions={"stateDelta": {"draft": DRAFT}},
        ),
        adk([{"functionCall": {"id": "b", "name": "set_canvas", "args": {}}}]),
        adk(
            [{"functionResponse": {"id": "b", "name": "set_canvas", "response": {}}}],
            actions={"stateDelta": {"draft": second}},
        ),
    )
    assert log.tool_names == ["add_text", "set_canvas"]
    assert log.draft == second


def test_the_stage_reached_is_told_from_the_tool_steps_and_the_drafts() -> None:
    from handlers.tools.send_message import classify_stage

    with_music_and_title = {
        "m": {},
        "t": [
            {"id": "v1", "tt": 0, "sg": [{"id": "s1", "st": 0, "d": 1}]},
            {"id": "a1", "tt": 1, "sg": [{"id": "s2", "st": 0, "d": 1}]},
            {"id": "x1", "tt": 7, "sg": [{"id": "s3", "st": 0, "d": 1, "text": "T"}]},
        ],
    }
    raw = {"m": {}, "t": [{"id": "v1", "tt": 0, "sg": [{"id": "s1", "st": 0, "d": 1}]}]}
    assert classify_stage(["generate_video"], None, raw, True) == "raw_video"
    assert classify_stage(["generate_video", "generate_music", "add_title"], None, raw, True) == "complete"
    assert classify_stage([], None, with_music_and_title, True) == "complete"
    assert classify_stage(["trim_segment"], raw, raw, True) == "edit"
    assert classify_stage([], raw, raw, False) == "none"


def test_a_second_stage_that_found_nothing_to_add_still_counts_as_done() -> None:
    from handlers.tools.send_message import classify_stage

    raw = {"m": {}, "t": [{"id": "v1", "tt": 0, "sg": [{"id": "s1", "st": 0, "d": 1}]}]}
    said = ["Stage 1 (raw cut): 3 images.", "Stage 2 (music and title): no music or text to add."]
    assert classify_stage(["generate_video"], None, raw, True, said) == "complete"
    assert classify_stage(["generate_video"], None, raw, True, said[:1]) == "raw_video"


def test_a_named_error_event_is_an_error_whatever_its_data() -> None:
    assert parse_frame("error", "the agent crashed") == [ErrorEvent("the agent crashed")]
    assert parse_frame("error", '{"message": "quota", "code": 2001}') == [ErrorEvent("quota", code=2001)]
