"""Errors the API answers with, and the responses they become.

Two kinds, as the cloud has them (docs/protocol.md §1, §8):

- envelope errors: ``{"code": <code>, "message": <what was wrong and what to do>, "data": null}``
  with the HTTP status of ``ENVELOPE_STATUS``;
- HTTP-status errors (400 missing X-Client-Id, 402 export blocked, 429 rate limited, and 404 for an
  unknown session on ``/run_sse``, as Google ADK's server answers): ``{"detail": <message>}``.

Codes beyond docs/protocol.md §8 (documented in ``engine/server/__init__.py``): 1003 session busy (HTTP 409,
docs/contracts.md), 1004 attribution headers missing (HTTP 428), 4000 invalid request (HTTP 422),
4004 render not found (HTTP 404), 4009 render not finished (HTTP 404), 5000 engine failure (HTTP 500).
Connection-level refusals (``engine.server._net``) are HTTP-status errors too: 408 (a request body
that stalls, ``Connection: close``) and 421 (a Host name the engine does not answer to).
No other error uses HTTP 400, 402, 409 or 429, whose statuses alone mean something to the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from starlette.responses import JSONResponse

from engine.server.config import DEFAULT_MAX_UPLOAD_BYTES

__all__ = [
    "ENVELOPE_STATUS",
    "ApiError",
    "HttpError",
    "bad_token",
    "error_response",
    "invalid_request",
    "no_credits",
    "session_not_found",
]

BAD_TOKEN: Final = 1001
SESSION_NOT_FOUND: Final = 1002
SESSION_BUSY: Final = 1003
MISSING_ATTRIBUTION: Final = 1004
NO_CREDITS: Final = 2001
INVALID_REQUEST: Final = 4000
UNSUPPORTED_FILE: Final = 4001
FILE_TOO_LARGE: Final = 4002
RENDER_NOT_FOUND: Final = 4004
RENDER_NOT_READY: Final = 4009
ENGINE_FAILURE: Final = 5000

ENVELOPE_STATUS: Final[Mapping[int, int]] = {
    BAD_TOKEN: 401,
    SESSION_NOT_FOUND: 404,
    SESSION_BUSY: 409,
    MISSING_ATTRIBUTION: 428,
    NO_CREDITS: 403,
    INVALID_REQUEST: 422,
    UNSUPPORTED_FILE: 415,
    FILE_TOO_LARGE: 413,
    RENDER_NOT_FOUND: 404,
    RENDER_NOT_READY: 404,
    ENGINE_FAILURE: 500,
}

ACCEPTED_FORMATS: Final = "mp4 mov avi webm mkv jpg jpeg png gif webp mp3 wav m4a aac"


class ApiError(Exception):
    """An envelope error: ``code`` (docs/protocol.md §8 or the additions above) and a message for the user."""

    def __init__(self, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = ENVELOPE_STATUS[code]
        self.headers = dict(headers or {})


class HttpError(Exception):
    """An error the client tells apart by its HTTP status alone; the body is ``{"detail": message}``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(exc: ApiError | HttpError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON response for ``exc``."""
    if isinstance(exc, ApiError):
        return JSONResponse(
            {"code": exc.code, "message": exc.message, "data": None},
            status_code=exc.status,
            headers={**exc.headers, **(headers or {})},
        )
    return JSONResponse(
        {"detail": exc.message}, status_code=exc.status, headers={**exc.headers, **(headers or {})}
    )


def bad_token() -> ApiError:
    return ApiError(
        BAD_TOKEN,
        "the bearer token is missing, unknown or expired: get a new one from POST /api/auth/anonymous-token "
        "with the same X-Client-Id, then retry once",
    )


def session_not_found(session_id: str) -> ApiError:
    return ApiError(
        SESSION_NOT_FOUND,
        f"session {session_id!r} not found for this user: create a new one with "
        "POST /api/tasks/me/with-session/nemo_agent",
    )


def no_credits(available: int, cost: int) -> ApiError:
    return ApiError(
        NO_CREDITS,
        f"not enough credits: this request costs {cost} and {available} are available; "
        "nothing was changed. Register or top up to continue",
    )


def invalid_request(message: str) -> ApiError:
    return ApiError(INVALID_REQUEST, message)


def missing_client_id() -> HttpError:
    return HttpError(
        400, "the X-Client-Id header is missing: generate a client id (a UUID), keep it, and retry"
    )


def rate_limited(limit: int, window_days: float) -> HttpError:
    return HttpError(
        429,
        f"too many anonymous tokens from this address (at most {limit} per {window_days:g} days): "
        "wait 30 s and retry once, reusing your client id",
        {"Retry-After": "30"},
    )


def export_blocked(missing: list[str]) -> HttpError:
    return HttpError(
        402,
        f"export blocked: the request lacks {', '.join(missing)}; every render request must carry "
        "X-Skill-Source, X-Skill-Version and X-Skill-Platform (docs/protocol.md §1)",
    )


def missing_attribution(missing: list[str]) -> ApiError:
    return ApiError(
        MISSING_ATTRIBUTION,
        f"the request lacks {', '.join(missing)}: every /api call and /run_sse must carry X-Skill-Source, "
        "X-Skill-Version and X-Skill-Platform (docs/protocol.md §1); add them and retry",
    )


def unsupported_file(what: str) -> ApiError:
    return ApiError(UNSUPPORTED_FILE, f"{what}; accepted formats: {ACCEPTED_FORMATS}")


def file_too_large(name: str, limit: int) -> ApiError:
    return ApiError(
        FILE_TOO_LARGE,
        f"{name!r} is larger than the {_size(limit)} limit; compress or trim it, then upload again",
    )


def injected(code: int, endpoint: str, upload_limit: int = DEFAULT_MAX_UPLOAD_BYTES) -> ApiError | HttpError:
    """The error of fault emulation for ``code`` (same message as the real one; ``upload_limit`` is the
    server's per-file limit, which the emulated 4002 names)."""
    if code == BAD_TOKEN:
        return bad_token()
    if code == SESSION_NOT_FOUND:
        return ApiError(
            SESSION_NOT_FOUND,
            "session not found for this user: "
            "create a new one with POST /api/tasks/me/with-session/nemo_agent",
        )
    if code == NO_CREDITS:
        return ApiError(
            NO_CREDITS, "not enough credits for this request; nothing was changed. Register or top up"
        )
    if code == UNSUPPORTED_FILE:
        return unsupported_file("the file is not a supported media file")
    if code == FILE_TOO_LARGE:
        return ApiError(
            FILE_TOO_LARGE,
            f"the file is larger than the {_size(upload_limit)} limit; "
            "compress or trim it, then upload again",
        )
    if code == 400:
        return missing_client_id()
    if code == 402:
        return HttpError(402, "export blocked on the free plan: register to unlock export")
    if code == 429:
        return rate_limited(10, 7)
    if code == 404:  # the cloud's answer on a route it does not have (the engine's extensions)
        return HttpError(404, "Not Found")
    raise ValueError(f"no emulated error for code {code} on {endpoint}")


def too_large(what: str, limit: int, advice: str) -> ApiError:
    """4002 for something other than one uploaded file (a JSON body, a user's quota, a picture)."""
    return ApiError(FILE_TOO_LARGE, f"{what} is larger than the {_size(limit)} limit; {advice}")


def read_timeout(seconds: float) -> HttpError:
    return HttpError(
        408,
        f"the request body did not arrive within {seconds:g} s of the last data; send it again, faster",
        {"Connection": "close"},
    )


def size_text(n: int) -> str:
    """``n`` bytes as a short text (``500 MB``, ``64 KB``, ``1.5 GB``)."""
    return _size(n)


def _size(n: int) -> str:
    if n >= 1024**3 and n % (1024**3) == 0:
        return f"{n // 1024**3} GB"
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"
