"""The skill's Python environment, kept outside the skill folder (used by scripts/videogen and scripts/demo).

Where: ``$XDG_CACHE_HOME/video-generator-ai/envs/<key>`` (default ``~/.cache/...``). The key is a hash of
the skill folder's real path and the interpreter, so two copies of the skill never share an
environment, and so never run each other's code.

What: a venv holding a regular (non-editable) install of the folder's own code and its dependencies.
A stamp in the venv records a hash of that code; every run re-hashes the folder (a few milliseconds)
and reinstalls when it differs, so an edited or updated copy runs its own code. The install is built
from a temporary copy made inside the cache: pip never writes into the skill folder, and a read-only
folder (a sandbox mounting skills read-only) works.

The first run needs PyPI (about a minute); later runs need no network. Messages go to stderr only.
This file parses under old Pythons (3.7+) so that ``ensure_python`` can find a new enough one.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from typing import IO

MIN_PYTHON = (3, 11)
CANDIDATES = ("python3.13", "python3.12", "python3.11", "python3")
SKILL_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
# What the install is built from: the code and the skill's own files (video_generator_ai.SKILL_FILES).
PAYLOAD = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "CHANGELOG.md",
    "SKILL.md",
    "skill.yaml",
    "schemas",
    "handlers",
    "engine",
    "video_generator_ai",
)
_SKIP_DIRS = ("__pycache__",)
_SKIP_SUFFIXES = (".pyc", ".pyo")


def say(text: str) -> None:
    try:
        sys.stderr.write("videogen: " + text + "\n")
        sys.stderr.flush()
    except OSError:  # the installer outlived a host that closed our stderr: carry on without telling
        pass


def _new_enough(python: str) -> bool:
    probe = f"import sys; sys.exit(0 if sys.version_info >= {MIN_PYTHON!r} else 1)"
    try:
        return subprocess.call([python, "-c", probe], stderr=subprocess.DEVNULL) == 0
    except OSError:
        return False


def ensure_python(script: str) -> None:
    """Re-run `script` under Python 3.11+ ($PYTHON, else the first new enough candidate) when needed."""
    wanted = os.environ.get("PYTHON", "")
    # abspath, not realpath: a venv's python is a symlink to the base interpreter, yet another environment
    if wanted and os.path.abspath(shutil.which(wanted) or wanted) != os.path.abspath(sys.executable):
        if not _new_enough(wanted):
            say(
                f"PYTHON={wanted} is not Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; "
                "point PYTHON at one that is."
            )
            sys.exit(2)
        os.execv(  # noqa: S606 - hand over to a new enough Python
            shutil.which(wanted) or wanted, [wanted, script, *sys.argv[1:]]
        )
    if sys.version_info >= MIN_PYTHON:
        return
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found and _new_enough(found):
            os.execv(  # noqa: S606 - hand over to a new enough Python
                found, [found, script, *sys.argv[1:]]
            )
    say(
        f"needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is {sys.version.split()[0]}. "
        "Install it and run again, or set PYTHON to it."
    )
    sys.exit(2)


def cache_home() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "video-generator-ai")


def env_dir(skill_dir: str = SKILL_DIR) -> str:
    """This folder's environment: keyed by the folder's real path and the interpreter."""
    key = "\0".join((os.path.realpath(skill_dir), os.path.realpath(sys.executable), sys.version))
    name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return os.path.join(cache_home(), "envs", name)


def _payload_files(skill_dir: str) -> list[str]:
    files = []
    for entry in PAYLOAD:
        path = os.path.join(skill_dir, entry)
        if os.path.isfile(path):
            files.append(entry)
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(names):
                if not name.endswith(_SKIP_SUFFIXES):
                    files.append(os.path.relpath(os.path.join(root, name), skill_dir))
    return files


def code_hash(skill_dir: str = SKILL_DIR) -> str:
    """A hash of every file the install is built from (names and contents)."""
    digest = hashlib.sha256()
    for rel in _payload_files(skill_dir):
        digest.update(rel.replace(os.sep, "/").encode("utf-8") + b"\0")
        with open(os.path.join(skill_dir, rel), "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def venv_python(venv: str) -> str:
    return (
        os.path.join(venv, "Scripts", "python.exe")
        if os.name == "nt"
        else os.path.join(venv, "bin", "python")
    )


def _stage(skill_dir: str, into: str) -> str:
    """Copy what the install is built from into `into` (pip builds there, never in the skill folder)."""
    stage = os.path.join(into, "src")
    for rel in _payload_files(skill_dir):
        target = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(skill_dir, rel), target)
    return stage


def _pip(python: str, args: list[str]) -> None:
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout)
        say(
            "installing the skill's environment failed (pip's log above). "
            "Check that PyPI is reachable, then run again."
        )
        sys.exit(1)


def _lock(path: str) -> IO[str]:
    """An exclusive lock held until the returned file is closed (two first runs at once install once)."""
    handle = open(path, "a+")  # noqa: SIM115 - closed by the caller
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except ImportError:  # Windows: no flock; concurrent first runs are rare there
        pass
    return handle


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def runs_this_folder(skill_dir: str = SKILL_DIR) -> bool:
    """True when this interpreter already imports this very folder's code: an editable install of it,
    as in development (the repository's .venv). Then it is used as is."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("video_generator_ai")
    except (ImportError, ValueError):
        return False
    origin = spec.origin if spec is not None else None
    return bool(origin) and os.path.dirname(os.path.dirname(os.path.realpath(str(origin)))) == skill_dir


def ensure_env(skill_dir: str = SKILL_DIR) -> str:
    """This folder's environment, installed and current; returns its Python."""
    if runs_this_folder(skill_dir):
        return sys.executable
    venv = env_dir(skill_dir)
    python = venv_python(venv)
    stamp = os.path.join(venv, "videogen-installed")
    want = code_hash(skill_dir)
    if os.path.isfile(python) and _read(stamp) == want:
        return python
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    # The install runs in a process of its own (its own session) that holds the lock and writes the
    # stamp: a host that gives up waiting and kills this launcher (an MCP client's connection timeout
    # during a slow first download, say) does not kill the install with it, so the next start finds
    # the environment ready, or waits on the lock until it is, instead of removing a finished install
    # and starting again. Ctrl-C (a person) still stops it.
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--install", skill_dir],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # stdout may be an MCP stream: only stderr is ours
        start_new_session=os.name != "nt",
    )
    try:
        code = child.wait()
    except KeyboardInterrupt:
        if os.name != "nt":
            import signal

            os.killpg(child.pid, signal.SIGINT)
        child.wait()
        sys.exit(130)
    if code != 0:
        sys.exit(code)
    return python


