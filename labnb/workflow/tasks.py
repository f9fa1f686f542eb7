"""Tasks: claiming the next one atomically, and every state change checked and written as an event.

A job's draw task is one pass over one image; its review task (for every ``review_frequency``-th draw
task) is someone else's check of that pass. States of a draw task::

    none --submit--> annotated --review claimed--> review --accept/fix--> completed
                         ^                            |
                         +----submit---- to_fix <-reject

A draw task that needs no review goes from annotated to completed at once. A review task is ``none``
until claimed, ``review`` while a reviewer has it, ``completed`` once decided.

Claiming is one write transaction: on SQLite ``BEGIN IMMEDIATE`` serialises writers, so the check and
the claim cannot interleave; on PostgreSQL the candidate row is locked ``FOR UPDATE SKIP LOCKED`` (other
claimers take the next one) and a per-user advisory lock keeps one person's concurrent claims (two
notebooks) from taking two passes of one image. A claim lapses after the job's ``claim_minutes`` unless
renewed; a task sent back "to fix" stays with its drawer.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

import orjson
import sqlalchemy as sa

from labnb.annotations.passes import OPEN_DRAW
from labnb.annotations.passes import whose as _whose
from labnb.annotations.writer import Writes, writing
from labnb.errors import AccessDenied, LabnbError, TaskStateError
from labnb.people import now, record_event
from labnb.store import database as db
from labnb.store.rows import READ_COLUMNS, row_to_shape
from labnb.store.tables import annotation_rows, credentials, jobs, tasks

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.geometry import Shape
    from labnb.project import Project
    from labnb.widgets.annotator import Annotator
    from labnb.workflow.jobs import Job

__all__ = ["DRAWN", "OPEN_DRAW", "Task", "TaskStateError", "claim", "load", "next_task", "task_shapes"]

Kind = Literal["draw", "review"]
Decision = Literal["accept", "reject", "fix"]
#: Draw-task states that count as drawn (for agreement and extra passes).
DRAWN = ("annotated", "review", "completed")


@dataclass
class Task:
    """One claimed (or looked-up) task. Read its fields; change it through its methods."""

    project: Project
    id: int
    job_id: int
    asset_id: int
    kind: str
    pass_index: int
    state: str
    assignee: str | None
    draw_task_id: int | None
    comment: str | None
    needs_review: bool
    expires_at: datetime | None

    @property
    def asset(self) -> Asset:
        return self.project.asset(self.asset_id)

    @property
    def job(self) -> Job:
        return self.project.jobs[self.job_id]

    def __repr__(self) -> str:
        who = self.assignee or "unclaimed"
        return f"<Task {self.id} {self.kind} of asset {self.asset_id} pass {self.pass_number}: {self.state}, {who}>"

    @property
    def pass_number(self) -> int:
        """The pass as people count it, from 1 (``job.tasks["pass"]``, the widgets, event payloads);
        ``pass_index`` is the same from 0."""
        return self.pass_index + 1

    def refresh(self) -> Task:
        fresh = load(self.project, self.id)
        self.__dict__.update(fresh.__dict__)
        return self

    # -- what was drawn ------------------------------------------------------------------------------
    def annotator(self, **options: Any) -> Annotator:
        """The Annotator on this task's image, showing and editing only this pass (for a review task: the
        pass under review, which the reviewer may fix), with the job's guide. ``options`` go to
        :class:`labnb.widgets.annotator.Annotator` (``keymap``, ``assist``, ...)."""
        from labnb.widgets.annotator import Annotator  # noqa: PLC0415

        draw_id = self.draw_task_id if self.kind == "review" else self.id
        options.setdefault("guide", self.guide())
        return Annotator(self.project, [self.asset_id], task_id=draw_id, **options)

    def guide(self) -> str:
        """The markdown shown beside this task: the job's guide (review guide for a review), headed by the
        reviewer's comment when the pass came back to fix (rendered and sanitised like any guide)."""
        job = self.job
        text = job.review_guide if self.kind == "review" else job.guide
        if self.kind == "draw" and self.state == "to_fix" and self.comment:
            # the comment is plain text: markup in it is shown, never rendered (a guide may hold images)
            quoted = "\n".join(f"> {html.escape(line)}" for line in self.comment.splitlines())
            text = f"> **Sent back to fix:**\n>\n{quoted}\n\n{text}"
        return text

    def shapes(self) -> list[Shape]:
        """The shapes of this pass (for a review task: of the pass it reviews)."""
        return task_shapes(self.project, self.draw_task_id if self.kind == "review" else self.id)

    # -- transitions ---------------------------------------------------------------------------------
    def submit(self, shapes: Sequence[Shape] | None = None, *, duration: float | None = None) -> Task:
        """Hand in this draw pass. ``shapes`` (optional) replace what the pass holds; without them, what was
        drawn for it (``task.annotator()`` or ``p.annotate(..., task_id=task.id)``) is handed in."""
        p = self.project
        p.members.require("annotator", "submit a task")
        if self.kind != "draw":
            raise TaskStateError(f"task {self.id} is a review task: decide it with task.review(...)")
        stamp = now()
        with writing(p) as w:
            conn = w.conn
            row = _locked(conn, self.id)
            if row.assignee != p.user:
                raise AccessDenied(f"task {self.id} is {_whose(row)}; only its assignee can submit it")
            if row.state not in OPEN_DRAW:
                raise TaskStateError(
                    f"task {self.id} is '{row.state}'; only a task in {list(OPEN_DRAW)} can be submitted"
                )
            if shapes is not None:
                _replace_shapes(w, row, list(shapes), row.id)
            job = conn.execute(sa.select(jobs).where(jobs.c.id == row.job_id)).one()
            new_state = "annotated" if row.needs_review else "completed"
            _set(conn, row.id, stamp, state=new_state, expires_at=None, comment=row.comment)
            record_event(
                conn,
                p.id,
                p.user,
                "task.submit",
                asset_id=row.asset_id,
                task_id=row.id,
                duration=duration,
                payload={"job": row.job_id, "pass": row.pass_index + 1, "from": row.state, "to": new_state},
            )
            if row.needs_review:
                _insert_review(conn, p.id, row, stamp)
            from labnb.workflow.jobs import after_pass_drawn  # noqa: PLC0415 - jobs imports this module

            after_pass_drawn(p, conn, job, row.asset_id, stamp)
            settle_job_state(conn, p, row.job_id)
        return self.refresh()

    def review(
        self,
        decision: Decision,
        comment: str | None = None,
        *,
        shapes: Sequence[Shape] | None = None,
        duration: float | None = None,
    ) -> Task:
        """Decide this review task: ``"accept"`` (the pass is completed), ``"reject"`` (back to its drawer,
        "to fix", with ``comment``), or ``"fix"`` (the reviewer's corrections, ``shapes`` or edits made in the
        review panel, replace the pass, which is then completed)."""
        p = self.project
        p.members.require("reviewer", "review")
        if self.kind != "review":
            raise TaskStateError(f"task {self.id} is a draw task: hand it in with task.submit()")
        if decision not in ("accept", "reject", "fix"):
            raise LabnbError(f"decision must be 'accept', 'reject' or 'fix', got {decision!r}")
        if decision == "reject" and not (comment or "").strip():
            raise LabnbError("a rejection needs a comment that tells the drawer what to fix")
        stamp = now()
        with writing(p) as w:
            conn = w.conn
            row = _locked(conn, self.id)
            if row.assignee != p.user or row.state != "review":
                raise TaskStateError(
                    f"review task {self.id} is '{row.state}', {_whose(row)}; claim it with p.next_task('review')"
                )
            if row.expires_at is not None and _aware(row.expires_at) < stamp:
                raise TaskStateError(
                    f"your claim on review task {self.id} lapsed; claim it again with p.next_task('review')"
                )
            draw = _locked(conn, row.draw_task_id)
            if draw.assignee == p.user:
                raise AccessDenied(f"user '{p.user}' drew task {draw.id} and cannot review it")
            if decision == "fix" and shapes is not None:
                _replace_shapes(w, draw, list(shapes), row.id)
            draw_state = "to_fix" if decision == "reject" else "completed"
            _set(conn, row.id, stamp, state="completed", expires_at=None, comment=comment)
            _set(
                conn,
                draw.id,
                stamp,
                state=draw_state,
                expires_at=None,
                comment=comment if decision == "reject" else draw.comment,
            )
            record_event(
                conn,
                p.id,
                p.user,
                f"review.{decision}",
                asset_id=row.asset_id,
                task_id=row.id,
                duration=duration,
                payload={"job": row.job_id, "draw_task": draw.id, "drawer": draw.assignee, "comment": comment},
            )
            settle_job_state(conn, p, row.job_id)
        return self.refresh()

    def release(self) -> Task:
        """Give this task back unfinished, for someone else to claim (a pass sent back to fix stays yours)."""
        p = self.project
        stamp = now()
        with db.transaction(p._engine) as conn:
            row = _locked(conn, self.id)
            if row.assignee != p.user:
                raise AccessDenied(f"task {self.id} is {_whose(row)}; only its assignee can release it")
            if row.state == "to_fix":
                raise TaskStateError(f"task {self.id} was sent back to you to fix; it cannot be released")
            if (row.kind, row.state) not in (("draw", "none"), ("review", "review")):
                raise TaskStateError(f"task {self.id} is '{row.state}'; only a task being worked on can be released")
            _give_back(conn, p.id, p.user, row, stamp, {"job": row.job_id})
        return self.refresh()


