"""The main job, end to end: a real conversation through the skill's own tools, ending in a real video.

``scripts/demo`` runs ``python -m handlers.demo``. It makes its own sample media (nothing is downloaded),
then: create a session → upload → describe the video → two edits → state → export mp4 1080p, printing each
turn's reply and track summary, a progress bar while rendering, and at the end the video's path, its
duration and size, and the storyboard's path. With nothing configured it runs on the embedded local
engine, offline; with ``NEMO_BACKEND=cloud`` (or a token / URL) the same conversation goes to that backend.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from handlers._config import Config
from handlers._constants import EXPORT_FORMATS
from handlers._dispatch import acall_tool
from handlers._errors import VideogenError
from handlers._progress import ProgressEvent
from handlers._samples import make_samples

__all__ = ["CONVERSATION", "main", "run_demo"]

CONVERSATION: tuple[str, ...] = (
    "Combine these images and audio into a 30-second promotional video with text overlays",
    "Add a text overlay 'Limited offer' at the 10-second mark",
    "Shorten the intro to 2 seconds",
)


class DemoFailed(Exception):
    """A tool answered with an error; the message is the tool's own words plus its recovery."""


def _check(result: dict[str, Any], step: str) -> dict[str, Any]:
    if not result.get("ok"):
        err = result.get("error") or {}
        raise DemoFailed(
            f"{step} failed: {err.get('message', result.get('text', 'no details'))}"
            f" — {err.get('recovery', '')}".rstrip(" —")
        )
    return result


async def run_demo(out_dir: Path, console: Console, export_format: str = "mp4") -> dict[str, Any]:
    """Run the demo conversation; return the export result (path, size, duration_s, …)."""
    media_dir = out_dir / "media"
    console.print(f"[bold]video-generator-ai demo[/bold] — sample media in {media_dir}")
    samples = make_samples(media_dir)
    try:  # files the tools write (the storyboard) go beside the video, not into the working directory
        config = Config.from_env(cwd=out_dir)
    except VideogenError as exc:
        raise DemoFailed(f"{exc.message} — {exc.recovery}") from exc

    async def call(name: str, args: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return _check(await acall_tool(name, args, config=config, **kw), name)

    session = await call("create_session", {"task_name": "demo promo"})
    sid = session["session_id"]
    console.print(f"[dim]backend:[/dim] {session['backend']}   [dim]session:[/dim] {sid}")

    uploaded = await call("upload", {"session_id": sid, "files": [str(p) for p in samples.all]})
    console.print(f"[green]✓[/green] {uploaded['text']}")

    for message in CONVERSATION:
        console.print(f"\n[bold cyan]you:[/bold cyan] {message}")
        with console.status("working…", spinner="dots"):
            reply = await call("send_message", {"session_id": sid, "message": message})
        console.print(f"[bold magenta]video:[/bold magenta] {reply['text']}")
        if reply.get("track_summary") and "Timeline (" not in reply["text"]:
            console.print(f"[dim]{reply['track_summary']}[/dim]")

    state = await call("get_state", {"session_id": sid, "storyboard": True, "include_draft": True})
    console.print(f"\n[bold]state:[/bold] {state['track_summary']}")

    target = out_dir / f"promo.{export_format}"
    columns = (
        TextColumn("rendering {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(export_format, total=100)

        def on_progress(event: ProgressEvent) -> None:
            if event.kind == "render" and event.percent is not None:
                bar.update(task, completed=event.percent)

        exported = await call(
            "export",
            {
                "session_id": sid,
                "format": export_format,
                "quality": "high",
                "output_path": str(target),
                "overwrite": True,
            },
            progress=on_progress,
        )
    size_mb = exported["size"] / 1_000_000
    console.print(f"\n[bold green]✅ Video ready:[/bold green] {exported['path']}")
    console.print(
        f"   duration {exported['duration_s']:.1f} s, size {size_mb:.1f} MB, format {exported['format']}"
    )
    if state.get("storyboard_path"):
        console.print(f"   storyboard: {state['storyboard_path']}")
    if exported.get("browser_url"):
        console.print(f"   open in browser: {exported['browser_url']}")
    record = {
        "session_id": sid,
        "export": exported,
        "storyboard_path": state.get("storyboard_path"),
        "draft": state.get("draft"),
    }
    (out_dir / "demo.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    return exported


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description="Make a real video through a conversation with the skill's tools (local engine default).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        help="folder for the sample media and the video (default: out/demo)",
    )
    parser.add_argument("--format", default="mp4", choices=EXPORT_FORMATS)
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    try:
        anyio.run(run_demo, args.out.resolve(), console, args.format)
    except DemoFailed as exc:
        console.print(f"[bold red]✗ {exc}[/bold red]")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
