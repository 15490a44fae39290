"""Build hooks that pyproject.toml cannot express: the version from SKILL.md, the skill files in the wheel.

- The version is SKILL.md's `metadata.version` (the one place it is written; see video_generator_ai).
- A wheel carries SKILL.md, skill.yaml and schemas/ inside the `video_generator_ai` package, so an
  installed copy (pip, pipx, uvx) finds them where the skill folder would have them. An editable
  install needs no copy: the package then finds them beside itself.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from video_generator_ai import SKILL_FILES, skill_version  # noqa: E402


class BuildWithSkillFiles(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "video_generator_ai"
        for name in SKILL_FILES:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(
                    source, target / name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copy2(source, target / name)


setup(version=skill_version(HERE), cmdclass={"build_py": BuildWithSkillFiles})
