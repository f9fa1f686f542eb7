"""Per-object label metrics on hand-made images with known answers and on the sample's ground truth: areas,
aspect, border closeness, density counted once under overlap, duplicates within a label and overlaps across."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import labnb as lb
from labnb.metrics.quality.labels import DUPLICATE_IOU, label_metrics


def test_known_answers_on_a_hand_made_image() -> None:
    shapes = [
        lb.Box(0, 0, 10, 10, label="cat"),
        lb.Box(1, 0, 10, 10, label="cat"),  # the same cat drawn twice: IoU 90 / 110
        lb.Box(50, 50, 20, 10, label="dog"),
        lb.Polygon([[50, 50, 70, 50, 70, 60, 50, 60]], label="bird"),  # the dog's box as a bird
        lb.Tag("day"),
    ]
    m = label_metrics(shapes, 100, 100)
    assert list(m["index"]) == [0, 1, 2, 3]  # the tag is no object
    assert list(m.area) == [100, 100, 200, 200]
    assert m.loc[2, "aspect_ratio"] == 2.0
    assert list(m.border_closeness.round(6)) == [1.0, 1.0, 0.4, 0.4]
    assert (m.object_count == 4).all()
    assert m.frame_density.iloc[0] == pytest.approx((110 + 200) / 10_000)  # overlaps counted once
    assert m.loc[0, "duplicate_iou"] == pytest.approx(90 / 110)
    assert list(m.duplicate) == [True, True, False, False]
    assert m.loc[2, "overlap_other_label"] == pytest.approx(1.0)  # dog and bird: one object, two labels
    assert m.loc[0, "overlap_other_label"] == 0.0
    assert DUPLICATE_IOU == 0.6
    assert label_metrics([lb.Tag("day")], 10, 10).empty


def test_masks_and_keypoints_count_by_their_regions() -> None:
    grid = np.zeros((40, 60), bool)
    grid[10:20, 10:30] = True
    mask = lb.Mask(grid, label="cat")
    kp = lb.Keypoints({"nose": (5, 5, 2), "tail": (15, 25, 2)}, label="cat")
    m = label_metrics([mask, kp], 60, 40)
    assert m.loc[0, "area"] == 200
    assert m.loc[1, "area"] == pytest.approx(10 * 20)
    assert m.frame_density.iloc[0] == pytest.approx((200 + 200 - 50) / 2400)  # they share 5 x 10 pixels


def test_the_sample_ground_truth_reads_sensibly(tmp_path: Path) -> None:
    p = lb.Project.create(tmp_path / "labels.labnb", labels=[])
    p.import_coco(lb.sample.COCO_FILE, images=lb.sample.IMAGES, source="ground_truth", progress=False)
    for asset in p.assets:
        shapes = p.get_annotations(asset, source="ground_truth")
        m = label_metrics(shapes, asset.width, asset.height)
        objects = [s for s in shapes if s.kind != "tag"]
        assert len(m) == len(objects)
        assert ((m.relative_area > 0) & (m.relative_area <= 1)).all()
        assert ((m.border_closeness >= 0) & (m.border_closeness <= 1)).all()
        assert 0 < m.frame_density.iloc[0] <= 1
