"""The tools of skill.yaml, one module each: `async def <tool>(args, ctx) -> result`."""

__all__: list[str] = []
