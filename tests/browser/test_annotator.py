"""The Annotator in a real browser: real mouse and keyboard, and what lands in the store.

Each test shows ``p.annotator(...)`` with solara in the system Chromium (fixtures in conftest.py), acts as a
user would (``page.mouse``, ``page.keyboard``), waits until the view is idle (every edit acknowledged by
Python) and then asserts on the project: ``p.get_annotations``, ``p.annotations.df``, ``p.events.df``,
``p.history``. Positions are image pixels mapped through the view's test handle (js/README.md, "Test hooks").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import traitlets
from annotator_page import AnnotatorView, eventually, near
from browser_project import IMAGES, make_project
from playwright.sync_api import Page, expect

import labnb as lb
from labnb.project import Project

Show = Callable[..., AnnotatorView]


# -- store helpers ------------------------------------------------------------------------------------
def human(p: Project, image: str, kind: str | None = None) -> list[Any]:
    """Live human shapes of one image (optionally of one kind), in id order."""
    shapes = [s for s in p.get_annotations(image, source="human") if kind is None or s.kind == kind]
    return sorted(shapes, key=lambda s: s.id)


def wait_shapes(p: Project, image: str, kind: str, count: int, timeout: float = 10.0) -> list[Any]:
    def check() -> list[Any]:
        found = human(p, image, kind)
        assert len(found) == count, f"{len(found)} {kind} shapes in the store, expected {count}: {found}"
        return found

    return eventually(check, timeout)


def revision(p: Project, annotation_id: int) -> int:
    df = p.annotations.df
    return int(df.loc[df.annotation_id == annotation_id, "revision"].iloc[0])


def wait_revision(p: Project, annotation_id: int, expected: int) -> None:
    def check() -> None:
        assert revision(p, annotation_id) == expected

    eventually(check)


def assert_box(box: Any, x: float, y: float, w: float, h: float, tol: float) -> None:
    got = (box.x, box.y, box.w, box.h)
    assert all(abs(a - b) <= tol for a, b in zip(got, (x, y, w, h), strict=True)), (
        f"box {got} != {(x, y, w, h)} (tolerance {tol:.2f} px)"
    )


def edit_events(p: Project, kind: str) -> pd.DataFrame:
    ev = p.events.df
    return ev[ev.kind == kind]


# -- infrastructure: runs against the placeholder renderer too ------------------------------------
def test_widget_reaches_the_browser(show: Show, demo: Project, page_session: Page) -> None:
    """The widget's bundle loads in solara's page and draws the first sample photo (not a blank canvas)."""
    w = demo.annotator()
    show(w, wait=False)
    page_session.wait_for_function(
        """() => [...document.querySelectorAll('canvas')].some((c) => {
            if (c.width < 10 || c.height < 10) return false;
            const ctx = c.getContext('2d', { willReadFrequently: true });
            if (!ctx) return false;
            const d = ctx.getImageData(0, 0, c.width, c.height).data;
            let lo = 255, hi = 0;
            for (let i = 0; i < d.length; i += 4 * 997) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
            return hi - lo > 50;
        })""",
        timeout=20_000,
    )
    assert w.image_info["file_name"] == demo.assets.df.file_name[0]


# -- drawing ----------------------------------------------------------------------------------------
def test_draw_box(show: Show, backend_url: str, image_files: dict[str, Path]) -> None:
    p = make_project(backend_url, image_files)
    v = show(p.annotator(assets=["scene.png"]))
    v.pick_class("dog")
    v.pick_tool("box")
    v.drag((100, 120), (300, 270))
    v.idle()
    (box,) = wait_shapes(p, "scene.png", "box", 1)
    assert box.label == "dog"
    assert_box(box, 100, 120, 200, 150, v.pixel_tolerance())
    created = edit_events(p, "annotation.create")
    assert len(created) == 1
    assert 0 < created.duration.iloc[0] < 60, created.duration.tolist()
    (shown,) = v.state()["shapes"]
    assert shown["id"] == box.id, "the ack's id reached the view"


def test_move_and_resize_box(show: Show, project: Project) -> None:
    (bid,) = project.annotate("scene.png", lb.Box(200, 150, 200, 100, label="cat"))
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_tool("select")
    v.click(300, 200)
    assert len(v.state()["selected"]) == 1
    v.drag((300, 200), (350, 230))  # move by (+50, +30)
    v.idle()
    wait_revision(project, bid, 2)
    tol = v.pixel_tolerance()
    (box,) = human(project, "scene.png", "box")
    assert_box(box, 250, 180, 200, 100, tol)
    v.drag((450, 280), (490, 300))  # the bottom-right handle, by (+40, +20)
    v.idle()
    wait_revision(project, bid, 3)
    (box,) = human(project, "scene.png", "box")
    assert_box(box, 250, 180, 240, 120, tol)
    hist = project.history(bid)
    assert hist.revision.tolist() == [1, 2, 3]
    assert hist.replaced_by.tolist() == ["update", "update", "current"]
    assert_box(hist.geometry.iloc[0], 200, 150, 200, 100, 1e-6)
    assert len(edit_events(project, "annotation.update")) == 2


def _points(part: Any) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in np.asarray(part).reshape(-1, 2)]


def _has_point(points: list[tuple[float, float]], x: float, y: float, tol: float) -> bool:
    return any(math.hypot(px - x, py - y) <= tol for px, py in points)


def test_polygon_vertices_and_parts(show: Show, project: Project) -> None:
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("cat")
    v.pick_tool("polygon")
    square = [(100, 100), (300, 100), (300, 300), (100, 300)]
    for pt in square:
        v.click(*pt)
    v.action("close_polygon")
    v.idle()
    tol = v.pixel_tolerance()
    (poly,) = wait_shapes(project, "scene.png", "polygon", 1)
    assert poly.label == "cat"
    (part,) = poly.parts
    pts = _points(part)
    assert len(pts) == 4, pts
    assert all(_has_point(pts, x, y, tol) for x, y in square), pts
    assert v.state()["selected"] == [], "a finished polygon stays selected"

    v.pick_tool("select")
    v.click(200, 200)  # select it: its vertices can be edited
    v.dblclick(200, 100)  # double-click the top edge: a vertex there
    v.idle()
    wait_revision(project, poly.id, 2)
    pts = _points(human(project, "scene.png", "polygon")[0].parts[0])
    assert len(pts) == 5, pts
    assert _has_point(pts, 200, 100, tol), pts

    v.click(300, 300, modifiers=["Alt"])  # Alt+click a vertex: deleted
    v.idle()
    wait_revision(project, poly.id, 3)
    pts = _points(human(project, "scene.png", "polygon")[0].parts[0])
    assert len(pts) == 4, pts
    assert not _has_point(pts, 300, 300, tol), pts

    v.pick_tool("polygon")  # the selection stays: Shift+click adds a part to the selected polygon
    v.click(450, 400, modifiers=["Shift"])  # Shift+click starts a second part
    v.click(600, 400)
    v.click(520, 520)
    v.action("close_polygon")
    v.idle()
    wait_revision(project, poly.id, 4)
    (poly,) = human(project, "scene.png", "polygon")
    assert len(poly.parts) == 2, poly.parts
    second = _points(poly.parts[1])
    assert len(second) == 3
    assert all(_has_point(second, x, y, tol) for x, y in [(450, 400), (600, 400), (520, 520)])


def test_keypoints_in_order_and_visibility(show: Show, project: Project) -> None:
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("person")
    v.pick_tool("keypoints")
    placed = {"head": (200, 100), "left_hand": (150, 220), "right_hand": (260, 230)}
    for name, (x, y) in placed.items():
        expect(v.stage.get_by_role("status").filter(has_text=f"“{name}”")).to_be_visible()  # the prompt names it
        v.click(x, y)
    v.idle()
    (kp,) = wait_shapes(project, "scene.png", "keypoints", 1)
    assert kp.label == "person"
    tol = v.pixel_tolerance()
    assert list(kp.points) == list(placed), "points placed in the class's order"
    for name, (x, y) in placed.items():
        px, py, vis = kp.points[name]
        assert math.hypot(px - x, py - y) <= tol, (name, kp.points[name])
        assert vis == 2, (name, kp.points[name])

    v.move(150, 220)  # hover left_hand, toggle its visibility
    v.action("toggle_keypoint_visibility")
    v.idle()
    wait_revision(project, kp.id, 2)
    (kp,) = human(project, "scene.png", "keypoints")
    assert kp.points["left_hand"][2] == 1, kp.points
    assert kp.points["head"][2] == kp.points["right_hand"][2] == 2


def test_skipped_keypoint_is_added_later(show: Show, project: Project) -> None:
    """A point skipped while placing (N) is not lost for good: with the skeleton selected, the prompt asks
    for it and a click adds it to the same shape. A finished skeleton is not kept selected: the next click
    would start the next one."""
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("person")
    v.pick_tool("keypoints")
    v.click(200, 100)  # head
    v.press("n")  # skip left_hand
    v.click(260, 230)  # right_hand: the skeleton is complete as far as it goes
    v.idle()
    (kp,) = wait_shapes(project, "scene.png", "keypoints", 1)
    assert "left_hand" not in kp.points or kp.points["left_hand"][2] == 0
    assert v.state()["selected"] == []
    expect(v.stage.locator(".lnb-prompt")).to_contain_text("“head”")  # a new skeleton's first point
    v.pick_tool("select")
    v.click(200, 100)  # select the skeleton by its head
    v.pick_tool("keypoints")
    expect(v.stage.get_by_role("status").filter(has_text="add “left_hand”")).to_be_visible()
    v.click(150, 220)
    v.idle()
    wait_revision(project, kp.id, 2)
    (kp,) = human(project, "scene.png", "keypoints")
    x, y, vis = kp.points["left_hand"]
    assert math.hypot(x - 150, y - 220) <= v.pixel_tolerance()
    assert vis == 2
    assert len(human(project, "scene.png")) == 1  # the same shape, not a second skeleton


def test_a_click_beside_the_image_places_no_keypoint(show: Show, project: Project) -> None:
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("person")
    v.pick_tool("keypoints")
    v.click(-15, 100)  # in the grey margin left of the image
    expect(v.stage.locator(".lnb-toast")).to_contain_text("Click on the image")
    expect(v.stage.locator(".lnb-prompt")).to_contain_text("“head”")  # still asking for the first point
    for x, y in [(200, 100), (150, 220), (260, 230)]:
        v.click(x, y)
    v.idle()
    (kp,) = wait_shapes(project, "scene.png", "keypoints", 1)
    assert min(pt[0] for pt in kp.points.values()) > 100, kp.points  # nothing clamped onto the edge


def test_mask_brush_and_eraser(show: Show, project: Project) -> None:
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("cat")
    v.pick_tool("mask")
    v.focus()
    for _ in range(4):
        v.action("brush_bigger")
    v.drag((100, 300), (500, 300), steps=25)
    v.idle()
    (mask,) = wait_shapes(project, "scene.png", "mask", 1)
    painted = mask.to_array()
    assert painted.shape == (600, 800)
    n_painted = int(painted.sum())
    assert painted[300, 300]
    assert painted[300, 120]
    assert not painted[100, 700]
    assert not painted[550, 300]
    rows = np.flatnonzero(painted[:, 300])
    assert rows.size >= 3, f"the stroke is {rows.size} px thick"
    assert n_painted >= 400 * rows.size * 0.8

    v.pick_tool("eraser")
    v.drag((300, 200), (300, 400), steps=15)  # cut the stroke in two
    v.idle()
    wait_revision(project, mask.id, 2)
    (mask,) = human(project, "scene.png", "mask")
    left = mask.to_array()
    assert 0 < int(left.sum()) < n_painted
    assert not left[300, 300]
    assert left[300, 150]
    assert left[300, 450]


# -- tags, attributes, classes ---------------------------------------------------------------------------
def test_image_tag_and_object_attributes(show: Show, project: Project, page_session: Page) -> None:
    (bid,) = project.annotate("scene.png", lb.Box(100, 100, 200, 150, label="cat"))
    v = show(project.annotator(assets=["scene.png"]))
    sunny, rainy = v.hook('[data-tag="weather:sunny"]'), v.hook('[data-tag="weather:rainy"]')
    sunny.click()
    expect(sunny).to_have_attribute("aria-pressed", "true")
    v.idle()
    (tag,) = wait_shapes(project, "scene.png", "tag", 1)
    assert (tag.value, tag.group) == ("sunny", "weather")
    rainy.click()  # one choice per image in this group
    expect(rainy).to_have_attribute("aria-pressed", "true")
    expect(sunny).not_to_have_attribute("aria-pressed", "true")
    v.idle()
    eventually(lambda: _assert_tags(project, [("rainy", "weather")]))

    v.pick_tool("select")
    v.click(200, 175)
    note = v.hook('[data-attribute="note"]')
    note.click()
    page_session.keyboard.type("behind the bench")  # typing in a field must not trigger tool keys
    page_session.keyboard.press("Enter")
    occluded = v.hook('[data-attribute="occluded"]')
    if occluded.evaluate("e => e.tagName") == "SELECT":
        occluded.select_option("yes")
    else:
        occluded.click()
        page_session.keyboard.type("yes")
        page_session.keyboard.press("Enter")
    v.idle()

    def attributes_saved() -> None:
        (box,) = human(project, "scene.png", "box")
        assert box.attributes == {"note": "behind the bench", "occluded": "yes"}, box.attributes

    eventually(attributes_saved)
    assert v.state()["tool"] == "select", "keys typed into the attribute field changed the tool"
    assert len(human(project, "scene.png", "box")) == 1
    assert revision(project, bid) >= 2


def _assert_tags(p: Project, expected: list[tuple[str, str | None]]) -> None:
    assert [(t.value, t.group) for t in human(p, "scene.png", "tag")] == expected


def test_change_class_by_hotkey_and_picker(show: Show, project: Project) -> None:
    (bid,) = project.annotate("scene.png", lb.Box(100, 100, 200, 150, label="cat"))
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_tool("select")
    v.click(200, 175)
    v.press("2")  # dog's hotkey relabels the selection
    v.idle()
    eventually(lambda: _assert_label(project, bid, "dog"))
    expect(v.class_button("dog")).to_have_attribute("aria-pressed", "true")
    v.class_button("cat").click()
    v.idle()
    eventually(lambda: _assert_label(project, bid, "cat"))
    assert revision(project, bid) == 3

    v.action("cancel")  # nothing selected: the hotkey sets the class of the next shape
    v.press("2")
    v.pick_tool("box")
    v.drag((400, 300), (500, 400))
    v.idle()
    boxes = wait_shapes(project, "scene.png", "box", 2)
    assert [b.label for b in boxes] == ["cat", "dog"]


def test_class_key_after_drawing_picks_the_class_of_the_next_shape(show: Show, project: Project) -> None:
    """As in CVAT and Label Studio: a finished shape is not selected, so a class key pressed right after
    drawing chooses the class of the next shape; it relabels only what the user selected afterwards."""
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("cat")
    v.pick_tool("box")
    v.drag((100, 100), (250, 220))
    v.press("2")  # dog: for the next box
    assert v.state()["selected"] == []
    assert v.state()["label"] == "dog"
    v.drag((400, 300), (520, 420))
    v.idle()
    first, second = wait_shapes(project, "scene.png", "box", 2)
    assert (first.label, second.label) == ("cat", "dog"), "the class key relabelled the box just drawn"
    assert revision(project, first.id) == 1
    v.pick_tool("select")
    v.click(175, 160)  # the user selects the first box ...
    v.press("3")  # ... and relabels it: saved in the store
    v.idle()
    wait_revision(project, first.id, 2)
    assert _label_of(project, first.id) == "person"
    assert _label_of(project, second.id) == "dog"

    # the brush: several strokes make one mask; a class key then starts the next mask in that class
    v.action("cancel")
    v.press("1")
    v.pick_tool("mask")
    v.drag((100, 500), (300, 500), steps=12)
    v.drag((300, 500), (300, 560), steps=6)  # a second stroke of the same object
    v.idle()
    (mask,) = wait_shapes(project, "scene.png", "mask", 1)
    assert mask.label == "cat"
    v.press("2")
    v.drag((500, 500), (700, 500), steps=12)
    v.idle()
    cat_mask, dog_mask = wait_shapes(project, "scene.png", "mask", 2)
    assert (cat_mask.id, cat_mask.label, dog_mask.label) == (mask.id, "cat", "dog")
    assert revision(project, mask.id) == 2  # the second stroke, never a relabel


def _label_of(p: Project, annotation_id: int) -> str | None:
    (shape,) = [s for s in human(p, "scene.png") if s.id == annotation_id]
    return shape.label  # type: ignore[no-any-return]


def _assert_label(p: Project, annotation_id: int, label: str) -> None:
    (box,) = [s for s in human(p, "scene.png") if s.id == annotation_id]
    assert box.label == label


# -- selection, clipboard, undo --------------------------------------------------------------------------
def test_multiselect_delete_copy_paste(show: Show, project: Project) -> None:
    ids = project.annotate(
        "scene.png",
        [
            lb.Box(50, 50, 100, 100, label="cat"),
            lb.Box(250, 50, 100, 100, label="cat"),
            lb.Box(500, 300, 120, 80, label="dog"),
        ],
    )
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_tool("select")
    v.drag((20, 20), (400, 200), modifiers=["Shift"])  # a selection rectangle around the two cats
    assert len(v.state()["selected"]) == 2
    v.click(560, 340, modifiers=["Shift"])  # shift-click adds the dog ...
    assert len(v.state()["selected"]) == 3
    v.click(560, 340, modifiers=["Shift"])  # ... and removes it again
    assert len(v.state()["selected"]) == 2
    v.action("delete")
    v.idle()
    (dog,) = wait_shapes(project, "scene.png", "box", 1)
    assert dog.id == ids[2]
    assert sorted(edit_events(project, "annotation.delete").annotation_id.tolist()) == ids[:2]
    assert project.history(ids[0]).deleted.tolist() == [False, True]

    v.click(560, 340)
    v.action("copy")
    v.action("paste")
    v.idle()
    boxes = wait_shapes(project, "scene.png", "box", 2)
    copy = boxes[1]
    assert copy.id not in ids
    assert copy.label == "dog"
    assert (copy.w, copy.h) == pytest.approx((120, 80), abs=0.01)


def test_undo_redo_follow_the_store(show: Show, project: Project) -> None:
    v = show(project.annotator(assets=["scene.png"]))
    v.pick_class("cat")
    v.pick_tool("box")
    v.drag((100, 100), (300, 200))
    v.idle()
    (box,) = wait_shapes(project, "scene.png", "box", 1)
    tol = v.pixel_tolerance()
    v.pick_tool("select")
    v.click(200, 150)
    v.drag((200, 150), (260, 190))
    v.idle()
    wait_revision(project, box.id, 2)

    v.action("undo")  # the move
    v.idle()
    wait_revision(project, box.id, 3)
    assert_box(human(project, "scene.png", "box")[0], 100, 100, 200, 100, tol)
    v.action("undo")  # the create: deleted from the store
    v.idle()
    wait_shapes(project, "scene.png", "box", 0)
    v.action("redo")  # restored, same id
    v.idle()
    (again,) = wait_shapes(project, "scene.png", "box", 1)
    assert again.id == box.id
    v.action("redo")  # moved again
    v.idle()
    wait_revision(project, box.id, 6)
    assert_box(human(project, "scene.png", "box")[0], 160, 140, 200, 100, tol)
    assert project.history(box.id).replaced_by.tolist() == [
        "update",
        "update",
        "delete",
        "restore",
        "update",
        "current",
    ]
    assert v.state()["pending"] == 0


# -- navigation, keymap, help ------------------------------------------------------------------------------
def test_navigation_flushes_edits(show: Show, project: Project) -> None:
    w = project.annotator(assets=["scene.png", "gray.png"])
    v = show(w)
    status = v.hook('[data-testid="status"]')
    v.pick_tool("box")
    v.drag((100, 100), (200, 200))
    v.action("next_image")  # at once, inside the 300 ms debounce: the edit must be flushed first
    expect(status).to_contain_text("gray.png")
    eventually(lambda: _assert_position(w, 1))
    v.wait_ready()
    assert v.state()["shapes"] == []
    wait_shapes(project, "scene.png", "box", 1)

    v.drag((300, 300), (400, 400))
    v.hook('button[data-action="prev_image"]').click()
    expect(status).to_contain_text("scene.png")
    eventually(lambda: _assert_position(w, 0))
    v.wait_ready()
    assert len(v.state()["shapes"]) == 1
    (gray_box,) = wait_shapes(project, "gray.png", "box", 1)
    assert_box(gray_box, 300, 300, 100, 100, v.pixel_tolerance())
    assert len(edit_events(project, "annotation.create")) == 2


def _assert_position(w: Any, index: int) -> None:
    assert w.position == index
    assert w.image_info["index"] == index


def test_help_overlay_lists_every_action(show: Show, project: Project) -> None:
    w = project.annotator(assets=["scene.png"])
    v = show(w)
    helper = v.hook('[data-testid="help"]')
    expect(helper).to_be_hidden()
    v.focus()
    v.action("help")
    expect(helper).to_be_visible()
    text = helper.inner_text().lower()
    missing = [
        action
        for action in w.keymap
        if helper.locator(f'[data-action="{action}"]').count() == 0 and action.replace("_", " ") not in text
    ]
    assert not missing, f"actions not listed in the help overlay: {missing}"
    keys = [k for k in w.keymap.values() if len(k) > 1 and "+" not in k]  # ArrowRight, Delete, Escape, Enter
    assert all(k.lower() in text for k in keys), (keys, text)
    v.action("cancel")
    expect(helper).to_be_hidden()


def test_help_lists_only_the_tools_the_schema_allows(show: Show, tmp_path: Path, image_files: dict[str, Path]) -> None:
    """Without a keypoint class there is no keypoints tool: the help lists neither it nor its keys."""
    p = make_project(tmp_path / "boxes.labnb", image_files, {"name": "cat"}, {"name": "dog"})
    w = p.annotator(assets=["scene.png"])
    assert "keypoints" in w.schema["tools"]  # the schema allows it, but no class has keypoints
    v = show(w)
    assert v.tool_button("keypoints").count() == 0
    v.focus()
    v.action("help")
    helper = v.hook('[data-testid="help"]')
    expect(helper).to_be_visible()
    for action in ("tool_keypoints", "toggle_keypoint_visibility"):
        assert helper.locator(f'[data-action="{action}"]').count() == 0, f"{action} listed without a keypoint class"
    text = helper.inner_text()
    assert "Keypoints" not in text, text
    for action in ("tool_box", "tool_polygon", "tool_mask", "close_polygon"):
        assert helper.locator(f'[data-action="{action}"]').count() == 1, action


def test_remapped_key(show: Show, project: Project) -> None:
    w = project.annotator(assets=["scene.png"], keymap={"tool_box": "r"})
    v = show(w)
    v.pick_tool("select")
    v.focus()
    v.press("b")  # no longer the box tool
    assert v.state()["tool"] == "select"
    v.press("r")
    expect(v.tool_button("box")).to_have_attribute("aria-pressed", "true")
    v.drag((100, 100), (250, 220))
    v.idle()
    wait_shapes(project, "scene.png", "box", 1)
    v.action("help")
    expect(v.hook('[data-testid="help"] [data-action="tool_box"] kbd')).to_have_text("R")


# -- viewing -------------------------------------------------------------------------------------------------
def _differs_from(shot: np.ndarray[Any, Any], sx: float, sy: float, background: tuple[int, int, int]) -> bool:
    """Whether any pixel within 3 screen px of (sx, sy) differs from ``background``."""
    patch = shot[round(sy) - 3 : round(sy) + 4, round(sx) - 3 : round(sx) + 4].reshape(-1, 3)
    return any(not near(c, background, 30) for c in patch)


#: person skeletons on deep16.png, black left half and white right half: (name, x, y, visibility)
_SKELETONS = {
    "black": [("head", 80, 240, 2), ("left_hand", 170, 150, 1), ("right_hand", 170, 330, 2)],
    "white": [("head", 560, 240, 1), ("left_hand", 470, 150, 2), ("right_hand", 470, 330, 2)],
}


def test_keypoint_visibility_reads_the_same_on_white_and_black(show: Show, project: Project) -> None:
    """Visible points are filled with the class colour, occluded ones hollow (the image shows in their middle),
    and both have an outline that shows on white and on black (a dark ring and a light one)."""
    for points in _SKELETONS.values():
        project.annotate("deep16.png", lb.Keypoints({n: (x, y, vis) for n, x, y, vis in points}, label="person"))
    v = show(project.annotator(assets=["deep16.png"]))
    v.page.mouse.move(2, 2)  # no hover emphasis
    v.idle()
    shot = v.screenshot()
    green = (0, 158, 115)  # person's #009E73
    for background, points in _SKELETONS.items():
        bg = (0, 0, 0) if background == "black" else (255, 255, 255)
        for name, x, y, vis in points:
            sx, sy = v.to_screen(x, y)
            centre = tuple(int(c) for c in shot[round(sy), round(sx)])
            what = f"{'visible' if vis == 2 else 'occluded'} {name} on {background}"
            if vis == 2:
                assert near(centre, green, 45), f"{what}: middle {centre}, not filled with the class colour"
            else:
                assert near(centre, bg, 30), f"{what}: middle {centre}, not hollow"
            ring = [
                tuple(int(c) for c in shot[round(sy + r * math.sin(a)), round(sx + r * math.cos(a))])
                for r in (5.5, 6.0, 6.5, 7.0, 7.5)
                for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)
            ]
            if background == "white":
                assert any(max(c) < 90 for c in ring), f"{what}: no dark outline on white: {sorted(set(ring))}"
            else:
                assert any(min(c) > 170 for c in ring), f"{what}: no light outline on black: {sorted(set(ring))}"


def test_hide_and_show_by_class(show: Show, project: Project) -> None:
    project.annotate("scene.png", [lb.Box(60, 100, 200, 150, label="cat"), lb.Box(450, 300, 200, 150, label="dog")])
    v = show(project.annotator(assets=["scene.png"]))
    cat_edge, dog_edge = v.to_screen(60, 175), v.to_screen(650, 375)
    dark, light = IMAGES["scene.png"][1], IMAGES["scene.png"][2]
    shot = v.screenshot()
    assert _differs_from(shot, *cat_edge, dark), "the cat box is not drawn"
    assert _differs_from(shot, *dog_edge, light), "the dog box is not drawn"

    v.hook('[data-class-visibility="cat"]').click()
    v.idle()
    shot = v.screenshot()
    assert not _differs_from(shot, *cat_edge, dark), "the hidden cat box is still drawn"
    assert _differs_from(shot, *dog_edge, light), "the dog box disappeared with the cats"
    v.pick_tool("select")
    v.click(160, 175)
    assert v.state()["selected"] == [], "a hidden shape can be selected"

    v.hook('[data-class-visibility="cat"]').click()
    v.idle()
    assert _differs_from(v.screenshot(), *cat_edge, dark), "the cat box did not come back"
    assert len(human(project, "scene.png", "box")) == 2
    assert set(project.annotations.df.revision) == {1}


def test_zoom_with_wheel_and_fit(show: Show, project: Project, page_session: Page) -> None:
    v = show(project.annotator(assets=["scene.png"]))
    fit = v.zoom
    sx, sy = v.to_screen(600, 450)
    page_session.mouse.move(sx, sy)
    for _ in range(3):
        page_session.mouse.wheel(0, -300)
    eventually(lambda: _assert_zoomed(v, fit * 1.3))
    ix, iy = v.to_image(sx, sy)
    assert math.hypot(ix - 600, iy - 450) <= 3, f"the point under the cursor moved to {(ix, iy)}"

    v.pick_tool("box")  # drawing while zoomed still lands in image pixels
    v.drag((580, 430), (630, 470))
    v.idle()
    (box,) = wait_shapes(project, "scene.png", "box", 1)
    assert_box(box, 580, 430, 50, 40, v.pixel_tolerance())

    v.focus()
    v.action("zoom_fit")
    eventually(lambda: _assert_zoom(v, fit))


def _assert_zoomed(v: AnnotatorView, at_least: float) -> None:
    assert v.zoom >= at_least, v.zoom


def _assert_zoom(v: AnnotatorView, expected: float) -> None:
    assert v.zoom == pytest.approx(expected, rel=0.01)


def test_durations_count_work_and_exclude_idle(show_fresh: Show, fresh_page: Page, project: Project) -> None:
    """Active time per edit, measured in the page: a 20 s pause counts, 5 idle minutes do not."""
    fresh_page.clock.install()
    v = show_fresh(project.annotator(assets=["scene.png"]))
    v.pick_tool("box")
    v.move(100, 100)
    fresh_page.clock.fast_forward(20_000)
    v.drag((100, 100), (200, 200))
    v.idle()
    wait_shapes(project, "scene.png", "box", 1)
    v.move(300, 300)
    fresh_page.clock.fast_forward(5 * 60_000)
    v.drag((300, 300), (400, 400))
    v.idle()
    wait_shapes(project, "scene.png", "box", 2)
    first, second = edit_events(project, "annotation.create").duration.tolist()
    assert first >= 20, f"a 20 s pause between edits was not counted: {first} s"
    assert 0 < second < 60, f"5 idle minutes counted as work: {second} s"


# -- odd and large images ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gray.png", "deep16.png", "cmyk.jpg", "rgba.png"])
def test_odd_images_display_in_full_resolution(show: Show, project: Project, name: str) -> None:
    (width, height), left, right = IMAGES[name]
    w = project.annotator(assets=[name])
    v = show(w)
    shot = v.screenshot()
    assert near(v.color_at(width * 0.25, height / 2, shot), left), v.color_at(width * 0.25, height / 2, shot)
    got = v.color_at(width * 0.75, height / 2, shot)
    if right is None:
        assert not near(got, (0, 0, 255), 80), f"transparent pixels show their colour: {got}"
    else:
        assert near(got, right), got
    v.pick_tool("box")
    v.drag((width * 0.6, height * 0.2), (width * 0.9, height * 0.7))
    v.idle()
    (box,) = wait_shapes(project, name, "box", 1)
    assert_box(box, width * 0.6, height * 0.2, width * 0.3, height * 0.5, v.pixel_tolerance())


def test_very_wide_image(show: Show, project: Project, page_session: Page) -> None:
    (width, height), left, right = IMAGES["wide.jpg"]
    w = project.annotator(assets=["wide.jpg"])
    v = show(w)
    assert (w.image_info["width"], w.image_info["height"]) == (width, height)
    # no bitmap over 8192 px ever reaches the page: the stored preview (1024 px), then 512-px tiles
    assert w.image == b""
    assert w.image_info["tiles"]["size"] <= 8192
    assert max(w.image_info["preview_width"], w.image_info["preview_height"]) <= 8192
    shot = v.screenshot()
    assert near(v.color_at(10_000, 200, shot), left), v.color_at(10_000, 200, shot)
    assert near(v.color_at(40_000, 200, shot), right), v.color_at(40_000, 200, shot)

    page_session.mouse.move(*v.to_screen(49_500, 200))  # zoom in at the right edge until 400 px are ~80 on screen
    for _ in range(40):
        if v.zoom >= 0.2:
            break
        page_session.mouse.wheel(0, -400)
        page_session.wait_for_timeout(30)
    assert v.zoom >= 0.2, v.zoom
    v.pick_tool("box")
    v.drag((49_000, 50), (49_950, 350))
    v.idle()
    (box,) = wait_shapes(project, "wide.jpg", "box", 1)
    assert_box(box, 49_000, 50, 950, 300, v.pixel_tolerance())
    assert box.x + box.w > 49_900


def test_second_view_shows_the_same_shapes(show: Show, project: Project) -> None:
    project.annotate("scene.png", lb.Box(50, 50, 100, 100, label="cat"))
    w = project.annotator(assets=["scene.png"])
    first, second = show(w), show(w)
    assert len(second.state()["shapes"]) == 1
    first.pick_tool("box")
    first.drag((300, 300), (450, 420))
    first.idle()
    (_, drawn) = wait_shapes(project, "scene.png", "box", 2)

    def mirrored() -> None:
        shapes = second.state()["shapes"]
        assert sorted(s["id"] for s in shapes) == sorted(s.id for s in human(project, "scene.png"))

    eventually(mirrored)
    # Python does not resend every shape after an edit: a view shown later still starts with all of them
    third = show(w)
    assert sorted(s["id"] for s in third.state()["shapes"]) == sorted(s.id for s in human(project, "scene.png"))
    (g,) = [s["geometry"] for s in second.state()["shapes"] if s["id"] == drawn.id]
    assert (g["x"], g["y"], g["w"], g["h"]) == pytest.approx((drawn.x, drawn.y, drawn.w, drawn.h))
    shot = second.screenshot()
    assert _differs_from(shot, *second.to_screen(300, 360), IMAGES["scene.png"][1]), "not drawn in the second view"

    project.annotate("scene.png", lb.Box(600, 100, 100, 100, label="dog"))  # written from Python ...
    w.refresh()  # ... and pushed to both views

    def both_show_three() -> None:
        assert len(first.state()["shapes"]) == len(second.state()["shapes"]) == 3

    eventually(both_show_three)


def test_refused_edit_is_shown_and_the_view_follows_the_store(show: Show, project: Project) -> None:
    """Someone else deleted the box meanwhile: moving it is refused, the widget says so, the box goes away."""
    (bid,) = project.annotate("scene.png", lb.Box(200, 150, 200, 100, label="cat"))
    w = project.annotator(assets=["scene.png"])
    v = show(w)
    lb.Project.open(project.location).delete_annotation(bid)  # another process: not pushed to the view
    v.pick_tool("select")
    v.click(300, 200)
    v.drag((300, 200), (350, 230))
    v.idle()
    expect(v.hook('[data-testid="error"]')).to_contain_text(f"annotation {bid}")
    eventually(lambda: _assert_no_shapes(v))
    assert human(project, "scene.png") == []
    assert project.history(bid).replaced_by.tolist() == ["delete", "current"]


def _assert_no_shapes(v: AnnotatorView) -> None:
    assert v.state()["shapes"] == []


def test_nan_shapes_from_python_raise(project: Project) -> None:
    """No browser needed: the trait checks itself when set from the kernel."""
    w = project.annotator(assets=["scene.png"])
    before = list(w.shapes)
    bad = {"id": None, "cid": "t1", "label": "cat", "attributes": {}, "track_id": None}
    with pytest.raises(traitlets.TraitError, match=r"(?i)nan|finite"):
        w.shapes = [{**bad, "geometry": {"kind": "box", "x": float("nan"), "y": 1, "w": 2, "h": 3}}]
    with pytest.raises(traitlets.TraitError, match=r"scene\.png"):
        w.shapes = [{**bad, "geometry": {"kind": "box", "x": 790, "y": 1, "w": 100, "h": 3}}]
    assert w.shapes == before


# -- hostile input ------------------------------------------------------------------------------------------
# Names with HTML markup are refused by the schema (tests/test_annotator_python.py); names that are plain
# text but hold HTML-significant characters must still be shown as text and be usable.
TRICKY_LABELS = ["age<5 & x > y", "fish & chips"]
EVIL_GUIDE = """# How to draw

