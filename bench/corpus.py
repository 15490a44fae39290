"""Run the conversation corpus against the local engine's agent and report per case.

    python bench/corpus.py [--core | --tools] [-v] [FILE.jsonl ...]

Default files: the user's corpora edits.jsonl and edits2.jsonl (``$CORPUS`` / ``$CORPUS2``, else the
live copies when they sit beside the checkout, else the committed copies
tests/engine/agent/corpus_shared.jsonl and corpus_shared2.jsonl) and tests/engine/agent/corpus_extra.jsonl.
The hold-out set is measured on request: ``python bench/corpus.py tests/engine/agent/holdout.jsonl``.

- ``--core`` (the default): pure, in process: fixture MediaRefs matching the corpus README's setups
  and ``engine.agent.respond`` directly, with undo/redo/first-version revisions kept here, as the
  server keeps them. Fast (well under a second for the whole corpus); what the tests run.
- ``--tools``: the README's way, end to end: real fixture files (generated once with Pillow and the
  engine's ffmpeg into a temporary folder), a fresh session per case on the embedded local engine
  (``NEMO_BACKEND=local``, a temporary ``VIDEOGEN_HOME``), ``upload``, ``send_message`` per message,
  then ``get_state`` for the draft. Slower: about 2 s a case (minutes for the whole corpus).

Prints ``PASS <id>`` or ``FAIL <id>: <expectation> ...`` per case, then how the failures split (a
*wrong edit*: the last message changed the draft; a *no edit*: it left it as it was, a question or a
refusal where an edit was expected), then ``N passed, M failed``; exits 1 when a case fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.agent import History, MediaRef, Turn, respond  # noqa: E402

# The user's corpus: a copy is committed so that the suite runs it on any clone; a live copy found
# beside the checkout is preferred (refresh the committed one when the live one grows).
SHARED_COPY = ROOT / "tests" / "engine" / "agent" / "corpus_shared.jsonl"
_LIVE = ROOT.parent / "shared" / "corpus" / "edits.jsonl"
SHARED = Path(os.environ.get("CORPUS") or (_LIVE if _LIVE.is_file() else SHARED_COPY))
SHARED2_COPY = ROOT / "tests" / "engine" / "agent" / "corpus_shared2.jsonl"
_LIVE2 = ROOT.parent / "shared" / "corpus" / "edits2.jsonl"
SHARED2 = Path(os.environ.get("CORPUS2") or (_LIVE2 if _LIVE2.is_file() else SHARED2_COPY))
EXTRA = ROOT / "tests" / "engine" / "agent" / "corpus_extra.jsonl"
HOLDOUT = ROOT / "tests" / "engine" / "agent" / "holdout.jsonl"
PROMO_MESSAGE = "Combine these images and audio into a 30-second promotional video with text overlays"
CLIPS_MESSAGE = "Make a 20-second video from these clips with background music"

Draft = dict[str, Any]


def _promo_uploads() -> list[MediaRef]:
    stills = [
        "product_front.jpg",
        "product_side.jpg",
        "product_detail.jpg",
        "lifestyle_1.jpg",
        "lifestyle_2.jpg",
    ]
    media = [MediaRef(f"up{i + 1}", name, "image", None, 1600, 1200) for i, name in enumerate(stills)]
    media.append(MediaRef("up6", "voiceover.mp3", "audio", 25000, speech_like=True))
    media.append(MediaRef("up7", "music_upbeat.mp3", "audio", 40000, speech_like=False))
    media.append(MediaRef("up8", "music_calm.mp3", "audio", 40000, speech_like=False))
    return media


def _clip_uploads() -> list[MediaRef]:
    clips = [
        MediaRef(f"up{i + 1}", f"clip_{c}.mp4", "video", 8000, 1280, 720, has_audio=True)
        for i, c in enumerate("abc")
    ]
    return [*clips, MediaRef("up4", "music_upbeat.mp3", "audio", 40000, speech_like=False)]


SETUPS: dict[str, tuple[list[MediaRef], str | None]] = {
    "promo5": (_promo_uploads(), PROMO_MESSAGE),
    "uploads": (_promo_uploads(), None),
    "clips3": (_clip_uploads(), CLIPS_MESSAGE),
    "none": ([], None),
}


@dataclass
class Session:
    """Revisions as the server keeps them: a list and a pointer; undo/redo move the pointer."""

    media: list[MediaRef]
    revisions: list[Draft] = field(default_factory=list)
    pointer: int = -1
    last: Turn | None = None
    start: Draft | None = None  # the draft before the case's last message

    @property
    def draft(self) -> Draft | None:
        return self.revisions[self.pointer] if self.pointer >= 0 else None

    def history(self) -> History:
        p = self.pointer
        return History(
            undo=self.revisions[p - 1] if p > 0 else None,
            redo=self.revisions[p + 1] if 0 <= p < len(self.revisions) - 1 else None,
            first=self.revisions[0] if p > 0 else None,
            undo_chain=tuple(self.revisions[k] for k in range(p - 1, max(-1, p - 11), -1) if k >= 0),
            redo_chain=tuple(self.revisions[p + 1 : p + 11]) if p >= 0 else (),
        )

    def send(self, message: str) -> Turn:
        turn = respond(message, self.draft, self.media, self.history())
        if turn.kind == "revision":
            self.pointer = {
                "undo": self.pointer - turn.steps,
                "redo": self.pointer + turn.steps,
                "first": 0,
            }[turn.revision or "undo"]
        elif turn.stages:
            del self.revisions[self.pointer + 1 :]
            self.revisions.append(turn.stages[-1].draft)
            self.pointer = len(self.revisions) - 1
        self.last = turn
        return turn


# ---------------------------------------------------------------------------------------------
# expectations (the corpus README's kinds, with its tolerances)


def _tracks(d: Draft | None) -> list[dict[str, Any]]:
    return [t for t in (d or {}).get("t", []) if isinstance(t, dict)]


def _main(d: Draft | None) -> list[dict[str, Any]]:
    tracks = _tracks(d)
    main = next((t for t in tracks if t.get("role") == "main"), None) or next(
        (t for t in tracks if t.get("tt") == 0), None
    )
    return list(main.get("sg", [])) if main else []


def _texts(d: Draft | None) -> list[dict[str, Any]]:
    return [s for t in _tracks(d) if t.get("tt") == 7 for s in t.get("sg", [])]


def _file_of(seg: dict[str, Any], media: Sequence[MediaRef]) -> str:
    by_id = {m.id: m.filename for m in media}
    src = str(seg.get("src", ""))
    return by_id.get(src) or str((seg.get("m") or {}).get("name") or src)


def _near(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


def _at(items: list[dict[str, Any]], index: int) -> dict[str, Any] | None:
    return items[index] if -len(items) <= index < len(items) else None


def _check_one(kind: str, want: Any, s: Session | ToolSession, before: Draft | None) -> str | None:
    d = s.draft
    main = _main(d)
    if kind == "duration":
        tol = 500.0
        end = max((int(x["st"]) + int(x["d"]) for x in main), default=0)
        return None if _near(end, float(want), tol) else f"duration {want} ± {tol:g}: got {end}"
    if kind == "canvas":
        m = (d or {}).get("m", {})
        got = [m.get("width"), m.get("height")]
        return None if got == list(want) else f"canvas {want}: got {got}"
    if kind == "main_count":
        return None if len(main) == want else f"main_count {want}: got {len(main)}"
    if kind == "main_d":
        seg = _at(main, want["index"])
        tol = float(want.get("tol", 250))
        if seg is None or not _near(seg["d"], want["d"], tol):
            return (
                f"main_d {want}: got {None if seg is None else seg['d']} (durations {[x['d'] for x in main]})"
            )
        return None
    if kind == "main_src":
        seg = _at(main, want["index"])
        name = None if seg is None else _file_of(seg, s.media)
        return None if name == want["file"] else f"main_src {want}: got {name}"
    if kind == "main_order":
        got = [_file_of(x, s.media) for x in main]
        return None if got == list(want) else f"main_order {want}: got {got}"
    if kind == "main_vol":
        seg = _at(main, want["index"])
        tol = float(want.get("tol", 0.03))
        vol = None if seg is None else float(seg.get("vol", 1.0))
        return None if vol is not None and _near(vol, want["vol"], tol) else f"main_vol {want}: got {vol}"
    if kind == "text":
        tol = float(want.get("tol", 250))
        texts = _texts(d)
        for t in texts:
            if str(want["contains"]).lower() not in str(t.get("text", "")).lower():
                continue
            if "st" in want and not _near(t["st"], want["st"], tol):
                continue
            if "d" in want and not _near(t["d"], want["d"], tol):
                continue
            return None
        got = [(t.get("text"), t.get("st"), t.get("d")) for t in texts]
        return f"text {want}: got {got}"
    if kind == "no_text":
        hits = [t.get("text") for t in _texts(d) if str(want).lower() in str(t.get("text", "")).lower()]
        return None if not hits else f"no_text {want!r}: got {hits}"
    if kind == "text_count":
        n = len(_texts(d))
        ok = (want.get("min", 0) <= n <= want.get("max", n)) if isinstance(want, dict) else n == want
        return None if ok else f"text_count {want}: got {n}"
    if kind == "audio":
        track = next(
            (t for t in _tracks(d) if t.get("tt") == 1 and t.get("role") == want["role"] and t.get("sg")),
            None,
        )
        if want.get("absent"):
            return None if track is None else f"audio {want}: the {want['role']} track is there"
        if track is None:
            return f"audio {want}: no {want['role']} track"
        seg = track["sg"][0]
        if "file" in want and _file_of(seg, s.media) != want["file"]:
            return f"audio {want}: got file {_file_of(seg, s.media)}"
        if "vol" in want and not _near(float(seg.get("vol", 1.0)), want["vol"], float(want.get("tol", 0.03))):
            return f"audio {want}: got vol {seg.get('vol')}"
        return None
    if kind == "unchanged":
        return (
            None
            if (d == before) == bool(want)
            else f"unchanged {want}: the draft {'changed' if want else 'did not change'}"
        )
    if kind == "question":
        reply = s.last.reply if s.last else ""
        asked = "?" in reply and d == before
        return (
            None
            if asked == bool(want)
            else f"question {want}: reply {reply!r}, draft {'un' if d == before else ''}changed"
        )
    return f"unknown expectation kind {kind!r}"


def check(expect: dict[str, Any], s: Session | ToolSession, before: Draft | None) -> list[str]:
    problems: list[str] = []
    for kind, want in expect.items():
        wants = (
            want
            if isinstance(want, list)
            and kind in ("text", "no_text", "audio", "main_d", "main_src", "main_vol")
            else [want]
        )
        for w in wants:
            problem = _check_one(kind, w, s, before)
            if problem is not None:
                problems.append(problem)
    return problems


@dataclass(frozen=True)
class ToolReply:
    kind: str
    reply: str


class ToolSession:
    """The same conversation through the skill's tools, against the embedded local engine."""

    def __init__(self, files: Sequence[Path]) -> None:
        from handlers import call_tool  # imported here: --core must not need the client

        self._call = call_tool
        created = self._tool("create_session", {})
        self.sid = str(created["session_id"])
        self.media: list[MediaRef] = []
        self.last: ToolReply | None = None
        self.start: Draft | None = None
        if files:
            uploaded = self._tool("upload", {"files": [str(f) for f in files], "session_id": self.sid})
            for u in uploaded["uploads"]:
                kind: Literal["image", "video", "audio"] = (
                    u["type"] if u["type"] in ("image", "video", "audio") else "image"
                )
                self.media.append(MediaRef(str(u["id"]), str(u["filename"]), kind))

    def _tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(name, args)
        if not result.get("ok"):
            raise RuntimeError(f"{name} failed: {result.get('error') or result.get('text')}")
        return result

    @property
    def draft(self) -> Draft | None:
        draft = self._tool("get_state", {"session_id": self.sid, "include_draft": True}).get("draft")
        return draft if isinstance(draft, dict) and draft.get("t") else None

    def send(self, message: str) -> ToolReply:
        result = self._call("send_message", {"message": message, "session_id": self.sid})
        if not result.get("ok") and (result.get("error") or {}).get("code") == "invalid_input":
            # The client refuses a blank message before sending it: a reply the user sees, no change.
            self.last = ToolReply("refused", str(result.get("text") or ""))
            return self.last
        if not result.get("ok"):
            raise RuntimeError(f"send_message failed: {result.get('error') or result.get('text')}")
        self.last = ToolReply(str(result.get("stage")), str(result.get("reply") or result.get("text") or ""))
        return self.last


