"""Links that open: the background workspace server of the local engine's data folder (issue 13).

On the local engine every tool that returns a browser link first makes sure that a server for the
engine's data folder is running, and links to it (``ensure``):

- started in the background on first need (``python -m handlers._workspace --home DIR``), detached
  from the tool call (its own session; its output goes to ``<home>/workspace.log``);
- on 127.0.0.1:8765 (``VIDEOGEN_WORKSPACE_PORT``; 0: any), or on a free port when that one is taken;
  its address is recorded in ``<home>/workspace.json``;
- one per folder: the server holds an exclusive lock on ``<home>/workspace.lock`` for as long as it
  runs (a second one exits at once), and a starter holds ``<home>/workspace.start.lock`` while it
  checks and starts, so two tool calls never start two servers;
- it stops by itself after ``VIDEOGEN_WORKSPACE_IDLE_S`` seconds (default 1800) without a request or
  an open page, and on ``videogen serve --stop`` (``stop``). Every link handed out counts as a
  request (``ensure`` asks the server for ``/healthz``), so a fresh link never points at a server
  about to stop.

``VIDEOGEN_WORKSPACE=off`` never starts one (links then name the recorded or the default address):
for test suites and hosts that must not leave a process behind.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Final

from handlers._constants import DEFAULT_SERVE_PORT
from handlers._errors import VideogenError

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the record and a health check decide
    fcntl = None

__all__ = [
    "DEFAULT_IDLE_S",
    "Record",
    "WorkspaceError",
    "enabled",
    "ensure",
    "idle_seconds",
    "preferred_port",
    "running",
    "stop",
]

DEFAULT_IDLE_S: Final = 1800.0
START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 15.0
_RECORD: Final = "workspace.json"
_LOCK: Final = "workspace.lock"
_START_LOCK: Final = "workspace.start.lock"
_LOG: Final = "workspace.log"
_STEP_S: Final = 0.05
_LAUNCHED: list[subprocess.Popen[bytes]] = []


class WorkspaceError(VideogenError):
    """The workspace server could not be started or stopped."""

    code = "workspace_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            recovery=(
                "Run `videogen serve` with the same VIDEOGEN_HOME and open the link there, "
                "or check <home>/workspace.log."
            ),
        )


@dataclass(frozen=True)
class Record:
    """What ``<home>/workspace.json`` says about the running server."""

    pid: int
    url: str
    started_at: float


def enabled(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    value = env.get("VIDEOGEN_WORKSPACE", "").strip().lower()
    return value not in {"off", "0", "no", "false"}


def idle_seconds(env: Mapping[str, str] | None = None) -> float:
    """``VIDEOGEN_WORKSPACE_IDLE_S`` (seconds, > 0), default 1800; a bad value is an error that says so."""
    env = os.environ if env is None else env
    raw = env.get("VIDEOGEN_WORKSPACE_IDLE_S", "").strip()
    if not raw:
        return DEFAULT_IDLE_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise WorkspaceError(
            f"VIDEOGEN_WORKSPACE_IDLE_S={raw!r} is not a number of seconds above 0 (the default is 1800)"
        )
    return value


def preferred_port(env: Mapping[str, str] | None = None) -> int:
    """``VIDEOGEN_WORKSPACE_PORT`` (0-65535; 0: any free port), default 8765."""
    env = os.environ if env is None else env
    raw = env.get("VIDEOGEN_WORKSPACE_PORT", "").strip()
    if not raw:
        return DEFAULT_SERVE_PORT
    if not raw.isdigit() or int(raw) > 65535:
        raise WorkspaceError(
            f"VIDEOGEN_WORKSPACE_PORT={raw!r} is not a port number (0-65535; the default is 8765)"
        )
    return int(raw)


# -- locks and the record ------------------------------------------------------------------------


def _read_record(home: Path) -> Record | None:
    try:
        data = json.loads((home / _RECORD).read_text(encoding="utf-8"))
        return Record(pid=int(data["pid"]), url=str(data["url"]), started_at=float(data["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(home: Path, record: Record) -> None:
    tmp = home / f".{_RECORD}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": record.pid, "url": record.url, "started_at": record.started_at}, fh)
    tmp.replace(home / _RECORD)


def _open_lock(path: Path) -> IO[bytes]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return os.fdopen(fd, "r+b")


def _try_lock(handle: IO[bytes]) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _server_alive(home: Path) -> bool:
    """Whether a workspace server process holds this folder's lock (without fcntl: its pid lives)."""
    if fcntl is None:
        record = _read_record(home)
        return record is not None and _healthy(record.url)  # (os.kill(pid, 0) would end it there)
    try:  # no lock file: no server ever ran here (a probe creates nothing)
        handle = os.fdopen(os.open(home / _LOCK, os.O_RDWR), "r+b")
    except FileNotFoundError:
        return False
    with handle:
        return not _try_lock(handle)  # closing the file releases a lock taken here


