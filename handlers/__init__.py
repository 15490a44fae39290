"""The skill's code: manifest, tools, the NemoVideo protocol client, CLI and MCP server.

Public API (for the CLI, the MCP server and Python callers):

- `load_manifest()` → `Manifest(name, version, tools: (ToolSpec, ...))`, checked against schemas/
  and SKILL.md;
- `await acall_tool(name, args, progress=None)` / `call_tool(...)` → the tool's result dict; tool
  failures come back as `{"ok": false, "error": {"code", "message", "recovery"}}`, never as exceptions;
- `ProgressEvent(kind, message, percent)` is what `progress` receives while a tool works;
- `Config.from_env()` (optional `config=` of the call functions);
- `run_local_server()` for `videogen serve`;
- `local_engine(home=None)`: the embedded engine as an async context manager, for callers that make many
  calls in one event loop (`async with local_engine() as app: config = Config.from_env(asgi_app=app)`).
"""

from handlers._config import Config
from handlers._dispatch import acall_tool, call_tool
from handlers._embedded import DEFAULT_SERVE_PORT, run_local_server
from handlers._embedded import embedded_app as local_engine
from handlers._errors import VideogenError
from handlers._manifest import Manifest, ToolSpec, load_manifest
from handlers._progress import ProgressCallback, ProgressEvent

__all__ = [
    "DEFAULT_SERVE_PORT",
    "Config",
    "Manifest",
    "ProgressCallback",
    "ProgressEvent",
    "ToolSpec",
    "VideogenError",
    "acall_tool",
    "call_tool",
    "load_manifest",
    "local_engine",
    "run_local_server",
]
