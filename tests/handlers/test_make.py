"""`videogen make`: one command from a description and files to a video file, as a cron job would run it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers import cli
from handlers._samples import make_still
from handlers.make import output_format


def make(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["make", "-q", *argv])
    return code, json.loads(capsys.readouterr().out)


def stills(folder: Path, count: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    return [
        str(make_still(folder / f"still_{i}.png", f"Shot {i}", (20, 30, 60 + 40 * i), (200, 120, 90)))
        for i in range(count)
    ]


@pytest.mark.slow
def test_make_writes_a_vertical_video_and_prints_a_summary(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = stills(isolated / "media", 2)
    code, summary = make(
        capsys,
        "a 2-second video from these images",
        *files,
        "-o",
        "out/clip.webm",
        "--quality",
        "low",
        "--vertical",
    )
    assert code == 0, summary
    assert summary["ok"] is True
    assert summary["format"] == "webm"
    assert summary["uploads"] == ["still_0.png", "still_1.png"]
    assert summary["track_summary"].startswith("Timeline (")
    video = Path(summary["path"])
    assert video == (isolated / "out/clip.webm").resolve()
    assert video.stat().st_size == summary["size"] > 0
    assert summary["duration_s"] == pytest.approx(2, abs=0.3)
    assert cli.main(["get_state", "-q", "--session-id", summary["session_id"]]) == 0
    canvas = json.loads(capsys.readouterr().out)["canvas"]
    assert canvas["height"] > canvas["width"]


def test_an_unsupported_file_fails_at_the_upload_step(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = isolated / "notes.txt"
    notes.write_text("not a video")
    code, summary = make(capsys, "a reel", str(notes), "-o", "reel.mp4")
    assert code == 1
    assert summary["step"] == "upload"
    assert summary["error"]["code"] == "unsupported_file"
    assert "mp4" in summary["error"]["supported_formats"]
    assert not (isolated / "reel.mp4").exists()


def test_a_description_the_backend_cannot_use_fails_with_its_reply(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary = make(capsys, "hmm", "-o", "x.mp4")
    assert code == 1
    assert summary["step"] == "send_message"
    assert summary["error"]["code"] == "not_ready"
    assert summary["reply"] in summary["error"]["message"]
    assert not (isolated / "x.mp4").exists()


def test_a_missing_file_or_a_format_clash_is_a_usage_error(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary = make(capsys, "a reel", "nowhere.jpg", "-o", "reel.mp4")
    assert code == 2
    assert "nowhere.jpg" in summary["error"]["message"]
    code, summary = make(capsys, "a reel", "-o", "reel.mp4", "--format", "webm")
    assert code == 2
    assert summary["error"]["code"] == "invalid_input"
    assert not (isolated / "home").exists()  # no session was started for nothing


def test_the_format_comes_from_the_flag_else_the_extension_else_mp4() -> None:
    assert output_format(Path("a.MOV"), None) == "mov"
    assert output_format(Path("a.video"), None) == "mp4"
    assert output_format(Path("a"), "mkv") == "mkv"
    with pytest.raises(ValueError, match="make them agree"):
        output_format(Path("a.avi"), "mp4")
