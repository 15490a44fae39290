"""Links that open: a tool's link on the local engine starts the data folder's workspace server in the
background (one per folder, a free port when the first choice is taken), and it stops by itself after
its idle time and on request. Real processes, real HTTP, bounded waits."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from handlers import _workspace as workspace
from handlers import call_tool
from tests.handlers._workspace_support import switched_on, taken_port

__all__ = ["switched_on", "taken_port"]  # fixtures


def wait_until_stopped(home: Path, pid: int, limit_s: float) -> float:
    """Seconds until the server's lock is free and its process gone (bounded)."""
    start = time.monotonic()
    while workspace.running(home) is not None or _alive(pid):
        assert time.monotonic() - start < limit_s, "the workspace server did not stop in time"
        time.sleep(0.05)
    return time.monotonic() - start


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting for its reaper."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def test_the_link_a_tool_returns_opens_on_a_free_port_and_get_state_returns_it(
    switched_on: Path, taken_port: int
) -> None:
    created = call_tool("create_session", {})
    assert created["ok"], created
    url = urlsplit(created["browser_url"])
    assert url.hostname == "127.0.0.1"
    assert url.port not in (None, taken_port)
    record = workspace.running(switched_on)
    assert record is not None
    assert record.url == f"http://127.0.0.1:{url.port}"
    page = httpx2.get(created["browser_url"], timeout=10)
    assert page.status_code == 200
    assert "workspace.js" in page.text
    state = call_tool("get_state", {})
    assert state["ok"], state
    assert state["browser_url"].startswith(record.url + "/workspace/claim?ct=clm_")
    assert parse_qs(urlsplit(state["browser_url"]).query)["ct"] != parse_qs(url.query)["ct"]
    assert workspace.running(switched_on) == record  # the same server, not a second one


def test_one_server_per_folder_even_when_two_calls_start_it_at_once(switched_on: Path) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        urls = list(pool.map(lambda _: workspace.ensure(switched_on), range(3)))
    assert len(set(urls)) == 1
    record = workspace.running(switched_on)
    assert record is not None
    assert record.url == urls[0]


def test_the_server_stops_after_its_idle_time(switched_on: Path) -> None:
    url = workspace.ensure(switched_on, idle_s=1.0)
    record = workspace.running(switched_on)
    assert record is not None
    assert httpx2.get(f"{url}/healthz", timeout=5).status_code == 200
    took = wait_until_stopped(switched_on, record.pid, limit_s=30)
    assert took >= 0.5  # it waited for its idle time
    assert not (switched_on / "workspace.json").exists()
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{url}/healthz", timeout=2)


def test_stop_ends_the_running_server_and_says_when_none_runs(switched_on: Path) -> None:
    assert workspace.stop(switched_on) is None
    url = workspace.ensure(switched_on)
    record = workspace.running(switched_on)
    assert record is not None
    stopped = workspace.stop(switched_on)
    assert stopped == record
    wait_until_stopped(switched_on, record.pid, limit_s=15)
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{url}/healthz", timeout=2)


def test_a_bad_idle_time_or_port_is_refused_with_what_to_set() -> None:
    with pytest.raises(workspace.WorkspaceError, match="VIDEOGEN_WORKSPACE_IDLE_S='soon'"):
        workspace.idle_seconds({"VIDEOGEN_WORKSPACE_IDLE_S": "soon"})
    with pytest.raises(workspace.WorkspaceError, match="above 0"):
        workspace.idle_seconds({"VIDEOGEN_WORKSPACE_IDLE_S": "-5"})
    assert workspace.idle_seconds({}) == 1800
    with pytest.raises(workspace.WorkspaceError, match="not a port number"):
        workspace.preferred_port({"VIDEOGEN_WORKSPACE_PORT": "99999"})
    assert workspace.preferred_port({}) == 8765


def test_videogen_serve_stop_stops_the_folders_workspace_server(
    switched_on: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from handlers import cli

    url = workspace.ensure(switched_on)
    record = workspace.running(switched_on)
    assert record is not None
    assert cli.main(["serve", "--stop"]) == 0  # the folder from VIDEOGEN_HOME, as the tools use it
    assert f"stopped the workspace server at {url} (pid {record.pid})" in capsys.readouterr().err
    wait_until_stopped(switched_on, record.pid, limit_s=15)
    assert cli.main(["serve", "--stop"]) == 0
    assert f"no workspace server runs for {switched_on}" in capsys.readouterr().err
