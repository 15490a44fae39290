"""Load test of the local engine over loopback HTTP: concurrent sessions editing and rendering.

Each session: uploads three stills and a WAV, generates a 10-second video, then sends EDITS edits
(every one changes the draft) and submits RENDERS tiny renders along the way (at most 90 px tall).
Checks: no request fails, every draft a turn streamed is stored (the session's head revision is
the count of streamed drafts and its draft is the last one streamed), every render completes.
Prints p50/p95 edit latency (POST /run_sse to the end of the stream). Bounded: a fixed amount of
work and an overall time limit; it stops by itself, and exits 1 on any error or lost revision.

    .venv/bin/python bench/load_test.py                       # 20 sessions x 10 edits + 2 renders
    .venv/bin/python bench/load_test.py --sessions 5 --edits 4 --renders 1
    .venv/bin/python bench/load_test.py --url http://127.0.0.1:8765   # against a running engine

Without --url it starts ``python -m engine.server`` on a free port with a temporary home (its own
process, so the clients and the server do not share one interpreter) and stops it at the end. With
--url, each run asks for ceil(sessions / 4) new anonymous tokens, and the engine allows 10 per
address per week: use a fresh engine home for repeated runs.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import struct
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from PIL import Image

ATTRIBUTION = {
    "X-Skill-Source": "video-generator-ai",
    "X-Skill-Version": "0.1.0",
    "X-Skill-Platform": "unknown",
}
GENERATE = "Combine these images and audio into a 10-second promotional video with text overlays"
EDITS = (
    "make the video 8 seconds long",
    "add the text 'Big Sale' at 2 seconds",
    "make the video 6 seconds long",
    "set the music volume to 20%",
    "add the text 'Shop now' at 4 seconds",
    "make the video 4 seconds long",
    "use fade transitions everywhere",
    "set the music volume to 50%",
    "make the video 3 seconds long",
    "make the video 2 seconds long",
)
SESSIONS_PER_CLIENT = 4  # the engine allows 10 new tokens per address per week
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Report:
    sessions: int
    edits_per_session: int
    renders_per_session: int
    edit_latencies: list[float] = field(default_factory=list)
    generate_latencies: list[float] = field(default_factory=list)
    render_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lost_revisions: list[str] = field(default_factory=list)
    revisions_stored: int = 0
    renders_completed: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.lost_revisions

    def lines(self) -> list[str]:
        edit_p50, edit_p95 = percentile(self.edit_latencies, 50), percentile(self.edit_latencies, 95)
        edit_max = max(self.edit_latencies, default=0.0)
        gen_p50 = percentile(self.generate_latencies, 50)
        render_p50, render_p95 = percentile(self.render_latencies, 50), percentile(self.render_latencies, 95)
        return [
            f"load test: {self.sessions} sessions x {self.edits_per_session} edits "
            f"+ {self.renders_per_session} renders each, concurrently",
            f"edits: {len(self.edit_latencies)} ok; latency p50 {edit_p50:.3f} s, p95 {edit_p95:.3f} s, "
            f"max {edit_max:.3f} s",
            f"generations: {len(self.generate_latencies)} ok; p50 {gen_p50:.3f} s",
            f"renders: {self.renders_completed} completed; submit-to-done p50 {render_p50:.2f} s, "
            f"p95 {render_p95:.2f} s",
            f"revisions: {self.revisions_stored} stored, {len(self.lost_revisions)} lost",
            f"errors: {len(self.errors)}" + "".join(f"\n  - {e}" for e in self.errors[:20]),
            f"wall time: {self.wall_s:.1f} s",
        ]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 330 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return buffer.getvalue()


class _Failure(Exception):
    pass


def _check(response: httpx2.Response, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise _Failure(f"{what}: HTTP {response.status_code} {response.text[:200]}")
    body: dict[str, Any] = response.json()
    if body.get("code", 0) != 0:
        raise _Failure(f"{what}: code {body.get('code')} {body.get('message')}")
    return body


async def _turn(
    http: httpx2.AsyncClient, headers: dict[str, str], sid: str, text: str
) -> tuple[float, list[Any]]:
    """Send one message; (seconds to the end of the stream, drafts streamed)."""
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": sid,
        "new_message": {"role": "user", "parts": [{"text": text}]},
    }
    started = time.perf_counter()
    raw = ""
    async with http.stream(
        "POST", "/run_sse", headers={**headers, "Accept": "text/event-stream"}, json=body
    ) as response:
        if response.status_code != 200:
            await response.aread()
            raise _Failure(f"message {text!r}: HTTP {response.status_code} {response.text[:200]}")
        async for chunk in response.aiter_text():
            raw += chunk
    elapsed = time.perf_counter() - started
    drafts: list[Any] = []
    for block in raw.split("\n\n"):
        for line in block.split("\n"):
            if not line.startswith("data: ") or line == "data: ":
                continue
            event = json.loads(line[6:])
            if "error" in event:
                raise _Failure(f"message {text!r}: error in the stream: {event['error']}")
            if event.get("actions", {}).get("stateDelta", {}).get("draft") is not None:
                drafts.append(event["actions"]["stateDelta"]["draft"])
    return elapsed, drafts


async def _render(
    http: httpx2.AsyncClient, headers: dict[str, str], sid: str, render_id: str, report: Report
) -> None:
    started = time.perf_counter()
    _check(
        await http.post(
            "/api/render/proxy/lambda",
            headers=headers,
            json={"id": render_id, "sessionId": sid, "output": {"format": "mp4", "quality": "low"}},
        ),
        f"render {render_id}",
    )
    for _ in range(3000):  # at most 150 s of polling at 0.05 s
        job = (await http.get(f"/api/render/proxy/lambda/{render_id}", headers=headers)).json()
        if job.get("status") == "completed":
            report.render_latencies.append(time.perf_counter() - started)
            report.renders_completed += 1
            return
        if job.get("status") == "failed":
            raise _Failure(f"render {render_id} failed: {job.get('error')}")
        await anyio.sleep(0.05)
    raise _Failure(f"render {render_id} did not finish")


async def _session(http: httpx2.AsyncClient, token: str, index: int, report: Report) -> None:
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
    created = _check(
        await http.post(
            "/api/tasks/me/with-session/nemo_agent", headers=headers, json={"task_name": "project"}
        ),
        "create session",
    )
    sid = created["data"]["session_id"]
    files = [("files", (f"still{i}.png", _png((40 * i + index % 40, 80, 160)))) for i in range(3)]
    files.append(("files", ("music.wav", _wav())))
    _check(await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=headers, files=files), "upload")

    streamed: list[Any] = []
    elapsed, drafts = await _turn(http, headers, sid, GENERATE)
    report.generate_latencies.append(elapsed)
    streamed += drafts
    render_points = (
        {
            round((k + 1) * report.edits_per_session / report.renders_per_session) - 1
            for k in range(report.renders_per_session)
        }
        if report.renders_per_session
        else set()
    )
    async with anyio.create_task_group() as renders:
        for i in range(report.edits_per_session):
            edit = EDITS[i % len(EDITS)]
            elapsed, drafts = await _turn(http, headers, sid, edit)
            if not drafts:
                raise _Failure(f"session {index}: edit {edit!r} streamed no draft")
            report.edit_latencies.append(elapsed)
            streamed += drafts
            if i in render_points:
                renders.start_soon(_render, http, headers, sid, f"render_{index}_{i}", report)

    latest = _check(await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers), "state")[
        "data"
    ]
    report.revisions_stored += latest["revision"] or 0
    if latest["revision"] != len(streamed):
        report.lost_revisions.append(
            f"session {index}: head revision {latest['revision']}, {len(streamed)} drafts streamed"
        )
    elif latest["state"]["draft"] != streamed[-1]:
        report.lost_revisions.append(f"session {index}: the stored draft is not the last one streamed")


async def run_load(base: str, *, sessions: int, edits: int, renders: int, limit_s: float) -> Report:
    """Run the load against the engine at ``base``; never raises for a failed request (it is reported)."""
    report = Report(sessions=sessions, edits_per_session=edits, renders_per_session=renders)
    started = time.perf_counter()
    limits = httpx2.Limits(max_connections=sessions * 3 + 4, max_keepalive_connections=sessions * 3 + 4)
    async with httpx2.AsyncClient(
        base_url=base, trust_env=False, timeout=httpx2.Timeout(120.0), limits=limits
    ) as http:
        tokens: list[str] = []
        for c in range(math.ceil(sessions / SESSIONS_PER_CLIENT)):
            response = await http.post(
                "/api/auth/anonymous-token", headers={"X-Client-Id": f"load-{os.getpid()}-{c}"}
            )
            tokens.append(_check(response, "anonymous token")["data"]["token"])

        async def one(index: int) -> None:
            try:
                await _session(http, tokens[index // SESSIONS_PER_CLIENT], index, report)
            except (_Failure, httpx2.HTTPError, json.JSONDecodeError, KeyError) as exc:
                report.errors.append(f"session {index}: {type(exc).__name__}: {exc}")

        try:
            with anyio.fail_after(limit_s):
                async with anyio.create_task_group() as tg:
                    for index in range(sessions):
                        tg.start_soon(one, index)
        except TimeoutError:
            report.errors.append(f"the load did not finish within {limit_s:g} s")
    report.wall_s = time.perf_counter() - started
    return report


@asynccontextmanager
async def engine_subprocess(home: Path, max_concurrent_renders: int) -> AsyncIterator[str]:
    argv = [
        sys.executable, "-m", "engine.server", "--port", "0", "--home", str(home),
        "--max-render-height", "90", "--max-concurrent-renders", str(max_concurrent_renders),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "VIDEOGEN_FAULTS"}
    process = await anyio.open_process(argv, cwd=REPO, env=env, stderr=None)
    try:
        assert process.stdout is not None
        seen = b""
        with anyio.fail_after(60):
            while b"\n" not in seen:
                seen += await process.stdout.receive()
        found = re.search(rb"ready on (http://127\.0\.0\.1:\d+)", seen)
        if found is None:
            raise RuntimeError(f"the engine did not start: {seen!r}")
        yield found.group(1).decode()
    finally:
        if process.returncode is None:
            process.terminate()
            with anyio.fail_after(30):
                await process.wait()


async def _main(args: argparse.Namespace) -> int:
    if args.url:
        report = await run_load(
            args.url, sessions=args.sessions, edits=args.edits, renders=args.renders, limit_s=args.time_limit
        )
    else:
        with tempfile.TemporaryDirectory(prefix="videogen-load-") as home:
            async with engine_subprocess(Path(home), args.max_concurrent_renders) as base:
                report = await run_load(
                    base,
                    sessions=args.sessions,
                    edits=args.edits,
                    renders=args.renders,
                    limit_s=args.time_limit,
                )
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--renders", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds before the run gives up")
    parser.add_argument("--max-concurrent-renders", type=int, default=2)
    parser.add_argument("--url", help="an engine already running (default: start one)")
    return anyio.run(_main, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
