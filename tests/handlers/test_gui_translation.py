"""GUI-speak translation (docs/protocol.md §7): GUI actions become tool advice, content is kept."""

from __future__ import annotations

import pytest

from handlers._gui import has_gui_speak, translate

SUMMARY = 'Timeline (2 tracks): 1. Video: 5 clips (0-30s) 2. Title: "Aurora" (0-3s)'


def test_the_export_button_becomes_the_export_tool_and_the_news_is_kept() -> None:
    out = translate("Your video is ready! Click the Export button to download it.")
    assert out == "Your video is ready! To render and download the video, use the export tool."


def test_open_a_panel_becomes_the_track_summary_and_the_edit_description_stays() -> None:
    out = translate("I added a fade between clip 1 and 2; open the Transitions panel to adjust it.", SUMMARY)
    assert out.startswith("I added a fade between clip 1 and 2.")
    assert SUMMARY in out
    assert "panel" not in out


def test_drag_and_drop_becomes_describe_the_edit_in_a_message() -> None:
    out = translate("Drag the clips to reorder them. The music is upbeat lo-fi.")
    assert "describe the edit in a message" in out
    assert "The music is upbeat lo-fi." in out
    assert "Drag" not in out


def test_preview_in_the_timeline_becomes_the_track_summary() -> None:
    assert (
        translate("Preview it in the timeline to check the pacing.", SUMMARY)
        == f"The current timeline: {SUMMARY}"
    )


def test_check_your_account_becomes_the_credits_tool() -> None:
    out = translate("You have 20 credits left, check your account billing page for more.")
    assert out == "You have 20 credits left. To see the balance, use the credits tool."


def test_a_click_on_another_button_says_what_to_ask_for() -> None:
    assert (
        translate("Click Add Music to add background music.")
        == "To add background music, ask for it in a message."
    )


@pytest.mark.parametrize(
    ("backend", "expected_piece", "gone"),
    [
        ("视频已生成。点击导出按钮下载视频。", "使用 export 工具", "点击"),
        ("已添加标题“城市之梦”，打开文字面板可以修改字体。", "get_state", "打开"),
        ("拖拽片段可以调整顺序。", "用一句话描述这个修改", "拖拽"),
        ("请在账户页面充值。", "credits 工具", "账户"),
    ],
)
def test_chinese_gui_speak_is_translated(backend: str, expected_piece: str, gone: str) -> None:
    out = translate(backend, SUMMARY)
    assert expected_piece in out
    assert gone not in out


def test_chinese_content_is_kept_word_for_word() -> None:
    out = translate("视频已生成。点击导出按钮下载视频。")
    assert out.startswith("视频已生成。")
    out = translate("已添加标题“城市之梦”，打开文字面板可以修改字体。")
    assert out.startswith("已添加标题“城市之梦”")


def test_text_without_gui_speak_is_unchanged() -> None:
    text = 'The title "Urban Dreams" runs from 0 to 3s.\nNext: tell me about the music.'
    assert not has_gui_speak(text)
    assert translate(text) == text


def test_the_same_advice_is_given_once_per_reply() -> None:
    out = translate("Click the Export button. Then click Export button again to get mp4.")
    assert out.count("export tool") == 1


@pytest.mark.parametrize(
    "content",
    [
        'Added the text "Click here to buy" at 10s.',
        "The title 'Open the box' now runs 0-3s.",
        "Added a drag race clip and a clicking sound effect.",
        "The video opens with a wide shot of the city.",
        "添加了文字“点击购买”，在 10 秒处。",
    ],
)
def test_content_that_only_mentions_gui_words_is_kept(content: str) -> None:
    assert translate(content) == content


def test_an_instruction_glued_to_the_end_of_a_summary_takes_no_content_with_it() -> None:
    reply = (
        'Timeline (2 tracks): 1. Video: a (0-6s) 2. Title: "Aurora" (0-1.5s) '
        "Drag the clip on the timeline to adjust its timing."
    )
    out = translate(reply)
    assert out.startswith('Timeline (2 tracks): 1. Video: a (0-6s) 2. Title: "Aurora" (0-1.5s) ')
    assert "describe the edit in a message" in out
    assert "Drag" not in out


def test_a_lead_in_that_belongs_to_the_instruction_goes_with_it() -> None:
    assert translate("To adjust the timing, drag the clip on the timeline.").startswith(
        "To rearrange or move things"
    )
    assert (
        translate("You can click the Export button now.")
        == "To render and download the video, use the export tool."
    )
