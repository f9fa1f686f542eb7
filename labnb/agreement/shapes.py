"""Shapes of several passes over one image: matched into objects (units), and how much the passes agree on
them, as the workflow's mean matched IoU and as Krippendorff's alpha with distance 1 - IoU.

Units. The passes' shapes are clustered by the workflow's own rule (:func:`labnb.workflow.consensus.cluster`:
each pass's shapes matched one-to-one, Hungarian, same label, similarity at or above the threshold, to the
clusters built so far), so a unit is exactly an object the consensus would merge. Each unit has one value
per pass: the shape that pass drew for it, or *absent* when the pass has none.

Alpha. Krippendorff's alpha (Krippendorff 2011) with the values being the shapes themselves and the
distance ``delta(s, t) = 1 - similarity(s, t)`` (IoU, or OKS for keypoints, by
:func:`labnb.metrics.agreement.similarity_matrix`); a shape against *absent* is 1 (a missed object is full
disagreement), *absent* against *absent* is 0. The expected disagreement pairs every value with every other
one: two shapes of one image by their similarity, shapes of different images (whose coordinates mean
nothing to each other) at the full distance 1. That block structure makes alpha a function of four sums,
:class:`AlphaTerms`, which add up over images, labels or jobs, so a pooled alpha over a million objects
needs no values x values matrix. The tests check it equals :func:`labnb.metrics.krippendorff_alpha` with the
same callable distance. Alpha compares the disagreement within objects with that across them, so it needs
two objects at least: with one, any alpha is 0 (or 0 / 0), and it is reported as NaN (the image's or
label's ``iou`` still says how well the passes agree). When nothing varies at all (every value the same
shape) alpha's 0 / 0 is reported as 1, full agreement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from labnb.geometry import Shape
from labnb.metrics.agreement import similarity_matrix
from labnb.workflow.consensus import cluster


@dataclass
class AlphaTerms:
    """The sums Krippendorff's alpha over shape units is made of (see the module docstring).

    ``n``: values in units with two or more of them; ``observed``: the sum over units of the distances of
    their ordered pairs of values, each divided by ``m_u - 1``; ``absent``: how many of the values are
    *absent*; ``overlap``: the summed similarity of every ordered pair of two different shapes of one
    image; ``units``: how many units.
    """

    n: float = 0.0
    observed: float = 0.0
    absent: float = 0.0
    overlap: float = 0.0
    units: int = 0

    def __add__(self, other: AlphaTerms) -> AlphaTerms:
        return AlphaTerms(
            self.n + other.n,
            self.observed + other.observed,
            self.absent + other.absent,
            self.overlap + other.overlap,
            self.units + other.units,
        )

    @property
    def alpha(self) -> float:
        """``1 - D_o / D_e``: ``D_o = observed / n`` and ``D_e = (n (n - 1) - absent (absent - 1) - overlap)
        / (n (n - 1))``; NaN with fewer than two units, 1 when nothing varies."""
        n = self.n
        if self.units < 2 or n < 2:
            return math.nan
        d_o = self.observed / n
        d_e = (n * (n - 1.0) - self.absent * (self.absent - 1.0) - self.overlap) / (n * (n - 1.0))
        if d_e <= 1e-12:
            return 1.0 if d_o <= 1e-12 else math.nan
        return float(1.0 - d_o / d_e)


def sum_terms(terms: Sequence[AlphaTerms]) -> AlphaTerms:
    total = AlphaTerms()
    for t in terms:
        total = total + t
    return total


@dataclass
class Unit:
    """One object as the passes saw it: its label and, per pass, the index of the pass's shape in the
    image's flat shape list, or None where the pass did not draw it."""

    label: str | None
    members: list[int | None]

    @property
    def found_by_all(self) -> bool:
        return all(m is not None for m in self.members)


@dataclass
class ImageShapes:
    """The shape agreement of one image: units, the flat list of every pass's shapes with their
    similarity matrix, the pairwise agreement of passes, and alpha's sums per label."""

    shapes: list[Shape]
    owner: list[int]  # the pass (position) of each flat shape
    sim: NDArray[np.float64]
    units: list[Unit]
    #: (pass position a, pass position b, pair_agreement of their shapes) for every pair of passes
    pairs: list[tuple[int, int, float]]
    #: the mean of ``pairs``: the workflow's image agreement over the shapes (NaN with one pass)
    iou: float
    iou_by_label: dict[str | None, float] = field(default_factory=dict)
    terms_by_label: dict[str | None, AlphaTerms] = field(default_factory=dict)

    @property
    def terms(self) -> AlphaTerms:
        return sum_terms(list(self.terms_by_label.values()))

    @property
    def alpha(self) -> float:
        return self.terms.alpha


