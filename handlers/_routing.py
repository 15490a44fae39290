"""Client-side routing (docs/protocol.md §4): messages that are really export / credits / status / upload
requests are answered by those tools and never sent through `/run_sse` (pure).

Only short messages that are about nothing else are routed: "export as mov", "导出", "how many credits
do I have", "余额", "status", "show tracks", "上传". Anything with an edit in it ("add a title 'Export
ready'") goes to the backend as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handlers._constants import EXPORT_FORMATS

__all__ = ["Route", "route_message"]


@dataclass(frozen=True)
class Route:
    tool: str  # export | credits | get_state | upload
    args: dict[str, Any] = field(default_factory=dict)


_FILLER = r"(?:please|pls|now|can you|could you|i want to|i'd like to|let's|go ahead and|just|ok|okay|then)"
_FMT = "|".join(EXPORT_FORMATS)
_EN_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "export",
        re.compile(
            rf"^(?:{_FILLER}\s+)*(?:export|download|render)"
            rf"(?:\s+(?:it|this|that|the video|my video|the final video|the final cut))?"
            rf"(?:\s+(?:as|to|in|into)?\s*(?:an?\s+)?(?P<fmt>{_FMT})(?:\s+file)?)?(?:\s+(?:file|please|now))*$"
            rf"|^(?:{_FILLER}\s+)*send\s+me\s+the\s+(?:final\s+)?video(?:\s+please)?$",
        ),
    ),
    (
        "credits",
        re.compile(
            rf"^(?:{_FILLER}\s+)*(?:(?:check|show|what(?:'s| is| are)|how many)\s+)?"
            rf"(?:my\s+|the\s+)?(?:credits?|balance)"
            rf"(?:\s+(?:do i have|left|balance|remaining|please))*$"
        ),
    ),
    (
        "get_state",
        re.compile(
            rf"^(?:{_FILLER}\s+)*(?:(?:show|check|what(?:'s| is))\s+)?(?:me\s+)?(?:the\s+|my\s+)?"
            rf"(?:status|state|tracks|timeline|progress)(?:\s+(?:please|now))*$"
            rf"|^(?:{_FILLER}\s+)*show\s+(?:me\s+)?(?:the\s+)?tracks$|^what'?s on the timeline$"
        ),
    ),
    (
        "upload",
        re.compile(rf"^(?:{_FILLER}\s+)*upload(?:\s+(?:a|some|my|the|these|this))?(?:\s+\w+){{0,2}}$"),
    ),
)
_ZH_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "export",
        re.compile(
            rf"^(?:请|帮我|麻烦)?(?:导出|下载)(?:视频|成片|一下)?(?:为|成)?\s*(?P<fmt>{_FMT})?(?:格式)?(?:吧)?$"
        ),
    ),
    (
        "credits",
        re.compile(
            r"^(?:请|帮我)?(?:查看|查询|看看|查)?(?:我的|一下)?(?:积分|余额)(?:还有多少|多少|还剩多少)?$"
        ),
    ),
    ("get_state", re.compile(r"^(?:请|帮我)?(?:查看|看看|显示)?(?:当前|一下)?(?:状态|进度|轨道|时间线)$")),
    ("upload", re.compile(r"^(?:请|帮我|我要|我想)?上传")),
)


def _normalise(message: str) -> str:
    text = message.strip().lower()
    text = re.sub(r"[\s\u3000]+", " ", text)
    return text.strip(" .!?。！？,，~")


def route_message(message: str) -> Route | None:
    """The tool that answers `message` instead of the backend, or None to send it."""
    text = _normalise(message)
    if not text:
        return None
    if re.search(r"[\u4e00-\u9fff]", text):
        compact = text.replace(" ", "")
        if len(compact) > 14:
            return None
        for tool, pattern in _ZH_RULES:
            match = pattern.search(compact)
            if match:
                fmt = match.groupdict().get("fmt")
                return Route(tool, {"format": fmt} if fmt else {})
        return None
    if len(text.split()) > 10:
        return None
    for tool, pattern in _EN_RULES:
        match = pattern.search(text)
        if match:
            fmt = match.groupdict().get("fmt")
            return Route(tool, {"format": fmt} if fmt else {})
    return None
