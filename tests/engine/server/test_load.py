"""A small run of bench/load_test.py: concurrent sessions edit and render, no error, no lost revision."""

from pathlib import Path

import pytest

from bench import load_test
from engine.server import ServerConfig

from ._support import running_server

pytestmark = pytest.mark.anyio


async def test_five_concurrent_sessions_edit_and_render_without_losing_a_revision(tmp_path: Path) -> None:
    config = ServerConfig(home=tmp_path / "home", max_render_height=90, max_concurrent_renders=2)
    async with running_server(config) as base:
        report = await load_test.run_load(base, sessions=5, edits=4, renders=1, limit_s=120)
    assert report.errors == []
    assert report.lost_revisions == []
    assert len(report.edit_latencies) == 20
    assert report.renders_completed == 5
    assert report.revisions_stored == 5 * (2 + 4)
    assert "p95" in report.lines()[1]
