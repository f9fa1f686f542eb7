"""Model assist in a real browser: the real YOLOX-Nano on a real COCO photo, its suggestions drawn as grey
ghosts, accepted with the mouse and the keyboard, and what lands in the store.

The photo (COCO 261888, CC BY) shows a cyclist, people and a horse. With the project's classes person,
bicycle and horse the model's names map by name; the stored predictions are (score, class, box):
0.84 bicycle, 0.80 person, 0.67 person, 0.54 person, 0.19 horse, 0.11 person, 0.06 person. The default
threshold 0.3 shows the first four.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from annotator_page import AnnotatorView, eventually
from playwright.sync_api import expect

import labnb as lb
from labnb.assist import OnnxDetector
from labnb.project import Project
from labnb.sample import MODELS
from labnb.store.tables import annotation_rows

Show = Callable[..., AnnotatorView]
PHOTO = "000000261888.jpg"

pytestmark = pytest.mark.filterwarnings("ignore:model 'yolox_nano'")  # the 77 COCO classes the project lacks


@pytest.fixture(scope="module")
def model() -> OnnxDetector:
    return OnnxDetector(MODELS / "yolox_nano.onnx", "yolox", classes=MODELS / "yolox_coco_classes.txt")


@pytest.fixture
def photo(tmp_path: Path, repo_data: Path) -> Project:
    p = Project.create(tmp_path / "assist.labnb", labels=["person", "bicycle", "horse"], name="assist")
    p.add_images([repo_data / "coco_tiny_ccby" / "images" / PHOTO], progress=False)
    return p


# -- helpers ------------------------------------------------------------------------------------------
def ghosts(v: AnnotatorView) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = v.state()["ghosts"]
    return result


def visible(v: AnnotatorView) -> list[dict[str, Any]]:
    return [g for g in ghosts(v) if g["visible"]]


def show_with_ghosts(show: Show, p: Project, model: OnnxDetector, **kw: Any) -> AnnotatorView:
    """Show the annotator with assist and wait until the model's suggestions are drawn."""
    w = p.annotator(assist=model, **kw)
    v = show(w)

    def drawn() -> None:
        assert w.assist_status == "7 suggestions", w.assist_status
        assert len(ghosts(v)) == 7

    eventually(drawn, timeout=30)
    v.idle()
    return v


def suggestion(v: AnnotatorView, prediction_id: int) -> dict[str, Any]:
    (s,) = [s for s in v.widget.suggestions if s["prediction_id"] == prediction_id]
    return s


def row(p: Project, annotation_id: int) -> Any:
    with p._engine.connect() as conn:
        return conn.execute(sa.select(annotation_rows).where(annotation_rows.c.id == annotation_id)).one()


def human(p: Project) -> list[Any]:
    return sorted(p.get_annotations(PHOTO, source="human"), key=lambda s: s.id)


def origins(p: Project) -> dict[int, int]:
    """{human annotation id: prediction id} from the create events."""
    ev = p.events.df
    out = {}
    for payload in ev[ev.kind == "annotation.create"].payload:
        if "assist" in payload:
            (aid,) = payload["annotation_ids"]
            out[aid] = payload["assist"]["prediction_id"]
    return out


def assert_copied_from_prediction(p: Project, annotation_id: int, prediction_id: int) -> None:
    made, pred = row(p, annotation_id), row(p, prediction_id)
    assert (made.source, pred.source) == ("human", "prediction")
    assert (made.model, made.model_version, made.score) == (pred.model, pred.model_version, pred.score)
    assert (made.x, made.y, made.w, made.h, made.label_id) == (pred.x, pred.y, pred.w, pred.h, pred.label_id)


def park_mouse(v: AnnotatorView) -> None:
    """Move the mouse off the stage: a hovered ghost is highlighted, which would change the pixels."""
    box = v.hook(".lnb-statusbar").bounding_box()
    assert box is not None
    v.page.mouse.move(box["x"] + 5, box["y"] + 5)


def edge_points(box: dict[str, Any], n: int = 24) -> Iterable[tuple[float, float]]:
    x, y, w, h = (box[k] for k in ("x", "y", "w", "h"))
    for t in np.linspace(0.1, 0.9, n // 4):
        yield x + t * w, y
        yield x + t * w, y + h
        yield x, y + t * h
        yield x + w, y + t * h


def changed(
    v: AnnotatorView, a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], points: Iterable[tuple[float, float]]
) -> float:
    """The share of image points whose screen colour differs between two screenshots."""
    diffs = []
    for x, y in points:
        sx, sy = v.to_screen(x, y)
        pa = a[round(sy), round(sx)].astype(int)
        pb = b[round(sy), round(sx)].astype(int)
        diffs.append(int(np.abs(pa - pb).max()) > 24)
    return float(np.mean(diffs))


