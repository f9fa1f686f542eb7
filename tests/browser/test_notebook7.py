"""Smoke test in Notebook 7: the quickstart runs, the annotator draws, in the light and the dark theme.

JupyterLab is covered by test_jupyterlab.py; Notebook 7 is the other front end users open notebooks in.
Screenshots go to ``tests/artifacts/notebook7-annotator-{light,dark}.png``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def notebook_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    root = tmp_path / "nb"
    root.mkdir()
    shutil.copy(REPO / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    token, port = secrets.token_hex(16), _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    cmd = [
        sys.executable,
        "-m",
        "notebook",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--JupyterNotebookApp.expose_app_in_browser=True",
    ]
    log = (tmp_path / "notebook.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert proc.poll() is None, (tmp_path / "notebook.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "Notebook 7 did not start within 60 s"
                time.sleep(0.3)
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_quickstart_annotator_in_notebook7(notebook_server: tuple[str, str], browser: Browser, artifacts: Path) -> None:
    url, token = notebook_server
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(f"{url}/notebooks/quickstart.ipynb?token={token}")
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=60_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function("() => window.__labnb?.annotators?.length > 0", timeout=120_000)
        page.evaluate("() => window.__labnb.annotators[0].idle()")
        root = page.locator('[data-testid="annotator"]').first
        root.scroll_into_view_if_needed()
        assert page.evaluate("() => window.__labnb.annotators[0].state().zoom") > 0
        backgrounds = {}
        for theme in ("light", "dark"):
            if theme == "dark":
                page.evaluate(
                    "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
                )
                page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
                page.wait_for_timeout(300)
            page.screenshot(path=str(artifacts / f"notebook7-annotator-{theme}.png"))
            backgrounds[theme] = root.evaluate(
                "(el) => { const c = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number);"
                " return (c[0] + c[1] + c[2]) / 3; }"
            )
        assert backgrounds["light"] > 128 > backgrounds["dark"], backgrounds  # the widget follows the theme
        assert dialogs == []
    finally:
        page.close()
