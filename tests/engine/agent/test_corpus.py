"""The conversation corpus (shared and ours) passes in core mode, through bench/corpus.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import corpus as CORPUS

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(CORPUS.SHARED, id="shared"),
        pytest.param(CORPUS.SHARED_COPY, id="shared-copy"),
        pytest.param(CORPUS.SHARED2, id="shared2"),
        pytest.param(CORPUS.SHARED2_COPY, id="shared2-copy"),
        pytest.param(CORPUS.EXTRA, id="extra"),
    ],
)
def test_every_corpus_case_passes_in_core_mode(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = CORPUS.main([str(path)])
    out = capsys.readouterr().out
    assert code == 0, "\n".join(line for line in out.splitlines() if line.startswith("FAIL"))
    assert out.rstrip().endswith(" 0 failed")


def test_the_extra_corpus_has_at_least_forty_cases() -> None:
    assert len(CORPUS.load([CORPUS.EXTRA])) >= 40


def test_the_runner_reports_a_failed_expectation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = '{"id": "wrong", "setup": "promo5", "then": ["Make it 15 seconds"], "expect": {"duration": 20000}}'
    path = tmp_path / "c.jsonl"
    path.write_text(case + "\n", encoding="utf-8")
    assert CORPUS.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL wrong: duration 20000" in out
    assert out.rstrip().endswith("0 passed, 1 failed")


_DIGEST = """
import hashlib, json
from bench import corpus
h = hashlib.sha256()
for case in corpus.load([corpus.SHARED, corpus.EXTRA]):
    _problems, s = corpus.run_case(case)
    h.update(json.dumps([s.last.reply if s.last else "", s.draft], sort_keys=True).encode())
print(h.hexdigest())
"""


def test_every_reply_and_draft_is_the_same_whatever_the_hash_seed() -> None:
    import os
    import subprocess

    digests = set()
    for seed in ("1", "987654"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
