"""The performance dashboard live in a real JupyterLab and Chromium: while it is open, another process
writes annotations, and today's bar of annotations grows on the page within a few seconds. The bar's
height is read from the plotly chart in the page (its trace data), not from Python.

The server is the session's ``lab`` (conftest.py); the notebook and the project are written into its folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from jupyter_server_fixture import Lab
from playwright.sync_api import Browser, Page
from test_jupyterlab import run_all

from labnb.sample.team import Person, make_demo_team_project

REPO = Path(__file__).resolve().parents[2]
WRITER = REPO / "tests" / "event_writer.py"
#: today's value of the "annotations" trace of the "Done per day" chart, as the page holds it (null until
#: the chart is drawn)
TODAYS_BAR = """(today) => {
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        const title = gd.layout?.title?.text ?? gd.layout?.title;
        if (title !== 'Done per day') continue;
        const trace = (gd.data || []).find((d) => d.name === 'annotations');
        if (!trace) return null;
        const i = Array.from(trace.x).indexOf(today);
        return i < 0 ? null : Number(trace.y[i]);
    }
    return null;
}"""


def _dashboard_notebook(root: Path) -> Path:
    make_demo_team_project(root / "live.labnb", [Person("ana"), Person("sam", "reviewer")]).close()
    path = root / "dashboard_live.ipynb"
    source = (
        "import labnb as lb\n"
        'p = lb.Project.open("live.labnb", user="owner")\n'
        'dash = p.performance(range="7d", tz="UTC", poll=1.0)\n'
        "dash"
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    return path


def _todays_bar(page: Page, today: str) -> float | None:
    value = page.evaluate(TODAYS_BAR, today)
    return None if value is None else float(value)


def test_todays_bar_grows_while_someone_works(lab: Lab, browser: Browser, artifacts: Path) -> None:
    notebook = _dashboard_notebook(lab.root)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    today = datetime.now(timezone.utc).date().isoformat()
    try:
        page.goto(f"{lab.url}/lab/tree/{notebook.name}?reset&token={lab.token}")
        run_all(page)
        page.wait_for_function(f"() => ({TODAYS_BAR})({today!r}) !== null", timeout=60_000)
        before = _todays_bar(page, today)
        assert before == 0, f"nobody drew anything yet today, the chart says {before}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        subprocess.run(
            [sys.executable, str(WRITER), str(lab.root / "live.labnb"), "", "5"], check=True, env=env, timeout=120
        )
        written = time.monotonic()
        page.wait_for_function(f"() => ({TODAYS_BAR})({today!r}) >= 5", timeout=10_000)
        took = time.monotonic() - written
        page.screenshot(path=str(artifacts / "jupyterlab-dashboard-live.png"))
        assert _todays_bar(page, today) == 5
        assert took < 10, f"the bar grew {took:.1f} s after the annotations were written"
    finally:
        context.close()
    assert not errors, errors
