"""Attribution (docs/protocol.md §9): read from SKILL.md at run time; the platform from env or the path."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers._attribution import detect_platform, read_attribution, read_frontmatter


def skill(dir_: Path, front: str) -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    path = dir_ / "SKILL.md"
    path.write_text(f"---\n{front}\n---\n# Body\n", encoding="utf-8")
    return path


def test_name_and_metadata_version_come_from_the_frontmatter(tmp_path: Path) -> None:
    path = skill(tmp_path / "x", "name: my-skill\ndescription: d\nmetadata:\n  version: 2.3.4")
    attribution = read_attribution(path, fallback=("fallback", "0.0.0"))
    assert (attribution.name, attribution.version) == ("my-skill", "2.3.4")


def test_a_top_level_version_is_accepted(tmp_path: Path) -> None:
    path = skill(tmp_path / "x", "name: my-skill\nversion: 9.9.9")
    assert read_attribution(path).version == "9.9.9"


def test_without_skill_md_the_manifest_values_stand_in(tmp_path: Path) -> None:
    attribution = read_attribution(tmp_path / "SKILL.md", fallback=("video-generator-ai", "0.1.0"))
    assert (attribution.name, attribution.version) == ("video-generator-ai", "0.1.0")


def test_frontmatter_without_fences_is_empty() -> None:
    assert read_frontmatter("# just a title\nname: x\n") == {}


@pytest.mark.parametrize(
    ("where", "platform"),
    [
        (".openclaw/skills/video", "openclaw"),
        ("workspace/skills/video", "openclaw"),
        (".cursor/skills/video", "cursor"),
        (".claude/skills/video", "claude"),
        (".agents/skills/video", "agents"),
        ("somewhere/else/video", "unknown"),
    ],
)
def test_the_platform_is_detected_from_the_install_path(tmp_path: Path, where: str, platform: str) -> None:
    path = skill(tmp_path / where, "name: s")
    assert detect_platform(path, env={}) == platform


def test_a_clawhub_origin_file_beside_skill_md_means_clawhub(tmp_path: Path) -> None:
    path = skill(tmp_path / ".cursor" / "skills" / "video", "name: s")
    (path.parent / ".clawhub").mkdir()
    (path.parent / ".clawhub" / "origin.json").write_text("{}")
    assert detect_platform(path, env={}) == "clawhub"


def test_skill_source_in_the_environment_wins(tmp_path: Path) -> None:
    path = skill(tmp_path / ".cursor" / "skills" / "video", "name: s")
    assert detect_platform(path, env={"SKILL_SOURCE": "my-host"}) == "my-host"
