"""Test support: a real uvicorn server on 127.0.0.1, raw HTTP helpers, tiny generated media."""

from __future__ import annotations

import io
import json
import math
import socket
import struct
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import uvicorn
from PIL import Image

from engine.server import ServerConfig, create_app
from tests._support import eventually

ATTRIBUTION = {
    "X-Skill-Source": "video-generator-ai",
    "X-Skill-Version": "0.1.0",
    "X-Skill-Platform": "unknown",
}
MESSAGE = "Combine these images and audio into a 10-second promotional video with text overlays"


class _Server(uvicorn.Server):
    """uvicorn that says when its startup is over (started or not)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()


@asynccontextmanager
async def running_server(config: ServerConfig) -> AsyncIterator[str]:
    """``create_app(config)`` served by uvicorn on a free loopback port; yields the base URL."""
    async with serve_app(create_app(config)) as base:
        yield base


@asynccontextmanager
async def serve_app(app: Any, config: uvicorn.Config | None = None) -> AsyncIterator[str]:
    """Any ASGI app served by uvicorn on a free loopback port (with ``config`` when given, whose app
    is then the one served); yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(config or uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False))
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve([sock])
        finally:
            stopped.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(15):
            await server.ready.wait()
        assert server.started, "the server did not start"
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            with anyio.fail_after(15):
                await stopped.wait()
    sock.close()


def client(base: str, **kwargs: Any) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=base, trust_env=False, timeout=httpx2.Timeout(30.0), **kwargs)


async def get_token(http: httpx2.AsyncClient, client_id: str = "client-1") -> str:
    response = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": client_id})
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["token"]
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **ATTRIBUTION}


async def new_session(http: httpx2.AsyncClient, token: str) -> str:
    response = await http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers=auth(token),
        json={"task_name": "project", "language": "en"},
    )
    assert response.status_code == 200, response.text
    sid: str = response.json()["data"]["session_id"]
    return sid


async def upload_project_media(
    http: httpx2.AsyncClient, token: str, sid: str, colour: tuple[int, int, int] = (60, 90, 20)
) -> httpx2.Response:
    """Upload three small stills (shades of ``colour``) and a second of music into the session."""
    r, g, b = colour
    files = [("files", (f"p{i}.png", image_bytes("PNG", (r * i, g, b)))) for i in range(3)]
    files.append(("files", ("music.wav", wav_bytes(1.0))))
    return await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)


async def new_project(http: httpx2.AsyncClient, token: str) -> str:
    """A new session holding three stills and some music; returns its id."""
    sid = await new_session(http, token)
    response = await upload_project_media(http, token, sid)
    assert response.status_code == 200, response.text
    return sid


@dataclass
class Frame:
    """One SSE frame as a client sees it."""

    comments: list[str] = field(default_factory=list)
    event: str | None = None
    data: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads("\n".join(self.data))


def parse_sse(raw: str) -> list[Frame]:
    frames: list[Frame] = []
    for block in raw.split("\n\n"):
        if not block:
            continue
        frame = Frame()
        for line in block.split("\n"):
            if line.startswith(":"):
                frame.comments.append(line[1:].strip())
            elif line.startswith("event:"):
                frame.event = line[6:].strip()
            elif line.startswith("data:"):
                frame.data.append(line[5:].removeprefix(" "))
        frames.append(frame)
    return frames


@dataclass
class Turn:
    status: int
    raw: str
    frames: list[Frame]
    broken: bool = False

    @property
    def events(self) -> list[dict[str, Any]]:
        out = []
        for f in self.frames:
            if f.data and f.data != [""]:
                try:
                    obj = f.json
                except json.JSONDecodeError:
                    continue
                if isinstance(obj, dict) and "invocationId" in obj:
                    out.append(obj)
        return out

    @property
    def texts(self) -> list[str]:
        return [
            p["text"]
            for e in self.events
            if not e.get("partial")
            for p in e["content"]["parts"]
            if "text" in p
        ]


async def send_message(
    http: httpx2.AsyncClient, token: str, sid: str, text: str, *, limit_s: float = 60.0
) -> Turn:
    """POST /run_sse and read the stream to its end (or its break)."""
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": sid,
        "new_message": {"role": "user", "parts": [{"text": text}]},
    }
    headers = {**auth(token), "Accept": "text/event-stream"}
    chunks: list[str] = []
    broken = False
    with anyio.fail_after(limit_s):
        async with http.stream("POST", "/run_sse", headers=headers, json=body) as response:
            try:
                async for chunk in response.aiter_text():
                    chunks.append(chunk)
            except httpx2.RemoteProtocolError:
                broken = True
            status = response.status_code
    raw = "".join(chunks)
    return Turn(status, raw, parse_sse(raw), broken)


async def state(http: httpx2.AsyncClient, token: str, sid: str) -> dict[str, Any]:
    response = await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(token))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def wait_render(
    http: httpx2.AsyncClient, token: str, render_id: str, *, limit_s: float = 90.0
) -> dict[str, Any]:
    """Poll the render until it is completed or failed (bounded by count and time)."""
    job: dict[str, Any] = {}

    async def finished() -> bool:
        response = await http.get(f"/api/render/proxy/lambda/{render_id}", headers=auth(token))
        assert response.status_code == 200, response.text
        job.clear()
        job.update(response.json())
        return job.get("status", job.get("data", {}).get("status")) in ("completed", "failed")

    await eventually(finished, f"render {render_id} finishes", limit_s=limit_s, every_s=0.05)
    return job


# -- tiny media -------------------------------------------------------------------------------------


def image_bytes(
    fmt: str = "PNG", color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 36)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


def raw_multipart(
    parts: list[tuple[str, bytes]], boundary: str = "vgboundary7e3a"
) -> tuple[dict[str, str], bytes]:
    """A multipart body with the file names written byte for byte (control characters included)."""
    body = b""
    for name, data in parts:
        body += (
            f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="files"; filename="'
            + name.encode("utf-8")
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body
