"""`labnb demo` (the README's first command): JupyterLab on a copy of the quickstart, in a folder of its own.

The demo's own server is checked here without a browser (what it serves, which settings it hands the page);
tests/browser/test_demo.py runs the quickstart in it in Chromium.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from labnb import cli

TOKEN = "labnb-test-token"
REPO = Path(__file__).resolve().parents[1]
TRACKED = REPO / "notebooks" / "quickstart.ipynb"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> dict[str, object]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return dict(json.loads(resp.read()))


def jupyter_env(home: Path) -> dict[str, str]:
    """A user's Jupyter folders of their own, so the test sees what the demo does to them."""
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }


@contextmanager
def demo_server(work: Path, home: Path, *extra: str) -> Iterator[str]:
    """``python -m labnb demo --dir work`` started from the checkout's root (as scripts/demo.sh runs it);
    yields its base URL once it answers, and stops it afterwards."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "labnb", "demo", "--dir", str(work), "--no-browser", "--port", str(port),
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", "--ServerApp.port_retries=0", *extra,
    ]  # fmt: skip
    log = home / "demo.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, env=jupyter_env(home), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"{url}/api/status")
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"JupyterLab did not start within 60 s:\n{log.read_text()}"
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()  # only the server this test started
        server.wait(timeout=30)


def test_demo_works_in_its_own_folder_and_silences_the_news_prompt(tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "jupyter"
    before = TRACKED.read_bytes()
    with demo_server(work, home) as url:
        nb = get(f"{url}/api/contents/quickstart.ipynb?content=0")
        assert nb["type"] == "notebook"
        with urllib.request.urlopen(f"{url}/lab?token={TOKEN}", timeout=5) as resp:
            assert b"JupyterLab" in resp.read()
        # The page is told the news question is answered "no" (the prompt shows while it is "none"), as a
        # default of the schema: the user's own settings hold nothing about it.
        setting = get(f"{url}/lab/api/settings/{NOTIFICATION}")
        schema, user = setting["schema"], setting["settings"]
        assert isinstance(schema, dict)
        assert isinstance(user, dict)
        assert schema["properties"]["fetchNews"]["default"] == "false"
        assert "fetchNews" not in user
    assert (work / "quickstart.ipynb").read_bytes() == before
    assert TRACKED.read_bytes() == before
    written = [p.relative_to(home) for p in (home / "config").rglob("*") if p.is_file()]
    assert not [p for p in written if "settings" in str(p)], written  # the user's settings are untouched


def test_the_copy_is_made_once_and_a_users_copy_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "demo"
    assert cli.main(["demo", "--dir", str(work), "--dry-run"]) == 0
    first = capsys.readouterr().out
    assert f"working folder {work}" in first
    assert (work / "quickstart.ipynb").read_bytes() == TRACKED.read_bytes()
    assert f"--ServerApp.root_dir={work}" in first
    assert f"--LabApp.app_settings_dir={work / cli.SETTINGS_DIR}" in first
    overrides = json.loads((work / cli.SETTINGS_DIR / "overrides.d" / "labnb-demo.json").read_text())
    assert overrides[NOTIFICATION]["fetchNews"] == "false"

    (work / "quickstart.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert cli.main(["demo", "--dir", str(work), "--dry-run"]) == 0
    again = capsys.readouterr().out
    assert "keeping your copy" in again
    assert json.loads((work / "quickstart.ipynb").read_text())["cells"] == []


def test_the_demo_refuses_a_folder_inside_the_checkout(tmp_path: Path) -> None:
    assert cli.checkout() == REPO  # the tests run from a checkout
    for inside in (REPO, REPO / "notebooks", REPO / "labnb-demo"):
        with pytest.raises(SystemExit, match="inside the labnb checkout"):
            cli.main(["demo", "--dir", str(inside), "--dry-run"])
    assert not (REPO / "labnb-demo").exists()


def test_the_default_folder_is_outside_the_checkout() -> None:
    default = cli.DEFAULT_DIR.expanduser().resolve()
    assert REPO not in default.parents
    assert default != REPO
