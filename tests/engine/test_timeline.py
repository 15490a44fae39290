"""Behaviour of the draft model (engine.timeline): each operation as a user of the editor sees it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from engine.timeline import (
    CANVAS_PRESETS,
    Draft,
    TimelineError,
    add_main,
    add_text,
    audio_track,
    duplicate_segment,
    edit_text,
    find_segment,
    is_ready,
    load_draft,
    main_segments,
    main_track,
    move_main,
    new_draft,
    remove_audio,
    remove_segment,
    reorder_main,
    set_all_transitions,
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
    swap_main,
    text_segments,
    timeline_end,
    trim,
)


def refused(message: str) -> pytest.RaisesExc[TimelineError]:
    """Expect a TimelineError whose message contains ``message`` word for word."""
    return pytest.raises(TimelineError, match=re.escape(message))


def product_draft() -> Draft:
    """Intro still 6.4 s, a 5 s clip from an 8 s source, an outro still 3 s (14.4 s)."""
    d = new_draft(title="Urban Dreams")
    d = add_main(d, src="up_city", kind="image", d_ms=6400, name="city_timelapse.jpg")
    d = add_main(d, src="up_side", kind="video", d_ms=5000, source_d=8000, name="product_side.mp4")
    return add_main(d, src="up_logo", kind="image", d_ms=3000, name="logo.png")


def layout(d: Draft) -> list[tuple[str, int, int]]:
    return [(s["id"], s["st"], s["d"]) for s in main_segments(d)]


def all_ids(d: Draft) -> list[str]:
    return [s["id"] for t in d["t"] for s in t["sg"]]


# construction and queries


def test_a_new_draft_is_an_empty_canvas_that_is_not_ready_for_export() -> None:
    d = new_draft(title="Launch", width=1080, height=1920)
    assert d == {"m": {"title": "Launch", "width": 1080, "height": 1920, "fps": 30}, "t": []}
    assert not is_ready(d)
    assert timeline_end(d) == 0


def test_a_draft_with_clips_is_ready_and_ends_where_the_last_clip_ends() -> None:
    d = product_draft()
    assert is_ready(d)
    assert timeline_end(d) == 14400
    assert layout(d) == [("s1", 0, 6400), ("s2", 6400, 5000), ("s3", 11400, 3000)]


def test_a_new_draft_rejects_an_impossible_canvas() -> None:
    with refused("width must be a whole number of pixels from 16 to 7680"):
        new_draft(width=8)


def test_find_segment_names_the_segments_that_exist_when_the_id_is_unknown() -> None:
    with refused("no segment 's9'; segments are s1, s2, s3"):
        find_segment(product_draft(), "s9")


# load_draft


def test_loading_a_valid_draft_returns_an_equal_copy_keeping_unknown_keys() -> None:
    d = product_draft()
    d["x_cloud"] = {"keep": True}
    d["t"][0]["sg"][0]["m"]["vendor"] = [1, 2]
    loaded = load_draft(d)
    assert loaded == d
    assert loaded is not d
    loaded["t"][0]["sg"][0]["m"]["vendor"].append(3)
    assert d["t"][0]["sg"][0]["m"]["vendor"] == [1, 2]


def test_loading_a_broken_draft_lists_every_problem_with_its_path() -> None:
    broken = {"m": {"width": 3}, "t": [{"id": "v1", "tt": 3, "sg": [{"id": "s1", "st": -1}]}]}
    with pytest.raises(TimelineError) as info:
        load_draft(broken)
    message = str(info.value)
    assert "5 problems" in message
    assert "$.m: 'height' is a required property" in message
    assert "$.m.width: 3 is less than the minimum of 16" in message
    assert "$.t[0].tt: 3 is not one of [0, 1, 7]" in message
    assert "$.t[0].sg[0].st: -1 is less than the minimum of 0" in message


def test_loading_a_draft_with_a_gap_on_the_main_track_is_refused() -> None:
    d = product_draft()
    d["t"][0]["sg"][1]["st"] = 7000
    with refused("$.t[0].sg[1].st: main segments must be contiguous"):
        load_draft(d)


def test_loading_a_draft_with_text_past_the_end_is_refused() -> None:
    d = add_text(product_draft(), "Hi", st=0, d_ms=1000)
    d["t"][1]["sg"][0]["st"] = 14000
    with refused("text segment 's4' ends at 15000 ms, after the end"):
        load_draft(d)


def test_loading_a_draft_with_a_repeated_segment_id_is_refused() -> None:
    d = product_draft()
    d["t"][0]["sg"][2]["id"] = "s1"
    with refused("segment id 's1' is used twice"):
        load_draft(d)


# immutability


def test_operations_never_change_the_draft_they_were_given() -> None:
    d = product_draft()
    before = copy.deepcopy(d)
    trim(d, "s1", d_ms=2000)
    remove_segment(d, "s2")
    set_audio(d, "bgm", src="up_music", source_d=60000)
    add_text(d, "Hello", st=0, d_ms=2000)
    set_canvas(d, "9:16", fit="contain_blur")
    assert d == before


# main track: add, remove, move


def test_adding_a_clip_at_an_index_ripples_the_following_clips() -> None:
    d = add_main(product_draft(), src="up_front", kind="image", d_ms=2000, index=1)
    assert layout(d) == [("s1", 0, 6400), ("s4", 6400, 2000), ("s2", 8400, 5000), ("s3", 13400, 3000)]


def test_adding_the_first_clip_creates_the_main_video_track_below_everything() -> None:
    d = add_text(new_draft(), "Hello", st=0, d_ms=1000)
    d = add_main(d, src="up_a", kind="color", d_ms=2000, color="#112233")
    assert [(t["id"], t["tt"], t.get("role")) for t in d["t"]] == [("v1", 0, "main"), ("x1", 7, "caption")]
    assert main_segments(d)[0]["m"] == {"kind": "color", "color": "#112233"}


def test_a_video_longer_than_its_source_cannot_be_added() -> None:
    with refused("the clip is 8s long, so from 2s at most 6s fits"):
        add_main(new_draft(), src="u", kind="video", d_ms=7000, in_ms=2000, source_d=8000)


def test_removing_a_clip_ripples_the_rest_to_close_the_gap() -> None:
    d = remove_segment(product_draft(), "s2")
    assert layout(d) == [("s1", 0, 6400), ("s3", 6400, 3000)]
    assert timeline_end(d) == 9400


def test_removing_the_only_text_also_removes_its_empty_track() -> None:
    d = add_text(product_draft(), "Hello", st=0, d_ms=1000)
    d = remove_segment(d, "s4")
    assert [t["id"] for t in d["t"]] == ["v1"]


def test_moving_a_clip_to_the_end_ripples_the_timeline() -> None:
    d = move_main(product_draft(), "s1", -1)
    assert layout(d) == [("s2", 0, 5000), ("s3", 5000, 3000), ("s1", 8000, 6400)]


def test_moving_to_an_index_outside_the_track_says_which_indexes_exist() -> None:
    with refused("to_index must be from 0 to 2 (or -1 for the end), got 7"):
        move_main(product_draft(), "s1", 7)


def test_swapping_two_clips_exchanges_their_places() -> None:
    d = swap_main(product_draft(), "s1", "s3")
    assert layout(d) == [("s3", 0, 3000), ("s2", 3000, 5000), ("s1", 8000, 6400)]


def test_reordering_needs_every_main_clip_exactly_once() -> None:
    d = reorder_main(product_draft(), ["s3", "s1", "s2"])
    assert [s["id"] for s in main_segments(d)] == ["s3", "s1", "s2"]
    with refused("missing: s2"):
        reorder_main(product_draft(), ["s3", "s1"])
    with refused("repeated: s1"):
        reorder_main(product_draft(), ["s1", "s1", "s2", "s3"])


def test_a_main_track_operation_on_a_text_segment_says_it_is_not_on_the_main_track() -> None:
    d = add_text(product_draft(), "Hi", st=0, d_ms=1000)
    with refused("segment 's4' is on track x1 (caption), not on the main track"):
        move_main(d, "s4", 0)


def test_duplicating_a_clip_inserts_the_copy_right_after_it_with_a_new_id() -> None:
    d = duplicate_segment(product_draft(), "s2")
    assert layout(d) == [("s1", 0, 6400), ("s2", 6400, 5000), ("s4", 11400, 5000), ("s3", 16400, 3000)]
    assert main_segments(d)[2]["src"] == "up_side"


# trim, split


def test_trimming_the_intro_ripples_the_following_clips() -> None:
    d = trim(product_draft(), "s1", d_ms=2000)
    assert layout(d) == [("s1", 0, 2000), ("s2", 2000, 5000), ("s3", 7000, 3000)]


def test_a_video_cannot_be_trimmed_longer_than_its_source() -> None:
    with refused("'s2' can be at most 8s long"):
        trim(product_draft(), "s2", d_ms=9000)


def test_moving_a_clips_in_point_later_shortens_it_to_what_the_source_still_holds() -> None:
    d = trim(product_draft(), "s2", in_ms=5000)
    seg = main_segments(d)[1]
    assert (seg["in"], seg["d"]) == (5000, 3000)


def test_an_image_has_no_in_point_to_trim() -> None:
    with refused("in_ms applies to videos and audio; 's1' is an image"):
        trim(product_draft(), "s1", in_ms=100)


def test_splitting_a_clip_advances_the_second_halfs_in_point() -> None:
    d = set_speed(product_draft(), "s2", 2)  # 5 s of source at 2x: 2.5 s on the timeline
    d = split(d, "s2", 7400)
    first, second = main_segments(d)[1:3]
    assert (first["id"], first["st"], first["d"], first["in"]) == ("s2", 6400, 1000, 0)
    assert (second["id"], second["st"], second["d"], second["in"]) == ("s4", 7400, 1500, 2000)
    assert second["src"] == first["src"] == "up_side"


def test_splitting_outside_the_segment_says_where_the_segment_is() -> None:
    with refused("strictly inside 's2' (6.4s-11.4s), got 11.4s"):
        split(product_draft(), "s2", 11400)


# total duration, speed


def test_setting_the_total_duration_scales_the_clips_to_the_exact_total() -> None:
    d = set_total_duration(product_draft(), 7200)
    assert timeline_end(d) == 7200
    assert [s["d"] for s in main_segments(d)] == [3200, 2500, 1500]


def test_lengthening_beyond_a_clips_source_gives_the_rest_to_the_stills() -> None:
    d = set_total_duration(product_draft(), 30000)
    durations = [s["d"] for s in main_segments(d)]
    assert durations[1] == 8000
    assert sum(durations) == 30000


def test_a_total_longer_than_the_clips_sources_is_refused_with_the_maximum() -> None:
    d = add_main(new_draft(), src="u", kind="video", d_ms=4000, source_d=6000)
    with refused("at most 6s in total"):
        set_total_duration(d, 10000)


def test_speeding_up_a_clip_shortens_it_on_the_timeline() -> None:
    d = set_speed(product_draft(), "s2", 2)
    assert layout(d)[1:] == [("s2", 6400, 2500), ("s3", 8900, 3000)]
    assert main_segments(d)[1]["m"]["speed"] == 2


def test_a_speed_outside_the_allowed_range_is_refused() -> None:
    with refused("speed must be between 0.25 and 4, got 9"):
        set_speed(product_draft(), "s2", 9)


def test_only_videos_change_speed() -> None:
    with refused("speed applies to video clips; 's1' is an image"):
        set_speed(product_draft(), "s1", 2)


# transitions, motion


def test_a_transition_goes_from_a_clip_into_the_next() -> None:
    d = set_transition(product_draft(), "s1", "crossfade", 1000)
    assert main_segments(d)[0]["m"]["transition"] == {"type": "crossfade", "d": 1000}
    assert timeline_end(d) == 14400


def test_a_transition_longer_than_half_a_neighbour_is_refused_with_the_limit() -> None:
    with refused("lasts at most half of either clip, here 1.5s"):
        set_transition(product_draft(), "s2", "wipe", 2000)


def test_the_last_clip_has_no_transition() -> None:
    with refused("'s3' is the last clip"):
        set_transition(product_draft(), "s3", "fade")


def test_transitions_everywhere_are_shortened_where_a_clip_is_short() -> None:
    d = set_all_transitions(product_draft(), "fade", 2000)
    assert [s["m"].get("transition") for s in main_segments(d)] == [
        {"type": "fade", "d": 2000},
        {"type": "fade", "d": 1500},
        None,
    ]
    d = set_all_transitions(d, "none")
    assert all("transition" not in s["m"] for s in main_segments(d))


def test_motion_is_for_still_images_only() -> None:
    d = set_motion(product_draft(), "s1", "zoom_in")
    assert main_segments(d)[0]["m"]["motion"] == "zoom_in"
    with refused("motion applies to still images; 's2' is a video"):
        set_motion(d, "s2", "zoom_in")
    with refused("motion must be one of none, zoom_in"):
        set_motion(d, "s1", "spin")


# text


def test_a_caption_gets_the_default_caption_style_on_a_caption_track() -> None:
    d = add_text(product_draft(), "Limited offer", st=10000, d_ms=3000)
    (seg,) = text_segments(d)
    assert seg["text"] == "Limited offer"
    assert (seg["st"], seg["d"]) == (10000, 3000)
    assert seg["m"]["style"] == {"size": 0.08, "color": "#ffffff", "outline": "#000000"}
    track, _ = find_segment(d, seg["id"])
    assert (track["tt"], track["role"]) == (7, "caption")


def test_a_title_goes_on_its_own_title_track_with_a_larger_size() -> None:
    d = add_text(product_draft(), "Caption", st=0, d_ms=1000)
    d = add_text(d, "Urban Dreams", st=0, d_ms=3000, role="title", style={"bold": True})
    roles = [(t["id"], t.get("role")) for t in d["t"]]
    assert roles == [("v1", "main"), ("x1", "caption"), ("x2", "title")]
    title = find_segment(d, "s5")[1]
    assert title["m"]["style"] == {"size": 0.12, "color": "#ffffff", "outline": "#000000", "bold": True}


def test_text_running_past_the_end_is_cut_at_the_end() -> None:
    d = add_text(product_draft(), "Bye", st=13000, d_ms=5000)
    assert (text_segments(d)[0]["st"], text_segments(d)[0]["d"]) == (13000, 1400)


def test_text_keeps_half_a_second_when_the_video_shrinks_under_it() -> None:
    d = add_text(product_draft(), "Bye", st=13000, d_ms=1400)
    d = remove_segment(d, "s3")
    seg = text_segments(d)[0]
    assert (seg["st"], seg["d"]) == (10900, 500)


def test_text_cannot_start_after_the_video_ends() -> None:
    with refused("text start 20s is at or past the end of the video (14.4s)"):
        add_text(product_draft(), "Late", st=20000, d_ms=1000)


def test_editing_text_changes_its_words_and_merges_its_style() -> None:
    d = add_text(product_draft(), "Limited offer", st=10000, d_ms=3000)
    d = edit_text(d, "s4", text="Sale", st=2000, position="top", style={"color": "#ff0000"})
    seg = text_segments(d)[0]
    assert (seg["text"], seg["st"], seg["m"]["position"]) == ("Sale", 2000, "top")
    assert seg["m"]["style"] == {"size": 0.08, "color": "#ff0000", "outline": "#000000"}


def test_an_unknown_style_key_is_refused_with_the_allowed_keys() -> None:
    with refused("unknown style key 'font'; style keys are size, color"):
        add_text(product_draft(), "Hi", st=0, d_ms=1000, style={"font": "Arial"})


def test_editing_a_clip_as_text_lists_the_text_segments() -> None:
    d = add_text(product_draft(), "Hi", st=0, d_ms=1000)
    with refused("'s1' is not a text segment; text segments are s4"):
        edit_text(d, "s1", text="x")


# audio


def test_music_gets_the_default_volume_fade_and_spans_the_video() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", name="Lo-fi.mp3", source_d=60000)
    track = audio_track(d, "bgm")
    assert track is not None
    (seg,) = track["sg"]
    assert (seg["st"], seg["d"], seg["vol"]) == (0, 14400, 0.35)
    assert seg["m"]["fade_out"] == 2000
    assert seg["m"]["loop"] is True


def test_music_without_loop_ends_where_its_source_ends() -> None:
    d = set_audio(product_draft(), "bgm", src="up_jingle", source_d=5000, loop=False)
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    assert bgm["sg"][0]["d"] == 5000


def test_music_follows_the_video_when_it_gets_shorter() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000)
    d = remove_segment(d, "s1")
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    assert bgm["sg"][0]["d"] == 8000


def test_music_ducks_under_a_voiceover_and_stops_ducking_when_it_goes() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000)
    d = set_audio(d, "voiceover", src="up_voice", source_d=9000)
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    assert bgm["sg"][0]["m"]["duck"] is True
    d = remove_audio(d, "voiceover")
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    assert "duck" not in bgm["sg"][0]["m"]


def test_replacing_the_music_keeps_its_volume_and_segment() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000, vol=0.2)
    d = set_audio(d, "bgm", src="up_rock", name="Rock.mp3", source_d=90000)
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    (seg,) = bgm["sg"]
    assert (seg["id"], seg["src"], seg["vol"], seg["m"]["name"]) == ("s4", "up_rock", 0.2, "Rock.mp3")


def test_removing_audio_that_is_not_there_says_what_audio_exists() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000)
    with refused("there is no voiceover to remove; audio tracks: bgm"):
        remove_audio(d, "voiceover")


def test_volume_is_set_by_role_and_refused_outside_0_to_1() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000)
    d = set_volume(d, "bgm", 0.3)
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    assert bgm["sg"][0]["vol"] == 0.3
    with refused("volume must be between 0 and 1 (0%-100%), got 1.5"):
        set_volume(d, "bgm", 1.5)
    with refused("volume applies to videos and audio; 's1' is an image"):
        set_volume(d, "s1", 0.5)


def test_fades_cannot_outlast_their_segment() -> None:
    d = set_fade(product_draft(), "s2", fade_in=1000)
    assert main_segments(d)[1]["m"]["fade_in"] == 1000
    with refused("fade_out must be at most 's3''s length (3s), got 4s"):
        set_fade(d, "s3", fade_out=4000)


def test_music_on_an_empty_timeline_needs_a_known_length() -> None:
    with refused("the timeline is empty and the bgm's length is unknown"):
        set_audio(new_draft(), "bgm", src="up_lofi")


# canvas and title


@pytest.mark.parametrize(("preset", "size"), sorted(CANVAS_PRESETS.items()))
def test_each_canvas_preset_sets_its_size(preset: str, size: tuple[int, int]) -> None:
    d = set_canvas(product_draft(), preset, fit="contain_blur")
    assert (d["m"]["width"], d["m"]["height"], d["m"]["fit"]) == (*size, "contain_blur")


def test_an_unknown_canvas_preset_lists_the_presets() -> None:
    with refused("canvas preset must be one of 16:9, 9:16, 1:1, 4:5; got '3:2'"):
        set_canvas(product_draft(), "3:2")


def test_setting_the_title_changes_only_the_title() -> None:
    d = product_draft()
    titled = set_title(d, "  Spring Sale ")
    assert titled["m"]["title"] == "Spring Sale"
    assert titled["t"] == d["t"]


# ids and track order


def test_new_ids_continue_after_the_largest_in_use_on_any_track() -> None:
    d: dict[str, Any] = product_draft()
    d["t"][0]["sg"][0]["id"] = "s41"
    d = add_text(d, "Hi", st=0, d_ms=1000)
    assert all_ids(d)[-1] == "s42"


def test_tracks_keep_the_protocol_order_main_overlay_audio_text() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000)
    d["t"].insert(1, {"id": "v7", "tt": 0, "role": "overlay", "sg": []})
    d = add_text(d, "Hi", st=0, d_ms=1000, role="title")
    assert [t["id"] for t in d["t"]] == ["v1", "v7", "a1", "x1"]
    assert main_track(d) is d["t"][0]


# edge cases


def test_unknown_keys_on_the_draft_tracks_and_segments_survive_edits() -> None:
    d = product_draft()
    d["x_cloud"] = {"rev": 7}
    d["m"]["x_theme"] = "dark"
    d["t"][0]["x_lock"] = True
    d["t"][0]["sg"][1]["x_clip"] = "keep"
    d["t"][0]["sg"][1]["m"]["x_lut"] = "warm"
    edited = set_title(split(trim(remove_segment(d, "s1"), "s2", d_ms=4000), "s2", 2000), "New")
    assert edited["x_cloud"] == {"rev": 7}
    assert edited["m"]["x_theme"] == "dark"
    assert edited["t"][0]["x_lock"] is True
    halves = main_segments(edited)[:2]
    assert [s.get("x_clip") for s in halves] == ["keep", "keep"]
    assert [s["m"].get("x_lut") for s in halves] == ["warm", "warm"]


def test_an_operation_on_something_that_is_not_a_draft_says_how_to_get_one() -> None:
    with refused("a draft is an object with 'm' (metadata) and 't' (a list of tracks)"):
        trim({"tracks": []}, "s1", d_ms=100)


def test_loading_something_that_is_not_an_object_is_refused() -> None:
    with refused("$: [] is not of type 'object'"):
        load_draft([])


def test_loading_a_text_segment_without_words_is_refused() -> None:
    d = add_text(product_draft(), "Hi", st=0, d_ms=1000)
    del d["t"][1]["sg"][0]["text"]
    with refused("$.t[1].sg[0]: a text segment needs 'text' (its words)"):
        load_draft(d)


def test_fitting_to_a_total_that_does_not_divide_evenly_still_hits_it_exactly() -> None:
    d = new_draft()
    for name in ("a", "b", "c"):
        d = add_main(d, src=name, kind="image", d_ms=1000)
    fitted = set_total_duration(d, 10000)
    assert [s["d"] for s in main_segments(fitted)] == [3334, 3333, 3333]


def test_fitting_needs_at_least_one_millisecond_per_clip() -> None:
    with refused("3 clips need at least 3 ms; got total_ms=2"):
        set_total_duration(product_draft(), 2)


def test_fitting_an_empty_timeline_says_to_add_clips_first() -> None:
    with refused("the main track has no clips to fit to a duration; add clips first"):
        set_total_duration(new_draft(), 5000)


def test_removing_every_clip_leaves_an_empty_main_track_and_nothing_to_export() -> None:
    d = product_draft()
    for seg_id in ("s1", "s2", "s3"):
        d = remove_segment(d, seg_id)
    assert d["t"] == [{"id": "v1", "tt": 0, "role": "main", "sg": []}]
    assert not is_ready(d)


def test_splitting_moves_the_transition_and_fade_out_to_the_second_half() -> None:
    d = set_fade(set_transition(product_draft(), "s2", "fade", 500), "s2", fade_in=300, fade_out=400)
    d = split(d, "s2", 9000)
    first, second = main_segments(d)[1:3]
    assert first["m"].get("fade_in") == 300
    assert "fade_out" not in first["m"]
    assert "transition" not in first["m"]
    assert second["m"]["transition"] == {"type": "fade", "d": 500}
    assert second["m"].get("fade_out") == 400
    assert "fade_in" not in second["m"]


def test_splitting_a_caption_gives_two_captions_with_the_same_words() -> None:
    d = add_text(product_draft(), "Sale", st=1000, d_ms=4000)
    d = split(d, "s4", 3000)
    assert [(s["id"], s["st"], s["d"], s["text"]) for s in text_segments(d)] == [
        ("s4", 1000, 2000, "Sale"),
        ("s5", 3000, 2000, "Sale"),
    ]


def test_the_music_track_cannot_be_split_or_duplicated() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000)
    with refused("the bgm track holds one segment; it cannot be split"):
        split(d, "s4", 1000)
    with refused("the bgm track holds one segment; use set_audio to replace it"):
        duplicate_segment(d, "s4")


def test_music_without_loop_grows_back_to_its_source_length_when_the_video_grows() -> None:
    d = set_audio(product_draft(), "bgm", src="up_jingle", source_d=12000, loop=False)
    d = remove_segment(d, "s1")
    d = add_main(d, src="up_more", kind="image", d_ms=9000)
    bgm = audio_track(d, "bgm")
    assert bgm is not None
    assert (timeline_end(d), bgm["sg"][0]["d"]) == (17000, 12000)


def test_music_on_an_empty_timeline_lasts_its_source_length() -> None:
    d = set_audio(new_draft(), "voiceover", src="up_voice", source_d=7000)
    voice = audio_track(d, "voiceover")
    assert voice is not None
    assert (voice["sg"][0]["d"], voice["sg"][0]["vol"], timeline_end(d)) == (7000, 1.0, 7000)


def test_music_length_cannot_be_trimmed_but_its_start_in_the_song_can() -> None:
    d = set_audio(product_draft(), "bgm", src="up_lofi", source_d=60000, loop=False)
    with refused("the bgm's length follows the video"):
        trim(d, "s4", d_ms=3000)
    later = trim(d, "s4", in_ms=50000)
    bgm = audio_track(later, "bgm")
    assert bgm is not None
    assert (bgm["sg"][0]["in"], bgm["sg"][0]["d"]) == (50000, 10000)


def test_a_video_clips_own_sound_can_be_turned_down() -> None:
    d = set_volume(product_draft(), "s2", 0.25)
    assert main_segments(d)[1]["vol"] == 0.25


def test_a_shorter_neighbour_shortens_an_existing_transition() -> None:
    d = set_transition(product_draft(), "s1", "crossfade", 2000)
    d = trim(d, "s2", d_ms=1000)
    assert main_segments(d)[0]["m"]["transition"] == {"type": "crossfade", "d": 500}


def test_slowing_a_clip_down_is_limited_by_its_source() -> None:
    d = set_speed(product_draft(), "s2", 0.5)  # 5 s of source would need 10 s: the source allows 16 s
    assert main_segments(d)[1]["d"] == 10000
    d = trim(d, "s2", d_ms=16000)
    with refused("'s2' can be at most 16s long"):
        trim(d, "s2", d_ms=16001)


def test_a_colour_card_takes_a_hex_colour_only() -> None:
    with refused("color must be a colour written #rrggbb (or #rrggbbaa), got 'red'"):
        add_main(new_draft(), src="", kind="color", d_ms=1000, color="red")
    with refused("color applies to colour cards (kind 'color'); this is an image"):
        add_main(new_draft(), src="u", kind="image", d_ms=1000, color="#ffffff")


def test_durations_given_as_floats_are_rounded_to_milliseconds() -> None:
    d = trim(product_draft(), "s1", d_ms=2000.6)  # type: ignore[arg-type]
    assert main_segments(d)[0]["d"] == 2001
    with refused("d_ms must be a number of milliseconds, got '2s'"):
        trim(product_draft(), "s1", d_ms="2s")  # type: ignore[arg-type]


def test_a_speed_that_leaves_no_source_after_the_in_point_is_refused() -> None:
    d = add_main(new_draft(), src="u", kind="video", d_ms=1, in_ms=7999, source_d=8000)
    with refused("at 4x less than 1 ms of 's1' is left after its in-point (7.999s of 8s)"):
        set_speed(d, "s1", 4)


def test_an_in_point_that_leaves_no_source_at_the_clips_speed_is_refused() -> None:
    d = set_speed(product_draft(), "s2", 4)
    with refused("from 7.999s less than 1 ms of 's2''s 8s source is left at 4x; choose an earlier in_ms"):
        trim(d, "s2", in_ms=7999)


# captions pinned to clips, and fitting around a kept clip


def test_a_caption_pinned_to_a_clip_follows_it_when_the_intro_gets_shorter() -> None:
    d = add_text(product_draft(), "Side view", st=6700, d_ms=2000, anchor="s2")
    d = add_text(d, "Free shipping", st=7000, d_ms=2000)
    d = trim(d, "s1", d_ms=2000)
    texts = {s["text"]: s["st"] for s in text_segments(d)}
    assert texts == {"Side view": 2300, "Free shipping": 7000}


def test_a_pinned_caption_follows_its_clip_to_the_end_when_clips_are_reordered() -> None:
    d = add_text(product_draft(), "Logo", st=11400, d_ms=1000, anchor="s3")
    d = move_main(d, "s3", 0)
    assert [s["st"] for s in text_segments(d)] == [0]


def test_moving_a_pinned_caption_by_hand_unpins_it() -> None:
    d = add_text(product_draft(), "Side view", st=6700, d_ms=2000, anchor="s2")
    seg_id = text_segments(d)[0]["id"]
    d = edit_text(d, seg_id, st=1000)
    d = trim(d, "s1", d_ms=2000)
    assert text_segments(d)[0]["st"] == 1000
    assert "anchor" not in text_segments(d)[0]["m"]


def test_a_caption_pinned_to_a_clip_goes_with_it_and_the_others_stay() -> None:
    """A caption that follows its clip was left behind when the clip went: over another picture, or
    squeezed to half a second at the end of the shorter video."""
    d = add_text(product_draft(), "Side view", st=6700, d_ms=2000, anchor="s2")
    d = add_text(d, "Free", st=1000, d_ms=2000)
    d = remove_segment(d, "s2")
    assert [(t["text"], t["st"]) for t in text_segments(d)] == [("Free", 1000)]
    assert [s["id"] for s in main_segments(d)] == ["s1", "s3"]


def test_pinning_a_caption_to_a_missing_clip_is_refused_with_the_clips_named() -> None:
    with pytest.raises(TimelineError, match="s1, s2, s3"):
        add_text(product_draft(), "Nope", st=0, d_ms=1000, anchor="s9")


def test_fitting_the_total_around_a_kept_intro_keeps_the_intro_and_the_total() -> None:
    d = trim(product_draft(), "s1", d_ms=2000)
    d = set_total_duration(d, 14400, keep=["s1"])
    assert timeline_end(d) == 14400
    assert layout(d)[0] == ("s1", 0, 2000)
    assert main_segments(d)[1]["d"] <= 8000  # the clip never outgrows its 8 s source


def test_keeping_every_clip_leaves_nothing_to_fit_and_says_so() -> None:
    with pytest.raises(TimelineError, match="keep fewer clips"):
        set_total_duration(product_draft(), 20000, keep=["s1", "s2", "s3"])
