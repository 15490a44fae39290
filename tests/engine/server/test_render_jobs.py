"""The render job machinery in-process: a job whose outcome cannot be stored does not take the app down."""

import logging
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine.server._renders import RenderManager
from engine.server._store import Store
from engine.server.faults import FaultConfig, FaultState
from tests._support import eventually

pytestmark = pytest.mark.anyio

COLOR_DRAFT = {
    "m": {"width": 320, "height": 180, "fps": 30},
    "t": [
        {
            "id": "v1",
            "tt": 0,
            "role": "main",
            "sg": [{"id": "s1", "st": 0, "d": 1000, "m": {"kind": "color", "color": "#ff0000"}}],
        }
    ],
}


async def test_a_job_whose_outcome_cannot_be_stored_is_logged_and_the_others_carry_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    try:
        grant = store.issue_token("c", "ip", now=1.0, ttl_s=100.0, per_ip=10, initial_credits=0)
        session = store.create_session(grant.user_id, "project", "en", 1.0)
        manager = RenderManager(
            store,
            FaultState(FaultConfig(render_fail_once=True)),
            max_concurrent=1,
            max_height=None,
            clock=lambda: 2.0,
        )
        real_update = store.update_render

        def failing_update(*args: Any, **kwargs: Any) -> None:
            if kwargs.get("status") == "failed":
                raise sqlite3.OperationalError("disk I/O error")
            real_update(*args, **kwargs)

        monkeypatch.setattr(store, "update_render", failing_update)
        survived = False
        with caplog.at_level(logging.ERROR, logger="engine.server"), anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                manager.task_group = tg
                await manager.submit(grant.user_id, session, {"id": "r1", "draft": COLOR_DRAFT})
                await eventually(
                    lambda: "could not be recorded" in caplog.text, "the failure is logged", every_s=0.01
                )
                survived = True
        assert survived
        assert "render r1: its outcome could not be recorded" in caplog.text
        row = store.get_render(grant.user_id, "r1")
        assert row is not None
        assert row.status == "processing"  # left for the next start to fail
    finally:
        store.close()
