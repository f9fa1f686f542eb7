"""Task rows: the small writes every transition is made of (lock, set, take, give back), the review task a
hand-in adds, the end of a job's queue, and the job's state that follows from its tasks. Shared by the
transitions (:mod:`labnb.workflow.tasks`), claiming (:mod:`labnb.workflow.claims`) and jobs; every caller
runs them inside its own transaction and writes its own event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.errors import LabnbError
from labnb.event_log import Flow, record_event
from labnb.store.tables import jobs, tasks

if TYPE_CHECKING:
    from labnb.project import Project


def locked(conn: sa.Connection, task_id: int | None) -> Any:
    q = sa.select(tasks).where(tasks.c.id == task_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise LabnbError(f"no task {task_id}")
    return row


def set_values(conn: sa.Connection, task_id: int | None, stamp: datetime, **values: Any) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id).values(updated_at=stamp, **values))


def take(conn: sa.Connection, project_id: int, user: str, row: Any, stamp: datetime, minutes: float) -> None:
    """Claim ``row`` for ``user`` until ``minutes`` from now (a review also puts its pass "in review")."""
    values: dict[str, Any] = {"assignee": user, "claimed_at": stamp, "expires_at": stamp + timedelta(minutes=minutes)}
    flow = None
    if row.kind == "review":
        values["state"] = "review"
        before = conn.execute(sa.select(tasks.c.state).where(tasks.c.id == row.draw_task_id)).scalar_one()
        flow = Flow(row.draw_task_id, before, "review")  # none when a lapsed claim is taken over
        set_values(conn, row.draw_task_id, stamp, state="review")
    set_values(conn, row.id, stamp, **values)
    payload = {"job": row.job_id, "kind": row.kind, "pass": row.pass_index + 1}
    record_event(
        conn, project_id, user, "task.claim", asset_id=row.asset_id, task_id=row.id, payload=payload, flow=flow
    )


def give_back(
    conn: sa.Connection, project_id: int, user: str, row: Any, stamp: datetime, payload: dict[str, Any]
) -> None:
    """Free ``row`` for anyone (a review gives its pass back to "annotated")."""
    set_values(conn, row.id, stamp, assignee=None, claimed_at=None, expires_at=None, state="none")
    flow = None
    if row.kind == "review":
        set_values(conn, row.draw_task_id, stamp, state="annotated")
        flow = Flow(row.draw_task_id, "review", "annotated")
    record_event(
        conn, project_id, user, "task.release", asset_id=row.asset_id, task_id=row.id, payload=payload, flow=flow
    )


def settle_job_state(conn: sa.Connection, project: Project, job_id: int) -> None:
    """A launched job whose every task is completed becomes ``completed``; a completed one that has work
    again (a pass added) is ``launched`` once more. Called in the transaction of every task transition."""
    job = conn.execute(sa.select(jobs.c.state, jobs.c.name, jobs.c.kind).where(jobs.c.id == job_id)).one()
    if job.state not in ("launched", "completed") or job.kind != "work":
        return  # an exam's job stays open for the next attempt
    # continuous-gold tasks are no part of the job's work: one left undone never holds the job open
    open_tasks = conn.execute(
        sa.select(sa.func.count()).where(
            tasks.c.job_id == job_id, tasks.c.state != "completed", tasks.c.gold.is_(False)
        )
    ).scalar_one()
    state = "launched" if open_tasks else "completed"
    if state == job.state:
        return
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(state=state))
    kind = "job.complete" if state == "completed" else "job.reopen"
    record_event(conn, project.id, project.user, kind, payload={"job": job_id, "name": job.name})


def next_seq(conn: sa.Connection, job_id: int) -> int:
    """The place at the end of a job's queue, for a task added after launch (a review, an extra pass)."""
    last = conn.execute(sa.select(sa.func.coalesce(sa.func.max(tasks.c.seq), 0)).where(tasks.c.job_id == job_id))
    return int(last.scalar_one()) + 1


def insert_review(conn: sa.Connection, project_id: int, draw: Any, stamp: datetime) -> None:
    conn.execute(
        tasks.insert().values(
            project_id=project_id,
            job_id=draw.job_id,
            asset_id=draw.asset_id,
            kind="review",
            pass_index=draw.pass_index,
            seq=next_seq(conn, draw.job_id),
            state="none",
            needs_review=False,
            draw_task_id=draw.id,
            created_at=stamp,
            updated_at=stamp,
        )
    )
