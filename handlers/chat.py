"""`videogen chat`: a conversation in the terminal, with the same tools an agent uses.

Type what the video should be; each turn shows the reply, what changed, the track summary and (when the
backend makes one) the storyboard's path. Long turns and renders get a progress bar, and the cloud's
"Still working…" every 2 minutes. Slash commands answer without a message: /upload PATH..., /export
[format], /state, /undo, /credits, /new, /help, /quit. Works with the local engine (default) or the cloud.

The event loop runs in a background thread (an anyio blocking portal) that keeps the embedded engine
started for the whole conversation; the main thread reads the keyboard, so Ctrl-C during a turn
cancels the turn and Ctrl-C (or Ctrl-D) at the prompt leaves.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TaskProgressColumn, TextColumn

from handlers._config import Config
from handlers._constants import EXPORT_FORMATS
from handlers._dispatch import acall_tool
from handlers._errors import VideogenError
from handlers._frontend import backend_config
from handlers._manifest import load_manifest
from handlers._progress import ProgressEvent

__all__ = ["COMMAND", "DESCRIPTION", "EPILOG", "EXAMPLES", "HELP", "HELP_TEXT", "Chat", "configure", "run"]

COMMAND = "chat"
HELP = "Make a video by talking: a conversation in the terminal with progress bars and slash commands."
DESCRIPTION = (
    "Make a video by talking to it. Type what you want; each reply shows what changed and the track\n"
    "summary. Slash commands: /upload PATH..., /export [format], /state, /undo, /credits, /new,\n"
    "/help, /quit."
)
EXAMPLES = ("videogen chat", "videogen chat --session-id SESSION_ID", "NEMO_BACKEND=cloud videogen chat")
EPILOG = (
    "exit codes: 0 after /quit or Ctrl-D; 1 the session could not be started; 130 Ctrl-C at the prompt",
)

# EXPORT_FORMATS[0] (mp4) is the default.
HELP_TEXT = f"""\
Type what the video should be, in your words, e.g. "a 20-second reel from my photos with upbeat music",
then refine it: "shorten the intro to 2 seconds", "add a text overlay Limited offer at 10s".
  /upload PATH...   add images, clips or audio (mp4 mov avi webm mkv jpg png gif webp mp3 wav m4a aac)
  /export [format]  render and save the video (mp4 default; {" ".join(EXPORT_FORMATS[1:])})
  /state            show the timeline, uploads and whether it is ready to export
  /undo             take back the last change
  /credits          show the credit balance
  /new              start a new project (a new session)
  /help             this help
  /quit             leave (Ctrl-D too)"""

Caller = Callable[[str, dict[str, Any]], dict[str, Any]]


def _line(message: str) -> str:
    """A progress message as one line for the bar (the full text comes with the result)."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return escape(first if len(first) <= 80 else first[:79] + "…")


