"""The engine's storage: one SQLite database (WAL) under the home folder, plus content-addressed media.

Layout of ``home``::

    engine.sqlite3      users, tokens, credits, sessions, revisions, turns, uploads, renders, claims
    media/ab/<sha256>.<fmt>  uploaded files, named by the SHA-256 of their content
    renders/            finished renders (the renderer publishes them atomically)
    tmp/                uploads and downloads while they stream in (emptied at every start)
    storyboards/        contact sheets, one per session revision

Everything is private to the user who runs the engine: folders 0700 and files 0600, enforced at
every start on an existing home too (one made by an older version, or by hand with looser modes).

Revisions are immutable rows (triggers refuse UPDATE and DELETE): every draft change appends one, and
the session's ``head`` is the only thing that moves (undo and redo are head moves, recorded in
``head_moves``). A turn's credits are reserved (``available`` -> ``frozen``) before its stream starts
and spent or given back when it ends.

Concurrency: one connection, one lock. Every public method takes the lock and runs one short
transaction; async callers go through ``Store.run`` (a worker thread), so the event loop never waits
on the disk.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Final, Literal, ParamSpec, TypeVar, cast

import anyio.to_thread

from engine.render import RenderCache

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no advisory locks; every start recovers
    fcntl = None

__all__ = [
    "ENGINE_STOPPED",
    "RATE_WINDOW_S",
    "HistoryEntry",
    "HistoryTargets",
    "RateLimitedError",
    "RenderRow",
    "SessionRow",
    "Store",
    "TokenGrant",
    "TurnRow",
    "UploadRow",
]

RATE_WINDOW_S: Final = 7 * 86400
ENGINE_STOPPED: Final = "the engine stopped while this render was running; start it again"
TURN_STOPPED: Final = "the engine stopped while this turn was running; its credits were returned"

_P = ParamSpec("_P")
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users(
    id TEXT PRIMARY KEY, client_id TEXT UNIQUE NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens(
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), client_id TEXT NOT NULL,
    ip TEXT NOT NULL, issued_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_by_client ON tokens(client_id, expires_at);
CREATE INDEX IF NOT EXISTS tokens_by_ip ON tokens(ip, issued_at);
CREATE TABLE IF NOT EXISTS credits(
    user_id TEXT PRIMARY KEY REFERENCES users(id), available INTEGER NOT NULL CHECK(available >= 0),
    frozen INTEGER NOT NULL CHECK(frozen >= 0));
CREATE TABLE IF NOT EXISTS sessions(
    id TEXT PRIMARY KEY, task_id TEXT UNIQUE NOT NULL, user_id TEXT NOT NULL REFERENCES users(id),
    task_name TEXT NOT NULL, language TEXT NOT NULL, head INTEGER, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS revisions(
    session_id TEXT NOT NULL REFERENCES sessions(id), n INTEGER NOT NULL, parent INTEGER,
    turn_id TEXT NOT NULL, stage TEXT NOT NULL, draft TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY(session_id, n));
CREATE TRIGGER IF NOT EXISTS revisions_no_update BEFORE UPDATE ON revisions
    BEGIN SELECT RAISE(ABORT, 'revisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS revisions_no_delete BEFORE DELETE ON revisions
    BEGIN SELECT RAISE(ABORT, 'revisions are immutable'); END;
CREATE TABLE IF NOT EXISTS head_moves(
    session_id TEXT NOT NULL, turn_id TEXT NOT NULL, from_n INTEGER, to_n INTEGER, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns(
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), user_id TEXT NOT NULL,
    message TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, cost INTEGER NOT NULL,
    base INTEGER, result INTEGER, reply TEXT, error TEXT, started_at REAL NOT NULL, finished_at REAL,
    pid INTEGER);
CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session_id, started_at);
CREATE TABLE IF NOT EXISTS uploads(
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), user_id TEXT NOT NULL,
    sha256 TEXT NOT NULL, format TEXT NOT NULL, filename TEXT NOT NULL, file_type TEXT NOT NULL,
    size INTEGER NOT NULL, duration_ms INTEGER, width INTEGER, height INTEGER, fps REAL,
    has_audio INTEGER NOT NULL, speech_like INTEGER, file_token TEXT UNIQUE NOT NULL,
    created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS uploads_by_session ON uploads(session_id, created_at);
CREATE TABLE IF NOT EXISTS renders(
    user_id TEXT NOT NULL, id TEXT NOT NULL, session_id TEXT NOT NULL, status TEXT NOT NULL,
    progress REAL NOT NULL, format TEXT NOT NULL, quality TEXT NOT NULL, draft TEXT NOT NULL,
    out_name TEXT NOT NULL, file_token TEXT UNIQUE NOT NULL, duration REAL, size INTEGER,
    error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY(user_id, id));
CREATE INDEX IF NOT EXISTS renders_by_session ON renders(session_id, created_at);
CREATE TABLE IF NOT EXISTS children(
    pid INTEGER PRIMARY KEY, owner INTEGER NOT NULL, started_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS claims(
    token TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), created_at REAL NOT NULL,
    expires_at REAL NOT NULL);
"""


