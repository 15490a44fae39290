"""A small run of bench/load_test.py: concurrent sessions edit and render, no error, no lost revision."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from engine.server import ServerConfig

from ._support import running_server

pytestmark = pytest.mark.anyio

BENCH = Path(__file__).resolve().parents[3] / "bench" / "load_test.py"


def _load_test_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("videogen_load_test", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_five_concurrent_sessions_edit_and_render_without_losing_a_revision(tmp_path: Path) -> None:
    load = _load_test_module()
    config = ServerConfig(home=tmp_path / "home", max_render_height=90, max_concurrent_renders=2)
    async with running_server(config) as base:
        report = await load.run_load(base, sessions=5, edits=4, renders=1, limit_s=120)
    assert report.errors == []
    assert report.lost_revisions == []
    assert len(report.edit_latencies) == 20
    assert report.renders_completed == 5
    assert report.revisions_stored == 5 * (2 + 4)
    assert "p95" in report.lines()[1]
