"""Greedy non-maximum suppression in numpy.

Boxes are visited by descending score; each kept box suppresses the later ones whose IoU with it is
above the threshold (torchvision's ``nms`` semantics). Per-class NMS shifts each class's boxes into a
coordinate range of its own, so boxes of different classes never overlap and one pass does all classes.

The only Python loop is over *kept* boxes, bounded by ``max_detections``. Up to :data:`MATRIX_LIMIT`
candidates the IoU matrix is computed once and each step is a row lookup; above it, each step computes
one row of IoUs against the boxes still in play, so memory stays linear.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Largest candidate count for which the full IoU matrix (n x n float32) is computed up front.
MATRIX_LIMIT = 1024


def nms(
    boxes_xyxy: NDArray[Any],
    scores: NDArray[Any],
    iou_threshold: float,
    classes: NDArray[Any] | None = None,
    max_detections: int | None = None,
) -> NDArray[np.intp]:
    """Indices of the boxes kept, by descending score.

    Parameters
    ----------
    boxes_xyxy
        ``(n, 4)`` boxes as x0, y0, x1, y1.
    scores
        ``(n,)`` scores; ties keep the earlier box first.
    iou_threshold
        A box is suppressed by a kept box when their IoU is above this.
    classes
        ``(n,)`` class ids: suppress only within a class. ``None``: class-agnostic.
    max_detections
        Stop after keeping this many.
    """
    boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    score = np.asarray(scores).reshape(-1)
    n = len(boxes)
    if len(score) != n:
        raise ValueError(f"nms: {n} boxes but {len(score)} scores")
    limit = n if max_detections is None else max(0, min(n, int(max_detections)))
    if n == 0 or limit == 0:
        return np.zeros(0, dtype=np.intp)
    order = np.argsort(-score, kind="stable")
    b = boxes[order]
    if classes is not None:
        cls = np.asarray(classes).reshape(-1)
        if len(cls) != n:
            raise ValueError(f"nms: {n} boxes but {len(cls)} classes")
        # Offset trick: move each class into its own range, larger than any box extent.
        lo, hi = float(b.min()), float(b.max())
        b = b - lo + (cls[order].astype(np.float64) * (hi - lo + 1.0))[:, None]
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    area = np.maximum(x1 - x0, 0.0) * np.maximum(y1 - y0, 0.0)
    if n <= MATRIX_LIMIT:
        keep = _greedy_matrix(x0, y0, x1, y1, area, iou_threshold, limit)
    else:
        keep = _greedy_rows(x0, y0, x1, y1, area, iou_threshold, limit)
    return order[keep]


def _overlaps(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y1: NDArray[np.float64],
    area: NDArray[np.float64],
    rows: NDArray[np.intp] | slice,
    cols: NDArray[np.intp] | slice,
    thr: float,
) -> NDArray[np.bool_]:
    """Whether IoU > ``thr`` for boxes ``rows`` (as a column) against boxes ``cols`` (as a row).

    Compared as ``inter > thr * union`` (no division; a zero union has zero intersection, so False).
    """
    inter = np.minimum(x1[rows, None], x1[None, cols])
    inter -= np.maximum(x0[rows, None], x0[None, cols])
    np.maximum(inter, 0.0, out=inter)
    ih = np.minimum(y1[rows, None], y1[None, cols])
    ih -= np.maximum(y0[rows, None], y0[None, cols])
    np.maximum(ih, 0.0, out=ih)
    inter *= ih
    union = area[rows, None] + area[None, cols]
    union -= inter
    union *= thr
    over: NDArray[np.bool_] = inter > union
    return over


def _greedy_matrix(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y1: NDArray[np.float64],
    area: NDArray[np.float64],
    thr: float,
    limit: int,
) -> NDArray[np.intp]:
    n = len(x0)
    everything = slice(None)
    over = _overlaps(x0, y0, x1, y1, area, everything, everything, thr)
    alive = np.ones(n, dtype=bool)
    keep = np.empty(limit, dtype=np.intp)
    count = 0
    i = 0
    while True:
        keep[count] = i
        count += 1
        if count == limit:
            break
        alive &= ~over[i]
        alive[: i + 1] = False
        nxt = int(np.argmax(alive))
        if not alive[nxt]:
            break
        i = nxt
    return keep[:count]


def _greedy_rows(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y1: NDArray[np.float64],
    area: NDArray[np.float64],
    thr: float,
    limit: int,
) -> NDArray[np.intp]:
    rest = np.arange(len(x0), dtype=np.intp)
    keep: list[int] = []
    while rest.size and len(keep) < limit:
        i = rest[0]
        keep.append(int(i))
        rest = rest[1:]
        if rest.size:
            rest = rest[~_overlaps(x0, y0, x1, y1, area, np.array([i]), rest, thr)[0]]
    return np.asarray(keep, dtype=np.intp)
