"""The page a browser gets for a project link that does not open a project (pure HTML, escaped).

The project page itself is the workspace (``engine.server._workspace``); a link opens it only with a
live claim token: there is no form without one (issue 12, finding 13).
"""

from __future__ import annotations

from html import escape

__all__ = ["not_found_page"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
)


def not_found_page(reason: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Project not found</title>'
        f"<style>{_STYLE}</style></head><body><h1>Project not found</h1><p>{escape(reason)}</p></body></html>"
    )