def make_fixtures(folder: Path) -> dict[str, Path]:
    """The corpus README's uploads as real files: stills, mp3 voiceover and music, mp4 clips with sound."""
    import subprocess

    from PIL import Image

    from engine.render import ffmpeg_exe

    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    colours = [(200, 80, 40), (40, 120, 200), (60, 160, 90), (220, 190, 60), (150, 60, 170)]
    for m, colour in zip(_promo_uploads()[:5], colours, strict=True):
        Image.new("RGB", (1600, 1200), colour).save(folder / m.filename, quality=85)
        files[m.filename] = folder / m.filename
    audio = {"voiceover.mp3": 25, "music_upbeat.mp3": 40, "music_calm.mp3": 40}
    for name, seconds in audio.items():
        source = f"sine=frequency={330 if 'voice' in name else 523}:duration={seconds}"
        command = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source]
        subprocess.run([*command, "-c:a", "libmp3lame", "-b:a", "64k", str(folder / name)], check=True)
        files[name] = folder / name
    for c in "abc":
        name = f"clip_{c}.mp4"
        picture = ["-f", "lavfi", "-i", "testsrc=size=1280x720:rate=30:duration=8"]
        sound = ["-f", "lavfi", "-i", "sine=duration=8", "-shortest"]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", *picture, *sound, *codecs, str(folder / name)], check=True
        )
        files[name] = folder / name
    return files


