"""What the user reads about a draft: the track summary line and the list of changes."""

from __future__ import annotations

import copy

import pytest

from engine.summary import describe_changes, media_name, seconds, track_summary
from engine.timeline import (
    Draft,
    add_main,
    add_text,
    duplicate_segment,
    edit_text,
    load_draft,
    move_main,
    new_draft,
    remove_audio,
    remove_segment,
    set_audio,
    set_canvas,
    set_fade,
    set_motion,
    set_speed,
    set_title,
    set_total_duration,
    set_transition,
    set_volume,
    split,
    trim,
)


def city_draft() -> Draft:
    """The protocol's example: a 10 s city timelapse, Lo-fi music, the title "Urban Dreams"."""
    return load_draft(
        {
            "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 30},
            "t": [
                {
                    "id": "v1",
                    "tt": 0,
                    "role": "main",
                    "sg": [
                        {
                            "id": "s1",
                            "st": 0,
                            "d": 10000,
                            "src": "up_1",
                            "in": 0,
                            "m": {"kind": "video", "name": "city_timelapse.mp4"},
                        }
                    ],
                },
                {
                    "id": "a1",
                    "tt": 1,
                    "role": "bgm",
                    "sg": [
                        {"id": "s2", "st": 0, "d": 10000, "src": "up_2", "vol": 0.35, "m": {"name": "Lo-fi"}}
                    ],
                },
                {
                    "id": "x1",
                    "tt": 7,
                    "role": "title",
                    "sg": [{"id": "s3", "st": 0, "d": 3000, "text": "Urban Dreams"}],
                },
            ],
        }
    )


def shop_draft() -> Draft:
    """Intro still 6.4 s, product front 5 s, product side 6 s (from a 10 s source), logo 3 s."""
    d = new_draft(title="Shop")
    d = add_main(d, src="up_a", kind="image", d_ms=6400, name="intro_card.png")
    d = add_main(d, src="up_b", kind="image", d_ms=5000, name="product_front.jpg")
    d = add_main(d, src="up_c", kind="video", d_ms=6000, source_d=10000, name="product_side.mp4")
    return add_main(d, src="up_d", kind="image", d_ms=3000, name="logo.png")


# track_summary


def test_the_summary_of_the_protocol_example_is_exactly_the_protocols_line() -> None:
    assert track_summary(city_draft()) == (
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )


def test_an_empty_draft_is_summarised_as_empty() -> None:
    assert track_summary(new_draft()) == "Timeline (0 tracks): empty"


def test_empty_tracks_are_left_out_of_the_summary_and_the_count() -> None:
    d = new_draft()
    d["t"].append({"id": "v1", "tt": 0, "role": "main", "sg": []})
    d = add_text(d, "Hello", st=0, d_ms=1500)
    assert track_summary(d) == 'Timeline (1 track): 1. Caption: "Hello" (0-1.5s)'


def test_many_clips_show_two_names_and_how_many_more() -> None:
    d = shop_draft()
    assert track_summary(d) == "Timeline (1 track): 1. Video: intro card, product front +2 more (0-20.4s)"


def test_every_kind_of_track_gets_its_label_in_track_order() -> None:
    d = shop_draft()
    d["t"].append(
        {
            "id": "v2",
            "tt": 0,
            "role": "overlay",
            "sg": [{"id": "s20", "st": 1000, "d": 2000, "src": "up_x.png"}],
        }
    )
    d = add_text(d, "Limited offer", st=10000, d_ms=3000)
    d = add_text(d, "Shop now", st=15000, d_ms=3000)
    d = add_text(d, "Spring", st=0, d_ms=2000, role="title")
    d = set_audio(d, "bgm", src="up_m", name="Lo_fi_beat.mp3", source_d=90000)
    d = set_audio(d, "voiceover", src="up_v", name="voice.wav", source_d=12500)
    d["t"].append(
        {"id": "a9", "tt": 1, "role": "sfx", "sg": [{"id": "s30", "st": 2000, "d": 500, "src": "up_s"}]}
    )
    assert track_summary(d) == (
        "Timeline (7 tracks): "
        "1. Video: intro card, product front +2 more (0-20.4s) "
        "2. Overlay: up x (1-3s) "
        "3. BGM: Lo fi beat (0-20.4s, 35%) "
        "4. Voiceover: voice (0-12.5s, 100%) "
        '5. Caption: "Limited offer" (10-13s), "Shop now" (15-18s) '
        '6. Title: "Spring" (0-2s) '
        "7. Audio: audio (2-2.5s, 100%)"
    )


@pytest.mark.parametrize(
    ("ms", "text"), [(6400, "6.4"), (10000, "10"), (0, "0"), (6450, "6.45"), (250, "0.25")]
)
def test_seconds_are_printed_without_trailing_zeros(ms: int, text: str) -> None:
    assert seconds(ms) == text


