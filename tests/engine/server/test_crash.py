"""kill -9 in the middle of a render and an upload: after a restart on the same home, nothing is lost
that was finished, and nothing unfinished pretends to be."""

import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from anyio.abc import Process

from engine.server._store import ENGINE_STOPPED
from tests._support import eventually

from ._support import (
    MESSAGE,
    auth,
    client,
    get_token,
    image_bytes,
    new_session,
    send_message,
    state,
    upload_project_media,
)

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[3]


@asynccontextmanager
async def engine_process(home: Path) -> AsyncIterator[tuple[Process, str]]:
    """``python -m engine.server`` on a free port, in its own process group; yields it and its URL."""
    env = {k: v for k, v in os.environ.items() if k != "VIDEOGEN_FAULTS"}
    argv = [
        sys.executable,
        "-m",
        "engine.server",
        "--port",
        "0",
        "--home",
        str(home),
        "--max-render-height",
        "360",
    ]
    process = await anyio.open_process(argv, cwd=REPO, env=env, start_new_session=True, stderr=None)
    try:
        assert process.stdout is not None
        seen = b""
        with anyio.fail_after(30):
            while b"\n" not in seen:
                seen += await process.stdout.receive()
        found = re.search(rb"ready on (http://127\.0\.0\.1:\d+)", seen)
        assert found, seen
        yield process, found.group(1).decode()
    finally:
        if process.returncode is None:
            process.terminate()
            with anyio.fail_after(20):
                await process.wait()


def kill_group(process: Process) -> None:
    """SIGKILL the server and its children (ffmpeg): the machine-crash case."""
    os.killpg(process.pid, signal.SIGKILL)


async def test_a_killed_engine_restarts_with_everything_finished_intact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with engine_process(home) as (process, base), client(base) as http:
        token = await get_token(http, "crash-client")
        sid = await new_session(http, token)
        other = await new_session(http, token)
        uploaded = await upload_project_media(http, token, sid, colour=(70, 20, 90))
        assert uploaded.status_code == 200
        await send_message(http, token, sid, MESSAGE)
        generated = (await state(http, token, sid))["state"]["draft"]
        await send_message(http, token, sid, "make the video 8 seconds long")
        before = await state(http, token, sid)
        assert before["revision"] == 3

        render = await http.post(
            "/api/render/proxy/lambda",
            headers=auth(token),
            json={"id": "render_crash", "sessionId": sid, "output": {"format": "webm", "quality": "high"}},
        )
        assert render.status_code == 200

        async def processing() -> bool:
            job = (await http.get("/api/render/proxy/lambda/render_crash", headers=auth(token))).json()
            assert job["status"] != "completed", "the render finished before the kill; make it slower"
            return bool(job["status"] == "processing")

        await eventually(processing, "the render is processing")

        release = anyio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield (
                b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="half.png"\r\n'
                b"Content-Type: image/png\r\n\r\n" + image_bytes("PNG") + b"\0" * 600_000
            )
            await release.wait()
            yield b"\r\n--b0undary--\r\n"

        async def upload_forever() -> None:
            headers = {**auth(token), "Content-Type": "multipart/form-data; boundary=b0undary"}
            with pytest.raises(httpx2.TransportError):
                await http.post(
                    f"/api/upload-video/nemo_agent/me/{other}", headers=headers, content=slow_body()
                )

        async def partial_upload_on_disk() -> bool:
            return any(p.stat().st_size > 0 for p in (home / "tmp").glob("*.part"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(upload_forever)
            await eventually(partial_upload_on_disk, "the upload is streaming to disk")
            kill_group(process)
            with anyio.fail_after(10):
                await process.wait()
            release.set()

    async with engine_process(home) as (process, base), client(base) as http:
        token = await get_token(http, "crash-client")  # the same token: it was stored
        after = await state(http, token, sid)
        assert after["revision"] == before["revision"]
        assert after["state"]["draft"] == before["state"]["draft"]
        assert after["state"]["video_infos"] == [
            {**v, "cdn_url": v["cdn_url"].replace(before_base(before), base)}
            for v in before["state"]["video_infos"]
        ]
        assert (await state(http, token, other))["state"][
            "video_infos"
        ] == []  # the partial upload is not listed
        assert list((home / "tmp").iterdir()) == []

        job = (await http.get("/api/render/proxy/lambda/render_crash", headers=auth(token))).json()
        assert job["status"] == "failed"
        assert job["error"] == ENGINE_STOPPED
        assert job["output"] is None
        assert list((home / "renders").iterdir()) == []

        undo = await send_message(http, token, sid, "undo")
        assert undo.status == 200
        assert (await state(http, token, sid))["state"]["draft"] == generated


def before_base(snapshot: dict[str, Any]) -> str:
    url: str = snapshot["state"]["video_infos"][0]["cdn_url"]
    return url.split("/files/")[0]


async def test_a_render_running_at_a_clean_shutdown_is_failed_at_once_without_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with engine_process(home) as (process, base), client(base) as http:
        token = await get_token(http, "shutdown-client")
        sid = await new_session(http, token)
        files = [("files", (f"p{i}.png", image_bytes("PNG", (70 * i, 20, 90)))) for i in range(2)]
        await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        await send_message(http, token, sid, "Combine these images into a 10-second video")
        body = {"id": "render_stop", "sessionId": sid, "output": {"format": "webm", "quality": "high"}}
        assert (
            await http.post("/api/render/proxy/lambda", headers=auth(token), json=body)
        ).status_code == 200

        async def processing() -> bool:
            job = (await http.get("/api/render/proxy/lambda/render_stop", headers=auth(token))).json()
            assert job["status"] != "completed", "the render finished before the shutdown; make it slower"
            return bool(job["status"] == "processing")

        await eventually(processing, "the render is processing")
        process.terminate()
        with anyio.fail_after(20):
            await process.wait()  # uvicorn re-raises SIGTERM after its clean shutdown

    # Read the store directly: the shutdown itself failed the job (no restart has recovered anything).
    db = sqlite3.connect(home / "engine.sqlite3")
    try:
        row = db.execute("SELECT status, error FROM renders WHERE id='render_stop'").fetchone()
    finally:
        db.close()
    assert row == ("failed", ENGINE_STOPPED)
    assert [p for p in (home / "renders").iterdir() if p.is_file()] == []
