"""Issue 12 #6: ffmpeg outlived a killed engine (under PID 1, at full CPU), and the next start removed
the file it was still writing. Now each child is in its own process group, watched, and recorded."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from pathlib import Path

import anyio
import httpx2
import pytest

from engine.server._store import ENGINE_STOPPED
from tests._support import eventually

from ._support import auth, client, get_token, new_session, wait_render
from .test_crash import engine_process

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process state from /proc"),
]

REPO = Path(__file__).resolve().parents[3]


def running(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z"


def recorded_children(home: Path) -> list[int]:
    with sqlite3.connect(f"file:{home / 'engine.sqlite3'}?mode=ro", uri=True) as db:
        return [int(row[0]) for row in db.execute("SELECT pid FROM children")]


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def start_long_render(http: httpx2.AsyncClient, home: Path) -> tuple[str, int]:
    """A 10-minute colour card rendering; (token, ffmpeg's pid) once ffmpeg is recorded and working."""
    token = await get_token(http)
    sid = await new_session(http, token)
    draft = {
        "m": {"title": "long", "width": 1280, "height": 720, "fps": 30},
        "t": [
            {
                "id": "t1",
                "tt": 0,
                "sg": [{"id": "s1", "st": 0, "d": 600_000, "src": "", "m": {"kind": "color"}}],
            }
        ],
    }
    body = {"id": "long", "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "low"}}
    assert (await http.post("/api/render/proxy/lambda", headers=auth(token), json=body)).status_code == 200
    pids: list[int] = []

    async def started() -> bool:
        job = (await http.get("/api/render/proxy/lambda/long", headers=auth(token))).json()
        pids[:] = recorded_children(home)
        return bool(job["progress"] > 0 and pids)

    await eventually(started, "the render starts", limit_s=60, every_s=0.01)
    assert running(pids[0])
    return token, pids[0]


def writing_under(pid: int, home: Path) -> list[Path]:
    """The files under ``home`` that process ``pid`` has open for writing (from /proc)."""
    found: list[Path] = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = Path(os.readlink(fd))
            flags = int((Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().split("flags:")[1].split()[0], 8)
        except (OSError, IndexError, ValueError):
            continue
        if target.is_relative_to(home.resolve()) and flags & (os.O_WRONLY | os.O_RDWR) and target.is_file():
            found.append(target)
    return found


async def gone(pid: int, limit_s: float = 15.0) -> bool:
    with anyio.move_on_after(limit_s):
        for _ in range(int(limit_s / 0.02)):
            if not running(pid):
                return True
            await anyio.sleep(0.02)
    return not running(pid)


@pytest.mark.slow
async def test_ffmpeg_ends_when_the_engine_is_killed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with engine_process(home) as (server, base), client(base) as http:
        _, ffmpeg = await start_long_render(http, home)
        assert os.getpgid(ffmpeg) == ffmpeg  # its own process group
        os.kill(server.pid, signal.SIGKILL)  # the engine only: ffmpeg is not in its group
        await server.wait()
        assert await gone(ffmpeg), f"ffmpeg {ffmpeg} outlived the killed engine"


@pytest.mark.slow
async def test_a_leftover_ffmpeg_is_ended_at_the_next_start_before_its_file_is_removed(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    async with engine_process(home) as (server, base), client(base) as http:
        _, ffmpeg = await start_long_render(http, home)
        for helper in children_of(server.pid):  # the watchdog too: the whole tree dies at once
            if helper != ffmpeg:
                with contextlib.suppress(ProcessLookupError):  # (one may have ended since it was listed)
                    os.kill(helper, signal.SIGKILL)
        os.kill(server.pid, signal.SIGKILL)
        await server.wait()
        assert running(ffmpeg)  # nobody is left to end it
        partial = writing_under(ffmpeg, home)
        assert partial  # it is writing its output (a chunk of the export, in the render cache's work folder)

    async with engine_process(home) as (_, base), client(base) as http:
        assert not running(ffmpeg)  # ended during the start, before the engine answered
        assert not [p for p in partial if p.exists()]
        assert not [p for p in (home / "renders").iterdir() if p.is_file()]
        assert recorded_children(home) == []
        token = await get_token(http)
        job = await wait_render(http, token, "long")
        assert (job["status"], job["error"]) == ("failed", ENGINE_STOPPED)
