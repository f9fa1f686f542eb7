"""The Review panel in a real browser: a reviewer works through a job's queue with the keyboard.

A manager launches a job of three images with two passes each; alice draws the first pass of every image
and bob the second; carol reviews in ``p.review_panel(job)`` shown by solara in the system Chromium
(fixtures in conftest.py). The tests look at the screen (each drawer's colour where their box is) and press
keys as a reviewer would, then assert on the store: task states, comments, geometry, events.

The panel's editor is the Annotator's, registered as an annotator view (``window.__labnb.annotators``), so
the Annotator's test driver (annotator_page.py) maps image points to the screen; the panel's own handle is
``window.__labnb.reviews`` (js/README.md, "Review panel").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from annotator_page import AnnotatorView, handle_idle, near
from browser_project import ALICE, BOB
from playwright.sync_api import Page, expect

import labnb as lb
from labnb.project import Project
from labnb.widgets.review_panel import ReviewPanel

Show = Callable[..., AnnotatorView]
HOOK = "window.__labnb.reviews"
PREFS_KEY = "labnb:review-panel"  # js/src/review/prefs.ts


class Review:
    """The panel in the page: its handle, its editor (an AnnotatorView) and the keyboard."""

    def __init__(self, page: Page, panel: ReviewPanel, editor: AnnotatorView) -> None:
        self.page = page
        self.panel = panel
        self.editor = editor
        self.index = editor.index  # the n-th panel shown has the n-th editor

    @property
    def root(self) -> Any:
        return self.page.locator('[data-testid="review-panel"]').nth(self.index)

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(f"(i) => {HOOK}[i].state()", self.index)
        return result

    def idle(self, timeout: float = 20.0) -> None:
        ok = handle_idle(self.page, HOOK, self.index, timeout)
        assert ok, f"review panel not idle after {timeout} s: {self.state()}"
        self.editor.idle(timeout)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def current(self) -> dict[str, Any]:
        return dict(self.panel.current)

    def pane_to_screen(self, i: int, x: float, y: float) -> tuple[float, float]:
        sx, sy = self.page.evaluate(f"([k, i, x, y]) => {HOOK}[k].paneToScreen(i, x, y)", [self.index, i, x, y])
        return float(sx), float(sy)


@pytest.fixture
def review(show: Show, page_session: Page, team: Path) -> Callable[..., Review]:
    # The page is shared by the tests: start from the default layout, not the one a test before left.
    page_session.evaluate(f"() => window.localStorage.removeItem({PREFS_KEY!r})")

    def open_panel(user: str = "carol", **options: Any) -> Review:
        panel = lb.Project.open(team, user=user).review_panel("review", **options)
        editor = show(panel)
        r = Review(page_session, panel, editor)
        r.idle()
        return r

    return open_panel


def store(path: Path) -> Project:
    return lb.Project.open(path, user="mona")


def draw_task(path: Path, file_name: str, drawer: str) -> Any:
    t = store(path).jobs["review"].tasks
    row = t[(t.kind == "draw") & (t.file_name == file_name) & (t.assignee == drawer)]
    return store(path).task(int(row.task.iloc[0]))


def colour_near_edge(
    shot: np.ndarray[Any, Any], points: list[tuple[float, float]], colour: tuple[int, int, int], tolerance: int = 45
) -> bool:
    """Whether a pixel near ``colour`` lies within 3 px of one of the screen ``points``."""
    for sx, sy in points:
        x0, y0 = round(sx), round(sy)
        patch = shot[max(0, y0 - 3) : y0 + 4, max(0, x0 - 3) : x0 + 4].reshape(-1, 3)
        if any(near(c, colour, tolerance) for c in patch):
            return True
    return False


def hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def left_edge(box: tuple[int, int, int, int], to_screen: Callable[[float, float], tuple[float, float]]) -> list[Any]:
    """Screen points along a box's left edge (a dashed line shows on some of them)."""
    x, y, _w, h = box
    return [to_screen(x, y + h * f) for f in np.linspace(0.1, 0.9, 17)]


