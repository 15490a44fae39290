# The developer environment for scripts/test: the repository's .venv with an editable install and the
# dev tools. (The skill itself never uses this: scripts/videogen and scripts/demo keep their
# environment in the user's cache, see scripts/_skillenv.py.) Re-installs only when pyproject.toml or
# setup.py changed since the last install (a stamp holds their hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "video-generator-ai needs Python 3.11 or newer; '$PY' is $("$PY" --version 2>&1 || echo missing)." >&2
    echo "Install Python 3.11+ and run again, or point PYTHON at it: PYTHON=python3.12 $0" >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating $VENV ..." >&2
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.videogen-installed"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1) [dev]"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    echo "Installing video-generator-ai[dev] (editable) into $VENV ..." >&2
    LOG="$(mktemp)"
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[dev]" >"$LOG" 2>&1; then
        grep -v '^WARNING: Location' "$LOG" >&2 || true
        echo "Installing failed (log above). Check that PyPI is reachable, then run again." >&2
        rm -f "$LOG"
        exit 1
    fi
    rm -f "$LOG"
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
