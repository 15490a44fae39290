"""`videogen doctor`: one line per check, OK or FAIL with the fix; exit 0 only when everything is OK."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from handlers import cli
from handlers._embedded import engine_fonts
from handlers.doctor import check_ffmpeg, check_folder, check_fonts, check_python, font_fix


def test_a_healthy_machine_passes_every_check(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["doctor"])
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[1] for line in lines[:-1]]
    assert names == ["python", "ffmpeg", "fonts", "config", "data", "backend"]
    assert all(line.startswith("OK ") for line in lines[:-1]), lines
    assert "ffmpeg version" in lines[1]
    assert "local engine (embedded) answers" in lines[-2]
    assert lines[-1] == "All checks passed."
    assert code == 0


def test_an_unreachable_backend_fails_with_what_to_do(
    isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("NEMO_API_URL", f"http://127.0.0.1:{port}")
    code = cli.main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    backend = report["checks"][-1]
    assert code == 1
    assert report["ok"] is False
    assert backend["name"] == "backend"
    assert backend["ok"] is False
    assert f"127.0.0.1:{port}" in backend["detail"]
    assert backend["fix"]
    assert [c["name"] for c in report["checks"]] == ["python", "ffmpeg", "fonts", "config", "backend"]


def test_an_old_python_fails() -> None:
    check = check_python((3, 10, 4))
    assert not check.ok
    assert "3.10.4 is too old" in check.line()
    assert "fix: install Python 3.11" in check.line()


def test_ffmpeg_that_is_missing_or_broken_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOGEN_FFMPEG", str(Path(sys.executable)))  # runs, but is not ffmpeg
    broken = check_ffmpeg()
    assert not broken.ok
    assert "-version failed" in broken.detail
    assert "imageio-ffmpeg" in broken.fix
    monkeypatch.setenv("VIDEOGEN_FFMPEG", "/nonexistent/ffmpeg")
    missing = check_ffmpeg()
    assert not missing.ok
    assert "does not run" in missing.detail


def test_missing_fonts_name_the_exact_install_command_and_only_what_is_missing(tmp_path: Path) -> None:
    check = check_fonts(engine_fonts([tmp_path]))
    assert not check.ok
    assert check.detail.startswith("missing DejaVu Sans, CJK, colour emoji;")
    apt = font_fix(
        ["latin", "cjk", "emoji"], which=lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )
    assert apt.startswith(
        "run: sudo apt-get install -y fonts-dejavu-core fonts-wqy-microhei fonts-noto-color-emoji "
    )
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"")
    partial = check_fonts(engine_fonts([tmp_path]))
    assert partial.detail.startswith("missing CJK, colour emoji (have DejaVuSans.ttf)")
    dnf = font_fix(["emoji"], which=lambda name: "/usr/bin/dnf" if name == "dnf" else None)
    assert dnf.startswith("run: sudo dnf install -y google-noto-color-emoji-fonts ")
    assert "VIDEOGEN_FONT_DIRS" in font_fix(["cjk"], which=lambda name: None)


def test_doctor_keeps_no_copy_of_the_engines_facts_and_spawns_nothing() -> None:
    import handlers.doctor

    source = Path(handlers.doctor.__file__).read_text(encoding="utf-8")
    for fact in (
        "/usr/share/fonts",
        "dejavusans.ttf",
        "notocoloremoji",
        "video-generator-ai",
        "XDG_DATA_HOME",
    ):
        assert fact not in source
    assert "subprocess" not in source
    assert "imageio_ffmpeg" not in source


def test_a_data_folder_that_cannot_be_created_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    check = check_folder("data", blocker / "home", "VIDEOGEN_HOME")
    assert not check.ok
    assert "is not writable" in check.detail
    assert "VIDEOGEN_HOME" in check.fix
