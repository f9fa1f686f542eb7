"""Annotation rows are written in one place (labnb/annotations/writer.py): whichever caller writes them
(p.annotate, a task's hand-in, a reviewer's fix, job.merge, imports, predictions, mark_ground_truth), the
replaced state goes to the history, the event is written and open widgets show the change. Real project
files and a real PostgreSQL server (``backend_url``); the widgets' kernel side with the comm stand-in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

import labnb as lb
from labnb.annotations.writer import writing
from labnb.people import now
from labnb.store.rows import shape_row
from labnb.store.tables import annotation_rows


@pytest.fixture(autouse=True)
def plain_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets talk through the comm package's stand-in, as in a plain Python session (see
    tests/test_annotator_python.py for why solara's comm, loaded for the browser tests, would hide updates)."""
    import comm  # noqa: PLC0415

    monkeypatch.setattr(comm, "create_comm", comm.DummyComm)


@pytest.fixture
def url(backend_url: str, tmp_path: Path) -> str:
    p = lb.Project.create(
        backend_url,
        labels=["cat", "dog"],
        tags=[{"name": "light", "options": ["day", "night"]}],
        attributes=[{"name": "occluded", "type": "choice", "options": ["yes", "no"]}],
        user="olga",
        overwrite=True,
    )
    for i in range(3):
        Image.fromarray(np.full((100, 200, 3), 50 * i, np.uint8)).save(tmp_path / f"im{i}.png")
    p.add_images(sorted(tmp_path.glob("im*.png")), progress=False)
    for user, role in {"alice": "annotator", "bob": "annotator", "carol": "reviewer"}.items():
        p.members.add(user, role)
    return backend_url


def boxes_of(widget: Any) -> list[tuple[float, float]]:
    return sorted((d["geometry"]["x"], d["geometry"]["y"]) for d in widget.shapes if d["geometry"]["kind"] == "box")


def test_a_reviewers_fix_from_python_reaches_the_open_widget_and_keeps_history(url: str) -> None:
    olga = lb.Project.open(url, user="olga")
    job = olga.jobs.create("fixes", passes_per_file=1, review_frequency=1)
    job.launch()
    draw = lb.Project.open(url, user="alice").next_task()
    assert draw is not None
    draw.submit([lb.Box(10, 10, 40, 40, label="cat")])
    (old_id,) = [s.id for s in draw.shapes()]
    carol = lb.Project.open(url, user="carol")
    review = carol.next_task("review")
    assert review is not None
    widget = review.annotator()  # the pass under review, as the reviewer sees it
    assert boxes_of(widget) == [(10, 10)]
    review.review("fix", shapes=[lb.Box(60, 20, 30, 30, label="dog")])
    assert boxes_of(widget) == [(60, 20)]  # without a notice the widget still showed the drawer's box
    assert old_id is not None
    hist = carol.history(old_id)
    assert list(hist.action) == ["create", "delete"]
    assert list(hist.user) == ["alice", "carol"]
    ev = carol.events.df
    replaced = ev[ev.kind == "annotation.replace"].iloc[-1]
    assert replaced.task_id == review.id  # the reviewer's work is of the review task
    assert replaced.payload["deleted"] == [old_id]


def test_merging_again_keeps_the_earlier_consensus_in_history(url: str) -> None:
    olga = lb.Project.open(url, user="olga")
    asset = next(iter(olga.assets))
    job = olga.jobs.create("merge", assets=[asset.id], passes_per_file=2, review_frequency=0)
    job.launch()
    for user, x in (("alice", 10), ("bob", 12)):
        task = lb.Project.open(url, user=user).next_task()
        assert task is not None
        task.submit([lb.Box(x, 10, 40, 40, label="cat")])
    job.merge(progress=False)
    (first,) = olga.get_annotations(asset.id, source="consensus")
    job.merge(min_votes=2, progress=False)
    (second,) = olga.get_annotations(asset.id, source="consensus")
    assert first.id != second.id
    assert first.id is not None
    hist = olga.history(first.id)
    assert list(hist.replaced_by) == ["delete", "current"]
    assert bool(hist.deleted.iloc[-1])
    assert hist.geometry[0].bbox == pytest.approx((11, 10, 40, 40))
    merges = olga.events.df[olga.events.df.kind == "annotation.merge"]
    assert [p["deleted"] for p in merges.payload] == [[], [first.id]]


def test_an_import_reaches_the_open_widget(url: str, tmp_path: Path) -> None:
    olga = lb.Project.open(url, user="olga")
    widget = olga.annotator()
    shown = widget.asset
    coco = {
        "images": [{"id": 1, "file_name": shown.file_name, "width": shown.width, "height": shown.height}],
        "categories": [{"id": 7, "name": "cat"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [5, 6, 20, 30], "iscrowd": 0}],
    }
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(coco))
    olga.import_coco(path, images=tmp_path, progress=False, source="human")
    assert boxes_of(widget) == [(5, 6)]


def test_marked_ground_truth_reaches_a_ground_truth_widget(url: str) -> None:
    carol = lb.Project.open(url, user="carol")
    asset = next(iter(carol.assets))
    (aid,) = carol.annotate(asset, lb.Box(30, 30, 20, 20, label="dog"))
    gt_widget = carol.annotator(source="ground_truth")
    assert gt_widget.shapes == []
    carol.mark_ground_truth(aid)
    assert boxes_of(gt_widget) == [(30, 30)]


