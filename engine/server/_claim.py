"""The ``/workspace/claim`` page: a session's project in a browser (pure HTML, everything escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from engine.summary import track_summary

__all__ = ["RenderLink", "claim_page", "not_found_page"]


@dataclass(frozen=True)
class RenderLink:
    id: str
    status: str
    url: str | None
    format: str
    error: str | None


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "video{max-width:100%;background:#000}li{margin:.6rem 0}.muted{color:#666}"
)


def claim_page(
    *, title: str, task_id: str, session_id: str, draft: dict[str, Any] | None, renders: Sequence[RenderLink]
) -> str:
    """The project page: title, track summary and the session's renders (playable when finished)."""
    summary = track_summary(draft) if draft is not None else "Timeline (0 tracks): nothing yet"
    items: list[str] = []
    for r in renders:
        if r.status == "completed" and r.url:
            url = escape(r.url, quote=True)
            items.append(
                f"<li><p>{escape(r.id)} ({escape(r.format)})</p>"
                f'<video controls preload="metadata" src="{url}"></video>'
                f'<p><a href="{url}">Download {escape(r.id)}.{escape(r.format)}</a></p></li>'
            )
        elif r.status == "failed":
            items.append(f"<li>{escape(r.id)}: failed ({escape(r.error or 'no reason given')})</li>")
        else:
            items.append(f"<li>{escape(r.id)}: {escape(r.status)}</li>")
    renders_html = f"<ul>{''.join(items)}</ul>" if items else '<p class="muted">No renders yet.</p>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="muted">Task {escape(task_id)} · session {escape(session_id)}</p>'
        f"<h2>Timeline</h2><p>{escape(summary)}</p>"
        f"<h2>Renders</h2>{renders_html}"
        "</body></html>"
    )


def not_found_page(reason: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Project not found</title>'
        f"<style>{_STYLE}</style></head><body><h1>Project not found</h1><p>{escape(reason)}</p></body></html>"
    )