# -- reading -----------------------------------------------------------------------------------------
def _from_row(project: Project, r: Any) -> Task:
    return Task(
        project,
        r.id,
        r.job_id,
        r.asset_id,
        r.kind,
        r.pass_index,
        r.state,
        r.assignee,
        r.draw_task_id,
        r.comment,
        bool(r.needs_review),
        r.expires_at,
    )


def load(project: Project, task_id: int) -> Task:
    with project._engine.connect() as conn:
        r = conn.execute(sa.select(tasks).where(tasks.c.id == task_id, tasks.c.project_id == project.id)).first()
    if r is None:
        raise LabnbError(f"no task {task_id} in project '{project.name}'")
    return _from_row(project, r)


def task_shapes(project: Project, task_id: int | None, conn: sa.Connection | None = None) -> list[Shape]:
    """The live shapes of one draw pass, oldest first (read in ``conn`` when given: inside a transaction)."""
    if task_id is None:
        return []
    query = (
        sa.select(*READ_COLUMNS)
        .where(annotation_rows.c.task_id == task_id, annotation_rows.c.deleted.is_(False))
        .order_by(annotation_rows.c.id)
    )
    if conn is None:
        with project._engine.connect() as c:
            rows = c.execute(query).all()
    else:
        rows = conn.execute(query).all()
    classes = project._classes_by_id()
    return [row_to_shape(r, classes) for r in rows]


