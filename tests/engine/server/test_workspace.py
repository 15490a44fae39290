"""The workspace page's API over real HTTP: claim tokens required, CSRF refused, the view, live events,
messages, uploads, exports and history (the browser tests drive the same endpoints through the page)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from engine.server import FaultConfig, ServerConfig
from engine.server._workspace import lanes
from engine.server.config import Limits
from engine.timeline import add_text, new_draft
from tests.engine.server._support import (
    MESSAGE,
    auth,
    client,
    get_token,
    image_bytes,
    new_session,
    parse_sse,
    raw_multipart,
    running_server,
    send_message,
    wav_bytes,
)

pytestmark = pytest.mark.anyio


@dataclass
class Project:
    http: httpx2.AsyncClient
    token: str
    sid: str
    task_id: str
    ct: str
    csrf: str

    @property
    def read(self) -> dict[str, str]:
        return {"X-Claim-Token": self.ct}

    @property
    def act(self) -> dict[str, str]:
        return {"X-Claim-Token": self.ct, "X-CSRF-Token": self.csrf}

    async def view(self) -> dict[str, Any]:
        response = await self.http.get("/workspace/api/state", headers=self.read)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def claim(http: httpx2.AsyncClient, token: str, sid: str) -> str:
    response = await http.post("/api/auth/claim-token", headers=auth(token), json={"session_id": sid})
    assert response.status_code == 200, response.text
    ct: str = response.json()["data"]["claim_token"]
    return ct


@pytest.fixture
async def project(tmp_path: Path) -> AsyncIterator[Project]:
    config = ServerConfig(
        home=tmp_path / "home", faults=FaultConfig(), max_render_height=90, ping_interval_s=0.2
    )
    async with running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        state = await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(token))
        ct = await claim(http, token, sid)
        page = await http.get("/workspace/claim", params={"ct": ct})
        assert page.status_code == 200, page.text
        match = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
        assert match, page.text
        yield Project(http, token, sid, state.json()["data"]["task_id"], ct, match.group(1))


async def upload_media(p: Project) -> list[str]:
    headers, body = raw_multipart(
        [
            ("one.png", image_bytes()),
            ("two.png", image_bytes(color=(20, 120, 200))),
            ("tune.wav", wav_bytes(2)),
        ]
    )
    response = await p.http.post("/workspace/api/upload", headers={**p.act, **headers}, content=body)
    assert response.status_code == 200, response.text
    return [f["filename"] for f in response.json()["files"]]


async def workspace_message(p: Project, text: str) -> str:
    with anyio.fail_after(60):
        response = await p.http.post("/workspace/api/message", headers=p.act, json={"text": text})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    texts = [
        part["text"]
        for frame in parse_sse(response.text)
        if frame.data
        for part in frame.json["content"]["parts"]
        if "text" in part and not frame.json.get("partial")
    ]
    return "\n".join(texts)


async def test_the_page_opens_only_with_a_live_claim_token(project: Project) -> None:
    p = project
    by_ids = await p.http.get("/workspace/claim", params={"task": p.task_id, "session": p.sid})
    assert by_ids.status_code == 404
    assert "no claim token" in by_ids.text
    assert p.sid not in by_ids.text
    unknown = await p.http.get("/workspace/claim", params={"ct": "clm_unknown"})
    assert unknown.status_code == 404
    assert "unknown or has expired" in unknown.text
    page = await p.http.get("/workspace/claim", params={"ct": p.ct})
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'src="/workspace/static/workspace.js"' in page.text
    script = await p.http.get("/workspace/static/workspace.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text  # the page writes server values with textContent only
    assert (await p.http.get("/workspace/static/../_app.py")).status_code == 404


async def test_every_api_call_needs_the_claim_token(project: Project) -> None:
    p = project
    for method, path in [
        ("GET", "/workspace/api/state"),
        ("GET", "/workspace/api/events"),
        ("GET", "/workspace/api/storyboard"),
        ("POST", "/workspace/api/message"),
        ("POST", "/workspace/api/export"),
        ("POST", "/workspace/api/history"),
        ("POST", "/workspace/api/upload"),
    ]:
        missing = await p.http.request(method, path, json={})
        assert missing.status_code == 401, (path, missing.text)
        assert "claim token" in missing.json()["detail"]
        wrong = await p.http.request(method, path, json={}, headers={"X-Claim-Token": "clm_forged"})
        assert wrong.status_code == 401, (path, wrong.text)
        assert p.sid not in wrong.text


async def test_actions_from_another_site_or_without_the_page_token_are_refused(project: Project) -> None:
    p = project
    body = {"text": "add the title Hacked"}
    no_csrf = await p.http.post("/workspace/api/message", headers=p.read, json=body)
    assert no_csrf.status_code == 403
    assert "reload the page" in no_csrf.json()["detail"]
    forged = await p.http.post(
        "/workspace/api/message", headers={**p.read, "X-CSRF-Token": "0" * 64}, json=body
    )
    assert forged.status_code == 403
    cross_site = await p.http.post(
        "/workspace/api/message", headers={**p.act, "Sec-Fetch-Site": "cross-site"}, json=body
    )
    assert cross_site.status_code == 403
    assert "cross-site" in cross_site.json()["detail"]
    other_origin = await p.http.post(
        "/workspace/api/message", headers={**p.act, "Origin": "http://evil.example"}, json=body
    )
    assert other_origin.status_code == 403
    assert "access-control-allow-origin" not in other_origin.headers
    assert (await p.view())["conversation"] == []  # nothing was sent


async def test_a_message_from_the_page_changes_the_lanes_and_the_history_undo_and_redo_move_it(
    project: Project,
) -> None:
    p = project
    names = await upload_media(p)
    assert names == ["one.png", "two.png", "tune.wav"]
    empty = await p.view()
    assert [lane["kind"] for lane in empty["lanes"]] == ["video", "voiceover", "music", "text"]
    assert all(not lane["segments"] for lane in empty["lanes"])
    assert [u["filename"] for u in empty["uploads"]] == names

    reply = await workspace_message(p, MESSAGE)
    assert reply
    first = await p.view()
    video = next(lane for lane in first["lanes"] if lane["kind"] == "video")
    assert len(video["segments"]) == 2
    assert video["segments"][0]["start_ms"] == 0
    assert video["segments"][-1]["end_ms"] == first["duration_ms"]
    assert first["conversation"][-1]["message"] == MESSAGE
    assert first["conversation"][-1]["reply"]

    await workspace_message(p, 'add the title "Summer <b>Trip</b>"')
    second = await p.view()
    texts = [seg["name"] for lane in second["lanes"] if lane["kind"] == "text" for seg in lane["segments"]]
    assert "Summer <b>Trip</b>" in texts
    latest = second["history"][-1]
    assert latest["current"]
    assert "Summer <b>Trip</b>" in latest["change"]
    assert latest["message"] == 'add the title "Summer <b>Trip</b>"'
    assert second["undo"] is not None

    undo = await p.http.post("/workspace/api/history", headers=p.act, json={"action": "undo"})
    assert undo.status_code == 200, undo.text
    after_undo = await p.view()
    assert after_undo["revision"] == second["undo"]
    assert after_undo["redo"] == second["revision"]
    names = [seg["name"] for lane in after_undo["lanes"] for seg in lane["segments"]]
    assert not any(name.startswith("Summer") for name in names)
    redo = await p.http.post("/workspace/api/history", headers=p.act, json={"action": "redo"})
    assert redo.status_code == 200, redo.text
    assert (await p.view())["revision"] == second["revision"]
    back = await p.http.post(
        "/workspace/api/history", headers=p.act, json={"action": "restore", "to": first["revision"]}
    )
    assert back.status_code == 200, back.text
    assert (await p.view())["revision"] == first["revision"]
    bad = await p.http.post("/workspace/api/history", headers=p.act, json={"action": "restore", "to": 999})
    assert bad.status_code == 422
    assert "not part of this project" in bad.json()["message"]


async def test_the_event_stream_reports_a_change_made_through_the_api(project: Project) -> None:
    p = project
    await upload_media(p)
    marks: list[str] = []
    with anyio.fail_after(60):
        async with p.http.stream("GET", "/workspace/api/events", headers=p.read) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            buffer = ""
            async for chunk in stream.aiter_text():
                buffer += chunk
                while "\n\n" in buffer:
                    frame, buffer = buffer.split("\n\n", 1)
                    if frame.startswith("event: change"):
                        marks.append(frame)
                        if len(marks) == 1:  # the agent changes the project through the tools' API
                            turn = await send_message(p.http, p.token, p.sid, MESSAGE)
                            assert turn.status == 200
                if len(marks) >= 2:
                    break
    assert len(marks) >= 2
    assert marks[0] != marks[-1]


@pytest.mark.slow
async def test_export_and_preview_render_and_the_view_links_them(project: Project) -> None:
    p = project
    early = await p.http.post("/workspace/api/export", headers=p.act, json={"preview": True})
    assert early.status_code == 422
    assert "nothing on the timeline" in early.json()["message"]
    await upload_media(p)
    await workspace_message(p, MESSAGE)
    bad = await p.http.post("/workspace/api/export", headers=p.act, json={"format": "gif"})
    assert bad.status_code == 422
    assert "not supported" in bad.json()["message"]
    preview = await p.http.post("/workspace/api/export", headers=p.act, json={"preview": True})
    assert preview.status_code == 200, preview.text
    job = await p.http.post("/workspace/api/export", headers=p.act, json={"format": "webm", "quality": "low"})
    assert job.status_code == 200, job.text
    with anyio.fail_after(120):
        while True:
            renders = (await p.view())["renders"]
            if all(r["status"] in ("completed", "failed") for r in renders):
                break
            await anyio.sleep(0.1)
    assert [(r["preview"], r["status"], r["format"]) for r in renders] == [
        (True, "completed", "mp4"),
        (False, "completed", "webm"),
    ]
    video = await p.http.get(renders[1]["url"])
    assert video.status_code == 200
    assert video.content[:4] == b"\x1a\x45\xdf\xa3"  # a WebM (Matroska) file
    board = await p.http.get("/workspace/api/storyboard", headers=p.read)
    assert board.status_code == 200
    assert board.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_the_pages_messages_and_uploads_keep_the_engines_limits(tmp_path: Path) -> None:
    limits = Limits(max_message_chars=40, upload_quota_bytes=2000)
    config = ServerConfig(home=tmp_path / "home", faults=FaultConfig(), limits=limits)
    async with running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        ct = await claim(http, token, sid)
        page = await http.get("/workspace/claim", params={"ct": ct})
        match = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
        assert match
        act = {"X-Claim-Token": ct, "X-CSRF-Token": match.group(1)}
        long = await http.post("/workspace/api/message", headers=act, json={"text": "word " * 20})
        assert long.status_code == 422
        assert "max_message_chars" in long.json()["message"]
        headers, body = raw_multipart([("tone.wav", wav_bytes(1))])
        over = await http.post("/workspace/api/upload", headers={**act, **headers}, content=body)
        assert over.status_code == 413, over.text
        state = await http.get("/workspace/api/state", headers={"X-Claim-Token": ct})
        assert state.json()["uploads"] == []
        assert state.json()["conversation"] == []


def test_lanes_are_in_a_fixed_order_with_names_times_and_empty_lanes() -> None:
    draft = add_text(new_draft(title="T"), "Hello", st=500, d_ms=1500)
    draft["t"].insert(
        0,
        {
            "id": "a1",
            "tt": 1,
            "role": "voiceover",
            "sg": [{"id": "s7", "st": 0, "d": 2000, "src": "up_1", "vol": 1}],
        },
    )
    out = lanes(draft, {"up_1": "voice.wav"})
    assert [lane["kind"] for lane in out] == ["video", "voiceover", "music", "text"]
    assert out[0]["segments"] == []
    assert out[2]["segments"] == []
    assert out[1]["segments"] == [
        {"id": "s7", "name": "voice.wav", "kind": "audio", "start_ms": 0, "end_ms": 2000}
    ]
    assert out[3]["segments"][0]["name"] == "Hello"
    assert (out[3]["segments"][0]["start_ms"], out[3]["segments"][0]["end_ms"]) == (500, 2000)
