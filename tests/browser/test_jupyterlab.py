"""The widgets in the user's own setting, a real JupyterLab: the quickstart notebook (Run All, the annotator
shows, its keys and the notebook's) and the review panel at a common screen width (1280 px).

The server (recipe from docs/TESTING.md) is the session's ``lab`` of conftest.py (jupyter_server_fixture.py),
one notebook per test, run from a temporary folder (the quickstart writes ``demo.labnb`` and ``export/``
beside itself). Screenshots go to ``tests/artifacts/jupyterlab-annotator.png`` and ``jupyterlab-review-1280.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from annotator_page import png_pixels
from jupyter_server_fixture import Lab
from playwright.sync_api import Browser, Locator, Page, expect

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
ANNOTATOR_CALL = "p.annotator("


def _notebook_copy(folder: Path) -> Path:
    """``quickstart.ipynb`` copied to ``folder``, with a ``p.annotator()`` cell appended if it has none."""
    target = folder / QUICKSTART.name
    shutil.copy(QUICKSTART, target)
    nb = nbformat.read(target, as_version=4)
    if not any(c.cell_type == "code" and ANNOTATOR_CALL in c.source for c in nb.cells):
        nb.cells.append(nbformat.v4.new_code_cell("p.annotator()"))
        nbformat.write(nb, target)
    return target


def _command(page: Page, command: str) -> None:
    page.evaluate("(id) => window.jupyterapp.commands.execute(id)", command)


CELLS = "() => window.jupyterapp.shell.currentWidget.content.model.cells.length"


def _run_all(page: Page, lab: Lab, notebook: Path) -> None:
    """Open ``notebook`` in JupyterLab and run it all (:func:`run_all`)."""
    page.goto(f"{lab.url}/lab/tree/{notebook.name}?reset&token={lab.token}")
    run_all(page)


def run_all(page: Page) -> None:
    """Wait for the open notebook's kernel, Run All, and wait until every code cell has run."""
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=60_000)
    # The indicator reads idle before a kernel is attached: wait for the kernel's name too.
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName")).to_contain_text("Python", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=60_000,
    )
    _command(page, "runmenu:run-all")
    page.wait_for_function(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget;
            const cells = nb.content.model.cells;
            let done = true;
            for (let i = 0; i < cells.length; i++) {
                const c = cells.get(i);
                const waiting = c.executionCount === null || c.executionState === 'running';
                if (c.type === 'code' && waiting) done = false;
            }
            return done && nb.sessionContext.session.kernel.status === 'idle';
        }""",
        timeout=120_000,
    )


def _gives_the_keyboard_back(page: Page, widget: Locator) -> None:
    """A click on the widget's own cell prompt (the In [ ] area) leaves the widget: the notebook is in command
    mode and B inserts a cell below, as after a click on any other cell's prompt. (Left of the output is
    JupyterLab's collapse-output button.)"""
    n_cells = page.evaluate(CELLS)
    focused_inside = "(el) => el.contains(document.activeElement)"
    assert widget.evaluate(focused_inside), "the widget should have the keyboard before the click"
    cell = page.locator(".jp-Cell").filter(has=widget)
    cell.locator(".jp-InputPrompt").first.click()
    assert not widget.evaluate(focused_inside), "focus stayed in the widget after a click on its cell's prompt"
    page.keyboard.press("b")
    page.wait_for_function(f"(n) => ({CELLS})() === n + 1", arg=n_cells, timeout=10_000)


