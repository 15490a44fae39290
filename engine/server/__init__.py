"""The NemoVideo API offline: the local engine as an HTTP server (docs/protocol.md §2-6, exactly).

Run it: ``create_app(ServerConfig(home=...))`` (an ASGI app; enter its lifespan), ``serve(host, port,
config)`` (uvicorn, 127.0.0.1 unless told otherwise) or ``python -m engine.server [--host H] [--port N]
[--home DIR]``. Data lives under ``default_home()``; see ``engine.server._store`` for the layout.

What a client sees, beyond the cloud's behaviour (docs/protocol.md marks it *engine*; the client
accepts all of it):

- Envelope errors carry an HTTP status: 1001 -> 401, 1002 -> 404, 1003 (session busy) -> 409,
  1004 (attribution headers missing) -> 428, 2001 -> 403, 4000 (invalid request: bad JSON, a missing
  field, a URL the engine will not fetch, a draft that does not validate) -> 422, 4001 -> 415,
  4002 -> 413, 4004 (unknown render id) -> 404, 4009 (render not finished) -> 404, 5000 -> 500.
  HTTP-status errors have the body ``{"detail": ...}``: 400 (no X-Client-Id), 402 (render request
  without the attribution headers), 429 (per-address token limit; ``Retry-After: 30``), and 404
  ``Session not found: <sid>`` on ``/run_sse``, as Google ADK answers.
- Attribution headers (X-Skill-Source, X-Skill-Version, X-Skill-Platform): required on every /api
  call except ``/api/auth/anonymous-token`` (the cloud's recipes call it without them) and on ``/run_sse``.
  Without them the render endpoints (submit, poll, download) answer HTTP 402 like the cloud, every
  other one the envelope code 1004 (HTTP 428). The public file URLs need neither token nor headers.
- Anonymous tokens: one per client id until it expires (``token_ttl_s``); a client id keeps its
  user (sessions, credits) across tokens. ``credits`` in the answer is the real balance
  (``initial_credits``, 1,000,000 by default).
- Credits: a turn costs the agent's ``Turn.cost`` (generation and edits; questions, undo and
  exports are free). It is reserved (``frozen``) before the stream starts, or refused with 2001 if
  ``available`` is short, then spent when the turn ends (given back if it fails).
- Uploads: one request is stored whole or not at all (one unsupported or oversized file refuses
  it); files are judged by content; the stored ``filename`` is a sanitised display name.
- ``POST /api/render/proxy/lambda`` and its poll answer shape A as a bare object (clients read
  ``status`` at the top level); ``output`` is null until completed, ``output.url`` is absolute
  (``/files/renders/<unguessable token>/<id>.<format>``, Range requests supported), and the
  ``/api/render/proxy/<id>/download`` fallback needs the bearer token. A render uses the body's
  ``draft`` (or the session's current draft when there is none); every ``src`` must be an upload
  of the session (its id or its ``cdn_url``), else 4000 before the job starts. For tests,
  ``ServerConfig.max_render_height`` renders a scaled-down canvas (90: 1920x1080 -> 160x90).
- ``/run_sse`` honours ADK's ``"streaming": true``: text events also come as ``"partial": true``
  chunks before the final event with the same id (the fault ``streaming_partials`` forces it).
- ``/latest`` adds ``data.busy`` (a turn is running in the session) and ``data.revision`` (the
  head revision number, null before the first change). Before any change ``state.draft`` is an
  empty draft (``{"m": {...1920x1080...}, "t": []}``). ``generated_media`` lists finished renders.
- Upload records' ``cdn_url`` is ``/files/media/<token>/<name>`` on this server (no auth, Range).
- ``/workspace/claim?ct=...`` answers the project's workspace page (``engine.server._workspace``:
  its ``/workspace/api/*`` need the claim token, actions a CSRF token too); without a claim token,
  or with an unknown or expired one, 404 with a page that says so.
- ``GET /healthz`` answers ``{"ok": true}`` once the engine is ready.
- Extensions (the cloud has none and answers 404): ``GET /api/storyboard/nemo_agent/<user>/<sid>/latest``
  (a PNG contact sheet of the draft) and ``POST /api/edit/nemo_agent/<user>/<sid>`` with
  ``{"ops": [...]}``: exact edits as JSON ops, applied together as one revision through the same
  operations as the conversation (``engine.server._edit``); answers ``{"session_id", "revision",
  "changed", "changes", "draft"}``, or 4000 naming ``ops[i].field`` and what is allowed (nothing
  changed). Costs what a conversation edit costs; ``undo``/``redo`` ops are free.
- ``POST /api/render/proxy/lambda/<id>/cancel`` (an extension, bearer token and attribution headers
  as for a poll): a pending or running render stops and ends ``failed`` with a "cancelled" reason;
  a finished one is left as it is. The answer is the render's status (shape A).
- Limits (``engine.server.config.Limits``, README "Limits"): a request beyond one is refused before
  any work with 4000 (or 4002 for sizes: JSON body, upload quota, pixels per picture).
- Served over HTTP (``serve``, ``engine.server._net``): a Host name the engine does not answer to
  gets HTTP 421 ``{"detail": ...}``; a request body that stalls gets HTTP 408 and a closed
  connection.
- Fault emulation: ``engine.server.faults`` (module docstring).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.server.config import ServerConfig, default_home
from engine.server.faults import FaultConfig

if TYPE_CHECKING:
    from engine.server._app import create_app
    from engine.server._net import serve

__all__ = ["FaultConfig", "ServerConfig", "create_app", "default_home", "serve"]

# A library logs nowhere unless its host says where (``serve`` sends it to stderr): the embedded
# engine must not write to a CLI's stderr, whose lines are the CLI's own progress.
logging.getLogger("engine.server").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    # The app pulls in Starlette, the agent and the renderer: load it only when asked for, so that
    # ``engine.server.faults`` and ``ServerConfig`` stay cheap to import (the client's tests use them).
    if name == "create_app":
        from engine.server import _app

        return _app.create_app
    if name == "serve":
        from engine.server import _net

        return _net.serve
    raise AttributeError(f"module 'engine.server' has no attribute {name!r}")
