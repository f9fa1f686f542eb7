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

from labnb import Box, Project
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


def _dashboard_notebook(root: Path, name: str, *, handed_in: bool) -> Path:
    """A notebook showing the dashboard of a new team project ``name``; with ``handed_in``, one pass of its
    job is handed in first (the Sankey has a flow)."""
    make_demo_team_project(root / name, [Person("ana"), Person("sam", "reviewer")]).close()
    if handed_in:
        with Project.open(root / name, user="ana") as ana:
            task = ana.next_task("draw")
            assert task is not None
            task.submit([Box(5, 5, 40, 40, label=ana.schema.classes[0].name)], duration=20)
    path = root / name.replace(".labnb", ".ipynb")
    source = (
        "import labnb as lb\n"
        f"p = lb.Project.open({name!r}, user='owner')\n"
        'dash = p.performance(range="7d", tz="UTC", poll=1.0)\n'
        "dash"
    )
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)], metadata=kernel), path)
    return path


def _todays_bar(page: Page, today: str) -> float | None:
    value = page.evaluate(TODAYS_BAR, today)
    return None if value is None else float(value)


def test_todays_bar_grows_while_someone_works(lab: Lab, browser: Browser, artifacts: Path) -> None:
    _watch_it_grow(lab, browser, artifacts, "live.labnb", handed_in=True)


def _watch_it_grow(lab: Lab, browser: Browser, artifacts: Path, name: str, *, handed_in: bool) -> None:
    notebook = _dashboard_notebook(lab.root, name, handed_in=handed_in)
    drawn = 0  # a hand-in with shapes replaces the pass's rows: "annotation.replace", not a drawn annotation
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
    today = datetime.now(timezone.utc).date().isoformat()
    try:
        page.goto(f"{lab.url}/lab/tree/{notebook.name}?reset&token={lab.token}")
        run_all(page)
        page.wait_for_function(f"() => ({TODAYS_BAR})({today!r}) !== null", timeout=60_000)
        before = _todays_bar(page, today)
        assert before == drawn, f"{drawn} box drawn today so far, the chart says {before}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        subprocess.run([sys.executable, str(WRITER), str(lab.root / name), "", "5"], check=True, env=env, timeout=120)
        written = time.monotonic()
        page.wait_for_function(f"() => ({TODAYS_BAR})({today!r}) >= {drawn + 5}", timeout=10_000)
        took = time.monotonic() - written
        page.screenshot(path=str(artifacts / f"jupyterlab-dashboard-{name.removesuffix('.labnb')}.png"))
        assert _todays_bar(page, today) == drawn + 5
        assert took < 10, f"the bar grew {took:.1f} s after the annotations were written"
    finally:
        context.close()
    assert not errors, errors


def test_a_new_project_with_no_flows_yet_throws_nothing(lab: Lab, browser: Browser, artifacts: Path) -> None:
    _watch_it_grow(lab, browser, artifacts, "new.labnb", handed_in=False)
