"""SKILL.md is what an agent reads: valid frontmatter, every command runnable, nothing undeclared."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers import cli

ROOT = Path(__file__).resolve().parents[2]
SKILL_MD = ROOT / "SKILL.md"
TEXT = SKILL_MD.read_text(encoding="utf-8")
_, FRONT_TEXT, BODY = TEXT.split("---\n", 2)
FRONT: dict[str, Any] = yaml.safe_load(FRONT_TEXT)

# Names read as environment variables: os.environ / os.getenv / an `env` mapping, with a literal name.
_ENV_READ = re.compile(r"""(?:environ|getenv|\benv)(?:\.get)?\s*[\(\[]\s*["']([A-Z][A-Z0-9_]+)["']""")
_LAUNCHER = ROOT / "scripts/_skillenv.py"  # what scripts/videogen runs before the skill's code


def env_vars_read() -> set[str]:
    paths = [*(ROOT / "handlers").rglob("*.py"), *(ROOT / "engine").rglob("*.py"), _LAUNCHER]
    return {name for path in paths for name in _ENV_READ.findall(path.read_text(encoding="utf-8"))}


def commands() -> list[str]:
    """Every `scripts/videogen ...` command line shown in the body (code blocks and inline code)."""
    lines = [
        line for block in re.findall(r"```bash\n(.*?)```", BODY, re.DOTALL) for line in block.splitlines()
    ]
    inline = re.findall(r"`([^`\n]*scripts/videogen[^`\n]*)`", BODY)
    # (the MCP host config's JSON args list is not a command line)
    return [c.strip() for c in [*lines, *inline] if "scripts/videogen" in c and not c.startswith("[")]


def test_frontmatter_keys_are_only_those_both_agentskills_and_openclaw_allow() -> None:
    assert TEXT.startswith("---\n")
    # AgentSkills: name description license compatibility allowed-tools metadata; OpenClaw's
    # quick_validate.py: name description homepage license allowed-tools metadata and its own keys.
    assert set(FRONT) <= {"name", "description", "license", "allowed-tools", "metadata"}
    assert FRONT["name"] == "video-generator-ai"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", FRONT["name"])


def test_description_says_what_and_when_in_a_few_lines() -> None:
    description = FRONT["description"]
    assert 0 < len(description) <= 300  # hosts list it; the body carries the detail (limit 1024)
    assert "<" not in description
    assert ">" not in description
    assert "Use when" in description


def test_the_version_is_written_once_in_the_frontmatter_and_pyproject_reads_it() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert FRONT["metadata"]["version"] == "0.1.0"
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]  # setup.py reads SKILL.md
    assert "version" not in yaml.safe_load((ROOT / "skill.yaml").read_text(encoding="utf-8"))


def test_openclaw_metadata_declares_python_the_systems_and_optional_env_vars() -> None:
    claw = FRONT["metadata"]["openclaw"]
    assert claw["emoji"]
    assert claw["homepage"].startswith("https://")
    assert claw["os"] == ["linux", "darwin"]
    # the launcher is Python only (no bash); no requires.env: every variable is optional
    assert claw["requires"] == {"bins": ["python3"]}
    assert claw["primaryEnv"] == "NEMO_TOKEN"
    # what OpenClaw offers when python3 is missing: a kind its loader accepts, providing that binary
    assert [(i["kind"], i["bins"]) for i in claw["install"]] == [("brew", ["python3"])]
    for var in claw["envVars"]:
        assert set(var) <= {"name", "required", "description"}
        assert var["required"] is False
        assert var["description"]


def test_every_environment_variable_the_code_reads_is_declared_and_none_is_stale() -> None:
    declared = {v["name"] for v in FRONT["metadata"]["openclaw"]["envVars"]}
    read = env_vars_read()
    assert {
        "NEMO_TOKEN",
        "NEMO_API_URL",
        "VIDEOGEN_HOME",
        "XDG_CONFIG_HOME",
        "PYTHON",
    } <= read  # the grep works
    assert read - declared == set(), "read by the code but not declared in SKILL.md"
    assert declared - read == set(), "declared in SKILL.md but read nowhere"


def test_body_is_under_500_lines_and_explains_base_dir() -> None:
    assert len(TEXT.splitlines()) < 500
    assert "`{baseDir}` below is the folder that holds this SKILL.md" in BODY


def test_every_command_shown_parses_with_the_cli() -> None:
    parser = cli.build_parser()
    shown = commands()
    used = set()
    assert len(shown) >= 20
    for command in shown:
        words = shlex.split(command)
        assert words[:2] == ["python3", "{baseDir}/scripts/videogen"], command
        if len(words) == 2:
            continue
        try:
            ns = parser.parse_args(words[2:])
        except cli.UsageError as exc:  # pragma: no cover - the message says which command is wrong
            pytest.fail(f"{command}: {exc}")
        used.add(getattr(ns, "_tool", None) or words[2])
    assert {"create_session", "upload", "send_message", "get_state", "export", "credits"} <= used
    assert {"make", "chat", "tools", "mcp", "serve", "doctor"} <= used


def test_routing_table_keeps_export_credits_status_and_upload_out_of_messages() -> None:
    section = BODY.split("## Routing requests", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # past the header
    routes = {row.split("|")[2].strip(): row.split("|")[3].strip() for row in rows}
    assert routes == {
        "`export`": "no",
        "`credits`": "no",
        "`get_state`": "no",
        "`upload`": "no",
        "`send_message`": "yes",
    }


def test_the_interaction_patterns_are_stated() -> None:
    for rule in (
        "Confirm before a long generation",
        "Never send the same message twice",
        "Acknowledge uploads",
        "One focused question",
        "Surface results at once",
    ):
        assert f"**{rule}**" in BODY


def test_error_table_covers_every_protocol_code_and_every_error_kind() -> None:
    table = BODY.split("## Errors and recovery", 1)[1].split("\n## ", 1)[0]
    for code in (
        "| 0 |",
        "| 1001 |",
        "| 1002 |",
        "| 2001 |",
        "| 4001 |",
        "| 4002 |",
        "HTTP 400",
        "HTTP 402",
        "HTTP 429",
    ):
        assert code in table
    schema = yaml.safe_load((ROOT / "schemas/error.schema.json").read_text(encoding="utf-8"))
    kinds = re.findall(r"[a-z_]+", schema["properties"]["code"]["description"].split(":", 1)[1])
    assert len(kinds) > 15
    for kind in kinds:
        assert f"`{kind}`" in table, kind


def test_every_endpoint_the_client_calls_is_in_the_endpoint_table() -> None:
    table = BODY.split("## Network endpoints", 1)[1].split("\n## ", 1)[0]
    paths: set[str] = set()
    for src in (ROOT / "handlers").rglob("*.py"):
        paths |= set(re.findall(r"""f?["'](/(?:api|run_sse)[^"' ]*)["']""", src.read_text(encoding="utf-8")))
    assert len(paths) >= 8
    for path in paths:
        pattern = re.escape(path).replace(r"\{APP_NAME\}", "nemo_agent")
        pattern = re.sub(r"\\\{[^}]*\\\}", "<[a-z_]+>", pattern)
        assert re.search(r"\$API" + pattern + r"[` ]", table), path


def test_every_file_the_client_keeps_is_in_the_files_table() -> None:
    table = BODY.split("## Files", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        names |= set(re.findall(r"""config_dir / ["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    assert {"client_id", "token.json", "sessions.json"} <= names
    for name in names:
        assert f"nemovideo/{name}`" in table, name
    for also in ("$XDG_CACHE_HOME/video-generator-ai/envs/", "$VIDEOGEN_HOME", "./videogen-output/", "0600"):
        assert also in table


def test_the_tool_walkthrough_runs_on_the_local_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commands of "The tools", in order, with real media under the names they use (the URL import
    and the renders are left out: no network, and export is run by the chat and make tests)."""
    import json
    import subprocess

    import imageio_ffmpeg

    from handlers._samples import make_music, make_still

    for var in ("NEMO_TOKEN", "NEMO_API_URL", "NEMO_BACKEND", "VIDEOGEN_FAULTS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDEOGEN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    for n in (1, 2):
        make_still(
            tmp_path / f"photo{n}.jpg", f"Photo {n}", (20, 30, 40 * n), (200, 150, 90), size=(640, 480)
        )
    make_music(tmp_path / "music.wav", 12.0)
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", "music.wav", "music.mp3"], check=True
    )

    section = BODY.split("## The tools", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    ran = []
    for command in [line for block in blocks for line in block.splitlines()]:
        if "--urls" in command or " export" in command:
            continue
        code = cli.main([*shlex.split(command)[2:], "-q"])
        result = json.loads(capsys.readouterr().out)
        assert code == 0, (command, result)
        ran.append(shlex.split(command)[2])
    assert ran.count("send_message") == 4
    assert {"create_session", "upload", "get_state", "credits"} <= set(ran)
    assert result["available"] > 0  # the last one: credits
