# Shared by scripts/demo and scripts/test: make .venv (once) and install the project into it.
# Re-installs only when pyproject.toml changed since the last install (a stamp holds its hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VIDEOGEN_VENV:-$ROOT/.venv}"
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
EXTRAS="${VIDEOGEN_EXTRAS-dev}"
STAMP="$VENV/.videogen-installed"
HASH="$(sha256sum < "$ROOT/pyproject.toml" | cut -d' ' -f1)"
WANT="$HASH [$EXTRAS]"
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
# An install with extras also serves a request without them (scripts/videogen after scripts/test).
if [ "$HAVE" != "$WANT" ] && ! { [ -z "$EXTRAS" ] && [ "${HAVE%% *}" = "$HASH" ]; }; then
    echo "Installing video-generator-ai${EXTRAS:+[$EXTRAS]} into $VENV (once) ..." >&2
    LOG="$(mktemp)"
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT${EXTRAS:+[$EXTRAS]}" >"$LOG" 2>&1; then
        grep -v '^WARNING: Location' "$LOG" >&2 || true
        echo "Installing failed (log above). Check that PyPI is reachable, then run again." >&2
        rm -f "$LOG"
        exit 1
    fi
    rm -f "$LOG"
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"

# Fonts for text overlays: DejaVu (Latin) ships with most systems; colour emoji and CJK come from
# Debian's packages. Installed here when missing and we may (root with apt-get); otherwise a note,
# and the renderer draws a visible fallback glyph for characters no font has.
if [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing emoji and CJK fonts (fonts-noto-color-emoji, fonts-wqy-microhei) ..." >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            fonts-noto-color-emoji fonts-wqy-microhei; } >/dev/null 2>&1 \
            || echo "Could not install the emoji/CJK fonts; emoji and CJK text will show a fallback glyph." >&2
    else
        echo "Note: emoji/CJK fonts missing; install fonts-noto-color-emoji and fonts-wqy-microhei for full text support." >&2
    fi
fi
