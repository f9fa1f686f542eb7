"""Image tags and object attributes as ratings, and their chance-corrected agreement.

Tags: a unit is one tag group of one image that at least one pass used; each pass rates it with the values
it chose (a multi-choice group's values joined with "+", sorted), or ``"(none)"`` when it left the group
empty, which counts as a different answer (a tag one annotator forgot is a disagreement). Groups no pass
of an image used are not units: an unused group says nothing about agreement.

Attributes: a unit is one attribute of one matched object (:mod:`labnb.agreement.shapes`); each pass whose
shape of the object has the attribute set rates it. A pass that missed the object, or left the attribute
unset, is a missing rating, not a disagreement (the shapes' alpha already counts the missed object).

Statistics come from :mod:`labnb.metrics.reliability`: Krippendorff's alpha (nominal; interval for number
attributes), Fleiss' kappa and percent agreement (not for numbers), computed over the units of a job.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from labnb.geometry import Shape, Tag
from labnb.metrics.reliability import ReliabilityError, fleiss_kappa, krippendorff_alpha, percent_agreement

#: What a pass that left a tag group empty is rated, when another pass of the image used the group.
NO_TAG = "(none)"
#: Columns of the long ratings frames: the job, the image, the item (tag group or attribute), the unit
#: (``job/asset`` for tags, ``job/asset/object`` for attributes), who rated it and what.
RATING_COLUMNS = ["job_id", "asset", "item", "unit", "rater", "value"]


def tag_values(shapes: Sequence[Shape]) -> dict[str | None, str]:
    """{group: the pass's answer} of one pass's tags (multi-choice values joined by "+")."""
    groups: dict[str | None, set[str]] = {}
    for s in shapes:
        if isinstance(s, Tag):
            groups.setdefault(s.group, set()).add(s.value)
    return {g: "+".join(sorted(v)) for g, v in groups.items()}


def tag_ratings(job_id: int, asset_id: int, passes: Sequence[tuple[str, Sequence[Shape]]]) -> list[tuple[Any, ...]]:
    """Rating rows (:data:`RATING_COLUMNS`) of one image's tag groups; none with fewer than two passes."""
    if len(passes) < 2:
        return []
    answers = [(who, tag_values(shapes)) for who, shapes in passes]
    groups = dict.fromkeys(g for _, a in answers for g in a)
    return [
        (job_id, asset_id, f"tag:{g}", f"{job_id}/{asset_id}", who, a.get(g, NO_TAG))
        for g in groups
        for who, a in answers
    ]


def pair_share(values: Sequence[str]) -> float:
    """The share of pairs of passes that gave the same answer (an image's tag agreement on one group)."""
    pairs = list(itertools.combinations(values, 2))
    return sum(1.0 for a, b in pairs if a == b) / len(pairs) if pairs else math.nan


def attribute_value(value: Any) -> Any:
    """An attribute value as a rating: lists (several choices) become one sorted "+"-joined answer."""
    if isinstance(value, list | tuple | set):
        return "+".join(sorted(str(v) for v in value))
    return value


def statistics(ratings: pd.DataFrame, numeric: bool = False) -> dict[str, float]:
    """Alpha, Fleiss' kappa and percent agreement of one item's long ratings (unit, rater, value), with
    the units rated at least twice and the raters; a statistic the ratings cannot give (one rater, nothing
    rated twice, a single category) is NaN."""
    frame = ratings[["unit", "rater", "value"]]
    rated = frame.groupby("unit")["value"].transform("size")
    frame = frame[rated >= 2]
    out = {
        "alpha": math.nan,
        "fleiss_kappa": math.nan,
        "percent_agreement": math.nan,
        "n_units": float(frame["unit"].nunique()),
        "n_raters": float(frame["rater"].nunique()),
    }
    if frame.empty:
        return out
    tries: list[tuple[str, Any]] = [("alpha", lambda: krippendorff_alpha(frame, "interval" if numeric else "nominal"))]
    if not numeric:
        tries += [
            ("fleiss_kappa", lambda: fleiss_kappa(frame)),
            ("percent_agreement", lambda: percent_agreement(frame)),
        ]
    for name, compute in tries:
        try:
            with np.errstate(divide="ignore", invalid="ignore"):  # one category only: 0 / 0, NaN
                out[name] = float(compute().coefficient)
        except ReliabilityError:
            pass
    return out
