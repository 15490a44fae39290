"""respond(): the turns a user sees — generation in two stages, edits, questions, failures, costs."""

from __future__ import annotations

import copy
from typing import Any

from engine import timeline as tl
from engine.agent import History, MediaRef, respond
from tests.engine.agent._media import PROMO, clip_media, promo_media

Setup = tuple[dict[str, Any], list[MediaRef]]


def _texts(d: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(s["text"], s["st"], s["d"]) for s in tl.text_segments(d)]


def test_generation_reports_both_stages_and_the_track_summary_and_costs_ten() -> None:
    turn = respond(PROMO, None, promo_media())
    assert turn.kind == "generate"
    assert turn.cost == 10
    assert [s.name for s in turn.stages] == ["raw_cut", "music_and_title"]
    assert "Stage 1 (raw cut)" in turn.reply
    assert "Stage 2 (music and title)" in turn.reply
    assert "Timeline (" in turn.reply
    raw, final = turn.stages[0].draft, turn.stages[1].draft
    assert not tl.text_segments(raw)
    assert tl.audio_track(raw, "bgm") is None
    assert tl.timeline_end(final) == 30000


def test_generation_puts_voice_like_audio_on_the_voiceover_and_the_rest_on_music() -> None:
    final = respond(PROMO, None, promo_media()).stages[-1].draft
    voice, bgm = tl.audio_track(final, "voiceover"), tl.audio_track(final, "bgm")
    assert voice is not None
    assert bgm is not None
    assert voice["sg"][0]["src"] == "up6"
    assert bgm["sg"][0]["src"] in ("up7", "up8")


def test_speech_like_decides_when_the_file_name_does_not() -> None:
    media = [
        MediaRef("i1", "a.jpg", "image"),
        MediaRef("a1", "track01.mp3", "audio", 20000, speech_like=True),
        MediaRef("a2", "track02.mp3", "audio", 20000, speech_like=False),
    ]
    final = respond("make a video", None, media).stages[-1].draft
    assert tl.audio_track(final, "voiceover")["sg"][0]["src"] == "a1"  # type: ignore[index]
    assert tl.audio_track(final, "bgm")["sg"][0]["src"] == "a2"  # type: ignore[index]


def test_stills_share_the_duration_with_motion_and_crossfades() -> None:
    final = respond("make a 20 second slideshow", None, promo_media()).stages[-1].draft
    segs = tl.main_segments(final)
    assert [s["d"] for s in segs] == [4000] * 5
    assert all(s["m"]["motion"] != "none" for s in segs)
    assert all(s["m"]["transition"]["type"] == "crossfade" for s in segs[:-1])


def test_calm_means_slower_crossfades_and_energetic_quicker_ones_and_shorter_cuts() -> None:
    calm = respond("make a calm slideshow", None, promo_media()).stages[-1].draft
    energetic = respond("make an energetic slideshow", None, promo_media()).stages[-1].draft
    calm_d = tl.main_segments(calm)[0]["m"]["transition"]["d"]
    energetic_d = tl.main_segments(energetic)[0]["m"]["transition"]["d"]
    assert calm_d > energetic_d
    assert tl.timeline_end(calm) == tl.timeline_end(energetic) == 30000
    assert [s["d"] for s in tl.main_segments(energetic)] == [3000] * 10
    assert [s["src"] for s in tl.main_segments(energetic)][5:] == ["up1", "up2", "up3", "up4", "up5"]
    assert {s["m"]["motion"] for s in tl.main_segments(calm)} <= {"zoom_in", "zoom_out"}


def test_clips_are_trimmed_to_fit_in_upload_order() -> None:
    final = respond("Make a 20-second video from these clips", None, clip_media()).stages[-1].draft
    segs = tl.main_segments(final)
    assert [s["src"] for s in segs] == ["c0", "c1", "c2"]
    assert sum(s["d"] for s in segs) == 20000
    assert all(s["d"] <= 8000 for s in segs)


def test_with_no_uploads_the_words_go_on_colour_cards_and_the_reply_says_why() -> None:
    turn = respond('Make a 10-second intro card that says "Welcome to Acme"', None, [])
    final = turn.stages[-1].draft
    assert [s["m"]["kind"] for s in tl.main_segments(final)] == ["color"]
    assert _texts(final) == [("Welcome to Acme", 0, 10000)]
    assert "NemoVideo cloud" in turn.reply


def test_quoted_phrases_and_a_title_become_text(promo: Setup) -> None:
    final = respond('Make a 25 second promo titled "Urban Dreams" with "Shop now"', None, promo_media())
    texts = _texts(final.stages[-1].draft)
    assert ("Urban Dreams", 0, 3000) in texts
    assert any(t[0] == "Shop now" for t in texts)


