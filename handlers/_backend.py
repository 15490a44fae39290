"""Backend selection made concrete: an `ApiClient` wired to the cloud, a URL, or the embedded engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from handlers._config import Config
from handlers._embedded import embedded_app
from handlers._http import ApiClient
from handlers._transport import StreamingASGITransport

__all__ = ["open_api"]


@asynccontextmanager
async def open_api(
    config: Config, *, fallback_attribution: tuple[str, str] | None = None
) -> AsyncIterator[ApiClient]:
    """An entered ApiClient for one tool call. The embedded engine lives exactly as long as the call."""
    async with AsyncExitStack() as stack:
        transport = None
        app = config.asgi_app
        if app is None and config.backend == "embedded":
            app = await stack.enter_async_context(embedded_app(config.engine_home))
        if app is not None:
            transport = StreamingASGITransport(app)
        api = ApiClient(config, transport=transport, fallback_attribution=fallback_attribution)
        yield await stack.enter_async_context(api)
