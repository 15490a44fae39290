"""Each emulated fault, seen over real HTTP exactly as the module docstring of faults.py promises."""

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from engine.server import FaultConfig, ServerConfig
from engine.server.faults import GUI_PHRASES, TEMPORARY_ISSUE_TEXT
from tests._support import eventually

from ._support import (
    MESSAGE,
    auth,
    client,
    get_token,
    image_bytes,
    new_project,
    new_session,
    running_server,
    send_message,
    state,
    wait_render,
)

pytestmark = pytest.mark.anyio


def _config(tmp_path: Path, **faults: Any) -> ServerConfig:
    return ServerConfig(
        home=tmp_path / "home", faults=FaultConfig(**faults), ping_interval_s=0.05, max_render_height=90
    )


async def test_a_silent_turn_has_no_text_but_the_work_is_done(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, silent_rate=1.0)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        assert turn.texts == []
        drafts = [e["actions"]["stateDelta"]["draft"] for e in turn.events if e["actions"]["stateDelta"]]
        assert len(drafts) == 2
        assert (await state(http, token, sid))["state"]["draft"] == drafts[-1]


async def test_gui_speak_is_added_to_every_text(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, gui_speak=True)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        assert len(turn.texts) >= 2
        assert [t.endswith(GUI_PHRASES[i % 3]) for i, t in enumerate(turn.texts)] == [True] * len(turn.texts)
        assert any("打开" in t for t in turn.texts)


async def test_a_keepalive_stretch_comes_before_any_event(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, keepalive_only_s=0.3)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        first_event = next(i for i, f in enumerate(turn.frames) if f.data and f.data[0].startswith('{"id"'))
        before = turn.frames[:first_event]
        assert len(before) >= 4
        assert any(f.comments == ["ping"] for f in before)
        assert any(f.event is None and f.data == [""] for f in before)
        assert any(f.event == "heartbeat" for f in before)
        assert any(f.data == ['{"type":"heartbeat"}'] for f in before)
        assert turn.texts


async def test_a_dropped_stream_breaks_mid_turn_and_the_turn_still_completes(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, drop_stream_after=2)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        assert turn.broken
        assert len(turn.events) == 2
        latest: dict[str, Any] = {}

        async def turn_over() -> bool:
            latest.update(await state(http, token, sid))
            return not latest["busy"]

        await eventually(turn_over, "the turn ends after the dropped stream", limit_s=10, every_s=0.05)
        assert latest["revision"] == 2
        assert latest["state"]["draft"]["t"]


async def test_a_trailing_temporary_issue_follows_the_normal_events(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, trailing_temporary_issue=True)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        assert turn.texts[-1] == TEMPORARY_ISSUE_TEXT
        assert any("Timeline (" in t for t in turn.texts[:-1])


async def test_streaming_partials_come_before_one_final_event_with_the_same_id(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, streaming_partials=True)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        partials = [e for e in turn.events if e.get("partial")]
        finals = [
            e for e in turn.events if not e.get("partial") and "text" in (e["content"]["parts"] or [{}])[0]
        ]
        assert partials
        for final in finals:
            chunks = [e["content"]["parts"][0]["text"] for e in partials if e["id"] == final["id"]]
            assert chunks, "each text is also sent in chunks"
            assert "".join(chunks) == final["content"]["parts"][0]["text"]
            assert all(e["partial"] is True for e in partials if e["id"] == final["id"])


