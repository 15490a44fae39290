"""Response bodies → data or a typed error (pure; docs/protocol.md §1 and §8).

Accepted shapes: the envelope `{"code": 0, "message": "ok", "data": {...}}`,
`{"success": true, "data": {...}}`,
a bare object, FastAPI's `{"detail": "..."}` on errors, and any non-JSON error body.
"""

from __future__ import annotations

import json
from typing import Any

from handlers._errors import ApiError, api_error

__all__ = ["error_from_body", "parse_body"]


def _message(obj: dict[str, Any]) -> str:
    for key in ("message", "msg", "error", "detail", "errorMessage"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict):
            inner = _message(value)
            if inner:
                return inner
    return ""


def _code(obj: dict[str, Any]) -> int | None:
    for key in ("code", "errorCode", "error_code"):
        value = obj.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    return None


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def error_from_body(status: int, body: bytes) -> ApiError | None:
    """The error a response stands for, or None when it is a success."""
    obj = _decode(body)
    if isinstance(obj, dict):
        code = _code(obj)
        failed_flag = obj.get("success") is False
        if (code is not None and code != 0) or failed_flag or status >= 400:
            text = _message(obj)
            if not text and status >= 400:
                text = f"HTTP {status}"
            return api_error(code if code not in (None, 0) else None, status if status >= 400 else None, text)
        return None
    if status >= 400:
        snippet = body[:200].decode("utf-8", "replace").strip()
        return api_error(None, status, f"HTTP {status}" + (f": {snippet}" if snippet else ""))
    return None


def parse_body(status: int, body: bytes) -> Any:
    """Data of a successful response (the envelope's `data` or the bare object); else ApiError."""
    error = error_from_body(status, body)
    if error is not None:
        raise error
    obj = _decode(body)
    if obj is None:
        if not body.strip():
            return {}
        raise api_error(None, status, "the backend answered with something that is not JSON")
    if isinstance(obj, dict) and "data" in obj and ("code" in obj or "success" in obj):
        return obj["data"] if obj["data"] is not None else {}
    return obj
