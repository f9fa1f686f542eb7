"""Continuous gold: an exam's images mixed into an ordinary job's draw queue, so quality is tracked after
the exam too (Label Studio Enterprise's annotator evaluation, CVAT's honeypots).

When a worker claims a draw task of a job with ``gold_rate`` r, with probability r they get instead one of
the job's gold exam's images they have not done in this job yet: a task of the job (``tasks.gold``), claimed
by them, that looks like any other. Handed in, it is scored against the exam's gold like an attempt's image
(:mod:`labnb.exams.prescore`), and it is never reviewed, counted in the job's agreement, nor merged.

A worker's gold F1 is the share 2TP / (2TP + FP + FN) over all their gold instances in the job, with a
Wilson 95 % interval taken over those 2TP + FP + FN trials. When the interval's upper bound is under the
job's ``min_gold_f1``, and they have done at least ``min_gold_images`` gold images, the job's credentials
are suspended for them (event ``credential.suspend``; ``p.members.reinstate`` lifts it): the interval keeps
a few unlucky instances from deciding, and the image floor keeps two images from deciding at all.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
import sqlalchemy as sa

from labnb.metrics.scoring import f1
from labnb.store.tables import credential_grants, exam_scores, exams, job_assets, jobs, tasks
from labnb.workflow.task_rows import next_seq, take

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job

#: The normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054

_draw = random.SystemRandom()


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (``successes`` of ``trials``); (0, 1) with no trials. Unlike
    the normal approximation it stays inside [0, 1] and is honest with few trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def gold_task(project: Project, conn: sa.Connection, job_ids: Sequence[int], stamp: datetime) -> int | None:
    """Maybe claim a continuous-gold task for the current user in one of ``job_ids`` (the jobs they may draw
    in, credentials checked), inside the claim's transaction; the new task's id, or None."""
    user = project.user
    rows = conn.execute(
        sa.select(jobs).where(jobs.c.id.in_(list(job_ids)), jobs.c.gold_rate > 0).order_by(jobs.c.id)
    ).all()
    for job in rows:
        if not _has_work(conn, job.id) or _draw.random() >= float(job.gold_rate):
            continue
        asset_id = _unseen_image(conn, job, user)
        if asset_id is None:
            continue
        values = {
            "project_id": project.id, "job_id": job.id, "asset_id": asset_id, "kind": "draw", "pass_index": 0,
            "seq": next_seq(conn, job.id), "state": "none", "needs_review": False, "gold": True,
            "created_at": stamp, "updated_at": stamp,
        }  # fmt: skip
        task_id = int(conn.execute(tasks.insert().values(values).returning(tasks.c.id)).scalar_one())
        row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one()
        take(conn, project.id, user, row, stamp, float(job.claim_minutes))
        # a gold task never lapses to someone else (nobody else may take it): it waits for its worker
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(expires_at=None))
        return task_id
    return None


def _has_work(conn: sa.Connection, job_id: int) -> bool:
    """Whether the job still has ordinary draw tasks waiting: gold is mixed into work, never served alone."""
    t = tasks
    waiting = sa.select(t.c.id).where(
        t.c.job_id == job_id, t.c.kind == "draw", t.c.state == "none", t.c.gold.is_(False), t.c.assignee.is_(None)
    )
    return conn.execute(waiting.limit(1)).first() is not None


def _unseen_image(conn: sa.Connection, job: Any, user: str) -> int | None:
    """An image of the job's gold exam that ``user`` has had no gold task of in this job, at random."""
    exam_job = conn.execute(sa.select(exams.c.job_id).where(exams.c.id == job.gold_exam_id)).scalar_one()
    done = sa.select(tasks.c.asset_id).where(tasks.c.job_id == job.id, tasks.c.gold.is_(True), tasks.c.assignee == user)
    images = list(
        conn.execute(
            sa.select(job_assets.c.asset_id).where(job_assets.c.job_id == exam_job, job_assets.c.asset_id.not_in(done))
        ).scalars()
    )
    return _draw.choice(images) if images else None


def _totals(conn: sa.Connection, job_id: int, user: str | None = None) -> list[Any]:
    s, t = exam_scores, tasks
    q = (
        sa.select(
            s.c.user, sa.func.count().label("n"), sa.func.sum(s.c.tp).label("tp"), sa.func.sum(s.c.fp).label("fp"),
            sa.func.sum(s.c.fn).label("fn"),
        )
        .join(t, t.c.id == s.c.task_id)
        .where(t.c.job_id == job_id, t.c.gold.is_(True))
        .group_by(s.c.user)
        .order_by(s.c.user)
    )  # fmt: skip
    if user is not None:
        q = q.where(s.c.user == user)
    return list(conn.execute(q).all())


def check_worker(project: Project, conn: sa.Connection, job_id: int, user: str) -> None:
    """After a gold image of ``user``'s was scored: suspend their credentials for the job when their gold F1
    is surely under the job's ``min_gold_f1`` (see the module docstring). In the hand-in's transaction."""
    job = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()
    if job.min_gold_f1 is None:
        return
    found = _totals(conn, job_id, user)
    if not found:
        return
    r = found[0]
    tp, fp, fn = int(r.tp), int(r.fp), int(r.fn)
    low, high = wilson(2 * tp, 2 * tp + fp + fn)
    if int(r.n) < int(job.min_gold_images or 1) or high >= float(job.min_gold_f1):
        return
    reason = (
        f"gold F1 in job '{job.name}' is at most {high:.2f} (95 % interval {low:.2f}-{high:.2f} over {r.n} gold "
        f"images), under the job's mark of {job.min_gold_f1:.2f}"
    )
    for credential in orjson.loads(job.credentials):
        project.members._suspend(conn, user, credential, reason)


def _suspended(conn: sa.Connection, project_id: int, user: str, names: set[str]) -> bool:
    """Whether ``user`` has a suspended (not revoked) grant of any of ``names``."""
    g = credential_grants
    q = sa.select(g.c.id).where(
        g.c.project_id == project_id, g.c.user == user, g.c.name.in_(sorted(names)), g.c.revoked_at.is_(None),
        g.c.suspended_at.is_not(None),
    )  # fmt: skip
    return bool(names) and conn.execute(q.limit(1)).first() is not None


def gold_scores(job: Job) -> pd.DataFrame:
    """Per worker: images (gold images done), tp, fp, fn, f1, f1_low, f1_high, suspended (see
    :meth:`labnb.workflow.jobs.Job.gold_scores`)."""
    p = job.project
    p.members.require("reviewer", f"see the gold scores of job '{job.name}'")
    needed = set(job.credentials)
    rows = []
    with p._engine.connect() as conn:
        for r in _totals(conn, job.id):
            tp, fp, fn = int(r.tp), int(r.fp), int(r.fn)
            low, high = wilson(2 * tp, 2 * tp + fp + fn)
            suspended = _suspended(conn, p.id, str(r.user), needed)
            rows.append((r.user, int(r.n), tp, fp, fn, f1(tp, fp, fn)[2], low, high, suspended))
    cols = ["annotator", "images", "tp", "fp", "fn", "f1", "f1_low", "f1_high", "suspended"]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
    return frame
