"""SSE frames of a `/run_sse` turn → typed events → one turn's outcome (pure; docs/protocol.md §4).

The frames come from httpx2's SSE parser (so a U+2028 inside JSON stays inside the string); this
module only interprets `event`/`data`. Accepted:

- Google ADK events (camelCase): text parts (`partial` chunks and the final event, never both),
  `functionCall` / `functionResponse` parts, `longRunningToolIds`, `actions.stateDelta.draft`,
  `errorCode` / `errorMessage`;
- error frames `{"error": "...", "error_details": {...}}`, also unescaped by older servers;
- reference-v4.4 shapes `{"type": "text" | "tool_call" | "tool_result" | "error", ...}`;
- keep-alives, all ignored: comments (the parser drops them), empty `data:`, `event: heartbeat`,
  `{"type": "heartbeat"}`, and any data that is not JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DraftUpdate",
    "ErrorEvent",
    "KeepAlive",
    "SseEvent",
    "TextEvent",
    "ToolCall",
    "ToolResult",
    "TurnLog",
    "is_temporary_issue",
    "parse_frame",
]


@dataclass(frozen=True)
class KeepAlive:
    pass


@dataclass(frozen=True)
class TextEvent:
    text: str
    event_id: str | None = None
    partial: bool = False
    author: str | None = None


@dataclass(frozen=True)
class ToolCall:
    name: str
    call_id: str | None = None
    long_running: bool = False


@dataclass(frozen=True)
class ToolResult:
    name: str
    call_id: str | None = None
    response: Any = None


@dataclass(frozen=True)
class DraftUpdate:
    draft: dict[str, Any]


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    code: int | str | None = None
    details: Any = None


SseEvent = KeepAlive | TextEvent | ToolCall | ToolResult | DraftUpdate | ErrorEvent

_KEEPALIVE_TYPES = {"heartbeat", "ping", "keepalive", "keep-alive", "keep_alive"}
_LEGACY_ERROR = re.compile(
    r'^\s*\{\s*"error"\s*:\s*"(?P<msg>.*?)"\s*(?:,\s*"error_details"\s*:.*)?\}\s*$', re.DOTALL
)


def _legacy_error(data: str) -> ErrorEvent | None:
    """`{"error":"<msg>"...}` written without JSON escaping: take what lies between the quotes."""
    if not data.lstrip().startswith('{"error"') and not re.match(r'^\s*\{\s*"error"', data):
        return None
    cut = data.rfind('", "error_details"')
    if cut < 0:
        cut = data.rfind('","error_details"')
    start = data.find('"', data.find(":") + 1)
    if start >= 0 and cut > start:
        return ErrorEvent(message=data[start + 1 : cut], details=None)
    match = _LEGACY_ERROR.match(data)
    if match:
        return ErrorEvent(message=match.group("msg"))
    return ErrorEvent(message=data.strip()[:500])


def _draft_from(obj: Any) -> dict[str, Any] | None:
    if isinstance(obj, dict):
        draft = obj.get("draft")
        if isinstance(draft, dict) and isinstance(draft.get("t"), list):
            return draft
    return None


def _v44(obj: dict[str, Any]) -> list[SseEvent]:
    kind = obj.get("type")
    if kind in _KEEPALIVE_TYPES:
        return [KeepAlive()]
    if kind == "text":
        content = obj.get("content", obj.get("text", ""))
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        return (
            [TextEvent(text=text, event_id=obj.get("id"), partial=bool(obj.get("partial")))] if text else []
        )
    if kind == "tool_call":
        return [ToolCall(name=str(obj.get("name") or "tool"), call_id=obj.get("id"))]
    if kind == "tool_result":
        result = obj.get("result")
        events: list[SseEvent] = [
            ToolResult(name=str(obj.get("name") or "tool"), call_id=obj.get("id"), response=result)
        ]
        draft = _draft_from(result)
        if draft is not None:
            events.append(DraftUpdate(draft))
        return events
    if kind == "error":
        return [
            ErrorEvent(message=str(obj.get("message") or obj.get("content") or "error"), code=obj.get("code"))
        ]
    return [KeepAlive()]


def _adk(obj: dict[str, Any]) -> list[SseEvent]:
    events: list[SseEvent] = []
    if obj.get("errorCode") or obj.get("errorMessage"):
        events.append(
            ErrorEvent(
                message=str(obj.get("errorMessage") or obj.get("errorCode")), code=obj.get("errorCode")
            )
        )
    long_running = set(obj.get("longRunningToolIds") or [])
    content = obj.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    author = obj.get("author")
    role = content.get("role") if isinstance(content, dict) else None
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            call_id = call.get("id")
            events.append(
                ToolCall(
                    name=str(call.get("name") or "tool"),
                    call_id=call_id,
                    long_running=call_id in long_running,
                )
            )
        elif isinstance(part.get("functionResponse"), dict):
            resp = part["functionResponse"]
            events.append(
                ToolResult(
                    name=str(resp.get("name") or "tool"),
                    call_id=resp.get("id"),
                    response=resp.get("response"),
                )
            )
            draft = _draft_from(resp.get("response"))
            if draft is not None:
                events.append(DraftUpdate(draft))
        elif (
            isinstance(part.get("text"), str) and part["text"] and not part.get("thought") and role != "user"
        ):
            events.append(
                TextEvent(
                    text=part["text"],
                    event_id=obj.get("id"),
                    partial=bool(obj.get("partial")),
                    author=author if isinstance(author, str) else None,
                )
            )
    actions = obj.get("actions")
    if isinstance(actions, dict):
        draft = _draft_from(actions.get("stateDelta") or actions.get("state_delta"))
        if draft is not None:
            events.append(DraftUpdate(draft))
    return events


def parse_frame(event: str, data: str) -> list[SseEvent]:
    """One SSE frame (its `event` name and joined `data`) → the typed events it carries."""
    if event.lower() in _KEEPALIVE_TYPES or not data.strip():
        return [KeepAlive()]
    if event.lower() == "error":  # a named error event: its data is the message (JSON or text)
        try:
            obj = json.loads(data)
        except ValueError:
            return [_legacy_error(data) or ErrorEvent(message=data.strip()[:500])]
        if isinstance(obj, dict):
            message = obj.get("error") or obj.get("message") or obj.get("errorMessage") or data
            return [ErrorEvent(message=str(message), code=obj.get("code") or obj.get("errorCode"))]
        return [ErrorEvent(message=str(obj))]
    try:
        obj = json.loads(data)
    except ValueError:
        legacy = _legacy_error(data)
        return [legacy] if legacy else [KeepAlive()]
    if not isinstance(obj, dict):
        return [KeepAlive()]
    if "error" in obj and not obj.get("content"):
        err = obj["error"]
        message = err if isinstance(err, str) else json.dumps(err, ensure_ascii=False)
        return [ErrorEvent(message=message, details=obj.get("error_details"))]
    if ("type" in obj and "content" not in obj) or obj.get("type") in {"text", "tool_call", "tool_result"}:
        return _v44(obj)
    events = _adk(obj)
    return events or [KeepAlive()]


_TEMPORARY = re.compile(r"encountered a temporary issue|暂时.*问题|临时.*问题", re.IGNORECASE)


def is_temporary_issue(text: str) -> bool:
    return bool(_TEMPORARY.search(text))


@dataclass
class _Text:
    keys: set[str]
    text: str
    partial: bool


@dataclass
class TurnLog:
    """Folds a turn's events: texts without partial/final duplicates, tool calls, the last draft, errors."""

    _texts: list[_Text] = field(default_factory=list)
    tool_names: list[str] = field(default_factory=list)
    long_running: list[str] = field(default_factory=list)
    draft: dict[str, Any] | None = None
    errors: list[ErrorEvent] = field(default_factory=list)
    meaningful: int = 0  # events other than keep-alives

    def feed(self, event: SseEvent) -> None:
        if isinstance(event, KeepAlive):
            return
        self.meaningful += 1
        if isinstance(event, TextEvent):
            self._text(event)
        elif isinstance(event, ToolCall):
            self.tool_names.append(event.name)
            if event.long_running:
                self.long_running.append(event.name)
        elif isinstance(event, DraftUpdate):
            self.draft = event.draft
        elif isinstance(event, ErrorEvent):
            self.errors.append(event)

    def _text(self, event: TextEvent) -> None:
        keys = {event.event_id} if event.event_id else set()
        last = self._texts[-1] if self._texts else None
        if event.partial:
            # a run of partial chunks is one text (ADK gives each chunk its own id)
            if last is not None and last.partial:
                last.text += event.text
                last.keys |= keys
            else:
                self._texts.append(_Text(keys, event.text, True))
            return
        for entry in self._texts:
            if keys & entry.keys:
                # the final event of streamed partials (same id), or a repeated final: keep one
                entry.text, entry.partial = event.text, False
                return
        if last is not None and last.partial and _same(last.text, event.text):
            last.text, last.partial = event.text, False
            last.keys |= keys
            return
        if last is not None and not last.partial and last.text == event.text:
            return  # the same final text twice in a row
        self._texts.append(_Text(keys, event.text, False))

    @property
    def texts(self) -> list[str]:
        """The turn's texts, in order; a trailing 'temporary issue' after a normal turn is dropped."""
        texts = [t.text for t in self._texts if t.text.strip()]
        while len(texts) > 1 and is_temporary_issue(texts[-1]):
            texts.pop()
        if texts and len(texts) == 1 and is_temporary_issue(texts[0]) and (self.tool_names or self.draft):
            texts.pop()
        return texts

    @property
    def real_errors(self) -> list[ErrorEvent]:
        """Errors, without a trailing 'temporary issue' when earlier events were normal."""
        errors = list(self.errors)
        normal_before = bool(self.tool_names or self.draft or [t for t in self._texts if t.text.strip()])
        while errors and normal_before and is_temporary_issue(errors[-1].message):
            errors.pop()
        return errors


def _same(partials: str, final: str) -> bool:
    return " ".join(partials.split()) == " ".join(final.split()) or final.startswith(partials.strip())
