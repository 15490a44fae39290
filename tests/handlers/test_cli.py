"""`videogen` as an agent uses it: one JSON object on stdout, progress on stderr, documented exit codes."""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from handlers import cli
from handlers._manifest import load_manifest
from handlers._progress import ProgressEvent

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("create_session", "send_message", "upload", "get_state", "export", "credits", "edit")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the command line ---------------------------------------------------------------------------------


def test_every_tool_is_a_command_with_underscores_or_dashes() -> None:
    parser = cli.build_parser()
    for tool in TOOLS:
        for spelling in {tool, tool.replace("_", "-")}:
            assert parser.parse_args([spelling])._tool == tool
    help_text = parser.format_help()
    assert all(f"{tool} ({tool.replace('_', '-')})" in help_text for tool in TOOLS if "_" in tool)


def test_flags_come_from_the_tool_input_schema() -> None:
    parser = cli.build_parser()
    ns = parser.parse_args(
        ["export", "--format", "webm", "--quality", "low", "--output-path", "x.webm", "--overwrite"]
    )
    assert (ns.format, ns.quality, ns.output_path, ns.overwrite) == ("webm", "low", "x.webm", True)
    schema = load_manifest().tool("export").input_schema["properties"]["format"]
    with pytest.raises(cli.UsageError, match="invalid choice"):
        parser.parse_args(["export", "--format", "gif"])
    assert "gif" not in schema["enum"]


def test_every_example_in_the_help_texts_parses() -> None:
    parser = cli.build_parser()
    examples = list(cli._PROGRAM_EXAMPLES)
    for sub in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        examples += [line.strip() for line in (sub.epilog or "").splitlines() if "videogen " in line]
    assert len(examples) > 20
    for example in examples:
        words = shlex.split(example)
        words = [w for w in words if "=" not in w or w.startswith("-")]  # drop VAR=value prefixes
        start = words.index("videogen") + 1
        parser.parse_args(words[start:])


def test_help_shows_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "videogen send_message" in out
    assert "exit codes: 0 ok" in out
    assert "130 interrupted" in out
    assert cli.main(["upload", "--help"]) == 0
    out = capsys.readouterr().out
    assert "videogen upload photo1.jpg photo2.jpg music.mp3" in out
    assert "--urls" in out


# -- one JSON object, exit codes --------------------------------------------------------------------------


