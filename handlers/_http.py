"""The client's one HTTP chokepoint (the only module importing httpx2, besides the in-process transport).

`ApiClient` speaks the NemoVideo API: bearer auth with the anonymous-token flow, the attribution headers
on every request (read from SKILL.md per request), envelope parsing, and the retry policy of
docs/protocol.md §2/§8, which lives here and nowhere else:

- code 1001: a new anonymous token with the same client id, once, then the request once more;
- HTTP 400 from the anonymous-token call: a new client id, then once more;
- HTTP 429: wait 30 s (`_clock.pause`, patchable), then once more.

A request the backend refused (an error envelope before any stream) did not start a turn, so retrying it
re-sends nothing. A `/run_sse` whose stream has started is never retried. The policy runs in one helper
(`ApiClient._retrying`), each error kind fixed at most once per request.

httpx2's exceptions become the skill's own (`_errors`) in one context manager (`_mapped`), `raise ...
from exc`; no message carries a token.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

import httpx2

from handlers import _clock
from handlers._attribution import Attribution, read_attribution
from handlers._auth import CachedToken, forget_token, load_client_id, load_token, new_client_id, store_token
from handlers._config import Config
from handlers._constants import DOWNLOAD_CHUNK
from handlers._envelope import error_from_body, parse_body
from handlers._errors import (
    ApiError,
    DownloadFailedError,
    MissingClientIdError,
    NoCreditsError,
    RateLimitedError,
    ServerError,
    StreamDroppedError,
    TokenExpiredError,
    TransportError,
    VideogenError,
    redact,
)

__all__ = ["ApiClient", "SseFrames", "new_idempotency_key"]

SseFrames = AsyncIterator[tuple[str, str]]
_MAX_EVENT_BYTES = 64 * 1024 * 1024  # a stateDelta carries a whole draft
_T = TypeVar("_T")


class _ObservedStream(httpx2.AsyncByteStream):
    """Passes chunks through and tells `on_chunk` about each (SSE comments never leave the parser)."""

    def __init__(self, inner: httpx2.AsyncByteStream, on_chunk: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._on_chunk = on_chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._on_chunk(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _transport_error(exc: Exception, what: str) -> VideogenError:
    if isinstance(exc, httpx2.ConnectTimeout | httpx2.ConnectError):
        return TransportError(
            f"cannot reach the backend for {what}: {redact(str(exc)) or type(exc).__name__}"
        )
    if isinstance(exc, httpx2.TimeoutException):
        return TransportError(f"the backend did not answer in time for {what} ({type(exc).__name__})")
    return TransportError(f"the connection failed during {what}: {redact(str(exc)) or type(exc).__name__}")


def _stream_dropped(exc: Exception, what: str) -> VideogenError:
    return StreamDroppedError(f"the event stream broke: {type(exc).__name__}")


def _download_failed(exc: Exception, what: str) -> VideogenError:
    return DownloadFailedError(f"downloading the video failed: {type(exc).__name__}")


@contextmanager
def _mapped(
    what: str,
    into: Callable[[Exception, str], VideogenError] = _transport_error,
    catch: tuple[type[Exception], ...] = (httpx2.HTTPError,),
) -> Iterator[None]:
    """THE place httpx2's exceptions become the skill's: `catch` raised while doing `what` -> `into`."""
    try:
        yield
    except catch as exc:
        raise into(exc, what) from exc


class ApiClient:
    """One tool call's connection to a backend. Use as `async with ApiClient(config, transport=...)`."""

    def __init__(
        self,
        config: Config,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        fallback_attribution: tuple[str, str] | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self._fallback = fallback_attribution
        self._client: httpx2.AsyncClient | None = None
        self._token: CachedToken | None = None
        self._renewed = False
        t = config.timings.http
        self._timeout = httpx2.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
        self._sse_timeout = httpx2.Timeout(connect=t.connect, read=t.sse_read, write=t.write, pool=t.pool)
        self._slow_timeout = httpx2.Timeout(connect=t.connect, read=t.upload_read, write=t.write, pool=t.pool)
        self.user_id: str | None = None
        self.anonymous = config.token is None

    async def __aenter__(self) -> ApiClient:
        self._client = httpx2.AsyncClient(
            base_url=self.config.api_url,
            transport=self._transport,
            timeout=self._timeout,
            follow_redirects=True,
        )
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(exc_type, exc, tb)

    @property
    def client(self) -> httpx2.AsyncClient:
        if self._client is None:
            raise RuntimeError("ApiClient used outside `async with`")
        return self._client

    # --- attribution and auth -------------------------------------------------------------------

    def attribution(self) -> Attribution:
        """Read now: an edit of SKILL.md shows on the next request."""
        return read_attribution(self.config.skill_md, fallback=self._fallback)

    @property
    def _token_key(self) -> str:
        home = self.config.engine_home
        return self.config.api_url + (f"#{home}" if self.config.backend == "embedded" and home else "")

    async def _bearer(self) -> str:
        if self.config.token and not self._renewed:
            return self.config.token
        if self._token is None:
            self._token = load_token(self.config.config_dir, self._token_key)
            if self._token is None:
                self._token = await self._anonymous_token()
            self.user_id = self.user_id or self._token.user_id
        return self._token.token

    async def _anonymous_token(self) -> CachedToken:
        """POST /api/auth/anonymous-token with the persisted client id (docs/protocol.md §2)."""
        client_id = load_client_id(self.config.config_dir, self.config.client_id)

        async def attempt() -> Any:
            response = await self._send(
                "POST", "/api/auth/anonymous-token", headers={"X-Client-Id": client_id}
            )
            return parse_body(response.status_code, response.content)

        async def new_id() -> None:
            nonlocal client_id
            client_id = new_client_id(self.config.config_dir)

        # not 1001's fix (it would ask this same endpoint again): a new client id, or the wait
        data = await self._retrying(
            attempt, {MissingClientIdError: new_id, RateLimitedError: self._wait_for_rate_limit}
        )
        if not isinstance(data, Mapping) or not isinstance(data.get("token"), str):
            raise ServerError("the anonymous-token answer has no token")
        cached = CachedToken(str(data["token"]), _str(data.get("user_id")), _str(data.get("expires_at")))
        store_token(self.config.config_dir, self._token_key, cached)
        self.anonymous = True
        return cached

    async def _retrying(
        self,
        attempt: Callable[[], Awaitable[_T]],
        fixes: Mapping[type[ApiError], Callable[[], Awaitable[None]]] | None = None,
    ) -> _T:
        """THE retry policy: run `attempt`; when it raises an error of a kind with a fix, apply the fix
        and run it again, once per kind; any other error, or a kind seen twice, is raised. The fixes
        default to the API's (1001: a new anonymous token; 429: the wait). A refusal for want of
        credits gets the register link."""
        policy = (
            fixes
            if fixes is not None
            else {
                TokenExpiredError: self._renew,
                RateLimitedError: self._wait_for_rate_limit,
            }
        )
        used: set[type[ApiError]] = set()
        while True:
            try:
                return await attempt()
            except NoCreditsError as exc:
                raise self._with_register(exc) from None
            except ApiError as exc:
                kind = next((k for k in policy if isinstance(exc, k)), None)
                if kind is None or kind in used:
                    raise
                used.add(kind)
                await policy[kind]()

    async def _wait_for_rate_limit(self) -> None:
        await _clock.pause(self.config.timings.rate_limit_wait_s)

    async def _renew(self) -> None:
        """After 1001: drop the cached token and get a new one with the same client id (once)."""
        self._renewed = True
        forget_token(self.config.config_dir, self._token_key)
        self._token = await self._anonymous_token()
        self.user_id = self._token.user_id or self.user_id

    def register_url(self) -> str | None:
        """`$WEB/register?bind=<user_id>` for an anonymous user (token from the anonymous flow, or a user id
        the backend calls anon_…); None for a registered one (who tops up instead)."""
        anonymous = self.anonymous or (self.user_id or "").startswith("anon")
        if not anonymous:
            return None
        if not self.user_id:
            return f"{self.config.web_url}/register"
        return f"{self.config.web_url}/register?" + urlencode({"bind": self.user_id})

    # --- requests ---------------------------------------------------------------------------------

    async def _headers(self, auth: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = self.attribution().headers()
        if auth:
            headers["Authorization"] = f"Bearer {await self._bearer()}"
        if extra:
            headers.update(extra)
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        auth: bool = False,
        json: Any = None,
        files: list[Path] | None = None,
        headers: Mapping[str, str] | None = None,
        slow: bool = False,
    ) -> httpx2.Response:
        all_headers = await self._headers(auth, headers)
        timeout = self._slow_timeout if slow else self._timeout
        with _mapped(f"{method} {path}"):
            if files is not None:
                with _open_files(files) as handles:
                    return await self.client.request(
                        method, path, headers=all_headers, files=handles, timeout=timeout
                    )
            return await self.client.request(method, path, headers=all_headers, json=json, timeout=timeout)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: list[Path] | None = None,
        idempotency_key: str | None = None,
        slow: bool = False,
    ) -> Any:
        """An authenticated /api request → its data; errors per docs/protocol.md §8, retried by policy.
        `slow`: the answer may take minutes (uploads), so the read timeout is the upload one."""
        extra = {"Idempotency-Key": idempotency_key} if idempotency_key else None

        async def attempt() -> Any:
            response = await self._send(
                method, path, auth=True, json=json, files=files, headers=extra, slow=slow
            )
            return parse_body(response.status_code, response.content)

        return await self._retrying(attempt)

    def _with_register(self, exc: NoCreditsError) -> NoCreditsError:
        return NoCreditsError(
            exc.message, register_url=self.register_url(), api_code=exc.api_code, http_status=exc.http_status
        )

    @asynccontextmanager
    async def run_sse(
        self, body: Mapping[str, Any], *, on_chunk: Callable[[bytes], None] | None = None
    ) -> AsyncIterator[SseFrames]:
        """POST /run_sse and yield its frames as (event, data). Refusals before the stream raise ApiError
        (1001 and 429 retried once, as nothing was accepted); a broken stream raises StreamDroppedError."""

        async def attempt() -> httpx2.Response:
            headers = await self._headers(True, {"Accept": "text/event-stream"})
            request = self.client.build_request(
                "POST", "/run_sse", json=dict(body), headers=headers, timeout=self._sse_timeout
            )
            with _mapped("POST /run_sse"):
                response = await self.client.send(request, stream=True)
            ctype = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if response.status_code == 200 and ctype == "text/event-stream":
                return response
            try:
                with _mapped("POST /run_sse"):
                    raw = await response.aread()
            finally:
                await response.aclose()
            raise error_from_body(response.status_code, raw) or ServerError(
                f"/run_sse answered {response.status_code} {ctype or 'without a content type'}"
                " instead of an event stream",
                http_status=response.status_code,
            )

        response = await self._retrying(attempt)
        try:
            yield self._frames(response, on_chunk)
        finally:
            await response.aclose()

    async def _frames(self, response: httpx2.Response, on_chunk: Callable[[bytes], None] | None) -> SseFrames:
        if on_chunk is not None and isinstance(response.stream, httpx2.AsyncByteStream):
            response.stream = _ObservedStream(response.stream, on_chunk)
        with _mapped("the event stream", _stream_dropped, (httpx2.TransportError, httpx2.StreamError)):
            async for sse in httpx2.EventSource(response, max_event_size=_MAX_EVENT_BYTES):
                yield sse.event, sse.data

    async def download(
        self, url: str, dest: Path, *, on_bytes: Callable[[int, int | None], None] | None = None
    ) -> int:
        """Stream `url` into `dest` (never read whole); the token goes only to the API's origin."""
        absolute = urljoin(self.config.api_url + "/", url)
        same_origin = urlsplit(absolute)[:2] == urlsplit(self.config.api_url)[:2]
        headers = await self._headers(same_origin, None)
        size = 0
        with _mapped("the download", _download_failed):
            async with self.client.stream("GET", absolute, headers=headers) as response:
                if response.status_code != 200:
                    raw = await response.aread()
                    error = error_from_body(response.status_code, raw)
                    raise DownloadFailedError(
                        f"downloading the video failed: HTTP {response.status_code}"
                        + (f" ({error.message})" if isinstance(error, ApiError) else "")
                    )
                total = response.headers.get("content-length")
                expected = int(total) if total and total.isdigit() else None
                with dest.open("wb") as out:
                    async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                        out.write(chunk)
                        size += len(chunk)
                        if on_bytes is not None:
                            on_bytes(size, expected)
        return size


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


@contextmanager
def _open_files(paths: list[Path]) -> Iterator[list[tuple[str, tuple[str, BinaryIO, str]]]]:
    """Open upload files for one request; httpx2 streams them in 64 KiB chunks (never read whole)."""
    with ExitStack() as stack:
        yield [
            (
                "files",
                (
                    path.name,
                    stack.enter_context(path.open("rb")),
                    mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                ),
            )
            for path in paths
        ]


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