class RateLimitedError(Exception):
    """Too many new tokens from one address in the window."""


@dataclass(frozen=True)
class TokenGrant:
    token: str
    user_id: str
    expires_at: float
    credits: int


@dataclass(frozen=True)
class SessionRow:
    id: str
    task_id: str
    user_id: str
    task_name: str
    language: str
    head: int | None
    created_at: float


@dataclass(frozen=True)
class UploadRow:
    id: str
    session_id: str
    sha256: str
    format: str
    filename: str
    file_type: str
    size: int
    duration_ms: int | None
    width: int | None
    height: int | None
    fps: float | None
    has_audio: bool
    speech_like: bool | None
    file_token: str
    created_at: float


@dataclass(frozen=True)
class RenderRow:
    user_id: str
    id: str
    session_id: str
    status: str
    progress: float
    format: str
    quality: str
    draft: str
    out_name: str
    file_token: str
    duration: float | None
    size: int | None
    error: str | None
    created_at: float
    updated_at: float


MAX_HISTORY_STEPS = 10  # "undo the last N changes" goes back at most this far in one message


@dataclass(frozen=True)
class HistoryTargets:
    """Revision numbers that undo, redo and "back to the first version" would move the head to."""

    head: int | None
    undo: int | None
    redo: int | None
    first: int | None
    # Several steps at once ("undo the last 3 changes"): the revisions undo/redo would reach after
    # 1, 2, ... steps (the first is ``undo`` / ``redo``).
    undo_path: tuple[int, ...] = ()
    redo_path: tuple[int, ...] = ()


@dataclass(frozen=True)
class HistoryEntry:
    """One revision with the turn that made it (the workspace page's history)."""

    n: int
    parent: int | None
    stage: str
    created_at: float
    message: str
    draft: dict[str, Any]
    parent_draft: dict[str, Any] | None


@dataclass(frozen=True)
class TurnRow:
    """One message of a session and how it ended (the workspace page's conversation)."""

    id: str
    message: str
    kind: str
    status: str
    reply: str | None
    error: str | None
    started_at: float


# one step of history from revision ?2: undo goes to the revision its turn started from; redo to the
# result of the newest turn that started from it (and changed the draft)
_UNDO_STEP = "SELECT t.base FROM revisions r JOIN turns t ON t.id=r.turn_id WHERE r.session_id=? AND r.n=?"
_REDO_STEP = (
    "SELECT result FROM turns WHERE session_id=? AND base=? AND result IS NOT NULL "
    "AND kind!='revision' ORDER BY started_at DESC, rowid DESC LIMIT 1"
)


