"""The per-person quality columns of the dashboard: agreement with others, F1 against ground truth and
against gold. Unlike the counts these compare shapes, so they are computed from the labels (at the
build and, throttled, after new hand-ins), not aggregated from the event log."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from labnb.agreement import annotator_agreement
from labnb.metrics.scoring import f1

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job

COLUMNS = ["agreement", "f1_ground_truth", "f1_gold"]


def quality_columns(project: Project, job: Job | None, since: datetime | None = None) -> pd.DataFrame:
    """Per person (index): ``agreement`` (mean agreement of their passes with the other passes of the same
    images) and ``f1_ground_truth`` (their passes against the images' ground truth), both from
    :func:`labnb.agreement.annotator_agreement`, and ``f1_gold`` (continuous gold in the jobs, tp/fp/fn
    pooled over them: :meth:`Job.gold_scores`). NaN where nothing is known; empty for a viewer below
    reviewer, who may not see these. ``since``: agreement and F1 over the images with a pass that changed
    state since then (the dashboard's range), not the whole project's history."""
    role = project.members.role()
    if role is None or role == "annotator":
        empty: pd.DataFrame = pd.DataFrame(columns=COLUMNS)
        return empty
    gold: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for j in [job] if job is not None else [j for j in project.jobs if j.gold_rate > 0]:
        table = j.gold_scores()
        for user, tp, fp, fn in zip(table["annotator"], table["tp"], table["fp"], table["fn"], strict=True):
            counts = gold[str(user)]
            counts[0] += int(tp)
            counts[1] += int(fp)
            counts[2] += int(fn)
    agreement = annotator_agreement(project, job, since=since)
    users = sorted(set(gold) | {str(u) for u in agreement.index})
    frame: pd.DataFrame = pd.DataFrame(
        {
            "agreement": [_get(agreement, u, "vs_others") for u in users],
            "f1_ground_truth": [_get(agreement, u, "vs_ground_truth") for u in users],
            "f1_gold": [f1(*gold[u])[2] if u in gold else math.nan for u in users],
        },
        index=pd.Index(users, name="user"),
    )
    return frame


def _get(table: pd.DataFrame, user: str, column: str) -> float:
    if column not in table:
        return math.nan
    values: dict[str, float] = {str(k): float(v) for k, v in table[column].items()}
    return values.get(user, math.nan)
