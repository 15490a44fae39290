"""Shared test configuration: async tests run on asyncio through anyio's pytest plugin, and the fast
mode of the edit-test loop (``scripts/test --fast``, i.e. ``pytest --fast``).

``--fast`` leaves out the tests marked ``slow`` (those that render a video, beyond a single frame or a
storyboard) and fails any other test that starts a video render or remux in this process, so that the
fast run stays fast as tests are added: mark such a test ``@pytest.mark.slow``. Renders started in a
child process (the CLI, ``python -m engine.server``) are not seen here; those tests carry the mark too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# What engine.render._ffmpeg.run is told it runs, for the runs that encode a video.
VIDEO_RUNS = frozenset({"the render", "the remux"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        default=False,
        help="leave out tests marked slow (video renders) and fail a test that renders without the mark",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(autouse=True)
def _no_video_renders_in_fast_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.config.getoption("--fast"):
        yield
        return
    from engine.render import _ffmpeg

    real = _ffmpeg.run
    seen: list[str] = []

    async def watched(args: Any, **kwargs: Any) -> Any:
        if kwargs.get("what") in VIDEO_RUNS:
            seen.append(str(kwargs["what"]))
        return await real(args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_ffmpeg, "run", watched)
        yield
    assert not seen, (
        f"{request.node.nodeid} ran {', '.join(sorted(set(seen)))} in the fast mode: "
        "mark it @pytest.mark.slow (the fast run has no renders beyond a frame)"
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def no_background_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tool calls on the local engine start a background workspace server for their links
    (handlers._workspace); tests leave none behind unless they switch it on themselves."""
    monkeypatch.setenv("VIDEOGEN_WORKSPACE", "off")