@contextmanager
def _start_lock(home: Path, timeout_s: float) -> Iterator[None]:
    """Held while one caller checks for a server and starts one (bounded wait)."""
    handle = _open_lock(home / _START_LOCK)
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise WorkspaceError(
                    f"another program has been starting the workspace server for {timeout_s:g} s"
                )
            time.sleep(_STEP_S)
        yield
    finally:
        handle.close()


def _healthy(url: str, timeout_s: float = 2.0) -> bool:
    """Whether the server at ``url`` (http://127.0.0.1:PORT) answers ``/healthz``: a loopback probe,
    not an API call, so plain ``http.client`` rather than the client's HTTP chokepoint."""
    host, _, port = url.removeprefix("http://").rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


# -- what tools and the CLI call -----------------------------------------------------------------


def running(home: Path) -> Record | None:
    """The folder's workspace server, when one runs and has recorded its address."""
    record = _read_record(home)
    if record is None or not _server_alive(home):
        return None
    return record


def ensure(
    home: Path, *, idle_s: float | None = None, port: int | None = None, timeout_s: float = START_TIMEOUT_S
) -> str:
    """The base URL of the folder's workspace server, started first when none runs (blocking)."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    record = running(home)
    if record is not None and _healthy(record.url):
        return record.url
    with _start_lock(home, timeout_s):
        record = running(home)
        if record is not None and _healthy(record.url):
            return record.url
        return _start(
            home,
            idle_seconds() if idle_s is None else idle_s,
            preferred_port() if port is None else port,
            timeout_s,
        )


def _start(home: Path, idle_s: float, port: int, timeout_s: float) -> str:
    root = str(Path(__file__).resolve().parent.parent)  # `-m handlers._workspace` is found from here
    env = {k: v for k, v in os.environ.items() if k != "VIDEOGEN_FAULTS"}
    log_path = home / _LOG
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    command = [sys.executable, "-m", "handlers._workspace", "--home", str(home), "--idle", repr(idle_s)]
    command += ["--port", str(port)]
    detach = hasattr(os, "fork")
    try:
        # The launcher forks the server and exits at once (the server is nobody's child: no zombie in a
        # long-lived host such as the MCP server); it runs in a new session, so it outlives the tool call.
        launcher = subprocess.Popen(
            [*command, "--detach"] if detach else command,
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            env=env,
            cwd=root,
            start_new_session=True,
        )
    finally:
        os.close(log_fd)
    if detach:
        try:
            launcher.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
            raise WorkspaceError("the workspace server's launcher did not return") from None
    else:
        _LAUNCHED.append(launcher)  # kept: the server runs on after this call
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = running(home)
        if record is not None and _healthy(record.url):
            return record.url
        if not detach and launcher.poll() is not None:
            break
        time.sleep(_STEP_S)
    raise WorkspaceError(f"the workspace server did not start within {timeout_s:g} s: {_log_tail(log_path)}")


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " / ".join(lines[-3:]) or "no log"


def stop(home: Path, *, timeout_s: float = STOP_TIMEOUT_S) -> Record | None:
    """Stop the folder's workspace server; the record of the one stopped, or None when none ran."""
    record = _read_record(home)
    if record is None or not _server_alive(home):
        (home / _RECORD).unlink(missing_ok=True)
        return None
    with suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _server_alive(home):
        if time.monotonic() >= deadline:
            raise WorkspaceError(
                f"the workspace server (pid {record.pid}) did not stop within {timeout_s:g} s"
            )
        time.sleep(_STEP_S)
    return record


# -- the server process --------------------------------------------------------------------------


def _serve(home: Path, idle_s: float, port: int) -> int:
    from handlers._embedded import run_workspace_server

    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = _open_lock(home / _LOCK)
    if not _try_lock(lock):
        print("videogen workspace: another workspace server runs for this folder", file=sys.stderr)
        return 0
    me = os.getpid()

    def on_ready(host: str, port: int) -> None:
        _write_record(home, Record(pid=me, url=f"http://{host}:{port}", started_at=time.time()))

    try:
        try:
            run_workspace_server(home, port, idle_s, on_ready)
        except OSError:  # the port is taken: any free one
            run_workspace_server(home, 0, idle_s, on_ready)
    finally:
        record = _read_record(home)
        if record is not None and record.pid == me:
            (home / _RECORD).unlink(missing_ok=True)
        lock.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handlers._workspace", description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="the engine's data folder")
    parser.add_argument(
        "--idle", type=float, default=DEFAULT_IDLE_S, help="stop after this many idle seconds"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_SERVE_PORT, help="the port to try first")
    parser.add_argument("--detach", action="store_true", help="fork the server and return at once")
    ns = parser.parse_args(argv)
    if ns.detach and os.fork() > 0:
        os._exit(0)  # the launcher; the forked server carries on
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # outlives the terminal of the tool call that started it
    return _serve(ns.home, ns.idle, ns.port)


if __name__ == "__main__":
    sys.exit(main())
