"""Ctrl-C while `export` waits for an engine's render cancels that render (issue 12 #3).

The engine runs as `videogen serve` does (uvicorn on 127.0.0.1); the embedded engine needs no cancel,
since an interrupted CLI call stops the whole in-process engine and its renders with it."""

from __future__ import annotations

import socket
from pathlib import Path

import anyio
import pytest
import uvicorn

from engine.server import ServerConfig
from engine.server._net import network_app, uvicorn_config
from handlers import acall_tool
from handlers._config import Config
from tests.handlers.conftest import Recorder

pytestmark = pytest.mark.anyio


async def test_an_interrupted_export_cancels_its_render_on_the_engine(
    tmp_path: Path, skill_md: Path, media: dict[str, Path], waits: list[float]
) -> None:
    home = tmp_path / "home"
    engine_config = ServerConfig(home=home)
    recorder = Recorder(network_app(engine_config, "127.0.0.1"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn_config(recorder, engine_config, log_level="warning"))
    config = Config.from_env(
        {"NEMO_API_URL": url}, config_dir=tmp_path / "cfg", skill_md=skill_md, cwd=tmp_path
    )

    def polled() -> bool:
        return any(
            r.method == "GET" and r.path.startswith("/api/render/proxy/lambda/") for r in recorder.requests
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(120):
            for _ in range(2000):
                if server.started:
                    break
                await anyio.sleep(0.01)
            uploaded = await acall_tool(
                "upload", {"files": [str(media["still1"]), str(media["music"])]}, config=config
            )
            assert uploaded["ok"], uploaded
            message = {"message": "make a 30-second video from these with the music"}
            assert (await acall_tool("send_message", message, config=config))["ok"]

            async def run_export() -> None:
                await acall_tool("export", {"quality": "high"}, config=config)

            async with anyio.create_task_group() as export:
                export.start_soon(run_export)
                for _ in range(6000):
                    if polled():
                        break
                    await anyio.sleep(0.01)
                export.cancel_scope.cancel()  # what Ctrl-C does to the running tool call
        server.should_exit = True
    sock.close()

    cancels = [r for r in recorder.requests if r.method == "POST" and r.path.endswith("/cancel")]
    assert len(cancels) == 1, [r.path for r in recorder.requests]
    assert cancels[0].status == 200
    assert not [p for p in (home / "renders").iterdir() if p.is_file()]  # no output, no partial file
