"""The pure core: message + draft + uploads → a plan, a question, an answer or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from engine.agent import MediaRef
from engine.agent._parse import parse
from engine.agent._plan import Answer, Generate, MainRef, Noop, Op, Plan, Question, Revision, TextRef

Setup = tuple[dict[str, Any], list[MediaRef]]


def _ops(message: str, setup: Setup) -> list[Op]:
    outcome = parse(message, *setup)
    assert isinstance(outcome, Plan), outcome
    return list(outcome.ops)


def test_an_intro_and_a_length_make_a_trim_of_the_first_clip(promo: Setup) -> None:
    (op,) = _ops("Shorten the intro to 2 seconds", promo)
    assert (op.name, op.args["target"], op.args["d_ms"]) == ("trim_segment", MainRef(index=0), 2000)


def test_two_instructions_joined_by_and_make_two_operations_in_order(promo: Setup) -> None:
    ops = _ops("Shorten the intro to 2 seconds and add a title 'Summer Sale'", promo)
    assert [o.name for o in ops] == ["trim_segment", "add_text", "set_title"]
    assert ops[1].args["text"] == "Summer Sale"
    assert ops[1].args["role"] == "title"


def test_and_inside_a_range_or_a_pair_of_clips_does_not_split_the_message(promo: Setup) -> None:
    (op,) = _ops("Show the text 'Only today' between 5 and 8 seconds", promo)
    assert (op.args["st"], op.args["d_ms"]) == (5000, 3000)
    (swap,) = _ops("swap clips 1 and 2", promo)
    assert (swap.args["a"], swap.args["b"]) == (MainRef(index=0), MainRef(index=1))


def test_and_inside_quotes_does_not_split_the_message(promo: Setup) -> None:
    (op,) = _ops("add the text 'Cut and paste, then add more' at 3s", promo)
    assert op.args["text"] == "Cut and paste, then add more"


def test_a_quoted_file_name_picks_the_music(promo: Setup) -> None:
    (op,) = _ops("swap the background music for 'music_calm.mp3'", promo)
    assert (op.name, op.args["role"], op.args["name"]) == ("set_audio", "bgm", "music_calm.mp3")


def test_a_word_of_a_file_name_picks_the_music(promo: Setup) -> None:
    (op,) = _ops("use the calm track as background music instead", promo)
    assert op.args["name"] == "music_calm.mp3"


def test_two_quotes_with_an_existing_text_change_it(promo: Setup) -> None:
    draft, media = promo
    (op,) = _ops('Change "Product side" to "Side view"', (draft, media))
    assert (op.name, op.args["target"], op.args["text"]) == (
        "edit_text",
        TextRef(contains="Product side"),
        "Side view",
    )


def test_change_the_text_with_several_texts_asks_which_listing_them_with_times(promo: Setup) -> None:
    outcome = parse("change the text", *promo)
    assert isinstance(outcome, Question)
    assert outcome.text.endswith("?")
    assert '"Product front" (0.3s-3.3s)' in outcome.text


def test_remove_the_clip_with_several_clips_asks_which(promo: Setup) -> None:
    outcome = parse("remove the clip", *promo)
    assert isinstance(outcome, Question)
    assert "product_side.jpg" in outcome.text


def test_make_it_better_asks_one_focused_question(promo: Setup) -> None:
    outcome = parse("make it better", *promo)
    assert isinstance(outcome, Question)
    assert outcome.text.count("?") == 1


@pytest.mark.parametrize("message", ["add a dancing robot", "generate AI footage of a beach"])
def test_what_the_local_engine_cannot_do_gets_an_honest_answer(promo: Setup, message: str) -> None:
    outcome = parse(message, *promo)
    assert isinstance(outcome, Answer)
    assert "NemoVideo cloud" in outcome.text


@pytest.mark.parametrize("message", ["purple monkey dishwasher", "   ", "🔥🔥", "thanks!"])
def test_nonsense_is_a_noop(promo: Setup, message: str) -> None:
    assert isinstance(parse(message, *promo), Noop)


@pytest.mark.parametrize(
    ("message", "tool"),
    [("导出", "export"), ("积分", "credits"), ("余额", "credits"), ("状态", "get_state"), ("上传", "upload")],
)
def test_the_chinese_routing_keywords_say_which_tool_does_it(promo: Setup, message: str, tool: str) -> None:
    outcome = parse(message, *promo)
    assert isinstance(outcome, Answer)
    assert tool in outcome.text


@pytest.mark.parametrize(
    ("message", "which"),
    [("undo", "undo"), ("Undo that", "undo"), ("redo", "redo"), ("go back to the first version", "first")],
)
def test_undo_redo_and_first_version_words_are_revisions(promo: Setup, message: str, which: str) -> None:
    assert parse(message, *promo) == Revision(which)  # type: ignore[arg-type]


def test_chinese_edits_make_the_same_operations_as_english(promo: Setup) -> None:
    (add,) = _ops("在第10秒添加文字“限时优惠”", promo)
    assert (add.name, add.args["text"], add.args["st"]) == ("add_text", "限时优惠", 10000)
    (remove,) = _ops("删除第二个片段", promo)
    assert remove.args["targets"] == (MainRef(index=1),)
    (vol,) = _ops("背景音乐音量30%", promo)
    assert (vol.name, vol.args["vol"]) == ("set_volume", 0.3)
    (canvas,) = _ops("改成竖屏", promo)
    assert canvas.args["preset"] == "9:16"


def test_an_empty_draft_and_a_description_is_a_generation_request(promo: Setup) -> None:
    _draft, media = promo
    outcome = parse("Make a 15-second vertical reel for TikTok with the upbeat music", None, media)
    assert isinstance(outcome, Generate)
    assert (outcome.spec.duration_ms, outcome.spec.preset) == (15000, "9:16")


def test_with_nothing_uploaded_and_no_words_to_show_it_asks_what_the_card_should_say() -> None:
    outcome = parse("make a promo", None, [])
    assert isinstance(outcome, Question)
    assert "NemoVideo cloud" in outcome.text
    assert isinstance(parse("make a promo titled 'Grand Opening'", None, []), Generate)


def test_an_edit_with_no_video_yet_says_so(promo: Setup) -> None:
    _draft, media = promo
    outcome = parse("shorten the intro to 2 seconds", None, media)
    assert isinstance(outcome, Answer)
    assert "no video yet" in outcome.text


def test_a_pronoun_means_the_previous_clauses_subject(promo: Setup) -> None:
    volume, fade = _ops("make the music quieter and fade it out over 3 seconds", promo)
    assert (volume.name, volume.args["target"]) == ("set_volume", "bgm")
    assert (fade.name, fade.args["target"], fade.args["fade_out"]) == ("set_fade", "bgm", 3000)


def test_it_after_moving_a_clip_is_that_clip_at_its_new_place(promo: Setup) -> None:
    move, trim = _ops("move the first clip to the end and make it 3 seconds", promo)
    assert move.name == "move_segment"
    assert (trim.name, trim.args["target"], trim.args["d_ms"]) == ("trim_segment", MainRef(index=-1), 3000)


def test_a_list_of_wishes_without_verbs_becomes_one_operation_each(promo: Setup) -> None:
    ops = _ops("Make it 15 seconds, vertical, with the calm music", promo)
    assert [o.name for o in ops] == ["set_total_duration", "set_canvas", "set_audio"]


def test_conjunctions_inside_one_instruction_keep_it_whole(promo: Setup) -> None:
    (style,) = _ops("make the text red and bold", promo)
    assert style.args["style"] == {"color": "#ff3b30", "bold": True}
    (remove,) = _ops("remove the second clip and the third clip", promo)
    assert remove.args["targets"] == (MainRef(index=1), MainRef(index=2))


def test_the_first_seconds_of_a_clip_are_a_stretch_of_time_not_a_clip(clips: Setup) -> None:
    (op,) = _ops("cut the first 2 seconds of clip 2", clips)
    assert (op.name, op.args["target"], op.args["head_ms"]) == ("trim_segment", MainRef(index=1), 2000)


def test_a_bare_number_after_to_is_seconds_for_a_length(promo: Setup) -> None:
    (op,) = _ops("cut it down to 20", promo)
    assert (op.name, op.args["total_ms"]) == ("set_total_duration", 20000)


def test_short_quotes_do_not_match_existing_text_by_accident(promo: Setup) -> None:
    ops = _ops("add 'A' and 'B' at 5s", promo)
    assert [(o.name, o.args["text"], o.args["st"]) for o in ops] == [
        ("add_text", "A", 5000),
        ("add_text", "B", 8000),
    ]


def test_a_clip_named_by_the_words_of_its_file_name(promo: Setup) -> None:
    (op,) = _ops("put the product detail shot first", promo)
    assert (op.name, op.args["target"], op.args["to"]) == (
        "move_segment",
        MainRef(file="product_detail.jpg"),
        0,
    )


def test_a_fade_length_is_never_taken_for_the_videos_length(promo: Setup) -> None:
    (op,) = _ops("add a 2 second fade at the end", promo)
    assert (op.name, op.args["target"], op.args["fade_out"]) == ("set_fade", MainRef(index=-1), 2000)


def test_a_mood_sets_pacing_music_and_motion_like_generation_does(promo: Setup) -> None:
    calm = _ops("make it calmer", promo)
    assert [o.name for o in calm] == ["set_transition", "set_audio", "set_motion"]
    assert (calm[0].args["d_ms"], calm[1].args["name"]) == (1000, "music_calm.mp3")
    energetic = _ops("make it more energetic", promo)
    assert [(o.name, o.args["d_ms"]) for o in energetic] == [("set_transition", 250)]  # upbeat already plays


def test_bold_is_a_look_not_a_mood(promo: Setup) -> None:
    (style,) = _ops("make the text red and bold", promo)
    assert style.name == "edit_text"


def test_transitions_between_two_clips_go_on_the_first(promo: Setup) -> None:
    (cut,) = _ops("hard cut between 1 and 2", promo)
    assert (cut.name, cut.args["target"], cut.args["kind"]) == ("set_transition", MainRef(index=0), "none")
    (fade,) = _ops("use a fade to black between clips 4 and 5", promo)
    assert (fade.args["target"], fade.args["kind"]) == (MainRef(index=3), "fade")
    (everywhere,) = _ops("slower crossfades", promo)
    assert (everywhere.args["target"], everywhere.args["scale"]) == (None, 2.0)
