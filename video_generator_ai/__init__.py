"""The skill's own files (SKILL.md, skill.yaml, schemas/) and its one version, wherever the code runs.

In the skill folder (a checkout, or a copy a host installed) the files sit beside this package. In a
wheel they are copied into it at build time (setup.py), so ``pip install``, ``pipx`` and ``uvx`` get a
complete skill too. ``handlers/`` and ``engine/`` both find the files through ``SKILL_ROOT``; the engine
never imports ``handlers/``, and this package imports neither.

The version is written once, as ``metadata.version`` in SKILL.md's frontmatter (what hosts read);
the manifest, the attribution headers and the package metadata (setup.py) all read it from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SKILL_FILES", "SKILL_ROOT", "frontmatter_version", "read_frontmatter", "skill_version"]

# What a skill folder holds besides the code: copied into the wheel, listed in MANIFEST.in.
SKILL_FILES = ("SKILL.md", "skill.yaml", "schemas")

_HERE = Path(__file__).resolve().parent


def _root() -> Path:
    return _HERE if (_HERE / "skill.yaml").is_file() else _HERE.parent


SKILL_ROOT = _root()


def read_frontmatter(text: str) -> dict[str, Any]:
    """The YAML between the leading `---` lines of a SKILL.md; {} if none."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            try:
                data = yaml.safe_load("\n".join(lines[1:end]))
            except yaml.YAMLError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def frontmatter_version(front: Mapping[str, Any]) -> str | None:
    """`metadata.version`, or a top-level `version` a host added; None when neither is there."""
    meta = front.get("metadata")
    if isinstance(meta, Mapping) and meta.get("version") is not None:
        return str(meta["version"])
    if front.get("version") is not None:
        return str(front["version"])
    return None


def skill_version(root: Path | None = None) -> str:
    """The skill's version from `<root>/SKILL.md`; ValueError naming the file when it has none."""
    path = (root or SKILL_ROOT) / "SKILL.md"
    version = frontmatter_version(read_frontmatter(path.read_text(encoding="utf-8")))
    if not version:
        raise ValueError(f"{path} has no metadata.version in its frontmatter: add one (e.g. 0.1.0)")
    return version
