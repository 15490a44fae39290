"""credits: the balance and the advice of docs/protocol.md §6 (check before generating; export is free)."""

from __future__ import annotations

from typing import Any

from handlers._context import ToolContext
from handlers._errors import ServerError

__all__ = ["credits"]

ADVICE = "Generating and editing cost credits, so check the balance before a generation; export is free."


def _number(data: dict[str, Any], key: str) -> float | int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ServerError(f"the balance answer has no number for {key!r}")
    return value


def _fmt(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


async def credits(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    data = await ctx.api.call("GET", "/api/credits/balance/simple")
    if not isinstance(data, dict):
        raise ServerError("the balance answer is not an object")
    available = _number(data, "available")
    frozen = _number(data, "frozen") if "frozen" in data else 0
    total = _number(data, "total") if "total" in data else available + frozen
    text = f"Credits: {_fmt(available)} available, {_fmt(frozen)} frozen, {_fmt(total)} total. {ADVICE}"
    if available <= 0:
        url = ctx.api.register_url()
        text += (
            f" No credits left: register to get more: {url}"
            if url
            else " No credits left: top up in your account."
        )
    return ctx.ok(text, available=available, frozen=frozen, total=total, advice=ADVICE)
