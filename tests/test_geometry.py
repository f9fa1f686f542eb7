"""Shapes refuse bad geometry where it is written, with a message naming the shape and the problem."""

from __future__ import annotations

import math

import numpy as np
import pytest

import labnb as lb
from labnb.geometry import box_iou, polygon_to_rle


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((math.nan, 0, 10, 10), "finite"),
        ((0, 0, -5, 10), "positive"),
        ((0, 0, 10, 0), "positive"),
        ((0, math.inf, 10, 10), "finite"),
    ],
)
def test_box_rejects_nan_and_non_positive_sizes(args: tuple[float, ...], message: str) -> None:
    with pytest.raises(lb.GeometryError, match=message) as err:
        lb.Box(*args, label="duck")
    assert "'duck'" in str(err.value)


def test_polygon_forms_and_errors() -> None:
    one = lb.Polygon([(0, 0), (10, 0), (10, 10)], label="a")
    flat = lb.Polygon([0, 0, 10, 0, 10, 10], label="a")
    assert one.to_data() == flat.to_data() == [[0, 0, 10, 0, 10, 10]]
    multi = lb.Polygon([[0, 0, 4, 0, 4, 4], [10, 10, 20, 10, 20, 20, 10, 20]], label="a")
    assert len(multi.parts) == 2
    assert multi.bbox == (0, 0, 20, 20)
    assert multi.area == pytest.approx(8 + 100)
    with pytest.raises(lb.GeometryError, match="at least 3 points"):
        lb.Polygon([(0, 0), (1, 1)], label="a")
    with pytest.raises(lb.GeometryError, match="finite"):
        lb.Polygon([(0, 0), (1, math.nan), (2, 2)], label="a")
    with pytest.raises(lb.GeometryError, match="odd number"):
        lb.Polygon([0, 0, 1, 1, 2], label="a")


def test_keypoints_visibility_and_flat_round_trip() -> None:
    kp = lb.Keypoints({"head": (5, 5), "tail": (9, 1, 1)}, label="bird")
    flat = kp.to_flat(["head", "wing", "tail"])
    assert flat == [5, 5, 2, 0, 0, 0, 9, 1, 1]
    back = lb.Keypoints.from_flat(flat, ["head", "wing", "tail"], label="bird")
    assert back.points == {"head": (5, 5, 2), "tail": (9, 1, 1)}
    with pytest.raises(lb.GeometryError, match="visibility"):
        lb.Keypoints({"head": (1, 1, 7)})
    with pytest.raises(lb.GeometryError, match="visibility"):
        lb.Keypoints({"head": (1, 1, 1.5)})  # not silently truncated to 1
    with pytest.raises(lb.GeometryError, match="not in the class"):
        kp.to_flat(["head"])


def test_mask_from_array_and_uncompressed_rle_agree() -> None:
    arr = np.zeros((6, 8), bool)
    arr[1:4, 2:7] = True
    from_array = lb.Mask(arr, label="m")
    # column-major run lengths, as COCO crowd annotations store them
    runs, flat, current, n = [], arr.ravel(order="F"), False, 0
    for v in flat:
        if v != current:
            runs.append(n)
            current, n = v, 0
        n += 1
    runs.append(n)
    from_runs = lb.Mask({"size": [6, 8], "counts": runs}, label="m")
    assert from_array.rle == from_runs.rle
    assert from_array.area == 15
    assert from_array.bbox == (2, 1, 5, 3)
    np.testing.assert_array_equal(from_runs.to_array(), arr)
    with pytest.raises(lb.GeometryError, match="sum to"):
        lb.Mask({"size": [6, 8], "counts": [1, 2]})


def test_polygon_rasterised_area_matches_box_polygon() -> None:
    rle = polygon_to_rle([[0, 0, 10, 0, 10, 10, 0, 10]], 20, 20)
    assert lb.Mask(rle).area == pytest.approx(100, rel=0.25)


def test_box_iou() -> None:
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 1, 1]]))
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_score_must_be_a_probability() -> None:
    with pytest.raises(lb.GeometryError, match="score"):
        lb.Box(0, 0, 1, 1, label="a", score=1.5)
