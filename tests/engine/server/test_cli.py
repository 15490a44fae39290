"""``python -m engine.server``: its help, and the warning before binding beyond loopback."""

import subprocess
import sys
from pathlib import Path

from engine.server._app import _is_loopback

REPO = Path(__file__).resolve().parents[3]


def test_loopback_hosts_are_told_apart_from_others() -> None:
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0")
    assert not _is_loopback("192.168.1.10")
    assert not _is_loopback("example.com")


def test_binding_beyond_loopback_warns_on_stderr_before_it_binds(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is never an address of this machine: the bind fails after the warning.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.server",
            "--host",
            "192.0.2.1",
            "--port",
            "0",
            "--home",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    warning, _, error = result.stderr.partition("\n")
    assert warning.startswith("warning: binding the engine to 192.0.2.1, not a loopback address")
    assert "cannot listen on 192.0.2.1:0" in error


def test_the_command_explains_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine.server", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--home" in result.stdout
    assert "VIDEOGEN_FAULTS" in result.stdout
