"""A streaming in-process ASGI transport for httpx2.

httpx2's stock `ASGITransport` waits for the whole response body before returning, which breaks SSE:
a turn's events would arrive only when the turn is over (and a keep-alive-only stretch would never be
noticed). Here the app runs in a task of the transport's own task group and every `http.response.body`
message is handed to the response stream as it is sent (the MCP python-sdk tests do the same).

The transport must be entered (`async with`) before use; `httpx2.AsyncClient` does that for it.
Closing a response early tells the app `http.disconnect`, like a client hanging up.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import httpx2
from anyio.streams.memory import MemoryObjectReceiveStream

__all__ = ["ASGIApp", "StreamingASGITransport"]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[dict[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

_INCOMPLETE = "the server closed the connection in the middle of the body"
_Item = bytes | BaseException | None  # None: the body is complete


class _BodyStream(httpx2.AsyncByteStream):
    def __init__(self, receive: MemoryObjectReceiveStream[_Item], disconnected: anyio.Event) -> None:
        self._receive = receive
        self._disconnected = disconnected

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with self._receive:
            async for item in self._receive:
                if item is None:
                    return
                if isinstance(item, BaseException):
                    # The app failed or returned mid-body: to the client this is a broken connection.
                    raise httpx2.RemoteProtocolError(_INCOMPLETE) from item
                yield item
        raise httpx2.RemoteProtocolError(_INCOMPLETE)

    async def aclose(self) -> None:
        self._disconnected.set()
        self._receive.close()


class StreamingASGITransport(httpx2.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client
        self._tg: anyio.abc.TaskGroup | None = None
        self._depth = 0  # entered by its owner and again by the AsyncClient: the outermost exit closes

    async def __aenter__(self) -> StreamingASGITransport:
        self._depth += 1
        if self._depth == 1:
            self._tg = anyio.create_task_group()
            await self._tg.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth:
            return
        tg, self._tg = self._tg, None
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._tg is None:
            raise RuntimeError("StreamingASGITransport must be entered (async with) before use")
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80)),
            "client": self.client,
            "root_path": "",
            "state": {},
        }
        body_chunks = request.stream.__aiter__()
        request_done = False
        started = anyio.Event()
        disconnected = anyio.Event()
        status: list[int] = []
        headers: list[list[tuple[bytes, bytes]]] = []
        early_failure: list[BaseException] = []
        send_body, receive_body = anyio.create_memory_object_stream[_Item](math.inf)

        def push(item: _Item) -> None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                send_body.send_nowait(item)

        async def receive() -> dict[str, Any]:
            nonlocal request_done
            if request_done:
                await disconnected.wait()
                return {"type": "http.disconnect"}
            try:
                chunk = await body_chunks.__anext__()
            except StopAsyncIteration:
                request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
                headers.append([(bytes(k), bytes(v)) for k, v in message.get("headers", [])])
                started.set()
            elif message["type"] == "http.response.body":
                if disconnected.is_set():
                    return
                body = message.get("body", b"")
                if body and request.method != "HEAD":
                    push(bytes(body))
                if not message.get("more_body", False):
                    push(None)

        async def run_app() -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                if not started.is_set():
                    early_failure.append(exc)
                else:
                    push(exc)
            finally:
                # A body that never said more_body=False ends here (the reader sees an incomplete body).
                if started.is_set():
                    push(RuntimeError("the app returned without finishing the body"))
                send_body.close()
                started.set()

        self._tg.start_soon(run_app)
        await started.wait()
        if not status:
            if early_failure:
                raise httpx2.RemoteProtocolError(
                    "the in-process server failed before answering"
                ) from early_failure[0]
            raise httpx2.RemoteProtocolError("the in-process server returned without answering")
        return httpx2.Response(status[0], headers=headers[0], stream=_BodyStream(receive_body, disconnected))
