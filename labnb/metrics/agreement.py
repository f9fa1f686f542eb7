"""How much two sets of labels of one image agree: one-to-one matching of shapes and a score.

Shapes are compared by one rule, :func:`similarity_matrix` (see its docstring), used by everything that
compares labels: agreement here, consensus and annotator scoring (:mod:`labnb.workflow.consensus`,
:mod:`labnb.metrics.scoring`) and ``p.compare_models``. In short, within a label: boxes by box IoU, a box
and a polygon or mask by the IoU of the box with the region's bounding box, polygons and masks by the IoU
of their pixel areas (pycocotools' RLE arithmetic), keypoints by COCO's object keypoint similarity (OKS),
tags by exact value. Matching is Hungarian (scipy): the one-to-one pairs at or above a threshold with the
largest total similarity.

The agreement of two label sets is the matched similarity over the mean count: ``sum(sim) / ((n_a + n_b) /
2)``. Identical sets score 1, disjoint ones 0; a missed object and a sloppy outline both cost. An image's
agreement over several passes is the mean over pairs of passes; tags count per group (see
:func:`pair_agreement`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pycocotools import mask as mask_utils
from scipy.optimize import linear_sum_assignment

from labnb.geometry import Box, Keypoints, Mask, Polygon, Shape, Tag, box_iou

#: Per-keypoint falloff when a class has no sigmas of its own: COCO's value for the hips and knees range.
DEFAULT_SIGMA = 0.07


@dataclass(frozen=True)
class Pair:
    """A matched pair: indices into the two sequences and their similarity (IoU or OKS)."""

    a: int
    b: int
    similarity: float


#: The shapes that cover an area of the image, compared with each other by IoU.
AREA_SHAPES = (Box, Polygon, Mask)


def _rle(shape: Shape, height: int, width: int) -> dict[str, object]:
    if isinstance(shape, Mask):
        rle: dict[str, object] = dict(shape.rle)
        return rle
    assert isinstance(shape, Polygon)
    parts = [np.asarray(p, dtype=np.float64).ravel().tolist() for p in shape.parts]
    merged: dict[str, object] = mask_utils.merge(mask_utils.frPyObjects(parts, height, width))
    return merged


def _pixel_iou(a: Sequence[Shape], b: Sequence[Shape], height: int, width: int) -> NDArray[np.float64]:
    ra = [_rle(s, height, width) for s in a]
    rb = [_rle(s, height, width) for s in b]
    out: NDArray[np.float64] = np.asarray(mask_utils.iou(ra, rb, [0] * len(rb)), dtype=np.float64)
    return out.reshape(len(a), len(b))


def iou_matrix(a: Sequence[Shape], b: Sequence[Shape], height: int, width: int) -> NDArray[np.float64]:
    """Pairwise IoU of boxes, polygons and masks (labels aside), by the rule of :func:`similarity_matrix`:
    box IoU when either side is a box (a polygon's or mask's bounding box standing for it), the IoU of the
    pixel areas between polygons and masks."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    odd = [s for s in itertools.chain(a, b) if not isinstance(s, AREA_SHAPES)]
    if odd:
        raise TypeError(f"iou_matrix compares boxes, polygons and masks, not {odd[0].kind}")
    out = box_iou(np.array([s.bbox for s in a]), np.array([s.bbox for s in b]))
    ia = [i for i, s in enumerate(a) if not isinstance(s, Box)]
    ib = [j for j, s in enumerate(b) if not isinstance(s, Box)]
    if ia and ib:
        out[np.ix_(ia, ib)] = _pixel_iou([a[i] for i in ia], [b[j] for j in ib], height, width)
    return out


def oks(a: Keypoints, b: Keypoints, area: float, sigmas: Mapping[str, float] | None = None) -> float:
    """COCO object keypoint similarity of two skeletons of one object: points labelled in both count;
    ``area`` is the object's area (COCO: its segment's; here the mean of the two boxes' areas)."""
    names = [n for n in a.points if n in b.points and a.points[n][2] > 0 and b.points[n][2] > 0]
    if not names:
        return 0.0
    pa = np.array([a.points[n][:2] for n in names], dtype=np.float64)
    pb = np.array([b.points[n][:2] for n in names], dtype=np.float64)
    k = np.array([2 * (sigmas or {}).get(n, DEFAULT_SIGMA) for n in names])
    d2 = ((pa - pb) ** 2).sum(axis=1)
    s = max(area, 1.0)
    return float(np.exp(-d2 / (2 * s * k**2)).mean())


