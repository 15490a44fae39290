"""The client's own track summary and draft diff (docs/protocol.md §6)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from handlers._draftview import (
    canvas,
    describe_changes,
    duration_ms,
    fmt_size,
    is_ready,
    sentences,
    track_summary,
)

SEED: dict[str, Any] = {
    "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 30},
    "t": [
        {
            "id": "v1",
            "tt": 0,
            "role": "main",
            "sg": [{"id": "s1", "st": 0, "d": 10000, "src": "u1", "m": {"name": "city timelapse"}}],
        },
        {
            "id": "a1",
            "tt": 1,
            "role": "bgm",
            "sg": [{"id": "s9", "st": 0, "d": 10000, "src": "u2", "vol": 0.35, "m": {"name": "Lo-fi"}}],
        },
        {
            "id": "x1",
            "tt": 7,
            "role": "title",
            "sg": [{"id": "s12", "st": 0, "d": 3000, "text": "Urban Dreams"}],
        },
    ],
}


def test_the_track_summary_has_exactly_the_protocols_shape() -> None:
    assert track_summary(SEED) == (
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )


def test_a_track_of_several_clips_is_counted_and_fractional_seconds_are_shown() -> None:
    draft = {
        "m": {"width": 1080, "height": 1920},
        "t": [
            {
                "id": "v1",
                "tt": 0,
                "role": "main",
                "sg": [
                    {"id": f"s{i}", "st": i * 2500, "d": 2500, "src": f"https://cdn/x/p{i}.png"}
                    for i in range(5)
                ],
            }
        ],
    }
    assert track_summary(draft) == "Timeline (1 track): 1. Video: p0, p1 +3 more (0-12.5s)"


def test_an_empty_or_missing_draft_is_not_ready_and_says_so() -> None:
    assert track_summary(None) == "Timeline (0 tracks): empty"
    assert not is_ready(None)
    assert not is_ready({"m": {}, "t": [{"id": "v1", "tt": 0, "sg": []}]})
    assert is_ready(SEED)


def test_duration_and_canvas_come_from_the_draft() -> None:
    assert duration_ms(SEED) == 10000
    assert canvas(SEED) == {"width": 1920, "height": 1080, "fps": 30}


def test_the_diff_names_a_shortened_intro_and_an_added_text() -> None:
    after = copy.deepcopy(SEED)
    after["t"][0]["sg"][0]["d"] = 2000
    after["t"][2]["sg"].append({"id": "s13", "st": 10000, "d": 3000, "text": "Limited offer"})
    changes = describe_changes(SEED, after)
    assert "clip city timelapse shortened from 10s to 2s" in changes
    assert 'text "Limited offer" added at 10s (3s)' in changes
    assert "total duration from 10s to 2s" in changes


def test_the_diff_names_volume_removal_canvas_and_title_changes() -> None:
    after = copy.deepcopy(SEED)
    after["m"].update(width=1080, height=1920, title="City")
    after["t"][1]["sg"][0]["vol"] = 0.6
    del after["t"][2]["sg"][0]
    changes = describe_changes(SEED, after)
    assert "canvas changed from 1920x1080 to 1080x1920" in changes
    assert 'title set to "City"' in changes
    assert "music Lo-fi volume from 35% to 60%" in changes
    assert 'text "Urban Dreams" removed (was 0-3s)' in changes


def test_a_first_timeline_is_reported_with_its_summary() -> None:
    assert describe_changes(None, SEED) == [f"timeline created: {track_summary(SEED)}"]


def test_no_change_means_an_empty_diff() -> None:
    assert describe_changes(SEED, copy.deepcopy(SEED)) == []


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (812, "812 bytes"),
        (44_032, "43 KB"),
        (5_000, "4.9 KB"),
        (1_572_864, "1.5 MB"),
        (734_003_200, "700 MB"),
    ],
)
def test_sizes_read_as_a_person_says_them(size: int, text: str) -> None:
    assert fmt_size(size) == text


def test_text_parts_become_sentences() -> None:
    parts = ["Timeline (0 tracks): empty", "Duration 0s. Not ready for export yet.", "Done!"]
    assert sentences(parts) == "Timeline (0 tracks): empty. Duration 0s. Not ready for export yet. Done!"
