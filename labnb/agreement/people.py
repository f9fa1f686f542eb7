"""Agreement per person: the annotator x annotator matrix, and each annotator against the others, the
consensus and the ground truth.

All of it compares object shapes (tags have their own statistics, :mod:`labnb.agreement.tags`) by the
workflow's pair agreement (:func:`labnb.metrics.agreement.pair_agreement`: matched IoU/OKS over the mean
count, so a missed object and a sloppy outline both cost):

- the pair matrix: for two annotators, the mean over the images both drew of their passes' agreement;
- ``vs_others``: the mean of the same values over every pair the person is in (mean pairwise);
- ``vs_consensus``: the mean over images of two or more passes of the person's pass against the image's
  consensus, the objects :func:`labnb.workflow.consensus.merge` makes of all its passes (what ``job.merge``
  writes: a majority of votes per object), the person's own pass included, as in the merged labels;
- ``vs_ground_truth``: F1 against the image's ground-truth annotations (source ``ground_truth``), summed
  over the images that have any (:func:`labnb.metrics.scoring.score_against`, like ``job.score_annotators``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from labnb.geometry import Shape, Tag
from labnb.metrics.agreement import pair_agreement
from labnb.metrics.scoring import f1, score_against
from labnb.workflow.consensus import fuse

if TYPE_CHECKING:
    from labnb.agreement.passes import ImagePasses
    from labnb.agreement.shapes import ImageShapes

#: Columns of the annotator table (indexed by user), best agreement with the others first.
ANNOTATOR_COLUMNS = [
    "images",
    "vs_others",
    "n_others",
    "vs_consensus",
    "n_consensus",
    "vs_ground_truth",
    "n_ground_truth",
    "gt_precision",
    "gt_recall",
]


def pair_matrix(results: Sequence[tuple[ImagePasses, ImageShapes]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mean agreement, images) annotator x annotator, symmetric. The diagonal of the first is NaN (nobody
    is compared with themselves); that of the second is how many compared images the person drew."""
    sums: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], int] = {}
    drew: dict[str, int] = {}
    for img, shapes in results:
        if len(img.passes) < 2:
            continue
        for p in img.passes:
            drew[p.user] = drew.get(p.user, 0) + 1
        for a, b, value in shapes.pairs:
            key = (img.passes[a].user, img.passes[b].user)
            for k in (key, key[::-1]):
                sums[k] = sums.get(k, 0.0) + value
                counts[k] = counts.get(k, 0) + 1
    people = sorted(drew)
    mean = pd.DataFrame(np.nan, index=pd.Index(people, name="annotator"), columns=pd.Index(people, name="with"))
    n = pd.DataFrame(0, index=mean.index.copy(), columns=mean.columns.copy())
    for (one, other), c in counts.items():
        mean.loc[one, other] = sums[(one, other)] / c
        n.loc[one, other] = c
    for who in people:
        n.loc[who, who] = drew[who]
    return mean, n


def consensus_objects(shapes: ImageShapes, n_passes: int, height: int, width: int) -> list[Shape]:
    """The objects :func:`labnb.workflow.consensus.merge` makes of the passes (its default majority of
    votes), fused from the units already clustered by the same rule rather than clustered again."""
    need = n_passes // 2 + 1 if n_passes > 1 else 1
    out = []
    for unit in shapes.units:
        members = [shapes.shapes[i] for i in unit.members if i is not None]
        if len(members) >= need:
            out.append(fuse(members, height, width))
    return out


def _objects(shapes: Sequence[Shape]) -> list[Shape]:
    return [s for s in shapes if not isinstance(s, Tag)]


def annotator_table(
    results: Sequence[tuple[ImagePasses, ImageShapes]],
    truth: Mapping[int, Sequence[Shape]],
    *,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """One row per annotator (:data:`ANNOTATOR_COLUMNS`), sorted by ``vs_others``, highest first."""
    images: dict[str, int] = {}
    others: dict[str, list[float]] = {}
    other_images: dict[str, set[tuple[int, int]]] = {}
    consensus: dict[str, list[float]] = {}
    gt: dict[str, list[int]] = {}
    for img, shapes in results:
        key = (img.job_id, img.asset_id)
        objects = [p.objects for p in img.passes]
        for p in img.passes:
            images[p.user] = images.get(p.user, 0) + 1
        for a, b, value in shapes.pairs:
            for who in (img.passes[a].user, img.passes[b].user):
                others.setdefault(who, []).append(value)
                other_images.setdefault(who, set()).add(key)
        if len(img.passes) >= 2:
            merged = consensus_objects(shapes, len(img.passes), img.height, img.width)
            for p, obj in zip(img.passes, objects, strict=True):
                score = pair_agreement(obj, merged, img.height, img.width, threshold=threshold)
                consensus.setdefault(p.user, []).append(score)
        reference = _objects(truth.get(img.asset_id, []))
        if reference:
            for p, obj in zip(img.passes, objects, strict=True):
                tp, fp, fn, _ = score_against(reference, obj, img.height, img.width, threshold=threshold)
                acc = gt.setdefault(p.user, [0, 0, 0, 0])
                for i, v in enumerate((tp, fp, fn, 1)):
                    acc[i] += v
    rows = []
    for who in sorted(images):
        tp, fp, fn, n_gt = gt.get(who, [0, 0, 0, 0])
        precision, recall, f = f1(tp, fp, fn) if n_gt else (math.nan, math.nan, math.nan)
        rows.append(
            (
                who,
                images[who],
                float(np.mean(others[who])) if who in others else math.nan,
                len(other_images.get(who, ())),
                float(np.mean(consensus[who])) if who in consensus else math.nan,
                len(consensus.get(who, [])),
                f,
                n_gt,
                precision,
                recall,
            )
        )
    frame = pd.DataFrame(rows, columns=["annotator", *ANNOTATOR_COLUMNS]).set_index("annotator")
    ranked: pd.DataFrame = frame.sort_values("vs_others", ascending=False, kind="stable", na_position="last")
    return ranked