def _install(skill_dir: str) -> int:
    """Make `skill_dir`'s environment current (run as `_skillenv.py --install DIR` by ensure_env)."""
    venv = env_dir(skill_dir)
    python = venv_python(venv)
    stamp = os.path.join(venv, "videogen-installed")
    want = code_hash(skill_dir)
    lock = _lock(venv + ".lock")
    try:
        have = _read(stamp)
        if os.path.isfile(python) and have == want:
            return 0  # another run installed it while we waited
        for stale in glob.glob(glob.escape(venv) + ".build-*"):  # left by a run that was killed
            shutil.rmtree(stale, ignore_errors=True)
        if not have and os.path.exists(venv):
            # No stamp: a first install that never finished (a host that gave up waiting, say).
            say(f"removing the unfinished environment in {venv} ...")
            shutil.rmtree(venv)
        if not os.path.isfile(python):
            say(f"creating the skill's environment in {venv} (once) ...")
            if subprocess.call([sys.executable, "-m", "venv", venv]) != 0:
                say(
                    f"could not create a virtual environment with {sys.executable} -m venv "
                    "(on Debian/Ubuntu: sudo apt-get install python3-venv), then run again."
                )
                sys.exit(1)
        if have:
            say(f"the skill's code changed: reinstalling it into {venv} ...")
        else:
            say(f"installing video-generator-ai and its dependencies into {venv} (needs PyPI once) ...")
        build = tempfile.mkdtemp(dir=os.path.dirname(venv), prefix=os.path.basename(venv) + ".build-")
        try:
            # pip reinstalls a local folder's package even at the same version; dependencies that are
            # already satisfied are kept.
            _pip(python, [_stage(skill_dir, build)])
        finally:
            shutil.rmtree(build, ignore_errors=True)
        with open(stamp, "w", encoding="utf-8") as handle:
            handle.write(want + "\n")
    finally:
        lock.close()
    return 0


def run(module: str, args: list[str]) -> int:  # returns only on Windows
    """Run `python -m module args` in the skill's environment (replacing this process)."""
    python = ensure_env()
    env = dict(os.environ)
    # Attribution and the platform header read the folder's SKILL.md (where the host installed it).
    env.setdefault("VIDEOGEN_SKILL_MD", os.path.join(SKILL_DIR, "SKILL.md"))
    # -P: a `handlers/` folder in the caller's working directory must not shadow the installed package.
    argv = [python, "-P", "-m", module, *args]
    if os.name == "nt":  # no exec on Windows that keeps the console: wait and pass the exit code on
        return subprocess.call(argv, env=env)
    os.execve(python, argv, env)  # noqa: S606 - become the skill's process (never returns)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--install"]:  # ensure_env's installer (already on a new enough Python)
        try:
            sys.exit(_install(sys.argv[2]))
        except KeyboardInterrupt:  # Ctrl-C, passed on by ensure_env: the next run starts again
            sys.exit(130)
    # `python3 scripts/_skillenv.py`: make the environment current and print its Python (for scripts/demo).
    ensure_python(os.path.abspath(__file__))
    print(ensure_env())
