#!/usr/bin/env bash
# Idempotent developer/CI set-up, used by scripts/demo.sh and scripts/test.sh.
#
#   * creates .venv with `python3 -m venv` when it is missing (Python >= 3.11 required);
#   * runs `pip install -e '.[dev,spark]'` unless .venv/.banso-bootstrap-stamp already holds
#     the hash of the current pyproject.toml (so a re-run takes well under a second).
#
# Output is quiet; on failure the full pip log is printed.
# Environment:
#   BANSO_PYTHON          interpreter used to create .venv (default: python3)
#   BANSO_FORCE_BOOTSTRAP=1  ignore the stamp and run pip again
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
STAMP="$VENV/.banso-bootstrap-stamp"
PYTHON="${BANSO_PYTHON:-python3}"

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

# True when "$1" runs and is Python >= 3.11.
py_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }

# One bootstrap at a time (demo.sh and test.sh may be started together).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/banso-bootstrap-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12).lock"
    flock 9
fi

# 1. The virtual environment.
if [[ -x "$VENV/bin/python" ]] && ! py_ok "$VENV/bin/python"; then
    say "existing .venv is broken or older than Python 3.11; recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found. Install Python 3.11 or newer (or set BANSO_PYTHON)."
    py_ok "$PYTHON" || die "banso needs Python >= 3.11, but '$PYTHON' is $("$PYTHON" -c 'import sys; print(sys.version.split()[0])' 2>&1). Install Python 3.11+ or set BANSO_PYTHON=/path/to/python3.11."
    say "creating .venv with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    "$PYTHON" -m venv "$VENV" || die "python -m venv failed (on Debian: apt-get install python3-venv)"
fi

# 2. Dependencies, skipped when the stamp matches pyproject.toml (+ the venv's Python version).
want="$( { sha256sum pyproject.toml; "$VENV/bin/python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ "$want" == "$have" && -x "$VENV/bin/banso" && "${BANSO_FORCE_BOOTSTRAP:-0}" != "1" ]]; then
    exit 0
fi

say "installing banso with extras [dev,spark] into .venv (first run takes a few minutes)..."
log="$(mktemp "${TMPDIR:-/tmp}/banso-bootstrap.XXXXXX.log")"
start=$SECONDS
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --progress-bar off \
        -e '.[dev,spark]' >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$STAMP"
    die "pip install -e '.[dev,spark]' failed (full log above, also kept in $log)"
fi
grep -iE '^(WARNING|ERROR)' "$log" | grep -v 'is ignored: it is neither a file nor a directory' >&2 || true
rm -f "$log"
printf '%s\n' "$want" >"$STAMP"
say "dependencies installed in $((SECONDS - start))s"