class Store:
    """All persistent state of one engine home. Thread-safe; see the module docstring."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.media_dir = home / "media"
        self.renders_dir = home / "renders"
        self.tmp_dir = home / "tmp"
        self.storyboards_dir = home / "storyboards"
        self.render_cache_dir = home / "cache" / "render"  # engine.render.RenderCache's folder
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (self.media_dir, self.renders_dir, self.tmp_dir, self.storyboards_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
        make_private(home)
        db_path = home / "engine.sqlite3"
        try:
            self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise OSError(f"cannot open the engine database {db_path}: {exc}") from exc
        db_path.chmod(0o600)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._home_lock: IO[bytes] | None = None
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
            columns = {row["name"] for row in self._conn.execute("PRAGMA table_info(turns)")}
            if "pid" not in columns:  # a home made before turns recorded their process
                self._conn.execute("ALTER TABLE turns ADD COLUMN pid INTEGER")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        if self._home_lock is not None:
            self._home_lock.close()  # releases the shared lock
            self._home_lock = None

    async def run(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run one of this store's methods in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    # -- startup ------------------------------------------------------------------------------------

    def recover(self, now: float) -> tuple[int, int] | None:
        """After a start: fail renders and turns a dead process left running; empty ``tmp/``; remove
        files under ``renders/`` that belong to no completed render (a killed render's partial file).

        Only when no other live process uses this home (the embedded engine runs in every CLI call,
        and two may overlap): every engine holds a shared lock on ``engine.lock`` while it runs, and
        recovery needs it exclusively. Returns (renders failed, turns failed), or None when another
        process holds the home and nothing was touched.
        """
        if not self._lock_home_exclusively():
            return None
        try:
            return self._recover(now)
        finally:
            self._share_home()

    def _lock_home_exclusively(self) -> bool:
        if fcntl is None:
            return True
        if self._home_lock is None:
            lock_path = self.home / "engine.lock"
            self._home_lock = os.fdopen(
                os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+b"
            )
        try:
            fcntl.flock(self._home_lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._home_lock.fileno(), fcntl.LOCK_SH)
            return False
        return True

    def _share_home(self) -> None:
        if fcntl is not None and self._home_lock is not None:
            fcntl.flock(self._home_lock.fileno(), fcntl.LOCK_SH)

    def _recover(self, now: float) -> tuple[int, int]:
        self._end_leftover_children()  # before any file is removed: nothing may still write it
        for leftover in self.tmp_dir.iterdir():
            if leftover.is_file():
                leftover.unlink()
        RenderCache(self.render_cache_dir).clear_work()  # a killed export's chunks in progress
        with self._tx() as db:
            renders = db.execute(
                "UPDATE renders SET status='failed', error=?, updated_at=? "
                "WHERE status IN ('pending','processing')",
                (ENGINE_STOPPED, now),
            ).rowcount
            stuck = db.execute("SELECT id, user_id, cost FROM turns WHERE status='running'").fetchall()
            for turn in stuck:
                db.execute(
                    "UPDATE credits SET frozen=frozen-?, available=available+? WHERE user_id=?",
                    (turn["cost"], turn["cost"], turn["user_id"]),
                )
                db.execute(
                    "UPDATE turns SET status='failed', error=?, finished_at=? WHERE id=?",
                    (TURN_STOPPED, now, turn["id"]),
                )
            completed = db.execute("SELECT out_name FROM renders WHERE status='completed'").fetchall()
            finished = {row["out_name"] for row in completed}
        for path in self.renders_dir.iterdir():
            if path.is_file() and path.name not in finished:
                path.unlink()
        return renders, len(stuck)

    def _end_leftover_children(self) -> None:
        """Kill the process groups of ffmpeg children a dead engine left running; wait until gone."""
        with self._read() as db:
            pids = [int(r["pid"]) for r in db.execute("SELECT pid FROM children").fetchall()]
        ended = [pid for pid in pids if _end_group(pid)]
        deadline = time.monotonic() + 10.0
        while ended and time.monotonic() < deadline:
            ended = [pid for pid in ended if _running(pid)]
            if ended:
                time.sleep(0.02)
        with self._tx() as db:
            db.executemany("DELETE FROM children WHERE pid=?", [(pid,) for pid in pids])

    def add_child(self, pid: int, owner: int, now: float) -> None:
        """Record a child process (its pid is its process group) of the engine process ``owner``."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO children(pid, owner, started_at) VALUES(?,?,?)", (pid, owner, now)
            )

    def remove_child(self, pid: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM children WHERE pid=?", (pid,))

    def children(self) -> list[int]:
        with self._read() as db:
            return [int(r["pid"]) for r in db.execute("SELECT pid FROM children").fetchall()]

    # -- auth and credits ---------------------------------------------------------------------------

    def issue_token(
        self, client_id: str, ip: str, *, now: float, ttl_s: float, per_ip: int, initial_credits: int
    ) -> TokenGrant:
        """The client's unexpired token, or a new one (counted against ``ip``'s limit)."""
        with self._tx() as db:
            user = db.execute("SELECT id FROM users WHERE client_id=?", (client_id,)).fetchone()
            if user is not None:
                live = db.execute(
                    "SELECT token, expires_at FROM tokens WHERE client_id=? AND expires_at>? "
                    "ORDER BY expires_at DESC LIMIT 1",
                    (client_id, now),
                ).fetchone()
                if live is not None:
                    return TokenGrant(
                        live["token"], user["id"], live["expires_at"], self._available(db, user["id"])
                    )
            recent = db.execute(
                "SELECT COUNT(*) FROM tokens WHERE ip=? AND issued_at>?", (ip, now - RATE_WINDOW_S)
            ).fetchone()[0]
            if recent >= per_ip:
                raise RateLimitedError(ip)
            if user is None:
                user_id = "anon_" + uuid.uuid4().hex[:16]
                db.execute(
                    "INSERT INTO users(id, client_id, created_at) VALUES(?,?,?)", (user_id, client_id, now)
                )
                db.execute(
                    "INSERT INTO credits(user_id, available, frozen) VALUES(?,?,0)",
                    (user_id, initial_credits),
                )
            else:
                user_id = user["id"]
            token = "nmv_usr_" + secrets.token_urlsafe(32)
            expires_at = now + ttl_s
            db.execute(
                "INSERT INTO tokens(token, user_id, client_id, ip, issued_at, expires_at) "
                "VALUES(?,?,?,?,?,?)",
                (token, user_id, client_id, ip, now, expires_at),
            )
            return TokenGrant(token, user_id, expires_at, self._available(db, user_id))

    @staticmethod
    def _available(db: sqlite3.Connection, user_id: str) -> int:
        row = db.execute("SELECT available FROM credits WHERE user_id=?", (user_id,)).fetchone()
        return int(row["available"]) if row is not None else 0

    def user_for_token(self, token: str, now: float) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT user_id, expires_at FROM tokens WHERE token=?", (token,)).fetchone()
        if row is None or row["expires_at"] <= now:
            return None
        return str(row["user_id"])

    def credits(self, user_id: str) -> tuple[int, int]:
        """(available, frozen)."""
        with self._read() as db:
            row = db.execute("SELECT available, frozen FROM credits WHERE user_id=?", (user_id,)).fetchone()
        return (int(row["available"]), int(row["frozen"])) if row is not None else (0, 0)

    # -- sessions -----------------------------------------------------------------------------------

    def create_session(self, user_id: str, task_name: str, language: str, now: float) -> SessionRow:
        row = SessionRow(
            id=str(uuid.uuid4()),
            task_id="task_" + uuid.uuid4().hex[:20],
            user_id=user_id,
            task_name=task_name,
            language=language,
            head=None,
            created_at=now,
        )
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions(id, task_id, user_id, task_name, language, head, created_at) "
                "VALUES(?,?,?,?,?,NULL,?)",
                (row.id, row.task_id, row.user_id, row.task_name, row.language, row.created_at),
            )
        return row

    def get_session(self, session_id: str, user_id: str | None) -> SessionRow | None:
        """The session, if it exists and (when ``user_id`` is given) belongs to that user."""
        with self._read() as db:
            row = db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None or (user_id is not None and row["user_id"] != user_id):
            return None
        return _session(row)

    def session_for_task(self, task_id: str, session_id: str) -> SessionRow | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM sessions WHERE id=? AND task_id=?", (session_id, task_id)
            ).fetchone()
        return None if row is None else _session(row)

    def list_sessions(self) -> list[SessionRow]:
        with self._read() as db:
            return [_session(r) for r in db.execute("SELECT * FROM sessions ORDER BY created_at").fetchall()]

    def create_claim(self, session_id: str, now: float, ttl_s: float) -> str:
        token = "clm_" + secrets.token_urlsafe(24)
        with self._tx() as db:
            db.execute(
                "INSERT INTO claims(token, session_id, created_at, expires_at) VALUES(?,?,?,?)",
                (token, session_id, now, now + ttl_s),
            )
        return token

    def session_for_claim(self, token: str, now: float) -> SessionRow | None:
        with self._read() as db:
            row = db.execute(
                "SELECT s.* FROM claims c JOIN sessions s ON s.id=c.session_id "
                "WHERE c.token=? AND c.expires_at>?",
                (token, now),
            ).fetchone()
        return None if row is None else _session(row)

    # -- revisions and turns ------------------------------------------------------------------------

    def draft_at(self, session_id: str, n: int | None) -> dict[str, Any] | None:
        if n is None:
            return None
        with self._read() as db:
            row = db.execute(
                "SELECT draft FROM revisions WHERE session_id=? AND n=?", (session_id, n)
            ).fetchone()
        if row is None:
            return None
        loaded: dict[str, Any] = json.loads(row["draft"])
        return loaded

    def revision_count(self, session_id: str) -> int:
        with self._read() as db:
            return int(
                db.execute("SELECT COUNT(*) FROM revisions WHERE session_id=?", (session_id,)).fetchone()[0]
            )

    def revisions(self, session_id: str) -> list[tuple[int, int | None, str, dict[str, Any]]]:
        """Every revision of a session, oldest first: (n, parent, turn id, draft)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT n, parent, turn_id, draft FROM revisions WHERE session_id=? ORDER BY n", (session_id,)
            ).fetchall()
        return [(r["n"], r["parent"], r["turn_id"], json.loads(r["draft"])) for r in rows]

    def history_targets(self, session_id: str) -> HistoryTargets:
        """Where undo, redo and "first" would move the head (None: nowhere to go).

        Undo goes to the revision the head's turn started from; redo to the newest revision of the
        newest turn that started from the head (after an undo, the turn that was undone); first to
        the last revision of the session's first turn that changed the draft.
        """
        with self._read() as db:

            def one(sql: str, at: int) -> int | None:
                row = db.execute(sql, (session_id, at)).fetchone()
                return None if row is None else cast(int | None, row[0])

            def walk(sql: str, start: int | None) -> tuple[int, ...]:
                """``start`` and each step after it by ``sql``, at most MAX_HISTORY_STEPS, no loop."""
                path: list[int] = []
                at = start
                while at is not None and len(path) < MAX_HISTORY_STEPS and at not in path:
                    path.append(at)
                    at = one(sql, at)
                return tuple(path)

            head_row = db.execute("SELECT head FROM sessions WHERE id=?", (session_id,)).fetchone()
            head: int | None = None if head_row is None else head_row["head"]
            undo = None if head is None else one(_UNDO_STEP, head)
            redo = None if head is None else one(_REDO_STEP, head)
            first_row = db.execute(
                "SELECT result FROM turns WHERE session_id=? AND result IS NOT NULL AND kind!='revision' "
                "ORDER BY started_at, rowid LIMIT 1",
                (session_id,),
            ).fetchone()
            first = None if first_row is None else first_row["result"]
            undo_path = walk(_UNDO_STEP, undo)
            redo_path = walk(_REDO_STEP, redo)
        return HistoryTargets(
            head=head,
            undo=undo,
            redo=redo,
            first=first,
            undo_path=undo_path,
            redo_path=redo_path,
        )

    def history(self, session_id: str, limit: int) -> list[HistoryEntry]:
        """The newest ``limit`` revisions, oldest first, with their turn's message and parent's draft."""
        with self._read() as db:
            rows = db.execute(
                "SELECT r.n, r.parent, r.stage, r.created_at, r.draft, t.message, p.draft AS parent_draft "
                "FROM revisions r LEFT JOIN turns t ON t.id=r.turn_id "
                "LEFT JOIN revisions p ON p.session_id=r.session_id AND p.n=r.parent "
                "WHERE r.session_id=? ORDER BY r.n DESC LIMIT ?",
                (session_id, limit),
            ).fetchall()
        return [
            HistoryEntry(
                n=r["n"],
                parent=r["parent"],
                stage=r["stage"],
                created_at=r["created_at"],
                message=r["message"] or "",
                draft=json.loads(r["draft"]),
                parent_draft=None if r["parent_draft"] is None else json.loads(r["parent_draft"]),
            )
            for r in reversed(rows)
        ]

    def session_turns(self, session_id: str, limit: int) -> list[TurnRow]:
        """The newest ``limit`` turns of a session, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, message, kind, status, reply, error, started_at FROM turns "
                "WHERE session_id=? ORDER BY started_at DESC, rowid DESC LIMIT ?",
                (session_id, limit),
            ).fetchall()
        return [
            TurnRow(
                id=r["id"],
                message=r["message"],
                kind=r["kind"],
                status=r["status"],
                reply=r["reply"],
                error=r["error"],
                started_at=r["started_at"],
            )
            for r in reversed(rows)
        ]

    def change_mark(self, session_id: str) -> str:
        """A fingerprint of everything the workspace page shows: it changes whenever any of it does
        (a revision, a head move, a turn starting or ending, an upload, a render's progress), also when
        another process on this home made the change."""
        with self._read() as db:
            parts = [
                db.execute("SELECT head FROM sessions WHERE id=?", (session_id,)).fetchone(),
                db.execute(
                    "SELECT COUNT(*), MAX(n) FROM revisions WHERE session_id=?", (session_id,)
                ).fetchone(),
                db.execute("SELECT COUNT(*) FROM head_moves WHERE session_id=?", (session_id,)).fetchone(),
                db.execute(
                    "SELECT COUNT(*), SUM(status='running'), MAX(finished_at) FROM turns WHERE session_id=?",
                    (session_id,),
                ).fetchone(),
                db.execute("SELECT COUNT(*) FROM uploads WHERE session_id=?", (session_id,)).fetchone(),
                db.execute(
                    "SELECT COUNT(*), MAX(updated_at), SUM(progress) FROM renders WHERE session_id=?",
                    (session_id,),
                ).fetchone(),
            ]
        return "|".join(",".join(str(v) for v in tuple(row or ())) for row in parts)

    def begin_turn(
        self, turn_id: str, session_id: str, user_id: str, message: str, kind: str, cost: int, now: float
    ) -> Literal["started", "busy", "no_credits"]:
        """Record a running turn and reserve its credits, unless the session already has a running
        turn in a live process ("busy") or the credits lack ("no_credits"); then nothing is recorded.

        A running turn whose process is gone (killed while another engine kept the home open) is
        failed here and its credits given back, so it never blocks the session.
        """
        with self._tx() as db:
            running = db.execute(
                "SELECT id, user_id, cost, pid FROM turns WHERE session_id=? AND status='running'",
                (session_id,),
            ).fetchall()
            for turn in running:
                if turn["pid"] is None or _alive(int(turn["pid"])):
                    return "busy"
                db.execute(
                    "UPDATE credits SET frozen=frozen-?, available=available+? WHERE user_id=?",
                    (turn["cost"], turn["cost"], turn["user_id"]),
                )
                db.execute(
                    "UPDATE turns SET status='failed', error=?, finished_at=? WHERE id=?",
                    (TURN_STOPPED, now, turn["id"]),
                )
            if cost > 0:
                reserved = db.execute(
                    "UPDATE credits SET available=available-?, frozen=frozen+? "
                    "WHERE user_id=? AND available>=?",
                    (cost, cost, user_id, cost),
                ).rowcount
                if reserved == 0:
                    return "no_credits"
            head = db.execute("SELECT head FROM sessions WHERE id=?", (session_id,)).fetchone()["head"]
            db.execute(
                "INSERT INTO turns(id, session_id, user_id, message, kind, status, cost, base, "
                "started_at, pid) VALUES(?,?,?,?,?,'running',?,?,?,?)",
                (turn_id, session_id, user_id, message, kind, cost, head, now, os.getpid()),
            )
        return "started"

    def add_revision(
        self, session_id: str, turn_id: str, stage: str, draft: dict[str, Any], now: float
    ) -> int:
        """Append a revision after the head, make it the head and the turn's result; its number."""
        text = json.dumps(draft, ensure_ascii=False, separators=(",", ":"))
        with self._tx() as db:
            head = db.execute("SELECT head FROM sessions WHERE id=?", (session_id,)).fetchone()["head"]
            last = db.execute("SELECT MAX(n) FROM revisions WHERE session_id=?", (session_id,)).fetchone()[0]
            n = 1 if last is None else int(last) + 1
            db.execute(
                "INSERT INTO revisions(session_id, n, parent, turn_id, stage, draft, created_at) "
                "VALUES(?,?,?,?,?,?,?)",
                (session_id, n, head, turn_id, stage, text, now),
            )
            db.execute("UPDATE sessions SET head=? WHERE id=?", (n, session_id))
            db.execute("UPDATE turns SET result=? WHERE id=?", (n, turn_id))
        return n

    def move_head(self, session_id: str, turn_id: str, to_n: int, now: float) -> None:
        with self._tx() as db:
            exists = db.execute(
                "SELECT 1 FROM revisions WHERE session_id=? AND n=?", (session_id, to_n)
            ).fetchone()
            if exists is None:
                raise ValueError(f"session {session_id} has no revision {to_n}")
            head = db.execute("SELECT head FROM sessions WHERE id=?", (session_id,)).fetchone()["head"]
            db.execute("UPDATE sessions SET head=? WHERE id=?", (to_n, session_id))
            db.execute(
                "INSERT INTO head_moves(session_id, turn_id, from_n, to_n, at) VALUES(?,?,?,?,?)",
                (session_id, turn_id, head, to_n, now),
            )

    def finish_turn(
        self, turn_id: str, *, ok: bool, reply: str | None, error: str | None, now: float
    ) -> None:
        """Spend the turn's reserved credits (ok) or give them back (failed)."""
        with self._tx() as db:
            turn = db.execute("SELECT user_id, cost, status FROM turns WHERE id=?", (turn_id,)).fetchone()
            if turn is None or turn["status"] != "running":
                return
            cost = int(turn["cost"])
            if ok:
                db.execute("UPDATE credits SET frozen=frozen-? WHERE user_id=?", (cost, turn["user_id"]))
            else:
                db.execute(
                    "UPDATE credits SET frozen=frozen-?, available=available+? WHERE user_id=?",
                    (cost, cost, turn["user_id"]),
                )
            db.execute(
                "UPDATE turns SET status=?, reply=?, error=?, finished_at=? WHERE id=?",
                ("completed" if ok else "failed", reply, error, now, turn_id),
            )

    def turn_running(self, session_id: str) -> bool:
        """Whether a turn of the session runs in a live process (this one or another on this home)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT pid FROM turns WHERE session_id=? AND status='running'", (session_id,)
            ).fetchall()
        return any(row["pid"] is None or _alive(int(row["pid"])) for row in rows)

    def turn_status(self, turn_id: str) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT status FROM turns WHERE id=?", (turn_id,)).fetchone()
        return None if row is None else str(row["status"])

    # -- uploads ------------------------------------------------------------------------------------

    def add_uploads(self, user_id: str, rows: Sequence[UploadRow]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT INTO uploads(id, session_id, user_id, sha256, format, filename, file_type, size, "
                "duration_ms, width, height, fps, has_audio, speech_like, file_token, created_at) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        r.id,
                        r.session_id,
                        user_id,
                        r.sha256,
                        r.format,
                        r.filename,
                        r.file_type,
                        r.size,
                        r.duration_ms,
                        r.width,
                        r.height,
                        r.fps,
                        int(r.has_audio),
                        None if r.speech_like is None else int(r.speech_like),
                        r.file_token,
                        r.created_at,
                    )
                    for r in rows
                ],
            )

    def user_upload_bytes(self, user_id: str) -> int:
        """Bytes of all uploads the user has stored (every session)."""
        with self._read() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(size), 0) FROM uploads WHERE user_id=?", (user_id,)
            ).fetchone()
        return int(row[0])

    def uploads(self, session_id: str) -> list[UploadRow]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM uploads WHERE session_id=? ORDER BY created_at, rowid", (session_id,)
            ).fetchall()
        return [_upload(r) for r in rows]

    def upload_by_token(self, file_token: str) -> UploadRow | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM uploads WHERE file_token=?", (file_token,)).fetchone()
        return None if row is None else _upload(row)

    def media_path(self, sha256: str, fmt: str) -> Path:
        """Where the content with this hash lives (the extension helps ffmpeg pick a demuxer)."""
        return self.media_dir / sha256[:2] / f"{sha256}.{fmt}"

    # -- renders ------------------------------------------------------------------------------------

    def create_render(self, row: RenderRow) -> tuple[RenderRow, bool]:
        """Insert a render job; if the user already has one with this id, that one (and False)."""
        with self._tx() as db:
            existing = db.execute(
                "SELECT * FROM renders WHERE user_id=? AND id=?", (row.user_id, row.id)
            ).fetchone()
            if existing is not None:
                return _render(existing), False
            db.execute(
                "INSERT INTO renders(user_id, id, session_id, status, progress, format, quality, draft, "
                "out_name, file_token, duration, size, error, created_at, updated_at) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.user_id,
                    row.id,
                    row.session_id,
                    row.status,
                    row.progress,
                    row.format,
                    row.quality,
                    row.draft,
                    row.out_name,
                    row.file_token,
                    row.duration,
                    row.size,
                    row.error,
                    row.created_at,
                    row.updated_at,
                ),
            )
        return row, True

    def update_render(
        self,
        user_id: str,
        render_id: str,
        *,
        status: str,
        progress: float,
        now: float,
        duration: float | None = None,
        size: int | None = None,
        error: str | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE renders SET status=?, progress=?, duration=?, size=?, error=?, updated_at=? "
                "WHERE user_id=? AND id=?",
                (status, progress, duration, size, error, now, user_id, render_id),
            )

    def active_renders(self, user_id: str) -> int:
        """How many of the user's renders are pending or processing."""
        with self._read() as db:
            row = db.execute(
                "SELECT COUNT(*) FROM renders WHERE user_id=? AND status IN ('pending','processing')",
                (user_id,),
            ).fetchone()
        return int(row[0])

    def get_render(self, user_id: str, render_id: str) -> RenderRow | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM renders WHERE user_id=? AND id=?", (user_id, render_id)
            ).fetchone()
        return None if row is None else _render(row)

    def render_by_token(self, file_token: str) -> RenderRow | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM renders WHERE file_token=?", (file_token,)).fetchone()
        return None if row is None else _render(row)

    def session_renders(self, session_id: str) -> list[RenderRow]:
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM renders WHERE session_id=? ORDER BY created_at, rowid", (session_id,)
            ).fetchall()
        return [_render(r) for r in rows]