# -- tests ----------------------------------------------------------------------------------------------
def test_every_pass_shows_in_its_drawers_colour(review: Callable[..., Review], artifacts: Path) -> None:
    r = review()
    cur = r.current()
    assert (cur["file_name"], cur["drawer"]) == ("scene.png", "alice")  # the first item opens and is claimed
    colours = {p["drawer"]: hex_rgb(p["color"]) for p in r.panel.passes}
    assert colours["alice"] != colours["bob"]
    # legend and queue rows name the drawers as text
    legend = r.root.locator('[data-testid="legend"]')
    expect(legend.locator('[data-drawer="alice"]')).to_contain_text("under review")
    expect(legend.locator('[data-drawer="bob"]')).to_contain_text("bob · pass 2")
    rows = r.root.locator('[data-testid="review-queue"] [data-review-task]')
    expect(rows).to_have_count(6)
    expect(rows.first).to_have_attribute("aria-selected", "true")
    expect(rows.first).to_have_attribute("data-agreement", "0.00")
    expect(r.root.locator('[data-testid="item-agreement"]')).to_have_text("agreement 0.00")
    expect(r.root.locator('[data-testid="review-guide"]')).to_contain_text("touch")

    v = r.editor
    shot = v.screenshot()
    r.page.screenshot(path=str(artifacts / "review_panel_overlaid.png"))
    # alice's pass (under review: solid, the editor's) and bob's (dashed, underneath) in their own colours
    assert colour_near_edge(shot, left_edge(ALICE["scene.png"], v.to_screen), colours["alice"])
    assert not colour_near_edge(shot, left_edge(ALICE["scene.png"], v.to_screen), colours["bob"])
    assert colour_near_edge(shot, left_edge(BOB["scene.png"], v.to_screen), colours["bob"])
    assert not colour_near_edge(shot, left_edge(BOB["scene.png"], v.to_screen), colours["alice"])
    # hiding bob's pass from the legend takes his colour off the image
    legend.locator('[data-drawer="bob"]').click()
    r.idle()
    shot = v.screenshot()
    assert not colour_near_edge(shot, left_edge(BOB["scene.png"], v.to_screen), colours["bob"])
    legend.locator('[data-drawer="bob"]').click()

    # side by side (S): bob's pass in a pane of its own, alice's stays in the editor
    v.focus()
    r.press("s")
    r.idle()
    assert r.panel.side_by_side
    pane = r.root.locator('[data-testid="pane"]')
    expect(pane).to_have_count(1)
    expect(pane).to_have_attribute("data-drawer", "bob")
    r.idle()
    shot = v.screenshot()
    r.page.screenshot(path=str(artifacts / "review_panel_side_by_side.png"))
    in_pane = left_edge(BOB["scene.png"], lambda x, y: r.pane_to_screen(0, x, y))
    assert colour_near_edge(shot, in_pane, colours["bob"])
    assert not colour_near_edge(shot, left_edge(BOB["scene.png"], v.to_screen), colours["bob"])
    assert colour_near_edge(shot, left_edge(ALICE["scene.png"], v.to_screen), colours["alice"])
    r.press("s")
    r.idle()
    assert not r.panel.side_by_side


def test_keyboard_only_accept_reject_and_fix(review: Callable[..., Review], team: Path, artifacts: Path) -> None:
    r = review()
    r.editor.focus()
    first = r.current()
    # ArrowDown opens (claims) the next item and gives the first back
    r.press("ArrowDown")
    r.idle()
    second = r.current()
    assert (second["file_name"], second["drawer"]) == ("gray.png", "alice")
    assert store(team).task(second["review_task"]).assignee == "carol"
    assert store(team).task(first["review_task"]).assignee is None
    # A accepts: the pass is completed, the panel opens the next item
    r.press("a")
    r.idle()
    assert draw_task(team, "gray.png", "alice").state == "completed"
    assert r.current()["file_name"] == "deep16.png"
    # R, a typed comment and Enter send the pass back to its drawer with that comment
    r.press("r")
    comment = r.root.locator('[data-testid="review-comment"]')
    expect(comment).to_be_focused()
    r.page.keyboard.type("the box misses the tail")
    r.press("Enter")
    r.idle()
    back = draw_task(team, "deep16.png", "alice")
    assert (back.state, back.comment) == ("to_fix", "the box misses the tail")
    expect(comment).to_be_hidden()
    # F, a drag of the box's right edge, F: the pass is fixed in place and completed
    cur = r.current()
    assert (cur["file_name"], cur["drawer"]) == ("scene.png", "bob")
    r.press("f")
    r.idle()
    assert r.panel.fixing
    v = r.editor
    x, y, w, h = BOB["scene.png"]
    v.click(x + w / 2, y + h / 2)  # select the box
    v.drag((x + w, y + h / 2), (x + w + 50, y + h / 2))  # its right edge, 50 px further
    v.idle()
    r.page.screenshot(path=str(artifacts / "review_panel_fixing.png"))
    r.press("f")
    r.idle()
    fixed = draw_task(team, "scene.png", "bob")
    assert fixed.state == "completed"
    (box,) = fixed.shapes()
    tol = v.pixel_tolerance()
    assert abs(box.x - x) <= tol
    assert abs(box.w - (w + 50)) <= tol, box
    kinds = list(store(team).events.df.kind)
    for k in ("review.accept", "review.reject", "review.fix", "annotation.update"):
        assert k in kinds
    assert not r.panel.fixing
    assert r.current()["file_name"] == "gray.png"  # the next item after scene.png's second pass
    expect(r.root.locator('[data-testid="review-error"]')).to_have_text("")


