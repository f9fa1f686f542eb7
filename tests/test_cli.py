"""`labnb demo` (the README's first command) starts JupyterLab on the quickstart notebook, offline."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TOKEN = "labnb-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> dict[str, object]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return dict(json.loads(resp.read()))


def test_demo_serves_the_quickstart_notebook(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labnb",
            "demo",
            "--no-browser",
            "--port",
            str(port),
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.port_retries=0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                nb = get(f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb?content=0")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
                time.sleep(0.5)
        assert nb["type"] == "notebook"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={TOKEN}", timeout=5) as resp:
            assert b"JupyterLab" in resp.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
