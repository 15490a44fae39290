"""The tools over HTTP against the local engine (in-process, through the streaming transport)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from engine.server import FaultConfig
from handlers._draftview import fmt_size
from tests.handlers.conftest import Engine, EngineFactory, file_head, file_size, rewrite

pytestmark = pytest.mark.anyio

GENERATE = "make a 3-second reel from these images with the music and a title 'Aurora'"


async def upload_all(eng: Engine, media: dict[str, Path]) -> dict[str, Any]:
    result = await eng.call(
        "upload", {"files": [str(media[k]) for k in ("still1", "still2", "still3", "music")]}
    )
    assert result["ok"], result
    return result


async def test_a_conversation_makes_a_verified_video_file(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    session = await eng.call("create_session", {"language": "en"})
    assert session["ok"]
    assert session["backend"] == "local"
    assert "/workspace/claim?ct=clm_" in session["browser_url"]

    uploaded = await upload_all(eng, media)
    assert [u["filename"] for u in uploaded["uploads"]] == [
        "product_front.jpg",
        "product_side.jpg",
        "product_detail.jpg",
        media["music"].name,
    ]
    assert uploaded["uploads"][3]["type"] == "audio"
    assert uploaded["uploads"][3]["duration"] == pytest.approx(4.0, abs=0.2)

    made = await eng.call("send_message", {"message": GENERATE})
    assert made["ok"], made
    assert made["stage"] == "complete"
    assert made["ready_for_export"] is True
    assert made["silent"] is False
    assert made["tool_calls"]["count"] >= 2
    assert made["track_summary"].startswith(
        "Timeline (3 tracks): 1. Video: product front, product side +1 more"
    )
    assert made["track_summary"] in made["text"]  # the client's own summary reads like the engine's
    assert made["changes"][0].startswith("timeline created")

    edited = await eng.call("send_message", {"message": "shorten the first clip to 0.5 seconds"})
    assert edited["ok"], edited
    assert edited["stage"] == "edit"
    assert any("shortened" in c for c in edited["changes"])

    state = await eng.call("get_state", {})
    assert state["ready_for_export"] is True
    assert state["title"] == "Aurora"
    assert state["canvas"]["width"] > 0
    assert "draft" not in state
    # sentences, not run-ons: "...(0-3s). Uploads (4): a, b. Duration 2.5s. Ready for export."
    assert f"{state['track_summary']}. Uploads (4): product_front.jpg, " in state["text"]
    ending = r"\.jpg, [^.]+\.wav\. Duration [\d.]+s\. Ready for export\.$"
    assert re.search(ending, state["text"]), state["text"]
    assert (await eng.call("get_state", {"include_draft": True}))["draft"]["t"]

    exported = await eng.call("export", {"quality": "low"})
    assert exported["ok"], exported
    path = Path(exported["path"])
    assert path.parent == eng.cwd / "videogen-output"
    assert path.name == f"aurora-{exported['render_id']}.mp4"
    assert file_size(path) == exported["size"] > 0
    assert file_head(path)[4:8] == b"ftyp"
    assert exported["duration_s"] == pytest.approx(2.5, abs=0.6)
    assert exported["attempts"] == 1
    assert str(path) in exported["text"]
    assert f"({fmt_size(exported['size'])}, " in exported["text"]
    assert exported["url"] == path.as_uri()  # a link a person can open (a file:// URI)
    assert any(e.kind == "render" and e.percent == 100.0 for e in eng.progress)

    [first_turn, _second] = [r for r in eng.recorder.requests if r.path == "/run_sse"]
    assert json.loads(first_turn.body) == {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session["session_id"],
        "new_message": {"role": "user", "parts": [{"text": GENERATE}]},
    }
    assert first_turn.headers["accept"] == "text/event-stream"
    job_posts = [
        r
        for r in eng.recorder.requests
        if r.path in ("/api/render/proxy/lambda",) or "/with-session/" in r.path
    ]
    assert len(job_posts) == 2
    assert all(len(r.headers["idempotency-key"]) == 36 for r in job_posts)


async def test_every_request_carries_the_attribution_read_from_skill_md_at_run_time(
    engine: EngineFactory, skill_md: Path
) -> None:
    eng = await engine()
    assert (await eng.call("credits"))["ok"]
    api_calls = [r for r in eng.recorder.requests if r.path.startswith("/api/") and "anonymous" not in r.path]
    assert api_calls
    for seen in api_calls:
        assert seen.headers["x-skill-source"] == "video-generator-ai"
        assert seen.headers["x-skill-version"] == "0.1.0"
        assert seen.headers["x-skill-platform"] == "claude"

    rewrite(skill_md, ("name: video-generator-ai", "name: renamed-skill"), ("0.1.0", "7.7.7"))
    assert (await eng.call("credits"))["ok"]
    last = eng.recorder.requests[-1]
    assert (last.headers["x-skill-source"], last.headers["x-skill-version"]) == ("renamed-skill", "7.7.7")


async def test_the_token_never_appears_in_urls_results_or_progress(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    await upload_all(eng, media)
    result = await eng.call("send_message", {"message": GENERATE})
    token = json.loads((eng.config.config_dir / "token.json").read_text())[eng.config.api_url]["token"]
    assert token.startswith("nmv_")
    assert all(token not in r.path for r in eng.recorder.requests)
    assert token not in json.dumps(result)
    assert all(token not in e.message for e in eng.progress)
    assert os.stat(eng.config.config_dir / "token.json").st_mode & 0o777 == 0o600
    assert os.stat(eng.config.config_dir / "client_id").st_mode & 0o777 == 0o600


async def test_credits_show_the_balance_and_the_advice(engine: EngineFactory) -> None:
    eng = await engine(initial_credits=250)
    result = await eng.call("credits")
    assert (result["available"], result["frozen"], result["total"]) == (250, 0, 250)
    assert "check the balance before a generation; export is free" in result["text"]


async def test_export_with_an_empty_timeline_says_to_describe_the_video_first(engine: EngineFactory) -> None:
    eng = await engine()
    await eng.call("create_session")
    result = await eng.call("export")
    assert result["error"]["code"] == "nothing_to_export"
    assert result["error"]["message"] == "nothing to export yet: describe the video first"
    assert eng.recorder.count("POST", "/api/render/proxy/lambda") == 0


async def test_export_never_overwrites_a_file_silently(
    engine: EngineFactory, media: dict[str, Path], tmp_path: Path
) -> None:
    eng = await engine()
    await upload_all(eng, media)
    await eng.call("send_message", {"message": GENERATE})
    existing = tmp_path / "mine.mp4"
    existing.write_bytes(b"precious")
    result = await eng.call("export", {"output_path": str(existing)})
    assert result["error"]["code"] == "file_exists"
    assert existing.read_bytes() == b"precious"
    assert eng.recorder.count("POST", "/api/render/proxy/lambda") == 0


async def test_a_tool_without_a_session_says_to_create_one(engine: EngineFactory) -> None:
    eng = await engine()
    result = await eng.call("get_state")
    assert result["error"]["code"] == "no_session"
    assert "create_session" in result["error"]["recovery"]


@pytest.mark.parametrize(
    ("message", "tool"),
    [("credits", "credits"), ("余额", "credits"), ("status", "get_state"), ("show tracks", "get_state")],
)
async def test_messages_meant_for_another_tool_are_answered_by_it_not_sent(
    engine: EngineFactory, message: str, tool: str
) -> None:
    eng = await engine()
    await eng.call("create_session")
    result = await eng.call("send_message", {"message": message})
    assert result["ok"], result
    assert result["routed_to"] == tool
    assert eng.recorder.count("POST", "/run_sse") == 0


async def test_export_and_upload_messages_are_routed_too(engine: EngineFactory) -> None:
    eng = await engine()
    await eng.call("create_session")
    export = await eng.call("send_message", {"message": "导出"})
    assert export["routed_to"] == "export"
    assert export["error"]["code"] == "nothing_to_export"
    upload = await eng.call("send_message", {"message": "upload my photos"})
    assert upload["error"]["code"] == "wrong_tool"
    assert upload["error"]["tool"] == "upload"
    assert eng.recorder.count("POST", "/run_sse") == 0


async def test_files_are_checked_before_anything_is_sent(engine: EngineFactory, tmp_path: Path) -> None:
    eng = await engine()
    doc = tmp_path / "notes.txt"
    doc.write_text("hello")
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as handle:
        handle.truncate(501 * 1024 * 1024)  # sparse: no disk used
    unsupported = await eng.call("upload", {"files": [str(doc)]})
    assert unsupported["error"]["code"] == "unsupported_file"
    assert (
        "mp4, mov, avi, webm, mkv, jpg, jpeg, png, gif, webp, mp3, wav, m4a, aac"
        in unsupported["error"]["message"]
    )
    too_large = await eng.call("upload", {"files": [str(huge)]})
    assert too_large["error"]["code"] == "file_too_large"
    assert "500 MB" in too_large["error"]["recovery"]
    assert [r for r in eng.recorder.requests if r.path.startswith("/api/upload-video")] == []


async def test_the_embedded_engine_is_the_default_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skill_md: Path
) -> None:
    import anyio

    from handlers import acall_tool

    for name in ("NEMO_BACKEND", "NEMO_API_URL", "NEMO_TOKEN", "NEMO_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIDEOGEN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("VIDEOGEN_SKILL_MD", str(skill_md))
    with anyio.fail_after(60):
        result = await acall_tool("create_session", {})
    assert result["ok"], result
    assert result["backend"] == "local"
    assert (tmp_path / "xdg" / "nemovideo" / "client_id").is_file()
    assert (tmp_path / "home").is_dir()


async def test_an_upload_is_streamed_in_chunks_never_read_whole(
    engine: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers._samples import make_music

    song = tmp_path / "long_song.wav"
    make_music(song, 12.0)
    size = file_size(song)
    assert size > 500_000  # several chunks
    reads: list[int] = []
    real_open = Path.open

    class Spy:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            data: bytes = self._handle.read(n)
            return data

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

    def spying_open(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(path, mode, *args, **kwargs)
        return Spy(handle) if path == song and "r" in mode else handle

    monkeypatch.setattr(Path, "open", spying_open)
    eng = await engine()
    result = await eng.call("upload", {"files": [str(song)]})
    assert result["ok"], result
    assert result["uploads"][0]["size"] == size
    assert reads
    assert all(0 < n <= 1024 * 1024 for n in reads)  # bounded chunks, never read(-1)


async def test_get_state_can_fetch_a_storyboard_png_of_the_timeline(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine()
    await upload_all(eng, media)
    await eng.call("send_message", {"message": GENERATE})
    state = await eng.call("get_state", {"storyboard": True})
    assert state["ok"], state
    path = Path(state["storyboard_path"])
    assert path.parent == eng.cwd / "videogen-output"
    assert file_head(path)[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Storyboard: {path}" in state["text"]
    again = await eng.call("get_state", {"storyboard": True})
    assert again["storyboard_path"] == state["storyboard_path"]  # the same revision, the same sheet


async def test_a_backend_without_storyboards_says_so_instead_of_failing(
    engine: EngineFactory, media: dict[str, Path]
) -> None:
    eng = await engine(faults=FaultConfig(errors={"storyboard": 1002}))
    await upload_all(eng, media)
    await eng.call("send_message", {"message": GENERATE})
    state = await eng.call("get_state", {"storyboard": True})
    assert state["ok"], state
    assert "storyboard_path" not in state
    assert "offers no storyboard" in state["text"]
    assert not list((eng.cwd / "videogen-output").glob("*.part"))


async def test_a_blank_message_is_refused_before_anything_is_sent(engine: EngineFactory) -> None:
    eng = await engine()
    await eng.call("create_session")
    result = await eng.call("send_message", {"message": "  \n\t "})
    assert result["error"]["code"] == "invalid_input"
    assert result["error"]["message"] == "the message is empty: say what to make or change"
    assert eng.recorder.count("POST", "/run_sse") == 0


async def test_title_cards_made_without_uploads_export_and_draw_a_storyboard(engine: EngineFactory) -> None:
    eng = await engine()
    await eng.call("create_session")
    made = await eng.call(
        "send_message", {"message": 'Make a 2-second intro card that says "Welcome to Acme"'}
    )
    assert made["ok"], made
    assert "NemoVideo cloud" in made["text"]  # honest: footage generation needs the cloud
    state = await eng.call("get_state", {"storyboard": True})
    assert file_head(Path(state["storyboard_path"]))[:8] == b"\x89PNG\r\n\x1a\n"
    exported = await eng.call("export", {"quality": "low"})
    assert exported["ok"], exported
    assert exported["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert file_head(Path(exported["path"]))[4:8] == b"ftyp"