def test_filter_by_agreement_hides_items(review: Callable[..., Review]) -> None:
    r = review()
    rows = r.root.locator('[data-testid="review-queue"] [data-review-task]')
    expect(rows).to_have_count(6)
    field = r.root.locator('[data-testid="filter-agreement"]')
    field.fill("0.5")
    field.press("Tab")
    r.idle()
    expect(rows).to_have_count(2)  # only scene.png's passes agree less than 0.5
    for i in range(2):
        expect(rows.nth(i)).to_contain_text("scene.png")
    assert {row["file_name"] for row in r.panel.queue} == {"scene.png"}
    expect(r.root.locator('[data-testid="queue-count"]')).to_have_text("2 of 6 items")
    # the arrows move among the items shown
    r.editor.focus()
    r.press("ArrowDown")
    r.idle()
    assert (r.current()["file_name"], r.current()["drawer"]) == ("scene.png", "bob")
    r.root.locator('[data-review-action="clear-filters"]').click()
    r.idle()
    expect(rows).to_have_count(6)


def test_errors_from_python_show_in_the_widget(review: Callable[..., Review], team: Path) -> None:
    r = review()
    r.editor.focus()
    r.press("r")
    r.press("Enter")  # an empty comment: the backend refuses the rejection
    r.idle()
    error = r.root.locator('[data-testid="review-error"]')
    expect(error).to_contain_text("comment")
    expect(error).to_be_visible()
    assert error.inner_text() == r.panel.error
    assert "Error:" not in error.inner_text(), error.inner_text()
    assert draw_task(team, "scene.png", "alice").state == "review"
    expect(r.root.locator('[data-testid="review-comment"]')).to_be_visible()
    r.press("Escape")
    r.idle()
    expect(r.root.locator('[data-testid="review-comment"]')).to_be_hidden()


def _pill_colour(shot: np.ndarray[Any, Any], v: AnnotatorView, label: dict[str, Any]) -> tuple[int, int, int]:
    """The colour at the left end of a drawn label's pill (its fill: the text starts 5 px in)."""
    sx, sy = v.to_screen(label["x"], label["y"])
    r, g, b = (int(c) for c in shot[round(sy + label["h"] / 2), round(sx + 2.5)])
    return r, g, b


def test_class_names_show_on_every_shape_and_in_the_selection(review: Callable[..., Review]) -> None:
    """Every class is in the drawer's colour, so the class name is written on each shape (L hides the names,
    and the choice is remembered by the next panel), and the selected shape's panel names its class."""
    r = review()
    v = r.editor
    colours = {p["drawer"]: p["color"] for p in r.panel.passes}
    labels = r.state()["labels"]
    assert sorted((lab["text"], lab["color"]) for lab in labels) == [("cat", colours["alice"]), ("dog", colours["bob"])]
    assert r.state()["layout"]["labels"] is True
    expect(r.root.locator('button[data-review-action="labels"]')).to_have_attribute("aria-pressed", "true")
    shot = v.screenshot()
    for lab in labels:
        assert near(_pill_colour(shot, v, lab), hex_rgb(lab["color"]), 30), lab
    # the pass under review is labelled at its own corner, above the box
    (cat,) = [lab for lab in labels if lab["text"] == "cat"]
    x, y, _w, _h = ALICE["scene.png"]
    assert abs(cat["x"] - x) <= v.pixel_tolerance(3)
    assert cat["y"] < y

    v.click(x + 20, y + 20)  # select alice's box: its panel names the class
    expect(v.hook('[data-testid="selected-class"]')).to_have_text("cat")

    r.press("Escape")  # (a selected or hovered shape shows its name in any case)
    r.page.mouse.move(2, 2)
    r.press("l")  # names off
    r.idle()
    assert r.state()["labels"] == []
    expect(r.root.locator('button[data-review-action="labels"]')).to_have_attribute("aria-pressed", "false")
    shot = v.screenshot()
    for lab in labels:
        assert not near(_pill_colour(shot, v, lab), hex_rgb(lab["color"]), 30), f"{lab['text']} still drawn"

    r.press("s")  # side by side: bob's pass in its pane, with no names either
    r.idle()
    assert r.state()["paneLabels"] == [[]]
    r.press("s")
    r.idle()
    again = review(user="mona")  # another panel in this browser: the choice is remembered
    assert again.state()["layout"]["labels"] is False
    assert again.state()["labels"] == []
    again.editor.focus()
    again.press("l")
    again.idle()
    assert {lab["text"] for lab in again.state()["labels"]} >= {"cat"}


