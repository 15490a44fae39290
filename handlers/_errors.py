"""Every failure the skill reports, one class per kind, each carrying what the caller needs.

```
VideogenError                      code, message, recovery  -> error{code, message, recovery}
├── InputError                     invalid_input / unknown_tool (problems: every one, with what to send)
├── ManifestError                  skill.yaml, schemas, handlers or versions do not agree
├── ConfigError                    config_error (bad NEMO_BACKEND, unreadable client id file, ...)
├── NoSessionError                 no_session (no session_id given, none remembered)
├── WrongToolError                 wrong_tool (a message that another tool answers)
├── NothingToExportError           nothing_to_export (the draft is empty)
├── TransportError                 network_error (connect/read/write failed before a response)
│   └── StreamDroppedError         disconnected (the SSE stream broke; the turn may go on server-side)
├── TurnTimeoutError               timeout (keep-alives only too long, or the overall cap)
├── RenderFailedError              render_failed (failed twice, or never finished)
├── DownloadFailedError            download_failed (empty, unreadable container, or unreachable)
├── OutputExistsError              file_exists (export would overwrite a file silently)
├── NeedsLocalEngineError          needs_local_engine (an engine extension the backend lacks: edit)
└── ApiError                       the backend said no: api_code, http_status
    ├── TokenExpiredError          1001  token_expired
    ├── SessionNotFoundError       1002 / HTTP 404  session_not_found
    ├── SessionBusyError           1003 / HTTP 409  session_busy
    ├── NoCreditsError             2001  no_credits (register_url for anonymous users)
    ├── UnsupportedFileError       4001  unsupported_file (supported_formats)
    ├── FileTooLargeError          4002  file_too_large
    ├── MissingClientIdError       HTTP 400  missing_client_id
    ├── ExportBlockedError         HTTP 402  export_blocked
    ├── RateLimitedError           HTTP 429  rate_limited
    └── ServerError                anything else  server_error
```

Messages never contain a token: `redact()` scrubs every message built from a server's words.
"""

from __future__ import annotations

import re
from typing import Any

from handlers._constants import SUPPORTED_EXTENSIONS, UPLOAD_LIMIT_MB

__all__ = [
    "ApiError",
    "ConfigError",
    "DownloadFailedError",
    "ExportBlockedError",
    "FileTooLargeError",
    "InputError",
    "ManifestError",
    "MissingClientIdError",
    "NeedsLocalEngineError",
    "NoCreditsError",
    "NoSessionError",
    "NothingToExportError",
    "OutputExistsError",
    "RateLimitedError",
    "RenderFailedError",
    "ServerError",
    "SessionBusyError",
    "SessionNotFoundError",
    "StreamDroppedError",
    "TokenExpiredError",
    "TransportError",
    "TurnTimeoutError",
    "UnsupportedFileError",
    "VideogenError",
    "WrongToolError",
    "api_error",
    "redact",
]

_TOKEN_RE = re.compile(
    r"(nmv_[A-Za-z0-9_]+|Bearer\s+\S+|(?i:token)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9_\-.]{8,})"
)


def redact(text: str) -> str:
    """Remove anything that looks like a token from text that may come from a server or an exception."""
    return _TOKEN_RE.sub("[redacted]", text)


class VideogenError(Exception):
    """Base: `code` (stable, snake_case), `message` (what happened), `recovery` (what to do)."""

    code = "internal_error"
    default_recovery = "Try again; if it keeps failing, report it with the message."

    def __init__(self, message: str, *, recovery: str | None = None) -> None:
        self.message = redact(message)
        self.recovery = recovery or self.default_recovery
        super().__init__(self.message)

    def to_error(self) -> dict[str, Any]:
        """The `error` object of a failed tool result (schemas/error.schema.json)."""
        return {"code": self.code, "message": self.message, "recovery": self.recovery, **self.extra()}

    def extra(self) -> dict[str, Any]:
        return {}


class InputError(VideogenError):
    code = "invalid_input"
    default_recovery = "Call the tool again with the problems fixed."

    def __init__(
        self, message: str, problems: list[str], *, code: str = "invalid_input", recovery: str | None = None
    ) -> None:
        self.problems = problems
        self.code = code
        super().__init__(message, recovery=recovery)

    def extra(self) -> dict[str, Any]:
        return {"problems": self.problems}


class ManifestError(VideogenError):
    code = "manifest_error"
    default_recovery = "Fix skill.yaml / schemas / SKILL.md so they agree, then reload."

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the skill manifest is inconsistent: " + "; ".join(problems))

    def extra(self) -> dict[str, Any]:
        return {"problems": self.problems}


class ConfigError(VideogenError):
    code = "config_error"
    default_recovery = "Fix the environment variable or file named in the message."


class NoSessionError(VideogenError):
    code = "no_session"
    default_recovery = "Call create_session first, or pass the session_id of an existing session."


class WrongToolError(VideogenError):
    code = "wrong_tool"

    def __init__(self, message: str, tool: str) -> None:
        self.tool = tool
        super().__init__(message, recovery=f"Call the {tool} tool instead of sending this as a message.")

    def extra(self) -> dict[str, Any]:
        return {"tool": self.tool}


class NothingToExportError(VideogenError):
    code = "nothing_to_export"
    default_recovery = "Describe the video with send_message (or upload media first), then export."

    def __init__(self) -> None:
        super().__init__("nothing to export yet: describe the video first")


