"""Client-side routing (docs/protocol.md §4): these messages are answered by other tools, not run_sse."""

from __future__ import annotations

import pytest

from handlers._routing import Route, route_message


@pytest.mark.parametrize(
    ("message", "route"),
    [
        ("export", Route("export")),
        ("Export it as MOV please", Route("export", {"format": "mov"})),
        ("download the video", Route("export")),
        ("send me the video", Route("export")),
        ("导出", Route("export")),
        ("导出视频", Route("export")),
        ("credits", Route("credits")),
        ("How many credits do I have?", Route("credits")),
        ("balance", Route("credits")),
        ("积分", Route("credits")),
        ("余额还有多少", Route("credits")),
        ("status", Route("get_state")),
        ("show tracks", Route("get_state")),
        ("状态", Route("get_state")),
        ("upload", Route("upload")),
        ("上传图片", Route("upload")),
    ],
)
def test_requests_for_another_tool_are_routed(message: str, route: Route) -> None:
    assert route_message(message) == route


@pytest.mark.parametrize(
    "message",
    [
        "make a 30-second product reel from these images with upbeat music",
        "add a title 'Export ready' at 10s",
        "shorten the intro to 2 seconds",
        "add a text overlay saying check your credits at the 10-second mark",
        "把开头缩短到两秒，然后导出之前加上背景音乐和标题",
        "swap the background music",
    ],
)
def test_edits_and_generation_go_to_the_backend(message: str) -> None:
    assert route_message(message) is None
