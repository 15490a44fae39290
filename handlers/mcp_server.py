"""`videogen mcp`: an MCP stdio server (mcp 2.x low-level `Server`) exposing skill.yaml's tools.

Input and output schemas come straight from schemas/ (file references inlined, see `_tooldefs`). A
tool's result goes back as structured content plus its JSON as text; a failed tool comes back as a
tool error (`isError`) whose text says what went wrong, what to do, and every input problem. Progress
events become MCP progress notifications when the caller asked for them. The embedded engine is
started once for the server's lifetime.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from handlers._config import Config
from handlers._dispatch import acall_tool
from handlers._errors import VideogenError
from handlers._frontend import backend_config
from handlers._manifest import Manifest, load_manifest
from handlers._progress import ProgressEvent
from handlers._tooldefs import input_schema, output_schema

__all__ = ["build_server", "error_text", "main", "serve_stdio"]

_INSTRUCTIONS = (
    "Make videos by conversation. Start with create_session, upload the user's media, then send_message "
    "with their words; show the reply and the track summary. Requests to export, check credits, show the "
    "status or upload use those tools, never send_message. On the local engine, edit makes exact changes "
    "(clip numbers, text ids and times from get_state's listing) when the edit is exact by nature or a "
    "message was answered with a question you can settle; never both for one instruction. Confirm before "
    "a long generation; never send the same message twice. On an error, follow its 'What to do'."
)

State = dict[str, Any]


def error_text(result: dict[str, Any]) -> str:
    """What a model reads when a tool fails: the message, what to do, and each problem on its own line."""
    error = result.get("error") or {}
    lines = [f"Error ({error.get('code', 'unknown')}): {error.get('message', result.get('text', ''))}"]
    if error.get("recovery"):
        lines.append(f"What to do: {error['recovery']}")
    lines += [f"- {p}" for p in error.get("problems", [])]
    for key in ("tool", "register_url"):
        if error.get(key):
            lines.append(f"{key}: {error[key]}")
    if error.get("supported_formats"):
        lines.append("supported formats: " + " ".join(error["supported_formats"]))
    return "\n".join(lines)


def build_server(manifest: Manifest | None = None, config: Config | None = None) -> Server[State]:
    """The MCP server. `config` defaults to the environment's, with the embedded engine kept running."""
    manifest = manifest or load_manifest()
    tools = [
        types.Tool(
            name=t.name,
            description=t.description,
            input_schema=input_schema(t),
            output_schema=output_schema(t),
            # hints for hosts (auto-approval, confirmation prompts), from skill.yaml
            annotations=types.ToolAnnotations.model_validate(dict(t.annotations)),
        )
        for t in manifest.tools
    ]

    @asynccontextmanager
    async def lifespan(_: Server[State]) -> AsyncIterator[State]:
        if config is not None:
            yield {"config": config}
            return
        async with AsyncExitStack() as stack:
            try:
                live: Config | None = await stack.enter_async_context(backend_config())
            except VideogenError:
                live = None  # a bad setting: serve anyway, every call reports it (with what to fix)
            yield {"config": live}

    async def list_tools(
        ctx: ServerRequestContext[State], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[State], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        events: list[ProgressEvent] = []
        send, receive = anyio.create_memory_object_stream[ProgressEvent](math.inf)

        def progress(event: ProgressEvent) -> None:
            events.append(event)
            send.send_nowait(event)

        async def forward() -> None:
            count = 0
            async with receive:
                async for event in receive:
                    count += 1  # progress must increase: count events, the message says the rest
                    await ctx.session.report_progress(count, None, event.message)

        async with anyio.create_task_group() as tg:
            tg.start_soon(forward)
            async with send:
                result = await acall_tool(
                    params.name,
                    params.arguments or {},
                    progress=progress,
                    config=ctx.lifespan_context["config"],
                )
        if result.get("ok"):
            text = json.dumps(result, ensure_ascii=False)
            return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=result)
        return types.CallToolResult(
            content=[types.TextContent(text=error_text(result))], structured_content=result, is_error=True
        )

    return Server(
        manifest.name,
        version=manifest.version,
        instructions=_INSTRUCTIONS,
        lifespan=lifespan,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(server: Server[State] | None = None) -> None:
    server = server or build_server()
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main() -> int:
    """Run until the host closes stdin."""
    try:
        anyio.run(serve_stdio)
    except KeyboardInterrupt:
        return 130
    return 0