# -- claiming ----------------------------------------------------------------------------------------
def user_credentials(conn: sa.Connection, project_id: int, user: str) -> set[str]:
    return set(
        conn.execute(
            sa.select(credentials.c.name).where(credentials.c.project_id == project_id, credentials.c.user == user)
        ).scalars()
    )


def eligible_jobs(conn: sa.Connection, project: Project, job_id: int | None) -> list[int]:
    """Ids of the launched jobs (or just ``job_id``) whose credentials the current user holds."""
    have = user_credentials(conn, project.id, project.user)
    q = sa.select(jobs.c.id, jobs.c.credentials).where(jobs.c.project_id == project.id, jobs.c.state == "launched")
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
            return _from_row(project, mine)
        job_ids = eligible_jobs(conn, project, job_id)
        if not job_ids:
            return None
        claim_minutes = dict(
            conn.execute(sa.select(jobs.c.id, jobs.c.claim_minutes).where(jobs.c.id.in_(job_ids))).all()
        )
        row = _candidate(conn, job_ids, user, kind, stamp, postgres)
        if row is None:
            return None
        _take(conn, project.id, user, row, stamp, float(claim_minutes[row.job_id]))
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
        live = row.expires_at is None or _aware(row.expires_at) > stamp
        held = ("none", "to_fix") if kind == "draw" else ("review",)
        if row.assignee == user and live and row.state in held:
            return _from_row(project, row)
        job = conn.execute(sa.select(jobs).where(jobs.c.id == row.job_id)).one()
        if job.state != "launched":
            raise TaskStateError(f"task {task_id} belongs to job '{job.name}', which is {job.state}, not launched")
        missing = set(orjson.loads(job.credentials)) - user_credentials(conn, project.id, user)
        if missing:
            raise AccessDenied(f"job '{job.name}' needs the credentials {sorted(missing)}, which '{user}' lacks")
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
            _give_back(conn, project.id, user, o, stamp, {"job": o.job_id, "for": task_id})
        _take(conn, project.id, user, row, stamp, float(job.claim_minutes))
    return load(project, task_id)


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
    return TaskStateError(f"task {row.id} is '{row.state}', {_whose(row)}; it cannot be claimed now")


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
    free = sa.or_(t.c.assignee.is_(None), t.c.expires_at < stamp)
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
            .where(t.c.job_id.in_(job_ids), t.c.kind == "review", d.c.assignee != user)
            .where(sa.or_(t.c.state == "none", sa.and_(t.c.state == "review", t.c.expires_at < stamp)))
        )
    if task_id is not None:
        q = q.where(t.c.id == task_id)
    q = q.order_by(t.c.job_id, t.c.seq).limit(1)
    if postgres:
        q = q.with_for_update(skip_locked=True, of=t)
    return conn.execute(q).first()


