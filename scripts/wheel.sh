#!/usr/bin/env bash
# Build labnb's wheel, install it with no extras into an empty venv and run a first-hour round trip there
# (scripts/wheel_smoke.py): what a user gets from `pip install labnb`, apart from the developer's environment.
#
#   bash scripts/wheel.sh        # scripts/test.sh runs it after the tests; LABNB_VERBOSE=1 shows pip's output
#
# pip fetches the dependencies from the package index and keeps them in its usual cache (PIP_CACHE_DIR
# moves it), so a second run installs from the cache in well under a minute. Everything else lives in a
# temporary folder that is removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
# shellcheck source=scripts/setup.sh
source scripts/setup.sh  # for `quietly`: pip's output only when it fails (LABNB_VERBOSE=1 shows it all)
# The interpreter scripts/setup.sh chose: ./.venv's where the system Python refuses pip (PEP 668).
python="${PYTHON:-python3}"
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python3 ]; then python=.venv/bin/python3; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/labnb-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "wheel: building labnb's wheel and installing it, without extras, into an empty venv"
quietly "$python" -m pip wheel --no-deps --wheel-dir "$work/dist" "$repo"
wheel=("$work"/dist/labnb-*.whl)
"$python" -m venv "$work/venv"
quietly "$work/venv/bin/python" -m pip install "${wheel[0]}"
# From a folder outside the checkout: the checkout's labnb/ must not shadow the installed one.
(cd "$work" && "$work/venv/bin/python" -I "$repo/scripts/wheel_smoke.py")