def test_quickstart_annotator_in_jupyterlab(lab: Lab, browser: Browser, artifacts: Path) -> None:
    notebook = _notebook_copy(lab.root)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        _run_all(page, lab, notebook)
        # JupyterLab 4 renders only the cells near the viewport: bring the annotator's cell there.
        page.evaluate(
            """async (call) => {
                const nb = window.jupyterapp.shell.currentWidget.content;
                const i = nb.widgets.findIndex((c) => c.model.sharedModel.getSource().includes(call));
                nb.activeCellIndex = i;
                await nb.scrollToItem(i, 'start');
            }""",
            ANNOTATOR_CALL,
        )
        annotator = page.locator('.jp-OutputArea [data-testid="annotator"]').first
        expect(annotator).to_be_visible(timeout=30_000)
        page.wait_for_function(
            """() => window.__labnb?.annotators?.length > 0 && window.__labnb.annotators[0].state().zoom > 0""",
            timeout=30_000,
        )
        page.evaluate("() => window.__labnb.annotators[0].idle()")
        annotator.scroll_into_view_if_needed()
        shot = page.screenshot(path=str(artifacts / "jupyterlab-annotator.png"))
        box = annotator.bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 200
        # The photo is drawn: the middle of the stage (inside the fitted image) is not a flat colour.
        stage = page.locator('.jp-OutputArea [data-testid="stage"]').first.bounding_box()
        assert stage is not None
        cx, cy = round(stage["x"] + stage["width"] / 2), round(stage["y"] + stage["height"] / 2)
        patch = png_pixels(shot)[cy - 50 : cy + 50, cx - 100 : cx + 100]
        assert patch.std() > 15, f"no photo in the annotator's stage (pixel spread {patch.std():.1f})"

        # The keyboard while the annotator has focus: its own keys stay with it ("b" picks the box tool and
        # does not insert a cell below), JupyterLab's combinations still work (Ctrl+S saves the notebook).
        cells = CELLS
        n_cells = page.evaluate(cells)
        annotator.locator('[data-testid="stage"]').click(position={"x": 5, "y": 5})
        page.keyboard.press("b")
        page.wait_for_function("() => window.__labnb.annotators[0].state().tool === 'box'", timeout=10_000)
        assert page.evaluate(cells) == n_cells
        page.evaluate("() => { window.jupyterapp.shell.currentWidget.context.model.dirty = true; }")
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
        assert page.evaluate(cells) == n_cells
        # Running cells stays off (it would re-run the annotator's own cell), and Home does not scroll the
        # notebook away from the image.
        runs = """() => { const nb = window.jupyterapp.shell.currentWidget.content;
            return nb.widgets.map((c) => c.model.executionCount ?? null).join(','); }"""
        scroll = "() => window.jupyterapp.shell.currentWidget.content.node.scrollTop"
        before_runs, before_scroll = page.evaluate(runs), page.evaluate(scroll)
        for key in ("Shift+Enter", "Control+Enter", "Alt+Enter", "Home", "PageDown"):
            page.keyboard.press(key)
        page.wait_for_timeout(1500)
        assert page.evaluate(runs) == before_runs
        assert page.evaluate(cells) == n_cells
        assert page.evaluate(scroll) == before_scroll
        _gives_the_keyboard_back(page, annotator)
    finally:
        context.close()
    nb = nbformat.read(notebook, as_version=4)
    errors = [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors, errors
    views = [
        c for c in nb.cells if c.cell_type == "code" and ANNOTATOR_CALL in c.source
        for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]  # fmt: skip
    assert views, "the annotator cell has no widget output"
    assert not dialogs, dialogs


def _review_notebook(folder: Path, project: Path) -> Path:
    """A notebook that shows carol's review panel on ``project``'s job."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(f"import labnb as lb\np = lb.Project.open({str(project)!r}, user='carol')"),
        nbformat.v4.new_code_cell("p.review_panel('review')"),
    ]
    target = folder / "review.ipynb"
    nbformat.write(nb, target)
    return target


def _width(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return float(box["width"])


def test_review_panel_in_jupyterlab_at_1280(lab: Lab, browser: Browser, team: Path, artifacts: Path) -> None:
    """At 1280 px with the file browser open the image takes most of the panel and class names are whole;
    full width, the queue and side by side share it sensibly; Shift+Enter is a new line in the comment
    (JupyterLab cancels line breaks inside cells); a click on the cell's prompt gives the keyboard back."""
    notebook = _review_notebook(lab.root, team)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        page.add_init_script("window.localStorage.clear()")  # the default layout, whatever ran before
        _run_all(page, lab, notebook)
        panel = page.locator('.jp-OutputArea [data-testid="review-panel"]')
        expect(panel).to_be_visible(timeout=30_000)
        page.wait_for_function(
            "() => window.__labnb?.annotators?.[0]?.state().zoom > 0 && window.__labnb.reviews?.length > 0",
            timeout=30_000,
        )
        page.evaluate("() => window.__labnb.reviews[0].idle()")
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "jupyterlab-review-1280.png"))
        stage = panel.locator('[data-testid="stage"]')
        share = _width(stage) / _width(panel)
        assert share >= 0.6, f"the image gets {share:.0%} of the panel's width"
        names = panel.locator(".lnb-class-name")
        assert names.count() == 3
        for i in range(names.count()):
            name = names.nth(i)
            whole = name.evaluate("(el) => el.scrollWidth <= el.clientWidth && el.clientWidth > 0")
            assert whole, f"class name {name.inner_text()!r} is cut to {_width(name):.0f} px"
        assert [names.nth(i).inner_text() for i in range(3)] == ["cat", "dog", "person"]

        page.locator('.jp-OutputArea [data-testid="stage"]').click(position={"x": 5, "y": 5})
        page.keyboard.press("z")  # full width: the image across the panel
        page.evaluate("() => window.__labnb.reviews[0].idle()")
        assert _width(stage) / _width(panel) >= 0.9
        page.keyboard.press("z")
        page.keyboard.press("q")  # the queue, unfolded on demand
        queue = panel.locator('[data-testid="review-queue"]')
        expect(queue).to_be_visible()
        assert _width(queue) >= 200
        page.keyboard.press("q")
        expect(queue).to_be_hidden()
        page.keyboard.press("s")  # side by side: both passes get a fair part, not 15 %
        pane = panel.locator('[data-testid="pane"] canvas')
        expect(pane).to_be_visible()
        page.evaluate("() => window.__labnb.reviews[0].idle()")
        assert _width(pane) / _width(panel) >= 0.3
        assert _width(stage) / _width(panel) >= 0.3
        page.screenshot(path=str(artifacts / "jupyterlab-review-1280-side-by-side.png"))
        page.keyboard.press("s")

        runs = "() => window.jupyterapp.shell.currentWidget.content.widgets.map((c) => c.model.executionCount)"
        before = page.evaluate(runs)
        page.keyboard.press("r")
        comment = panel.locator('[data-testid="review-comment"]')
        expect(comment).to_be_focused()
        page.keyboard.type("the tail")
        page.keyboard.press("Shift+Enter")
        page.keyboard.type("is cut off")
        expect(comment).to_have_value("the tail\nis cut off")
        assert page.evaluate(runs) == before, "Shift+Enter ran a cell"
        page.keyboard.press("Escape")
        expect(comment).to_be_hidden()
        page.locator('.jp-OutputArea [data-testid="stage"]').click(position={"x": 5, "y": 5})
        _gives_the_keyboard_back(page, panel)
    finally:
        context.close()
