"""The repository explains itself: no file sends a reader to a document a clone does not have, and
every section of docs/protocol.md the code cites exists."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()
TEXT_SUFFIXES = {".py", ".md", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".txt", ".sh", ".html", ".cfg"}
SKIPPED_DIRS = {".git", ".venv", "build", "dist", "__pycache__", "node_modules"}

# Documents that live beside a checkout but not in it (the user's protocol notes, design notes, source
# recipes, benchmark scenario), the folder that holds them, and absolute paths of one machine.
OUTSIDE = re.compile(
    r"PROTOCOL\.md|PROTOCOL §|DESIGN\.md|SCENARIO\.md|\.\./shared|\bshared/|/work/|/home/\w+/|\bseeds\b"
)
CITATION = re.compile(r"docs/protocol\.md\s+§(\d+)(?:\s*[-–]\s*(\d+))?")


def repository_texts() -> list[Path]:
    """Every text file of the checkout (scripts without a suffix included), outside build output."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info") and d[0] != "."]
        here = Path(folder)
        for name in files:
            path = here / name
            in_scripts = here == ROOT / "scripts"
            if path != THIS and (path.suffix in TEXT_SUFFIXES or (in_scripts and not path.suffix)):
                found.append(path)
    return sorted(found)


def test_the_scan_sees_the_code_the_docs_and_the_scripts() -> None:
    names = {str(p.relative_to(ROOT)) for p in repository_texts()}
    assert {"README.md", "SKILL.md", "docs/protocol.md", "handlers/_http.py", "scripts/test"} <= names
    assert not any(n.startswith(".venv/") for n in names)


def test_nothing_in_the_code_or_docs_points_to_a_file_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in repository_texts()
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert hits == [], "\n".join(hits)


def test_every_cited_section_of_the_protocol_page_exists() -> None:
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", protocol, flags=re.M)}
    assert sections == set(range(1, max(sections) + 1))
    cited: dict[int, str] = {}
    for path in repository_texts():
        text = path.read_text(encoding="utf-8", errors="replace")
        for first, last in CITATION.findall(text):
            for section in range(int(first), int(last or first) + 1):
                cited.setdefault(section, str(path.relative_to(ROOT)))
    assert len(cited) >= 8
    missing = {s: where for s, where in cited.items() if s not in sections}
    assert missing == {}
