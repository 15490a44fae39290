"""Auth and the rules every call follows: client ids, tokens, expiry, rate limit, attribution, ownership."""

from pathlib import Path

import pytest

from engine.server import ServerConfig

from ._support import ATTRIBUTION, auth, client, get_token, new_session, running_server

pytestmark = pytest.mark.anyio

WEEK = 7 * 86400


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_token_request_without_a_client_id_is_refused_with_400(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        response = await http.post("/api/auth/anonymous-token")
        assert response.status_code == 400
        assert "X-Client-Id" in response.json()["detail"]


async def test_a_client_gets_the_same_token_for_seven_days_then_a_new_one(tmp_path: Path) -> None:
    clock = Clock()
    async with running_server(ServerConfig(home=tmp_path, clock=clock)) as base, client(base) as http:
        first = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-1"})
        data = first.json()["data"]
        assert first.json()["code"] == 0
        assert data["token"].startswith("nmv_usr_")
        assert data["user_id"].startswith("anon_")
        assert data["credits"] == 1_000_000
        assert data["expires_at"].endswith("Z")
        sid = await new_session(http, data["token"])

        clock.now += WEEK - 60
        assert await get_token(http, "c-1") == data["token"]
        assert (await http.get("/api/credits/balance/simple", headers=auth(data["token"]))).status_code == 200

        clock.now += 120
        expired = await http.get("/api/credits/balance/simple", headers=auth(data["token"]))
        assert expired.status_code == 401
        assert expired.json()["code"] == 1001
        assert data["token"] not in expired.text
        renewed = await get_token(http, "c-1")
        assert renewed != data["token"]
        # the same client id keeps its user: the session is still reachable with the new token
        state = await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(renewed))
        assert state.status_code == 200


async def test_a_bad_or_missing_token_gets_code_1001_and_http_401(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        for headers in (ATTRIBUTION, {**ATTRIBUTION, "Authorization": "Bearer nmv_usr_forged"}):
            response = await http.get("/api/credits/balance/simple", headers=headers)
            assert response.status_code == 401
            assert response.json()["code"] == 1001
            assert "anonymous-token" in response.json()["message"]
        sse = await http.post("/run_sse", headers={**ATTRIBUTION, "Authorization": "Bearer nope"}, json={})
        assert sse.status_code == 401
        assert sse.json()["code"] == 1001


async def test_new_tokens_past_the_per_address_limit_get_429(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path, tokens_per_ip=3)) as base, client(base) as http:
        for i in range(3):
            await get_token(http, f"client-{i}")
        again = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "client-0"})
        assert again.status_code == 200  # an existing token is not a new one
        refused = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "client-new"})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "30"
        assert "wait 30 s" in refused.json()["detail"]


async def test_attribution_headers_are_required_402_on_render_1004_elsewhere(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        bare = {"Authorization": f"Bearer {token}", "X-Skill-Source": "video-generator-ai"}
        render = await http.post(
            "/api/render/proxy/lambda", headers=bare, json={"id": "render_1", "sessionId": sid}
        )
        assert render.status_code == 402
        assert "X-Skill-Version, X-Skill-Platform" in render.json()["detail"]
        poll = await http.get("/api/render/proxy/lambda/render_1", headers=bare)
        assert poll.status_code == 402
        state = await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=bare)
        assert state.status_code == 428
        assert state.json()["code"] == 1004
        assert "X-Skill-Version" in state.json()["message"]


async def test_an_unknown_or_foreign_session_is_not_found(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        alice, bob = await get_token(http, "alice"), await get_token(http, "bob")
        alices = await new_session(http, alice)
        for sid in ("no-such-session", alices):
            state = await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(bob))
            assert state.status_code == 404
            assert state.json()["code"] == 1002
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": alices,
            "new_message": {"role": "user", "parts": [{"text": "hello"}]},
        }
        sse = await http.post("/run_sse", headers=auth(bob), json=body)
        assert sse.status_code == 404
        assert sse.json() == {"detail": f"Session not found: {alices}"}
        upload = await http.post(
            f"/api/upload-video/nemo_agent/me/{alices}", headers=auth(bob), files={"files": ("a.png", b"x")}
        )
        assert upload.json()["code"] == 1002


async def test_a_session_answers_with_its_ids(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        response = await http.post(
            "/api/tasks/me/with-session/nemo_agent",
            headers=auth(token),
            json={"task_name": "project", "language": "en"},
        )
        data = response.json()["data"]
        assert set(data) == {"task_id", "session_id", "user_id"}
        latest = await http.get(f"/api/state/nemo_agent/me/{data['session_id']}/latest", headers=auth(token))
        state = latest.json()["data"]
        assert state["task_id"] == data["task_id"]
        assert state["revision"] is None
        assert state["state"]["draft"]["t"] == []
        assert state["state"]["video_infos"] == []
        assert state["state"]["generated_media"] == []
        invalid = await http.post(
            "/api/tasks/me/with-session/nemo_agent", headers=auth(token), content=b"{oops"
        )
        assert invalid.status_code == 422
        assert invalid.json()["code"] == 4000
