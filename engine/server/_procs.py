"""ffmpeg children: recorded, ended with the engine, and found again after a crash.

ffmpeg is spawned in one place (``engine.render._ffmpeg.run``), each child in its own session (so its
own process group: a Ctrl-C or a ``kill`` of the engine's group does not reach it, and it can be ended
as a group). While a request of this engine runs, ``ChildRegistry.watching`` installs the spawn hook
of ``engine.render``: every child that starts or ends is reported here, and

- a **watchdog** (a tiny Python process in its own session, started with the first child) holds the
  other end of a pipe. When the engine ends in any way, ``kill -9`` included, the pipe closes and the
  watchdog kills every process group still listed, then exits. This is the parent-death signal that
  works on every POSIX system (Linux's ``PR_SET_PDEATHSIG`` would need a ``preexec_fn`` hook that the
  spawn API does not offer, and it fires when the spawning *thread* exits);
- the **store** records each child's pid (= its process group) until it ends. If the watchdog died
  too (the whole process tree was killed), the next start finds the leftovers in ``Store.recover``,
  ends them and waits until they are gone before it removes any partial file they were writing.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Final

import anyio
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from engine.render import spawn_watch
from engine.server._store import Store

__all__ = ["ChildRegistry"]

log = logging.getLogger("engine.server")

_WATCHDOG: Final = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    op, _, pid = line.strip().partition(" ")
    if pid.isdigit():
        (groups.add if op == "+" else groups.discard)(int(pid))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""
_Event = tuple[int, bool]


class ChildRegistry:
    """Records this engine's ffmpeg children (store + watchdog); an async context manager."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._send: MemoryObjectSendStream[_Event]
        self._receive: MemoryObjectReceiveStream[_Event]
        self._send, self._receive = anyio.create_memory_object_stream[_Event](math.inf)
        self._watchdog: Process | None = None
        self.live: set[int] = set()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, store: Store) -> AsyncIterator[ChildRegistry]:
        """A registry whose recorder runs while the context is open; on exit the watchdog is told
        that the engine is ending (it ends what is still listed, normally nothing)."""
        registry = cls(store)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(registry._pump)
                try:
                    yield registry
                finally:
                    registry._send.close()  # the recorder drains what is queued, then ends
        finally:
            with anyio.CancelScope(shield=True):
                await registry._stop_watchdog()

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Report ffmpeg children spawned in this context (and in tasks it starts) to this registry."""
        token = spawn_watch.set(self.notify)
        try:
            yield
        finally:
            spawn_watch.reset(token)

    def notify(self, pid: int, started: bool) -> None:
        """The spawn hook: called (on the event loop) when a child starts and when it has ended."""
        if started:
            self.live.add(pid)
        else:
            self.live.discard(pid)
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._send.send_nowait((pid, started))

    async def _pump(self) -> None:
        async with self._receive:
            async for pid, started in self._receive:
                try:
                    if started:
                        await self._tell_watchdog(f"+ {pid}\n")
                        await self.store.run(self.store.add_child, pid, os.getpid(), time.time())
                    else:
                        await self._tell_watchdog(f"- {pid}\n")
                        await self.store.run(self.store.remove_child, pid)
                except Exception:  # a background task must never raise
                    log.exception("could not record ffmpeg child %d", pid)

    async def _tell_watchdog(self, line: str) -> None:
        if not hasattr(os, "killpg"):
            return  # no process groups (Windows): the store's record is all there is
        if self._watchdog is None:
            self._watchdog = await anyio.open_process(
                [sys.executable, "-u", "-c", _WATCHDOG],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        assert self._watchdog.stdin is not None
        await self._watchdog.stdin.send(line.encode())

    async def _stop_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        assert watchdog.stdin is not None
        await watchdog.stdin.aclose()  # end of input: it ends what is still listed, then exits
        with anyio.move_on_after(5):
            await watchdog.wait()
        if watchdog.returncode is None:
            watchdog.kill()
            await watchdog.wait()
