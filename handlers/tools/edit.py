"""edit: exact edits as JSON ops, one revision, on the local engine's edit extension.

The engine resolves and applies the ops through the same timeline operations as its conversation
(engine/server/_edit.py); this client only sends them and reports what changed. A refused op comes
back as invalid input (exit code 2) naming `ops[i].field`, with nothing changed. The cloud has no such
endpoint and answers 404: the result then says `edit` needs the local engine and to send the
instruction as a message instead.
"""

from __future__ import annotations

from typing import Any

from handlers._context import ToolContext
from handlers._draftview import is_ready, listing, track_summary
from handlers._errors import ApiError, InputError, NeedsLocalEngineError, ServerError

__all__ = ["edit"]

_EDIT = "/api/edit/nemo_agent/me/{sid}"
_INVALID_REQUEST = 4000  # the engine's refusal of a request it cannot apply (nothing changed)


async def edit(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    ops: list[Any] = list(args["ops"])
    ref = await ctx.session(args.get("session_id"))
    ctx.emit("info", f"Applying {len(ops)} edit{'s' if len(ops) != 1 else ''} as one change…")
    try:
        data = await ctx.api.call("POST", _EDIT.format(sid=ref.session_id), json={"ops": ops})
    except ApiError as exc:
        if exc.http_status == 404 and exc.api_code is None:  # the route is not there: the cloud
            raise NeedsLocalEngineError(
                f"the edit tool needs the local engine; {ctx.backend} has no edit endpoint",
                recovery="Send the instruction as a message with send_message instead (in words).",
            ) from exc
        if exc.api_code == _INVALID_REQUEST:
            raise InputError(
                exc.message,
                [exc.message],
                recovery=(
                    "Fix that op and send the whole list again (nothing was changed); get_state's "
                    "listing shows the clip numbers, text ids and times."
                ),
            ) from exc
        raise
    if not isinstance(data, dict) or not isinstance(data.get("draft"), dict):
        raise ServerError("the edit endpoint answered without the draft")
    draft = data["draft"]
    changes = [str(c) for c in data.get("changes") or []]
    summary = track_summary(draft)
    if changes:
        text = "Done: " + "; ".join(changes) + f".\n{summary}"
    else:
        text = f"Nothing changed: the timeline already was like that.\n{summary}"
    revision = data.get("revision")
    return ctx.ok(
        text,
        session_id=ref.session_id,
        changes=changes,
        track_summary=summary,
        ready_for_export=is_ready(draft),
        revision=revision if isinstance(revision, int) else None,
        listing=listing(draft),
    )