class TransportError(VideogenError):
    code = "network_error"
    default_recovery = "Check the network and NEMO_API_URL, then try again."


class StreamDroppedError(TransportError):
    code = "disconnected"
    default_recovery = (
        "The message was NOT re-sent. Call get_state to see whether the turn finished; "
        "do not send the same message again."
    )


class TurnTimeoutError(VideogenError):
    code = "timeout"
    default_recovery = (
        "The message was NOT re-sent (that would duplicate work and charges). "
        "Call get_state in a minute to see whether it finished."
    )


class RenderFailedError(VideogenError):
    code = "render_failed"
    default_recovery = "Check the timeline with get_state, fix what the message names, then export again."


class DownloadFailedError(VideogenError):
    code = "download_failed"
    default_recovery = "Export again; if it keeps failing, open the browser link and download from there."


class OutputExistsError(VideogenError):
    code = "file_exists"
    default_recovery = "Pass another output_path, or overwrite=true to replace the file."


class NeedsLocalEngineError(VideogenError):
    code = "needs_local_engine"
    default_recovery = "Use the local engine (NEMO_BACKEND=local), or send the instruction as a message."


class ApiError(VideogenError):
    """The backend answered with an error: its envelope `code` (api_code) and/or HTTP status."""

    code = "server_error"

    def __init__(
        self,
        message: str,
        *,
        api_code: int | None = None,
        http_status: int | None = None,
        recovery: str | None = None,
    ) -> None:
        self.api_code = api_code
        self.http_status = http_status
        super().__init__(message, recovery=recovery)

    def extra(self) -> dict[str, Any]:
        return {"api_code": self.api_code, "http_status": self.http_status}


class TokenExpiredError(ApiError):
    code = "token_expired"
    default_recovery = (
        "The token is bad or expired: unset NEMO_TOKEN (a new anonymous token is fetched) or set a valid one."
    )


class SessionNotFoundError(ApiError):
    code = "session_not_found"
    default_recovery = "Create a new session with create_session, then continue there."


class SessionBusyError(ApiError):
    code = "session_busy"
    default_recovery = (
        "The previous message is still being worked on: wait for it to finish (get_state), then send again."
    )


class NoCreditsError(ApiError):
    code = "no_credits"

    def __init__(self, message: str, *, register_url: str | None, **kw: Any) -> None:
        self.register_url = register_url
        if register_url:
            recovery = f"Out of credits. Register to get more (this keeps your work): {register_url}"
        else:
            recovery = "Out of credits: top up credits in your NemoVideo account. Export stays free."
        super().__init__(message, recovery=recovery, **kw)

    def extra(self) -> dict[str, Any]:
        extra = super().extra()
        if self.register_url:
            extra["register_url"] = self.register_url
        return extra


_FORMATS = ", ".join(SUPPORTED_EXTENSIONS)


class UnsupportedFileError(ApiError):
    code = "unsupported_file"
    default_recovery = f"Use a supported format: {_FORMATS}."

    def extra(self) -> dict[str, Any]:
        return {**super().extra(), "supported_formats": list(SUPPORTED_EXTENSIONS)}


class FileTooLargeError(ApiError):
    code = "file_too_large"
    default_recovery = (
        f"The limit is {UPLOAD_LIMIT_MB} MB a file: compress it (lower resolution or bitrate) "
        "or trim it to the part you need, then upload again."
    )


class MissingClientIdError(ApiError):
    code = "missing_client_id"
    default_recovery = "Set NEMO_CLIENT_ID to a UUID (or let the skill generate one) and retry."


class ExportBlockedError(ApiError):
    code = "export_blocked"
    default_recovery = (
        "Export is blocked on the free plan (this is not about credits): "
        "register at nemovideo.com to unlock export."
    )


class RateLimitedError(ApiError):
    code = "rate_limited"
    default_recovery = "Rate limited: wait 30 seconds and try once more."


class ServerError(ApiError):
    code = "server_error"
    default_recovery = "The backend failed; try again in a moment."


def api_error(
    api_code: int | None,
    http_status: int | None,
    message: str,
    *,
    register_url: str | None = None,
) -> ApiError:
    """Map an envelope code or HTTP status (docs/protocol.md §8, contracts' 1003) to its error class."""
    kw: dict[str, Any] = {"api_code": api_code, "http_status": http_status}
    if api_code == 1001 or (api_code is None and http_status == 401):
        return TokenExpiredError(message or "the token is bad or expired", **kw)
    if api_code == 1002 or (api_code is None and http_status == 404 and "session" in message.lower()):
        return SessionNotFoundError(message or "session not found", **kw)
    if api_code == 1003 or http_status == 409:
        return SessionBusyError(message or "the session is busy with another turn", **kw)
    if api_code == 2001:
        return NoCreditsError(message or "no credits left", register_url=register_url, **kw)
    if api_code == 4001:
        return UnsupportedFileError(message or "unsupported file", **kw)
    if api_code == 4002:
        return FileTooLargeError(message or "file too large", **kw)
    if http_status == 400:
        return MissingClientIdError(message or "missing X-Client-Id", **kw)
    if http_status == 402:
        return ExportBlockedError(message or "export blocked on the free plan", **kw)
    if http_status == 429:
        return RateLimitedError(message or "rate limited", **kw)
    return ServerError(message or f"the backend failed (HTTP {http_status}, code {api_code})", **kw)
