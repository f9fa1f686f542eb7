"""Large images in a real browser: the stored preview painted first, then the full image; a huge image shown
as tiles whose full-resolution pixels appear when zoomed in (labnb/pyramid.py, js/src/tiles.ts).

Pixels are read from the screen (a Playwright screenshot) at image points mapped through the view's test
handle, as in test_annotator.py. The huge image is a flat colour with a 1-px checkerboard patch: at any
level but full resolution the patch is a flat grey, so black and white neighbours on screen prove that the
file's own pixels reached it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from annotator_page import AnnotatorView, eventually, near
from browser_project import LABELS
from PIL import Image
from playwright.sync_api import Page

import labnb as lb

Show = Callable[..., AnnotatorView]

#: Over 8192 px wide, so tiled, yet quick to decode whole (48 MP): CI time stays low.
HUGE = (12_000, 4_000)
CHECKER = (7_000, 2_000, 256, 256)  # x, y, w, h of the 1-px checkerboard
HUGE_BG = (40, 90, 160)
PHOTO = (3_000, 2_000)
PHOTO_LEFT, PHOTO_RIGHT = (220, 40, 40), (40, 200, 60)


@pytest.fixture(scope="session")
def large_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("large")
    huge = Image.new("RGB", HUGE, HUGE_BG)
    x, y, w, h = CHECKER
    yy, xx = np.mgrid[0:h, 0:w]
    huge.paste(Image.fromarray(np.where((xx + yy) % 2 == 0, 255, 0).astype(np.uint8)).convert("RGB"), (x, y))
    huge.save(folder / "huge.jpg", quality=95, subsampling=0)
    photo = Image.new("RGB", PHOTO, PHOTO_LEFT)
    photo.paste(Image.new("RGB", (PHOTO[0] // 2, PHOTO[1]), PHOTO_RIGHT), (PHOTO[0] // 2, 0))
    photo.save(folder / "photo.jpg", quality=92)
    return {"huge": folder / "huge.jpg", "photo": folder / "photo.jpg"}


@pytest.fixture
def large(tmp_path: Path, large_files: dict[str, Path]) -> lb.Project:
    p = lb.Project.create(tmp_path / "large.labnb", labels=LABELS, name="large")
    p.add_images([large_files["photo"], large_files["huge"]], progress=False)
    return p


def marks(page: Page) -> dict[str, float]:
    found: dict[str, float] = dict(
        page.evaluate("() => performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])")
    )
    return found


def test_the_stored_preview_is_painted_first_then_the_full_image(
    show: Show, large: lb.Project, page_session: Page
) -> None:
    page_session.evaluate("() => performance.clearMarks()")
    w = large.annotator(assets=["photo.jpg"])
    v = show(w)
    eventually(lambda: _shown(v, "full"))
    seen = marks(page_session)
    assert "labnb:preview-drawn" in seen, seen
    assert seen["labnb:preview-drawn"] < seen["labnb:image-drawn"], seen
    assert w.image == large.asset("photo.jpg").read_bytes()  # the file itself followed the preview
    shot = v.screenshot()
    assert near(v.color_at(700, 1000, shot), PHOTO_LEFT), v.color_at(700, 1000, shot)
    assert near(v.color_at(2300, 1000, shot), PHOTO_RIGHT), v.color_at(2300, 1000, shot)


def _shown(v: AnnotatorView, what: str) -> None:
    assert v.state()["image"]["shown"] == what, v.state()["image"]


def test_zooming_into_a_huge_image_shows_its_full_resolution_pixels(
    show: Show, large: lb.Project, page_session: Page
) -> None:
    w = large.annotator(assets=["huge.jpg"])
    v = show(w)
    assert w.image == b""  # never the whole bitmap: the preview, then tiles
    assert w.image_info["tiles"]["levels"] >= 1
    x, y, _, ch = CHECKER
    cx, cy = x + 20, y + ch // 2  # near the patch's left edge: the image's own colour beside it stays in view
    fitted = v.color_at(x + 128, cy)
    assert all(90 <= c <= 170 for c in fitted), fitted  # at the fitted zoom the checkerboard is a flat grey
    page_session.mouse.move(*v.to_screen(cx + 0.5, cy + 0.5))
    for _ in range(60):  # wheel in on the patch until one image pixel is 6+ screen pixels
        if v.zoom >= 6:
            break
        page_session.mouse.wheel(0, -400)
        page_session.wait_for_timeout(30)
    assert v.zoom >= 6, v.zoom
    v.idle(timeout=60)  # until the tiles asked for have arrived and are drawn
    assert v.state()["image"]["tiles"].get("0", 0) >= 1, v.state()["image"]
    shot = v.screenshot()
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1), (5, 2)):
        px, py = cx + dx, cy + dy
        white = (px - x + py - y) % 2 == 0
        got = v.color_at(px + 0.5, py + 0.5, shot)
        assert near(got, (255, 255, 255) if white else (0, 0, 0), 60), (px, py, got)
    # outside the patch, the image's own colour: tiles sit where their pixels belong
    assert near(v.color_at(x - 10.5, cy + 0.5, shot), HUGE_BG, 30), v.color_at(x - 10.5, cy + 0.5, shot)
    # and coordinates stay full-resolution: a box drawn here is stored where the pixels are
    v.pick_tool("box")
    v.drag((cx - 10, cy - 10), (cx + 10, cy + 8))
    v.idle()
    (box,) = eventually(lambda: _boxes(large))
    assert abs(box.x - (cx - 10)) <= 1
    assert abs(box.w - 20) <= 1


def _boxes(p: lb.Project) -> list[lb.Box]:
    found = [s for s in p.get_annotations("huge.jpg") if s.kind == "box"]
    assert len(found) == 1, found
    return found
