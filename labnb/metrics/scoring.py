"""Labels scored against ground truth: true and false positives, misses, precision, recall and F1.

One function per step, so every place that grades labels (``job.score_annotators()``, exams) counts the
same way: :func:`score_against` for one image, :func:`score_table` for many images of many people.
Shapes pair up by :func:`labnb.metrics.agreement.match_shapes`, i.e. by the one similarity rule of
:func:`labnb.metrics.agreement.similarity_matrix`: a box drawn over a ground-truth polygon is compared with
the polygon's bounding box, so a box pass is not scored 0 against segmentation ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from labnb.geometry import Shape, Tag
from labnb.metrics.agreement import match_shapes

#: Columns of :func:`score_table` after the one naming who was scored.
SCORE_COLUMNS = ["images", "tp", "fp", "fn", "precision", "recall", "f1", "mean_iou"]


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
    against ``truth`` on one image. A label is a true positive when matched one-to-one to a truth shape of
    its class at or above ``threshold``; tags count by (group, value)."""
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
    """(precision, recall, F1); NaN where a ratio has nothing to count (no labels, or no truth)."""
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f = (
        2 * precision * recall / (precision + recall)
        if precision + recall > 0
        else (math.nan if math.isnan(precision + recall) else 0.0)
    )
    return precision, recall, f


def score_table(
    items: Iterable[tuple[str, Sequence[Shape], Sequence[Shape], int, int]],
    *,
    key: str = "annotator",
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Scores per person from ``(who, truth, labels, height, width)`` items, one per labelled image: a
    DataFrame with ``key`` then images, tp, fp, fn, precision, recall, f1 and mean_iou (the mean similarity
    of the matches: IoU, or OKS for keypoints), one row per person, sorted by name."""
    totals: dict[str, list[float]] = {}
    for who, truth, labels, height, width in items:
        tp, fp, fn, sim = score_against(truth, labels, height, width, threshold=threshold, sigmas=sigmas)
        acc = totals.setdefault(who, [0.0, 0.0, 0.0, 0.0, 0.0])
        for i, v in enumerate((1, tp, fp, fn, sim)):
            acc[i] += v
    rows = []
    for who, (images, t_p, f_p, f_n, total) in sorted(totals.items()):
        precision, recall, f = f1(int(t_p), int(f_p), int(f_n))
        mean_sim = total / t_p if t_p else math.nan
        rows.append((who, int(images), int(t_p), int(f_p), int(f_n), precision, recall, f, mean_sim))
    frame: pd.DataFrame = pd.DataFrame(rows, columns=[key, *SCORE_COLUMNS])
    return frame
