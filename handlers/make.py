"""`videogen make`: one shot from a description (and media files) to a video file, for scripts and cron.

session → upload → message → export, each through the same tools an agent uses. Prints one JSON
summary on stdout (progress on stderr) and exits like the tool commands: 0 the video is written,
1 a step failed (the JSON says which and has `error`), 2 usage, 3 backend unreachable, 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from handlers._config import Config
from handlers._constants import EXPORT_FORMATS
from handlers._dispatch import acall_tool
from handlers._errors import InputError, VideogenError
from handlers._frontend import (
    EXIT_USAGE,
    InterruptedByUser,
    StderrProgress,
    backend_config,
    exit_code,
    failure_result,
    print_json,
)
from handlers._progress import ProgressCallback

__all__ = [
    "COMMAND",
    "DESCRIPTION",
    "EPILOG",
    "EXAMPLES",
    "HELP",
    "VERTICAL_HINT",
    "configure",
    "make",
    "run",
]

COMMAND = "make"
HELP = "One shot: description + media files -> a video file (session, upload, message, export)."
DESCRIPTION = (
    "Make a video in one go: create a session, upload FILES, send DESCRIPTION, export to -o.\n"
    "Prints one JSON summary on stdout; progress goes to stderr. Nothing prompts."
)
EXAMPLES = (
    'videogen make "a 15-second reel with the title Aurora" photo1.jpg photo2.jpg -o reel.mp4',
    'videogen make "a product showcase with soft music" shot.png music.mp3 -o promo.webm --vertical',
    'videogen make "a title card that says Hello" -o hello.mp4 --format mp4 --quality low',
)
EPILOG = (
    "exit codes: 0 the video is written; 1 a step failed (the JSON names the step and has error);\n"
    "            2 usage error; 3 backend unreachable or timed out; 130 interrupted",
)
VERTICAL_HINT = "Make it vertical, 9:16."


class NotReadyError(VideogenError):
    code = "not_ready"
    default_recovery = (
        "Describe the video more concretely (length, media, style, title), "
        "or answer the question in videogen chat."
    )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("description", metavar="DESCRIPTION", help="what the video should be, in plain words")
    parser.add_argument("files", metavar="FILE", nargs="*", help="images, clips or audio to use")
    parser.add_argument("-o", "--output", required=True, type=Path, help="where to write the video")
    parser.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default=None,
        help="container (default: from -o's extension, else mp4)",
    )
    parser.add_argument(
        "--quality", choices=("low", "medium", "high"), default="high", help="(default: high)"
    )
    parser.add_argument("--vertical", action="store_true", help="9:16 for phones (reels, shorts, stories)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")


def output_format(output: Path, given: str | None) -> str:
    """The export format: --format, else -o's extension, else mp4. ValueError when they disagree."""
    suffix = output.suffix.lower().lstrip(".")
    if given is not None:
        if suffix in EXPORT_FORMATS and suffix != given:
            raise ValueError(f"-o {output} ends in .{suffix} but --format is {given}: make them agree")
        return given
    return suffix if suffix in EXPORT_FORMATS else "mp4"


def _failed(step: str, result: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary,
        "ok": False,
        "step": step,
        "text": f"{step} failed: {result.get('text', '')}".strip(),
        "error": result["error"],
        "backend": result.get("backend", summary.get("backend", "unknown")),
    }


async def make(
    description: str,
    files: list[Path],
    output: Path,
    *,
    fmt: str = "mp4",
    quality: str = "high",
    vertical: bool = False,
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Run the four steps; the summary says what each gave, or which failed and why."""
    call: Callable[[str, dict[str, Any]], Any] = functools.partial(_call, config=config, progress=progress)
    summary: dict[str, Any] = {"ok": False, "backend": config.label if config else "unknown"}

    session = await call("create_session", {})
    if not session["ok"]:
        return _failed("create_session", session, summary)
    sid = session["session_id"]
    summary.update(backend=session["backend"], session_id=sid, browser_url=session.get("browser_url"))

    if files:
        uploaded = await call("upload", {"files": [str(f) for f in files], "session_id": sid})
        if not uploaded["ok"]:
            return _failed("upload", uploaded, summary)
        summary["uploads"] = [u.get("filename") for u in uploaded.get("uploads", [])]

    message = description.strip() + (f" {VERTICAL_HINT}" if vertical else "")
    replied = await call("send_message", {"message": message, "session_id": sid})
    if not replied["ok"]:
        return _failed("send_message", replied, summary)
    summary.update(reply=replied.get("reply", ""), track_summary=replied.get("track_summary"))
    if not replied.get("ready_for_export"):
        reply = replied.get("reply") or replied.get("text", "")
        error = NotReadyError(f"the backend made no video from this description; it said: {reply}")
        fields = {k: v for k, v in summary.items() if k != "backend"}
        return failure_result(error, summary["backend"], **fields, step="send_message")

    exported = await call(
        "export",
        {
            "session_id": sid,
            "format": fmt,
            "quality": quality,
            "output_path": str(output),
            "overwrite": overwrite,
        },
    )
    if not exported["ok"]:
        return _failed("export", exported, summary)
    summary.update(
        ok=True,
        text=f"Video ready: {exported['path']}",
        path=exported["path"],
        size=exported.get("size"),
        duration_s=exported.get("duration_s"),
        format=exported.get("format", fmt),
    )
    return summary


async def _call(
    name: str, args: dict[str, Any], *, config: Config | None, progress: ProgressCallback | None
) -> dict[str, Any]:
    return await acall_tool(name, args, progress=progress, config=config)


def run(ns: argparse.Namespace) -> int:
    try:
        fmt = output_format(ns.output, ns.format)
        missing = [str(f) for f in ns.files if not Path(f).expanduser().is_file()]
        if missing:  # before a session is created for nothing
            raise ValueError(f"no such file: {', '.join(missing)}")
    except ValueError as exc:
        error = InputError(str(exc), [str(exc)], recovery="Fix the arguments (files, -o, --format).")
        print_json(failure_result(error, step="arguments"))
        return EXIT_USAGE
    progress = None if ns.quiet else StderrProgress()

    async def main() -> dict[str, Any]:
        async with backend_config() as config:
            return await make(
                ns.description,
                list(ns.files),
                ns.output,
                fmt=fmt,
                quality=ns.quality,
                vertical=ns.vertical,
                overwrite=ns.overwrite,
                config=config,
                progress=progress,
            )

    try:
        result = anyio.run(main)
    except KeyboardInterrupt:
        result = failure_result(InterruptedByUser("make was interrupted"))
    except VideogenError as exc:  # the configuration itself (e.g. NEMO_BACKEND) is wrong
        result = failure_result(exc, step="configuration")
    print_json(result)
    return exit_code(result)
