"""GUI-speak translation (pure; docs/protocol.md §7): the backend talks as if the user had a GUI.

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
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WHAT = re.compile(r"\bto\s+(?P<what>[^.;,!?]+)", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|「[^」]*」|『[^』]*』|(?<!\w)'[^']*'(?!\w)")
# Words that open an instruction: the GUI span starts at the first of them in the clause.
_IMPERATIVE = re.compile(
    r"\b(click|tap|press|hit|select|open|drag|drop|preview|check|use|go\s+to|head\s+to)\b"
    r"|点击|单击|轻点|按下|打开|拖拽|拖动|拖放|预览|导出|查看",
    re.IGNORECASE,
)
_SEPARATORS = ",;:，；：、"
# What may stay in front of an instruction without saying anything on its own.
_FILLER = re.compile(
    r"^(?:then|now|please|just|simply|next|finally|and|or|also|you can|you may|you could|feel free to"
    r"|to\b.*|if you (?:want|would like|'d like)\b.*|然后|请|您可以|你可以|可以|接着|最后|也)?$",
    re.IGNORECASE,
)


def _mask_quotes(text: str) -> str:
    """Quoted words are content (a title saying "Click here" is no instruction): blank them, same length."""
    return _QUOTED.sub(lambda m: " " * len(m.group()), text)


def _find(text: str) -> tuple[str, int] | None:
    """The GUI action in `text` and where its instruction starts, or None."""
    bare = _mask_quotes(text)
    for kind, pattern in _RULES:
        match = pattern.search(bare)
        if match is None:
            continue
        clause_start = max(bare.rfind(sep, 0, match.start()) for sep in _SEPARATORS) + 1
        verb = _IMPERATIVE.search(bare, clause_start, match.end())
        start = verb.start() if verb is not None and verb.start() <= match.start() else clause_start
        return kind, start
    return None


def classify(clause: str) -> str | None:
    """The GUI action a clause asks for, or None for a content description."""
    found = _find(clause)
    return found[0] if found else None


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
        what = _WHAT.search(_mask_quotes(clause))
        if what:
            return f"To {clause[what.start('what') : what.end('what')].strip()}, ask for it in a message."
        return base + "."
    if kind == "click":
        return base + "。"
    return base


def _translate_sentence(sentence: str, summary: str | None, seen: set[str]) -> str:
    """Keep what comes before the instruction (the content), replace the instruction to the sentence end."""
    found = _find(sentence)
    if found is None:
        return sentence
    kind, start = found
    zh = bool(_CJK.search(sentence))
    kept = sentence[:start].rstrip()
    if _FILLER.match(kept.strip(_SEPARATORS + " ").strip()):
        kept = ""
    if kept:
        kept = kept.rstrip(_SEPARATORS + " ")
        if kept[-1] not in ".!?。！？)）\"”'’":
            kept += "。" if zh else "."
    if kind in seen:
        return kept
    seen.add(kind)
    action = _replacement(kind, sentence[start:], zh, summary)
    if not kept:
        return action
    return kept + ("" if _CJK.match(kept[-1]) or kept[-1] in "。！？" else " ") + action


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