def test_annotations_df_shows_tag_values_attributes_and_model_origin(url: str) -> None:
    olga = lb.Project.open(url, user="olga")
    asset = next(iter(olga.assets))
    occluded_cat = lb.Box(1, 1, 5, 5, label="cat", attributes={"occluded": "yes"})
    olga.annotate(asset, [lb.Tag("night", group="light"), occluded_cat])
    dog = lb.Box(50, 20, 30, 30, label="dog", score=0.87)
    row = shape_row(dog, project_id=olga.id, asset_id=asset.id, cls=olga.schema.get("dog"), user="olga", now=now(),
                    source="prediction", model="yolox", model_version="abc123")  # fmt: skip
    with writing(olga) as w:  # a stored prediction, written as pre_annotate writes its model's output
        w.bulk_create([row], kind="assist.predict", payload={}, asset_ids=[asset.id], sources=["prediction"])
    (pred,) = olga.predictions.df.prediction_id
    widget = olga.annotator()
    dto = {"id": None, "cid": "c1", "label": "dog", "attributes": {}, "prediction_id": pred,
           "geometry": {"kind": "box", "x": 50, "y": 20, "w": 30, "h": 30}}  # fmt: skip
    widget._on_message(widget, {"type": "edits", "batch": 1, "asset_id": asset.id,
                                "edits": [{"op": "create", "cid": "c1", "shape": dto}]}, [])  # fmt: skip
    df = olga.annotations.df.set_index("kind")
    assert (df.loc["tag", "group"], df.loc["tag", "value"]) == ("light", "night")
    assert df.loc["tag", ["x", "y", "w", "h", "area"]].isna().all()  # not a box at the origin
    assert df.loc["box", "w"].notna().all()
    assert df.loc["box"].set_index("label").loc["cat", "occluded"] == "yes"
    committed = df.loc["box"].set_index("label").loc["dog"]
    assert (committed.model, committed.model_version, committed.score) == ("yolox", "abc123", pytest.approx(0.87))
    assert committed.prediction_id == pred


def test_history_of_a_box_edited_into_a_polygon(url: str) -> None:
    olga = lb.Project.open(url, user="olga")
    asset = next(iter(olga.assets))
    (aid,) = olga.annotate(asset, lb.Box(10, 10, 20, 20, label="cat"))
    olga.update_annotation(aid, lb.Polygon([(10, 10), (40, 10), (25, 40)], label="cat"))
    hist = olga.history(aid)
    assert [type(g).__name__ for g in hist.geometry] == ["Box", "Polygon"]
    assert hist.geometry[0].bbox == (10, 10, 20, 20)


def test_writes_of_each_source_need_its_role(url: str) -> None:
    alice = lb.Project.open(url, user="alice")
    asset = next(iter(alice.assets))
    with pytest.raises(lb.AccessDenied, match="ground truth"):
        alice.annotate(asset, lb.Box(1, 1, 5, 5, label="cat"), source="ground_truth")
    (aid,) = alice.annotate(asset, lb.Box(1, 1, 5, 5, label="cat"))
    with pytest.raises(lb.AccessDenied):
        alice.mark_ground_truth(aid)
    with alice._engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(annotation_rows)).scalar_one() == 1


def test_a_pass_is_written_only_by_its_drawer_while_open_or_its_reviewer(url: str) -> None:
    olga = lb.Project.open(url, user="olga")
    asset = next(iter(olga.assets))
    olga.jobs.create("blind", assets=[asset.id], passes_per_file=2, review_frequency=1).launch()
    alice, bob = lb.Project.open(url, user="alice"), lb.Project.open(url, user="bob")
    mine = alice.next_task()
    assert mine is not None
    (box,) = alice.annotate(asset, lb.Box(10, 10, 30, 30, label="cat"), task_id=mine.id)
    alice.update_annotation(box, lb.Box(11, 10, 30, 30, label="cat"))  # open: the drawer edits it
    mine.submit()
    for who in (bob, alice, olga):  # another annotator, the drawer after hand-in, even the owner
        with pytest.raises(lb.AccessDenied, match=f"task {mine.id} is 'annotated'"):
            who.update_annotation(box, lb.Box(50, 50, 10, 10, label="dog"))
        with pytest.raises(lb.AccessDenied):
            who.delete_annotation(box)
    # bob's own annotator outside the job neither shows alice's blind pass nor lets him delete it by id
    widget = bob.annotator(assets=[asset.id])
    assert widget.shapes == []
    widget._on_message(widget, {"type": "edits", "batch": 1, "asset_id": asset.id,
                                "edits": [{"op": "delete", "cid": "x", "id": box}]}, [])  # fmt: skip
    assert [s.bbox for s in mine.shapes()] == [(11, 10, 30, 30)]
    carol = lb.Project.open(url, user="carol")
    review = carol.next_task("review")
    assert review is not None
    assert carol.update_annotation(box, lb.Box(12, 10, 30, 30, label="cat")) == 3  # the reviewer holding it fixes
    review.review("accept")
    with pytest.raises(lb.AccessDenied, match="'completed'"):
        carol.update_annotation(box, lb.Box(13, 10, 30, 30, label="cat"))
    assert list(alice.history(box).user) == ["alice", "alice", "carol"]


def test_shape_errors_name_the_image_and_the_shape(url: str) -> None:
    olga = lb.Project.open(url, user="olga")
    asset = next(iter(olga.assets))
    with pytest.raises(lb.GeometryError, match=rf"image '{asset.file_name}', shape #2 of 2: .*outside"):
        olga.annotate(asset, [lb.Box(1, 1, 5, 5, label="cat"), lb.Box(190, 90, 50, 50, label="cat")])
    assert olga.get_annotations(asset) == []
