"""Claiming tasks: the next one for a user, or one particular one, atomically and under every rule.

Claiming is one write transaction: on SQLite ``BEGIN IMMEDIATE`` serialises writers, so the check and the
claim cannot interleave; on PostgreSQL the candidate row is locked ``FOR UPDATE SKIP LOCKED`` (other
claimers take the next one) and a per-user advisory lock keeps one person's concurrent claims (two
notebooks) from taking two passes of one image. A claim lapses after the job's ``claim_minutes`` unless
renewed; a task sent back "to fix" stays with its drawer. :func:`claimable` is the one statement of which
tasks a user may take; the review panel's queue lists what it admits.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from labnb.annotations.passes import whose
from labnb.clock import aware, now
from labnb.errors import AccessDenied, LabnbError, TaskStateError
from labnb.people import held_credentials, require_credentials
from labnb.store import database as db
from labnb.store.tables import jobs, tasks
from labnb.workflow.task_rows import give_back, take
from labnb.workflow.tasks import Kind, Task, load, task_from_row

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job


def eligible_jobs(conn: sa.Connection, project: Project, job_id: int | None) -> list[int]:
    """Ids of the launched ordinary jobs (or just ``job_id``) whose credentials the current user holds. An
    exam's job is never among them: its draw tasks are assigned to their trainee when an attempt starts and
    its images are graded through the exam (:mod:`labnb.exams`), never claimed as work."""
    have = held_credentials(conn, project.id, project.user)
    q = sa.select(jobs.c.id, jobs.c.credentials).where(
        jobs.c.project_id == project.id, jobs.c.state == "launched", jobs.c.kind == "work"
    )
    if job_id is not None:
        q = q.where(jobs.c.id == job_id)
    return [r.id for r in conn.execute(q.order_by(jobs.c.id)) if set(orjson.loads(r.credentials)) <= have]


def next_task(project: Project, kind: Kind = "draw", job: Job | int | str | None = None) -> Task | None:
    """Claim the current user's next task of ``kind`` (see :meth:`labnb.Project.next_task`)."""
    if kind not in ("draw", "review"):
        raise LabnbError(f"kind must be 'draw' or 'review', got {kind!r}")
    project.members.require("annotator" if kind == "draw" else "reviewer", f"take {kind} tasks")
    job_id = None if job is None else project.jobs[job].id if not isinstance(job, int) else job
    user = project.user
    stamp = now()
    with db.transaction(project._engine) as conn:
        postgres = _lock_user(conn, project.id, user)
        mine = _own_open(conn, project.id, user, kind, stamp, job_id)
        if mine is not None:
            return task_from_row(project, mine)
        if job_id is not None:
            asked = conn.execute(sa.select(jobs).where(jobs.c.id == job_id, jobs.c.project_id == project.id)).first()
            if asked is None:
                raise LabnbError(f"project '{project.name}' has no job {job_id!r}")
            if asked.kind == "work":
                require_credentials(conn, project.id, asked, user, f"take its {kind} tasks")
        job_ids = eligible_jobs(conn, project, job_id)
        if not job_ids:
            return None
        if kind == "draw":
            from labnb.exams.continuous import gold_task  # noqa: PLC0415 - the exams layer sits above this one

            gold = gold_task(project, conn, job_ids, stamp)
            if gold is not None:
                return load_in(project, conn, gold)
        claim_minutes = dict(
            conn.execute(sa.select(jobs.c.id, jobs.c.claim_minutes).where(jobs.c.id.in_(job_ids))).all()
        )
        row = _candidate(conn, job_ids, user, kind, stamp, postgres)
        if row is None:
            return None
        take(conn, project.id, user, row, stamp, float(claim_minutes[row.job_id]))
    return load(project, row.id)


def claim(project: Project, task_id: int) -> Task:
    """Claim one particular task for the current user (the review panel opens the item a reviewer picks),
    under the rules of :func:`next_task`: the role its kind takes and the job's credentials, a launched job,
    never a second pass of an image one drew nor a review of one's own drawing, and only a task that is free
    or whose claim lapsed. A task the user holds already comes back as it is.

    One task of a kind in hand per job, as ``next_task`` hands them out: the user's other live claim of the
    same kind in that job is given back in the same transaction (event ``task.release``); a pass sent back
    to fix is never given back. Raises :class:`AccessDenied` (role, credentials, own drawing) or
    :class:`TaskStateError` (claimed by someone else, decided, job not launched)."""
    kind = load(project, task_id).kind
    project.members.require("annotator" if kind == "draw" else "reviewer", f"take {kind} tasks")
    user = project.user
    stamp = now()
    with db.transaction(project._engine) as conn:
        postgres = _lock_user(conn, project.id, user)
        row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one()
        live = row.expires_at is None or aware(row.expires_at) > stamp
        held = ("none", "to_fix") if kind == "draw" else ("review",)
        if row.assignee == user and live and row.state in held:
            return task_from_row(project, row)
        job = conn.execute(sa.select(jobs).where(jobs.c.id == row.job_id)).one()
        if job.state != "launched":
            raise TaskStateError(f"task {task_id} belongs to job '{job.name}', which is {job.state}, not launched")
        if job.kind != "work" and kind == "review":
            raise TaskStateError(f"task {task_id} grades an exam image: grade it with p.exams[...].grade(...)")
        require_credentials(conn, project.id, job, user, f"take its {kind} tasks")
        cand = _candidate(conn, [row.job_id], user, kind, stamp, postgres, task_id=task_id)
        if cand is None:
            raise _why_not(conn, row, user)
        t = tasks
        others = conn.execute(
            sa.select(t).where(
                t.c.job_id == row.job_id,
                t.c.assignee == user,
                t.c.kind == kind,
                t.c.id != task_id,
                t.c.state == ("none" if kind == "draw" else "review"),
                sa.or_(t.c.expires_at.is_(None), t.c.expires_at > stamp),
            )
        ).all()
        for o in others:
            give_back(conn, project.id, user, o, stamp, {"job": o.job_id, "for": task_id})
        take(conn, project.id, user, row, stamp, float(job.claim_minutes))
    return load(project, task_id)


