"""`videogen`: the command line for agents and people (a thin sync shell around the async tools).

Tool commands (one per tool in skill.yaml, dashes or underscores) take flags derived from the tool's
input schema, or `--json '{...}'`, and print exactly one JSON object on stdout; progress and
heartbeats go to stderr; nothing ever prompts. Exit codes: 0 ok, 1 the tool failed (the JSON has
`error`), 2 usage, 3 backend unreachable or timed out, 130 interrupted.

Other commands: `tools` (definitions for hosts), `serve` (the local engine over HTTP), `mcp` (MCP
stdio server), `chat` (a terminal conversation), `make` (one shot), `doctor` (checks).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

import anyio

from handlers._config import Config
from handlers._dispatch import acall_tool
from handlers._embedded import DEFAULT_SERVE_PORT, embedded_app, run_local_server
from handlers._errors import VideogenError
from handlers._manifest import Manifest, ToolSpec, load_manifest
from handlers._progress import ProgressEvent
from handlers._tooldefs import FORMATS, definitions

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "StderrProgress",
    "backend_config",
    "build_parser",
    "exit_code",
    "main",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

_USAGE_CODES = frozenset({"invalid_input", "unknown_tool"})
_UNREACHABLE_CODES = frozenset({"network_error", "timeout", "disconnected"})

# One line each for the command list (`videogen --help`); `videogen TOOL --help` shows skill.yaml's text.
_SHORT_HELP = {
    "create_session": "Start a new video project (session id, browser link).",
    "send_message": "Send one instruction to generate or edit the video.",
    "upload": "Upload images, clips or audio (local files or URLs).",
    "get_state": "Show the track summary, uploads and whether it is ready to export.",
    "export": "Render and download the video: mp4 mov avi webm mkv (free).",
    "credits": "Show the credit balance.",
}

# The property a tool also takes as positional arguments (the one people type most).
_POSITIONAL = {"send_message": "message", "upload": "files"}

_EXAMPLES: dict[str, tuple[str, ...]] = {
    "create_session": (
        "videogen create_session",
        "videogen create_session --language zh --task-name launch-reel",
    ),
    "send_message": (
        'videogen send_message "a 20-second product reel from these photos with upbeat music"',
        'videogen send_message "shorten the intro to 2 seconds" --session-id SESSION_ID',
        'videogen send_message --json \'{"message": "add a text overlay Limited offer at 10s"}\'',
    ),
    "upload": (
        "videogen upload photo1.jpg photo2.jpg music.mp3",
        "videogen upload --urls https://example.com/clip.mp4",
    ),
    "get_state": ("videogen get_state", "videogen get_state --include-draft"),
    "export": ("videogen export", "videogen export --format webm --quality medium --output-path reel.webm"),
    "credits": ("videogen credits",),
}

_PROGRAM_EXAMPLES = (
    "videogen create_session",
    "videogen upload photo1.jpg photo2.jpg music.mp3",
    'videogen send_message "a 20-second product reel from these photos with upbeat music"',
    "videogen get_state",
    "videogen export --format mp4 --output-path reel.mp4",
    "videogen credits",
    'videogen make "a 15-second reel with the title Aurora" photo1.jpg photo2.jpg -o reel.mp4',
    "videogen chat",
    "videogen tools --format anthropic",
)

_EXIT_CODES_HELP = (
    "exit codes: 0 ok; 1 the tool failed (the JSON has error{code, message, recovery}); 2 usage error;\n"
    "            3 backend unreachable or timed out; 130 interrupted"
)
_BACKEND_HELP = (
    "backend: the embedded local engine (offline, no account) unless NEMO_BACKEND=cloud, NEMO_API_URL\n"
    "         or NEMO_TOKEN is set. Tokens come from NEMO_TOKEN or the 0600 file, never from flags."
)


class UsageError(Exception):
    """A command line that cannot be run; main() prints it as JSON and exits 2."""

    def __init__(self, message: str, parser: argparse.ArgumentParser) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self)


def exit_code(result: dict[str, Any]) -> int:
    """The documented exit code for a tool result."""
    if result.get("ok"):
        return EXIT_OK
    code = str((result.get("error") or {}).get("code", ""))
    if code in _USAGE_CODES:
        return EXIT_USAGE
    if code in _UNREACHABLE_CODES:
        return EXIT_UNREACHABLE
    return EXIT_FAILED


class StderrProgress:
    """Prints ProgressEvents as short lines on a stream: every stage and note, render progress in
    10 % steps, heartbeats at most every `heartbeat_every_s` seconds (so a long turn stays visible)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        heartbeat_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._heartbeat_every_s = heartbeat_every_s
        self._clock = clock
        self._last_heartbeat: float | None = None
        self._last_step = -1

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "heartbeat":
            now = self._clock()
            if self._last_heartbeat is not None and now - self._last_heartbeat < self._heartbeat_every_s:
                return
            self._last_heartbeat = now
            self._write(f"… {event.message}")
        elif event.kind == "render" and event.percent is not None:
            step = int(event.percent // 10)
            if step == self._last_step:
                return
            self._last_step = step
            shown = event.message if "%" in event.message else f"{event.message} {event.percent:.0f}%"
            self._write(shown)
        elif event.kind == "still_working":
            self._write(f"⏳ {event.message}")
        else:
            self._write(event.message)

    def _write(self, line: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(f"videogen: {line}\n")
        stream.flush()


# -- the parser ------------------------------------------------------------------------------------


def _flag_names(prop: str) -> list[str]:
    dashed = "--" + prop.replace("_", "-")
    return [dashed] if "_" not in prop else [dashed, "--" + prop]


def _describe(schema: dict[str, Any]) -> str:
    text = str(schema.get("description", "")).strip()
    if "default" in schema:
        text = f"{text} (default: {json.dumps(schema['default'])})".strip()
    return text.replace("%", "%%")


def _json_object_arg(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from exc


_SCALARS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "integer": int,
    "number": float,
    "object": _json_object_arg,
}


def _add_schema_flags(sub: argparse.ArgumentParser, spec: ToolSpec) -> None:
    props: dict[str, Any] = spec.input_schema.get("properties", {})
    positional = _POSITIONAL.get(spec.name)
    required = set(spec.input_schema.get("required", []))
    if positional in props:
        schema = props[positional]
        many = schema.get("type") == "array"
        sub.add_argument(
            f"_pos_{positional}",
            nargs="*" if many else "?",
            metavar=positional.upper().rstrip("S") + ("..." if many else ""),
            help=f"same as --{positional.replace('_', '-')}",
        )
    for prop, schema in props.items():
        names = _flag_names(prop)
        help_text = _describe(schema) + (" (required)" if prop in required else "")
        if "enum" in schema:
            sub.add_argument(*names, dest=prop, choices=schema["enum"], default=None, help=help_text)
        elif schema.get("type") == "boolean":
            sub.add_argument(
                *names, dest=prop, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        elif schema.get("type") == "array":
            item = schema.get("items", {})
            convert = _SCALARS.get(str(item.get("type", "string")), str)
            metavar = prop.upper().rstrip("S")
            sub.add_argument(
                *names, dest=prop, nargs="+", action="extend", type=convert, metavar=metavar, help=help_text
            )
        else:
            convert = _SCALARS.get(str(schema.get("type", "string")), str)
            sub.add_argument(
                *names, dest=prop, type=convert, default=None, metavar=prop.upper(), help=help_text
            )
    sub.add_argument(
        "--json",
        dest="_json",
        metavar="JSON",
        help="all arguments as one JSON object ('-' reads it from stdin); flags given as well win",
    )
    sub.add_argument("-q", "--quiet", dest="_quiet", action="store_true", help="no progress lines on stderr")


def _epilog(examples: Sequence[str], *extra: str) -> str:
    lines = ["examples:", *(f"  {e}" for e in examples)]
    return "\n".join([*lines, "", *extra]).rstrip() + "\n"


def build_parser(manifest: Manifest | None = None) -> argparse.ArgumentParser:
    """The whole command line; tool commands come from skill.yaml and schemas/."""
    from handlers import chat, doctor, make

    manifest = manifest or load_manifest()
    parser = _Parser(
        prog="videogen",
        description=(
            f"Make videos by describing them ({manifest.name} {manifest.version}).\n"
            "Tool commands print exactly one JSON object on stdout; progress goes to stderr."
        ),
        epilog=_epilog(_PROGRAM_EXAMPLES, _EXIT_CODES_HELP, _BACKEND_HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{manifest.name} {manifest.version}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs.required = True
    for spec in manifest.tools:
        aliases = [spec.name.replace("_", "-")] if "_" in spec.name else []
        sub = subs.add_parser(
            spec.name,
            aliases=aliases,
            help=_SHORT_HELP.get(spec.name, spec.description.split(". ")[0].rstrip(".") + "."),
            description=textwrap.fill(spec.description, width=100),
            epilog=_epilog(_EXAMPLES.get(spec.name, ()), _EXIT_CODES_HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_schema_flags(sub, spec)
        sub.set_defaults(_tool=spec.name)

    tools = subs.add_parser(
        "tools",
        help="Print the tool definitions for a host (OpenAI, Anthropic or MCP format).",
        description=(
            "Print the tool definitions built from skill.yaml and schemas/: a JSON list for openai and\n"
            'anthropic (pass it as `tools`), a tools/list result {"tools": [...]} for mcp.'
        ),
        epilog=_epilog(("videogen tools --format openai", "videogen tools --format mcp")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tools.add_argument("--format", choices=FORMATS, default="openai", help="(default: openai)")
    tools.set_defaults(_run=_run_tools)

    serve = subs.add_parser(
        "serve",
        help="Run the local engine as an HTTP server (the NemoVideo API, offline).",
        description=(
            "Run the local engine as a real HTTP server speaking the NemoVideo API (bearer tokens\n"
            "required, as in the cloud). Point another client at it with NEMO_API_URL."
        ),
        epilog=_epilog(
            (
                "videogen serve",
                "videogen serve --port 9000",
                "NEMO_API_URL=http://127.0.0.1:8765 videogen credits",
            )
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="(default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_SERVE_PORT, help=f"(default: {DEFAULT_SERVE_PORT})"
    )
    serve.add_argument(
        "--home", type=Path, default=None, help="data folder (default: $VIDEOGEN_HOME or the user data dir)"
    )
    serve.set_defaults(_run=_run_serve)

    mcp = subs.add_parser(
        "mcp",
        help="Run the MCP stdio server with the same tools.",
        description="Run an MCP server on stdin/stdout exposing the six tools with their schemas.",
        epilog=_epilog(
            ("videogen mcp",),
            'host config: {"command": "python3", "args": ["<skill>/scripts/videogen", "mcp"]}',
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mcp.set_defaults(_run=_run_mcp)

    for module in (chat, make, doctor):
        sub = subs.add_parser(
            module.COMMAND,
            help=module.HELP,
            description=module.DESCRIPTION,
            epilog=_epilog(module.EXAMPLES, *module.EPILOG),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


# -- running -------------------------------------------------------------------------------------------


def _tool_args(ns: argparse.Namespace, spec: ToolSpec, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args: dict[str, Any] = {}
    raw = getattr(ns, "_json", None)
    if raw is not None:
        text = sys.stdin.read() if raw == "-" else raw
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}", parser) from exc
        if not isinstance(loaded, dict):
            raise UsageError('--json must be a JSON object, e.g. --json \'{"message": "..."}\'', parser)
        args.update(loaded)
    for prop in spec.input_schema.get("properties", {}):
        value = getattr(ns, prop, None)
        if value is not None:
            args[prop] = value
    positional = _POSITIONAL.get(spec.name)
    if positional is not None:
        given = getattr(ns, f"_pos_{positional}", None)
        if isinstance(given, list) and given:
            args[positional] = [*given, *args.get(positional, [])]
        elif isinstance(given, str):
            if positional in args and args[positional] != given:
                raise UsageError(f"give {positional} once: positionally or with --{positional}", parser)
            args[positional] = given
    return args


@asynccontextmanager
async def backend_config() -> AsyncIterator[Config]:
    """The environment's Config, with the embedded engine started once for several tool calls
    (chat, make, the MCP server) instead of once per call."""
    config = Config.from_env()
    if config.backend != "embedded" or config.asgi_app is not None:
        yield config
        return
    async with embedded_app(config.engine_home) as app:
        yield dataclasses.replace(config, asgi_app=app)


def _backend_label() -> str:
    try:
        return Config.from_env().label
    except VideogenError:
        return "unknown"


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def _failure(code: str, message: str, recovery: str, **extra: Any) -> dict[str, Any]:
    return {
        "ok": False,
        "backend": _backend_label(),
        "text": f"{message}. {recovery}",
        "error": {"code": code, "message": message, "recovery": recovery, **extra},
    }


def _interrupted(tool: str) -> dict[str, Any]:
    recovery = "Run the command again when ready."
    if tool == "send_message":
        recovery = (
            "The backend may still finish the turn: do not send the message again; check with get_state."
        )
    return _failure("interrupted", f"{tool} was interrupted", recovery)


def run_tool(name: str, args: dict[str, Any], *, quiet: bool = False) -> int:
    """Call one tool, print its JSON result on stdout, return the exit code."""
    progress = None if quiet else StderrProgress()

    async def call() -> dict[str, Any]:
        async with backend_config() as config:
            return await acall_tool(name, args, progress=progress, config=config)

    try:
        result = anyio.run(call)
    except VideogenError as exc:  # the configuration itself is wrong (NEMO_BACKEND, the engine missing)
        result = {
            "ok": False,
            "backend": _backend_label(),
            "text": f"{exc.message}. {exc.recovery}",
            "error": exc.to_error(),
        }
    except KeyboardInterrupt:
        _print_json(_interrupted(name))
        return EXIT_INTERRUPTED
    _print_json(result)
    return exit_code(result)


def _run_tools(ns: argparse.Namespace) -> int:
    _print_json(definitions(ns.format))
    return EXIT_OK


def _run_serve(ns: argparse.Namespace) -> int:
    print(
        f"videogen: starting the local engine server on {ns.host}:{ns.port} (Ctrl-C stops it)",
        file=sys.stderr,
    )
    try:
        # Ctrl-C is how a server is meant to stop: uvicorn has shut down cleanly by the time it arrives here
        with contextlib.suppress(KeyboardInterrupt):
            run_local_server(ns.host, ns.port, ns.home)
    except (OSError, VideogenError) as exc:  # the port is taken, the engine is not installed, ...
        print(f"videogen: the server could not start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print("videogen: the local engine server stopped", file=sys.stderr)
    return EXIT_OK


def _run_mcp(ns: argparse.Namespace) -> int:
    from handlers.mcp_server import main as mcp_main

    return mcp_main()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `videogen` (and `python -m handlers.cli`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        manifest = load_manifest()
    except VideogenError as exc:
        _print_json({"ok": False, "backend": _backend_label(), "text": exc.message, "error": exc.to_error()})
        return EXIT_FAILED
    parser = build_parser(manifest)
    try:
        ns = parser.parse_args(argv)
        tool = getattr(ns, "_tool", None)
        if tool is not None:
            spec = manifest.tool(tool)
            return run_tool(tool, _tool_args(ns, spec, parser), quiet=bool(ns._quiet))
        run: Callable[[argparse.Namespace], int] = ns._run
        return run(ns)
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        hint = f"Run `{exc.parser.prog} --help` for the arguments and examples."
        _print_json(_failure("invalid_input", str(exc), hint, problems=[str(exc)]))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help and --version end here
        return exc.code if isinstance(exc.code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