<script>window.__labnbPwned = "script"; alert("script")</script>
<img src="x" onerror="window.__labnbPwned = 'img'; alert('img')">
<b onmouseover="alert('hover')">hover me</b>
<a href="javascript:alert('link')">a link</a>
<iframe src="javascript:alert('frame')"></iframe>
"""


def test_hostile_guide_and_names_never_run(show: Show, tmp_path: Path, image_files: dict[str, Path]) -> None:
    p = make_project(tmp_path / "evil.labnb", image_files, *({"name": n} for n in TRICKY_LABELS))
    v = show(p.annotator(assets=["scene.png"], guide=EVIL_GUIDE))
    guide = v.hook('[data-testid="guide"]')
    expect(guide).to_contain_text("How to draw")
    guide.get_by_text("hover me").hover()
    v.page.wait_for_timeout(300)  # an onerror or onmouseover would have fired by now
    assert v.page.evaluate("() => window.__labnbPwned") is None
    handlers = v.page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap((el) =>
            [...el.attributes].filter((a) => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))
                .map((a) => `${el.tagName} ${a.name}=${a.value}`))"""
    )
    assert handlers == []
    assert v.root.locator("script, iframe, object, embed").count() == 0
    assert v.root.locator("[data-class] img, [data-class-visibility] img").count() == 0
    assert v.root.locator("[data-class]").count() == 2


def test_labels_with_html_characters_are_shown_as_text_and_usable(
    show: Show, tmp_path: Path, image_files: dict[str, Path]
) -> None:
    p = make_project(tmp_path / "tricky.labnb", image_files, *({"name": n} for n in TRICKY_LABELS))
    v = show(p.annotator(assets=["scene.png"]))
    buttons = v.root.locator("[data-class]")
    assert [buttons.nth(i).get_attribute("data-class") for i in range(buttons.count())] == TRICKY_LABELS
    expect(buttons.first).to_contain_text("age<5 & x > y")  # as text, never parsed as markup
    buttons.first.click()
    v.pick_tool("box")
    v.drag((100, 100), (200, 200))
    v.idle()
    (box,) = wait_shapes(p, "scene.png", "box", 1)
    assert box.label == "age<5 & x > y"
