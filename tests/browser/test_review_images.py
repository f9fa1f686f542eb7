"""Large images in the Review panel, in a real browser: shown as the Annotator shows them (labnb/widgets/imagefeed.py),
so a huge scan is its stored preview and then tiles, and zooming in shows the file's own pixels, in the editor and
in the side-by-side pane alike.

The images and the pixel checks are those of test_large_images.py: a flat colour with a 1-px checkerboard patch,
grey at every level but full resolution, so black and white neighbours on screen prove that level 0 arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from annotator_page import AnnotatorView, near, png_pixels
from browser_project import LABELS
from playwright.sync_api import Page, expect
from test_large_images import CHECKER, HUGE_BG, large_files  # noqa: F401 - large_files is a fixture
from test_review_panel import PREFS_KEY, Review

import labnb as lb

Show = Callable[..., AnnotatorView]

#: Where alice and bob drew (far from the checkerboard, so no box or label covers the pixels read).
BOXES = {"alice": (1_000, 1_000, 600, 500), "bob": (3_000, 1_200, 600, 500)}


@pytest.fixture
def scan_job(tmp_path: Path, large_files: dict[str, Path]) -> Path:  # noqa: F811 - the fixture imported above
    """A job over the huge scan with two passes, alice's and bob's; carol reviews."""
    path = tmp_path / "scan.labnb"
    owner = lb.Project.create(path, labels=LABELS, name="scan")
    owner.add_images([large_files["huge"]], progress=False)
    for user, role in {"alice": "annotator", "bob": "annotator", "carol": "reviewer", "mona": "manager"}.items():
        owner.members.add(user, role)
    lb.Project.open(path, user="mona").jobs.create("scan", passes_per_file=2, review_frequency=1).launch()
    for user, (x, y, w, h) in BOXES.items():
        task = lb.Project.open(path, user=user).next_task()
        assert task is not None
        task.submit([lb.Box(x, y, w, h, label="cat")])
    return path


def checker_colour(x: int, y: int) -> tuple[int, int, int]:
    """What the checkerboard has at full-resolution pixel (x, y)."""
    cx, cy, _, _ = CHECKER
    return (255, 255, 255) if (x - cx + y - cy) % 2 == 0 else (0, 0, 0)


def test_zooming_into_a_huge_image_in_the_review_panel_shows_full_resolution_pixels(
    show: Show, page_session: Page, scan_job: Path
) -> None:
    page_session.evaluate(f"() => window.localStorage.removeItem({PREFS_KEY!r})")
    panel = lb.Project.open(scan_job, user="carol").review_panel("scan")
    r = Review(page_session, panel, show(panel))
    r.idle()
    assert panel.current["drawer"] == "alice"
    assert panel.image == b""  # never the whole bitmap: the preview, then tiles
    assert panel.image_info["tiles"]["levels"] >= 1
    v = r.editor
    assert v.state()["image"]["shown"] == "stored-preview"

    v.focus()
    r.press("s")  # side by side: bob's pass in a pane that follows the editor's view
    r.idle()
    expect(r.root.locator('[data-testid="pane"]')).to_have_count(1)
    x, y, _, ch = CHECKER
    cx, cy = x + 20, y + ch // 2  # near the patch's left edge: the image's own colour beside it stays in view
    fitted = v.color_at(x + 128, cy)
    assert all(90 <= c <= 170 for c in fitted), fitted  # at the fitted zoom the checkerboard is a flat grey
    page_session.mouse.move(*v.to_screen(cx + 0.5, cy + 0.5))
    for _ in range(80):  # wheel in on the patch until one pixel is 8+ screen pixels in the pane too
        if _pane_zoom(r) >= 8 or v.zoom >= 32:
            break
        page_session.mouse.wheel(0, -400)
        page_session.wait_for_timeout(30)
    assert v.zoom >= 6, v.zoom
    r.idle(timeout=60)  # until the tiles asked for (by the editor and by the pane) have arrived and are drawn
    assert v.state()["image"]["tiles"].get("0", 0) >= 1, v.state()["image"]
    (pane_image,) = r.state()["paneImages"]
    assert pane_image["tiles"].get("0", 0) >= 1, pane_image
    assert _pane_zoom(r) >= 4, _pane_zoom(r)

    shot = png_pixels(page_session.screenshot())
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1), (5, 2)):
        px, py = cx + dx, cy + dy
        got = v.color_at(px + 0.5, py + 0.5, shot)
        assert near(got, checker_colour(px, py), 60), ("editor", px, py, got)
        got = _at(shot, r.pane_to_screen(0, px + 0.5, py + 0.5))
        assert near(got, checker_colour(px, py), 60), ("pane", px, py, got)
    # outside the patch, the image's own colour: tiles sit where their pixels belong, in both views
    assert near(v.color_at(x - 10.5, cy + 0.5, shot), HUGE_BG, 30), v.color_at(x - 10.5, cy + 0.5, shot)
    assert near(_at(shot, r.pane_to_screen(0, x - 10.5, cy + 0.5)), HUGE_BG, 30)
    expect(r.root.locator('[data-testid="review-error"]')).to_have_text("")

    # the next item is the same image (bob's pass): a new showing, the editor starts again from the preview
    r.press("ArrowDown")
    r.idle(timeout=60)
    assert r.current()["drawer"] == "bob"
    assert v.state()["zoom"] < 1  # fitted again: another pass is a new showing, not the same view
    assert [s["geometry"]["x"] for s in v.state()["shapes"]] == [BOXES["bob"][0]]


def _pane_zoom(r: Review) -> float:
    """Screen px per image px in side-by-side pane 0."""
    (x0, _), (x1, _) = r.pane_to_screen(0, 0, 0), r.pane_to_screen(0, 1000, 0)
    return (x1 - x0) / 1000


def _at(shot: np.ndarray[Any, Any], point: tuple[float, float]) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in shot[round(point[1]), round(point[0])])
    return r, g, b
