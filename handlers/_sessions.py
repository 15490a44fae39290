"""The most recent session per backend, so tools can default `session_id` (kept beside the client id)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from handlers._auth import write_private
from handlers._config import Config

__all__ = ["SessionRef", "recall", "remember"]


@dataclass(frozen=True)
class SessionRef:
    session_id: str
    task_id: str | None = None
    user_id: str | None = None


def _key(config: Config) -> str:
    home = config.engine_home
    return config.api_url + (f"#{home}" if config.backend == "embedded" and home else "")


def _read(config: Config) -> dict[str, Any]:
    try:
        data = json.loads((config.config_dir / "sessions.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(config: Config, ref: SessionRef) -> None:
    data = _read(config)
    data[_key(config)] = {"session_id": ref.session_id, "task_id": ref.task_id, "user_id": ref.user_id}
    write_private(config.config_dir / "sessions.json", json.dumps(data, indent=1) + "\n")


def recall(config: Config, session_id: str | None = None) -> SessionRef | None:
    """The remembered session (or what is known about `session_id`)."""
    entry = _read(config).get(_key(config))
    known = (
        SessionRef(**entry) if isinstance(entry, dict) and isinstance(entry.get("session_id"), str) else None
    )
    if session_id is None:
        return known
    if known is not None and known.session_id == session_id:
        return known
    return SessionRef(session_id)
