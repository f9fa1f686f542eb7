"""Agreement metrics (labnb.metrics.agreement) and consensus (labnb.workflow.consensus) on cases small
enough to check by hand: each expected number is worked out in the comment or the expression beside it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import labnb as lb
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


def test_matching_stays_within_a_label_and_a_kind() -> None:
    cat, dog = box(10, 10, 20, 20), box(10, 10, 20, 20, label="dog")
    poly = lb.Polygon([(10, 10), (30, 10), (30, 30), (10, 30)], label="cat")
    assert match_shapes([cat], [dog], H, W) == []
    assert match_shapes([cat], [poly], H, W) == []  # a box and a polygon are different kinds
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
