"""A hostile guide in a real Chromium: the page never asks the tracker's host for anything, the guide's
own image (a file beside the project) shows, and the removed one is named in visible text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from annotator_page import AnnotatorView
from browser_project import make_project
from PIL import Image
from playwright.sync_api import Page, Request, expect

if TYPE_CHECKING:
    from collections.abc import Callable

TRACKER_GUIDE = """# How to draw

Like this: ![good box](guide/good.png)

![pixel](https://evil.example/pixel.png)
<img src="//evil.example/p2.png" srcset="https://evil.example/p3.png 2x" alt="pixel 2">
<p style="background: url(https://evil.example/p4.png)">styled</p>
"""


def test_a_guide_never_makes_the_browser_fetch_a_remote_image(
    show: Callable[..., AnnotatorView], page_session: Page, tmp_path: Path, image_files: dict[str, Path]
) -> None:
    p = make_project(tmp_path / "guides.labnb", image_files)
    (tmp_path / "guide").mkdir()
    Image.new("RGB", (120, 60), (20, 160, 20)).save(tmp_path / "guide" / "good.png")
    asked: list[str] = []

    def record(request: Request) -> None:
        asked.append(request.url)

    page_session.on("request", record)
    try:
        v = show(p.annotator(assets=["scene.png"], guide=TRACKER_GUIDE))
        guide = v.hook('[data-testid="guide"]')
        expect(guide).to_contain_text("How to draw")
        expect(guide).to_contain_text("[image 'pixel' removed: remote images are not shown: the host evil.example")
        expect(guide).to_contain_text("[image 'pixel 2' removed: ")
        good = guide.locator("img")
        expect(good).to_have_count(1)
        expect(good).to_have_attribute("alt", "good box")
        v.page.wait_for_function("(el) => el.complete && el.naturalWidth === 120", arg=good.element_handle())
        v.page.wait_for_timeout(300)  # any fetch the guide caused has been asked for by now
    finally:
        page_session.remove_listener("request", record)
    assert [u for u in asked if "evil.example" in u] == []