def geometry(v: AnnotatorView, g: dict[str, Any]) -> dict[str, Any]:
    geo: dict[str, Any] = suggestion(v, g["prediction_id"])["geometry"]
    assert geo["kind"] == "box"
    return geo


def centre(geo: dict[str, Any]) -> tuple[float, float]:
    return geo["x"] + geo["w"] / 2, geo["y"] + geo["h"] / 2


# -- tests --------------------------------------------------------------------------------------------
def test_ghosts_are_drawn_the_slider_hides_low_scores_and_m_turns_them_off(
    show: Show, photo: Project, model: OnnxDetector
) -> None:
    v = show_with_ghosts(show, photo, model)
    w = v.widget
    scores = sorted((g["score"] for g in ghosts(v)), reverse=True)
    assert [round(s, 2) for s in scores] == [0.84, 0.8, 0.67, 0.54, 0.19, 0.11, 0.06]
    shown = visible(v)
    assert sorted(g["score"] for g in shown) == sorted(s for s in scores if s >= 0.3)
    assert {g["label"] for g in shown} == {"bicycle", "person"}
    assert v.hook('[data-testid="assist-status"]').inner_text().startswith("yolox_nano: 7 suggestions, 4 shown")
    bicycle = geometry(v, next(g for g in shown if g["label"] == "bicycle"))
    weakest = geometry(v, min(shown, key=lambda g: g["score"]))  # 0.54: the slider will hide it

    park_mouse(v)
    v.idle()
    on = v.screenshot()
    v.focus()
    v.action("toggle_assist")  # M: off
    park_mouse(v)
    v.idle()
    eventually(lambda: _assert_assist_on(w, False))  # the trait reaches Python
    assert visible(v) == []
    off = v.screenshot()
    assert changed(v, on, off, edge_points(bicycle)) > 0.8, "the ghost box was not drawn"
    assert changed(v, on, off, edge_points(weakest)) > 0.8
    assert changed(v, on, off, [(20, 20), (620, 400), (100, 380)]) == 0, "pixels away from the ghosts changed"
    v.focus()
    v.action("toggle_assist")  # on again: the same ghosts, drawn the same
    eventually(lambda: _assert_visible_count(v, 4))
    eventually(lambda: _assert_assist_on(w, True))  # the trait reaches Python
    park_mouse(v)
    v.idle()
    assert changed(v, on, v.screenshot(), edge_points(bicycle)) < 0.1

    # the slider, clicked with the mouse at about 60 % of its track
    slider = v.hook('[data-testid="assist-threshold"]')
    box = slider.bounding_box()
    assert box is not None
    v.page.mouse.click(box["x"] + 0.6 * box["width"], box["y"] + box["height"] / 2)
    eventually(lambda: _assert_threshold_moved(w))
    t = w.assist_threshold
    expect(v.hook('[data-testid="assist-threshold-value"]')).to_have_text(f"≥ {t:.2f}")
    v.idle()
    after = visible(v)
    assert 0 < len(after) < len(shown)
    assert all(g["score"] >= t for g in after)
    hidden = [g for g in shown if not any(a["cid"] == g["cid"] for a in after)]
    assert hidden
    assert max(g["score"] for g in hidden) < t <= min(g["score"] for g in after)
    park_mouse(v)
    v.idle()
    high = v.screenshot()
    assert changed(v, off, high, edge_points(bicycle)) > 0.8, "a ghost above the threshold is still drawn"
    right_edge = [(weakest["x"] + weakest["w"], weakest["y"] + f * weakest["h"]) for f in np.linspace(0.3, 0.9, 8)]
    assert changed(v, off, high, right_edge) == 0, "a ghost below the threshold is still drawn"


def _assert_assist_on(w: Any, on: bool) -> None:
    assert w.assist_on is on


def _assert_visible_count(v: AnnotatorView, n: int) -> None:
    assert len(visible(v)) == n


def _assert_threshold_moved(w: Any) -> None:
    assert 0.45 < w.assist_threshold < 0.75, w.assist_threshold