def make_private(home: Path) -> None:
    """Folders 0700 and files 0600 under ``home`` (those this user owns; symlinks are not followed)."""
    uid = os.getuid() if hasattr(os, "getuid") else None

    def fix(path: Path, mode: int) -> None:
        try:
            info = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode) or (uid is not None and info.st_uid != uid):
            return
        if stat.S_IMODE(info.st_mode) != mode:
            path.chmod(mode)

    fix(home, 0o700)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            fix(Path(root) / name, 0o700)
        for name in files:
            fix(Path(root) / name, 0o600)


def _end_group(pid: int) -> bool:
    """SIGKILL the process group ``pid`` if it is still one of our ffmpeg children; whether it was."""
    if not hasattr(os, "killpg") or not _running(pid):
        return False
    try:
        if os.getpgid(pid) != pid:
            return False  # the pid was reused by a process that is not a group leader
        if sys.platform.startswith("linux"):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"ffmpeg" not in cmdline:
                return False  # reused by another program
        os.killpg(pid, signal.SIGKILL)
    except (OSError, ValueError):
        return False
    return True


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (a zombie writes nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat_file = Path(f"/proc/{pid}/stat")
    try:
        fields_after_name = stat_file.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return not fields_after_name or fields_after_name[0] != "Z"


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (this process counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _session(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=row["id"],
        task_id=row["task_id"],
        user_id=row["user_id"],
        task_name=row["task_name"],
        language=row["language"],
        head=row["head"],
        created_at=row["created_at"],
    )


def _upload(row: sqlite3.Row) -> UploadRow:
    return UploadRow(
        id=row["id"],
        session_id=row["session_id"],
        sha256=row["sha256"],
        format=row["format"],
        filename=row["filename"],
        file_type=row["file_type"],
        size=row["size"],
        duration_ms=row["duration_ms"],
        width=row["width"],
        height=row["height"],
        fps=row["fps"],
        has_audio=bool(row["has_audio"]),
        speech_like=None if row["speech_like"] is None else bool(row["speech_like"]),
        file_token=row["file_token"],
        created_at=row["created_at"],
    )


def _render(row: sqlite3.Row) -> RenderRow:
    return RenderRow(
        user_id=row["user_id"],
        id=row["id"],
        session_id=row["session_id"],
        status=row["status"],
        progress=row["progress"],
        format=row["format"],
        quality=row["quality"],
        draft=row["draft"],
        out_name=row["out_name"],
        file_token=row["file_token"],
        duration=row["duration"],
        size=row["size"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
