"""The SQLite store: tokens, credits, revisions (immutable, with undo/redo targets), recovery."""

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.server._store import ENGINE_STOPPED, RateLimitedError, RenderRow, Store

DAY = 86400.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "home")
    yield s
    s.close()


def _issue(store: Store, client: str, ip: str = "10.0.0.1", now: float = 1000.0, per_ip: int = 10) -> str:
    return store.issue_token(client, ip, now=now, ttl_s=7 * DAY, per_ip=per_ip, initial_credits=500).token


def test_a_client_gets_the_same_token_until_it_expires(store: Store) -> None:
    first = _issue(store, "client-a")
    assert first.startswith("nmv_usr_")
    assert _issue(store, "client-a", now=1000.0 + 6 * DAY) == first
    renewed = _issue(store, "client-a", now=1000.0 + 7 * DAY + 1)
    assert renewed != first
    assert store.user_for_token(first, 1000.0 + 7 * DAY + 1) is None
    assert store.user_for_token(renewed, 1000.0 + 7 * DAY + 1) == store.user_for_token(first, 1000.0)


def test_new_tokens_past_the_address_limit_are_refused(store: Store) -> None:
    for i in range(3):
        _issue(store, f"client-{i}", per_ip=3)
    _issue(store, "client-0", per_ip=3)  # the same token again does not count
    with pytest.raises(RateLimitedError):
        _issue(store, "client-9", per_ip=3)
    _issue(store, "client-9", ip="10.0.0.2", per_ip=3)
    _issue(store, "client-10", now=1000.0 + 7 * DAY + 1, per_ip=3)


def test_credits_are_reserved_then_spent_or_given_back(store: Store) -> None:
    user = store.user_for_token(_issue(store, "c"), 1000.0)
    assert user is not None
    session = store.create_session(user, "project", "en", 1000.0)
    other = store.create_session(user, "project", "en", 1000.0)
    assert store.begin_turn("t1", session.id, user, "hi", "edit", 200, 1000.0) == "started"
    assert store.credits(user) == (300, 200)
    assert store.begin_turn("t2", other.id, user, "hi", "edit", 301, 1000.0) == "no_credits"
    store.finish_turn("t1", ok=True, reply="ok", error=None, now=1001.0)
    assert store.credits(user) == (300, 0)
    assert store.begin_turn("t3", session.id, user, "hi", "edit", 100, 1002.0) == "started"
    store.finish_turn("t3", ok=False, reply=None, error="boom", now=1003.0)
    assert store.credits(user) == (300, 0)


def test_undo_redo_and_first_follow_the_revision_chain(store: Store) -> None:
    user = store.user_for_token(_issue(store, "c"), 1000.0)
    assert user is not None
    sid = store.create_session(user, "project", "en", 1000.0).id

    def turn(turn_id: str, *drafts: str, at: float) -> int:
        assert store.begin_turn(turn_id, sid, user, "m", "edit", 0, at) == "started"
        n = 0
        for i, title in enumerate(drafts):
            n = store.add_revision(sid, turn_id, f"stage{i}", {"m": {"title": title}, "t": []}, at)
        store.finish_turn(turn_id, ok=True, reply="", error=None, now=at)
        return n

    a = turn("ta", "raw", "A", at=1.0)
    b = turn("tb", "B", at=2.0)
    targets = store.history_targets(sid)
    assert (targets.head, targets.undo, targets.redo, targets.first) == (b, a, None, a)
    store.move_head(sid, "undo1", a, 3.0)
    targets = store.history_targets(sid)
    assert (targets.head, targets.undo, targets.redo) == (a, None, b)
    c = turn("tc", "C", at=4.0)
    store.move_head(sid, "undo2", a, 5.0)
    assert store.history_targets(sid).redo == c  # the newest turn from here
    assert [r[3]["m"]["title"] for r in store.revisions(sid)] == ["raw", "A", "B", "C"]


def test_revisions_cannot_be_changed_or_deleted(store: Store, tmp_path: Path) -> None:
    user = store.user_for_token(_issue(store, "c"), 1000.0)
    assert user is not None
    sid = store.create_session(user, "project", "en", 1000.0).id
    store.begin_turn("t", sid, user, "m", "edit", 0, 1.0)
    store.add_revision(sid, "t", "edit", {"m": {}, "t": []}, 1.0)
    db = sqlite3.connect(tmp_path / "home" / "engine.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute("UPDATE revisions SET draft='{}'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute("DELETE FROM revisions")
    db.close()


def test_a_restart_fails_what_a_dead_process_left_running(store: Store, tmp_path: Path) -> None:
    user = store.user_for_token(_issue(store, "c"), 1000.0)
    assert user is not None
    sid = store.create_session(user, "project", "en", 1000.0).id
    for rid, status in (("r1", "processing"), ("r2", "pending"), ("r3", "completed")):
        store.create_render(
            RenderRow(
                user,
                rid,
                sid,
                status,
                40.0,
                "mp4",
                "high",
                "{}",
                f"{rid}.mp4",
                f"tok-{rid}",
                None,
                None,
                None,
                1.0,
                1.0,
            )
        )
    store.begin_turn("t", sid, user, "m", "edit", 50, 1.0)
    (store.tmp_dir / "half.part").write_bytes(b"partial upload")
    (store.renders_dir / "r3.mp4").write_bytes(b"finished")
    (store.renders_dir / ".r1.partial-1a2b.mp4").write_bytes(b"half a video")
    assert store.recover(2.0) == (2, 1)
    assert [p.name for p in store.renders_dir.iterdir()] == ["r3.mp4"]
    assert {r.id: (r.status, r.error) for r in store.session_renders(sid)} == {
        "r1": ("failed", ENGINE_STOPPED),
        "r2": ("failed", ENGINE_STOPPED),
        "r3": ("completed", None),
    }
    assert store.credits(user) == (500, 0)
    assert list(store.tmp_dir.iterdir()) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["edit", "undo", "redo"]), max_size=25))