def test_refresh_and_polling_bring_in_a_pass_handed_in_meanwhile(review: Callable[..., Review], team: Path) -> None:
    """Another user (a Project object of their own) hands in a fixed pass while the panel is open and empty:
    Refresh (U) lists and opens it; with polling on it comes in with no key pressed."""
    carol = lb.Project.open(team, user="carol")
    while (t := carol.next_task("review")) is not None:
        back = (t.asset.file_name, load_draw(carol, t).assignee) == ("deep16.png", "alice")
        t.review("reject", "the box misses the tail") if back else t.review("accept")
    r = review(poll_seconds=0)
    empty = r.root.locator('[data-testid="review-empty"]')
    expect(empty).to_contain_text("Nothing to review")
    rows = r.root.locator('[data-testid="review-queue"] [data-review-task]')
    hand_in(team)
    r.root.focus()
    r.press("u")
    r.idle()
    expect(rows).to_have_count(1)
    assert (r.current().get("file_name"), r.current().get("drawer")) == ("deep16.png", "alice"), "listed, not opened"
    expect(empty).to_be_hidden()
    assert len(r.editor.state()["shapes"]) == 1
    r.editor.focus()
    r.press("r")  # A or R work on it: send it back once more
    r.page.keyboard.type("still short")
    r.press("Enter")
    r.idle()
    assert r.current() == {}
    expect(rows).to_have_count(0)

    r.panel.poll_seconds = 0.5
    hand_in(team)
    expect(rows).to_have_count(1, timeout=10_000)  # nothing pressed
    expect(r.root.locator('[data-testid="item-file"]')).to_have_text("deep16.png", timeout=10_000)
    assert r.current()["drawer"] == "alice"
    assert draw_task(team, "deep16.png", "alice").state == "review"


def load_draw(p: Project, review_task: Any) -> Any:
    return p.task(int(review_task.draw_task_id))


def hand_in(path: Path) -> None:
    """Alice fixes the pass sent back to her and hands it in, from a Project object of her own."""
    t = lb.Project.open(path, user="alice").next_task()
    assert t is not None
    assert t.state == "to_fix", t
    x, y, w, h = ALICE["deep16.png"]
    t.submit([lb.Box(x, y, w + 20, h + 20, label="cat")])


def test_names_are_text_never_markup(show: Show, page_session: Page, tmp_path: Path) -> None:
    """A file name that is markup shows as its characters (the page watch fails the test on any dialog)."""
    from PIL import Image  # noqa: PLC0415

    name = '<img src=x onerror=alert(1)>"b".png'
    Image.new("RGB", (120, 80), (90, 90, 90)).save(tmp_path / name)
    path = tmp_path / "names.labnb"
    owner = lb.Project.create(path, labels=["cat"], name="names", overwrite=True)
    owner.add_images([str(tmp_path / name)], progress=False)
    owner.members.add("alice", "annotator")
    owner.members.add("carol", "reviewer")
    owner.jobs.create("n").launch()
    task = lb.Project.open(path, user="alice").next_task()
    assert task is not None
    task.submit([lb.Box(10, 10, 30, 30, label="cat")])
    panel = lb.Project.open(path, user="carol").review_panel("n")
    show(panel)
    root = page_session.locator('[data-testid="review-panel"]')
    expect(root.locator("[data-review-task]")).to_contain_text(name)
    expect(root.locator('[data-testid="item-file"]')).to_have_text(name)
    assert root.locator("img").count() == 0