def test_credits_prints_one_json_object_from_the_local_engine(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, _ = run(capsys, "credits")
    assert code == 0
    assert result["ok"] is True
    assert result["backend"] == "local"
    assert result["available"] > 0


def test_a_session_is_remembered_between_commands(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, created, _ = run(capsys, "create_session", "--task-name", "launch reel")
    assert code == 0
    assert created["session_id"]
    code, state, _ = run(capsys, "get-state")
    assert code == 0
    assert state["session_id"] == created["session_id"]
    assert state["ready_for_export"] is False
    assert "draft" not in state or state["draft"] is None  # bounded: no whole draft unless asked


def test_an_invalid_argument_exits_2_with_the_problem_in_json(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, err = run(capsys, "export", "--format", "gif")
    assert code == 2
    assert result["ok"] is False
    assert result["error"]["code"] == "invalid_input"
    assert "gif" in result["error"]["message"]
    assert "--help" in result["error"]["recovery"]
    assert "usage: videogen export" in err


def test_json_input_is_validated_against_the_schema(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result, _ = run(capsys, "send_message", "--json", '{"message": "hi", "colour": "red"}')
    assert code == 2
    assert any("colour" in p for p in result["error"]["problems"])
    code, result, _ = run(capsys, "send_message", "--json", "[1, 2]")
    assert code == 2
    assert "JSON object" in result["error"]["message"]


def test_flags_override_json_and_positionals_add_to_lists() -> None:
    parser = cli.build_parser()
    spec = load_manifest().tool("upload")
    ns = parser.parse_args(
        ["upload", "a.jpg", "--files", "b.png", "--json", '{"urls": ["https://x.test/c.mp4"]}']
    )
    assert cli._tool_args(ns, spec, parser) == {"files": ["a.jpg", "b.png"], "urls": ["https://x.test/c.mp4"]}
    spec = load_manifest().tool("send_message")
    ns = parser.parse_args(["send_message", "--json", '{"message": "old"}', "--message", "new"])
    assert cli._tool_args(ns, spec, parser) == {"message": "new"}


def test_an_unreachable_backend_exits_3(
    isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEMO_API_URL", f"http://127.0.0.1:{closed_port()}")
    code, result, _ = run(capsys, "credits")
    assert code == 3
    assert result["error"]["code"] == "network_error"
    assert result["error"]["recovery"]


def test_a_failed_tool_exits_1_with_error_and_recovery(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "create_session")
    code, result, _ = run(capsys, "export", "--output-path", "nothing.mp4")
    assert code == 1
    assert result["error"]["code"] == "nothing_to_export"
    assert result["error"]["recovery"]
    assert not (isolated / "nothing.mp4").exists()


def test_progress_goes_to_stderr_never_stdout(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result, err = run(capsys, "send_message", "make a 5-second title card that says Hello")
    assert code == 0, result
    assert "videogen:" in err  # progress lines
    assert result["track_summary"].startswith("Timeline (")


def test_stderr_progress_throttles_heartbeats_and_renders_in_steps() -> None:
    now = [0.0]
    stream = io.StringIO()
    show = cli.StderrProgress(stream, heartbeat_every_s=30, clock=lambda: now[0])
    for t in (0, 10, 20, 31):
        now[0] = t
        show(ProgressEvent("heartbeat", "waiting for the backend"))
    for pct in (1.0, 5.0, 12.0, 18.0, 25.0):
        show(ProgressEvent("render", "Rendering", pct))
    show(ProgressEvent("still_working", "Still working…"))
    lines = stream.getvalue().splitlines()
    assert lines.count("videogen: … waiting for the backend") == 2
    assert [x for x in lines if "Rendering" in x] == [
        "videogen: Rendering 1%",
        "videogen: Rendering 12%",
        "videogen: Rendering 25%",
    ]
    assert lines[-1] == "videogen: ⏳ Still working…"


# -- tools, the launcher, Ctrl-C ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp"])
def test_tools_prints_the_seven_definitions_with_self_contained_schemas(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tools", "--format", fmt]) == 0
    printed = json.loads(capsys.readouterr().out)
    if fmt == "openai":
        names = [t["function"]["name"] for t in printed]
        inputs, outputs = [t["function"]["parameters"] for t in printed], list[Any]()
    elif fmt == "anthropic":
        names, inputs, outputs = [t["name"] for t in printed], [t["input_schema"] for t in printed], []
    else:
        names = [t["name"] for t in printed["tools"]]
        inputs = [t["inputSchema"] for t in printed["tools"]]
        outputs = [t["outputSchema"] for t in printed["tools"]]
    assert sorted(names) == sorted(TOOLS)
    for schema in [*inputs, *outputs]:
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert "../" not in json.dumps(schema)
        assert "$id" not in schema
    for schema in inputs:  # Anthropic rejects every tool when one has a root anyOf/oneOf/allOf
        assert not {"anyOf", "oneOf", "allOf"} & set(schema)
    upload = inputs[names.index("upload")]
    assert upload["description"].endswith("Send at least one of: files or urls.")


def test_the_launcher_runs_under_python3_and_as_an_executable(isolated: Path) -> None:
    # PYTHON: the suite's interpreter, which runs this folder's code already (an editable install)
    env = {**os.environ, "PYTHON": sys.executable, "XDG_CACHE_HOME": str(isolated / "cache")}
    for argv in (["python3", str(ROOT / "scripts/videogen")], [str(ROOT / "scripts/videogen")]):
        done = subprocess.run(
            [*argv, "credits", "-q"], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["ok"] is True
    assert not (isolated / "cache").exists()  # nothing to install for a developer's own checkout


def test_the_launcher_refuses_an_old_python_with_a_message(isolated: Path) -> None:
    env = {**os.environ, "PYTHON": "/bin/false", "XDG_CACHE_HOME": str(isolated / "cache")}
    done = subprocess.run(
        ["python3", str(ROOT / "scripts/videogen"), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "PYTHON=/bin/false is not Python 3.11 or newer; point PYTHON at one that is." in done.stderr
    assert not (isolated / "cache").exists()


def test_ctrl_c_during_a_turn_exits_130_and_says_not_to_resend(isolated: Path) -> None:
    env = {**os.environ, "VIDEOGEN_FAULTS": json.dumps({"keepalive_only_s": 60})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "send_message", "make a 5-second title card that says Hi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=isolated,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the first progress line: the message is on its way
    assert "videogen:" in line
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130
    result = json.loads(out)
    assert result["error"]["code"] == "interrupted"
    assert "do not send the message again" in result["error"]["recovery"]


def test_serve_runs_the_engine_over_http_for_any_client(
    isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pexpect

    port = closed_port()
    server = pexpect.spawn(
        sys.executable,
        ["-m", "handlers.cli", "serve", "--port", str(port)],
        cwd=str(isolated),
        env=dict(os.environ),
        encoding="utf-8",
        timeout=30,
    )
    try:
        server.expect_exact(f"engine.server ready on http://127.0.0.1:{port}")
        monkeypatch.setenv("NEMO_API_URL", f"http://127.0.0.1:{port}")
        code, result, _ = run(capsys, "credits")
        assert code == 0
        assert result["backend"] == f"http://127.0.0.1:{port}"
        assert result["available"] > 0
        server.sendintr()
        server.expect_exact("the local engine server stopped")
        server.expect(pexpect.EOF)
    finally:
        server.close(force=True)
    assert server.exitstatus == 0


def test_json_can_come_from_stdin(
    isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"task_name": "from stdin", "language": "x"}'))
    code, result, _ = run(capsys, "create_session", "--json", "-")
    assert code == 2  # the one-letter language came from stdin and is too short
    assert [p.split(":")[0] for p in result["error"]["problems"]] == ["language"]


def test_serve_on_a_taken_port_says_so_and_exits_1(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "choose another --port" in err
