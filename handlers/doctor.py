"""`videogen doctor`: is this machine ready to make videos? One line per check, OK or FAIL with the fix.

Checks: Python >= 3.11; ffmpeg (the renderer's, from the imageio-ffmpeg wheel); fonts (a Latin font,
plus CJK and colour-emoji fallbacks for titles in any script); the data and config folders (writable);
the backend (the embedded engine answers a credits call / the cloud URL resolves and answers one).
Exit 0 only when every check is OK.

What the engine knows (its ffmpeg, its fonts, its default data folder) is asked through
`handlers._embedded`, the one door to the engine: doctor keeps no copy of those facts. It installs
nothing either: a missing font is reported with the exact command that installs it, and meanwhile the
renderer draws a visible fallback box for characters no font has.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio

from handlers._config import Config
from handlers._dispatch import acall_tool
from handlers._embedded import EngineFonts, engine_ffmpeg, engine_fonts, engine_home
from handlers._errors import VideogenError

__all__ = ["COMMAND", "DESCRIPTION", "EPILOG", "EXAMPLES", "HELP", "Check", "configure", "run", "run_checks"]

COMMAND = "doctor"
HELP = "Check Python, ffmpeg, fonts, the data folder and the backend; say what to fix."
DESCRIPTION = (
    "Check that this machine can make videos: Python, ffmpeg, fonts, the data folder and the\n"
    "backend. One line per check, OK or FAIL with what to fix. Exit 0 only when all are OK."
)
EXAMPLES = ("videogen doctor", "videogen doctor --json", "NEMO_BACKEND=cloud videogen doctor")
EPILOG = ("exit codes: 0 all checks OK; 1 at least one FAIL",)

# The packages that provide each font role, per package manager (the fix names only what is missing).
_FONT_PACKAGES = {
    "apt-get": {"latin": "fonts-dejavu-core", "cjk": "fonts-wqy-microhei", "emoji": "fonts-noto-color-emoji"},
    "dnf": {
        "latin": "dejavu-sans-fonts",
        "cjk": "wqy-microhei-fonts",
        "emoji": "google-noto-color-emoji-fonts",
    },
    "pacman": {"latin": "ttf-dejavu", "cjk": "wqy-microhei", "emoji": "noto-fonts-emoji"},
}
_INSTALL = {"apt-get": "sudo apt-get install -y", "dnf": "sudo dnf install -y", "pacman": "sudo pacman -S"}
_ROLE_NAMES = {"latin": "DejaVu Sans", "cjk": "CJK", "emoji": "colour emoji"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        status = "OK  " if self.ok else "FAIL"
        text = f"{status} {self.name:<9} {self.detail}"
        return text if self.ok or not self.fix else f"{text}\n     {'':<9} fix: {self.fix}"


def check_python(version: tuple[int, int, int] | None = None) -> Check:
    v = version or (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)
    text = "Python {}.{}.{}".format(*v)
    if v >= (3, 11, 0):
        return Check("python", True, f"{text} ({sys.executable})")
    return Check(
        "python", False, f"{text} is too old", "install Python 3.11 or newer and run scripts/videogen with it"
    )


def check_ffmpeg(find: Callable[[], tuple[str, str]] = engine_ffmpeg) -> Check:
    """The renderer's ffmpeg runs (`find` returns its path and version line, or raises)."""
    try:
        exe, version = find()
    except VideogenError as exc:
        return Check("ffmpeg", False, exc.message, exc.recovery)
    return Check("ffmpeg", True, f"{' '.join(version.split()[:3])} ({exe})")


def font_fix(missing: Sequence[str], which: Callable[[str], str | None] = shutil.which) -> str:
    """The exact command that installs the missing font roles here, or where to put font files."""
    manager = next((m for m in _FONT_PACKAGES if which(m)), None)
    put = "or put .ttf/.otf files in ~/.local/share/fonts or a folder named in VIDEOGEN_FONT_DIRS"
    if manager is None:
        return f"install a DejaVu Sans, a CJK and a colour emoji font, {put}"
    packages = " ".join(_FONT_PACKAGES[manager][role] for role in missing)
    return f"run: {_INSTALL[manager]} {packages}   ({put})"


def check_fonts(fonts: EngineFonts | None = None) -> Check:
    try:
        fonts = fonts if fonts is not None else engine_fonts()
    except VideogenError as exc:
        return Check("fonts", False, exc.message, exc.recovery)
    found = {"latin": fonts.latin, "cjk": fonts.cjk, "emoji": fonts.emoji}
    missing = [role for role, path in found.items() if path is None]
    names = ", ".join(p.name for p in found.values() if p is not None)
    if not missing:
        return Check("fonts", True, names)
    detail = f"missing {', '.join(_ROLE_NAMES[r] for r in missing)}" + (f" (have {names})" if names else "")
    return Check("fonts", False, detail + "; titles show a box for what no font draws", font_fix(missing))


def _writable(path: Path) -> str | None:
    """None when a file can be created in `path` (made if missing); else why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_folder(name: str, path: Path, variable: str) -> Check:
    problem = _writable(path)
    if problem is None:
        return Check(name, True, f"{path} is writable")
    return Check(
        name,
        False,
        f"{path} is not writable ({problem})",
        f"fix its permissions or set {variable} to a writable folder",
    )


async def check_backend(config: Config) -> Check:
    """The embedded engine answers a credits call; a URL resolves and answers one."""
    where = "the local engine (embedded)" if config.backend == "embedded" else config.api_url
    if config.backend == "http":
        host = urlsplit(config.api_url).hostname or ""
        try:
            await anyio.getaddrinfo(host, None)
        except (OSError, socket.gaierror) as exc:
            return Check(
                "backend",
                False,
                f"{host} does not resolve ({exc})",
                "check the network / DNS, or NEMO_API_URL",
            )
    result = await acall_tool("credits", {}, config=config)
    if result.get("ok"):
        return Check("backend", True, f"{where} answers ({result.get('available')} credits available)")
    error = result.get("error") or {}
    return Check(
        "backend", False, f"{where}: {error.get('message', 'no answer')}", str(error.get("recovery", ""))
    )


async def run_checks(config: Config | None = None) -> list[Check]:
    checks = [check_python(), check_ffmpeg(), check_fonts()]
    try:
        config = config or Config.from_env()
    except VideogenError as exc:
        return [*checks, Check("backend", False, exc.message, exc.recovery)]
    checks.append(check_folder("config", config.config_dir, "XDG_CONFIG_HOME"))
    if config.backend == "embedded":
        checks.append(check_folder("data", config.engine_home or engine_home(), "VIDEOGEN_HOME"))
    checks.append(await check_backend(config))
    return checks


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")


def run(ns: argparse.Namespace) -> int:
    checks = anyio.run(run_checks)
    ok = all(c.ok for c in checks)
    if ns.json:
        report: dict[str, Any] = {"ok": ok, "checks": [asdict(c) for c in checks]}
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for check in checks:
            print(check.line())
        print(
            "All checks passed."
            if ok
            else "Some checks failed: fix the FAIL lines above and run videogen doctor again."
        )
    return 0 if ok else 1