def block_agreement(sim: NDArray[np.float64], a: Sequence[int], b: Sequence[int], threshold: float) -> float:
    """:func:`labnb.metrics.agreement.pair_agreement` of two passes' shapes (no tags), given as indices into
    the image's similarity matrix: the same Hungarian matching at ``threshold`` as
    :func:`labnb.metrics.agreement.match_shapes` on the block of ``sim`` (a block of the matrix of all
    shapes is the matrix of those shapes), so one matrix per image serves every pair and label."""
    if not a and not b:
        return 1.0
    block = sim[np.ix_(list(a), list(b))]
    matched = 0.0
    if block.size:
        rows, cols = linear_sum_assignment(-np.where(block >= threshold, block, 0.0))
        kept = block[rows, cols]
        matched = float(kept[kept >= threshold].sum())
    return matched / ((len(a) + len(b)) / 2)


def unit_terms(unit: Unit, sim: NDArray[np.float64]) -> tuple[float, int]:
    """(summed distance of the unit's ordered pairs of values / (m - 1), absent values) of one unit."""
    m = len(unit.members)
    total = 0.0
    for a, b in itertools.permutations(unit.members, 2):
        if a is None and b is None:
            continue
        total += 1.0 if a is None or b is None else 1.0 - float(sim[a, b])
    return total / (m - 1), sum(1 for v in unit.members if v is None)


def image_shapes(
    passes: Sequence[Sequence[Shape]],
    height: int,
    width: int,
    *,
    threshold: float = 0.5,
    sigmas: Mapping[str, float] | None = None,
) -> ImageShapes:
    """Units, pairwise agreement and alpha's sums of the object shapes (no tags) of several passes."""
    flat: list[Shape] = []
    owner: list[int] = []
    for k, shapes in enumerate(passes):
        flat.extend(shapes)
        owner.extend([k] * len(shapes))
    index = {id(s): i for i, s in enumerate(flat)}
    units = []
    for members in cluster(passes, height, width, threshold=threshold, sigmas=sigmas):
        slots: list[int | None] = [None] * len(passes)
        for s in members:
            i = index[id(s)]
            slots[owner[i]] = i
        units.append(Unit(members[0].label, slots))
    sim = similarity_matrix(flat, flat, height, width, sigmas) if flat else np.zeros((0, 0))
    by_pass = [[i for i, k in enumerate(owner) if k == pos] for pos in range(len(passes))]
    pairs = [
        (a, b, block_agreement(sim, by_pass[a], by_pass[b], threshold))
        for a, b in itertools.combinations(range(len(passes)), 2)
    ]
    iou = float(np.mean([v for _, _, v in pairs])) if pairs else math.nan
    out = ImageShapes(flat, owner, sim, units, pairs, iou)
    labels = list(dict.fromkeys(s.label for s in flat))
    for label in labels:
        if len(passes) >= 2:
            of = [[i for i in m if flat[i].label == label] for m in by_pass]
            out.iou_by_label[label] = float(
                np.mean(
                    [
                        block_agreement(sim, of[a], of[b], threshold)
                        for a, b in itertools.combinations(range(len(of)), 2)
                    ]
                )
            )
        of_label = [u for u in units if u.label == label]
        if len(passes) < 2 or not of_label:
            continue
        terms = AlphaTerms()
        for u in of_label:
            observed, absent = unit_terms(u, sim)
            terms = terms + AlphaTerms(float(len(passes)), observed, float(absent), 0.0, 1)
        idx = [i for i, s in enumerate(flat) if s.label == label]
        block = sim[np.ix_(idx, idx)]
        terms.overlap = float(block.sum() - np.trace(block))
        out.terms_by_label[label] = terms
    return out


def as_ratings(images: Sequence[tuple[Any, ImageShapes, Sequence[str]]]) -> tuple[Any, Any]:
    """The units of several images as Krippendorff ratings for :func:`labnb.metrics.krippendorff_alpha` with
    a callable distance: (units x raters array of numeric value codes, the codes' distance function).
    ``images`` are (key, shapes, the passes' raters). Used by the tests to check :class:`AlphaTerms`
    against the reference implementation; it builds the values x values matrix the sums avoid."""
    raters = sorted({r for _, _, rs in images for r in rs})
    col = {r: j for j, r in enumerate(raters)}
    rows: list[list[float]] = []
    codes: list[tuple[int, int]] = []  # value code -> (image position, flat index)
    absent = -1.0
    for k, (_, img, rs) in enumerate(images):
        if len(rs) < 2:
            continue
        for u in img.units:
            row = [math.nan] * len(raters)
            for pos, member in enumerate(u.members):
                if member is None:
                    row[col[rs[pos]]] = absent
                else:
                    row[col[rs[pos]]] = float(len(codes))
                    codes.append((k, member))
            rows.append(row)
    sims = [img.sim for _, img, _ in images]

    def distance(a: float, b: float) -> float:
        if a == b:
            return 0.0
        if absent in (a, b):
            return 1.0
        (ia, sa), (ib, sb) = codes[int(a)], codes[int(b)]
        return 1.0 - float(sims[ia][sa, sb]) if ia == ib else 1.0

    return np.array(rows, dtype=np.float64), distance