def test_click_and_space_accept_one_ghost_and_undo_brings_it_back(
    show: Show, photo: Project, model: OnnxDetector
) -> None:
    v = show_with_ghosts(show, photo, model)
    # Space with no ghost selected still pans (held while dragging)
    before = v.to_screen(100, 100)
    v.focus()
    v.page.keyboard.down("Space")
    v.drag((320, 60), (360, 90))
    v.page.keyboard.up("Space")
    after = v.to_screen(100, 100)
    assert after[0] - before[0] == pytest.approx(40 * v.zoom, abs=3)
    assert human(photo) == []
    v.action("zoom_fit")

    target = next(g for g in visible(v) if round(g["score"], 2) == 0.67)
    v.click(*centre(geometry(v, target)))
    [picked] = [g for g in ghosts(v) if g["selected"]]
    assert picked["cid"] == target["cid"]
    v.press("Space")
    v.idle()
    [made] = eventually(lambda: _one(human(photo)))
    assert origins(photo) == {made.id: target["prediction_id"]}
    assert_copied_from_prediction(photo, made.id, target["prediction_id"])
    assert made.label == "person"
    state = v.state()
    assert [s["prediction_id"] for s in state["shapes"]] == [target["prediction_id"]]
    assert target["cid"] not in [g["cid"] for g in visible(v)], "an accepted ghost is no longer shown"
    assert len(visible(v)) == 3
    ev = photo.events.df
    created = ev[ev.kind == "annotation.create"]
    assert len(created) == 1
    assert created.payload.iloc[0]["assist"]["score"] == row(photo, target["prediction_id"]).score

    v.action("undo")
    v.idle()
    eventually(lambda: _none(human(photo)))
    assert row(photo, made.id).deleted is True
    eventually(lambda: _assert_visible_count(v, 4))
    assert target["cid"] in [g["cid"] for g in visible(v)], "the ghost came back"
    v.action("redo")  # and again: the same annotation restored, not a new one
    v.idle()
    assert [s.id for s in eventually(lambda: _one(human(photo)))] == [made.id]


def _one(items: list[Any]) -> list[Any]:
    assert len(items) == 1, items
    return items


def _none(items: list[Any]) -> None:
    assert items == []


def test_shift_click_selects_several_and_s_accepts_every_ghost_shown(
    show: Show, photo: Project, model: OnnxDetector
) -> None:
    v = show_with_ghosts(show, photo, model)
    shown = visible(v)
    assert len(shown) == 4
    a, b = [g for g in shown if g["label"] == "person"][1:3]
    v.click(*centre(geometry(v, a)))
    v.click(*centre(geometry(v, b)), modifiers=["Shift"])
    assert sorted(g["cid"] for g in ghosts(v) if g["selected"]) == sorted([a["cid"], b["cid"]])
    v.click(*centre(geometry(v, b)), modifiers=["Shift"])  # Shift+click again: out of the selection
    assert [g["cid"] for g in ghosts(v) if g["selected"]] == [a["cid"]]
    v.action("cancel")
    assert not any(g["selected"] for g in ghosts(v))

    v.focus()
    v.action("accept_all_suggestions")  # S
    v.idle()
    made = eventually(lambda: _count(human(photo), len(shown)))
    links = origins(photo)
    assert sorted(links.values()) == sorted(g["prediction_id"] for g in shown)
    for shape in made:
        assert_copied_from_prediction(photo, shape.id, links[shape.id])
    assert visible(v) == []
    with photo._engine.connect() as conn:
        predictions = conn.execute(
            sa.select(sa.func.count()).where(
                annotation_rows.c.source == "prediction", annotation_rows.c.deleted.is_(False)
            )
        ).scalar_one()
    assert predictions == 7  # the predictions stay as they were
    v.action("undo")  # one command: one undo takes them all back
    v.idle()
    eventually(lambda: _none(human(photo)))
    eventually(lambda: _assert_visible_count(v, 4))


def _count(items: list[Any], n: int) -> list[Any]:
    assert len(items) == n, items
    return items


def test_without_a_model_nothing_of_assist_shows(show: Show, photo: Project) -> None:
    w = photo.annotator()
    v = show(w)
    assert v.hook('[data-testid="assist-threshold"]').count() == 0
    assert v.hook('button[data-action="toggle_assist"]').count() == 0
    expect(v.hook('[data-testid="assist-status"]')).to_be_hidden()
    state = v.state()
    assert state["ghosts"] == []
    assert state["assist"]["model"] is None
    assert v.page.evaluate("() => document.querySelector('.lnb-layer-ghosts').width") == 0
    v.focus()
    v.press("m")
    v.press("s")
    v.idle()
    assert v.state()["assist"]["on"] is False
    assert w.assist_on is False
    assert human(photo) == []
    v.action("tool_mask")  # the mask brush has its own key now ("m" is assist's)
    assert v.state()["tool"] == "mask"


def test_a_remapped_assist_key(show: Show, photo: Project, model: OnnxDetector) -> None:
    v = show_with_ghosts(show, photo, model, keymap={"toggle_assist": "g", "accept_all_suggestions": "Shift+a"})
    v.focus()
    v.press("m")  # no longer assist's key
    v.idle()
    assert v.state()["assist"]["on"] is True
    assert len(visible(v)) == 4
    v.press("g")
    eventually(lambda: _assert_visible_count(v, 0))
    eventually(lambda: _assert_assist_on(v.widget, False))  # the trait reaches Python
    v.press("g")
    eventually(lambda: _assert_visible_count(v, 4))
    v.press("Shift+a")
    v.idle()
    eventually(lambda: _count(human(photo), 4))
    assert isinstance(human(photo)[0], lb.Box)
