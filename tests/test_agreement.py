"""Agreement metrics (labnb.metrics.agreement) and consensus (labnb.workflow.consensus) on cases small
enough to check by hand: each expected number is worked out in the comment or the expression beside it."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import labnb as lb
from labnb.assist import OnnxDetector
from labnb.assist.model import Predictions
from labnb.geometry import Shape
from labnb.metrics.agreement import (
    DEFAULT_SIGMA,
    image_agreement,
    iou_matrix,
    match_shapes,
    oks,
    pair_agreement,
    similarity_matrix,
)
from labnb.workflow.consensus import cluster, f1, merge, score_against

H, W = 60, 80


def box(x: float, y: float, w: float, h: float, label: str = "cat") -> lb.Box:
    return lb.Box(x, y, w, h, label=label)


def rect(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


# -- matching -------------------------------------------------------------------------------------------
# Four boxes on one row (y 0..10), so IoU is the overlap of x ranges over their union:
#   A1 = x 0..10, B1 = x 0..9, B2 = x 0..6
#   A1-B1 = 9/10 = 0.9 (the best pair of all), A1-B2 = 6/10 = 0.6
def test_box_iou_by_hand() -> None:
    a = [box(0, 0, 10, 10), box(20, 20, 10, 10)]
    b = [box(5, 0, 10, 10), box(20, 20, 10, 10), box(100, 100, 5, 5)]
    iou = iou_matrix(a, b, H, W)
    assert iou.shape == (2, 3)
    assert iou[0, 0] == pytest.approx(50 / 150)  # overlap 5 x 10 = 50, union 100 + 100 - 50
    assert iou[1, 1] == pytest.approx(1.0)
    assert iou[0, 2] == iou[1, 0] == 0.0
    assert iou_matrix([], b, H, W).shape == (0, 3)


def test_hungarian_takes_the_globally_best_pairs_not_the_greedy_first() -> None:
    # A2 = x 3..9: A2-B1 = 6/9 = 0.667, A2-B2 = 3/9 = 0.333.
    # Greedy takes A1-B1 (0.9, the best single pair) and is left with A2-B2 under the threshold: one match.
    # Hungarian takes A1-B2 + A2-B1 = 0.6 + 0.667: two matches, the larger total.
    a = [box(0, 0, 10, 10), box(3, 0, 6, 10)]
    b = [box(0, 0, 9, 10), box(0, 0, 6, 10)]
    sim = similarity_matrix(a, b, H, W)
    np.testing.assert_allclose(sim, [[0.9, 0.6], [6 / 9, 3 / 9]])
    pairs = match_shapes(a, b, H, W)
    assert sorted((p.a, p.b) for p in pairs) == [(0, 1), (1, 0)]
    assert sum(p.similarity for p in pairs) == pytest.approx(0.6 + 6 / 9)


def test_pairs_under_the_threshold_do_not_steer_the_matching() -> None:
    # A2 = x 3..11: A2-B1 = 6/11 = 0.545, A2-B2 = 3/11 = 0.273 (under 0.5, so it can never count).
    # On raw IoU the straight assignment totals 0.9 + 0.273 = 1.173 > 0.6 + 0.545 = 1.145 and would win,
    # keeping one pair (0.9). Counting only pairs at or above the threshold, the crossing one keeps two
    # (1.145 > 0.9): that is the best matching, and the agreement reflects it.
    a = [box(0, 0, 10, 10), box(3, 0, 8, 10)]
    b = [box(0, 0, 9, 10), box(0, 0, 6, 10)]
    np.testing.assert_allclose(similarity_matrix(a, b, H, W), [[0.9, 0.6], [6 / 11, 3 / 11]])
    pairs = match_shapes(a, b, H, W)
    assert sorted((p.a, p.b, round(p.similarity, 6)) for p in pairs) == [(0, 1, 0.6), (1, 0, round(6 / 11, 6))]
    assert pair_agreement(a, b, H, W) == pytest.approx((0.6 + 6 / 11) / 2)
    # with a threshold under 0.273 every pair counts and the raw total decides again
    low = match_shapes(a, b, H, W, threshold=0.2)
    assert sorted((p.a, p.b) for p in low) == [(0, 0), (1, 1)]


def test_matching_stays_within_a_label_and_keypoints_match_only_keypoints() -> None:
    cat, dog = box(10, 10, 20, 20), box(10, 10, 20, 20, label="dog")
    poly = lb.Polygon([(10, 10), (30, 10), (30, 30), (10, 30)], label="cat")
    kp = lb.Keypoints({"nose": (10, 10), "tail": (30, 30)}, label="cat")  # spans the same 20 x 20 box
    assert match_shapes([cat], [dog], H, W) == []
    (pair,) = match_shapes([cat], [poly], H, W)  # a box and a polygon compare by their boxes: the same here
    assert pair.similarity == pytest.approx(1.0)
    assert match_shapes([cat], [kp], H, W) == []  # keypoints compare only with keypoints
    assert match_shapes([poly], [kp], H, W) == []
    assert similarity_matrix([kp, cat], [cat, kp], H, W).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert similarity_matrix([cat, dog], [dog, cat], H, W).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert match_shapes([], [cat], H, W) == []


def test_a_polygon_and_a_mask_of_the_same_region_agree_fully() -> None:
    poly = lb.Polygon([(10, 10), (30, 10), (30, 20), (10, 20)], label="cat")
    mask = lb.Mask(rect(10, 10, 30, 20), label="cat")
    assert iou_matrix([poly], [mask], H, W)[0, 0] == pytest.approx(1.0)
    half = lb.Mask(rect(10, 10, 20, 20), label="cat")
    assert iou_matrix([poly], [half], H, W)[0, 0] == pytest.approx(0.5)  # 100 of 200 pixels
    (pair,) = match_shapes([poly], [mask], H, W)
    assert pair.similarity == pytest.approx(1.0)
    assert pair_agreement([poly], [mask], H, W) == pytest.approx(1.0)


# -- keypoints ------------------------------------------------------------------------------------------
K1 = lb.Keypoints({"nose": (10, 10, 2), "eye": (20, 10, 2), "tail": (30, 40, 2)}, label="cat")
K2 = lb.Keypoints({"nose": (12, 10, 2), "eye": (22, 12, 1), "tail": (30, 40, 0)}, label="cat")


def test_oks_against_a_hand_computation() -> None:
    # points labelled in both: nose (d² = 2² = 4) and eye (d² = 2² + 2² = 8); the tail is unlabelled in K2.
    # OKS = mean of exp(-d² / (2 s k²)), k = 2 σ, s the area
    k = 2 * DEFAULT_SIGMA
    expected = (math.exp(-4 / (2 * 400 * k**2)) + math.exp(-8 / (2 * 400 * k**2))) / 2
    assert oks(K1, K2, 400) == pytest.approx(expected)
    assert oks(K1, K2, 400) == pytest.approx((0.7748 + 0.6004) / 2, abs=1e-3)  # exp(-4/15.68), exp(-8/15.68)
    # a class's own sigma for the nose: k = 0.2 there
    own = (math.exp(-4 / (2 * 400 * 0.2**2)) + math.exp(-8 / (2 * 400 * k**2))) / 2
    assert oks(K1, K2, 400, {"nose": 0.1}) == pytest.approx(own)
    assert oks(K1, K1, 400) == pytest.approx(1.0)
    assert oks(K1, lb.Keypoints({"ear": (1, 1)}, label="cat"), 400) == 0.0  # no point in common
    # in a similarity matrix the area is the mean of the two boxes around the labelled points:
    # K1 spans 20 x 30 = 600, K2 (nose, eye) 10 x 2 = 20, so s = 310
    s = 310
    by_boxes = (math.exp(-4 / (2 * s * k**2)) + math.exp(-8 / (2 * s * k**2))) / 2
    assert similarity_matrix([K1], [K2], H, W)[0, 0] == pytest.approx(by_boxes)


# -- tags and pairs -------------------------------------------------------------------------------------
def test_tags_agree_per_group() -> None:
    day, night = lb.Tag("day", group="light"), lb.Tag("night", group="light")
    rain, sun = lb.Tag("rain", group="weather"), lb.Tag("sun", group="weather")
    assert pair_agreement([day, rain], [day, rain], H, W) == 1.0
    assert pair_agreement([day, rain], [day, sun], H, W) == pytest.approx(0.5)  # 1 of 2 groups
    assert pair_agreement([day], [night], H, W) == 0.0
    assert pair_agreement([day], [], H, W) == 0.0  # a group one side left empty is a disagreement
    # a group holds a set of values: the same set agrees, a different one does not
    assert pair_agreement([day, night], [night, day], H, W) == 1.0
    assert pair_agreement([day, night], [day], H, W) == 0.0
    # one group per item: a box matched (1) and one tag group agreeing (1), of 2 items each side
    assert pair_agreement([box(0, 0, 10, 10), day], [box(0, 0, 10, 10), night], H, W) == pytest.approx(0.5)


def test_pair_agreement_of_identical_disjoint_and_partial_sets() -> None:
    a = [box(0, 0, 10, 10), box(30, 30, 10, 10, label="dog")]
    assert pair_agreement(a, a, H, W) == 1.0
    assert pair_agreement([], [], H, W) == 1.0  # nothing to find, nothing found
    assert pair_agreement(a, [box(50, 0, 10, 10), box(0, 50, 5, 5, label="dog")], H, W) == 0.0
    assert pair_agreement(a, [], H, W) == 0.0
    # the same two plus one extra: 2 matched over the mean count (2 + 3) / 2
    assert pair_agreement(a, [*a, box(60, 40, 5, 5)], H, W) == pytest.approx(2 / 2.5)
    # one shifted by half its width (IoU 50/150 = 1/3, under 0.5: no match), the other exact
    assert pair_agreement(a, [box(5, 0, 10, 10), a[1]], H, W) == pytest.approx(1 / 2)
    # ... and with threshold 0.3 the shifted one counts for its IoU
    assert pair_agreement(a, [box(5, 0, 10, 10), a[1]], H, W, threshold=0.3) == pytest.approx((1 / 3 + 1) / 2)
    # symmetric
    b = [box(1, 0, 10, 10), box(60, 40, 5, 5)]
    assert pair_agreement(a, b, H, W) == pytest.approx(pair_agreement(b, a, H, W))


def test_image_agreement_is_the_mean_over_pairs_of_passes() -> None:
    p1 = [box(0, 0, 10, 10)]
    p2 = [box(0, 0, 10, 10)]
    p3 = [box(0, 0, 10, 10), box(40, 40, 10, 10)]
    # pairs: (p1, p2) = 1, (p1, p3) = 1 / 1.5, (p2, p3) = 1 / 1.5
    assert image_agreement([p1, p2, p3], H, W) == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert image_agreement([p1, p3], H, W) == pytest.approx(2 / 3)
    assert math.isnan(image_agreement([p1], H, W))
    assert math.isnan(image_agreement([], H, W))


# -- consensus ------------------------------------------------------------------------------------------
def test_consensus_box_is_the_mean_of_the_edges() -> None:
    passes = [[box(10, 10, 20, 20)], [box(12, 10, 20, 22)], [box(14, 13, 20, 20)]]
    (merged,) = merge(passes, H, W)
    assert isinstance(merged, lb.Box)
    # left (10+12+14)/3 = 12, top (10+10+13)/3 = 11, right (30+32+34)/3 = 32, bottom (30+32+33)/3 = 31.67
    assert merged.bbox == pytest.approx((12, 11, 20, 95 / 3 - 11))
    assert merged.label == "cat"


def test_consensus_mask_is_the_pixel_majority() -> None:
    m1, m2, m3 = rect(10, 10, 30, 20), rect(12, 10, 32, 20), rect(10, 12, 30, 22)
    (merged,) = merge([[lb.Mask(m, label="cat")] for m in (m1, m2, m3)], H, W)
    assert isinstance(merged, lb.Mask)
    # pixels in at least two of three: m1∩m2 = x 12..30, y 10..20; m1∩m3 = x 10..30, y 12..20;
    # m2∩m3 = x 12..30, y 12..20 (inside the others)
    expected = rect(12, 10, 30, 20) | rect(10, 12, 30, 20)
    assert (merged.to_array() == expected).all()
    assert merged.to_array().sum() == 18 * 10 + 2 * 8


def test_consensus_polygon_is_the_medoid() -> None:
    def square(x: float) -> lb.Polygon:
        return lb.Polygon([(x, 10), (x + 20, 10), (x + 20, 30), (x, 30)], label="cat")

    left, middle, right = square(10), square(13), square(16)
    # the middle one overlaps each neighbour by 17/23 and the far one overlaps it 14/26: the middle wins
    for order in ([left, middle, right], [right, left, middle], [middle, right, left]):
        (merged,) = merge([[s] for s in order], H, W)
        assert merged is middle
    # a polygon and masks of nearby regions cluster together (same area family) and the medoid is kept
    masks = [lb.Mask(rect(10, 10, 30, 30), label="cat"), lb.Mask(rect(16, 10, 36, 30), label="cat")]
    (merged,) = merge([[middle], [masks[0]], [masks[1]]], H, W)
    assert merged is middle


def test_consensus_keypoints_average_each_point_over_the_passes_that_placed_it() -> None:
    k3 = lb.Keypoints({"nose": (14, 13, 1), "tail": (31, 40, 2)}, label="cat")
    (merged,) = merge([[K1], [K2], [k3]], H, W)
    assert isinstance(merged, lb.Keypoints)
    # nose: placed by all three, mean (12, 11); visible (v=2) in two of three, so visible
    # eye: placed by K1 (v=2) and K2 (v=1), mean (21, 11); visible in one of two, not a majority: v=1
    # tail: K2 left it unlabelled (v=0); K1 and k3 placed it, mean (30.5, 40), both visible
    assert merged.points == {
        "nose": pytest.approx((12, 11, 2)),
        "eye": pytest.approx((21, 11, 1)),
        "tail": pytest.approx((30.5, 40, 2)),
    }


def test_consensus_tags_by_majority_and_min_votes() -> None:
    day, night = lb.Tag("day", group="light"), lb.Tag("night", group="light")
    cat = [box(10, 10, 20, 20), box(11, 10, 20, 20), box(60, 40, 10, 10)]  # the third is far from the others
    passes: list[list[Shape]] = [[cat[0], day], [cat[1], day], [cat[2], night]]
    merged = merge(passes, H, W)
    # default: a majority of the three passes (2)
    assert [(t.group, t.value) for t in merged if isinstance(t, lb.Tag)] == [("light", "day")]
    (only,) = [s for s in merged if isinstance(s, lb.Box)]
    assert only.bbox == pytest.approx((10.5, 10, 20, 20))
    # min_votes=1: everything anyone drew; 3: only what all agreed on
    assert len([s for s in merge(passes, H, W, min_votes=1) if isinstance(s, lb.Box)]) == 2
    assert {t.value for t in merge(passes, H, W, min_votes=1) if isinstance(t, lb.Tag)} == {"day", "night"}
    assert merge(passes, H, W, min_votes=3) == []
    # two passes need both; a single pass is its own consensus; no passes, nothing
    assert len(merge(passes[:1] + passes[2:], H, W)) == 0
    assert len(merge(passes[:2], H, W)) == 2
    assert len(merge(passes[2:], H, W)) == 2
    assert merge([], H, W) == []


def test_clusters_hold_at_most_one_shape_per_pass() -> None:
    # one pass drew the same cat twice: the second copy starts its own cluster
    passes = [[box(10, 10, 20, 20)], [box(10, 10, 20, 20), box(11, 10, 20, 20)]]
    sizes = sorted(len(c) for c in cluster(passes, H, W))
    assert sizes == [1, 2]
    assert len(merge(passes, H, W)) == 1


def test_score_against_counts() -> None:
    truth: list[Shape] = [box(10, 10, 20, 20), box(50, 10, 20, 20, label="dog"), lb.Tag("day", group="light")]
    labels: list[Shape] = [box(12, 10, 20, 20), box(10, 40, 10, 10), lb.Tag("night", group="light")]
    tp, fp, fn, sim = score_against(truth, labels, H, W)
    # the cat matches (IoU 18*20 / (800 - 360) = 360/440); the second cat and the night tag are false
    # positives; the dog and the day tag are missed
    assert (tp, fp, fn) == (1, 2, 2)
    assert sim == pytest.approx(360 / 440)
    assert f1(tp, fp, fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert score_against(truth, truth, H, W)[:3] == (3, 0, 0)
    assert score_against(truth, [], H, W)[:3] == (0, 0, 3)
    p, r, f = f1(0, 0, 3)  # no labels at all: precision undefined, recall 0
    assert math.isnan(p)
    assert r == 0.0
    assert math.isnan(f)
    assert f1(0, 2, 3) == (0.0, 0.0, 0.0)


# -- boxes against polygons and masks (one rule for every comparison) ----------------------------------
# The airplane of COCO image 000000208901.jpg is one 30-point polygon whose vertices span x 232.67..425.99,
# y 148.37..284.59 (its COCO bbox [232.67, 148.37, 193.32, 136.22]); its area is only 7094.81 px.
AIRPLANE = "000000208901.jpg"
# A crowd of people in 000000204805.jpg is an RLE mask whose pixels fill columns 382..427 and rows 138..186:
# a 46 x 49 box at (382, 138) (the file's bbox field, 45 x 48, is the last pixel's index minus the first).
CROWD = "000000204805.jpg"


def _coco_subset(repo_data: Path, tmp_path: Path, names: list[str]) -> Path:
    """instances.json cut down to the images ``names`` (importing all 41 images would only cost time)."""
    data = json.loads((repo_data / "coco_tiny_ccby" / "instances.json").read_text())
    keep = {im["id"] for im in data["images"] if im["file_name"] in names}
    data["images"] = [im for im in data["images"] if im["id"] in keep]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    out = tmp_path / "subset.json"
    out.write_text(json.dumps(data))
    return out


@pytest.fixture
def coco_truth(repo_data: Path, tmp_path: Path) -> lb.Project:
    """A project over three real COCO photos with the file's polygons (and a crowd mask) as ground truth,
    and a team: alice and bob draw."""
    names = [AIRPLANE, CROWD, "000000415748.jpg"]
    data = json.loads((repo_data / "coco_tiny_ccby" / "instances.json").read_text())
    p = lb.Project.create(tmp_path / "gt.labnb", labels=[c["name"] for c in data["categories"]], user="olga")
    p.add_images([repo_data / "coco_tiny_ccby" / "images" / n for n in names], progress=False)
    p.import_coco(_coco_subset(repo_data, tmp_path, names), source="ground_truth", progress=False)
    for user in ("alice", "bob"):
        p.members.add(user, "annotator")
    return p


def test_a_box_over_a_real_coco_polygon_is_a_true_positive_with_its_box_iou(coco_truth: lb.Project) -> None:
    a = coco_truth.asset(AIRPLANE)
    (plane,) = coco_truth.get_annotations(a, source="ground_truth")
    assert isinstance(plane, lb.Polygon)
    assert plane.bbox == pytest.approx((232.67, 148.37, 193.32, 136.22))
    # a box a little inside the plane's: x 240..420, y 150..280, 180 x 130 = 23400 px, all inside the
    # polygon's box of 193.32 x 136.22 = 26334.05 px: IoU 23400 / 26334.05 = 0.8886
    drawn = lb.Box(240, 150, 180, 130, label="airplane")
    assert similarity_matrix([plane], [drawn], a.height, a.width)[0, 0] == pytest.approx(0.8886, abs=1e-4)
    tp, fp, fn, sim = score_against([plane], [drawn], a.height, a.width)
    assert (tp, fp, fn) == (1, 0, 0)
    assert sim == pytest.approx(23400 / (193.32 * 136.22))
    # the rule is the region's box, not its pixels: the plane covers at most 7094.81 / 23400 = 0.30 of the
    # box, under the 0.5 threshold, so a pixel IoU would call this good box a miss
    as_polygon = lb.Polygon([(240, 150), (420, 150), (420, 280), (240, 280)], label="airplane")
    assert iou_matrix([plane], [as_polygon], a.height, a.width)[0, 0] < 0.31
    # another class is still no match
    assert score_against([plane], [lb.Box(240, 150, 180, 130, label="bird")], a.height, a.width)[:3] == (0, 1, 1)


def test_a_box_against_a_real_crowd_mask_uses_the_masks_box(coco_truth: lb.Project) -> None:
    a = coco_truth.asset(CROWD)
    (crowd,) = [s for s in coco_truth.get_annotations(a, source="ground_truth") if isinstance(s, lb.Mask)]
    rows, cols = np.nonzero(crowd.to_array())
    assert (cols.min(), cols.max(), rows.min(), rows.max()) == (382, 427, 138, 186)
    assert crowd.bbox == (382, 138, 46, 49)
    # the top half of the mask's box: 46 x 24.5 of 46 x 49 = 0.5
    top = lb.Box(382, 138, 46, 24.5, label=crowd.label)
    assert similarity_matrix([top], [crowd], a.height, a.width)[0, 0] == pytest.approx(0.5)
    assert score_against([crowd], [top], a.height, a.width)[:3] == (1, 0, 0)


def test_agreement_of_a_box_pass_and_a_polygon_pass() -> None:
    # the same two cats, one annotator with boxes, one with polygons (an L shape of box x 10..30, y 10..30,
    # and a triangle of box x 40..60, y 10..20); a third object only the polygon pass has
    boxes: list[Shape] = [box(10, 10, 20, 20), box(40, 10, 20, 8)]
    outlines: list[Shape] = [
        lb.Polygon([(10, 10), (20, 10), (20, 20), (30, 20), (30, 30), (10, 30)], label="cat"),
        lb.Polygon([(40, 10), (60, 10), (50, 20)], label="cat"),
        lb.Polygon([(60, 40), (70, 40), (70, 50)], label="cat"),
    ]
    sim = similarity_matrix(boxes, outlines, H, W)
    # the L's box is the drawn box (1.0); the triangle's box 20 x 10, the drawn one 20 x 8 inside it: 0.8
    assert sim[0, 0] == pytest.approx(1.0)
    assert sim[1, 1] == pytest.approx(0.8)
    assert sim[0, 2] == sim[1, 2] == 0.0
    # matched 1.0 + 0.8 over the mean count (2 + 3) / 2
    assert pair_agreement(boxes, outlines, H, W) == pytest.approx(1.8 / 2.5)
    assert pair_agreement(outlines, boxes, H, W) == pytest.approx(1.8 / 2.5)
    assert image_agreement([boxes, outlines, boxes], H, W) == pytest.approx((1.8 / 2.5 + 1.8 / 2.5 + 1) / 3)


def test_consensus_of_box_and_polygon_passes_takes_the_majority_kind() -> None:
    square = lb.Polygon([(10, 10), (30, 10), (30, 30), (10, 30)], label="cat")  # box x 10..30, y 10..30
    diamond = lb.Polygon([(20, 10), (31, 20), (20, 30), (9, 20)], label="cat")  # box x 9..31, y 10..30
    b1, b2 = box(12, 10, 20, 20), box(10, 12, 20, 20)
    # all three cluster (box vs polygon by their boxes); two boxes and a polygon make a box, every member's
    # box voting for the edges: left and top are (12 + 10 + 10) / 3 = 32 / 3, right and bottom
    # (32 + 30 + 30) / 3 = 92 / 3
    (merged,) = merge([[b1], [square], [b2]], H, W)
    assert isinstance(merged, lb.Box)
    assert merged.bbox == pytest.approx((32 / 3, 32 / 3, 92 / 3 - 32 / 3, 92 / 3 - 32 / 3))
    # two polygons and a box: the medoid of the polygons (a box says nothing of the outline)
    for order in ([b1, square, diamond], [square, b1, diamond], [diamond, square, b1]):
        (merged,) = merge([[s] for s in order], H, W)
        assert merged in (square, diamond)
        assert isinstance(merged, lb.Polygon)
    # one box and one polygon (2 of 2 votes): a tie goes to the polygon
    (merged,) = merge([[b1], [square]], H, W)
    assert merged is square
    # a box and masks: the pixel majority of the masks
    m1, m2 = lb.Mask(rect(10, 10, 30, 30), label="cat"), lb.Mask(rect(12, 10, 32, 30), label="cat")
    (merged,) = merge([[m1], [b1], [m2]], H, W)
    assert isinstance(merged, lb.Mask)
    assert (merged.to_array() == rect(12, 10, 30, 30)).all()
    # keypoints never join a box's cluster
    kp = lb.Keypoints({"nose": (12, 10), "tail": (32, 30)}, label="cat")
    assert sorted(len(c) for c in cluster([[b1], [kp]], H, W)) == [1, 1]


def test_score_annotators_gives_a_box_pass_credit_against_polygon_truth(coco_truth: lb.Project) -> None:
    p = coco_truth
    job = p.jobs.create("boxes", passes_per_file=2, review_frequency=0)
    job.launch()
    # alice draws each ground-truth object's box (what a box annotator does). bob draws the left three
    # quarters of the plane's box (IoU 0.75) and leaves out the person of 000000415748.jpg
    for user in ("alice", "bob"):
        worker = lb.Project.open(p.location, user=user)
        while (task := worker.next_task()) is not None:
            drawn = [lb.Box(*s.bbox, label=s.label) for s in p.get_annotations(task.asset_id, source="ground_truth")]
            if user == "bob":
                drawn = [b for b in drawn if b.label != "person" or task.asset.file_name != "000000415748.jpg"]
                drawn = [
                    lb.Box(b.x, b.y, b.w * 0.75, b.h, label=b.label) if b.label == "airplane" else b for b in drawn
                ]
            task.submit(drawn)
    n = sum(len(p.get_annotations(a, source="ground_truth")) for a in p.assets)
    assert n == 1 + 15 + 2  # the plane; 15 objects around the crowd; a person and an elephant
    scores = job.score_annotators(progress=False).set_index("annotator")
    assert scores.loc["alice", ["images", "tp", "fp", "fn"]].tolist() == [3, n, 0, 0]
    assert scores.loc["alice", "f1"] == pytest.approx(1.0)
    assert scores.loc["alice", "mean_iou"] == pytest.approx(1.0, abs=1e-6)
    assert scores.loc["bob", ["tp", "fp", "fn"]].tolist() == [n - 1, 0, 1]
    assert scores.loc["bob", "recall"] == pytest.approx((n - 1) / n)
    assert scores.loc["bob", "f1"] == pytest.approx(2 * (n - 1) / (2 * n - 1))
    assert scores.loc["bob", "mean_iou"] == pytest.approx((n - 2 + 0.75) / (n - 1), abs=1e-6)


class Outlines:
    """A "segmentation model" a user could plug in: YOLOX's detections redrawn as the ellipse inscribed in
    each box (32 vertices, the four extremes among them, so each ellipse's box is the detection's box)."""

    def __init__(self, detector: Any) -> None:
        self.inner, self.name, self.version, self.classes = detector, "yolox-outlines", "v1", detector.classes

    def _redraw(self, preds: Predictions) -> Predictions:
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        shapes: list[Shape] = []
        for s in preds.shapes:
            assert isinstance(s, lb.Box)
            cx, cy, rx, ry = s.x + s.w / 2, s.y + s.h / 2, s.w / 2, s.h / 2
            ring = np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)
            shapes.append(lb.Polygon(ring, label=s.label, score=s.score))
        return Predictions(shapes, list(preds.probs))

    def run(self, image: Any) -> Predictions:
        return self._redraw(self.inner.run(image))

    def run_batch(self, images: Sequence[Any]) -> list[Predictions]:
        return [self._redraw(p) for p in self.inner.run_batch(images)]


def test_compare_models_matches_a_box_model_with_an_outline_model(coco_truth: lb.Project) -> None:
    models = lb.sample.MODELS
    boxes = OnnxDetector(models / "yolox_nano.onnx", "yolox", classes=models / "yolox_coco_classes.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # model classes the project lacks are dropped
        cmp = coco_truth.compare_models(boxes, Outlines(boxes), progress=False)
    assert (cmp.n_a > 0).all()
    assert (cmp.n_a == cmp.n_b).all()
    # every ellipse is matched to its own box, at the IoU of the two boxes (1); by pixels it would be the
    # ellipse's share of its box, pi / 4 = 0.785
    assert (cmp.matched == cmp.n_a).all()
    np.testing.assert_allclose(cmp.mean_iou, 1.0, atol=1e-6)
    assert (cmp.agreement == 1.0).all()
