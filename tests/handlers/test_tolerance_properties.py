"""The client is tolerant of every shape: its pure cores never raise on odd input (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers._draftview import describe_changes, duration_ms, is_ready, track_summary
from handlers._envelope import error_from_body
from handlers._gui import translate
from handlers._sse import TurnLog, parse_frame

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["id", "st", "d", "src", "text", "vol", "m", "tt", "role", "sg", "t", "name", "kind"])
draftish = st.recursive(
    st.none() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(event=st.text(max_size=12), data=st.text(max_size=200))
def test_any_frame_text_becomes_events_without_raising(event: str, data: str) -> None:
    log = TurnLog()
    for parsed in parse_frame(event, data):
        log.feed(parsed)
    assert isinstance(log.texts, list)


@settings(max_examples=150, deadline=None)
@given(obj=json_values)
def test_any_json_frame_becomes_events_without_raising(obj: Any) -> None:
    log = TurnLog()
    for parsed in parse_frame("message", json.dumps(obj)):
        log.feed(parsed)
    assert isinstance(log.real_errors, list)


@settings(max_examples=150, deadline=None)
@given(
    before=st.dictionaries(st.sampled_from(["m", "t"]), draftish),
    after=st.dictionaries(st.sampled_from(["m", "t"]), draftish),
)
def test_any_draft_shape_gets_a_summary_and_a_diff(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert track_summary(after).startswith("Timeline (")
    assert isinstance(describe_changes(before, after), list)
    assert isinstance(duration_ms(after), int)
    assert isinstance(is_ready(after), bool)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_any_reply_text_is_translated_without_raising(text: str) -> None:
    assert isinstance(translate(text, "Timeline (0 tracks): empty"), str)


@settings(max_examples=100, deadline=None)
@given(
    status=st.integers(100, 599),
    body=st.binary(max_size=80) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_any_response_body_is_read_or_mapped_to_an_error(status: int, body: bytes) -> None:
    error = error_from_body(status, body)
    if status >= 400:
        assert error is not None
        assert error.to_error()["recovery"]


def test_a_draft_with_an_infinite_or_missing_number_still_gets_a_summary() -> None:
    """Hypothesis found {'t': [{'id': None, 'tt': inf}]}: int(inf) raised OverflowError."""
    for value in (float("inf"), float("-inf"), float("nan")):
        assert track_summary(
            {"t": [{"id": None, "tt": value, "sg": [{"st": value, "d": value}]}]}
        ).startswith("Timeline (")


def test_an_upload_record_with_an_infinite_or_nan_number_leaves_it_out() -> None:
    """The twin of the track summary's int(inf): a size "inf" or a width NaN raised OverflowError."""
    from handlers._state import upload_record

    record = upload_record(
        {"id": "u1", "size": "inf", "width": float("nan"), "height": 90, "duration": "-inf"}
    )
    assert (record["size"], record["width"], record["height"], record["duration"]) == (None, None, 90, None)
