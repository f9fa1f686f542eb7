"""Consensus: the passes over one image merged into one label set.

Shapes are clustered across passes by matching (:func:`labnb.metrics.agreement.match_shapes`: same label,
similarity at or above a threshold, by the one rule of :func:`labnb.metrics.agreement.similarity_matrix`,
so a box and a polygon of one object cluster by their boxes): each pass's shapes are matched one-to-one to
the clusters built so far, unmatched ones start new clusters, so a cluster holds at most one shape per
pass. A cluster with at least ``min_votes`` members becomes one shape: boxes by the mean of their edges;
masks by pixel majority; polygons by the member that overlaps the others most (a polygon has no mean);
keypoints by the mean of each point over the passes that placed it, visible when most did. Tags by
majority per group.

A cluster of boxes and outlines (polygons, masks) becomes the kind most of its members are: a box when
boxes are the majority, its edges the mean over every member's bounding box (an outline's box is as good
a vote for the edges as a drawn box); an outline when outlines are the majority or on a tie (the finer
shape: its box can be derived from it, not the other way), fused from the outline members alone (a box
says nothing about the outline).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from labnb.geometry import Box, Keypoints, Mask, Shape, Tag
from labnb.metrics.agreement import AREA_SHAPES, iou_matrix, match_shapes
from labnb.metrics.scoring import f1, score_against

#: scoring lives in labnb.metrics.scoring; kept importable from here, where it started
__all__ = ["cluster", "f1", "fuse", "merge", "score_against"]


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
    """One shape standing for a cluster of matched shapes of one label (a mixed cluster of boxes and
    outlines: see the module docstring)."""
    label = members[0].label
    if all(isinstance(s, AREA_SHAPES) for s in members):
        outlines = [s for s in members if not isinstance(s, Box)]
        if len(outlines) * 2 < len(members):  # mostly boxes: every member's box votes for the edges
            edges = np.array([[x, y, x + w, y + h] for x, y, w, h in (s.bbox for s in members)]).mean(axis=0)
            x0, y0, x1, y1 = (float(v) for v in edges)
            return Box(x0, y0, x1 - x0, y1 - y0, label=label)
        if all(isinstance(s, Mask) for s in outlines):
            stack = np.stack([s.to_array() for s in outlines if isinstance(s, Mask)])
            return Mask(stack.sum(axis=0) * 2 > len(outlines), label=label)
        if len(outlines) == 1:
            return outlines[0]
        iou = iou_matrix(outlines, outlines, height, width)
        return outlines[int(np.argmax(iou.sum(axis=1)))]
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
    return members[0]


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
