"""Every command the README shows is run here, as a newcomer would type it, and its output checked.

The two set-up commands are the exception in kind, not in rigour: `scripts/demo` is run by
tests/test_demo.py, and `scripts/test` is what `.ci/run` runs (checked below).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from handlers._samples import make_samples

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@dataclass
class Shown:
    command: str
    output: list[str] = field(default_factory=list)


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)


def console_commands() -> list[Shown]:
    shown: list[Shown] = []
    for block in blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                shown.append(Shown(line[2:]))
            elif line.strip() and shown:
                shown[-1].output.append(line)
    return shown


def localise(command: str) -> str:
    """The README's paths, made to point at this checkout and its environment."""
    command = command.split("    #", 1)[0].strip()
    command = re.sub(r"(^|\s)scripts/", rf"\g<1>{ROOT}/scripts/", command)
    command = command.replace(".venv/bin/python ", f"{sys.executable} ")
    command = re.sub(r"(^|\s)bench/", rf"\g<1>{ROOT}/bench/", command)
    return command.replace("git clone . ", f"git clone -q {ROOT} ")


def contains_in_order(text: str, expected: str) -> bool:
    at = 0
    for piece in (p.strip() for p in expected.split("…")):
        if not piece:
            continue
        found = text.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("newcomer")
    make_samples(home / "out" / "demo" / "media")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_", "SKILL_SOURCE"))}
    env.update(
        HOME=str(home),
        VIDEOGEN_HOME=str(home / "data"),
        VIDEOGEN_WORKSPACE="off",  # no background workspace server left behind
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "share"),
        VIDEOGEN_VENV=str(Path(sys.prefix)),  # the suite's environment: the install is already done
    )
    return home, env


def test_the_readme_starts_with_the_two_set_up_commands_and_ci_runs_the_second() -> None:
    first = blocks("bash")[0].splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["scripts/demo", "scripts/test"]
    assert README.index("```bash") < README.index("An agent skill")
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_shows_a_conversation_of_at_least_four_turns() -> None:
    tools = [s.command.split()[1] for s in console_commands() if s.command.startswith("scripts/videogen")]
    assert tools[:5] == ["create_session", "upload", "send_message", "send_message", "export"]


@pytest.mark.slow
def test_every_console_command_in_the_readme_runs_and_says_what_is_shown(
    sandbox: tuple[Path, dict[str, str]],
) -> None:
    home, env = sandbox
    shown = console_commands()
    assert len(shown) >= 9
    for item in shown:
        done = subprocess.run(
            ["bash", "-c", localise(item.command)],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        unreachable = "127.0.0.1:9" in item.command  # the README's example of a cloud out of reach
        assert done.returncode == (3 if unreachable else 0), (item.command, done.stdout, done.stderr[-2000:])
        if item.command.startswith("scripts/videogen"):
            result = json.loads(done.stdout)
            assert result["ok"] is not unreachable
            for expected in item.output:
                assert contains_in_order(result["text"], expected), (item.command, result["text"], expected)
    for host in (".openclaw", ".cursor", ".claude"):
        clone = home / host / "skills" / "video-generator-ai"
        assert (clone / "SKILL.md").is_file()
        assert (clone / "scripts" / "videogen").is_file()
    video = home / "reel.mp4"
    assert video.read_bytes()[4:8] == b"ftyp"


@pytest.mark.anyio
async def test_the_mcp_config_in_the_readme_starts_a_server_with_the_seven_tools(tmp_path: Path) -> None:
    config = json.loads(blocks("json")[0].replace("/path/to/video-generator-ai", str(ROOT)))
    server = config["mcpServers"]["video-generator-ai"]
    assert server["command"] == "python3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_"))}
    env.update(
        VIDEOGEN_HOME=str(tmp_path / "home"),
        VIDEOGEN_WORKSPACE="off",  # no background workspace server left behind
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHON=sys.executable,  # runs this folder's code already (editable): the launcher installs nothing
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    params = StdioServerParameters(command=server["command"], args=server["args"], env=env, cwd=str(tmp_path))
    with anyio.fail_after(120):
        async with Client(params) as client:
            tools = await client.list_tools()
    assert sorted(t.name for t in tools.tools) == [
        "create_session",
        "credits",
        "edit",
        "export",
        "get_state",
        "send_message",
        "upload",
    ]
