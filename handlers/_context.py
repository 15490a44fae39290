"""What a tool handler gets: the configured API client, progress reporting, session defaults, results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread

from handlers import _workspace as workspace
from handlers._config import Config
from handlers._constants import APP_NAME
from handlers._embedded import engine_home
from handlers._errors import NoSessionError, VideogenError
from handlers._frontend import failure_result
from handlers._http import ApiClient, new_idempotency_key
from handlers._progress import ProgressCallback, ProgressKind, emit
from handlers._sessions import SessionRef, recall, remember

__all__ = ["ToolContext"]


@dataclass
class ToolContext:
    config: Config
    api: ApiClient
    progress: ProgressCallback | None = None
    # routing inside send_message: another tool's handler, run with this same context
    call_tool: Callable[[str, dict[str, Any]], Any] | None = field(default=None, repr=False)

    @property
    def backend(self) -> str:
        return self.config.label

    def emit(self, kind: ProgressKind, message: str, percent: float | None = None) -> None:
        emit(self.progress, kind, message, percent)

    def ok(self, text: str, **fields: Any) -> dict[str, Any]:
        return {"ok": True, "backend": self.backend, "text": text, **fields}

    def failed(self, error: VideogenError, **fields: Any) -> dict[str, Any]:
        return failure_result(error, self.backend, **fields)

    async def create_session(self, *, language: str = "en", task_name: str = "project") -> SessionRef:
        data = await self.api.call(
            "POST",
            f"/api/tasks/me/with-session/{APP_NAME}",
            json={"task_name": task_name, "language": language},
            idempotency_key=new_idempotency_key(),
        )
        if not isinstance(data, dict) or not data.get("session_id"):
            raise VideogenError("the backend created no session (no session_id in the answer)")
        user_id = data.get("user_id") or self.api.user_id
        if isinstance(user_id, str):
            self.api.user_id = user_id
        ref = SessionRef(str(data["session_id"]), _opt(data.get("task_id")), _opt(user_id))
        remember(self.config, ref)
        return ref

    async def session(self, session_id: str | None, *, create: bool = False) -> SessionRef:
        """The session to use: the given id, else the remembered one, else (if `create`) a new one."""
        ref = recall(self.config, session_id)
        if ref is not None:
            if ref.user_id and not self.api.user_id:
                self.api.user_id = ref.user_id
            return ref
        if create:
            self.emit("info", "Creating a session…")
            return await self.create_session()
        raise NoSessionError("there is no session yet")

    async def web_base(self) -> str:
        """Where browser links point. On the local engine: its workspace server, started when none
        runs (`handlers._workspace`), so that the link opens; elsewhere the configured web URL."""
        if self.config.backend != "embedded":
            return self.config.web_url
        home = engine_home(self.config.engine_home)
        if not workspace.enabled():
            record = await anyio.to_thread.run_sync(workspace.running, home)
            return self.config.web_url if record is None else record.url
        try:
            return await anyio.to_thread.run_sync(workspace.ensure, home)
        except VideogenError as exc:
            self.emit("info", f"The project page could not be started: {exc.message}")
            return self.config.web_url

    async def browser_url(self, ref: SessionRef) -> str:
        """A claim-token link when the backend gives one, else the long form (docs/protocol.md §3)."""
        web = await self.web_base()
        if ref.task_id:
            try:
                data = await self.api.call(
                    "POST",
                    "/api/auth/claim-token",
                    json={"task_id": ref.task_id, "session_id": ref.session_id},
                )
            except VideogenError:
                data = None
            if isinstance(data, dict) and data.get("claim_token"):
                return f"{web}/workspace/claim?" + urlencode({"ct": data["claim_token"]})
        attribution = self.api.attribution()
        query = urlencode(
            {
                "task": ref.task_id or "",
                "session": ref.session_id,
                "skill_name": attribution.name,
                "skill_version": attribution.version,
                "skill_source": attribution.platform,
            }
        )
        return f"{web}/workspace/claim?{query}"


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
