"""GUI-speak translation (pure; PROTOCOL.md §7): the backend talks as if the user had a GUI.

Each sentence (English or Chinese) is split into clauses; a clause that tells the user to click, open,
drag, preview in the timeline, press Export or check their account is replaced by what to do through
the tools instead; every other clause (the content description) is kept word for word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GuiAction", "classify", "has_gui_speak", "translate"]


@dataclass(frozen=True)
class GuiAction:
    kind: str  # export | credits | preview | drag | open | click
    en: str
    zh: str


_ACTIONS = {
    "export": GuiAction(
        "export",
        "To render and download the video, use the export tool.",
        "需要导出时，使用 export 工具渲染并下载视频。",
    ),
    "credits": GuiAction(
        "credits", "To see the balance, use the credits tool.", "查看余额请使用 credits 工具。"
    ),
    "preview": GuiAction("preview", "The current timeline:", "当前时间线："),
    "drag": GuiAction(
        "drag",
        "To rearrange or move things, describe the edit in a message (e.g. 'move clip 2 before clip 1').",
        "如需调整顺序或位置，请用一句话描述这个修改（例如“把第 2 段移到第 1 段前面”）。",
    ),
    "open": GuiAction(
        "open",
        "To see the project, use get_state; the current timeline:",
        "查看项目请使用 get_state；当前时间线：",
    ),
    "click": GuiAction("click", "To do that, ask for it in a message", "如需这样做，请直接用一句话提出"),
}

# Order matters: the most specific first ("click the Export button" is an export, not a click).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "export",
        re.compile(r"\bexport\s+button\b|\b(click|tap|press|hit|use)\b[^.;,]*\bexport\b|导出", re.IGNORECASE),
    ),
    (
        "credits",
        re.compile(
            r"\bcheck\b[^.;]*\b(account|billing|balance|subscription)\b|\b(account|billing)\s+(page|settings|panel)\b"
            r"|账户|账号|充值|计费",
            re.IGNORECASE,
        ),
    ),
    ("preview", re.compile(r"\bpreview\b[^.;]*\btimeline\b|\btimeline\s+preview\b|预览", re.IGNORECASE)),
    (
        "drag",
        re.compile(
            r"\bdrag(ging)?\s+(and\s+drop\s+)?(the|it|them|your|this|these|that|a|an)\b"
            r"|\bdrag\s*(and|&|/)\s*drop\b|\bdrop\s+(it|them)\s+(on|onto|into|in)\b|拖拽|拖动|拖放",
            re.IGNORECASE,
        ),
    ),
    (
        "open",
        re.compile(
            r"\bopen\b[^.;]*\b(panel|tab|menu|editor|settings|sidebar|window|library)\b|打开", re.IGNORECASE
        ),
    ),
    (
        "click",
        re.compile(
            r"\b(click|tap|press|select)\b[^.;]*\b(button|icon|menu|option|tab|link)\b"
            r"|\bclick\b(?!\s+(sound|track|noise|effect))|点击|单击|按下|轻点",
            re.IGNORECASE,
        ),
    ),
)

# sentence ends: . ! ? before whitespace, any of 。！？, a newline (kept as its own piece)
_SPLIT = re.compile(r"(?<=[.!?])(?=\s)|(?<=[。！？])|(?=\n)|(?<=\n)")
_CLAUSE_SPLIT = re.compile(
    r"(;\s*|；|，|,\s*(?:and|then|or)\s+|,\s+(?=(?:click|tap|open|drag|press|use|check)\b)|\s+then\s+)",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WHAT = re.compile(r"\bto\s+(?P<what>[^.;,!?]+)", re.IGNORECASE)


_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|「[^」]*」|『[^』]*』|(?<!\w)'[^']*'(?!\w)")


def classify(clause: str) -> str | None:
    """The GUI action a clause asks for, or None for a content description. Quoted words are content
    (a title that says "Click here" is not an instruction)."""
    bare = _QUOTED.sub("", clause)
    for kind, pattern in _RULES:
        if pattern.search(bare):
            return kind
    return None


def has_gui_speak(text: str) -> bool:
    return any(classify(piece) for piece in _SPLIT.split(text) if piece.strip())


def _replacement(kind: str, clause: str, zh: bool, summary: str | None) -> str:
    action = _ACTIONS[kind]
    base = action.zh if zh else action.en
    if kind in {"preview", "open"}:
        return (
            f"{base} {summary}"
            if summary
            else ("请使用 get_state 查看当前时间线。" if zh else "Use get_state to see the timeline.")
        )
    if kind == "click" and not zh:
        what = _WHAT.search(clause)
        if what:
            return f"To {what.group('what').strip()}, ask for it in a message."
        return base + "."
    if kind == "click":
        return base + "。"
    return base


def _translate_sentence(sentence: str, summary: str | None, seen: set[str]) -> str:
    if not classify(sentence):
        return sentence
    zh = bool(_CJK.search(sentence))
    pieces = _CLAUSE_SPLIT.split(sentence)
    # pieces alternate: clause, separator, clause, ...
    clauses = pieces[0::2]
    kept: list[str] = []
    actions: list[str] = []
    for clause in clauses:
        if not clause.strip():
            continue
        kind = classify(clause)
        if kind is None:
            kept.append(clause.strip())
            continue
        if kind in seen:
            continue
        seen.add(kind)
        actions.append(_replacement(kind, clause, zh, summary))
    out: list[str] = []
    if kept:
        content = ("，" if zh else ", ").join(kept).rstrip(" ,，")
        if content and content[-1] not in ".!?。！？":
            content += "。" if zh else "."
        out.append(content)
    out.extend(actions)
    return ("" if zh else " ").join(out)


def translate(text: str, track_summary: str | None = None) -> str:
    """Replace GUI instructions with what to do through the tools; keep every content description.

    Sentences without GUI-speak are kept byte for byte (a "1.5s" is not a sentence end).
    """
    seen: set[str] = set()
    pieces = _SPLIT.split(text)
    out: list[str] = []
    for piece in pieces:
        if not piece or not classify(piece):
            out.append(piece)
            continue
        lead = piece[: len(piece) - len(piece.lstrip())]
        out.append(lead + _translate_sentence(piece.strip(), track_summary, seen))
    return "".join(out).strip()