def test_any_edit_undo_redo_sequence_keeps_history_coherent(tmp_path: Path, ops: list[str]) -> None:
    store = Store(tmp_path / f"h{len(list(tmp_path.iterdir()))}")
    try:
        user = store.user_for_token(_issue(store, "c"), 1000.0)
        assert user is not None
        sid = store.create_session(user, "project", "en", 1000.0).id
        stored: list[tuple[int, int | None, str, dict[str, object]]] = []
        for i, op in enumerate(ops):
            before = store.history_targets(sid)
            if op == "edit":
                assert store.begin_turn(f"t{i}", sid, user, op, "edit", 0, float(i)) == "started"
                n = store.add_revision(sid, f"t{i}", "edit", {"m": {"i": i}, "t": []}, float(i))
                store.finish_turn(f"t{i}", ok=True, reply="", error=None, now=float(i))
                assert store.history_targets(sid).undo == before.head
                assert n == len(stored) + 1
            elif (target := before.undo if op == "undo" else before.redo) is not None:
                store.move_head(sid, f"m{i}", target, float(i))
                after = store.history_targets(sid)
                assert after.head == target
                if op == "undo":
                    assert after.redo == before.head  # redo right after an undo comes back
                else:
                    assert after.undo == before.head  # undo right after a redo goes back
            revisions = store.revisions(sid)
            assert revisions[: len(stored)] == stored  # append-only: nothing rewritten
            stored = revisions
            head = store.history_targets(sid).head
            assert head is None or 1 <= head <= len(stored)
    finally:
        store.close()


def test_recovery_leaves_a_home_alone_while_another_engine_uses_it(tmp_path: Path) -> None:
    home = tmp_path / "shared"
    running = Store(home)
    assert running.recover(1.0) == (0, 0)  # the first engine: alone, so it recovers
    user = running.user_for_token(_issue(running, "c"), 1000.0)
    assert user is not None
    sid = running.create_session(user, "project", "en", 1000.0).id
    running.create_render(
        RenderRow(user, "live", sid, "processing", 10.0, "mp4", "high", "{}", "live.mp4", "tok-live",
                  None, None, None, 1.0, 1.0)
    )  # fmt: skip
    (running.tmp_dir / "upload-in-progress.part").write_bytes(b"streaming")

    second = Store(home)
    assert second.recover(2.0) is None  # another engine is alive: touch nothing
    assert [r.status for r in second.session_renders(sid)] == ["processing"]
    assert (second.tmp_dir / "upload-in-progress.part").exists()
    second.close()

    running.close()  # the first engine stops (or dies: the kernel drops its lock either way)
    third = Store(home)
    assert third.recover(3.0) == (1, 0)
    assert [r.status for r in third.session_renders(sid)] == ["failed"]
    third.close()


def test_a_running_turn_blocks_its_session_only_while_its_process_lives(store: Store, tmp_path: Path) -> None:
    user = store.user_for_token(_issue(store, "c"), 1000.0)
    assert user is not None
    sid = store.create_session(user, "project", "en", 1000.0).id
    assert store.begin_turn("mine", sid, user, "m", "edit", 30, 1.0) == "started"
    assert store.begin_turn("again", sid, user, "m", "edit", 30, 2.0) == "busy"
    store.finish_turn("mine", ok=True, reply="", error=None, now=3.0)

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        db = sqlite3.connect(tmp_path / "home" / "engine.sqlite3")
        with db:
            db.execute(
                "INSERT INTO turns(id, session_id, user_id, message, kind, status, cost, started_at, pid) "
                "VALUES('theirs', ?, ?, 'm', 'edit', 'running', 0, 4.0, ?)",
                (sid, user, child.pid),
            )
        db.close()
        assert store.begin_turn("blocked", sid, user, "m", "edit", 30, 5.0) == "busy"  # alive elsewhere
        assert store.turn_running(sid)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    assert not store.turn_running(sid)
    assert store.begin_turn("after", sid, user, "m", "edit", 30, 6.0) == "started"  # its process is gone
    assert store.turn_status("theirs") == "failed"
