"""`videogen chat` under a pseudo-terminal, typed as a person would type it (pexpect; every wait bounded)."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from rich.console import Console

from handlers._progress import ProgressEvent
from handlers.chat import Chat

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "you> "


def chat_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_", "SKILL_SOURCE"))}
    env.update(
        VIDEOGEN_HOME=str(tmp_path / "home"),
        VIDEOGEN_WORKSPACE="off",  # no background workspace server left behind
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="200",
        **extra,
    )
    return env


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    children: list[pexpect.spawn] = []

    def start(**extra: str) -> pexpect.spawn:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "handlers.cli", "chat"],
            cwd=str(tmp_path),
            env=chat_env(tmp_path, **extra),
            encoding="utf-8",
            timeout=60,
            dimensions=(40, 200),
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def test_a_conversation_shows_the_reply_the_track_summary_and_the_state(spawn: Any, tmp_path: Path) -> None:
    child = spawn()
    child.expect("Ready \\(the local engine, session ")
    child.expect_exact(PROMPT)
    child.sendline("make a 5-second title card that says Hello")
    child.expect_exact("video: ")
    child.expect('Timeline \\(2 tracks\\): 1\\. Video: [^\r\n]+ \\(0-5s\\) 2\\. Title: "Hello" \\(0-5s\\)')
    child.expect_exact(PROMPT)
    child.sendline("/state")
    child.expect_exact("Duration 5.0 s, ready to export (/export).")
    child.expect_exact(PROMPT)
    child.sendline("/quit")
    child.expect_exact("Bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_uploads_are_acknowledged_and_export_says_where_the_video_is(spawn: Any, tmp_path: Path) -> None:
    from handlers._samples import make_still

    still = make_still(tmp_path / "shot.png", "Shot", (20, 30, 80), (200, 120, 90), size=(320, 240))
    child = spawn()
    child.expect_exact(PROMPT)
    child.sendline(f"/upload {still}")
    child.expect_exact("✓ Uploaded 1: shot.png (image)")
    child.expect_exact(PROMPT)
    child.sendline("a 2-second video from this image")
    child.expect_exact("Timeline (1 track): 1. Video:")
    child.expect("storyboard: (\\S+\\.png)")
    storyboard = Path(child.match.group(1))
    child.expect_exact(PROMPT)
    child.sendline("/export webm")
    child.expect("Video ready: (\\S+\\.webm)")
    path = Path(child.match.group(1))
    child.expect_exact(PROMPT)
    child.sendline("/new")
    child.expect_exact("Ready (the local engine, session ")
    child.expect_exact(PROMPT)
    child.sendline("/state")
    child.expect_exact("Timeline (0 tracks): empty")
    child.expect_exact("Nothing to export yet: describe the video first.")
    child.expect_exact(PROMPT)
    child.sendline("/bogus")
    child.expect_exact("Unknown command /bogus. Type /help for the list.")
    child.expect_exact(PROMPT)
    child.sendline("/quit")
    child.expect_exact("Bye.")
    child.expect(pexpect.EOF)
    assert path.is_file()
    assert path.stat().st_size > 0
    assert storyboard.read_bytes().startswith(b"\x89PNG")


def test_ctrl_c_cancels_a_long_turn_and_the_conversation_goes_on(spawn: Any) -> None:
    child = spawn(VIDEOGEN_FAULTS=json.dumps({"keepalive_only_s": 60}))
    child.expect_exact(PROMPT)
    child.sendline("make a 5-second title card that says Hi")
    child.expect_exact("Working on it…")
    child.sendintr()
    child.expect_exact("Interrupted. The backend may still finish that turn")
    child.expect_exact(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_still_working_and_render_progress_reach_the_screen() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, no_color=True)

    def fake(name: str, args: dict[str, Any], progress: Any) -> dict[str, Any]:
        progress(ProgressEvent("still_working", "Still working… (2 min)"))
        progress(ProgressEvent("render", "Rendering 40%", 40.0))
        error = {"code": "timeout", "message": "no answer", "recovery": "Check /state; do not resend."}
        return {"ok": False, "backend": "cloud", "text": "", "error": error}

    chat = Chat(console, fake)
    chat.session_id = "s1"
    assert chat.handle("a long generation") is True
    shown = out.getvalue()
    assert "⏳ Still working… (2 min)" in shown
    assert "✗ no answer" in shown
    assert "→ Check /state; do not resend." in shown


def test_chat_talks_to_a_server_by_url_as_to_the_cloud(spawn: Any, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = pexpect.spawn(
        sys.executable,
        ["-m", "handlers.cli", "serve", "--port", str(port), "--home", str(tmp_path / "server")],
        env=chat_env(tmp_path),
        encoding="utf-8",
        timeout=30,
    )
    try:
        server.expect_exact("engine.server ready on")
        child = spawn(NEMO_API_URL=f"http://127.0.0.1:{port}")
        child.expect_exact(f"Ready (http://127.0.0.1:{port}, session ")
        child.expect_exact("Open in the browser: ")
        child.expect_exact(PROMPT)
        child.sendline("/credits")
        child.expect("Credits: [0-9,]+ available")
        child.expect_exact(PROMPT)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        server.close(force=True)
    assert (tmp_path / "config" / "nemovideo" / "token.json").stat().st_mode & 0o777 == 0o600


def test_the_end_of_input_ends_the_chat_like_quit(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "chat"],
        input="/credits\n",
        capture_output=True,
        text=True,
        env=chat_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Credits: " in done.stdout
    assert done.stdout.rstrip().endswith("Bye.")
