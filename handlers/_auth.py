"""Credentials on disk (docs/protocol.md §2): the persisted client id and the cached anonymous token.

- client id: `NEMO_CLIENT_ID`, else `$XDG_CONFIG_HOME/nemovideo/client_id` (default `~/.config/...`), mode
  0600, a UUID and nothing else; generated on first use.
- token cache: `token.json` beside it, mode 0600, one entry per API base URL. Tokens are never printed:
  `CachedToken`'s repr hides them.

No HTTP here: `_http.ApiClient` asks the backend for tokens and stores them through these functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from handlers._errors import ConfigError

__all__ = [
    "CachedToken",
    "forget_token",
    "load_client_id",
    "load_token",
    "new_client_id",
    "store_token",
    "write_private",
]


def write_private(path: Path, text: str) -> None:
    """Write text to a file only its owner can read (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _valid_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def load_client_id(config_dir: Path, env_value: str | None = None) -> str:
    """NEMO_CLIENT_ID, else the persisted id, else a new UUID written to the 0600 file."""
    if env_value:
        return env_value
    path = config_dir / "client_id"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise ConfigError(f"cannot read the client id file {path}: {exc.strerror}") from exc
    if text and _valid_uuid(text):
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return text
    return new_client_id(config_dir)


def new_client_id(config_dir: Path) -> str:
    """Generate and persist a fresh client id (also after the backend said HTTP 400 for the old one)."""
    client_id = str(uuid.uuid4())
    write_private(config_dir / "client_id", client_id + "\n")
    return client_id


@dataclass(frozen=True)
class CachedToken:
    token: str = field(repr=False)
    user_id: str | None
    expires_at: str | None

    @property
    def expired(self) -> bool:
        if not self.expires_at:
            return False
        try:
            when = datetime.fromisoformat(self.expires_at.replace("Z", "+00:00"))
        except ValueError:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when <= datetime.now(UTC)


def _cache_path(config_dir: Path) -> Path:
    return config_dir / "token.json"


def _read_cache(config_dir: Path) -> dict[str, dict[str, str | None]]:
    try:
        data = json.loads(_cache_path(config_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_token(config_dir: Path, key: str) -> CachedToken | None:
    entry = _read_cache(config_dir).get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return None
    cached = CachedToken(str(entry["token"]), entry.get("user_id"), entry.get("expires_at"))
    return None if cached.expired else cached


def store_token(config_dir: Path, key: str, cached: CachedToken) -> None:
    data = _read_cache(config_dir)
    data[key] = {"token": cached.token, "user_id": cached.user_id, "expires_at": cached.expires_at}
    write_private(_cache_path(config_dir), json.dumps(data, indent=1) + "\n")


def forget_token(config_dir: Path, key: str) -> None:
    data = _read_cache(config_dir)
    if data.pop(key, None) is not None:
        write_private(_cache_path(config_dir), json.dumps(data, indent=1) + "\n")