class _TurnDisplay:
    """A progress bar for one tool call: a spinner with the latest stage, a bar once a render reports
    percentages, and "Still working…" lines (printed above the bar) on long turns."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=console,
            transient=True,
        )
        self.label = label
        self.task: TaskID = self.progress.add_task(escape(label), total=None)

    def __enter__(self) -> _TurnDisplay:
        if not self.console.is_interactive:  # a dumb terminal or a pipe gets no animation: say it once
            self.console.print(escape(self.label), style="dim")
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "still_working":
            self.progress.console.print(f"⏳ {escape(event.message)}")
        elif event.kind == "render" and event.percent is not None:
            self.progress.update(
                self.task, description=_line(event.message), total=100, completed=event.percent
            )
        elif event.kind in ("stage", "info"):
            self.progress.update(self.task, description=_line(event.message))


class Chat:
    """The conversation: reads a line, runs the matching tool, prints what a person needs to see."""

    def __init__(
        self,
        console: Console,
        call: Callable[[str, dict[str, Any], Callable[[ProgressEvent], None]], dict[str, Any]],
        *,
        storyboards: bool = False,
    ) -> None:
        self.console = console
        self._call = call
        self.session_id: str | None = None
        self._storyboards = storyboards

    # -- tools ---------------------------------------------------------------------------------------

    def tool(self, name: str, args: dict[str, Any], label: str) -> dict[str, Any] | None:
        """Run a tool with a progress display; print its error (message and what to do) on failure."""
        if self.session_id and name != "credits":
            args = {"session_id": self.session_id, **args}
        with _TurnDisplay(self.console, label) as display:
            result = self._call(name, args, display)
        if result.get("ok"):
            return result
        error = result.get("error") or {}
        self.console.print(f"[red]✗ {escape(str(error.get('message', result.get('text', ''))))}[/red]")
        if error.get("recovery"):
            self.console.print(f"  → {escape(str(error['recovery']))}")
        return None

    def start(self, session_id: str | None) -> bool:
        if session_id:
            self.session_id = session_id
            state = self.tool("get_state", {}, "Opening the session…")
            if state is None:
                return False
            self.console.print(f"Continuing session {escape(session_id)}: {escape(state.get('text', ''))}")
            return True
        created = self.tool("create_session", {}, "Connecting…")
        if created is None:
            return False
        self.session_id = created["session_id"]
        backend = "the local engine" if created["backend"] == "local" else created["backend"]
        self.console.print(f"Ready ({escape(backend)}, session {escape(str(self.session_id))}).")
        if created.get("browser_url"):
            self.console.print(f"Open in the browser: {escape(created['browser_url'])}")
        self.console.print("Describe your video, or /upload your media first. /help lists the commands.")
        return True

    # -- one line ------------------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Act on one typed line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            self.message(line)
            return True
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self.console.print(f"[red]Cannot read that command: {escape(str(exc))}[/red]")
            return True
        command, rest = words[0].lower(), words[1:]
        if command in ("/quit", "/exit", "/q"):
            return False
        actions: dict[str, Callable[[list[str]], None]] = {
            "/help": lambda _: self.console.print(escape(HELP_TEXT)),
            "/upload": self.upload,
            "/export": self.export,
            "/state": lambda _: self.state(),
            "/undo": lambda _: self.message("undo"),
            "/credits": lambda _: self.credits(),
            "/new": lambda _: self.new(),
        }
        action = actions.get(command)
        if action is None:
            self.console.print(f"Unknown command {escape(command)}. Type /help for the list.")
        else:
            action(rest)
        return True

    def handle_safely(self, line: str) -> bool:
        """`handle`, where Ctrl-C during a turn cancels the turn and keeps the conversation going."""
        try:
            return self.handle(line)
        except KeyboardInterrupt:
            self.console.print(
                "[yellow]Interrupted.[/yellow] The backend may still finish that turn: "
                "check /state before sending it again."
            )
            return True

    def message(self, text: str) -> None:
        result = self.tool("send_message", {"message": text}, "Working on it…")
        if result is None:
            return
        if result.get("routed_to"):
            self.console.print(escape(result.get("text", "")))
            return
        # The summary line below is the state's own; the backend's copy of it in the reply is left out.
        reply = str(result.get("reply") or "")
        lines = [line for line in reply.splitlines() if not line.startswith("Timeline (")]
        reply = "\n".join(lines).strip()
        if reply:
            self.console.print(f"[bold magenta]video:[/bold magenta] {escape(reply)}")
        else:  # nothing said and nothing changed: say so rather than print an empty reply
            changes = [str(c) for c in result.get("changes", [])] or ["nothing changed"]
            self.console.print("[bold magenta]video:[/bold magenta] " + escape("; ".join(changes)))
        if result.get("stage") == "raw_video":
            self.console.print("  (the raw cut is done; music and title follow in the next stage)")
        if result.get("track_summary"):
            self.console.print(f"[dim]{escape(result['track_summary'])}[/dim]")
        if self._storyboards and result.get("ready_for_export"):
            state = self.tool("get_state", {"storyboard": True}, "Drawing the storyboard…")
            if state and state.get("storyboard_path"):
                self.console.print(f"[dim]storyboard: {escape(str(state['storyboard_path']))}[/dim]")
            elif state is not None and state.get("backend") == "cloud":  # the cloud draws none: stop asking
                self._storyboards = False

    def new(self) -> None:
        previous, self.session_id = self.session_id, None
        if not self.start(None):
            self.session_id = previous

    def upload(self, paths: list[str]) -> None:
        if not paths:
            self.console.print("Usage: /upload PATH... (files or http(s) URLs)")
            return
        urls = [p for p in paths if p.startswith(("http://", "https://"))]
        files = [str(Path(p).expanduser()) for p in paths if p not in urls]
        args: dict[str, Any] = {}
        if files:
            args["files"] = files
        if urls:
            args["urls"] = urls
        result = self.tool("upload", args, "Uploading…")
        if result is None:
            return
        uploads = result.get("uploads", [])
        names = ", ".join(f"{u.get('filename')} ({u.get('type', 'media')})" for u in uploads)
        self.console.print(f"[green]✓ Uploaded {len(uploads)}: {escape(names)}[/green]")
        self.console.print("Now say what to make with them.")

    def export(self, rest: list[str]) -> None:
        fmt = rest[0].lower().lstrip(".") if rest else "mp4"
        if fmt not in EXPORT_FORMATS:
            self.console.print(f"Cannot export {escape(fmt)}: choose one of {', '.join(EXPORT_FORMATS)}.")
            return
        result = self.tool("export", {"format": fmt}, f"Rendering {fmt}…")
        if result is None:
            return
        size_mb = float(result.get("size", 0)) / 1_000_000
        duration = result.get("duration_s")
        length = f"{duration:.1f} s, " if isinstance(duration, int | float) else ""
        self.console.print(
            f"[bold green]✅ Video ready:[/bold green] {escape(str(result['path']))} "
            f"({length}{size_mb:.1f} MB)"
        )
        if result.get("browser_url"):
            self.console.print(f"Open in the browser: {escape(result['browser_url'])}")

    def state(self) -> None:
        result = self.tool("get_state", {}, "Reading the project…")
        if result is None:
            return
        self.console.print(escape(result.get("track_summary") or "Timeline (0 tracks): empty"))
        uploads = result.get("uploads", [])
        if uploads:
            self.console.print("Uploads: " + escape(", ".join(str(u.get("filename")) for u in uploads)))
        if result.get("ready_for_export"):
            self.console.print(
                f"Duration {float(result.get('duration_s', 0)):.1f} s, ready to export (/export)."
            )
        else:
            self.console.print("Nothing to export yet: describe the video first.")

    def credits(self) -> None:
        result = self.tool("credits", {}, "Checking credits…")
        if result is not None:
            self.console.print(escape(str(result.get("text", ""))))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--session-id",
        "--session_id",
        dest="session_id",
        default=None,
        help="continue this session instead of starting a new one",
    )


def _portal_caller(portal: BlockingPortal, config: Config) -> Callable[..., dict[str, Any]]:
    """Run a tool in the portal's event loop; Ctrl-C cancels it there and is re-raised here."""

    def call(name: str, args: dict[str, Any], progress: Callable[[ProgressEvent], None]) -> dict[str, Any]:
        future: concurrent.futures.Future[dict[str, Any]] = portal.start_task_soon(
            _acall, name, args, progress, config
        )
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            concurrent.futures.wait([future], timeout=30)
            raise

    return call


