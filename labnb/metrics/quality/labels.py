"""Per-object label metrics of one image: ``label_metrics(shapes, width, height)``.

One row per box, polygon, mask or keypoint set (tags are image-level and left out):

- ``area`` (pixels: a box's, a polygon's or mask's region, a keypoint set's box) and ``relative_area``
  (over the image's);
- ``aspect_ratio``: width / height of the object's bounding box;
- ``border_closeness``: 1 - the smallest distance from the bounding box to an image edge, as a share of the
  image's side along that direction, times two: 1 when the object touches an edge, 0 when it is centred
  (a truncated object is often a labelling problem, or a cut-off one);
- ``object_count`` and ``frame_density`` (the union of the objects' regions over the image area, so
  overlapping objects are not counted twice), the same on every row of the image;
- ``duplicate_iou``: the highest similarity with another object of the same label (the workflow's rule,
  :func:`labnb.metrics.agreement.similarity_matrix`), and ``duplicate`` when it is at least 0.6;
  ``overlap_other_label``: the highest IoU with an object of another label (same rule, labels ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from pycocotools import mask as rle_ops

from labnb.geometry import Box, Keypoints, Mask, Polygon, Shape, polygon_to_rle
from labnb.metrics.agreement import similarity_matrix

#: two objects of one label overlapping this much are one object drawn twice
DUPLICATE_IOU = 0.6
COLUMNS = ["index", "label", "kind", "area", "relative_area", "aspect_ratio", "border_closeness", "object_count",
           "frame_density", "duplicate_iou", "duplicate", "overlap_other_label"]  # fmt: skip


def label_metrics(shapes: Sequence[Shape], width: int, height: int) -> pd.DataFrame:
    """One row per object of one image (``index``: its position in ``shapes``); see the module docstring."""
    objects = [(i, s) for i, s in enumerate(shapes) if isinstance(s, (Box, Polygon, Mask, Keypoints))]
    if not objects:
        empty: pd.DataFrame = pd.DataFrame(columns=COLUMNS)
        return empty
    items = [s for _, s in objects]
    same = similarity_matrix(items, items, height, width)
    anonymous = [replace(s, label="") for s in items]
    any_label = similarity_matrix(anonymous, anonymous, height, width)
    np.fill_diagonal(same, 0.0)
    np.fill_diagonal(any_label, 0.0)
    labels = np.array([str(s.label) for s in items])
    other = np.where(labels[:, None] != labels[None, :], any_label, 0.0)
    density = _union_area(items, width, height) / float(width * height)
    rows = []
    for k, (i, s) in enumerate(objects):
        x, y, w, h = s.bbox
        area = float(s.area) if not isinstance(s, Keypoints) else float(w * h)
        edge = min(x / width, y / height, (width - x - w) / width, (height - y - h) / height)
        rows.append(
            {
                "index": i,
                "label": s.label,
                "kind": s.kind,
                "area": area,
                "relative_area": area / float(width * height),
                "aspect_ratio": float(w / h) if h > 0 else float("nan"),
                "border_closeness": float(np.clip(1.0 - 2.0 * max(edge, 0.0), 0.0, 1.0)),
                "object_count": len(items),
                "frame_density": density,
                "duplicate_iou": float(same[k].max()) if len(items) > 1 else 0.0,
                "duplicate": bool(len(items) > 1 and same[k].max() >= DUPLICATE_IOU),
                "overlap_other_label": float(other[k].max()) if len(items) > 1 else 0.0,
            }
        )
    frame: pd.DataFrame = pd.DataFrame(rows, columns=COLUMNS)
    return frame


def _union_area(shapes: Sequence[Shape], width: int, height: int) -> float:
    """Pixels covered by any of the shapes' regions (boxes as boxes, keypoint sets by their boxes)."""
    rles: list[Any] = []
    for s in shapes:
        if isinstance(s, Polygon):
            r = polygon_to_rle([np.asarray(p, np.float64).ravel().tolist() for p in s.parts], height, width)
            rles.append({"size": r["size"], "counts": r["counts"].encode()})
        elif isinstance(s, Mask):
            counts = s.rle["counts"]
            rles.append({"size": list(s.rle["size"]), "counts": counts.encode() if isinstance(counts, str) else counts})
        else:
            rles.extend(rle_ops.frPyObjects(np.array([list(s.bbox)], dtype=np.float64), height, width))
    return float(rle_ops.area(rle_ops.merge(rles)))