def test_an_edit_costs_one_and_says_what_changed_with_times(promo: Setup) -> None:
    draft, media = promo
    turn = respond("add a text overlay 'Limited offer' at the 10-second mark for 3 seconds", draft, media)
    assert (turn.kind, turn.cost) == ("edit", 1)
    assert "Limited offer" in turn.reply
    assert "10s" in turn.reply
    assert "Timeline (" in turn.reply
    assert ("Limited offer", 10000, 3000) in _texts(turn.stages[0].draft)


def test_the_input_draft_is_never_mutated(promo: Setup) -> None:
    draft, media = promo
    before = copy.deepcopy(draft)
    respond("remove the second clip and make it vertical", draft, media)
    assert draft == before


def test_a_multi_edit_message_is_atomic_and_says_which_part_failed(promo: Setup) -> None:
    draft, media = promo
    turn = respond("shorten the intro to 2 seconds and add 'Late' at 90 seconds", draft, media)
    assert turn.kind == "answer"
    assert turn.stages == ()
    assert "add 'Late' at 90 seconds" in turn.reply
    assert "past the end" in turn.reply


def test_questions_answers_and_noops_cost_nothing_and_change_nothing(promo: Setup) -> None:
    draft, media = promo
    for message in ("make it better", "add a dancing robot", "purple monkey dishwasher", "导出"):
        turn = respond(message, draft, media)
        assert turn.cost == 0
        assert turn.stages == ()


def test_undo_and_redo_move_to_the_drafts_history_gives(promo: Setup) -> None:
    draft, media = promo
    edited = respond("remove the second clip", draft, media).stages[0].draft
    undo = respond("undo", edited, media, History(undo=draft))
    assert (undo.kind, undo.revision) == ("revision", "undo")
    assert undo.stages[0].draft == draft
    assert "Undone" in undo.reply
    nothing = respond("redo", edited, media, History(undo=draft))
    assert nothing.kind == "answer"
    assert nothing.stages == ()


def test_a_clip_that_does_not_exist_is_reported_and_nothing_changes(promo: Setup) -> None:
    draft, media = promo
    turn = respond("remove clip 9", draft, media)
    assert turn.kind == "answer"
    assert "5 clips" in turn.reply


def test_a_clip_cannot_be_made_longer_than_its_source(clips: Setup) -> None:
    draft, media = clips
    turn = respond("trim clip 1 to 10 seconds", draft, media)
    assert turn.kind == "answer"
    assert "clip 1" in turn.reply
    assert "8s" in turn.reply


def test_a_clip_can_be_muted_and_sped_up(clips: Setup) -> None:
    draft, media = clips
    muted = respond("mute the second clip", draft, media).stages[0].draft
    assert tl.main_segments(muted)[1]["vol"] == 0
    faster = respond("speed up clip 2 2x", draft, media).stages[0].draft
    assert tl.main_segments(faster)[1]["m"]["speed"] == 2


def test_a_new_upload_can_be_added_to_the_end(promo: Setup) -> None:
    draft, media = promo
    media = [*media, MediaRef("up9", "bonus.jpg", "image", None, 1600, 1200)]
    turn = respond("add bonus.jpg at the end", draft, media)
    assert tl.main_segments(turn.stages[0].draft)[-1]["src"] == "up9"


def test_a_question_about_the_video_is_answered_with_its_facts_and_changes_nothing(promo: Setup) -> None:
    draft, media = promo
    turn = respond("how long is the video?", draft, media)
    assert (turn.kind, turn.stages, turn.cost) == ("answer", (), 0)
    assert "30s long" in turn.reply
    assert "Timeline (" in turn.reply


def test_a_polite_question_with_a_verb_is_a_request(promo: Setup) -> None:
    draft, media = promo
    turn = respond("could you make it vertical?", draft, media)
    assert turn.kind == "edit"
    assert (turn.stages[0].draft["m"]["width"], turn.stages[0].draft["m"]["height"]) == (1080, 1920)


def test_a_clip_can_be_replaced_by_a_new_upload_in_its_place(promo: Setup) -> None:
    draft, media = promo
    media = [*media, MediaRef("up9", "bonus.jpg", "image", None, 1600, 1200)]
    turn = respond("use bonus.jpg instead of the second image", draft, media)
    segs = tl.main_segments(turn.stages[0].draft)
    assert [s["src"] for s in segs] == ["up1", "up9", "up3", "up4", "up5"]
    assert tl.timeline_end(turn.stages[0].draft) == 30000


