"""Attribution (docs/protocol.md §9): who is calling, read at run time from SKILL.md, never hard-coded.

`X-Skill-Source` is the frontmatter `name`, `X-Skill-Version` its `metadata.version` (or a top-level
`version` a host added), `X-Skill-Platform` the env `SKILL_SOURCE` or what the install path says.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from video_generator_ai import SKILL_ROOT, frontmatter_version, read_frontmatter

__all__ = [
    "SKILL_ROOT",
    "Attribution",
    "default_skill_md",
    "detect_platform",
    "frontmatter_version",
    "read_attribution",
    "read_frontmatter",
]


def default_skill_md() -> Path:
    """The skill's SKILL.md (the folder's, or the copy inside a wheel); `VIDEOGEN_SKILL_MD` overrides it."""
    override = os.environ.get("VIDEOGEN_SKILL_MD")
    return Path(override) if override else SKILL_ROOT / "SKILL.md"


@dataclass(frozen=True)
class Attribution:
    name: str
    version: str
    platform: str

    def headers(self) -> dict[str, str]:
        return {
            "X-Skill-Source": self.name,
            "X-Skill-Version": self.version,
            "X-Skill-Platform": self.platform,
        }


def detect_platform(skill_md: Path, env: Mapping[str, str] | None = None) -> str:
    """`SKILL_SOURCE`, else the install path: clawhub, openclaw, cursor, claude, agents, else unknown."""
    env = os.environ if env is None else env
    if env.get("SKILL_SOURCE", "").strip():
        return env["SKILL_SOURCE"].strip()
    skill_dir = skill_md.resolve().parent if skill_md.exists() else skill_md.parent
    if (skill_dir / ".clawhub" / "origin.json").is_file():
        return "clawhub"
    parts = skill_dir.parts
    pairs = list(itertools.pairwise(parts))
    if ".clawhub" in parts:
        return "clawhub"
    if ".openclaw" in parts:
        return "openclaw"
    for host, platform in ((".cursor", "cursor"), (".claude", "claude"), (".agents", "agents")):
        if (host, "skills") in pairs:
            return platform
    if "skills" in parts[:-1]:  # a workspace skills/ folder holding this skill's folder
        return "openclaw"
    return "unknown"


def read_attribution(skill_md: Path | None = None, *, fallback: tuple[str, str] | None = None) -> Attribution:
    """Read name and version from SKILL.md now (so an edit shows on the next request).

    Until SKILL.md exists, `fallback` (skill.yaml's name and version) stands in for it.
    """
    path = skill_md or default_skill_md()
    name: str | None = None
    version: str | None = None
    if path.is_file():
        front = read_frontmatter(path.read_text(encoding="utf-8"))
        name = str(front["name"]) if front.get("name") else None
        version = frontmatter_version(front)
    if fallback is not None:
        name = name or fallback[0]
        version = version or fallback[1]
    return Attribution(name=name or "unknown", version=version or "unknown", platform=detect_platform(path))
