"""A throwaway JupyterLab server and the system Chromium, as in docs/TESTING.md.

Everything lives in one temporary folder (config, runtime, settings, workspaces, the notebook); the server
is a child process in its own process group, stopped with ``POST /api/shutdown`` and, failing that,
terminated by its own group id, so no server outlives the benchmark.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # a hidden page must not be throttled while the benchmark waits on it
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_notebook(path: Path) -> None:
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": "bench", "metadata": {}, "outputs": [], "source": ""}
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


@contextlib.contextmanager
def jupyterlab(work: Path) -> Iterator[Lab]:
    """Start JupyterLab on a free loopback port with ``window.jupyterapp`` exposed; stop it on exit."""
    for sub in ("config", "runtime", "settings", "workspaces", "notebooks"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    settings = work / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    token, port = secrets.token_hex(16), free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    env.pop("ANYWIDGET_HMR", None)
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work / 'notebooks'}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={work / 'settings'}", f"--LabApp.workspaces_dir={work / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, work / "notebooks", proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early; see {work / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer in 60 s; see {work / 'server.log'}") from None
                time.sleep(0.3)
        yield lab
    finally:
        _stop(lab)
        log.close()


def _stop(lab: Lab) -> None:
    with contextlib.suppress(OSError):
        req = urllib.request.Request(f"{lab.url}/api/shutdown?token={lab.token}", method="POST")
        urllib.request.urlopen(req, timeout=5).close()
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # the server is the leader of the group it was started in: this ends it and its kernels only
        with contextlib.suppress(ProcessLookupError):
            os.killpg(lab.process.pid, signal.SIGTERM)
        lab.process.wait(timeout=10)


def chromium_path() -> str:
    exe = os.environ.get("LABNB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        raise SystemExit("no system Chromium: apt-get install -y chromium (see docs/TESTING.md)")
    return exe