@pytest.mark.parametrize("style", ["json", "unescaped"])
async def test_a_stream_error_fails_the_turn_inside_the_stream_and_changes_nothing(
    tmp_path: Path, style: str
) -> None:
    async with running_server(_config(tmp_path, stream_error=style)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        before = (await http.get("/api/credits/balance/simple", headers=auth(token))).json()["data"]
        turn = await send_message(http, token, sid, MESSAGE)
        assert turn.status == 200
        assert not turn.broken
        data_frames = [f for f in turn.frames if f.data]
        assert len(data_frames) == 1
        line = data_frames[0].data[0]
        assert line.startswith('{"error":"The agent failed')
        if style == "json":
            assert json.loads(line)["error_details"] == {"code": "INTERNAL", "session_id": sid}
        else:
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        assert (await state(http, token, sid))["revision"] is None
        after = (await http.get("/api/credits/balance/simple", headers=auth(token))).json()["data"]
        assert after == before
        second = await send_message(http, token, sid, MESSAGE)  # error_times=1: the next turn is normal
        assert second.texts


ENVELOPE = {1001: 401, 1002: 404, 2001: 403, 4001: 415, 4002: 413}
PLAIN = {400: 400, 402: 402, 429: 429}


async def test_each_injected_error_answers_with_its_code_and_status_then_stops(tmp_path: Path) -> None:
    errors = {
        "anonymous_token": 429,
        "create_session": 1001,
        "claim_token": 1002,
        "run_sse": 2001,
        "upload": 4002,
        "state": 4001,
        "credits": 400,
        "render": 402,
    }
    async with running_server(_config(tmp_path, errors=errors, error_times=2)) as base, client(base) as http:
        calls = {
            "anonymous_token": lambda t, s: http.post(
                "/api/auth/anonymous-token", headers={"X-Client-Id": "c"}
            ),
            "create_session": lambda t, s: http.post(
                "/api/tasks/me/with-session/nemo_agent", headers=auth(t), json={}
            ),
            "claim_token": lambda t, s: http.post(
                "/api/auth/claim-token", headers=auth(t), json={"session_id": s, "task_id": None}
            ),
            "run_sse": lambda t, s: http.post(
                "/run_sse",
                headers=auth(t),
                json={"session_id": s, "new_message": {"parts": [{"text": "what can you do?"}]}},
            ),
            "upload": lambda t, s: http.post(
                f"/api/upload-video/nemo_agent/me/{s}",
                headers=auth(t),
                files={"files": ("a.png", image_bytes())},
            ),
            "state": lambda t, s: http.get(f"/api/state/nemo_agent/me/{s}/latest", headers=auth(t)),
            "credits": lambda t, s: http.get("/api/credits/balance/simple", headers=auth(t)),
            "render": lambda t, s: http.post(
                "/api/render/proxy/lambda", headers=auth(t), json={"id": "render_x", "sessionId": s}
            ),
        }
        first = await calls["anonymous_token"]("", "")
        assert first.status_code == 429
        assert first.headers["x-videogen-fault"] == "anonymous_token"
        assert first.headers["retry-after"] == "30"
        assert (await calls["anonymous_token"]("", "")).status_code == 429
        token = await get_token(http, "c")
        for _ in range(2):
            assert (await calls["create_session"](token, "")).json()["code"] == 1001
        sid = await new_session(http, token)
        for endpoint, code in errors.items():
            if endpoint in ("anonymous_token", "create_session"):
                continue
            for _ in range(2):
                response = await calls[endpoint](token, sid)
                assert response.headers["x-videogen-fault"] == endpoint
                if code in ENVELOPE:
                    assert response.status_code == ENVELOPE[code]
                    assert response.json()["code"] == code
                    assert response.json()["message"]
                else:
                    assert response.status_code == PLAIN[code]
                    assert response.json()["detail"]
            after = await calls[endpoint](token, sid)
            assert "x-videogen-fault" not in after.headers, endpoint
            assert after.status_code != code
        assert (await state(http, token, sid))["state"]["video_infos"] != []  # the third upload went through


async def _rendered_session(http: httpx2.AsyncClient) -> tuple[str, str, dict[str, Any]]:
    token = await get_token(http)
    sid = await new_project(http, token)
    await send_message(http, token, sid, MESSAGE)
    await send_message(http, token, sid, "make the video 2 seconds long")
    draft = (await state(http, token, sid))["state"]["draft"]
    return token, sid, draft


async def test_a_render_fails_once_then_a_new_id_renders(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, render_fail_once=True)) as base, client(base) as http:
        token, sid, draft = await _rendered_session(http)
        body = {"sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "low"}}
        await http.post("/api/render/proxy/lambda", headers=auth(token), json={"id": "render_1", **body})
        failed = await wait_render(http, token, "render_1")
        assert failed["status"] == "failed"
        assert "submit the render again with a new id" in failed["error"]
        assert failed["output"] is None
        await http.post("/api/render/proxy/lambda", headers=auth(token), json={"id": "render_2", **body})
        assert (await wait_render(http, token, "render_2"))["status"] == "completed"
        # the failed one is still failed, and has no file
        download = await http.get("/api/render/proxy/render_1/download", headers=auth(token))
        assert download.json()["code"] == 4009


async def test_render_status_shape_b_carries_success_data_and_output_url(tmp_path: Path) -> None:
    async with running_server(_config(tmp_path, render_status_shape="B")) as base, client(base) as http:
        token, sid, draft = await _rendered_session(http)
        submitted = await http.post(
            "/api/render/proxy/lambda",
            headers=auth(token),
            json={"id": "render_b", "sessionId": sid, "draft": draft},
        )
        assert submitted.json()["success"] is True
        job = await wait_render(http, token, "render_b")
        assert job["success"] is True
        assert set(job["data"]) == {"id", "status", "progress", "outputUrl"}
        assert job["data"]["status"] == "completed"
        assert job["data"]["progress"] == 100
        video = await http.get(job["data"]["outputUrl"])
        assert video.status_code == 200
        assert video.headers["content-type"] == "video/mp4"
