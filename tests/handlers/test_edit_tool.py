"""The edit tool over HTTP against the local engine, the CLI and the MCP server; get_state's listing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from engine.server import FaultConfig
from handlers import cli
from handlers.mcp_server import build_server
from handlers.tools.send_message import EDIT_HINT
from tests.handlers.conftest import Engine, EngineFactory
from tests.handlers.test_tools_on_engine import GENERATE, upload_all

pytestmark = pytest.mark.anyio


async def generated(eng: Engine, media: dict[str, Path]) -> dict[str, Any]:
    """Three stills and the music uploaded, a video made by message; get_state with the draft."""
    await upload_all(eng, media)
    made = await eng.call("send_message", {"message": GENERATE})
    assert made["ok"], made
    assert made["stage"] == "complete"
    state = await eng.call("get_state", {"include_draft": True})
    assert state["ok"], state
    return state


def edit_requests(eng: Engine) -> int:
    return sum(1 for r in eng.recorder.requests if r.method == "POST" and r.path.startswith("/api/edit/"))


async def test_generate_by_message_then_five_ops_in_one_edit_then_one_undo_restores_the_draft(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    before = await generated(eng, media)
    title = before["listing"]["texts"][0]
    edited = await eng.call(
        "edit",
        {
            "ops": [
                {
                    "op": "add_text",
                    "text": "Limited offer",
                    "start_s": 1,
                    "duration_s": 1.5,
                    "position": "bottom",
                },
                {"op": "update_text", "target": title["text"], "text": "Aurora II"},
                {"op": "swap_clips", "a": 1, "b": 3},
                {"op": "set_volume", "role": "bgm", "volume": 0.2},
                {"op": "set_canvas", "aspect": "1:1"},
            ]
        },
    )
    assert edited["ok"], edited
    assert edited["backend"] == "local"
    changes = " | ".join(edited["changes"])
    for said in ("Limited offer", "Aurora II", "20%", "1080x1080"):
        assert said in changes, changes
    listing = edited["listing"]
    assert [c["media"] for c in listing["clips"]] == [
        before["listing"]["clips"][2]["media"],
        before["listing"]["clips"][1]["media"],
        before["listing"]["clips"][0]["media"],
    ]
    assert {t["text"] for t in listing["texts"]} == {"Aurora II", "Limited offer"}
    assert listing["audio"][0]["volume"] == 0.2
    assert edited["track_summary"] in edited["text"]
    assert edited["ready_for_export"] is True

    undone = await eng.call("edit", {"ops": [{"op": "undo"}]})
    assert undone["ok"], undone
    assert undone["revision"] < edited["revision"]
    after = await eng.call("get_state", {"include_draft": True})
    assert after["draft"] == before["draft"]
    assert after["listing"] == before["listing"]


async def test_get_state_lists_clips_texts_and_audio_by_what_edit_addresses(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    state = await generated(eng, media)
    listing = state["listing"]
    clips = listing["clips"]
    assert [c["number"] for c in clips] == [1, 2, 3]
    assert [c["media"] for c in clips] == ["product_front.jpg", "product_side.jpg", "product_detail.jpg"]
    assert clips[0]["start_s"] == 0
    assert [c["start_s"] for c in clips[1:]] == [c["end_s"] for c in clips[:-1]]
    assert all(c["id"] and c["kind"] == "image" for c in clips)
    assert listing["texts"][0]["text"] == "Aurora"
    assert listing["audio"] == [
        {
            "role": "bgm",
            "media": media["music"].name,
            "volume": 0.35,
            "start_s": 0,
            "end_s": clips[-1]["end_s"],
        }
    ]
    assert len(json.dumps(listing)) < 1200  # small enough to read every turn


async def test_a_refused_op_is_invalid_input_naming_the_op_and_nothing_changes(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    before = await generated(eng, media)
    result = await eng.call(
        "edit",
        {
            "ops": [
                {"op": "add_text", "text": "ok", "start_s": 0},
                {"op": "trim_clip", "clip": 9, "duration_s": 1},
            ]
        },
    )
    assert result["ok"] is False
    assert result["error"]["code"] == "invalid_input"
    assert result["error"]["message"].startswith("ops[1].clip: clip 9 does not exist; use 1 to 3")
    assert result["error"]["problems"] == [result["error"]["message"]]
    assert "nothing was changed" in result["error"]["recovery"]
    after = await eng.call("get_state", {"include_draft": True})
    assert after["draft"] == before["draft"]


async def test_an_unknown_op_is_refused_by_the_schema_before_anything_is_sent(engine: EngineFactory) -> None:
    eng = await engine()
    await eng.call("create_session")
    result = await eng.call("edit", {"ops": [{"op": "set_canvas", "aspect": "1:1"}, {"op": "explode"}]})
    assert result["error"]["code"] == "invalid_input"
    assert any(p.startswith("ops[1].op: 'explode' is not one of") for p in result["error"]["problems"])
    typo = await eng.call("edit", {"ops": [{"op": "set_canvas", "aspect": "1:1", "colour": "red"}]})
    assert any(
        p.startswith("ops[0]: unknown field(s) 'colour': remove them; allowed: op, text,")
        for p in typo["error"]["problems"]
    )
    assert edit_requests(eng) == 0


async def test_on_a_backend_without_the_edit_endpoint_the_tool_says_to_send_a_message(
    engine: EngineFactory,
) -> None:
    eng = await engine(faults=FaultConfig(errors={"edit": 404}))  # what the cloud answers
    await eng.call("create_session")
    result = await eng.call("edit", {"ops": [{"op": "set_canvas", "aspect": "1:1"}]})
    assert result["ok"] is False
    assert result["error"]["code"] == "needs_local_engine"
    assert result["error"]["message"] == "the edit tool needs the local engine; local has no edit endpoint"
    assert "send_message" in result["error"]["recovery"]
    assert cli.exit_code(result) == 1


async def test_when_the_local_conversation_asks_its_result_points_to_the_edit_tool(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    await generated(eng, media)
    asked = await eng.call("send_message", {"message": "remove the clip"})
    assert asked["ok"], asked
    assert asked["changes"] == []
    assert asked["text"].endswith(EDIT_HINT)
    done = await eng.call("send_message", {"message": "shorten the first clip to 0.5 seconds"})
    assert EDIT_HINT not in done["text"]  # a message that changed the draft needs no other way


def test_the_cli_exits_2_on_a_refused_op_and_0_on_an_applied_one(
    isolated: Path, media: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["upload", str(media["still1"]), str(media["still2"]), "-q"]) == 0
    capsys.readouterr()
    ops = {
        "ops": [
            {
                "op": "set_clips",
                "clips": [{"upload": "product_front.jpg", "duration_s": 2}, {"upload": "product_side.jpg"}],
            }
        ]
    }
    assert cli.main(["edit", "--json", json.dumps(ops), "-q"]) == 0
    applied = json.loads(capsys.readouterr().out)
    assert [c["media"] for c in applied["listing"]["clips"]] == ["product_front.jpg", "product_side.jpg"]
    bad = {"ops": [{"op": "add_text", "text": "Late", "start_s": -3}]}
    assert cli.main(["edit", "--json", json.dumps(bad), "-q"]) == 2
    refused = json.loads(capsys.readouterr().out)
    assert refused["error"]["message"].startswith("ops[0].start_s: -3 is before the start; use 0 to 7")
    assert cli.main(["edit", "--ops", '{"op": "set_canvas", "aspect": "1:1"}', "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["edit", "--ops", '{"op": "undo"}', "-q"]) == 0
    undone = json.loads(capsys.readouterr().out)
    assert any("1920" in change for change in undone["changes"]), undone["changes"]
    assert undone["listing"] == applied["listing"]


async def test_an_mcp_client_lists_seven_tools_and_calls_edit(isolated: Path, media: dict[str, Path]) -> None:
    with anyio.fail_after(60):
        async with Client(build_server(), mode="legacy") as client:
            listed = await client.list_tools()
            await client.call_tool("upload", {"files": [str(media["still1"]), str(media["still2"])]})
            result = await client.call_tool(
                "edit",
                {
                    "ops": [
                        {
                            "op": "set_clips",
                            "clips": [
                                {"upload": "product_side.jpg"},
                                {"upload": "product_front.jpg", "duration_s": 1},
                            ],
                        },
                        {"op": "add_text", "text": "Hello", "start_s": 0.5},
                    ]
                },
            )
            refused = await client.call_tool("edit", {"ops": [{"op": "remove_clip", "clip": 3}]})
    assert len(listed.tools) == 7
    edit = next(t for t in listed.tools if t.name == "edit")
    assert edit.annotations is not None
    assert edit.annotations.title == "Make exact edits"
    assert result.is_error is False
    assert result.structured_content is not None
    assert [c["media"] for c in result.structured_content["listing"]["clips"]] == [
        "product_side.jpg",
        "product_front.jpg",
    ]
    assert result.structured_content["listing"]["texts"][0]["text"] == "Hello"
    assert refused.is_error is True
    assert refused.structured_content is not None
    assert refused.structured_content["error"]["message"].startswith(
        "ops[0].clip: clip 3 does not exist; use 1 to 2"
    )
