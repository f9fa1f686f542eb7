"""The per-person quality columns of the dashboard: agreement with others, F1 against ground truth and
against gold. Unlike the counts these compare shapes, so they are computed from the labels (at the
build and, throttled, after new hand-ins), not aggregated from the event log."""

from __future__ import annotations

import importlib
import math
from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd

from labnb.metrics.scoring import f1

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job

COLUMNS = ["agreement", "f1_ground_truth", "f1_gold"]


def quality_columns(project: Project, job: Job | None) -> pd.DataFrame:
    """Per person (index): ``agreement`` (mean agreement of their passes with the other passes of the same
    images, :func:`labnb.agreement.annotator_agreement`), ``f1_ground_truth`` (their passes against the
    images' ground truth, tp/fp/fn pooled over the jobs: :meth:`Job.score_annotators`) and ``f1_gold``
    (continuous gold in the jobs, pooled: :meth:`Job.gold_scores`). NaN where nothing is known; empty for
    a viewer below reviewer, who may not see these."""
    role = project.members.role()
    if role is None or role == "annotator":
        empty: pd.DataFrame = pd.DataFrame(columns=COLUMNS)
        return empty
    chosen = [job] if job is not None else list(project.jobs)
    truth: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    gold: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for j in chosen:
        for table, into, who in (
            (j.score_annotators(progress=False), truth, "annotator"),
            (j.gold_scores(), gold, "annotator"),
        ):
            for user, tp, fp, fn in zip(table[who], table["tp"], table["fp"], table["fn"], strict=True):
                counts = into[str(user)]
                counts[0] += int(tp)
                counts[1] += int(fp)
                counts[2] += int(fn)
    agreement = _agreement(project, job)
    users = sorted(set(truth) | set(gold) | set(agreement.index))
    frame: pd.DataFrame = pd.DataFrame(
        {
            "agreement": [float(agreement.get(u, math.nan)) for u in users],
            "f1_ground_truth": [f1(*truth[u])[2] if u in truth else math.nan for u in users],
            "f1_gold": [f1(*gold[u])[2] if u in gold else math.nan for u in users],
        },
        index=pd.Index(users, name="user"),
    )
    return frame


def _agreement(project: Project, job: Job | None) -> pd.Series:
    try:  # until the agreement report lands beside this package
        module = importlib.import_module("labnb.agreement")
    except ImportError:
        return pd.Series(dtype=float)
    table = module.annotator_agreement(project, job)
    series: pd.Series = table["vs_others"] if "vs_others" in table else pd.Series(dtype=float)
    return series