# -- writing -----------------------------------------------------------------------------------------
def _locked(conn: sa.Connection, task_id: int | None) -> Any:
    q = sa.select(tasks).where(tasks.c.id == task_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise LabnbError(f"no task {task_id}")
    return row


def _set(conn: sa.Connection, task_id: int | None, stamp: datetime, **values: Any) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id).values(updated_at=stamp, **values))


def _take(conn: sa.Connection, project_id: int, user: str, row: Any, stamp: datetime, minutes: float) -> None:
    """Claim ``row`` for ``user`` until ``minutes`` from now (a review also puts its pass "in review")."""
    values: dict[str, Any] = {"assignee": user, "claimed_at": stamp, "expires_at": stamp + timedelta(minutes=minutes)}
    if row.kind == "review":
        values["state"] = "review"
        _set(conn, row.draw_task_id, stamp, state="review")
    _set(conn, row.id, stamp, **values)
    payload = {"job": row.job_id, "kind": row.kind, "pass": row.pass_index + 1}
    record_event(conn, project_id, user, "task.claim", asset_id=row.asset_id, task_id=row.id, payload=payload)


def _give_back(
    conn: sa.Connection, project_id: int, user: str, row: Any, stamp: datetime, payload: dict[str, Any]
) -> None:
    """Free ``row`` for anyone (a review gives its pass back to "annotated")."""
    _set(conn, row.id, stamp, assignee=None, claimed_at=None, expires_at=None, state="none")
    if row.kind == "review":
        _set(conn, row.draw_task_id, stamp, state="annotated")
    record_event(conn, project_id, user, "task.release", asset_id=row.asset_id, task_id=row.id, payload=payload)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def settle_job_state(conn: sa.Connection, project: Project, job_id: int) -> None:
    """A launched job whose every task is completed becomes ``completed``; a completed one that has work
    again (a pass added) is ``launched`` once more. Called in the transaction of every task transition."""
    job = conn.execute(sa.select(jobs.c.state, jobs.c.name).where(jobs.c.id == job_id)).one()
    if job.state not in ("launched", "completed"):
        return
    open_tasks = conn.execute(
        sa.select(sa.func.count()).where(tasks.c.job_id == job_id, tasks.c.state != "completed")
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


def _insert_review(conn: sa.Connection, project_id: int, draw: Any, stamp: datetime) -> None:
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


def _replace_shapes(w: Writes, draw: Any, shapes: list[Shape], working_on: int) -> None:
    """The pass's shapes become ``shapes``: the old ones are marked deleted (kept in history), the new ones
    written with the task id, by the current user (a reviewer's fix is the reviewer's work, and its event is
    of the review task ``working_on``)."""
    w.replace(
        w.project.asset(draw.asset_id),
        shapes,
        where=annotation_rows.c.task_id == draw.id,
        source="human",
        task_id=draw.id,
        kind="annotation.replace",
        event_task_id=working_on,
    )
