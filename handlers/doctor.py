"""`videogen doctor`: is this machine ready to make videos? One line per check, OK or FAIL with the fix.

Checks: Python >= 3.11; ffmpeg (from the imageio-ffmpeg wheel, run with -version); fonts (a Latin
font, plus CJK and colour-emoji fallbacks for titles in any script); the data and config folders
(writable); the backend (the embedded engine answers a credits call / the cloud URL resolves and
answers one). Exit 0 only when every check is OK.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
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
from handlers._embedded import engine_renderer
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

# The same font file names the renderer looks for (engine/render), used when it cannot be asked.
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
_LATIN = ("dejavusans.ttf", "notosans-regular.ttf", "liberationsans-regular.ttf", "arial.ttf")
_CJK = (
    "wqy-microhei.ttc",
    "notosanscjk-regular.ttc",
    "notosanscjk-bold.ttc",
    "notosanscjksc-regular.otf",
    "wqy-zenhei.ttc",
    "droidsansfallbackfull.ttf",
    "droidsansfallback.ttf",
    "pingfang.ttc",
    "msyh.ttc",
)
_EMOJI = ("notocoloremoji.ttf", "apple color emoji.ttc", "seguiemj.ttf")


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


def _ffmpeg_path() -> str:
    """The renderer's ffmpeg (engine.render.ffmpeg_exe when the engine is installed), else the wheel's."""
    render = engine_renderer()
    if render is not None and hasattr(render, "ffmpeg_exe"):
        return str(render.ffmpeg_exe())
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def check_ffmpeg(find: Callable[[], str] = _ffmpeg_path) -> Check:
    fix = (
        "reinstall the skill's environment (rm -rf <skill>/.venv, then run scripts/videogen again): "
        "the imageio-ffmpeg wheel ships ffmpeg"
    )
    try:
        exe = find()
    except Exception as exc:  # ImportError, RuntimeError (no binary for this platform), RenderError
        return Check("ffmpeg", False, f"not found ({exc})", fix)
    try:
        done = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("ffmpeg", False, f"{exe} does not run ({exc})", fix)
    first = (done.stdout.splitlines() or [""])[0].strip()
    if done.returncode != 0 or not first.startswith("ffmpeg version"):
        return Check("ffmpeg", False, f"{exe} -version failed (exit {done.returncode})", fix)
    return Check("ffmpeg", True, f"{' '.join(first.split()[:3])} ({exe})")


def _scan_fonts(dirs: Sequence[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in dirs:
        base = Path(root).expanduser()
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.suffix.lower() in {".ttf", ".ttc", ".otf"}:
                    found.setdefault(path.name.lower(), path)
    return found


def find_fonts(dirs: Sequence[str] | None = None) -> tuple[Path | None, Path | None, Path | None]:
    """(latin, cjk, emoji) font files: the renderer's own discovery when it is there, else a scan."""
    if dirs is None:
        render = engine_renderer()
        if render is not None and hasattr(render, "find_fonts"):
            fonts = render.find_fonts()
            return fonts.latin, (fonts.cjk[0] if fonts.cjk else None), fonts.emoji
        extra = [p for p in os.environ.get("VIDEOGEN_FONT_DIRS", "").split(os.pathsep) if p]
        dirs = (*extra, *_FONT_DIRS)
    found = _scan_fonts(dirs)

    def first(names: Sequence[str]) -> Path | None:
        return next((found[n] for n in names if n in found), None)

    return first(_LATIN), first(_CJK), first(_EMOJI)


def check_fonts(fonts: tuple[Path | None, Path | None, Path | None] | None = None) -> Check:
    latin, cjk, emoji = fonts if fonts is not None else find_fonts()
    missing = [
        name for name, path in (("DejaVu Sans", latin), ("CJK", cjk), ("colour emoji", emoji)) if path is None
    ]
    names = ", ".join(p.name for p in (latin, cjk, emoji) if p is not None)
    if not missing:
        return Check("fonts", True, names)
    fix = (
        "install fonts-dejavu-core fonts-wqy-microhei fonts-noto-color-emoji (Debian/Ubuntu), "
        "or put .ttf files in ~/.local/share/fonts or a folder named in VIDEOGEN_FONT_DIRS"
    )
    return Check("fonts", False, f"missing {', '.join(missing)}" + (f" (have {names})" if names else ""), fix)


def data_home(env: dict[str, str] | None = None) -> Path:
    """Where the local engine keeps its data: $VIDEOGEN_HOME, else $XDG_DATA_HOME/video-generator-ai."""
    env = dict(os.environ) if env is None else env
    if env.get("VIDEOGEN_HOME"):
        return Path(env["VIDEOGEN_HOME"]).expanduser()
    base = (
        Path(env["XDG_DATA_HOME"]).expanduser()
        if env.get("XDG_DATA_HOME")
        else Path.home() / ".local" / "share"
    )
    return base / "video-generator-ai"


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
        checks.append(check_folder("data", config.engine_home or data_home(), "VIDEOGEN_HOME"))
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
