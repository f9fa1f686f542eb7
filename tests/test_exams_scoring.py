"""The automatic pre-score of an exam, checked against an independent matching of the same shapes: the
sample photos' COCO outlines as gold, a trainee's sloppy attempt (shifted outlines, missed objects, wrong
classes, a stray shape), and the reference computed here with pycocotools' mask IoU and scipy's Hungarian
assignment per class, as a reviewer checking labnb would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment

import labnb as lb
from labnb.sample import demo_project


def reference(gold: list[lb.Polygon], drawn: list[lb.Polygon], h: int, w: int) -> tuple[int, int, int, list[float]]:
    """(tp, fp, fn, IoUs of the matches): one-to-one within a class, IoU >= 0.5, largest total IoU."""
    tp, ious = 0, []
    for label in {s.label for s in gold} | {s.label for s in drawn}:
        g = [s for s in gold if s.label == label]
        d = [s for s in drawn if s.label == label]
        if not g or not d:
            continue
        rle = lambda s: mask_utils.merge(mask_utils.frPyObjects([p.ravel().tolist() for p in s.parts], h, w))  # noqa: E731
        m = np.asarray(mask_utils.iou([rle(s) for s in g], [rle(s) for s in d], [0] * len(d))).reshape(len(g), len(d))
        rows, cols = linear_sum_assignment(-np.where(m >= 0.5, m, 0))
        hits = [m[r, c] for r, c in zip(rows, cols, strict=True) if m[r, c] >= 0.5]
        tp += len(hits)
        ious += hits
    return tp, len(drawn) - tp, len(gold) - tp, ious


def test_prescore_agrees_with_an_independent_matching(tmp_path: Path) -> None:
    path = str(tmp_path / "exam.labnb")
    owner = demo_project(path, user="olga")
    owner.members.add("tina", "annotator")
    owner.members.add("rita", "reviewer")
    exam = owner.exams.create("outlines", grants=["outliner"])
    gold = {a: exam.gold_shapes(a) for a in exam.assets}
    rng = np.random.default_rng(7)
    classes = owner.schema.names
    tina = lb.Project.open(path, user="tina")
    tina.exams.start("outlines")
    drawn: dict[int, list[lb.Polygon]] = {}
    while (task := tina.next_task()) is not None:
        a = task.asset
        size = np.array([a.width, a.height])
        shapes = []
        for i, s in enumerate(gold[a.id]):
            if i % 4 == 3:
                continue  # missed
            shift = rng.uniform(-6, 6, size=2)
            label = s.label if i % 5 != 2 else classes[(classes.index(s.label) + 1) % len(classes)]  # wrong class
            shapes.append(lb.Polygon([np.clip(p + shift, 0, size - 1) for p in s.parts], label=label))
        shapes.append(lb.Polygon([[5, 5], [40, 5], [40, 40], [5, 40]], label=classes[0]))  # a stray shape
        drawn[a.id] = shapes
        task.submit(shapes)
    totals = np.zeros(3, int)
    all_ious: list[float] = []
    for asset_id, shapes in drawn.items():
        a = owner.asset(asset_id)
        tp, fp, fn, ious = reference(gold[asset_id], shapes, a.height, a.width)
        totals += (tp, fp, fn)
        all_ious += ious
    result = lb.Project.open(path, user="rita").exams["outlines"].results().iloc[0]
    tp, fp, fn = totals
    assert fn > 0
    assert fp > len(drawn)
    assert result.precision == pytest.approx(tp / (tp + fp))
    assert result.recall == pytest.approx(tp / (tp + fn))
    assert result.mean_iou == pytest.approx(float(np.mean(all_ious)), abs=1e-9)
    assert result.wrong_label > 0