def test_a_media_name_loses_its_folder_extension_and_underscores() -> None:
    track = {"id": "v1", "tt": 0, "sg": []}
    assert media_name(track, {"id": "s1", "st": 0, "d": 1, "m": {"name": "shots/product_front.JPG"}}) == (
        "product front"
    )
    assert media_name(track, {"id": "s1", "st": 0, "d": 1, "m": {"kind": "color"}}) == "colour card"


# describe_changes


def test_no_change_is_described_as_nothing() -> None:
    assert describe_changes(shop_draft(), shop_draft()) == []


def test_shortening_the_intro_is_described_with_both_lengths_and_the_new_total() -> None:
    before = shop_draft()
    assert describe_changes(before, trim(before, "s1", d_ms=2000)) == [
        "intro shortened from 6.4s to 2s",
        "total duration 20.4s → 16s",
    ]


def test_lengthening_a_middle_clip_names_it_by_position() -> None:
    before = shop_draft()
    after = trim(before, "s3", d_ms=8000)
    assert describe_changes(before, after) == [
        "clip 3 lengthened from 6s to 8s",
        "total duration 20.4s → 22.4s",
    ]


def test_trimming_the_last_clips_in_point_says_where_it_now_starts() -> None:
    d = add_main(new_draft(), src="up_a", kind="image", d_ms=2000)
    before = add_main(d, src="up_v", kind="video", d_ms=6000, source_d=10000)
    after = trim(before, "s2", in_ms=2000, d_ms=4000)
    assert describe_changes(before, after) == [
        "last clip trimmed from 6s to 4s (starts 2s into the source)",
        "total duration 8s → 6s",
    ]


def test_removing_a_clip_names_it_and_its_old_position() -> None:
    before = shop_draft()
    assert describe_changes(before, remove_segment(before, "s2")) == [
        "clip 2 (product front) removed",
        "total duration 20.4s → 15.4s",
    ]


def test_moving_a_clip_is_described_as_a_new_order_of_names() -> None:
    before = shop_draft()
    assert describe_changes(before, move_main(before, "s4", 0)) == [
        "clips reordered: logo, intro card, product front, product side"
    ]


def test_adding_splitting_and_duplicating_clips_are_told_apart() -> None:
    before = shop_draft()
    added = add_main(before, src="up_e", kind="image", d_ms=2000, name="outro.png")
    assert describe_changes(before, added)[0] == "clip 5 (outro) added at 20.4s (2s)"
    assert describe_changes(before, split(before, "s3", 14400)) == ["clip 3 (product side) split at 14.4s"]
    assert describe_changes(before, duplicate_segment(before, "s2"))[0] == "clip 2 (product front) duplicated"


def test_text_added_edited_moved_and_removed_is_described_by_its_words() -> None:
    before = shop_draft()
    with_text = add_text(before, "Limited offer", st=10000, d_ms=3000)
    assert describe_changes(before, with_text) == ["text 'Limited offer' added at 10s (3s)"]
    reworded = edit_text(with_text, "s5", text="Sale ends Sunday")
    assert describe_changes(with_text, reworded) == ["text 'Limited offer' changed to 'Sale ends Sunday'"]
    moved = edit_text(with_text, "s5", st=15000, position="top", style={"color": "#ffcc00"})
    assert describe_changes(with_text, moved) == [
        "text 'Limited offer' moved from 10s to 15s",
        "text 'Limited offer' position changed from center to top",
        "text 'Limited offer' style changed: color #ffffff → #ffcc00",
    ]
    assert describe_changes(with_text, remove_segment(with_text, "s5")) == ["text 'Limited offer' removed"]


def test_music_changes_are_described_by_name_and_percent() -> None:
    before = set_audio(shop_draft(), "bgm", src="up_m1", name="Lo-fi.mp3", source_d=90000)
    assert describe_changes(shop_draft(), before) == ["background music added: Lo-fi (35%)"]
    swapped = set_audio(before, "bgm", src="up_m2", name="Upbeat_pop.mp3", source_d=90000)
    assert describe_changes(before, swapped) == ["background music changed from Lo-fi to Upbeat pop"]
    quieter = set_volume(before, "bgm", 0.3)
    assert describe_changes(before, quieter) == ["music volume 35% → 30%"]
    longer_fade = set_fade(before, "bgm", fade_out=3000)
    assert describe_changes(before, longer_fade) == ["music fade-out 2s → 3s"]


def test_adding_and_removing_a_voiceover_mentions_the_music_ducking() -> None:
    music = set_audio(shop_draft(), "bgm", src="up_m1", name="Lo-fi.mp3", source_d=90000)
    voiced = set_audio(music, "voiceover", src="up_v", name="narration.wav", source_d=15000)
    assert describe_changes(music, voiced) == [
        "voiceover added: narration (100%)",
        "music ducks under the voiceover",
    ]
    assert describe_changes(voiced, remove_audio(voiced, "voiceover")) == [
        "voiceover removed",
        "music no longer ducks",
    ]


