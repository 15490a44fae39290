"""Turns over /run_sse: ADK events, one turn at a time per session, undo as a revision move, pings."""

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.server import FaultConfig, ServerConfig
from engine.server._events import PING_FRAME
from engine.server._store import Store
from engine.server._turns import TurnRunner
from engine.server.faults import FaultState

from ._support import (
    MESSAGE,
    auth,
    client,
    get_token,
    new_project,
    new_session,
    running_server,
    send_message,
    state,
)

pytestmark = pytest.mark.anyio


def _drafts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["actions"]["stateDelta"]["draft"] for e in events if e["actions"]["stateDelta"]]


async def test_a_turn_streams_calls_responses_and_texts_and_its_texts_make_the_reply(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        turn = await send_message(http, token, sid, MESSAGE)
        kinds = []
        for event in turn.events:
            part = event["content"]["parts"][0] if event["content"]["parts"] else {}
            kinds.append(next(iter(part), "empty"))
            assert set(event) >= {"id", "invocationId", "author", "timestamp", "content", "actions"}
            assert set(event["actions"]) == {"stateDelta", "artifactDelta"}
        assert kinds[:2] == ["functionCall", "functionResponse"]
        assert kinds[-1] == "text"
        assert len({e["invocationId"] for e in turn.events}) == 1
        generate = next(
            e
            for e in turn.events
            if e["content"]["parts"][0].get("functionCall", {}).get("name") == "generate_video"
        )
        assert generate["longRunningToolIds"] == [generate["content"]["parts"][0]["functionCall"]["id"]]
        # each stage's draft comes on its last function response, right before the stage's text
        for i, event in enumerate(turn.events):
            if event["actions"]["stateDelta"]:
                assert "functionResponse" in event["content"]["parts"][0]
                assert "text" in turn.events[i + 1]["content"]["parts"][0]
        assert all(line.startswith("data: ") for line in turn.raw.split("\n\n") if line)
        latest = await state(http, token, sid)
        assert latest["revision"] == 2  # raw cut, then music and title


async def test_a_message_during_a_running_turn_gets_409_and_changes_nothing(tmp_path: Path) -> None:
    faults = FaultConfig(keepalive_only_s=1.5)
    async with (
        running_server(ServerConfig(home=tmp_path, faults=faults, ping_interval_s=0.05)) as base,
        client(base) as http,
    ):
        token = await get_token(http)
        sid = await new_project(http, token)
        started = anyio.Event()
        frames: list[str] = []

        async def first_turn() -> None:
            body = {
                "app_name": "nemo_agent",
                "user_id": "me",
                "session_id": sid,
                "new_message": {"role": "user", "parts": [{"text": MESSAGE}]},
            }
            async with http.stream("POST", "/run_sse", headers=auth(token), json=body) as response:
                async for chunk in response.aiter_text():
                    frames.append(chunk)
                    started.set()

        credits_before = (await http.get("/api/credits/balance/simple", headers=auth(token))).json()["data"]
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(first_turn)
                await started.wait()
                assert (await state(http, token, sid))["busy"] is True
                second = await http.post(
                    "/run_sse",
                    headers=auth(token),
                    json={"session_id": sid, "new_message": {"parts": [{"text": "make it 5 seconds"}]}},
                )
                assert second.status_code == 409
                assert second.json()["code"] == 1003
                assert second.json()["message"] == (
                    f"session {sid} is busy with another turn; wait for it to finish, then send again"
                )
        latest = await state(http, token, sid)
        assert latest["busy"] is False
        assert latest["revision"] == 2
        assert (
            latest["state"]["draft"]["t"][0]["sg"][-1]["st"] + latest["state"]["draft"]["t"][0]["sg"][-1]["d"]
            == 10000
        )
        credits_after = (await http.get("/api/credits/balance/simple", headers=auth(token))).json()["data"]
        assert credits_before["available"] - credits_after["available"] == 10  # the generation only


async def test_undo_redo_and_first_version_move_the_head_along_the_revisions(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        await send_message(http, token, sid, MESSAGE)
        generated = (await state(http, token, sid))["state"]["draft"]
        edit = await send_message(http, token, sid, "make the video 6 seconds long")
        edited = (await state(http, token, sid))["state"]["draft"]
        assert edited != generated, edit.texts
        undo = await send_message(http, token, sid, "undo")
        latest = await state(http, token, sid)
        assert latest["state"]["draft"] == generated
        assert latest["revision"] == 2
        assert _drafts(undo.events)[-1] == generated
        await send_message(http, token, sid, "redo")
        latest = await state(http, token, sid)
        assert latest["state"]["draft"] == edited
        assert latest["revision"] == 3
        await send_message(http, token, sid, "make the video 4 seconds long")
        await send_message(http, token, sid, "go back to the first version")
        latest = await state(http, token, sid)
        assert latest["state"]["draft"] == generated
        assert latest["revision"] == 2


async def test_undo_and_redo_of_several_steps_move_the_head_that_many_revisions(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        await send_message(http, token, sid, MESSAGE)
        generated = (await state(http, token, sid))["state"]["draft"]
        for message in ("make the video 6 seconds long", "make it square", "remove the last clip"):
            await send_message(http, token, sid, message)
        edited = (await state(http, token, sid))["state"]["draft"]
        await send_message(http, token, sid, "undo the last 3 changes")
        assert (await state(http, token, sid))["state"]["draft"] == generated
        await send_message(http, token, sid, "redo 3 times")
        assert (await state(http, token, sid))["state"]["draft"] == edited
        await send_message(http, token, sid, "undo twice")
        await send_message(http, token, sid, "make it vertical")
        too_far = await send_message(http, token, sid, "go back five steps")
        assert "only 2 steps to undo, so nothing changed" in " ".join(too_far.texts)


async def test_the_conversation_remembers_the_last_edit_across_a_restart(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        await send_message(http, token, sid, MESSAGE)
        await send_message(http, token, sid, "add the text 'Hello' at 1 second")
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        await send_message(http, token, sid, "nudge it 1 second later")
        draft = (await state(http, token, sid))["state"]["draft"]
    texts = [s for t in draft["t"] if t.get("tt") == 7 for s in t["sg"] if s["text"] == "Hello"]
    assert [(s["st"], s["d"]) for s in texts] == [(2000, 3000)]


async def test_the_stream_sends_a_ping_when_nothing_else_was_sent_for_the_interval(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        runner = TurnRunner(store, FaultState(FaultConfig()), ping_interval_s=0.02, clock=lambda: 0.0)
        send, receive = anyio.create_memory_object_stream[tuple[Any, bytes]](10)
        frames = runner._frames(receive)
        with anyio.fail_after(5):
            assert await anext(frames) == PING_FRAME
            assert await anext(frames) == PING_FRAME
            await send.send(("event", b'data: {"id":"x"}\n\n'))
            assert await anext(frames) == b'data: {"id":"x"}\n\n'
            send.close()
            with pytest.raises(StopAsyncIteration):
                await anext(frames)
    finally:
        store.close()


async def test_a_message_without_text_or_session_is_an_invalid_request(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        empty = await http.post(
            "/run_sse", headers=auth(token), json={"session_id": sid, "new_message": {"parts": []}}
        )
        assert empty.status_code == 422
        assert "no text" in empty.json()["message"]
        nosid = await http.post(
            "/run_sse", headers=auth(token), json={"new_message": {"parts": [{"text": "hi"}]}}
        )
        assert nosid.json()["code"] == 4000


async def test_a_question_gets_a_text_reply_and_changes_nothing(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        turn = await send_message(http, token, sid, "what can you do?")
        assert turn.texts
        assert not _drafts(turn.events)
        assert (await state(http, token, sid))["revision"] is None


async def test_a_turn_that_costs_more_than_the_credits_left_gets_2001_before_the_stream(
    tmp_path: Path,
) -> None:
    async with running_server(ServerConfig(home=tmp_path, initial_credits=5)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_project(http, token)
        refused = await http.post(
            "/run_sse",
            headers=auth(token),
            json={"session_id": sid, "new_message": {"parts": [{"text": MESSAGE}]}},
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["code"] == 2001
        assert "costs 10 and 5 are available" in refused.json()["message"]
        latest = await state(http, token, sid)
        assert latest["revision"] is None
        assert latest["busy"] is False
        balance = (await http.get("/api/credits/balance/simple", headers=auth(token))).json()["data"]
        assert balance == {"available": 5, "frozen": 0, "total": 5}
        free = await send_message(http, token, sid, "what can you do?")  # a question costs nothing
        assert free.texts


async def test_a_streaming_request_gets_partial_chunks_before_each_final_text(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        body = {
            "session_id": sid,
            "streaming": True,
            "new_message": {"parts": [{"text": "what can you do?"}]},
        }
        async with http.stream("POST", "/run_sse", headers=auth(token), json=body) as response:
            raw = (await response.aread()).decode()
        events = [json.loads(block[6:]) for block in raw.split("\n\n") if block.startswith("data: {")]
        final = events[-1]
        chunks = [
            e["content"]["parts"][0]["text"] for e in events if e.get("partial") and e["id"] == final["id"]
        ]
        assert len(chunks) >= 2
        assert "".join(chunks) == final["content"]["parts"][0]["text"]
        assert "partial" not in final
        plain = await send_message(http, token, sid, "what can you do?")
        assert not any(e.get("partial") for e in plain.events)
