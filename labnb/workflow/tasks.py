"""Tasks: one task of a job, and every state change of it checked and written as an event.

A job's draw task is one pass over one image; its review task (for every ``review_frequency``-th draw
task) is someone else's check of that pass. States of a draw task::

    none --submit--> annotated --review claimed--> review --accept/fix--> completed
                         ^                            |
                         +----submit---- to_fix <-reject

A draw task that needs no review goes from annotated to completed at once. A review task is ``none``
until claimed, ``review`` while a reviewer has it, ``completed`` once decided.

Claiming a task is :mod:`labnb.workflow.claims`; the small row writes transitions are made of are
:mod:`labnb.workflow.task_rows`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from labnb.annotations.passes import OPEN_DRAW
from labnb.annotations.passes import whose as _whose
from labnb.annotations.visibility import visible
from labnb.annotations.writer import Writes, writing
from labnb.clock import aware, now
from labnb.errors import AccessDenied, LabnbError, TaskStateError
from labnb.event_log import Flow, record_event
from labnb.people import require_credentials
from labnb.store import database as db
from labnb.store.rows import READ_COLUMNS, row_to_shape
from labnb.store.tables import annotation_rows, jobs, tasks
from labnb.workflow.task_rows import give_back, insert_review, locked, set_values, settle_job_state

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.geometry import Shape
    from labnb.project import Project
    from labnb.widgets.annotator import Annotator
    from labnb.workflow.jobs import Job

__all__ = ["DRAWN", "OPEN_DRAW", "Task", "TaskStateError", "load", "task_shapes"]

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
            row = locked(conn, self.id)
            if row.assignee != p.user:
                raise AccessDenied(f"task {self.id} is {_whose(row)}; only its assignee can submit it")
            if row.state not in OPEN_DRAW:
                raise TaskStateError(
                    f"task {self.id} is '{row.state}'; only a task in {list(OPEN_DRAW)} can be submitted"
                )
            job = conn.execute(sa.select(jobs).where(jobs.c.id == row.job_id)).one()
            require_credentials(conn, p.id, job, p.user, "hand in its passes")
            if shapes is not None:
                _replace_shapes(w, row, list(shapes), row.id)
            new_state = "annotated" if row.needs_review else "completed"
            set_values(conn, row.id, stamp, state=new_state, expires_at=None, comment=row.comment)
            record_event(
                conn,
                p.id,
                p.user,
                "task.submit",
                asset_id=row.asset_id,
                task_id=row.id,
                duration=duration,
                payload={"job": row.job_id, "pass": row.pass_index + 1, "from": row.state, "to": new_state},
                flow=Flow(row.id, row.state, new_state),
            )
            if row.needs_review:
                insert_review(conn, p.id, row, stamp)
            from labnb.workflow.pass_plan import after_pass_drawn  # noqa: PLC0415 - it imports this module

            if row.gold or row.attempt_id is not None:
                # an exam image (an attempt's, or continuous gold in a job): scored against the exam's gold
                # now, so the grader opens pre-filled; never part of the job's agreement or merge
                from labnb.exams.prescore import after_exam_image  # noqa: PLC0415 - exams sit above workflow

                after_exam_image(p, conn, row, stamp)
            else:
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
            row = locked(conn, self.id)
            if row.assignee != p.user or row.state != "review":
                raise TaskStateError(
                    f"review task {self.id} is '{row.state}', {_whose(row)}; claim it with p.next_task('review')"
                )
            if row.expires_at is not None and aware(row.expires_at) < stamp:
                raise TaskStateError(
                    f"your claim on review task {self.id} lapsed; claim it again with p.next_task('review')"
                )
            job = conn.execute(sa.select(jobs).where(jobs.c.id == row.job_id)).one()
            if job.kind != "work":
                raise TaskStateError(f"task {self.id} grades an exam image: grade it with p.exams[...].grade(...)")
            require_credentials(conn, p.id, job, p.user, "review its passes")
            draw = locked(conn, row.draw_task_id)
            if draw.assignee == p.user:
                raise AccessDenied(f"user '{p.user}' drew task {draw.id} and cannot review it")
            if decision == "fix" and shapes is not None:
                _replace_shapes(w, draw, list(shapes), row.id)
            draw_state = "to_fix" if decision == "reject" else "completed"
            set_values(conn, row.id, stamp, state="completed", expires_at=None, comment=comment)
            set_values(
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
                flow=Flow(draw.id, "review", draw_state),
            )
            settle_job_state(conn, p, row.job_id)
        return self.refresh()

    def release(self) -> Task:
        """Give this task back unfinished, for someone else to claim (a pass sent back to fix stays yours)."""
        p = self.project
        stamp = now()
        with db.transaction(p._engine) as conn:
            row = locked(conn, self.id)
            if row.assignee != p.user:
                raise AccessDenied(f"task {self.id} is {_whose(row)}; only its assignee can release it")
            if row.state == "to_fix":
                raise TaskStateError(f"task {self.id} was sent back to you to fix; it cannot be released")
            if row.attempt_id is not None:
                raise TaskStateError(f"task {self.id} is an image of your exam attempt; it cannot be released")
            if (row.kind, row.state) not in (("draw", "none"), ("review", "review")):
                raise TaskStateError(f"task {self.id} is '{row.state}'; only a task being worked on can be released")
            give_back(conn, p.id, p.user, row, stamp, {"job": row.job_id})
        return self.refresh()


# -- reading -----------------------------------------------------------------------------------------
def task_from_row(project: Project, r: Any) -> Task:
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
    return task_from_row(project, r)


def task_shapes(project: Project, task_id: int | None, conn: sa.Connection | None = None) -> list[Shape]:
    """The live shapes of one draw pass, oldest first (read in ``conn`` when given: inside a transaction)."""
    if task_id is None:
        return []
    query = (
        sa.select(*READ_COLUMNS)
        .where(annotation_rows.c.task_id == task_id, annotation_rows.c.deleted.is_(False), visible(project))
        .order_by(annotation_rows.c.id)
    )
    if conn is None:
        with project._engine.connect() as c:
            rows = c.execute(query).all()
    else:
        rows = conn.execute(query).all()
    classes = project._classes_by_id()
    return [row_to_shape(r, classes) for r in rows]


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
