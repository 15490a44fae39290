"""send_message: one conversational turn over `/run_sse` (docs/protocol.md §4), with every client rule.

- Routing first: "export" / "credits" / "status" / "upload" messages are answered by those tools.
- The message is POSTed once and NEVER re-sent: not after a timeout, not after a dropped stream.
- Frames go through httpx2's SSE parser → `_sse.parse_frame` → `TurnLog` (partials not duplicated).
- Keep-alives only for `idle_s` (10 min) → timeout; `total_s` (15 min) caps the turn; "Still working…"
  every 2 minutes through the progress callback.
- Dropped stream: wait ≥ 3 s, poll the state (30 s, then 60 s), give up after 5 unchanged polls.
- Silent reply: the draft before the message is diffed against the one after and reported as the reply.
- GUI-speak is translated; a trailing "temporary issue" after a normal turn is ignored.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from handlers import _clock
from handlers._constants import APP_NAME
from handlers._context import ToolContext
from handlers._draftview import describe_changes, is_ready, track_summary
from handlers._errors import (
    InputError,
    ServerError,
    StreamDroppedError,
    TurnTimeoutError,
    VideogenError,
    WrongToolError,
    api_error,
)
from handlers._gui import translate
from handlers._routing import route_message
from handlers._sse import DraftUpdate, ErrorEvent, KeepAlive, TextEvent, ToolCall, TurnLog, parse_frame
from handlers._state import StateView, fetch_state

__all__ = ["EDIT_HINT", "TurnOutcome", "classify_stage", "run_body", "send_message"]

Stage = Literal["none", "edit", "raw_video", "complete"]
# After the local engine's conversation asked a question or declined (a reply, no change): the agent
# can often settle it from context, and then the exact tool is the way, instead of a second message.
EDIT_HINT = (
    "If you can settle this from context, make the change exactly with the edit tool instead "
    "(this local engine has it: clips by number, texts by id or words, times in seconds; get_state "
    "lists them). Do not also send the instruction again."
)
_GENERATE = re.compile(r"generat|create_video|make_video|text_to_video|raw_cut|storyboard", re.IGNORECASE)
_SECOND = re.compile(r"music|bgm|audio|title|caption|text|soundtrack|music_and_title", re.IGNORECASE)
_SECOND_STAGE_TEXT = re.compile(
    r"\bstage\s*2\b|second stage|music and title|第二阶段|音乐和标题", re.IGNORECASE
)


def run_body(session_id: str, message: str) -> dict[str, Any]:
    """The /run_sse body, exactly docs/protocol.md §4 (snake_case)."""
    return {
        "app_name": APP_NAME,
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": message}]},
    }


def _has_track(draft: dict[str, Any] | None, tt: int) -> bool:
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return any(isinstance(t, dict) and t.get("tt") == tt and t.get("sg") for t in tracks or [])


def classify_stage(
    tool_names: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    changed: bool,
    texts: Sequence[str] = (),
) -> Stage:
    """Which stage the turn reached. Generation is two-stage: the raw video, then music and title; the
    second stage shows as its tool steps, as a draft with audio and text tracks, or in the reply's words
    (a second stage may find nothing to add)."""
    generated = any(_GENERATE.search(n) for n in tool_names) or (not is_ready(before) and is_ready(after))
    if generated:
        first = next((i for i, n in enumerate(tool_names) if _GENERATE.search(n)), -1)
        second_by_tools = any(_SECOND.search(n) and not _GENERATE.search(n) for n in tool_names[first + 1 :])
        second_by_draft = _has_track(after, 1) and _has_track(after, 7)
        second_by_text = any(_SECOND_STAGE_TEXT.search(t) for t in texts)
        return "complete" if second_by_tools or second_by_draft or second_by_text else "raw_video"
    return "edit" if changed else "none"


@dataclass
class TurnOutcome:
    log: TurnLog
    dropped: StreamDroppedError | None = None
    timed_out: str | None = None  # "idle" | "total"


async def _stream_turn(ctx: ToolContext, body: dict[str, Any]) -> TurnOutcome:
    """POST once and read the stream in a pump task; the wait loop enforces the idle/total limits."""
    limits = ctx.config.timings.turn
    every = ctx.config.timings.still_working_every_s
    log = TurnLog()
    outcome = TurnOutcome(log)
    send, receive = anyio.create_memory_object_stream[tuple[str, Any]](math.inf)
    failure: list[VideogenError] = []

    def on_chunk(chunk: bytes) -> None:
        if chunk.lstrip().startswith(b":"):
            ctx.emit("heartbeat", "The backend is working…")

    async def pump() -> None:
        async with send:
            try:
                async with ctx.api.run_sse(body, on_chunk=on_chunk) as frames:
                    async for frame in frames:
                        await send.send(("frame", frame))
                await send.send(("end", None))
            except StreamDroppedError as exc:
                await send.send(("dropped", exc))
            except VideogenError as exc:
                failure.append(exc)
                await send.send(("failed", exc))

    start = anyio.current_time()
    last_event = start
    next_note = start + every
    async with receive, anyio.create_task_group() as tg:
        tg.start_soon(pump)
        while True:
            now = anyio.current_time()
            idle_deadline, total_deadline = last_event + limits.idle_s, start + limits.total_s
            if now >= total_deadline:
                outcome.timed_out = "total"
                break
            if now >= idle_deadline:
                outcome.timed_out = "idle"
                break
            if now >= next_note:
                minutes = (now - start) / 60
                ctx.emit("still_working", f"Still working… ({minutes:.0f} min)")
                next_note += every
            with anyio.move_on_after(min(idle_deadline, total_deadline, next_note) - now):
                kind, payload = await receive.receive()
                if kind == "end":
                    break
                if kind == "dropped":
                    outcome.dropped = payload
                    break
                if kind == "failed":
                    break
                for event in parse_frame(*payload):
                    log.feed(event)
                    if not isinstance(event, KeepAlive):
                        last_event = anyio.current_time()
                    _report(ctx, event)
        tg.cancel_scope.cancel()
    if failure:
        raise failure[0]
    return outcome


def _report(ctx: ToolContext, event: Any) -> None:
    if isinstance(event, KeepAlive):
        ctx.emit("heartbeat", "The backend is working…")
    elif isinstance(event, ToolCall):
        if _GENERATE.search(event.name):
            ctx.emit("stage", f"Stage 1 of 2: generating the video ({event.name})…")
        elif _SECOND.search(event.name):
            ctx.emit("stage", f"Stage 2 of 2: music and title ({event.name})…")
        else:
            ctx.emit("stage", f"Working: {event.name}")
    elif isinstance(event, TextEvent) and not event.partial:
        ctx.emit("info", textwrap.shorten(event.text, 200, placeholder="…"))
    elif isinstance(event, DraftUpdate):
        ctx.emit("info", "The timeline changed.")
    elif isinstance(event, ErrorEvent):
        ctx.emit("info", "The backend reported: " + textwrap.shorten(event.message, 200, placeholder="…"))


async def _recover(ctx: ToolContext, session_id: str, before: dict[str, Any] | None) -> StateView:
    """After a dropped stream: wait ≥ 3 s, then poll the state (never re-post) until it settles."""
    timings = ctx.config.timings
    policy = timings.disconnect_poll
    ctx.emit("info", "The connection dropped; the message is NOT re-sent. Checking the project's state…")
    await _clock.pause(max(timings.disconnect_grace_s, 0.0))
    last: dict[str, Any] | None = before
    unchanged = 0
    view: StateView | None = None
    polls = 0
    while True:
        await _clock.pause(policy.first_wait_s if polls == 0 else policy.interval_s)
        polls += 1
        view = await fetch_state(ctx.api, session_id)
        if view.draft == last:
            unchanged += 1
        else:
            unchanged = 0
            last = view.draft
        changed = view.draft != before
        running = view.busy is True  # the backend says the turn goes on (the engine does; the cloud may not)
        note = "the timeline changed" if changed else "no change yet"
        ctx.emit("info", f"State check {polls}: {note}" + (" (still running)" if running else ""))
        if changed and unchanged >= 1 and not running:
            return view  # the turn's work landed and has settled
        if (unchanged >= policy.max_polls and not running) or polls >= policy.max_polls * 4:
            if changed:
                return view
            raise StreamDroppedError(
                f"the connection dropped and the project did not change in {polls} state checks",
                recovery=(
                    "The message was NOT re-sent (that would duplicate work and charges). "
                    "Call get_state later "
                    "to see whether it finished; send a new message only if it did not."
                ),
            )


async def _routed(
    ctx: ToolContext, tool: str, args: dict[str, Any], session_id: str | None
) -> dict[str, Any]:
    if tool == "upload":
        raise WrongToolError("uploading is done with the upload tool, not by message", "upload")
    if tool in {"export", "get_state"} and session_id:
        args = {**args, "session_id": session_id}
    assert ctx.call_tool is not None
    try:
        result: dict[str, Any] = await ctx.call_tool(tool, args)
    except VideogenError as exc:
        return ctx.failed(exc, routed_to=tool)
    if not result.get("ok"):
        return {**result, "routed_to": tool}
    return ctx.ok(
        result["text"],
        session_id=str(result.get("session_id") or session_id or ""),
        reply=result["text"],
        changes=[],
        track_summary=result.get("track_summary"),
        stage="none",
        silent=False,
        tool_calls={"count": 0, "names": []},
        ready_for_export=bool(result.get("ready_for_export", tool == "export")),
        routed_to=tool,
        result=result,
    )


async def send_message(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    message = str(args["message"]).strip()
    if not message:
        # Never worth a paid turn: the backend would refuse it or answer with nothing to do.
        raise InputError(
            "the message is empty: say what to make or change",
            ["message: write the user's instruction, e.g. 'shorten the intro to 2 seconds'"],
        )
    route = route_message(message)
    if route is not None:
        return await _routed(ctx, route.tool, dict(route.args), args.get("session_id"))

    ref = await ctx.session(args.get("session_id"), create=True)
    before_view = await fetch_state(ctx.api, ref.session_id)
    before = before_view.draft
    ctx.emit("info", "Sending the message…")
    outcome = await _stream_turn(ctx, run_body(ref.session_id, message))
    log = outcome.log

    if outcome.timed_out:
        limit = ctx.config.timings.turn
        what = (
            f"no reply after {limit.idle_s / 60:g} minutes of keep-alives only"
            if outcome.timed_out == "idle"
            else f"the turn took longer than {limit.total_s / 60:g} minutes"
        )
        raise TurnTimeoutError(f"{what}; the message was not re-sent")

    recovered = outcome.dropped is not None
    state_note = ""
    if recovered:
        after = (await _recover(ctx, ref.session_id, before)).draft
    else:
        # The message was accepted: a failing state read must not look like a failed message (the agent
        # would send it again), so the draft the stream carried stands in for it.
        try:
            after = (await fetch_state(ctx.api, ref.session_id)).draft
        except VideogenError as exc:
            after = None
            state_note = (
                f"\n(The state could not be read afterwards: {exc.message}. The message was sent once.)"
            )
    if after is None:
        after = log.draft if log.draft is not None else before
    changes = describe_changes(before, after) if after != before else []
    summary = track_summary(after) if after is not None else None

    errors = log.real_errors
    texts = log.texts
    if errors and not texts and not changes:
        first = errors[0]
        code = first.code if isinstance(first.code, int) else None
        raise (
            api_error(code, None, first.message, register_url=ctx.api.register_url())
            if code
            else ServerError(f"the backend reported: {first.message}")
        )

    silent = not texts
    if texts:
        reply = translate("\n\n".join(texts), summary)
    elif changes:
        reply = "Done: " + "; ".join(changes) + "."
    elif recovered:
        reply = "The connection dropped; the project changed as shown."
    else:
        reply = "The backend finished without a reply and the timeline did not change."
    if errors:
        reply += " (The backend also reported: " + "; ".join(e.message for e in errors) + ")"

    stage = classify_stage(log.tool_names, before, after, bool(changes), texts)
    ready = is_ready(after)
    names = list(dict.fromkeys(log.tool_names))
    text = reply
    if summary and changes and "Timeline (" not in reply:
        text += f"\n{summary}"
    if stage == "raw_video":
        text += (
            "\nStage 1 of 2 (the raw video) is done; music and title are still to come: check with get_state."
        )
    if recovered:
        text += "\n(The stream dropped; this was read from the project's state. The message was sent once.)"
    text += state_note
    if texts and not changes and not errors and ctx.config.label != "cloud":
        text += "\n" + EDIT_HINT  # the local conversation asked or declined: the exact way through
    return ctx.ok(
        text,
        session_id=ref.session_id,
        reply=reply,
        changes=changes,
        track_summary=summary,
        stage=stage,
        silent=silent,
        recovered=recovered,
        tool_calls={"count": len(log.tool_names), "names": names},
        ready_for_export=ready,
    )
