"""The client over real TCP: the engine under uvicorn on 127.0.0.1 (a dropped stream is a truly
incomplete chunked body here), and `run_local_server` (what `videogen serve` calls) in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import uvicorn

from engine.server import FaultConfig, ServerConfig, create_app
from handlers import acall_tool, call_tool
from handlers._config import Config
from tests._support import eventually

pytestmark = pytest.mark.anyio


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def uvicorn_engine(home: Path, faults: FaultConfig) -> AsyncIterator[str]:
    sock = bound_socket()
    app = create_app(ServerConfig(home=home, faults=faults, ping_interval_s=0.05, allow_private_urls=True))
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_level="warning", timeout_graceful_shutdown=1)
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        await eventually(lambda: server.started, "uvicorn starts", limit_s=20, every_s=0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
    sock.close()


async def test_a_dropped_tcp_stream_is_recovered_by_polling_without_a_resend(
    tmp_path: Path, skill_md: Path, media: dict[str, Path], waits: list[float]
) -> None:
    async with uvicorn_engine(tmp_path / "home", FaultConfig(drop_stream_after=1)) as url:
        config = Config.from_env(
            {"NEMO_API_URL": url}, config_dir=tmp_path / "cfg", skill_md=skill_md, cwd=tmp_path
        )
        assert config.label == url
        with anyio.fail_after(60):
            files = [str(media[k]) for k in ("still1", "still2", "music")]
            uploaded = await acall_tool("upload", {"files": files}, config=config)
            assert uploaded["ok"], uploaded
            by_url = await acall_tool("upload", {"urls": [uploaded["uploads"][0]["url"]]}, config=config)
            assert by_url["ok"], by_url
            assert by_url["uploads"][0]["type"] == "image"
            result = await acall_tool(
                "send_message",
                {"message": "make a 3-second reel from these images with the music"},
                config=config,
            )
    assert result["ok"], result
    assert result["backend"] == url
    assert result["recovered"] is True
    assert result["ready_for_export"] is True
    assert waits[:2] == [3.0, 30.0]


def test_run_local_server_serves_the_api_that_the_client_uses(tmp_path: Path, skill_md: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    home = tmp_path / "home"
    code = (
        "import pathlib, handlers; "
        f"handlers.run_local_server('127.0.0.1', {port}, pathlib.Path({str(home)!r}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_"))}
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # the server announces itself once it accepts requests
            assert f"ready on http://127.0.0.1:{port}" in line, line
            url = f"http://127.0.0.1:{port}"
            config = Config.from_env(
                {"NEMO_API_URL": url}, config_dir=tmp_path / "cfg", skill_md=skill_md, cwd=tmp_path
            )
            session = call_tool("create_session", {}, config=config)
            assert session["ok"], session
            assert session["browser_url"].startswith(f"{url}/workspace/claim?ct=")
            assert call_tool("credits", {}, config=config)["ok"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
