"""The review queue: what a reviewer may open in a job, its filters, and a cheap stamp of the job's task
rows, so that an open panel learns of new passes without reading the whole queue again.

The review panel (:mod:`labnb.widgets.review_panel`) shows these rows. Which reviews a user may take is
stated once, in :func:`labnb.workflow.claims.claimable_review`, which claiming uses too: the queue lists
exactly what a claim would accept (plus the review the user holds). Names are passed through
:func:`labnb.schema.plain_text` on their way to the browser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.clock import aware, now
from labnb.schema import plain_text
from labnb.store.tables import annotation_rows, assets, jobs, tasks
from labnb.workflow.claims import claimable_review, eligible_jobs
from labnb.workflow.tasks import DRAWN, load

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job
    from labnb.workflow.tasks import Task


def queue_stamp(project: Project, job_id: int) -> tuple[Any, ...]:
    """What changes whenever the job's queue may have: the job's state, how many tasks it has, their latest
    change, and how many claims have lapsed by now (a lapse changes no row). Two aggregate queries on the
    job's indexed task rows, cheap enough to ask every few seconds; equal stamps mean the queue is the same
    (a credential granted meanwhile shows at the next Refresh)."""
    t = tasks
    stamp = now()
    with project._engine.connect() as conn:
        state = conn.execute(sa.select(jobs.c.state).where(jobs.c.id == job_id)).scalar()
        count, latest, lapsed = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(t.c.updated_at),
                sa.func.coalesce(sa.func.sum(sa.case((t.c.expires_at < stamp, 1), else_=0)), 0),
            ).where(t.c.job_id == job_id)
        ).one()
    return state, int(count), None if latest is None else str(latest), int(lapsed)


def review_queue(project: Project, job: Job) -> list[dict[str, Any]]:
    """The review items of ``job`` the current user may open, in the job's order: review tasks that are free
    (or whose claim lapsed) of passes drawn by someone else, and the one the user holds. Empty when the job
    is not launched or the user lacks its credentials (claiming would be refused)."""
    user = project.user
    stamp = now()
    t, d = tasks, tasks.alias("drawn")
    with project._engine.connect() as conn:
        if not eligible_jobs(conn, project, job.id):
            return []
        live = sa.or_(t.c.expires_at.is_(None), t.c.expires_at > stamp)
        rows = conn.execute(
            sa.select(
                t.c.id,
                t.c.draw_task_id,
                t.c.asset_id,
                assets.c.file_name,
                d.c.assignee.label("drawer"),
                t.c.pass_index,
                t.c.assignee,
                t.c.state,
                t.c.expires_at,
            )
            .join(d, d.c.id == t.c.draw_task_id)
            .join(assets, assets.c.id == t.c.asset_id)
            .where(t.c.job_id == job.id)
            .where(
                sa.or_(
                    claimable_review(t, d, user, stamp),
                    sa.and_(t.c.kind == "review", t.c.state == "review", t.c.assignee == user, live),
                )
            )
            .order_by(t.c.seq)
        ).all()
        labels = _pass_labels(project, conn, [int(r.draw_task_id) for r in rows])
    agreement = _agreement(job)
    out = []
    for r in rows:
        held = r.state == "review" and r.assignee == user and (r.expires_at is None or aware(r.expires_at) > stamp)
        out.append({
            "review_task": r.id, "draw_task": r.draw_task_id, "asset_id": r.asset_id,
            "file_name": r.file_name, "drawer": plain_text(str(r.drawer)), "pass": r.pass_index,
            "agreement": agreement.get(r.asset_id), "labels": labels.get(int(r.draw_task_id), []), "held": held,
        })  # fmt: skip
    return out


def filter_queue(rows: list[dict[str, Any]], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows that pass every filter set (see :attr:`ReviewPanel.filters`)."""
    below, drawer, label = filters.get("agreement_below"), filters.get("drawer"), filters.get("label")
    out = []
    for r in rows:
        if below is not None and (r["agreement"] is None or not r["agreement"] < below):
            continue
        if drawer is not None and r["drawer"] != drawer:
            continue
        if label is not None and label not in r["labels"]:
            continue
        out.append(r)
    return out


def _pass_labels(project: Project, conn: sa.Connection, draw_tasks: list[int]) -> dict[int, list[str]]:
    if not draw_tasks:
        return {}
    a = annotation_rows
    found = conn.execute(
        sa.select(a.c.task_id, a.c.label_id)
        .where(a.c.task_id.in_(draw_tasks), a.c.deleted.is_(False), a.c.label_id.is_not(None))
        .distinct()
    ).all()
    classes = project._classes_by_id()
    out: dict[int, set[str]] = {}
    for task_id, label_id in found:
        cls = classes.get(label_id)
        if cls is not None:
            out.setdefault(int(task_id), set()).add(plain_text(cls.name))
    return {k: sorted(v) for k, v in out.items()}


def _agreement(job: Job) -> dict[int, float | None]:
    frame = job.agreement
    return {
        int(a): (None if v is None or math.isnan(float(v)) else float(v))
        for a, v in zip(frame.asset, frame.agreement, strict=True)
    }


def job_drawers(project: Project, job_id: int) -> list[str]:
    t = tasks
    with project._engine.connect() as conn:
        found = conn.execute(
            sa.select(t.c.assignee)
            .where(t.c.job_id == job_id, t.c.kind == "draw", t.c.state.in_(DRAWN), t.c.assignee.is_not(None))
            .where(t.c.gold.is_(False))
            .distinct()
        ).scalars()
        return [plain_text(str(u)) for u in found]


def drawn_passes(project: Project, task: Task) -> list[Any]:
    """The drawn passes of ``task``'s image in its job (``id``, ``assignee``, ``pass_index``, ``state``), in
    pass order: what the review panel shows beside the pass under review."""
    t = tasks
    with project._engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(t.c.id, t.c.assignee, t.c.pass_index, t.c.state)
                .where(t.c.job_id == task.job_id, t.c.asset_id == task.asset_id, t.c.kind == "draw")
                .where(t.c.state.in_(DRAWN), t.c.gold.is_(False), t.c.attempt_id.is_(None))
                .order_by(t.c.pass_index)
            ).all()
        )


def task_seqs(project: Project, task_ids: list[int]) -> dict[int, int]:
    with project._engine.connect() as conn:
        return {
            int(i): int(s) for i, s in conn.execute(sa.select(tasks.c.id, tasks.c.seq).where(tasks.c.id.in_(task_ids)))
        }


def held_row(project: Project, task: Task) -> dict[str, Any]:
    """A queue row for a held task the filters hide."""
    draw = load(project, int(task.draw_task_id or 0))
    with project._engine.connect() as conn:
        labels = _pass_labels(project, conn, [draw.id]).get(draw.id, [])
    return {
        "review_task": task.id, "draw_task": draw.id, "asset_id": task.asset_id,
        "file_name": project.asset(task.asset_id).file_name, "drawer": plain_text(str(draw.assignee)),
        "pass": task.pass_index, "agreement": _agreement(task.job).get(task.asset_id), "labels": labels, "held": True,
    }  # fmt: skip
