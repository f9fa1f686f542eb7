#!/usr/bin/env bash
# The one command that sets up a machine and runs every check: lint, types, tests.
#
#   bash scripts/test.sh [extra pytest arguments]
#
# Without pytest arguments (as CI runs it) it ends with scripts/wheel.sh: the wheel, installed without extras
# into an empty venv, runs a project round trip. apt, pip and npm are quiet unless they fail or
# LABNB_VERBOSE=1 is set.
# Works on a fresh Debian 12 as root (or with sudo). Idempotent and quick on a second run: apt runs only
# when a package is missing, pip only when pyproject.toml or the interpreter changed
# (LABNB_REINSTALL=1 forces it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
apt_missing=()
# PostgreSQL: tests/conftest.py starts a throwaway cluster from /usr/lib/postgresql/*/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_missing+=(postgresql)
# Chromium: the widget tests drive the system browser (never `playwright install`: it fails offline).
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
# Add further system packages here, each guarded by a cheap "is it already there" check.
labnb_setup test "${apt_missing[@]}"

# --- checks ----------------------------------------------------------------------------------------------
# The committed front-end bundle must be what the sources build (pip installs use it without node).
if command -v npm >/dev/null 2>&1; then
    quietly npm ci --no-audit --no-fund --loglevel=error
    npm run --silent check
    git diff --exit-code --stat -- labnb/static || {
        echo "labnb/static is stale: run 'npm run build' and commit the bundle" >&2
        exit 1
    }
    npm run --silent test  # unit tests of the pure front-end modules (js/test); the widgets run in tests/browser
else
    echo "scripts/test.sh: npm not found; the front-end bundle was not rebuilt" >&2
    [ -z "${CI:-}" ] || exit 1
fi
python3 -m ruff check labnb tests benchmarks scripts
python3 -m mypy labnb
python3 -m pytest -n 2 -q "$@"
# A subset of the tests (arguments given) is a developer's quick run: the wheel check is for the full one.
if [ "$#" -eq 0 ]; then
    bash scripts/wheel.sh
fi
