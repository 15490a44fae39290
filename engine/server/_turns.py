"""Turns: a message in, the agent's Turn out, stored as revisions and streamed as ADK events.

``TurnRunner.start`` does everything that can refuse a message before the stream starts (unknown
session, busy session, no credits), then hands the turn to a worker in the app's task group and
returns the SSE response that relays the worker's frames. The worker, not the response, owns the
turn: a client that disconnects (or a stream the faults cut) does not stop it, and its revisions
and credits are stored all the same. While the worker runs, the session is busy (HTTP 409, code
1003, for another message); the response sends ``: ping`` when nothing else was sent for
``ping_interval_s``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Final, Literal

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from engine.agent import History, MediaRef, Turn, respond
from engine.server._errors import ApiError, no_credits
from engine.server._events import (
    PING_FRAME,
    data_frame,
    event_frames,
    new_invocation_id,
    turn_events,
)
from engine.server._store import HistoryTargets, SessionRow, Store, UploadRow
from engine.server.faults import (
    KEEPALIVE_FRAMES,
    STREAM_ERROR_MESSAGE,
    TEMPORARY_ISSUE_TEXT,
    FaultState,
    error_frame,
)

__all__ = ["SSEResponse", "TurnRunner", "busy_error"]

log = logging.getLogger("engine.server")

_Frame = tuple[Literal["event", "keepalive", "error"], bytes]
_DROP: Final = None


def busy_error(session_id: str) -> ApiError:
    return ApiError(
        1003, f"session {session_id} is busy with another turn; wait for it to finish, then send again"
    )


class SSEResponse(Response):
    """An SSE stream of pre-encoded frames; a ``None`` item cuts the connection (no final chunk)."""

    media_type = "text/event-stream"

    def __init__(self, frames: AsyncGenerator[bytes | None, None]) -> None:
        self.frames = frames
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as tg:

            async def watch_disconnect() -> None:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(watch_disconnect)
            try:
                await send(
                    {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
                )
                async with aclosing(self.frames) as frames:
                    async for frame in frames:
                        if frame is _DROP:
                            break  # return without the final chunk: the client sees a broken stream
                        await send({"type": "http.response.body", "body": frame, "more_body": True})
                    else:
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                pass  # the client went away; the turn's worker carries on
            tg.cancel_scope.cancel()


@dataclass
class _Sink:
    """The worker's end of a turn's stream; sending never fails once the client is gone."""

    stream: MemoryObjectSendStream[_Frame]
    open: bool = True

    async def send(self, kind: Literal["event", "keepalive", "error"], frame: bytes) -> None:
        if not self.open:
            return
        try:
            await self.stream.send((kind, frame))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.open = False


@dataclass(frozen=True)
class _TurnContext:
    turn_id: str
    session: SessionRow
    user_id: str
    turn: Turn
    targets: HistoryTargets
    silent: bool
    stream_error: Literal["json", "unescaped"] | None
    streaming: bool


class TurnRunner:
    """Runs turns: one at a time per session, in the app's task group."""

    def __init__(
        self, store: Store, faults: FaultState, ping_interval_s: float, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.faults = faults
        self.ping_interval_s = ping_interval_s
        self.clock = clock
        self.busy: dict[str, str] = {}
        self.task_group: TaskGroup | None = None

    def is_busy(self, session_id: str) -> bool:
        return session_id in self.busy

    async def start(
        self, session: SessionRow, user_id: str, message: str, *, streaming: bool = False
    ) -> SSEResponse:
        """Begin a turn; raises ApiError 1003 (busy) or 2001 (credits) before anything changes."""
        if self.task_group is None:
            raise RuntimeError("the turn runner is not attached to a running app (lifespan not entered)")
        if session.id in self.busy:
            raise busy_error(session.id)
        turn_id = "turn_" + uuid.uuid4().hex
        self.busy[session.id] = turn_id  # no await between the check and this: one turn per session
        try:
            ctx = await self._prepare(turn_id, session, user_id, message, streaming)
        except BaseException:
            self.busy.pop(session.id, None)
            raise
        send, receive = anyio.create_memory_object_stream[_Frame](max_buffer_size=1024)
        self.task_group.start_soon(self._work, ctx, _Sink(send))
        return SSEResponse(self._frames(receive))

    async def _prepare(
        self, turn_id: str, session: SessionRow, user_id: str, message: str, streaming: bool
    ) -> _TurnContext:
        store = self.store
        targets = await store.run(store.history_targets, session.id)
        draft = await store.run(store.draft_at, session.id, targets.head)
        history = History(
            undo=await store.run(store.draft_at, session.id, targets.undo),
            redo=await store.run(store.draft_at, session.id, targets.redo),
            first=await store.run(store.draft_at, session.id, targets.first),
            undo_chain=tuple([await store.run(store.draft_at, session.id, n) for n in targets.undo_path]),
            redo_chain=tuple([await store.run(store.draft_at, session.id, n) for n in targets.redo_path]),
        )
        media = [media_ref(row) for row in await store.run(store.uploads, session.id)]
        stream_error = self.faults.take_stream_error()
        silent = self.faults.silent_turn()
        if stream_error is not None:
            turn = Turn(kind="noop", stages=(), reply="")
        else:
            try:
                turn = await anyio.to_thread.run_sync(lambda: respond(message, draft, media, history))
            except Exception as exc:
                log.exception("the agent failed on a message in session %s", session.id)
                raise ApiError(
                    5000,
                    f"the engine's agent failed on this message ({type(exc).__name__}); nothing was changed: "
                    "rephrase the request or try a different edit",
                ) from exc
        began = await store.run(
            store.begin_turn, turn_id, session.id, user_id, message, turn.kind, turn.cost, self.clock()
        )
        if began == "busy":  # a turn of this session runs in another engine process on this home
            raise busy_error(session.id)
        if began == "no_credits":
            available, _ = await store.run(store.credits, user_id)
            raise no_credits(available, turn.cost)
        return _TurnContext(turn_id, session, user_id, turn, targets, silent, stream_error, streaming)

    async def _frames(self, receive: MemoryObjectReceiveStream[_Frame]) -> AsyncGenerator[bytes | None, None]:
        drop_after = self.faults.config.drop_stream_after
        sent_events = 0
        async with receive:
            while True:
                item: _Frame | None = None
                with anyio.move_on_after(self.ping_interval_s):
                    try:
                        item = await receive.receive()
                    except anyio.EndOfStream:
                        return
                if item is None:
                    yield PING_FRAME
                    continue
                kind, frame = item
                if kind == "event":
                    if drop_after is not None and sent_events >= drop_after:
                        yield _DROP
                        return
                    sent_events += 1
                yield frame

    async def _work(self, ctx: _TurnContext, sink: _Sink) -> None:
        store, session_id = self.store, ctx.session.id
        try:
            async with sink.stream:
                await self._run(ctx, sink)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await store.run(
                    store.finish_turn,
                    ctx.turn_id,
                    ok=False,
                    reply=None,
                    error="the engine stopped",
                    now=self.clock(),
                )
            raise
        except Exception:
            # A background task must never raise: that would cancel every other job of the app.
            log.exception("turn %s: its outcome could not be recorded", ctx.turn_id)
        finally:
            self.busy.pop(session_id, None)

    async def _run(self, ctx: _TurnContext, sink: _Sink) -> None:
        store, session_id, turn = self.store, ctx.session.id, ctx.turn
        if ctx.stream_error is not None:
            await store.run(
                store.finish_turn,
                ctx.turn_id,
                ok=False,
                reply=None,
                error=STREAM_ERROR_MESSAGE,
                now=self.clock(),
            )
            details = {"code": "INTERNAL", "session_id": session_id}
            await sink.send(
                "error", error_frame(STREAM_ERROR_MESSAGE, details, escaped=ctx.stream_error == "json")
            )
            return
        try:
            await self._keepalive_stretch(sink)
            invocation_id = new_invocation_id()
            for stage, events in turn_events(turn, invocation_id, self.clock):
                if stage is not None:
                    await self._store_stage(ctx, stage.name, stage.draft)
                for event in events:
                    for frame in event_frames(event, self.faults, silent=ctx.silent, streaming=ctx.streaming):
                        await sink.send("event", frame)
            await store.run(
                store.finish_turn, ctx.turn_id, ok=True, reply=turn.reply, error=None, now=self.clock()
            )
            if self.faults.config.trailing_temporary_issue:
                trailing = _text_event(invocation_id, self.clock(), TEMPORARY_ISSUE_TEXT)
                await sink.send("event", data_frame(trailing))
        except Exception as exc:
            log.exception("turn %s of session %s failed", ctx.turn_id, session_id)
            reason = f"the engine failed while applying this message ({type(exc).__name__}: {exc})"
            await store.run(
                store.finish_turn, ctx.turn_id, ok=False, reply=None, error=reason, now=self.clock()
            )
            message = (
                f"{reason}. Changes made before the failure are kept; check the state before sending again."
            )
            await sink.send("error", error_frame(message, {"code": "INTERNAL", "session_id": session_id}))

    async def _store_stage(self, ctx: _TurnContext, stage_name: str, draft: dict[str, Any]) -> None:
        store, session_id, turn = self.store, ctx.session.id, ctx.turn
        target = {
            "undo": ctx.targets.undo,
            "redo": ctx.targets.redo,
            "first": ctx.targets.first,
            None: None,
        }[turn.revision]
        path = {"undo": ctx.targets.undo_path, "redo": ctx.targets.redo_path}.get(turn.revision or "", ())
        if turn.steps > 1 and len(path) >= turn.steps:  # "undo the last 3 changes"
            target = path[turn.steps - 1]
        if turn.kind == "revision" and target is not None:
            await store.run(store.move_head, session_id, ctx.turn_id, target, self.clock())
        else:
            await store.run(store.add_revision, session_id, ctx.turn_id, stage_name, draft, self.clock())

    async def _keepalive_stretch(self, sink: _Sink) -> None:
        duration = self.faults.config.keepalive_only_s
        if duration <= 0:
            return
        deadline = anyio.current_time() + duration
        i = 0
        while True:
            await sink.send("keepalive", KEEPALIVE_FRAMES[i % len(KEEPALIVE_FRAMES)])
            i += 1
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                return
            await anyio.sleep(min(self.ping_interval_s, remaining))


def _text_event(invocation_id: str, now: float, text: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex[:8],
        "invocationId": invocation_id,
        "author": "nemo_agent",
        "timestamp": round(now, 3),
        "content": {"role": "model", "parts": [{"text": text}]},
        "actions": {"stateDelta": {}, "artifactDelta": {}},
    }


def media_ref(row: UploadRow) -> MediaRef:
    kind: Literal["image", "video", "audio"] = (
        "image" if row.file_type == "image" else "video" if row.file_type == "video" else "audio"
    )
    return MediaRef(
        id=row.id,
        filename=row.filename,
        kind=kind,
        duration_ms=row.duration_ms,
        width=row.width,
        height=row.height,
        has_audio=row.has_audio,
        speech_like=row.speech_like,
    )
