#!/usr/bin/env bash
# The one command that sets up a machine and opens the labnb demo in JupyterLab.
#
#   bash scripts/demo.sh [labnb demo options, e.g. --port 8899 --no-browser]
#
# Installs labnb with JupyterLab (same set-up as scripts/test.sh, quiet unless LABNB_VERBOSE=1), then runs
# `labnb demo`, which copies notebooks/quickstart.ipynb into a working folder of its own (~/labnb-demo, or
# --dir DIR; an existing copy is kept) and opens it there, on a project built from the bundled sample images.
# Nothing is written into the checkout. Works offline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
labnb_setup lab
exec python3 -m labnb demo "$@"
