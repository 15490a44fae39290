#!/usr/bin/env python3
"""Regenerate engine/agent/english_near.txt: the English words one slip from the agent's vocabulary.

The conversation reads an unknown word one slip from exactly one of its words as a typo of it
("trasition" -> transition). A real English word is never a typo ("feels" is not "reels"), so the
words of an English word list that the corrector would otherwise rewrite are kept in that file and
left alone. The list comes from SCOWL (Debian's `wamerican`, /usr/share/dict/american-english); its
copyright and permission notice travel with the output, as SCOWL asks.

    sudo apt-get install wamerican && .venv/bin/python scripts/make-english-near.py

Run it again when the vocabulary (engine/agent/_lexicon.py) grows; tests/engine/agent/test_lexer.py
checks that the file matches the vocabulary it was made for.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.agent import _lexicon as lx  # noqa: E402

WORDS = Path("/usr/share/dict/american-english")
OUT = ROOT / "engine" / "agent" / "english_near.txt"
NOTICE = """\
# English words one slip from the conversation's vocabulary: never read as typos of it.
# Made by scripts/make-english-near.py from SCOWL (Spell Checker Oriented Word Lists), as packaged by
# Debian in wamerican. SCOWL's notice:
#   Copyright 2000-2011 by Kevin Atkinson
#   Permission to use, copy, modify, distribute and sell these word lists, the associated scripts, the
#   output created from the scripts, and its documentation for any purpose is hereby granted without
#   fee, provided that the above copyright notice appears in all copies and that both that copyright
#   notice and this permission notice appear in supporting documentation. Kevin Atkinson makes no
#   representations about the suitability of this array for any purpose. It is provided "as is"
#   without express or implied warranty.
"""


def main() -> int:
    if not WORDS.is_file():
        print(f"{WORDS} is missing: install Debian's wamerican package first", file=sys.stderr)
        return 1
    english = {w.strip() for w in WORDS.read_text(encoding="utf-8").splitlines()}
    lowered = sorted({w for w in english if w.isascii() and w.isalpha() and w.islower()})
    near = [w for w in lowered if lx.typo_of(w) is not None]
    OUT.write_text(NOTICE + "\n".join(near) + "\n", encoding="utf-8")
    print(f"{len(near)} English words one slip from the vocabulary -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