async def _acall(
    name: str, args: dict[str, Any], progress: Callable[[ProgressEvent], None], config: Config
) -> dict[str, Any]:
    return await acall_tool(name, args, progress=progress, config=config)


def _read_line(console: Console) -> str | None:
    try:
        return console.input("[bold cyan]you>[/bold cyan] ")
    except EOFError:
        return None


def run(ns: argparse.Namespace, console: Console | None = None) -> int:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - line editing and history for input()
    # soft_wrap: long lines (paths, links) are left to the terminal, so they copy whole
    console = console or Console(highlight=False, soft_wrap=True)
    manifest = load_manifest()
    get_state = manifest.tool("get_state").input_schema.get("properties", {})
    try:
        with start_blocking_portal() as portal, portal.wrap_async_context_manager(backend_config()) as config:
            chat = Chat(console, _portal_caller(portal, config), storyboards="storyboard" in get_state)
            try:
                if not chat.start(ns.session_id):
                    return 1
            except KeyboardInterrupt:
                return 130
            while True:
                try:
                    line = _read_line(console)
                except KeyboardInterrupt:
                    console.print()
                    return 130
                if line is None or not chat.handle_safely(line):
                    console.print("Bye.")
                    return 0
    except VideogenError as exc:  # the configuration itself is wrong (NEMO_BACKEND, the engine missing)
        console.print(f"[red]✗ {escape(exc.message)}[/red]\n  → {escape(exc.recovery)}")
        return 1
