"""The skill installs the way real hosts install it: validators accept SKILL.md, a wheel is a whole skill,
and running a tool from a copy of the folder writes nothing into that folder."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from handlers._samples import make_still
from video_generator_ai import SKILL_FILES, skill_version

ROOT = Path(__file__).resolve().parent.parent
NAME = "video-generator-ai"
FRONT: dict[str, Any] = yaml.safe_load((ROOT / "SKILL.md").read_text(encoding="utf-8").split("---\n")[1])


def skillenv() -> ModuleType:
    """scripts/_skillenv.py (the launcher's half that makes the environment), loaded from its file."""
    spec = importlib.util.spec_from_file_location("_skillenv", ROOT / "scripts" / "_skillenv.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skill_folder_files() -> list[str]:
    """The files a copy of the skill has: what git tracks or would track (no caches, no .venv)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_skill(into: Path) -> Path:
    folder = into / NAME
    for name in skill_folder_files():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, folder / name)
    return folder


def without_skill_env() -> dict[str, str]:
    """The environment without the skill's settings, except that tools start no background workspace
    server (it would outlive the test's temporary data folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "VIDEOGEN_", "SKILL_SOURCE"))}
    env["VIDEOGEN_WORKSPACE"] = "off"
    return env


# --- what validators accept ---------------------------------------------------------------------------


def test_skills_ref_validate_accepts_a_copy_of_the_folder_named_after_the_skill(tmp_path: Path) -> None:
    folder = copy_skill(tmp_path)
    agentskills = Path(sys.executable).parent / "agentskills"  # PyPI skills-ref, a dev dependency
    done = subprocess.run(
        [str(agentskills), "validate", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"Valid skill: {folder}"
    assert done.stderr == ""


def test_skills_ref_refuses_the_same_skill_in_a_folder_with_another_name(tmp_path: Path) -> None:
    folder = copy_skill(tmp_path)
    renamed = folder.rename(tmp_path / "videogen")
    agentskills = Path(sys.executable).parent / "agentskills"
    done = subprocess.run(
        [str(agentskills), "validate", str(renamed)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "must match skill name" in done.stdout + done.stderr


# OpenClaw 2026.9.6, skills/skill-creator/scripts/quick_validate.py (what its package_skill.py runs).
OPENCLAW_ALLOWED_KEYS = {
    "name",
    "description",
    "homepage",
    "license",
    "allowed-tools",
    "user-invocable",
    "disable-model-invocation",
    "command-dispatch",
    "command-tool",
    "command-arg-mode",
    "metadata",
}
# OpenClaw's loader (src/skills/loading/frontmatter.ts): install kinds it keeps; others are dropped.
OPENCLAW_INSTALL_KINDS = {"brew", "node", "go", "uv", "download"}


def openclaw_quick_validate(front: dict[str, Any]) -> list[str]:
    """quick_validate.py's rules, each a problem string (empty: "Skill is valid!")."""
    problems = [f"unexpected key {key!r}" for key in sorted(set(front) - OPENCLAW_ALLOWED_KEYS)]
    name = front.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9-]+", name.strip()):
        problems.append(f"name {name!r} is not hyphen-case")
    elif name.startswith("-") or name.endswith("-") or "--" in name or len(name) > 64:
        problems.append(f"name {name!r}: edge or double hyphen, or over 64 characters")
    description = front.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append("description missing")
    elif "<" in description or ">" in description or len(description) > 1024:
        problems.append("description has angle brackets or is over 1024 characters")
    return problems


def test_openclaw_quick_validate_rules_accept_the_frontmatter() -> None:
    assert openclaw_quick_validate(FRONT) == []


def test_the_quick_validate_rules_catch_what_openclaw_refuses() -> None:
    assert openclaw_quick_validate({**FRONT, "compatibility": "Python 3.11+"}) == [
        "unexpected key 'compatibility'"
    ]
    assert openclaw_quick_validate({**FRONT, "name": "Video_Generator"}) == [
        "name 'Video_Generator' is not hyphen-case"
    ]
    assert openclaw_quick_validate({**FRONT, "description": "x" * 1025}) == [
        "description has angle brackets or is over 1024 characters"
    ]


def test_name_and_description_read_the_same_without_a_yaml_library() -> None:
    """quick_validate.py falls back to reading ``key: value`` lines when PyYAML is missing: a folded
    description (``description: >-``) then reads as ">-" and is refused for its angle bracket."""
    head = (ROOT / "SKILL.md").read_text(encoding="utf-8").split("---\n")[1]
    lines = dict(line.split(": ", 1) for line in head.splitlines() if re.match(r"^[a-z-]+: \S", line))
    for key in ("name", "description"):
        assert lines[key].strip().strip('"') == FRONT[key], key
    assert openclaw_quick_validate({"name": lines["name"], "description": lines["description"]}) == []


def published_files() -> set[str]:
    """The folder's files less what .clawhubignore leaves out (its forms: ``dir/``, ``dir/*``, a path,
    ``!path`` to keep one back; dot-files are never published)."""
    rules = [
        line.strip()
        for line in (ROOT / ".clawhubignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    out: set[str] = set()
    for name in skill_folder_files():
        if any(part.startswith(".") for part in name.split("/")):
            continue
        kept = True
        for rule in rules:
            keep_back = rule.startswith("!")
            pattern = rule.lstrip("!")
            if pattern.endswith("/"):
                pattern += "**"
            if fnmatch.fnmatch(name, pattern.replace("**", "*")):
                kept = keep_back
        if kept:
            out.add(name)
    return out


def test_clawhub_publishes_every_file_skill_md_points_the_agent_to() -> None:
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:docs|scripts|schemas)/[\w./-]*\w)", text)) | {"skill.yaml", "SKILL.md"}
    published = published_files()
    assert named - published == set()
    assert "docs/protocol.md" in named
    assert not any(name.startswith(("tests/", "bench/")) for name in published)


def test_each_environment_variable_is_declared_once() -> None:
    names = [entry["name"] for entry in FRONT["metadata"]["openclaw"]["envVars"]]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_openclaw_reads_each_metadata_field_where_its_loader_looks() -> None:
    claw = FRONT["metadata"]["openclaw"]
    assert {"emoji", "homepage", "os", "requires", "primaryEnv", "install"} <= set(claw)
    assert set(claw["requires"]) <= {"bins", "anyBins", "env", "config"}
    assert set(claw["os"]) <= {"linux", "darwin", "win32"}
    for spec in claw["install"]:
        assert spec["kind"] in OPENCLAW_INSTALL_KINDS
        assert spec["bins"]
        assert set(spec["bins"]) <= set(claw["requires"]["bins"])


def test_the_frontmatter_has_no_yaml_flow_collections_which_strict_parsers_refuse() -> None:
    front_text = (ROOT / "SKILL.md").read_text(encoding="utf-8").split("---\n")[1]
    assert not re.search(r":\s*[\[{]", front_text)


# --- the environment outside the folder --------------------------------------------------------------


def test_two_copies_of_the_skill_get_two_environments_under_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = skillenv()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first, second = env.env_dir(str(tmp_path / "a" / NAME)), env.env_dir(str(tmp_path / "b" / NAME))
    assert first != second
    for path in (first, second):
        assert Path(path).parent == tmp_path / "cache" / NAME / "envs"


def test_the_code_hash_changes_with_the_code_and_ignores_caches(tmp_path: Path) -> None:
    env = skillenv()
    folder = copy_skill(tmp_path)
    before = env.code_hash(str(folder))
    (folder / "handlers" / "__pycache__").mkdir(exist_ok=True)
    (folder / "handlers" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"cache")
    assert env.code_hash(str(folder)) == before
    (folder / "engine" / "summary.py").write_text("# changed\n", encoding="utf-8")
    assert env.code_hash(str(folder)) != before


def test_an_unfinished_first_install_is_started_again_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that gives up during the first install leaves a venv without a stamp: the next run
    removes it (and a killed run's build folder) instead of failing on it forever."""
    folder = copy_skill(tmp_path)
    env = without_skill_env()
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "none")
    )
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    venv = Path(skillenv().env_dir(str(folder)))
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("half made", encoding="utf-8")
    stale = Path(f"{venv}.build-killed")
    stale.mkdir()
    done = launch(folder, env, "credits")
    assert f"removing the unfinished environment in {venv}" in done.stderr
    assert f"creating the skill's environment in {venv}" in done.stderr
    assert not stale.exists()
    # no index here: the install itself fails, and says what to check
    assert done.returncode == 1
    assert "Check that PyPI is reachable" in done.stderr
    assert not (venv / "videogen-installed").exists()


def launch(
    folder: Path, env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The copy's launcher, ``scripts/videogen ARGS``, run to its end (at most 240 s)."""
    return subprocess.run(
        [sys.executable, str(folder / "scripts" / "videogen"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def seeded_env(env: ModuleType, folder: Path) -> Path:
    """The copy's environment as an older copy of the code left it (a stamp of other code), seeing this
    suite's packages through a .pth line: the launcher reinstalls the copy's code with no download."""
    venv = Path(env.env_dir(str(folder)))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (purelib / "suite.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    (venv / "videogen-installed").write_text("0" * 64 + "\n", encoding="utf-8")
    return venv


@pytest.mark.slow
def test_a_tool_run_from_a_copy_of_the_folder_leaves_the_folder_unchanged_and_runs_its_own_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_skill(tmp_path)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *command], cwd=folder, check=True)
    env = without_skill_env()
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        VIDEOGEN_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PIP_NO_BUILD_ISOLATION="0",  # (pip reads "0" as --no-build-isolation) the suite's setuptools
        PIP_NO_INDEX="1",
    )
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    venv = seeded_env(skillenv(), folder)

    def videogen(*args: str) -> dict[str, Any]:
        done = launch(folder, env, *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    assert videogen("credits")["ok"] is True
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-P", "-c", "import handlers; print(handlers.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert installed.startswith(str(venv))  # a real install in the cache, not the folder (not editable)
    status = ["git", "status", "--porcelain", "--ignored"]
    assert subprocess.run(status, cwd=folder, capture_output=True, text=True, check=True).stdout == ""

    # The copy's own code changes: the next run reinstalls it and runs the new code.
    manifest = folder / "skill.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("Check the credit balance", "Show the credit balance"),
        encoding="utf-8",
    )
    tools = videogen("tools", "--format", "mcp")["tools"]
    assert next(t for t in tools if t["name"] == "credits")["description"].startswith("Show the credit")
    changed = subprocess.run(status, cwd=folder, capture_output=True, text=True, check=True).stdout
    assert changed == " M skill.yaml\n"


def wait_until(what: str, ready: Any, limit_s: float = 240.0) -> None:
    """Poll ``ready()`` every 0.1 s until it is true, for at most ``limit_s`` seconds."""
    deadline = time.monotonic() + limit_s
    while not ready():
        assert time.monotonic() < deadline, f"{what}: not within {limit_s:g} s"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_host_that_kills_the_launcher_during_the_install_does_not_lose_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MCP host gives up on a slow first start and kills the launcher: the install, a process of its
    own, finishes anyway, and the next start uses it instead of removing it and starting again."""
    folder = copy_skill(tmp_path)
    env = without_skill_env()
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        VIDEOGEN_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PIP_NO_BUILD_ISOLATION="0",
        PIP_NO_INDEX="1",
    )
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    skill = skillenv()
    venv = seeded_env(skill, folder)
    stamp = venv / "videogen-installed"
    log = tmp_path / "first-start.txt"
    with log.open("w") as stderr:
        launcher = subprocess.Popen(
            [sys.executable, str(folder / "scripts" / "videogen"), "credits"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_until("the install starts", lambda: "reinstalling it into" in log.read_text(), 60)
            launcher.kill()  # as a host does when its connection timeout runs out
            launcher.wait(timeout=30)
        finally:
            launcher.kill()
    wait_until(
        "the install finishes without the launcher",
        lambda: skill._read(str(stamp)) == skill.code_hash(str(folder)),
    )
    again = launch(folder, env, "credits")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["ok"] is True
    assert "install" not in again.stderr, again.stderr
    assert "removing" not in again.stderr, again.stderr


# --- the wheel and the sdist -------------------------------------------------------------------------


def build(kind: str, tmp_path: Path) -> Path:
    """Build a wheel or sdist from a staged copy (the build writes build/ and egg-info where it runs)."""
    stage = Path(skillenv()._stage(str(ROOT), str(tmp_path / "stage")))
    out = tmp_path / "dist"
    out.mkdir()
    code = f"from setuptools import build_meta as b; print(b.build_{kind}({str(out)!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=stage, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr
    return out / done.stdout.strip().splitlines()[-1]


def test_the_sdist_carries_the_skill_files_and_no_tests_or_benchmarks(tmp_path: Path) -> None:
    import tarfile

    sdist = build("sdist", tmp_path)
    assert sdist.name == f"video_generator_ai-{skill_version()}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"SKILL.md", "skill.yaml", "setup.py", "schemas/tools/export.output.json"} <= names
    assert {"handlers/cli.py", "engine/render/_render.py", "video_generator_ai/__init__.py"} <= names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


@pytest.mark.slow
def test_a_wheel_installed_into_a_fresh_venv_runs_tools_mcp_and_make(tmp_path: Path) -> None:
    wheel = build("wheel", tmp_path)
    assert wheel.name == f"video_generator_ai-{skill_version()}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in SKILL_FILES:
        assert any(
            n == f"video_generator_ai/{name}" or n.startswith(f"video_generator_ai/{name}/") for n in names
        )
    assert not any(name.startswith(("tests/", "bench/")) for name in names)

    # A fresh venv that sees this suite's dependencies (a .pth line) but not its editable checkout.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        timeout=240,
    )
    (Path(purelib) / "suite.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")

    env = without_skill_env()
    env.update(VIDEOGEN_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    work = tmp_path / "work"
    work.mkdir()

    def videogen(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [str(venv / "bin" / "videogen"), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    tools = videogen("tools", "--format", "mcp")["tools"]
    assert [t["name"] for t in tools][:6] == [
        "create_session",
        "send_message",
        "upload",
        "get_state",
        "export",
        "credits",
    ]
    where = subprocess.run(
        [str(python), "-c", "import video_generator_ai as v; print(v.SKILL_ROOT)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=work,
        env=env,
    ).stdout.strip()
    assert where == str(Path(purelib) / "video_generator_ai")  # the wheel's own copy of the skill files

    still = make_still(work / "shot.png", "Wheel", (20, 40, 90), (220, 180, 90), size=(320, 180))
    made = videogen(
        "make", "-q", "a 2-second video from this image", str(still), "-o", "clip.mp4", "--quality", "low"
    )
    assert made["ok"] is True
    assert (work / "clip.mp4").stat().st_size == made["size"] > 0

    # MCP: the wheel's `videogen mcp` answers a host over stdio.
    import anyio
    from mcp import Client, StdioServerParameters

    async def list_and_call() -> tuple[int, dict[str, Any]]:
        params = StdioServerParameters(
            command=str(venv / "bin" / "videogen"), args=["mcp"], env=env, cwd=str(work)
        )
        with anyio.fail_after(60):
            async with Client(params) as client:
                listed = await client.list_tools()
                credits = await client.call_tool("credits", {})
        return len(listed.tools), dict(credits.structured_content or {})

    count, credits = anyio.run(list_and_call)
    assert count >= 6
    assert credits["ok"] is True