def load_in(project: Project, conn: sa.Connection, task_id: int) -> Task:
    """Task ``task_id`` read in ``conn`` (inside the transaction that made it)."""
    return task_from_row(project, conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one())


def _why_not(conn: sa.Connection, row: Any, user: str) -> LabnbError:
    """Why :func:`claim` found task ``row`` not claimable by ``user``."""
    t = tasks
    if row.kind == "review":
        drawer = conn.execute(sa.select(t.c.assignee).where(t.c.id == row.draw_task_id)).scalar()
        if drawer == user:
            return AccessDenied(f"user '{user}' drew task {row.draw_task_id} and cannot review it")
    else:
        same_image = sa.and_(t.c.job_id == row.job_id, t.c.asset_id == row.asset_id, t.c.kind == "draw")
        drew = conn.execute(sa.select(t.c.id).where(same_image, t.c.assignee == user, t.c.id != row.id)).first()
        if drew is not None:
            return AccessDenied(f"user '{user}' already drew a pass of asset {row.asset_id} in this job")
    return TaskStateError(f"task {row.id} is '{row.state}', {whose(row)}; it cannot be claimed now")


def _lock_user(conn: sa.Connection, project_id: int, user: str) -> bool:
    """On PostgreSQL, take the per-user advisory lock of the transaction (one person's concurrent claims, from
    two notebooks, never take two passes of one image); returns whether the database is PostgreSQL."""
    if conn.dialect.name != "postgresql":
        return False
    key = int.from_bytes(hashlib.blake2b(f"{project_id}:{user}".encode(), digest_size=8).digest(), "big", signed=True)
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    return True


def _own_open(conn: sa.Connection, project_id: int, user: str, kind: str, stamp: datetime, job_id: int | None) -> Any:
    """The user's task of this kind already in hand: a pass sent back to fix first, then a live claim."""
    t = tasks
    live = sa.or_(t.c.expires_at.is_(None), t.c.expires_at > stamp)
    states = ["to_fix", "none"] if kind == "draw" else ["review"]
    q = sa.select(t).where(
        t.c.project_id == project_id, t.c.assignee == user, t.c.kind == kind, t.c.state.in_(states), live
    )
    if job_id is not None:
        q = q.where(t.c.job_id == job_id)
    order = sa.case((t.c.state == "to_fix", 0), else_=1)
    return conn.execute(q.order_by(order, t.c.job_id, t.c.seq).limit(1)).first()


def claimable_review(t: Any, d: Any, user: str, stamp: datetime) -> Any:
    """The condition on review task ``t`` (joined to its pass ``d``) that ``user`` may claim it now: of
    someone else's drawing, and free or with a lapsed claim. Claims and the review queue both use it."""
    return sa.and_(
        t.c.kind == "review",
        d.c.assignee != user,
        sa.or_(t.c.state == "none", sa.and_(t.c.state == "review", t.c.expires_at < stamp)),
    )


def _candidate(
    conn: sa.Connection,
    job_ids: list[int],
    user: str,
    kind: str,
    stamp: datetime,
    postgres: bool,
    task_id: int | None = None,
) -> Any:
    """The first task of ``kind`` that ``user`` may claim now (only ``task_id``, when given)."""
    t = tasks
    # an attempt's tasks and continuous-gold tasks belong to the one person they were made for
    free = sa.and_(
        sa.or_(t.c.assignee.is_(None), t.c.expires_at < stamp), t.c.attempt_id.is_(None), t.c.gold.is_(False)
    )
    if kind == "draw":
        other = t.alias("other")
        drew_here = (
            sa.select(other.c.id)
            .where(other.c.job_id == t.c.job_id, other.c.asset_id == t.c.asset_id, other.c.assignee == user)
            .where(other.c.kind == "draw", other.c.id != t.c.id)
            .exists()
        )
        q = sa.select(t).where(t.c.job_id.in_(job_ids), t.c.kind == "draw", t.c.state == "none", free, ~drew_here)
    else:
        d = t.alias("drawn")
        q = (
            sa.select(t)
            .join(d, d.c.id == t.c.draw_task_id)
            .where(t.c.job_id.in_(job_ids), claimable_review(t, d, user, stamp))
        )
    if task_id is not None:
        q = q.where(t.c.id == task_id)
    q = q.order_by(t.c.job_id, t.c.seq).limit(1)
    if postgres:
        q = q.with_for_update(skip_locked=True, of=t)
    return conn.execute(q).first()
