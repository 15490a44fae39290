"""The edit extension over HTTP: every op, its errors (index, field, what is allowed), one revision."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from engine import timeline as tl
from engine.render import _ffmpeg
from engine.server import FaultConfig, ServerConfig
from engine.server._edit import EDIT_OPS, MAX_OPS
from tests._support import eventually

from ._support import (
    MESSAGE,
    auth,
    client,
    get_token,
    image_bytes,
    new_session,
    running_server,
    send_message,
    state,
    wav_bytes,
)

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def clip_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 4 s 160x90 H.264/AAC clip (test pattern and a tone), made with the project's ffmpeg."""
    path = tmp_path_factory.mktemp("edit-media") / "clip.mp4"

    async def make() -> None:
        await _ffmpeg.run(
            [
                *("-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=4"),
                *("-f", "lavfi", "-i", "sine=f=660:d=4", "-c:v", "libx264", "-preset", "ultrafast"),
                *("-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)),
            ]
        )

    anyio.run(make)
    return path.read_bytes()


@dataclass
class Project:
    http: httpx2.AsyncClient
    token: str
    sid: str
    uploads: dict[str, str]  # file name -> upload id

    async def edit(self, ops: Any, *, status: int = 200) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/edit/nemo_agent/me/{self.sid}", headers=auth(self.token), json={"ops": ops}
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    async def refused(self, ops: Any) -> str:
        body = await self.edit(ops, status=422)
        assert body["code"] == 4000
        message: str = body["message"]
        assert message.endswith("Nothing was changed")
        return message

    async def draft(self) -> dict[str, Any]:
        data = await state(self.http, self.token, self.sid)
        draft: dict[str, Any] = data["state"]["draft"]
        return draft

    async def revision(self) -> int | None:
        value: int | None = (await state(self.http, self.token, self.sid))["revision"]
        return value


def clips(draft: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(file name, start ms, length ms) of each main clip."""
    return [(s["m"].get("name"), s["st"], s["d"]) for s in tl.main_segments(draft)]


def texts(draft: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return [(s["text"], s["st"], s["d"], s["m"]["position"]) for s in tl.text_segments(draft)]


@pytest.fixture
async def project(tmp_path: Path, clip_mp4: bytes) -> AsyncIterator[Project]:
    """A session with three stills, a 4 s video clip and a 4 s music bed, and no draft yet."""
    async with running_server(ServerConfig(home=tmp_path / "home")) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        files = [("files", (f"p{i}.png", image_bytes("PNG", (60 * i, 90, 20)))) for i in range(3)]
        files += [("files", ("clip.mp4", clip_mp4)), ("files", ("music.wav", wav_bytes(4.0)))]
        response = await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(token), files=files)
        assert response.status_code == 200, response.text
        uploads = {f["filename"]: f["id"] for f in response.json()["data"]["files"]}
        yield Project(http, token, sid, uploads)


BASE = [
    {"upload": "p0.png", "duration_s": 2},
    {"upload": "p1.png", "duration_s": 2},
    {"upload": "clip.mp4", "duration_s": 3},
    {"upload": "p2.png", "duration_s": 2},
]


async def based(project: Project) -> dict[str, Any]:
    """The main track from BASE: p0 0-2, p1 2-4, clip 4-7, p2 7-9."""
    data = (await project.edit([{"op": "set_clips", "clips": BASE}]))["data"]
    assert clips(data["draft"]) == [
        ("p0.png", 0, 2000),
        ("p1.png", 2000, 2000),
        ("clip.mp4", 4000, 3000),
        ("p2.png", 7000, 2000),
    ]
    draft: dict[str, Any] = data["draft"]
    return draft


# -- every op ------------------------------------------------------------------------------------


async def test_set_clips_builds_the_main_track_from_uploads_by_file_name_or_id(project: Project) -> None:
    data = (
        await project.edit(
            [
                {
                    "op": "set_clips",
                    "clips": [{"upload": project.uploads["p2.png"], "duration_s": 1.5}, {"upload": "P0.PNG"}],
                }
            ]
        )
    )["data"]
    assert clips(data["draft"]) == [
        ("p2.png", 0, 1500),
        ("p0.png", 1500, 5000),
    ]  # a still without a length: 5 s
    assert data["changed"] is True
    assert data["revision"] == 1
    assert data["changes"]
    assert await project.draft() == data["draft"]


async def test_add_update_and_remove_text_by_id_or_by_its_words(project: Project) -> None:
    await based(project)
    added = (
        await project.edit(
            [{"op": "add_text", "text": "Summer sale", "start_s": 1, "duration_s": 2.5, "position": "top"}]
        )
    )["data"]
    assert texts(added["draft"]) == [("Summer sale", 1000, 2500, "top")]
    assert any("Summer sale" in c for c in added["changes"])
    seg_id = tl.text_segments(added["draft"])[0]["id"]
    updated = (
        await project.edit(
            [
                {
                    "op": "update_text",
                    "target": "summer SALE",
                    "text": "Last day",
                    "start_s": 6,
                    "position": "bottom",
                }
            ]
        )
    )["data"]
    assert texts(updated["draft"]) == [("Last day", 6000, 2500, "bottom")]
    moved = (await project.edit([{"op": "update_text", "target": seg_id, "duration_s": 1}]))["data"]
    assert texts(moved["draft"]) == [("Last day", 6000, 1000, "bottom")]
    removed = (await project.edit([{"op": "remove_text", "target": "Last day"}]))["data"]
    assert texts(removed["draft"]) == []


async def test_trim_clip_sets_a_length_and_where_a_video_starts(project: Project) -> None:
    await based(project)
    trimmed = (
        await project.edit(
            [
                {"op": "trim_clip", "clip": 1, "duration_s": 1},
                {"op": "trim_clip", "clip": 3, "in_s": 1, "duration_s": 2},
            ]
        )
    )["data"]
    main = tl.main_segments(trimmed["draft"])
    assert [(s["m"]["name"], s["d"]) for s in main] == [
        ("p0.png", 1000),
        ("p1.png", 2000),
        ("clip.mp4", 2000),
        ("p2.png", 2000),
    ]
    assert main[2]["in"] == 1000


async def test_remove_move_duplicate_and_swap_clips_by_number_or_id(project: Project) -> None:
    draft = await based(project)
    p2_id = tl.main_segments(draft)[3]["id"]
    removed = (await project.edit([{"op": "remove_clip", "clip": 2}]))["data"]
    assert [c[0] for c in clips(removed["draft"])] == ["p0.png", "clip.mp4", "p2.png"]
    moved = (await project.edit([{"op": "move_clip", "clip": p2_id, "to": 1}]))["data"]
    assert [c[0] for c in clips(moved["draft"])] == ["p2.png", "p0.png", "clip.mp4"]
    duplicated = (
        await project.edit(
            [{"op": "duplicate_clip", "clip": 1}, {"op": "duplicate_clip", "clip": 3, "to": 5}]
        )
    )["data"]
    assert [c[0] for c in clips(duplicated["draft"])] == ["p2.png", "p2.png", "p0.png", "clip.mp4", "p0.png"]
    swapped = (await project.edit([{"op": "swap_clips", "a": 1, "b": 4}]))["data"]
    assert [c[0] for c in clips(swapped["draft"])] == ["clip.mp4", "p2.png", "p0.png", "p2.png", "p0.png"]


async def test_split_clip_cuts_a_clip_in_two_at_a_time_on_the_timeline(project: Project) -> None:
    await based(project)
    data = (await project.edit([{"op": "split_clip", "clip": 3, "at_s": 5.5}]))["data"]
    assert clips(data["draft"])[2:4] == [("clip.mp4", 4000, 1500), ("clip.mp4", 5500, 1500)]
    assert tl.main_segments(data["draft"])[3]["in"] == 1500


async def test_set_total_duration_fits_the_clips_to_a_length(project: Project) -> None:
    await based(project)
    data = (await project.edit([{"op": "set_total_duration", "duration_s": 14}]))["data"]
    assert tl.timeline_end(data["draft"]) == 14000
    assert any("14" in c for c in data["changes"])


async def test_set_canvas_changes_the_aspect_and_the_fit(project: Project) -> None:
    await based(project)
    data = (await project.edit([{"op": "set_canvas", "aspect": "9:16", "fit": "contain_blur"}]))["data"]
    meta = data["draft"]["m"]
    assert (meta["width"], meta["height"], meta["fit"]) == (1080, 1920, "contain_blur")


async def test_set_audio_set_volume_and_remove_audio(project: Project) -> None:
    await based(project)
    music = (
        await project.edit(
            [{"op": "set_audio", "role": "bgm", "upload": "music.wav", "volume": 0.2, "start_s": 1}]
        )
    )["data"]
    track = tl.audio_track(music["draft"], "bgm")
    assert track is not None
    seg = track["sg"][0]
    assert (seg["src"], seg["vol"], seg["in"], seg["m"]["name"]) == (
        project.uploads["music.wav"],
        0.2,
        1000,
        "music.wav",
    )
    louder = (
        await project.edit(
            [{"op": "set_volume", "role": "bgm", "volume": 0.5}, {"op": "set_volume", "clip": 3, "volume": 0}]
        )
    )["data"]
    bgm = tl.audio_track(louder["draft"], "bgm")
    assert bgm is not None
    assert bgm["sg"][0]["vol"] == 0.5
    assert tl.main_segments(louder["draft"])[2]["vol"] == 0
    removed = (await project.edit([{"op": "remove_audio", "role": "bgm"}]))["data"]
    assert tl.audio_track(removed["draft"], "bgm") is None


async def test_set_transition_between_two_neighbours_or_everywhere(project: Project) -> None:
    await based(project)
    one = (
        await project.edit([{"op": "set_transition", "between": [2, 3], "type": "wipe", "duration_s": 0.4}])
    )["data"]
    assert [s["m"].get("transition") for s in tl.main_segments(one["draft"])] == [
        None,
        {"type": "wipe", "d": 400},
        None,
        None,
    ]
    every = (await project.edit([{"op": "set_transition", "type": "fade"}]))["data"]
    kinds = [(s["m"].get("transition") or {}).get("type") for s in tl.main_segments(every["draft"])]
    assert kinds == ["fade", "fade", "fade", None]


async def test_undo_and_redo_move_between_revisions_by_steps(project: Project) -> None:
    first = await based(project)
    await project.edit([{"op": "add_text", "text": "A", "start_s": 0}])
    third = (await project.edit([{"op": "add_text", "text": "B", "start_s": 1}]))["data"]["draft"]
    too_far = await project.refused([{"op": "undo", "steps": 3}])
    assert too_far.startswith("ops[0].steps: 3 is more than the 2 change(s) there are to undo; use 1 to 2")
    assert await project.draft() == third
    undone = (await project.edit([{"op": "undo", "steps": 2}]))["data"]
    assert undone["draft"] == first == await project.draft()
    assert undone["revision"] == 1
    assert "text 'B' removed" in undone["changes"]
    redone = (await project.edit([{"op": "redo"}]))["data"]
    assert texts(redone["draft"]) == [("A", 0, 3000, "center")]
    await project.edit([{"op": "redo"}])
    assert await project.draft() == third


async def test_all_ops_of_one_call_are_one_revision_and_one_undo_reverts_them(project: Project) -> None:
    before = await based(project)
    revision = await project.revision()
    data = (
        await project.edit(
            [
                {"op": "add_text", "text": "Hello", "start_s": 0.5},
                {"op": "trim_clip", "clip": 1, "duration_s": 1},
                {"op": "swap_clips", "a": 2, "b": 4},
                {"op": "set_audio", "role": "bgm", "upload": "music.wav"},
                {"op": "set_canvas", "aspect": "1:1"},
            ]
        )
    )["data"]
    assert data["revision"] == (revision or 0) + 1
    assert len(data["changes"]) >= 5
    undone = (await project.edit([{"op": "undo"}]))["data"]
    assert undone["draft"] == before


# -- errors: index, field, what is allowed; nothing changes -----------------------------------------


async def test_a_bad_clip_number_names_the_op_the_field_and_the_clips_there_are(project: Project) -> None:
    await based(project)
    message = await project.refused([{"op": "remove_clip", "clip": 7}])
    assert message.startswith("ops[0].clip: clip 7 does not exist; use 1 to 4")


async def test_a_time_out_of_range_says_what_range_to_use(project: Project) -> None:
    await based(project)
    message = await project.refused(
        [
            {"op": "add_text", "text": "Hi", "start_s": 1},
            {"op": "add_text", "text": "x", "start_s": 2},
            {"op": "add_text", "text": "Late", "start_s": -3},
        ]
    )
    assert message.startswith("ops[2].start_s: -3 is before the start; use 0 to 9")
    late = await project.refused([{"op": "update_text", "target": "x", "start_s": 12}])
    assert late.startswith("ops[0].target: no text is 'x'")
    past = await project.refused([{"op": "add_text", "text": "Late", "start_s": 12}])
    assert past.startswith("ops[0].start_s: 12 is past the end of the video (9s); use 0 to 9")
    split = await project.refused([{"op": "split_clip", "clip": 1, "at_s": 3}])
    assert split.startswith("ops[0].at_s: 3 is not inside clip 1 (0 to 2s)")


async def test_an_unknown_upload_lists_the_uploads_there_are(project: Project) -> None:
    message = await project.refused(
        [{"op": "set_clips", "clips": [{"upload": "p0.png"}, {"upload": "beach.jpg"}]}]
    )
    assert message.startswith("ops[0].clips[1].upload: no upload is 'beach.jpg'; the uploads are p0.png (")
    wrong_kind = await project.refused([{"op": "set_clips", "clips": [{"upload": "music.wav"}]}])
    assert wrong_kind.startswith("ops[0].clips[0].upload: music.wav is audio; set_clips takes image or video")


async def test_an_unknown_op_or_field_names_what_there_is(project: Project) -> None:
    message = await project.refused([{"op": "explode"}])
    assert message.startswith("ops[0].op: 'explode' is not an op; use one of add_text, update_text,")
    field = await project.refused([{"op": "set_canvas", "aspect": "16:9", "colour": "red"}])
    assert field.startswith("ops[0].colour: set_canvas has no field 'colour'; its fields are aspect, fit")
    missing = await project.refused([{"op": "split_clip", "clip": 1}])
    assert missing.startswith("ops[0].at_s: missing; split_clip needs clip and at_s")
    volume = await project.refused([{"op": "set_volume", "role": "bgm", "volume": 20}])
    assert volume.startswith("ops[0].volume: 20 is not a volume; use 0 to 1 (0.2 = 20%)")
    mixed = await project.refused([{"op": "add_text", "text": "a", "start_s": 0}, {"op": "undo"}])
    assert mixed.startswith("ops[1].op: undo moves between revisions; send it alone")


async def test_a_failing_op_in_the_middle_leaves_the_draft_and_the_revision_untouched(
    project: Project,
) -> None:
    before = await based(project)
    revision = await project.revision()
    message = await project.refused(
        [
            {"op": "add_text", "text": "Kept?", "start_s": 1},
            {"op": "remove_clip", "clip": 1},
            {"op": "move_clip", "clip": 2, "to": 9},
            {"op": "set_canvas", "aspect": "1:1"},
        ]
    )
    assert message.startswith("ops[2].to: 9 is not a position; use 1 to 3")  # clip 1 is gone by then
    assert await project.draft() == before
    assert await project.revision() == revision


async def test_an_edit_while_a_turn_runs_is_refused_as_busy(tmp_path: Path) -> None:
    config = ServerConfig(home=tmp_path, faults=FaultConfig(keepalive_only_s=2.0), ping_interval_s=0.05)
    async with running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        async with anyio.create_task_group() as tg:
            tg.start_soon(send_message, http, token, sid, MESSAGE)

            async def busy() -> bool:
                answer: bool = (await state(http, token, sid))["busy"]
                return answer

            await eventually(busy, "the turn runs (2 s of keep-alives before its events)", limit_s=10)
            response = await http.post(
                f"/api/edit/nemo_agent/me/{sid}",
                headers=auth(token),
                json={"ops": [{"op": "set_canvas", "aspect": "1:1"}]},
            )
            assert response.status_code == 409
            assert response.json()["code"] == 1003


async def test_an_edit_costs_what_a_conversation_edit_costs_and_undo_is_free(project: Project) -> None:
    async def available() -> int:
        response = await project.http.get("/api/credits/balance/simple", headers=auth(project.token))
        value: int = response.json()["data"]["available"]
        return value

    start = await available()
    await based(project)
    assert await available() == start - 1
    await project.edit([{"op": "undo"}], status=422)  # nothing before the first edit: refused, free
    await project.edit([{"op": "set_canvas", "aspect": "16:9"}])  # no change: no revision, free
    assert await available() == start - 1


def test_the_tool_schema_names_exactly_the_ops_fields_and_values_the_engine_takes() -> None:
    schema = json.loads((ROOT / "schemas/tools/edit.input.json").read_text(encoding="utf-8"))
    ops = schema["properties"]["ops"]
    props = ops["items"]["properties"]
    assert ops["maxItems"] == MAX_OPS
    assert props["op"]["enum"] == list(EDIT_OPS)
    assert set(props) - {"op"} == {
        f for required, optional in EDIT_OPS.values() for f in (*required, *optional)
    }
    assert props["position"]["enum"] == list(tl.POSITIONS)
    assert props["type"]["enum"] == list(tl.TRANSITIONS)
    assert props["fit"]["enum"] == list(tl.FITS)
    assert props["aspect"]["enum"] == list(tl.CANVAS_PRESETS)
    assert props["role"]["enum"] == list(tl.AUDIO_ROLES)
    for name, (required, optional) in EDIT_OPS.items():  # the op's description lists its fields
        found = re.search(rf"(?:^|; ){name} \{{([^}}]*)\}}", props["op"]["description"])
        assert found is not None, name
        listed = found.group(1)
        assert all(field in listed for field in (*required, *optional)), name
