"""FaultConfig and FaultState: each fault switches on exactly as documented, and only then."""

import json
import re
from pathlib import Path

import pytest

from engine.server.faults import (
    GUI_PHRASES,
    FaultConfig,
    FaultState,
    error_frame,
    split_partials,
)


def test_no_fault_is_active_by_default() -> None:
    config = FaultConfig()
    assert not config.active
    state = FaultState(config)
    assert all(state.take_error(e) is None for e in ("upload", "run_sse", "render"))
    assert not any(state.silent_turn() for _ in range(50))
    assert state.take_render_failure() is False
    assert state.take_stream_error() is None
    assert state.gui_speak("Done.") == "Done."


def test_an_injected_error_fires_error_times_times_per_endpoint() -> None:
    state = FaultState(FaultConfig(errors={"upload": 4002, "state": 1001}, error_times=2))
    assert [state.take_error("upload") for _ in range(3)] == [4002, 4002, None]
    assert [state.take_error("state") for _ in range(3)] == [1001, 1001, None]
    assert state.take_error("credits") is None


def test_silent_turns_follow_the_seed_and_the_rate() -> None:
    def draws(seed: int) -> list[bool]:
        state = FaultState(FaultConfig(silent_rate=0.3, seed=seed))
        return [state.silent_turn() for _ in range(200)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert 30 <= sum(draws(7)) <= 90
    always = FaultState(FaultConfig(silent_rate=1.0))
    assert all(always.silent_turn() for _ in range(20))


def test_gui_speak_appends_the_phrases_in_turn() -> None:
    state = FaultState(FaultConfig(gui_speak=True))
    said = [state.gui_speak("Added a title.") for _ in range(4)]
    assert said[0] == f"Added a title. {GUI_PHRASES[0]}"
    assert said[1].endswith(GUI_PHRASES[1])
    assert "打开" in said[1]
    assert said[3].endswith(GUI_PHRASES[0])


def test_the_render_fails_only_once() -> None:
    state = FaultState(FaultConfig(render_fail_once=True))
    assert [state.take_render_failure() for _ in range(3)] == [True, False, False]


def test_partials_join_back_to_the_whole_text() -> None:
    text = "Added the title Urban Dreams from 0 to 3 seconds."
    chunks = split_partials(text)
    assert 2 <= len(chunks) <= 3
    assert "".join(chunks) == text
    assert split_partials("Done.") == ["Done."]


def test_the_escaped_error_frame_is_json_and_the_old_one_is_not() -> None:
    message = 'bad "quote"\there'
    good = error_frame(message, {"code": "INTERNAL"})
    assert good.startswith(b"data: ")
    assert good.endswith(b"\n\n")
    assert json.loads(good[6:].decode()) == {"error": message, "error_details": {"code": "INTERNAL"}}
    old = error_frame(message, {"code": "INTERNAL"}, escaped=False)
    assert old.startswith(b'data: {"error":"bad "quote"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(old[6:].decode())


def test_faults_come_from_the_environment_as_json() -> None:
    env = {"VIDEOGEN_FAULTS": '{"silent_rate": 1.0, "errors": {"upload": 4001}, "render_status_shape": "B"}'}
    config = FaultConfig.from_env(env)
    assert config.silent_rate == 1.0
    assert dict(config.errors) == {"upload": 4001}
    assert config.render_status_shape == "B"
    assert FaultConfig.from_env({}) == FaultConfig()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"silent": 1}', "unknown fault setting(s) silent"),
        ('{"errors": {"upload": 9999}}', "unknown code 9999"),
        ('{"errors": {"uploads": 4001}}', "unknown endpoint 'uploads'"),
        ('{"silent_rate": 2}', "silent_rate must be within 0..1"),
        ('{"gui_speak": "yes"}', "'gui_speak' must be true or false"),
    ],
)
def test_a_bad_fault_setting_is_refused_by_name(raw: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        FaultConfig.from_env({"VIDEOGEN_FAULTS": raw})


def test_a_server_config_takes_its_faults_from_the_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.server import ServerConfig

    monkeypatch.setenv("VIDEOGEN_FAULTS", '{"render_fail_once": true}')
    assert ServerConfig(home=Path("/nonexistent")).faults == FaultConfig(render_fail_once=True)
    assert ServerConfig(home=Path("/nonexistent"), faults=FaultConfig()).faults == FaultConfig()
    monkeypatch.delenv("VIDEOGEN_FAULTS")
    assert not ServerConfig(home=Path("/nonexistent")).faults.active
