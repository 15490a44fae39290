"""Shared test configuration: async tests run on asyncio through anyio's pytest plugin."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def no_background_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tool calls on the local engine start a background workspace server for their links
    (handlers._workspace); tests leave none behind unless they switch it on themselves."""
    monkeypatch.setenv("VIDEOGEN_WORKSPACE", "off")
