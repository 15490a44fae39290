"""The MCP server as a host sees it, through the SDK's in-memory client (no subprocess, no sleeps)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from handlers._manifest import load_manifest
from handlers._tooldefs import input_schema
from handlers.mcp_server import build_server, error_text

pytestmark = pytest.mark.anyio
TOOLS = {"create_session", "send_message", "upload", "get_state", "export", "credits", "edit"}


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_lists_the_seven_tools_with_their_schemas(isolated: Path, mode: Any) -> None:
    manifest = load_manifest()
    with anyio.fail_after(30):
        async with Client(build_server(), mode=mode) as client:
            listed = await client.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    for tool in listed.tools:
        assert tool.input_schema == input_schema(manifest.tool(tool.name))
        assert tool.output_schema is not None
        assert tool.output_schema["properties"]["error"]["required"] == ["code", "message", "recovery"]
        assert tool.description == manifest.tool(tool.name).description
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (True if tool.name in ("get_state", "credits") else None)


async def test_credits_and_create_session_work_on_the_embedded_engine(isolated: Path) -> None:
    with anyio.fail_after(30):
        async with Client(build_server(), mode="legacy") as client:
            credits = await client.call_tool("credits", {})
            session = await client.call_tool("create_session", {"task_name": "mcp test"})
            state = await client.call_tool("get_state", {})
    assert credits.is_error is False
    assert credits.structured_content["available"] > 0
    assert json.loads(text_of(credits))["ok"] is True
    assert session.is_error is False
    sid = session.structured_content["session_id"]
    assert state.structured_content["session_id"] == sid


async def test_a_bad_argument_is_a_tool_error_listing_the_problem(isolated: Path) -> None:
    with anyio.fail_after(30):
        async with Client(build_server(), mode="legacy") as client:
            result = await client.call_tool("export", {"format": "gif", "speed": 2})
    assert result.is_error is True
    text = text_of(result)
    assert text.startswith("Error (invalid_input):")
    assert "What to do:" in text
    assert "- format:" in text
    assert "'speed'" in text
    assert result.structured_content["error"]["code"] == "invalid_input"


async def test_a_message_progresses_and_reports_the_track_summary(isolated: Path) -> None:
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    with anyio.fail_after(60):
        async with Client(build_server(), mode="legacy") as client:
            await client.call_tool("create_session", {})
            result = await client.call_tool(
                "send_message",
                {"message": "make a 5-second title card that says Hello"},
                progress_callback=on_progress,
            )
    assert result.is_error is False, text_of(result)
    assert result.structured_content["track_summary"].startswith("Timeline (")
    assert seen, "no progress notifications arrived"


def test_error_text_names_the_code_recovery_and_extras() -> None:
    text = error_text(
        {
            "ok": False,
            "error": {
                "code": "unsupported_file",
                "message": "notes.txt is not a supported file",
                "recovery": "Convert it.",
                "supported_formats": ["mp4", "png"],
            },
        }
    )
    assert text.splitlines() == [
        "Error (unsupported_file): notes.txt is not a supported file",
        "What to do: Convert it.",
        "supported formats: mp4 png",
    ]


async def test_a_bad_setting_is_reported_by_every_call_not_a_crash(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEMO_BACKEND", "mars")
    with anyio.fail_after(30):
        async with Client(build_server(), mode="legacy") as client:
            listed = await client.list_tools()
            result = await client.call_tool("credits", {})
    assert len(listed.tools) == len(TOOLS)
    assert result.is_error is True
    assert "Error (config_error): NEMO_BACKEND='mars' is not understood" in text_of(result)
    assert "What to do: Set NEMO_BACKEND to local or cloud." in text_of(result)