def test_canvas_and_title_changes_come_first() -> None:
    before = shop_draft()
    after = set_title(set_canvas(before, "9:16", fit="contain_blur"), "Spring Sale")
    assert describe_changes(before, after) == [
        "title changed from 'Shop' to 'Spring Sale'",
        "canvas changed from 1920x1080 (16:9) to 1080x1920 (9:16)",
        "fit changed from cover to contain blur",
    ]


def test_fitting_to_a_total_duration_reports_the_new_total_last() -> None:
    before = shop_draft()
    lines = describe_changes(before, set_total_duration(before, 15000))
    assert lines[-1] == "total duration 20.4s → 15s"
    assert lines[0] == "intro shortened from 6.4s to 4.71s"


def test_transitions_motion_and_speed_are_described_per_clip() -> None:
    before = shop_draft()
    faded = set_transition(before, "s1", "crossfade", 800)
    assert describe_changes(before, faded) == ["crossfade (0.8s) transition added after intro"]
    wiped = set_transition(faded, "s1", "wipe", 500)
    assert describe_changes(faded, wiped) == [
        "transition after intro changed from crossfade (0.8s) to wipe (0.5s)"
    ]
    assert describe_changes(wiped, set_transition(wiped, "s1", "none")) == ["transition after intro removed"]
    zoomed = set_motion(before, "s2", "zoom_in")
    assert describe_changes(before, zoomed) == ["clip 2 motion set to zoom in"]
    fast = set_speed(before, "s3", 2)
    assert describe_changes(before, fast) == ["clip 3 speed 1x → 2x (now 3s)", "total duration 20.4s → 17.4s"]


def test_describing_changes_does_not_modify_either_draft() -> None:
    before = shop_draft()
    after = set_audio(trim(before, "s1", d_ms=1000), "bgm", src="up_m", source_d=5000)
    snapshot = copy.deepcopy((before, after))
    describe_changes(before, after)
    track_summary(after)
    assert (before, after) == snapshot


def test_a_first_generation_lists_every_clip_added_and_the_new_total() -> None:
    assert describe_changes(new_draft(), shop_draft()) == [
        "title set to 'Shop'",
        "clip 1 (intro card) added at 0s (6.4s)",
        "clip 2 (product front) added at 6.4s (5s)",
        "clip 3 (product side) added at 11.4s (6s)",
        "clip 4 (logo) added at 17.4s (3s)",
        "total duration 0s → 20.4s",
    ]


def test_lengths_a_millisecond_apart_are_told_apart() -> None:
    before = shop_draft()
    assert describe_changes(before, trim(before, "s2", d_ms=5001))[0] == "clip 2 lengthened from 5s to 5.001s"


def test_a_clip_whose_media_was_replaced_names_both_files() -> None:
    before = shop_draft()
    after = copy.deepcopy(before)
    after["t"][0]["sg"][1]["src"] = "up_z"
    after["t"][0]["sg"][1]["m"]["name"] = "product_back.jpg"
    assert describe_changes(before, after) == ["clip 2 replaced: product front → product back"]


def test_overlays_and_sound_effects_are_described_by_name() -> None:
    before = shop_draft()
    after = copy.deepcopy(before)
    after["t"].append(
        {
            "id": "v2",
            "tt": 0,
            "role": "overlay",
            "sg": [{"id": "s9", "st": 1000, "d": 2000, "src": "badge.png"}],
        }
    )
    after["t"].append(
        {"id": "a1", "tt": 1, "role": "sfx", "sg": [{"id": "s10", "st": 0, "d": 500, "src": "pop.wav"}]}
    )
    assert describe_changes(before, after) == [
        "overlay 'badge' added at 1s (2s)",
        "audio 'pop' added at 0s (0.5s)",
    ]
    assert describe_changes(after, before) == ["overlay 'badge' removed", "audio 'pop' removed"]


def test_motion_changing_from_one_move_to_another_names_both() -> None:
    before = set_motion(shop_draft(), "s1", "zoom_in")
    assert describe_changes(before, set_motion(before, "s1", "pan_left")) == [
        "intro motion changed from zoom in to pan left"
    ]
    assert describe_changes(before, set_motion(before, "s1", "none")) == [
        "intro motion removed (was zoom in)"
    ]


def test_text_with_line_breaks_is_shown_on_one_line() -> None:
    d = add_text(shop_draft(), "Big\nSale", st=0, d_ms=2000)
    assert track_summary(d).endswith('2. Caption: "Big Sale" (0-2s)')


def test_a_clip_without_a_name_is_named_after_its_url_file() -> None:
    d = add_main(new_draft(), src="https://cdn.test/shots/hero_shot.mp4?sig=abc", kind="video", d_ms=2000)
    d = add_main(d, src="up_7f3a", kind="image", d_ms=1000)
    assert track_summary(d) == "Timeline (1 track): 1. Video: hero shot, image (0-3s)"


def test_splitting_a_clip_with_a_transition_and_fades_is_told_as_one_split() -> None:
    before = set_fade(set_transition(shop_draft(), "s3", "fade", 500), "s3", fade_in=300, fade_out=400)
    assert describe_changes(before, split(before, "s3", 14400)) == ["clip 3 (product side) split at 14.4s"]
