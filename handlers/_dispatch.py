"""`acall_tool` / `call_tool`: validate, pick the backend, run the handler, check the result.

Tool failures never raise: they come back as `{"ok": false, "backend", "text", "error": {...}}`.
"""

from __future__ import annotations

import functools
from typing import Any

import anyio

from handlers._backend import open_api
from handlers._config import Config
from handlers._context import ToolContext
from handlers._errors import ConfigError, VideogenError, redact
from handlers._frontend import failure_result
from handlers._manifest import Manifest, ToolSpec, load_manifest
from handlers._progress import ProgressCallback

__all__ = ["acall_tool", "call_tool"]


class _InternalError(VideogenError):
    code = "internal_error"


def unwrap(exc: Exception) -> Exception:
    """The one error inside task-group wrappers (the embedded engine runs in a task group, which wraps
    what a tool raises in an ExceptionGroup); a group of several stays as it is."""
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


async def _run(manifest: Manifest, ctx: ToolContext, name: str, args: object) -> dict[str, Any]:
    spec = manifest.tool(name)
    valid = spec.validate_input(args)
    result: dict[str, Any] = await spec.handler(valid, ctx)
    return result


async def acall_tool(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    progress: ProgressCallback | None = None,
    config: Config | None = None,
) -> dict[str, Any]:
    """Run one tool. `config` defaults to the environment's (Config.from_env())."""
    label = "unknown"
    spec: ToolSpec | None = None
    try:
        config = config or Config.from_env()
        label = config.label
        manifest = load_manifest()
        spec = manifest.tool(name)
        spec.validate_input({} if args is None else args)
        fallback = (manifest.name, manifest.version)
        async with open_api(config, fallback_attribution=fallback) as api:
            ctx = ToolContext(config=config, api=api, progress=progress)

            async def route(other: str, other_args: dict[str, Any]) -> dict[str, Any]:
                return await _run(manifest, ctx, other, other_args)

            ctx.call_tool = route
            result = await _run(manifest, ctx, name, {} if args is None else args)
    except Exception as raised:
        exc = unwrap(raised)
        if isinstance(exc, VideogenError):
            result = failure_result(exc, label)
        elif isinstance(exc, OSError):
            result = failure_result(ConfigError(f"a file could not be used: {exc}"), label)
        else:  # a bug must still come back as a result the agent can read
            result = failure_result(
                _InternalError(f"internal error: {type(exc).__name__}: {redact(str(exc))}"), label
            )
    if spec is not None:
        problems = spec.output_problems(result)
        if problems:
            return failure_result(
                _InternalError("the tool's result does not match its schema: " + "; ".join(problems)), label
            )
    return result


def call_tool(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    progress: ProgressCallback | None = None,
    config: Config | None = None,
) -> dict[str, Any]:
    """Synchronous `acall_tool` (runs its own event loop; not for use inside one)."""
    return anyio.run(functools.partial(acall_tool, name, args, progress=progress, config=config))