def similarity_matrix(
    a: Sequence[Shape], b: Sequence[Shape], height: int, width: int, sigmas: Mapping[str, float] | None = None
) -> NDArray[np.float64]:
    """Similarity of every shape of ``a`` with every shape of ``b``, in [0, 1]: the one rule every comparison
    of labnb uses (agreement, consensus, model comparison, scoring against ground truth).

    Shapes of different labels score 0. Within a label:

    - box with box: the IoU of the boxes;
    - box with polygon or mask: the IoU of the box with the region's bounding box (a box says where an
      object is, not its outline, so it is held to what it can express; COCO's bbox evaluation does the
      same, comparing detections with each ground-truth object's box);
    - polygon or mask with polygon or mask: the IoU of their pixel areas (polygons rasterised at the image
      size by pycocotools, so a polygon and a mask of one region score 1);
    - keypoints with keypoints: COCO's object keypoint similarity (:func:`oks`, the object's area taken as
      the mean of the two boxes around the labelled points); keypoints with any other kind: 0;
    - tag with tag: 1 when group and value are the same, else 0 (exact); tag with any other kind: 0.
    """
    sim = np.zeros((len(a), len(b)))
    groups: dict[tuple[str | None, str], tuple[list[int], list[int]]] = {}
    for side, shapes in enumerate((a, b)):
        for i, s in enumerate(shapes):
            family: str = "area" if isinstance(s, AREA_SHAPES) else s.kind
            groups.setdefault((s.label, family), ([], []))[side].append(i)
    for (_, family), (ia, ib) in groups.items():
        if not ia or not ib:
            continue
        if family == "area":
            sim[np.ix_(ia, ib)] = iou_matrix([a[i] for i in ia], [b[j] for j in ib], height, width)
            continue
        for i in ia:
            for j in ib:
                sa, sb = a[i], b[j]
                if isinstance(sa, Keypoints) and isinstance(sb, Keypoints):
                    area = (sa.bbox[2] * sa.bbox[3] + sb.bbox[2] * sb.bbox[3]) / 2
                    sim[i, j] = oks(sa, sb, area, sigmas)
                elif isinstance(sa, Tag) and isinstance(sb, Tag):
                    sim[i, j] = float((sa.group, sa.value) == (sb.group, sb.value))
    return sim


def match_shapes(
    a: Sequence[Shape],
    b: Sequence[Shape],
    height: int,
    width: int,
    *,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> list[Pair]:
    """One-to-one matching (Hungarian) of shapes whose :func:`similarity_matrix` is at or above ``threshold``
    (same label; a box may match a polygon or mask by their boxes)."""
    sim = similarity_matrix(a, b, height, width, sigmas)
    if sim.size == 0:
        return []
    # pairs under the threshold are never kept, so they must not steer the assignment either
    rows, cols = linear_sum_assignment(-np.where(sim >= threshold, sim, 0.0))
    return [Pair(int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols, strict=True) if sim[r, c] >= threshold]


def _tag_sets(shapes: Sequence[Shape]) -> dict[str | None, frozenset[str]]:
    out: dict[str | None, set[str]] = {}
    for s in shapes:
        if isinstance(s, Tag):
            out.setdefault(s.group, set()).add(s.value)
    return {g: frozenset(v) for g, v in out.items()}


def pair_agreement(
    a: Sequence[Shape],
    b: Sequence[Shape],
    height: int,
    width: int,
    *,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> float:
    """Agreement of two label sets of one image, in [0, 1] (see the module docstring). Tags count as one
    item per tag group, agreeing when both chose the same values."""
    sa_ = [s for s in a if not isinstance(s, Tag)]
    sb = [s for s in b if not isinstance(s, Tag)]
    ta, tb = _tag_sets(a), _tag_sets(b)
    groups = set(ta) | set(tb)
    tag_hits = sum(1.0 for g in groups if ta.get(g) == tb.get(g))
    n_a, n_b = len(sa_) + len(groups), len(sb) + len(groups)
    if n_a + n_b == 0:
        return 1.0
    matched = sum(p.similarity for p in match_shapes(sa_, sb, height, width, threshold=threshold, sigmas=sigmas))
    return float((matched + tag_hits) / ((n_a + n_b) / 2))


def image_agreement(
    passes: Sequence[Sequence[Shape]],
    height: int,
    width: int,
    *,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> float:
    """Mean pairwise agreement of several passes over one image; NaN with fewer than two passes."""
    scores = [
        pair_agreement(x, y, height, width, threshold=threshold, sigmas=sigmas)
        for x, y in itertools.combinations(passes, 2)
    ]
    return float(np.mean(scores)) if scores else float("nan")
