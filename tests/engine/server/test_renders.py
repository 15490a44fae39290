"""Render jobs: idempotent ids, checked drafts, one file per finished job."""

from pathlib import Path

import pytest

from engine.server import ServerConfig
from tests._support import eventually

from ._support import (
    MESSAGE,
    auth,
    client,
    get_token,
    image_bytes,
    new_session,
    running_server,
    send_message,
    state,
    wait_render,
)

pytestmark = pytest.mark.anyio


async def test_a_second_post_with_the_same_render_id_returns_the_existing_job(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with running_server(ServerConfig(home=home, max_render_height=90)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        files = [("files", (f"p{i}.png", image_bytes("PNG", (80 * i, 40, 40)))) for i in range(2)]
        await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        await send_message(http, token, sid, "Combine these images into a 2-second video")
        first = await http.post(
            "/api/render/proxy/lambda",
            headers=auth(token),
            json={"id": "render_42", "sessionId": sid, "output": {"format": "mp4", "quality": "low"}},
        )
        again = await http.post(
            "/api/render/proxy/lambda",
            headers=auth(token),
            json={"id": "render_42", "sessionId": sid, "output": {"format": "webm"}},
        )
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"] == "render_42"
        job = await wait_render(http, token, "render_42")
        assert job["status"] == "completed"
        assert job["output"]["url"].endswith("/render_42.mp4")
        replay = await http.post(
            "/api/render/proxy/lambda", headers=auth(token), json={"id": "render_42", "sessionId": sid}
        )
        assert replay.json() == job
        assert [p.suffix for p in (home / "renders").iterdir()] == [".mp4"]
        media = (await state(http, token, sid))["state"]["generated_media"]
        assert [(m["id"], m["format"]) for m in media] == [("render_42", "mp4")]


async def test_a_render_request_is_checked_before_a_job_starts(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path / "home")) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)

        async def submit(body: dict[str, object]) -> tuple[int, dict[str, object]]:
            response = await http.post("/api/render/proxy/lambda", headers=auth(token), json=body)
            return response.status_code, response.json()

        draft = {
            "m": {"width": 1920, "height": 1080, "fps": 30},
            "t": [
                {
                    "id": "v1",
                    "tt": 0,
                    "role": "main",
                    "sg": [{"id": "s1", "st": 0, "d": 1000, "src": "up_nowhere"}],
                }
            ],
        }
        status, body = await submit({"id": "r1", "sessionId": sid, "draft": draft})
        assert (status, body["code"]) == (422, 4000)
        assert "not uploaded in this session: 'up_nowhere'" in str(body["message"])
        status, body = await submit(
            {"id": "r2", "sessionId": sid, "draft": draft, "output": {"format": "gif"}}
        )
        assert "use one of mp4, mov, avi, webm, mkv" in str(body["message"])
        status, body = await submit({"id": "r3", "sessionId": sid})
        assert "no draft yet" in str(body["message"])
        status, body = await submit({"id": "r4", "sessionId": sid, "draft": {"t": "nope"}})
        assert "the draft is not valid" in str(body["message"])
        status, body = await submit({"id": "../etc", "sessionId": sid, "draft": draft})
        assert '"id" must be' in str(body["message"])
        status, body = await submit({"id": "r5", "sessionId": "missing", "draft": draft})
        assert (status, body["code"]) == (404, 1002)
        unknown = await http.get("/api/render/proxy/lambda/r1", headers=auth(token))
        assert (unknown.status_code, unknown.json()["code"]) == (404, 4004)


async def test_a_render_uses_the_session_draft_when_the_body_has_none(tmp_path: Path) -> None:
    async with (
        running_server(ServerConfig(home=tmp_path / "home", max_render_height=90)) as base,
        client(base) as http,
    ):
        token = await get_token(http)
        sid = await new_session(http, token)
        files = [("files", ("p.png", image_bytes("PNG")))]
        await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        await send_message(http, token, sid, MESSAGE)
        await send_message(http, token, sid, "make the video 1 second long")
        await http.post(
            "/api/render/proxy/lambda",
            headers=auth(token),
            json={"id": "r_state", "sessionId": sid, "output": {"format": "mkv"}},
        )
        job = await wait_render(http, token, "r_state")
        assert job["status"] == "completed", job
        assert job["output"]["duration"] == pytest.approx(1.0, abs=0.2)
        download = await http.get("/api/render/proxy/r_state/download", headers=auth(token))
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.headers["content-type"] == "video/x-matroska"


async def test_renders_beyond_the_concurrency_limit_wait_their_turn(tmp_path: Path) -> None:
    config = ServerConfig(home=tmp_path / "home", max_render_height=180, max_concurrent_renders=1)
    async with running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        files = [("files", (f"p{i}.png", image_bytes("PNG", (80 * i, 40, 40)))) for i in range(2)]
        await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        await send_message(http, token, sid, "Combine these images into a 6-second video")
        for rid in ("r_a", "r_b"):
            body = {"id": rid, "sessionId": sid, "output": {"format": "webm", "quality": "low"}}
            assert (
                await http.post("/api/render/proxy/lambda", headers=auth(token), json=body)
            ).status_code == 200
        # Statuses only move forward, so a job seen processing before and after a poll of the other
        # job was processing during that poll: that is what must never meet "processing" there.
        overlaps = 0
        progress: list[int] = []
        last: dict[str, str] = {}

        async def poll(rid: str) -> str:
            job = (await http.get(f"/api/render/proxy/lambda/{rid}", headers=auth(token))).json()
            progress.append(job["progress"])
            last[rid] = job["status"]
            return str(job["status"])

        async def both_finished() -> bool:
            nonlocal overlaps
            a1, b, a2 = await poll("r_a"), await poll("r_b"), await poll("r_a")
            b1, a, b2 = await poll("r_b"), await poll("r_a"), await poll("r_b")
            overlaps += (a1 == b == a2 == "processing") + (b1 == a == b2 == "processing")
            return all(last[r] in ("completed", "failed") for r in ("r_a", "r_b"))

        await eventually(both_finished, "both renders finish", limit_s=90)
        assert last == {"r_a": "completed", "r_b": "completed"}
        assert overlaps == 0
        assert all(0 <= p <= 100 for p in progress)


async def test_the_storyboard_is_a_png_of_the_current_revision_drawn_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with running_server(ServerConfig(home=home, max_render_height=90)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        url = f"/api/storyboard/nemo_agent/me/{sid}/latest"
        empty = await http.get(url, headers=auth(token))
        assert empty.status_code == 422
        assert "nothing on the timeline" in empty.json()["message"]

        files = [("files", (f"p{i}.png", image_bytes("PNG", (80 * i, 40, 40)))) for i in range(2)]
        await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        await send_message(http, token, sid, "Combine these images into a 2-second video")
        sheet = await http.get(url, headers=auth(token))
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == "image/png"
        assert sheet.content[:8] == b"\x89PNG\r\n\x1a\n"
        again = await http.get(url, headers=auth(token))
        assert again.content == sheet.content
        assert len(list((home / "storyboards").glob(f"{sid}-r*.png"))) == 1
        assert (await http.get(url)).status_code == 401  # a token is needed, as everywhere