def test_a_new_upload_goes_where_it_is_asked(promo: Setup) -> None:
    draft, media = promo
    media = [*media, MediaRef("up9", "bonus.jpg", "image", None, 1600, 1200)]
    after = respond("add bonus.jpg after clip 2", draft, media).stages[0].draft
    between = respond("put bonus.jpg between clip 1 and clip 2", draft, media).stages[0].draft
    assert [s["src"] for s in tl.main_segments(after)][:4] == ["up1", "up2", "up9", "up3"]
    assert [s["src"] for s in tl.main_segments(between)][:3] == ["up1", "up9", "up2"]


def test_these_photos_means_the_stills_and_these_clips_the_clips_when_both_were_uploaded() -> None:
    mixed = [*clip_media(), *promo_media()[:2]]
    photos = respond("make a video from these photos", None, mixed).stages[-1].draft
    clips = respond("make a video from these clips", None, mixed).stages[-1].draft
    everything = respond("make a video", None, mixed).stages[-1].draft
    assert {s["m"]["kind"] for s in tl.main_segments(photos)} == {"image"}
    assert {s["m"]["kind"] for s in tl.main_segments(clips)} == {"video"}
    assert len(tl.main_segments(everything)) == 5


def test_an_edit_and_an_export_in_one_message_edits_and_says_which_tool_exports(promo: Setup) -> None:
    draft, media = promo
    turn = respond("make it vertical and export it", draft, media)
    assert turn.kind == "edit"
    assert turn.stages[0].draft["m"]["height"] == 1920
    assert "export tool" in turn.reply


def test_a_reply_stays_short_when_many_things_change_but_keeps_the_total(promo: Setup) -> None:
    draft, media = promo
    turn = respond("make it 15 seconds", draft, media)
    said = turn.reply.split("\n")[0]
    assert said.count(";") <= 6
    assert "total duration 30s → 15s" in said
    assert "more changes" in said


def test_a_damaged_draft_is_reported_and_never_crashes_the_agent() -> None:
    for damaged in (
        {},
        {"t": 5},
        {"m": {}, "t": [{"tt": 0}]},
        {"m": {"width": 1}, "t": [{"tt": 7, "sg": [{}]}]},
    ):
        for message in ("make it vertical", "undo", "how long is it?", "purple monkey"):
            turn = respond(message, damaged, [], History(undo={"broken": True}))
            assert turn.stages == ()
            assert "damaged" in turn.reply


def _promo() -> dict[str, Any]:
    return respond(PROMO, None, promo_media()).stages[-1].draft


def test_removing_the_zoom_stops_the_zooming_photos_and_keeps_the_pans() -> None:
    before = _promo()
    turn = respond("remove the zoom from the photos", before, promo_media())
    motions = [s["m"]["motion"] for s in tl.main_segments(turn.stages[-1].draft)]
    was = [s["m"]["motion"] for s in tl.main_segments(before)]
    assert motions == [m if m.startswith("pan") else "none" for m in was]
    assert any(m.startswith("pan") for m in motions)


def test_the_first_transition_is_the_one_after_the_first_clip_only() -> None:
    turn = respond("change the first transition to a wipe", _promo(), promo_media())
    kinds = [s["m"]["transition"]["type"] for s in tl.main_segments(turn.stages[-1].draft)[:-1]]
    assert kinds == ["wipe", "crossfade", "crossfade", "crossfade"]


def test_a_complaint_before_an_instruction_never_becomes_the_texts_new_words() -> None:
    turn = respond("the captions are hard to read, make them bigger", _promo(), promo_media())
    assert turn.kind == "question"  # (the captions had all become "make them bigger")
    assert turn.stages == ()


def test_an_edit_that_changes_nothing_visible_says_so_and_keeps_no_revision() -> None:
    turn = respond("fade the music out at the end", _promo(), promo_media())
    assert turn.kind == "noop"
    assert turn.stages == ()
    assert turn.reply.startswith("That is already how it is")


def test_the_motion_speed_is_answered_with_what_sets_it() -> None:
    turn = respond("slow the zoom on the first photo", _promo(), promo_media())
    assert turn.kind == "answer"
    assert "make the photo longer" in turn.reply


def test_the_fade_between_photos_is_the_transitions_and_keeps_its_kind() -> None:
    turn = respond("make the fade between photos shorter", _promo(), promo_media())
    segs = tl.main_segments(turn.stages[-1].draft)
    assert [s["m"]["transition"] for s in segs[:-1]] == [{"type": "crossfade", "d": 250}] * 4
    assert not segs[-1]["m"].get("fade_out")


def test_a_colour_said_after_a_colour_change_corrects_it_on_the_same_texts() -> None:
    yellow = respond("make the captions yellow", _promo(), promo_media()).stages[-1].draft
    turn = respond("no, white", yellow, promo_media())
    assert turn.kind == "edit"
    colours = {s["m"]["style"]["color"] for s in tl.text_segments(turn.stages[-1].draft)}
    assert colours == {"#ffffff"}
