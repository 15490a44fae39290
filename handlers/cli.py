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
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import anyio

from handlers import _workspace as workspace
from handlers import chat, doctor, make
from handlers._dispatch import acall_tool
from handlers._embedded import DEFAULT_SERVE_PORT, engine_home, run_local_server
from handlers._errors import InputError, VideogenError
from handlers._frontend import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    InterruptedByUser,
    StderrProgress,
    backend_config,
    exit_code,
    failure_result,
    print_json,
)
from handlers._manifest import Manifest, ToolSpec, load_manifest
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

# The tools' own examples come from skill.yaml; these show a whole session and the other commands.
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
    positional = spec.positional
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
            help=spec.summary,
            description=textwrap.fill(spec.description, width=100),
            epilog=_epilog(spec.examples, _EXIT_CODES_HELP),
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
                "videogen serve --stop",
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
    serve.add_argument(
        "--stop",
        action="store_true",
        help="stop the data folder's background workspace server (the one behind the links tools return)",
    )
    serve.set_defaults(_run=_run_serve)

    mcp = subs.add_parser(
        "mcp",
        help="Run the MCP stdio server with the same tools.",
        description="Run an MCP server on stdin/stdout exposing skill.yaml's tools with their schemas.",
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
    positional = spec.positional
    if positional is not None:
        given = getattr(ns, f"_pos_{positional}", None)
        if isinstance(given, list) and given:
            args[positional] = [*given, *args.get(positional, [])]
        elif isinstance(given, str):
            if positional in args and args[positional] != given:
                raise UsageError(f"give {positional} once: positionally or with --{positional}", parser)
            args[positional] = given
    return args


def _interrupted(tool: str) -> dict[str, Any]:
    recovery = None
    if tool == "send_message":
        recovery = (
            "The backend may still finish the turn: do not send the message again; check with get_state."
        )
    return failure_result(InterruptedByUser(f"{tool} was interrupted", recovery=recovery))


def run_tool(name: str, args: dict[str, Any], *, quiet: bool = False) -> int:
    """Call one tool, print its JSON result on stdout, return the exit code."""
    progress = None if quiet else StderrProgress()

    async def call() -> dict[str, Any]:
        async with backend_config() as config:
            return await acall_tool(name, args, progress=progress, config=config)

    try:
        result = anyio.run(call)
    except VideogenError as exc:  # the configuration itself is wrong (NEMO_BACKEND, the engine missing)
        result = failure_result(exc)
    except KeyboardInterrupt:
        result = _interrupted(name)
    print_json(result)
    return exit_code(result)


def _run_tools(ns: argparse.Namespace) -> int:
    print_json(definitions(ns.format))
    return EXIT_OK


def _run_serve(ns: argparse.Namespace) -> int:
    if ns.stop:
        return _stop_workspace(ns.home)
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


def _stop_workspace(home: Path | None) -> int:
    try:
        folder = engine_home(home)
        stopped = workspace.stop(folder)
    except VideogenError as exc:
        print(f"videogen: {exc.message}. {exc.recovery}", file=sys.stderr)
        return EXIT_FAILED
    if stopped is None:
        print(f"videogen: no workspace server runs for {folder}", file=sys.stderr)
    else:
        print(f"videogen: stopped the workspace server at {stopped.url} (pid {stopped.pid})", file=sys.stderr)
    return EXIT_OK


def _run_mcp(ns: argparse.Namespace) -> int:
    from handlers import mcp_server  # the MCP SDK loads only for `videogen mcp`

    return mcp_server.main()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `videogen` (and `python -m handlers.cli`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        manifest = load_manifest()
    except VideogenError as exc:
        print_json(failure_result(exc))
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
        print_json(failure_result(InputError(str(exc), [str(exc)], recovery=hint)))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help and --version end here
        return exc.code if isinstance(exc.code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
