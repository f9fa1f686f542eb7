"""Real-browser fixtures: the Annotator shown by solara in the system Chromium, projects to label.

How it runs (see docs/TESTING.md):

- ``pytest-ipywidgets`` (solara's pytest plugin) serves widgets from the pytest process itself; the page is
  driven by ``pytest-playwright`` in the system Chromium (never ``playwright install``: offline here). A
  missing Chromium skips locally but fails when ``CI`` is set.
- Under pytest-xdist each worker has its own solara server (on a free port, not solara's fixed
  18765+100+worker one, so two test runs on one machine do not collide), its own Chromium and its own page.
  ``pytest -n 2`` as scripts/test.sh runs it needs nothing more: the browser tests spread over both
  workers (measured here: whole suite 140-150 s). They also carry ``xdist_group("browser")``, so
  ``--dist loadgroup`` keeps them on one worker with one Chromium (175 s here: one core then carries all
  the browser work), an option if two Chromiums ever prove too much for a small CI machine.
- ``show(widget)`` displays a widget in the page and returns an :class:`AnnotatorView` bound to that view's
  test handle ``window.__labnb.annotators[i]`` (js/README.md, "Test hooks"). Every test that shows a widget
  fails if the page opened a dialog (``alert``) or threw an uncaught error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from annotator_page import AnnotatorView, PageWatch
from browser_project import make_project, make_team, write_images
from jupyter_server_fixture import Lab, jupyter_lab

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from labnb.project import Project
    from labnb.widgets.annotator import Annotator

BROWSER_DIR = Path(__file__).resolve().parent
ARTIFACTS = BROWSER_DIR.parent / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}


# -- environment ------------------------------------------------------------------------------------
def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI, where a missing browser is a broken setup (same rule as ../conftest.py)."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    """``$LABNB_CHROMIUM`` if set, else ``chromium`` on the PATH; None when that is not an executable."""
    exe = os.environ.get("LABNB_CHROMIUM") or shutil.which("chromium")
    return exe if exe and os.access(exe, os.X_OK) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # One xdist group for the browser tests: with --dist loadgroup they share one worker's Chromium and
    # solara server (see the module docstring). Harmless without xdist.
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


# -- pytest-playwright / solara overrides -----------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    exe = chromium_path()
    if exe is None:
        _unavailable("no system Chromium (apt-get install chromium, or set LABNB_CHROMIUM)")
    return {
        **browser_type_launch_args,
        "executable_path": exe,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One real JupyterLab for the session's browser tests (tests/browser/jupyter_server_fixture.py)."""
    with jupyter_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture(scope="session")
def solara_server(pytestconfig: pytest.Config) -> Iterator[Any]:
    """solara's in-process server, on a free port (port 0: solara picks one) instead of a fixed one."""
    from solara.server.starlette import ServerStarlette  # noqa: PLC0415

    server = ServerStarlette(0, pytestconfig.getoption("--solara-host"))
    try:
        server.serve_threaded()
        server.wait_until_serving()
        yield server
    finally:
        server.stop_serving()


@pytest.fixture
def solara_test(solara_server: Any, solara_app: Any, page_session: Page) -> Iterator[None]:
    """solara's own fixture without the ipyvuetify warm-up (the annotator uses no vuetify): ~1 s faster."""
    from solara.test.pytest_plugin import _solara_test  # noqa: PLC0415

    with _solara_test(solara_server, solara_app, page_session, False):
        _wait_for_solara(page_session)
        yield


def _wait_for_solara(page: Page) -> None:
    # solara's loading overlay fades out for 500 ms after the page is up; until then it takes the
    # pointer events (a wheel or a click would land on its spinner, not on the widget).
    page.locator("#loader-container").wait_for(state="detached", timeout=20_000)


def _watched_show(page: Page) -> Iterator[Callable[..., AnnotatorView]]:
    from IPython.display import display  # noqa: PLC0415

    watch = PageWatch(page)
    shown: list[AnnotatorView] = []

    def show(widget: Annotator, *, wait: bool = True) -> AnnotatorView:
        display(widget)
        view = AnnotatorView(page, widget, index=len(shown))
        shown.append(view)
        if wait:
            view.wait_ready()
        return view

    try:
        yield show
    finally:
        watch.stop()
    watch.check()


@pytest.fixture
def show(solara_test: None, page_session: Page) -> Iterator[Callable[..., AnnotatorView]]:
    """``show(widget) -> AnnotatorView``: display a widget in the shared page and wait until it is ready."""
    yield from _watched_show(page_session)


@pytest.fixture
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a new browser context, for tests that change the page for good (``page.clock``)."""
    context: BrowserContext = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def show_fresh(solara_server: Any, solara_app: Any, fresh_page: Page) -> Iterator[Callable[..., AnnotatorView]]:
    """Like ``show`` but in ``fresh_page``; set the page up (e.g. ``fresh_page.clock.install()``) first."""
    from solara.test.pytest_plugin import _solara_test  # noqa: PLC0415

    with _solara_test(solara_server, solara_app, fresh_page, False):
        _wait_for_solara(fresh_page)
        yield from _watched_show(fresh_page)


# -- images and projects ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic images of ``IMAGES`` written once per session (the 50,000 px JPEG takes ~1 s)."""
    return write_images(tmp_path_factory.mktemp("images"))


@pytest.fixture
def project(tmp_path: Path, image_files: dict[str, Path]) -> Project:
    """A SQLite project: classes cat (1), dog (2) and keypoint class person (3, head/left_hand/right_hand),
    a ``weather`` tag group, attributes ``occluded`` (choice) and ``note`` (text), and the synthetic images."""
    return make_project(tmp_path / "browser.labnb", image_files)


@pytest.fixture
def team(tmp_path: Path, image_files: dict[str, Path]) -> Path:
    """A project where alice and bob drew both passes of the job "review" (browser_project.make_team)."""
    return make_team(tmp_path / "team.labnb", image_files)


@pytest.fixture
def demo(tmp_path: Path) -> Project:
    """The bundled sample: 8 COCO photos, ground truth imported, no human annotations yet."""
    from labnb.sample import demo_project  # noqa: PLC0415

    return demo_project(tmp_path / "demo.labnb")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``tests/artifacts`` (git-ignored): screenshots worth looking at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
