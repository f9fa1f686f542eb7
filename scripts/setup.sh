# Shared set-up for scripts/test.sh and scripts/demo.sh: system packages and labnb installed editable.
#
# Source it, then call: labnb_setup EXTRAS [apt-package-check ...]
#   EXTRAS  the pyproject extras to install, e.g. "test" or "lab"
# Works on a fresh Debian 12 as root (or with sudo); quick on a second run: apt runs only when a
# package is missing, pip only when pyproject.toml or the interpreter changed (LABNB_REINSTALL=1 forces).
# apt and pip work quietly: one line says what runs, and their output is shown only when they fail
# (LABNB_VERBOSE=1 shows it all).
export DEBIAN_FRONTEND=noninteractive
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

# quietly COMMAND...: run it with its output kept in a log, shown (the last 80 lines) only if it fails.
quietly() {
    if [ "${LABNB_VERBOSE:-0}" = 1 ]; then
        "$@"
        return
    fi
    local log status=0
    log="$(mktemp "${TMPDIR:-/tmp}/labnb-setup.XXXXXX")"
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "labnb set-up: failed ($status): $*" >&2
        tail -n 80 "$log" >&2
    fi
    rm -f "$log"
    return "$status"
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo env DEBIAN_FRONTEND=noninteractive "$@"
    else
        echo "labnb set-up: needs root or sudo to run: $*" >&2
        exit 1
    fi
}

# Debian's own python3 refuses `pip install` outside a virtualenv (PEP 668); with it we use ./.venv.
system_python_is_managed() {
    python3 - <<'PY'
import pathlib, sys, sysconfig
managed = (pathlib.Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").exists()
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
PY
}

labnb_setup() {
extras="$1"
shift
# --- system packages, installed only when missing ----------------------------------------------------
apt_missing=("$@")

use_venv=0
if ! command -v python3 >/dev/null 2>&1; then
    apt_missing+=(python3 python3-venv)
    use_venv=1
elif system_python_is_managed; then
    use_venv=1
    if [ ! -x .venv/bin/python3 ] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        apt_missing+=(python3-venv)
    fi
fi

if [ "${#apt_missing[@]}" -gt 0 ]; then
    echo "labnb set-up: installing ${apt_missing[*]} with apt-get"
    quietly as_root apt-get update
    quietly as_root apt-get install -y "${apt_missing[@]}"
fi

if [ "$use_venv" -eq 1 ]; then
    [ -x .venv/bin/python3 ] || python3 -m venv .venv
    # shellcheck disable=SC1091
    source .venv/bin/activate
fi

# --- Python packages -----------------------------------------------------------------------------------
stamp="$(git rev-parse --git-path "labnb-$extras-install.stamp" 2>/dev/null || true)"
want="$({ python3 -c 'import sys; print(sys.executable, sys.version)'; cat pyproject.toml; } | sha256sum)"
installed_here() {
    # An editable install of labnb that points at this checkout.
    python3 - <<'PY'
import json, pathlib, sys
from importlib import metadata
try:
    text = metadata.distribution("labnb").read_text("direct_url.json") or "{}"
except metadata.PackageNotFoundError:
    sys.exit(1)
url = json.loads(text).get("url", "")
sys.exit(0 if url == pathlib.Path.cwd().resolve().as_uri() else 1)
PY
}
if [ "${LABNB_REINSTALL:-0}" != 1 ] && [ -n "$stamp" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] \
    && installed_here; then
    echo "labnb[$extras] already installed (LABNB_REINSTALL=1 to force)"
else
    echo "labnb set-up: installing labnb[$extras] with pip (minutes the first time; LABNB_VERBOSE=1 shows pip)"
    quietly python3 -m pip install -e ".[$extras]"
    if [ -n "$stamp" ]; then printf '%s\n' "$want" >"$stamp"; fi
fi
}
