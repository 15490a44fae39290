"""Reading a session's state (docs/protocol.md §6) and normalising upload records, tolerant of shapes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers._constants import APP_NAME
from handlers._http import ApiClient

__all__ = ["StateView", "fetch_state", "upload_record"]


def _num(value: Any) -> float | None:
    """A number the API sent (or its text); None for anything else, NaN and infinity included."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None


def upload_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An upload as results show it: id, filename, type, duration (s), size (bytes), width, height, url."""
    kind = str(raw.get("file_type") or raw.get("type") or raw.get("kind") or "unknown")
    if kind not in {"video", "image", "audio"}:
        kind = "unknown"
    duration = _num(raw.get("duration"))
    if duration is not None and duration > 10_000 and raw.get("duration_unit") == "ms":
        duration = duration / 1000
    return {
        "id": str(raw.get("id") or raw.get("file_id") or raw.get("media_id") or ""),
        "filename": str(raw.get("filename") or raw.get("name") or raw.get("file_name") or ""),
        "type": kind,
        "duration": duration,
        "size": _int(raw.get("size")),
        "width": _int(raw.get("width")),
        "height": _int(raw.get("height")),
        "url": str(raw["cdn_url"]) if raw.get("cdn_url") else (str(raw["url"]) if raw.get("url") else None),
    }


@dataclass(frozen=True)
class StateView:
    session_id: str
    task_id: str | None
    draft: dict[str, Any] | None
    uploads: list[dict[str, Any]] = field(default_factory=list)
    canvas_config: dict[str, Any] | None = None
    generated_media: list[Any] = field(default_factory=list)
    busy: bool | None = None  # a turn is still running (the engine says so; the cloud may not)
    revision: int | None = None  # the engine's revision number of the draft (the cloud may not say)


async def fetch_state(api: ApiClient, session_id: str) -> StateView:
    data = await api.call("GET", f"/api/state/{APP_NAME}/me/{session_id}/latest")
    data = data if isinstance(data, Mapping) else {}
    state = data.get("state") if isinstance(data.get("state"), Mapping) else data
    assert isinstance(state, Mapping)
    draft = state.get("draft")
    infos = state.get("video_infos")
    canvas = state.get("canvas_config")
    media = state.get("generated_media")
    user_id = data.get("user_id")
    if isinstance(user_id, str) and not api.user_id:
        api.user_id = user_id
    return StateView(
        session_id=str(data.get("session_id") or session_id),
        task_id=str(data["task_id"]) if data.get("task_id") else None,
        draft=draft if isinstance(draft, dict) and isinstance(draft.get("t"), list) else None,
        uploads=[upload_record(i) for i in infos if isinstance(i, Mapping)]
        if isinstance(infos, list)
        else [],
        canvas_config=dict(canvas) if isinstance(canvas, Mapping) else None,
        generated_media=list(media) if isinstance(media, list) else [],
        busy=data["busy"] if isinstance(data.get("busy"), bool) else None,
        revision=data["revision"]
        if isinstance(data.get("revision"), int) and not isinstance(data.get("revision"), bool)
        else None,
    )
