"""`labnb demo` in a real JupyterLab and Chromium: no news prompt, and running the quickstart leaves git alone.

The server is started as scripts/demo.sh starts it (``python -m labnb demo`` from the checkout's root), with
Jupyter folders of a user who never answered JupyterLab's news question: without the demo's own settings
the "Would you like to get notified about official Jupyter news?" toast covers the page here.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import nbformat
from playwright.sync_api import Browser
from test_cli import REPO, TOKEN, TRACKED, demo_server
from test_jupyterlab import _command, run_all

NEWS = "official Jupyter news"


def git_diff(path: Path) -> str:
    return subprocess.run(["git", "diff", "--", str(path)], cwd=REPO, capture_output=True, text=True, check=True).stdout


def written_in_checkout() -> dict[str, str]:
    """What the old demo wrote in the checkout, with a fingerprint: the notebook and the project beside it."""
    found = {}
    for path in (TRACKED, REPO / "demo.labnb", REPO / "notebooks" / "demo.labnb", REPO / "notebooks" / "export"):
        found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else str(path.exists())
    return found


def test_demo_shows_no_news_prompt_and_keeps_the_tracked_notebook(browser: Browser, tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "jupyter"
    diff_before, files_before = git_diff(TRACKED), written_in_checkout()
    with demo_server(work, home, "--LabApp.expose_app_in_browser=True") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        try:
            page.goto(f"{url}/?token={TOKEN}")  # the demo's default URL opens the quickstart by itself
            run_all(page)
            _command(page, "docmanager:save")
            page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
            assert page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path") == TRACKED.name
            # The prompt comes up as soon as the app is restored, long before Run All has finished.
            assert page.get_by_text(NEWS).count() == 0
            page.evaluate("() => window.jupyterapp.commands.execute('apputils:display-notifications')")
            page.wait_for_timeout(500)
            assert page.get_by_text(NEWS).count() == 0  # not in the notification centre either
        finally:
            context.close()

    saved = nbformat.read(work / TRACKED.name, as_version=4)
    outputs = [o for c in saved.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs, "the run was not saved into the demo's copy"
    assert not [o for o in outputs if o.output_type == "error"]
    assert (work / "demo.labnb").is_file()
    assert (work / "export" / "instances.json").is_file()
    assert git_diff(TRACKED) == diff_before
    assert written_in_checkout() == files_before
    # Silenced for this server only: nothing was written into the user's own settings.
    assert not list((home / "config").rglob("notification.jupyterlab-settings"))
