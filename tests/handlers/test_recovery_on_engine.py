"""Every recovery path of docs/protocol.md §4, §6 and §8, driven by the engine's fault emulation over HTTP."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.server import FaultConfig
from tests.handlers.conftest import Engine, EngineFactory

pytestmark = pytest.mark.anyio

GENERATE = "make a 3-second reel from these images with the music and a title 'Aurora'"
EDIT = "shorten the first clip to 0.5 seconds"


async def prepared(
    engine: EngineFactory, media: dict[str, Path], faults: FaultConfig | None = None, **kw: Any
) -> Engine:
    eng = await engine(faults, **kw)
    files = [str(media[k]) for k in ("still1", "still2", "still3", "music")]
    assert (await eng.call("upload", {"files": files}))["ok"]
    return eng


async def test_a_silent_reply_is_reported_from_the_state_diff(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(silent_rate=1.0))
    made = await eng.call("send_message", {"message": GENERATE})
    assert made["ok"], made
    assert made["silent"] is True
    assert made["stage"] == "complete"
    assert made["reply"].startswith("Done: timeline created: Timeline (3 tracks)")
    edited = await eng.call("send_message", {"message": EDIT})
    assert edited["silent"] is True
    assert edited["stage"] == "edit"
    assert "shortened from 1s to 0.5s" in edited["reply"]
    assert edited["changes"] == [c for c in edited["changes"] if c]
    assert eng.recorder.streams_started() == 2


async def test_gui_speak_is_translated_before_the_agent_sees_it(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(gui_speak=True))
    made = await eng.call("send_message", {"message": GENERATE})
    assert made["ok"], made
    for gui in ("Click the Export button", "打开 the timeline panel", "Drag the clip"):
        assert gui not in made["reply"]
    assert "use the export tool" in made["reply"]
    assert "Aurora" in made["reply"]  # the content is kept


async def test_keepalives_only_time_out_after_the_configured_idle_limit_without_a_resend(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(
        engine, media, FaultConfig(keepalive_only_s=3.0), idle_s=0.6, ping_s=0.05, still_working_s=0.25
    )
    with anyio.fail_after(10):
        result = await eng.call("send_message", {"message": GENERATE})
    assert result["error"]["code"] == "timeout"
    assert "keep-alives only" in result["error"]["message"]
    assert "NOT re-sent" in result["error"]["recovery"]
    assert eng.recorder.count("POST", "/run_sse") == 1
    kinds = {e.kind for e in eng.progress}
    assert {"heartbeat", "still_working"} <= kinds


async def test_keepalives_then_a_normal_turn_is_not_a_timeout(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(keepalive_only_s=0.5), idle_s=3.0, ping_s=0.05)
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["ok"], result
    assert result["stage"] == "complete"


async def test_the_overall_cap_ends_a_turn_that_never_finishes(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(keepalive_only_s=5.0), idle_s=60.0, total_s=0.5)
    with anyio.fail_after(10):
        result = await eng.call("send_message", {"message": GENERATE})
    assert result["error"]["code"] == "timeout"
    assert "longer than" in result["error"]["message"]


async def test_a_dropped_stream_is_recovered_by_polling_the_state_never_by_reposting(
    engine: EngineFactory, media: dict[str, Path], waits: list[float]
) -> None:
    eng = await prepared(engine, media, FaultConfig(drop_stream_after=1))
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["ok"], result
    assert result["recovered"] is True
    assert result["ready_for_export"] is True
    assert result["changes"][0].startswith("timeline created")
    assert eng.recorder.count("POST", "/run_sse") == 1
    assert waits[0] >= 3.0  # the grace before the first look
    assert waits[1:3] == [30.0, 60.0]  # then 30 s, then 60 s intervals
    assert "sent once" in result["text"]


async def test_a_dropped_stream_with_nothing_changing_gives_up_after_five_unchanged_polls(
    engine: EngineFactory, media: dict[str, Path], waits: list[float]
) -> None:
    eng = await prepared(engine, media, FaultConfig(drop_stream_after=0))
    # "hello" changes nothing: the engine answers with text only
    result = await eng.call("send_message", {"message": "hello, what can you do?"})
    assert result["error"]["code"] == "disconnected"
    assert "NOT re-sent" in result["error"]["recovery"]
    assert waits[1:] == [30.0, 60.0, 60.0, 60.0, 60.0]  # five polls, none saw a change
    assert eng.recorder.count("POST", "/run_sse") == 1


async def test_a_trailing_temporary_issue_after_a_normal_turn_is_ignored(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(trailing_temporary_issue=True))
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["ok"], result
    assert "temporary issue" not in result["reply"]
    assert result["reply"]


async def test_streamed_partials_are_not_shown_twice(engine: EngineFactory, media: dict[str, Path]) -> None:
    plain = await prepared(engine, media)
    expected = (await plain.call("send_message", {"message": GENERATE}))["reply"]
    eng = await prepared(engine, media, FaultConfig(streaming_partials=True))
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["reply"] == expected.replace(plain.cwd.name, eng.cwd.name)


@pytest.mark.parametrize("form", ["json", "unescaped"])
async def test_an_error_frame_inside_the_stream_is_reported(
    engine: EngineFactory, media: dict[str, Path], form: str
) -> None:
    eng = await prepared(engine, media, FaultConfig(stream_error=form))  # type: ignore[arg-type]
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["ok"] is False
    assert 'unexpected "tool_result" in' in result["error"]["message"]
    assert eng.recorder.count("POST", "/run_sse") == 1


async def test_an_expired_token_is_renewed_once_with_the_same_client_id(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(errors={"state": 1001}))
    client_id = (eng.config.config_dir / "client_id").read_text().strip()
    result = await eng.call("get_state")
    assert result["ok"], result
    token_calls = [r for r in eng.recorder.requests if r.path == "/api/auth/anonymous-token"]
    assert len(token_calls) == 2
    assert {r.headers["x-client-id"] for r in token_calls} == {client_id}


async def test_a_token_refused_twice_is_reported_not_retried_forever(engine: EngineFactory) -> None:
    eng = await engine(FaultConfig(errors={"credits": 1001}, error_times=5))
    result = await eng.call("credits")
    assert result["error"]["code"] == "token_expired"
    assert eng.recorder.count("GET", "/api/credits/balance/simple") == 2


async def test_a_1001_on_run_sse_is_renewed_and_the_message_is_accepted_once(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(errors={"run_sse": 1001}))
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["ok"], result
    assert eng.recorder.streams_started() == 1


async def test_an_unknown_session_says_to_create_a_new_one(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media)
    result = await eng.call("get_state", {"session_id": "no-such-session"})
    assert result["error"]["code"] == "session_not_found"
    assert "create_session" in result["error"]["recovery"]
    injected = await prepared(engine, media, FaultConfig(errors={"run_sse": 1002}))
    sent = await injected.call("send_message", {"message": GENERATE})
    assert sent["error"]["code"] == "session_not_found"


async def test_no_credits_gives_the_registration_link_bound_to_the_anonymous_user(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(errors={"run_sse": 2001}))
    result = await eng.call("send_message", {"message": GENERATE})
    error = result["error"]
    assert error["code"] == "no_credits"
    token_file = json.loads((eng.config.config_dir / "token.json").read_text())
    user_id = token_file[eng.config.api_url]["user_id"]
    assert error["register_url"] == f"{eng.config.web_url}/register?bind={user_id}"
    assert error["register_url"] in error["recovery"]


async def test_a_real_shortage_of_credits_is_reported_the_same_way(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, initial_credits=0)
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["error"]["code"] == "no_credits"
    assert "/register?bind=anon_" in result["error"]["register_url"]


@pytest.mark.parametrize(("code", "kind"), [(4001, "unsupported_file"), (4002, "file_too_large")])
async def test_upload_refusals_say_what_to_do(
    engine: EngineFactory, media: dict[str, Path], code: int, kind: str
) -> None:
    eng = await engine(FaultConfig(errors={"upload": code}))
    result = await eng.call("upload", {"files": [str(media["still1"])]})
    assert result["error"]["code"] == kind
    assert result["error"]["api_code"] == code
    words = "mp4, mov" if code == 4001 else "500 MB"
    assert words in result["error"]["recovery"]


async def test_a_refused_client_id_is_replaced_and_the_token_call_retried(engine: EngineFactory) -> None:
    eng = await engine(FaultConfig(errors={"anonymous_token": 400}))
    result = await eng.call("credits")
    assert result["ok"], result
    ids = [r.headers["x-client-id"] for r in eng.recorder.requests if r.path == "/api/auth/anonymous-token"]
    assert len(ids) == 2
    assert ids[0] != ids[1]
    assert (eng.config.config_dir / "client_id").read_text().strip() == ids[1]


async def test_without_a_claim_token_the_browser_link_takes_the_long_form(engine: EngineFactory) -> None:
    eng = await engine(FaultConfig(errors={"claim_token": 400}))
    session = await eng.call("create_session")
    assert session["ok"], session
    assert session["browser_url"] == (
        f"{eng.config.web_url}/workspace/claim?task={session['task_id']}&session={session['session_id']}"
        "&skill_name=video-generator-ai&skill_version=0.1.0&skill_source=claude"
    )


async def test_export_blocked_by_the_plan_says_register_not_credits(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(errors={"render": 402}))
    assert (await eng.call("send_message", {"message": GENERATE}))["ok"]
    result = await eng.call("export")
    assert result["error"]["code"] == "export_blocked"
    assert "not about credits" in result["error"]["recovery"]


async def test_rate_limiting_waits_30_seconds_and_retries_once(
    engine: EngineFactory, waits: list[float]
) -> None:
    eng = await engine(FaultConfig(errors={"credits": 429}))
    assert (await eng.call("credits"))["ok"]
    assert waits == [30.0]
    again = await engine(FaultConfig(errors={"credits": 429}, error_times=2))
    result = await again.call("credits")
    assert result["error"]["code"] == "rate_limited"
    assert again.recorder.count("GET", "/api/credits/balance/simple") == 2


async def test_a_failed_render_is_retried_once_with_a_new_id(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(render_fail_once=True))
    assert (await eng.call("send_message", {"message": GENERATE}))["ok"]
    result = await eng.call("export", {"quality": "low", "format": "mkv"})
    assert result["ok"], result
    assert result["attempts"] == 2
    submitted = [
        json.loads(r.body)["id"] for r in eng.recorder.requests if r.path == "/api/render/proxy/lambda"
    ]
    assert len(submitted) == 2
    assert submitted[0] != submitted[1]
    assert submitted[1] == result["render_id"]
    assert Path(result["path"]).suffix == ".mkv"


async def test_render_status_shape_b_and_the_fallback_download_url_work(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(render_status_shape="B", errors={"download": 400}))
    assert (await eng.call("send_message", {"message": GENERATE}))["ok"]
    result = await eng.call("export", {"quality": "low"})
    assert result["ok"], result
    assert result["size"] > 0
    downloads = [
        r for r in eng.recorder.requests if r.path.endswith("/download") or "/files/renders/" in r.path
    ]
    assert [r.status for r in downloads] == [400, 200]
    assert downloads[1].path == f"/api/render/proxy/{result['render_id']}/download"


async def test_a_message_while_the_previous_turn_runs_is_session_busy(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media, FaultConfig(keepalive_only_s=2.5), idle_s=8.0)
    results: list[dict[str, Any]] = []

    async def first() -> None:
        results.append(await eng.call("send_message", {"message": GENERATE}))

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        with anyio.fail_after(5):
            await eng.recorder.stream_opened.wait()
        second = await eng.call("send_message", {"message": EDIT})
        state = await eng.call("get_state")
    assert second["error"]["code"] == "session_busy"
    assert state["busy"] is True
    assert "still being worked on" in state["text"]
    assert results[0]["ok"]
    assert (await eng.call("get_state"))["busy"] is False


FAULTS = {
    "silent": FaultConfig(silent_rate=1.0),
    "gui_speak": FaultConfig(gui_speak=True),
    "keepalive_only": FaultConfig(keepalive_only_s=2.0),
    "dropped_after_1": FaultConfig(drop_stream_after=1),
    "dropped_at_once": FaultConfig(drop_stream_after=0),
    "temporary_issue": FaultConfig(trailing_temporary_issue=True),
    "partials": FaultConfig(streaming_partials=True),
    "stream_error": FaultConfig(stream_error="unescaped"),
    "1001": FaultConfig(errors={"run_sse": 1001}),
    "429": FaultConfig(errors={"run_sse": 429}),
    "2001": FaultConfig(errors={"run_sse": 2001}),
    "state_1001": FaultConfig(errors={"state": 1001}),
}


@pytest.mark.parametrize("faults", list(FAULTS.values()), ids=list(FAULTS))
async def test_no_fault_makes_the_client_send_a_message_twice(
    engine: EngineFactory, media: dict[str, Path], faults: FaultConfig
) -> None:
    eng = await prepared(engine, media, faults, idle_s=0.5)
    await eng.call("send_message", {"message": GENERATE})
    assert eng.recorder.streams_started() <= 1
    accepted_or_refused = [r.status for r in eng.recorder.requests if r.path == "/run_sse"]
    assert accepted_or_refused.count(200) <= 1


async def test_a_failing_state_read_after_the_turn_does_not_turn_a_sent_message_into_an_error(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await prepared(engine, media)
    inner = eng.config.asgi_app
    state_reads = 0

    async def flaky_state(scope: Any, receive: Any, send: Any) -> None:
        nonlocal state_reads
        if scope["type"] == "http" and scope["path"].endswith("/latest"):
            state_reads += 1
            if state_reads == 2:  # the read after the turn
                await send({"type": "http.response.start", "status": 502, "headers": []})
                await send({"type": "http.response.body", "body": b"bad gateway"})
                return
        await inner(scope, receive, send)

    eng.config = dataclasses.replace(eng.config, asgi_app=flaky_state)
    result = await eng.call("send_message", {"message": GENERATE})
    assert result["ok"], result
    assert result["ready_for_export"] is True  # from the draft the stream carried
    assert "sent once" in result["text"]
    assert eng.recorder.streams_started() == 1
