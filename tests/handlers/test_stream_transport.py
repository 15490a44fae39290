"""The streaming in-process transport and the SSE path through httpx2's real parser."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from handlers._config import Config
from handlers._errors import StreamDroppedError
from handlers._http import ApiClient
from handlers._sse import TextEvent, TurnLog, parse_frame
from handlers._transport import StreamingASGITransport
from handlers.tools.export import container_matches, parse_render_status

pytestmark = pytest.mark.anyio


class ScriptedSSE:
    """A tiny ASGI app: POST /run_sse answers the given chunks, waiting on `gate` before the rest."""

    def __init__(self, first: list[bytes], rest: list[bytes], *, finish: bool = True) -> None:
        self.first, self.rest, self.finish = first, rest, finish
        self.gate = anyio.Event()
        self.disconnected = anyio.Event()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for chunk in self.first:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await self.gate.wait()
        for chunk in self.rest:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if self.finish:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            return  # returns mid-body: a dropped connection
        if (await receive())["type"] == "http.disconnect":
            self.disconnected.set()


def config(tmp_path: Path, skill_md: Path) -> Config:
    # NEMO_TOKEN given: no anonymous-token call is needed by this scripted app
    return Config.from_env(
        {"NEMO_TOKEN": "nmv_usr_test", "NEMO_API_URL": "http://scripted"},
        config_dir=tmp_path,
        skill_md=skill_md,
    )


async def collect(
    app: ScriptedSSE, cfg: Config, *, release_after: int
) -> tuple[list[tuple[str, str]], list[str]]:
    frames: list[tuple[str, str]] = []
    chunks: list[str] = []

    def on_chunk(chunk: bytes) -> None:
        chunks.append(chunk.decode("utf-8", "replace"))

    async with (
        StreamingASGITransport(app) as transport,
        ApiClient(cfg, transport=transport) as api,
        api.run_sse({"x": 1}, on_chunk=on_chunk) as stream,
    ):
        async for frame in stream:
            frames.append(frame)
            if len(frames) == release_after:
                app.gate.set()  # only possible if this frame arrived before the app finished
    return frames, chunks


async def test_frames_arrive_while_the_app_is_still_sending(tmp_path: Path, skill_md: Path) -> None:
    app = ScriptedSSE(
        [b'data: {"type":"text","content":"first"}\n\n'], [b'data: {"type":"text","content":"second"}\n\n']
    )
    with anyio.fail_after(5):
        frames, _ = await collect(app, config(tmp_path, skill_md), release_after=1)
    assert [data for _event, data in frames] == [
        '{"type":"text","content":"first"}',
        '{"type":"text","content":"second"}',
    ]


async def test_u2028_in_json_split_across_chunks_survives_the_real_parser(
    tmp_path: Path, skill_md: Path
) -> None:
    payload = '{"id":"e1","content":{"role":"model","parts":[{"text":"one\u2028two\u2029three"}]}}'.encode()
    cut = payload.index("\u2028".encode()) + 1  # split inside the multi-byte character
    app = ScriptedSSE(
        [b": ping\n\n", b"event: heartbeat\ndata: \n\n", b"data: " + payload[:cut]],
        [payload[cut:] + b"\r\n\r\n", b'data: {"type":"heartbeat"}\n\n'],
    )
    with anyio.fail_after(5):
        frames, chunks = await collect(app, config(tmp_path, skill_md), release_after=1)
    log = TurnLog()
    for frame in frames:
        for event in parse_frame(*frame):
            log.feed(event)
    assert log.texts == ["one\u2028two\u2029three"]
    assert any(chunk.startswith(": ping") for chunk in chunks)  # comments are seen (as heartbeats)
    texts = [e for f in frames for e in parse_frame(*f) if isinstance(e, TextEvent)]
    assert texts[0].event_id == "e1"


async def test_a_body_that_ends_without_its_terminator_is_a_dropped_stream(
    tmp_path: Path, skill_md: Path
) -> None:
    app = ScriptedSSE([b'data: {"type":"text","content":"partial"}\n\n'], [], finish=False)
    with anyio.fail_after(5), pytest.raises(StreamDroppedError):
        await collect(app, config(tmp_path, skill_md), release_after=1)


async def test_closing_a_stream_early_tells_the_app_the_client_left(tmp_path: Path, skill_md: Path) -> None:
    app = ScriptedSSE([b"data: {}\n\n"], [])
    app.gate.set()
    cfg = config(tmp_path, skill_md)
    with anyio.fail_after(5):
        async with StreamingASGITransport(app) as transport, ApiClient(cfg, transport=transport) as api:
            async with api.run_sse({}) as stream:
                async for _frame in stream:
                    break
            await app.disconnected.wait()


def test_both_render_status_shapes_are_read() -> None:
    a = parse_render_status(
        {
            "id": "r",
            "status": "completed",
            "progress": 100,
            "output": {"url": "http://x/r.mp4", "duration": 5.0, "size": 9},
        }
    )
    assert (a.status, a.url, a.duration_s, a.size) == ("completed", "http://x/r.mp4", 5.0, 9)
    b = parse_render_status(
        {"success": True, "data": {"id": "r", "status": "processing", "progress": 40, "outputUrl": None}}
    )
    assert (b.status, b.progress, b.url) == ("processing", 40.0, None)
    failed = parse_render_status({"id": "r", "status": "failed", "error": "worker stopped"})
    assert (failed.status, failed.error) == ("failed", "worker stopped")


def test_containers_are_recognised_by_their_magic_bytes() -> None:
    assert container_matches(b"\x00\x00\x00\x20ftypisom\x00\x00", "mp4")
    assert container_matches(b"\x00\x00\x00\x14ftypqt  \x00\x00", "mov")
    assert container_matches(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "webm")
    assert container_matches(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "mkv")
    assert container_matches(b"RIFF\x10\x00\x00\x00AVI LIST", "avi")
    assert not container_matches(b"<html><body>error", "mp4")
    assert not container_matches(b'{"code": 5000}', "webm")
    assert not container_matches(b"", "avi")
