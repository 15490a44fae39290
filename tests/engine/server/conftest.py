"""Fixtures for the engine server's tests: asyncio through anyio."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
