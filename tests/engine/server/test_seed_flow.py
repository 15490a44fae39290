"""The curl flow of docs/protocol.md §2-6 over real HTTP on 127.0.0.1: token to a playable download."""

from pathlib import Path

import anyio
import pytest

from engine.render import probe
from engine.server import ServerConfig

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
    wav_bytes,
)

pytestmark = pytest.mark.anyio


async def test_a_client_written_for_the_cloud_makes_a_video_from_uploads(tmp_path: Path) -> None:
    config = ServerConfig(home=tmp_path / "home", max_render_height=90, ping_interval_s=0.5)
    async with running_server(config) as base, client(base) as http:
        token = await get_token(http, "7f0c8b1e-seed-flow")
        sid = await new_session(http, token)

        files = [
            ("files", ("product1.png", image_bytes("PNG", (220, 30, 30)), "image/png")),
            ("files", ("product2.jpg", image_bytes("JPEG", (30, 200, 30)), "image/jpeg")),
            ("files", ("product3.png", image_bytes("PNG", (30, 30, 220)), "image/png")),
            ("files", ("music.wav", wav_bytes(1.0), "audio/wav")),
        ]
        uploaded = await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        assert uploaded.status_code == 200, uploaded.text
        records = uploaded.json()["data"]["files"]
        assert [r["filename"] for r in records] == [
            "product1.png",
            "product2.jpg",
            "product3.png",
            "music.wav",
        ]
        assert [r["file_type"] for r in records] == ["image", "image", "image", "audio"]
        assert records[0]["width"] == 64
        assert records[3]["duration"] == pytest.approx(1.0, abs=0.1)
        assert uploaded.json()["data"]["session_state_applied"] is True
        served = await http.get(records[0]["cdn_url"])
        assert served.content == image_bytes("PNG", (220, 30, 30))

        turn = await send_message(http, token, sid, MESSAGE)
        assert turn.status == 200
        assert not turn.broken
        calls = [p["functionCall"] for e in turn.events for p in e["content"]["parts"] if "functionCall" in p]
        responses = [e for e in turn.events if any("functionResponse" in p for p in e["content"]["parts"])]
        assert calls, "the turn made tool calls"
        assert len(responses) == len(calls)
        assert all(e["content"]["role"] == "user" for e in responses)
        assert all(e["author"] == "nemo_agent" and e["invocationId"].startswith("e-") for e in turn.events)
        drafts = [e["actions"]["stateDelta"]["draft"] for e in turn.events if e["actions"]["stateDelta"]]
        assert len(drafts) == 2, "two stages: raw cut, then music and title"
        assert any("Timeline (" in text for text in turn.texts)

        latest = await state(http, token, sid)
        assert latest["state"]["draft"] == drafts[-1]
        assert [v["id"] for v in latest["state"]["video_infos"]] == [r["id"] for r in records]
        assert latest["state"]["canvas_config"]["width"] == 1920
        assert latest["busy"] is False

        credits = (await http.get("/api/credits/balance/simple", headers=auth(token))).json()["data"]
        assert credits["total"] == credits["available"] + credits["frozen"]
        assert credits["available"] < 1_000_000

        render_id = "render_1795236654010"
        submitted = await http.post(
            "/api/render/proxy/lambda",
            headers=auth(token),
            json={
                "id": render_id,
                "sessionId": sid,
                "draft": latest["state"]["draft"],
                "output": {"format": "mp4"},
            },
        )
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] in ("pending", "processing")
        job = await wait_render(http, token, render_id)
        assert job["status"] == "completed", job
        assert job["progress"] == 100
        assert job["output"]["url"].startswith(base + "/files/renders/")
        assert job["output"]["size"] > 0

        video = await http.get(job["output"]["url"])
        assert video.status_code == 200
        assert video.headers["accept-ranges"] == "bytes"
        out = tmp_path / "downloaded.mp4"
        await anyio.Path(out).write_bytes(video.content)
        info = await probe(out)
        assert info.kind == "video"
        assert (info.width, info.height) == (160, 90)
        assert info.duration_ms is not None
        assert 9000 <= info.duration_ms <= 11000

        part = await http.get(job["output"]["url"], headers={"Range": "bytes=0-99"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 0-99/{len(video.content)}"
        assert part.content == video.content[:100]
        beyond = await http.get(job["output"]["url"], headers={"Range": f"bytes={len(video.content) + 10}-"})
        assert beyond.status_code == 416

        fallback = await http.get(f"/api/render/proxy/{render_id}/download", headers=auth(token))
        assert fallback.status_code == 200
        assert fallback.content == video.content

        claim = await http.post(
            "/api/auth/claim-token",
            headers=auth(token),
            json={"task_id": latest["task_id"], "session_id": sid},
        )
        assert claim.status_code == 200
        assert claim.json()["data"]["expires_in"] == 604800
        page = await http.get("/workspace/claim", params={"ct": claim.json()["data"]["claim_token"]})
        assert page.status_code == 200
        assert "Timeline (3 tracks)" in page.text
        by_ids = await http.get("/workspace/claim", params={"task": latest["task_id"], "session": sid})
        assert by_ids.status_code == 404  # the project page needs the claim token (issue 12, finding 13)
        assert (await http.get("/workspace/claim", params={"ct": "clm_unknown"})).status_code == 404
