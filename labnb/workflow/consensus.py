"""Consensus: the passes over one image merged into one label set, and annotators scored against ground
truth.

Shapes are clustered across passes by matching (:func:`labnb.metrics.agreement.match_shapes`: same label
and kind, IoU or OKS at or above a threshold): each pass's shapes are matched one-to-one to the clusters
built so far, unmatched ones start new clusters, so a cluster holds at most one shape per pass. A cluster
with at least ``min_votes`` members becomes one shape: boxes by the mean of their edges; masks by pixel
majority; polygons by the member that overlaps the others most (a polygon has no mean); keypoints by the
mean of each point over the passes that placed it, visible when most did. Tags by majority per group.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from labnb.geometry import Box, Keypoints, Mask, Polygon, Shape, Tag
from labnb.metrics.agreement import iou_matrix, match_shapes


@dataclass
class _Cluster:
    members: list[Shape] = field(default_factory=list)

    @property
    def anchor(self) -> Shape:
        return self.members[0]


def cluster(
    passes: Sequence[Sequence[Shape]],
    height: int,
    width: int,
    *,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> list[list[Shape]]:
    """Shapes (not tags) of several passes grouped into clusters of at most one shape per pass."""
    clusters: list[_Cluster] = []
    for shapes in passes:
        items = [s for s in shapes if not isinstance(s, Tag)]
        anchors = [c.anchor for c in clusters]
        pairs = match_shapes(anchors, items, height, width, threshold=threshold, sigmas=sigmas)
        taken = set()
        for p in pairs:
            clusters[p.a].members.append(items[p.b])
            taken.add(p.b)
        clusters.extend(_Cluster([s]) for j, s in enumerate(items) if j not in taken)
    return [c.members for c in clusters]


def fuse(members: Sequence[Shape], height: int, width: int) -> Shape:
    """One shape standing for a cluster of matched shapes of one label and kind family."""
    first = members[0]
    label = first.label
    if all(isinstance(s, Box) for s in members):
        xyxy = np.array([[s.x, s.y, s.x + s.w, s.y + s.h] for s in members if isinstance(s, Box)]).mean(axis=0)
        return Box(float(xyxy[0]), float(xyxy[1]), float(xyxy[2] - xyxy[0]), float(xyxy[3] - xyxy[1]), label=label)
    if all(isinstance(s, Mask) for s in members):
        stack = np.stack([s.to_array() for s in members if isinstance(s, Mask)])
        return Mask(stack.sum(axis=0) * 2 > len(members), label=label)
    if all(isinstance(s, (Polygon, Mask)) for s in members):
        if len(members) == 1:
            return first
        iou = iou_matrix(members, members, height, width)
        return members[int(np.argmax(iou.sum(axis=1)))]
    if all(isinstance(s, Keypoints) for s in members):
        points: dict[str, tuple[float, float, int]] = {}
        names = dict.fromkeys(n for s in members if isinstance(s, Keypoints) for n in s.points)
        for n in names:
            placed = [s.points[n] for s in members if isinstance(s, Keypoints) and n in s.points and s.points[n][2] > 0]
            if not placed:
                continue
            xy = np.array([p[:2] for p in placed], dtype=float).mean(axis=0)
            visible = sum(1 for p in placed if p[2] == 2) * 2 > len(placed)
            points[n] = (float(xy[0]), float(xy[1]), 2 if visible else 1)
        return Keypoints(points, label=label)
    return first


def merge(
    passes: Sequence[Sequence[Shape]],
    height: int,
    width: int,
    *,
    min_votes: int | None = None,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> list[Shape]:
    """The consensus of several passes over one image. ``min_votes`` defaults to a majority of the passes
    (2 of 2, 2 of 3, 3 of 4); a single pass is its own consensus."""
    n = len(passes)
    if n == 0:
        return []
    need = min_votes if min_votes is not None else (n // 2 + 1 if n > 1 else 1)
    out: list[Shape] = [
        fuse(c, height, width)
        for c in cluster(passes, height, width, threshold=threshold, sigmas=sigmas)
        if len(c) >= need
    ]
    votes: Counter[tuple[str | None, str]] = Counter()
    for shapes in passes:
        for key in {(s.group, s.value) for s in shapes if isinstance(s, Tag)}:
            votes[key] += 1
    out.extend(Tag(value, group=group) for (group, value), v in sorted(votes.items(), key=str) if v >= need)
    return out


def score_against(
    truth: Sequence[Shape],
    labels: Sequence[Shape],
    height: int,
    width: int,
    *,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> tuple[int, int, int, float]:
    """(true positives, false positives, false negatives, summed similarity of the matches) of ``labels``
    against ``truth`` on one image; tags count by (group, value)."""
    t_shapes = [s for s in truth if not isinstance(s, Tag)]
    l_shapes = [s for s in labels if not isinstance(s, Tag)]
    pairs = match_shapes(t_shapes, l_shapes, height, width, threshold=threshold, sigmas=sigmas)
    t_tags = {(s.group, s.value) for s in truth if isinstance(s, Tag)}
    l_tags = {(s.group, s.value) for s in labels if isinstance(s, Tag)}
    tp = len(pairs) + len(t_tags & l_tags)
    fp = len(l_shapes) - len(pairs) + len(l_tags - t_tags)
    fn = len(t_shapes) - len(pairs) + len(t_tags - l_tags)
    return tp, fp, fn, sum(p.similarity for p in pairs)


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f = (
        2 * precision * recall / (precision + recall)
        if precision + recall > 0
        else (math.nan if math.isnan(precision + recall) else 0.0)
    )
    return precision, recall, f