def run_case(
    case: dict[str, Any], files: dict[str, Path] | None = None
) -> tuple[list[str], Session | ToolSession]:
    media, opening = SETUPS[case["setup"]]
    s: Session | ToolSession
    s = Session(list(media)) if files is None else ToolSession([files[m.filename] for m in media])
    if opening is not None:
        s.send(opening)
    before = s.draft
    for message in case.get("then", []):
        before = s.draft
        s.send(message)
    s.start = before
    return check(case.get("expect", {}), s, before), s


def load(paths: Iterable[Path]) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("//"):
                cases.append(json.loads(line))
    return cases


def run_all(cases: Sequence[dict[str, Any]], files: dict[str, Path] | None, verbose: bool) -> int:
    """Run every case, print PASS/FAIL lines and the totals; the number of failed cases."""
    passed = failed = wrong = 0
    for case in cases:
        try:
            problems, s = run_case(case, files)
        except (RuntimeError, OSError) as exc:  # a tool that failed is this case's failure, not the run's
            failed += 1
            print(f"FAIL {case['id']}: {exc}")
            continue
        if problems:
            failed += 1
            changed = s.draft != s.start
            wrong += changed
            print(
                f"FAIL {case['id']}: " + " | ".join(problems) + (" [wrong edit]" if changed else " [no edit]")
            )
            if verbose and s.last is not None:
                print(f"     last reply ({s.last.kind}): {s.last.reply!r}")
        else:
            passed += 1
            print(f"PASS {case['id']}")
    print(f"right {passed}, wrong edits {wrong}, questions or refusals instead of an edit {failed - wrong}")
    print(f"{passed} passed, {failed} failed")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--core", action="store_true", help="pure, in process (the default)")
    mode.add_argument("--tools", action="store_true", help="end to end through the tools on the local engine")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the last reply of failed cases")
    args = ap.parse_args(argv)
    cases = load(args.files or [p for p in (SHARED, SHARED2, EXTRA) if p.exists()])
    if not args.tools:
        return 1 if run_all(cases, None, args.verbose) else 0
    import tempfile

    with tempfile.TemporaryDirectory(
        prefix="videogen-corpus-"
    ) as tmp:  # engine data and fixtures, removed after
        home = Path(tmp)
        saved = {
            k: os.environ.get(k)
            for k in ("NEMO_BACKEND", "VIDEOGEN_HOME", "XDG_CONFIG_HOME", "VIDEOGEN_WORKSPACE")
        }
        os.environ.update(
            {
                "NEMO_BACKEND": "local",
                "VIDEOGEN_HOME": str(home / "engine"),
                "XDG_CONFIG_HOME": str(home / "config"),
                # the temporary home is removed afterwards: no background workspace server for its links
                "VIDEOGEN_WORKSPACE": "off",
            }
        )
        try:
            failed = run_all(cases, make_fixtures(home / "fixtures"), args.verbose)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
