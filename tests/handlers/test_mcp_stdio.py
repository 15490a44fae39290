"""`videogen mcp` as a host starts it: a subprocess speaking MCP on stdin/stdout (nothing else on stdout)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio


async def test_a_host_lists_the_tools_and_calls_one_over_stdio(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_"))}
    env.update(
        VIDEOGEN_HOME=str(tmp_path / "home"),
        VIDEOGEN_WORKSPACE="off",  # no background workspace server left behind
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "handlers.cli", "mcp"], env=env, cwd=str(tmp_path)
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = await client.list_tools()
            created = await client.call_tool("create_session", {"task_name": "over stdio"})
    assert len(tools.tools) == 7  # skill.yaml's tools, edit the seventh
    assert created.is_error is False
    assert created.structured_content["backend"] == "local"
    assert created.structured_content["session_id"]
