"""engine.ops: typed operations applied all-or-nothing through the timeline, with changes in words."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import ops as eo
from engine import timeline as tl


def _draft() -> dict[str, Any]:
    d = tl.new_draft(title="Demo")
    for i, name in enumerate(("front.jpg", "side.jpg", "detail.jpg")):
        d = tl.add_main(d, src=f"up{i + 1}", kind="image", d_ms=4000, name=name)
    d = tl.add_main(d, src="v1", kind="video", d_ms=5000, name="walk.mp4", source_d=8000, has_audio=True)
    return tl.set_audio(d, "bgm", src="m1", name="music.mp3", source_d=40000)


def _ids(d: dict[str, Any]) -> list[str]:
    return [str(s["id"]) for s in tl.main_segments(d)]


def test_every_operation_applies_and_says_what_changed() -> None:
    d = _draft()
    a, b, c, v = _ids(d)
    ops: list[eo.Op] = [
        eo.AddText("Sale", st=1000, d_ms=3000, position="top"),
        eo.TrimClip(a, d_ms=2000),
        eo.MoveClip(c, 0),
        eo.DuplicateClip(b, to=-1),
        eo.SplitClip(v, tl.find_segment(d, v)[1]["st"] + 1000),
        eo.SwapClips(a, b),
        eo.SetCanvas("9:16"),
        eo.SetFit("contain_blur"),
        eo.SetVolume("bgm", 0.2),
        eo.SetVolume(v, 0.5),
        eo.SetFade("bgm", fade_in=500),
        eo.SetTransition("crossfade", 400),
        eo.SetSpeed(v, 2.0),
        eo.SetMotion(a, "pan_left"),
        eo.SetTitle("New name"),
        eo.SetLoop("bgm", False),
    ]
    applied = eo.apply_ops(d, ops)
    assert len(applied.steps) == len(ops)
    assert all(step.changes for step in applied.steps), [s for s in applied.steps if not s.changes]
    text = "\n".join(applied.changes)
    assert "'Sale' added at 1s" in text
    assert "20%" in text
    assert "9:16" in text
    assert tl.load_draft(applied.draft) == applied.draft


def test_text_and_clip_list_operations_resolve_ids_and_words() -> None:
    d = eo.apply_ops(_draft(), [eo.AddText("Hello there", st=0, d_ms=2000)]).draft
    (tid,) = eo.text_ids(d, "hello   THERE")
    d = eo.apply_ops(d, [eo.UpdateText(tid, text="Bye", end_ms=5000)]).draft
    seg = tl.find_segment(d, tid)[1]
    assert (seg["text"], seg["st"], seg["d"]) == ("Bye", 0, 5000)
    d = eo.apply_ops(d, [eo.RemoveText(tid)]).draft
    assert tl.text_segments(d) == []
    clips = (
        eo.ClipSpec("up2", "image", 3000, name="side.jpg"),
        eo.ClipSpec("", "color", 2000, color="#112233"),
    )
    d = eo.apply_ops(d, [eo.SetClips(clips), eo.SetTotalDuration(10000)]).draft
    assert [s["src"] for s in tl.main_segments(d)] == ["up2", ""]
    assert tl.timeline_end(d) == 10000
    assert d["m"][eo.TARGET_KEY] == 10000
    assert eo.clip_id(d, 2) == _ids(d)[1]


def test_a_failing_operation_names_its_index_and_leaves_the_draft_untouched() -> None:
    d = _draft()
    before = copy.deepcopy(d)
    a = _ids(d)[0]
    with pytest.raises(eo.OpError) as err:
        eo.apply_ops(
            d, [eo.TrimClip(a, d_ms=1000), eo.RemoveAudio("bgm"), eo.AddText("x", st=60000, d_ms=1000)]
        )
    assert err.value.index == 2
    assert str(err.value).startswith("ops[2] (add_text): 60s is past the end of the video")
    assert d == before


@pytest.mark.parametrize(
    ("op", "words"),
    [
        (eo.RemoveClip("s999"), "not a clip"),
        (eo.SetVolume("voiceover", 0.5), "no voiceover"),
        (eo.SetCanvas("3:2"), "canvas preset"),
        (eo.SetSpeed("s1", 9.0), "speed must be between"),
        (eo.SplitClip("s1", 0), "strictly inside"),
        (eo.SetTransition("spin"), "transition"),
    ],
)
def test_bad_operations_say_what_is_allowed(op: eo.Op, words: str) -> None:
    with pytest.raises(eo.OpError, match=words):
        eo.apply_ops(_draft(), [op])


def test_removing_the_only_clip_is_refused() -> None:
    d = tl.add_main(tl.new_draft(), src="up1", kind="image", d_ms=3000, name="a.jpg")
    with pytest.raises(eo.OpError, match="leave no clips"):
        eo.apply_ops(d, [eo.RemoveClip(_ids(d)[0])])


def test_a_shorter_clip_keeps_the_asked_length_by_stretching_the_stills() -> None:
    d = eo.apply_ops(_draft(), [eo.SetTotalDuration(20000)]).draft
    applied = eo.apply_ops(d, [eo.TrimClip(_ids(d)[0], d_ms=1000)])
    assert tl.timeline_end(applied.draft) == 20000
    assert applied.steps[-1].changes[0].startswith("kept the video at 20s")
