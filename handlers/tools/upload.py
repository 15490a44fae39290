"""upload: local files (streamed multipart, checked first) and URLs into a session (docs/protocol.md §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handlers._constants import APP_NAME, SUPPORTED_EXTENSIONS, UPLOAD_LIMIT_BYTES, UPLOAD_LIMIT_MB
from handlers._context import ToolContext
from handlers._errors import FileTooLargeError, InputError, ServerError, UnsupportedFileError
from handlers._http import new_idempotency_key
from handlers._state import upload_record

__all__ = ["check_file", "upload"]


def check_file(path: Path) -> int:
    """Before sending: the file exists, has a supported extension, is at most 500 MB. Returns its size."""
    if not path.is_file():
        raise InputError(
            f"no such file: {path}",
            [f"files: {path} does not exist or is not a file; send the path of an existing file"],
        )
    ext = path.suffix.lower().lstrip(".")
    if ext not in SUPPORTED_EXTENSIONS:
        raise UnsupportedFileError(
            f"{path.name}: .{ext or '(no extension)'} files are not supported; "
            f"supported formats: {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    size = path.stat().st_size
    if size > UPLOAD_LIMIT_BYTES:
        raise FileTooLargeError(
            f"{path.name} is {size / 1024 / 1024:.0f} MB; the limit is {UPLOAD_LIMIT_MB} MB a file"
        )
    return size


def _checked(files: list[str]) -> list[Path]:
    """Every file is checked before anything is sent."""
    paths = [Path(p).expanduser() for p in files]
    for path in paths:
        check_file(path)
    return paths


def _files(data: Any) -> list[dict[str, Any]]:
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        raise ServerError("the upload answer lists no files")
    return [upload_record(f) for f in files if isinstance(f, dict)]


def _describe(u: dict[str, Any]) -> str:
    bits = [u["type"]]
    if u.get("duration"):
        bits.append(f"{u['duration']:.1f}s")
    if u.get("width") and u.get("height"):
        bits.append(f"{u['width']}x{u['height']}")
    return f"{u['filename'] or u['id']} ({', '.join(bits)}, id {u['id']})"


async def upload(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    paths = _checked(args.get("files", []))
    ref = await ctx.session(args.get("session_id"), create=True)
    endpoint = f"/api/upload-video/{APP_NAME}/me/{ref.session_id}"
    uploads: list[dict[str, Any]] = []
    for i, path in enumerate(paths, start=1):
        ctx.emit("info", f"Uploading {path.name} ({i}/{len(paths)})…")
        uploads.extend(
            _files(
                await ctx.api.call(
                    "POST", endpoint, files=[path], idempotency_key=new_idempotency_key(), slow=True
                )
            )
        )
    if args.get("urls"):
        ctx.emit("info", f"Importing {len(args['urls'])} URL(s)…")
        uploads.extend(
            _files(
                await ctx.api.call(
                    "POST",
                    endpoint,
                    json={"urls": list(args["urls"]), "source_type": "url"},
                    idempotency_key=new_idempotency_key(),
                    slow=True,
                )
            )
        )
    text = (
        f"Uploaded {len(uploads)} file(s): "
        + "; ".join(_describe(u) for u in uploads)
        + ". Refer to them in a message."
    )
    return ctx.ok(text, session_id=ref.session_id, uploads=uploads)
