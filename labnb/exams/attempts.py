"""Attempts: one trainee's sitting of an exam, started by the trainee, with their own blank draw tasks.

Starting an attempt is Diffgram's "Apply": a draw task for every exam image, assigned to the trainee from
the start and never lapsing, so ``p.work()`` (or ``p.next_task()``) hands them out with the exam's guide in
the ordinary Annotator and nobody else can take them. The attempt limit and the retake cool-down are
checked in the same transaction that writes the attempt (per-user advisory lock on PostgreSQL, SQLite's
writer lock), so two notebooks cannot start two attempts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from labnb.clock import aware, now
from labnb.errors import AccessDenied, LabnbError
from labnb.event_log import record_event
from labnb.people import RANK
from labnb.store import database as db
from labnb.store.tables import annotation_rows, events, exam_attempts, job_assets, tasks
from labnb.store.tables import assets as asset_rows
from labnb.workflow.claims import _lock_user
from labnb.workflow.task_rows import next_seq

if TYPE_CHECKING:
    from labnb.exams.exam import Exam


@dataclass
class Attempt:
    """One attempt at an exam (``exam.start()``, ``exam.attempt(...)``). Read its fields; the exam grades,
    passes and fails it."""

    exam: Exam
    id: int
    user: str
    number: int
    #: started (being drawn), submitted (every image handed in), passed, failed
    state: str
    started_at: datetime
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None

    def __repr__(self) -> str:
        return f"<Attempt {self.number} of '{self.user}' at exam '{self.exam.name}': {self.state}>"

    def refresh(self) -> Attempt:
        self.__dict__.update(self.exam.attempt(self.id).__dict__)
        return self

    @property
    def tasks(self) -> pd.DataFrame:
        """The attempt's draw tasks: task, asset, file_name, state."""
        t = tasks
        q = (
            sa.select(t.c.id, t.c.asset_id, asset_rows.c.file_name, t.c.state)
            .join(asset_rows, asset_rows.c.id == t.c.asset_id)
            .where(t.c.attempt_id == self.id, t.c.kind == "draw")
            .order_by(t.c.seq)
        )
        with self.exam.project._engine.connect() as conn:
            rows = conn.execute(q).all()
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["task", "asset", "file_name", "state"])
        return frame

    @property
    def images(self) -> pd.DataFrame:
        """Per image of the attempt: its automatic score and its grade (see :meth:`Exam.results`)."""
        from labnb.exams.results import image_rows  # noqa: PLC0415 - results build on this module

        return image_rows(self.exam, [self])

    @property
    def active_seconds(self) -> float:
        """The time the trainee spent on the attempt's images: the active time the Annotator measured (it
        stops counting while the page is idle or hidden), summed over their edits and hand-ins."""
        with self.exam.project._engine.connect() as conn:
            return active_seconds(conn, [self.id]).get(self.id, 0.0)

    def graded(self) -> pd.DataFrame:
        """The trainee's own instances with their grade: annotation, asset, label, kind, status (tp, fp,
        wrong_label), iou and stars (the grader's, else the proposal). For the trainee only when the exam
        shows graded work (``show_graded``); never the gold."""
        from labnb.exams.results import graded_instances  # noqa: PLC0415 - results build on this module

        return graded_instances(self.exam, self)


def attempt_from_row(exam: Exam, r: Any) -> Attempt:
    return Attempt(
        exam, int(r.id), str(r.user), int(r.number), str(r.state), aware(r.started_at),
        aware(r.submitted_at) if r.submitted_at else None, r.decided_by,
        aware(r.decided_at) if r.decided_at else None,
    )  # fmt: skip


def visible_attempts(exam: Exam) -> sa.Select[Any]:
    """The attempts of ``exam`` the current user may see: all for reviewers and above, else their own."""
    p = exam.project
    q = sa.select(exam_attempts).where(exam_attempts.c.exam_id == exam.id)
    role = p.members.role()
    if role is None or RANK[role] < RANK["reviewer"]:
        q = q.where(exam_attempts.c.user == p.user)
    return q.order_by(exam_attempts.c.user, exam_attempts.c.number)


def start(exam: Exam) -> Attempt:
    """Start the current user's next attempt at ``exam`` (see :meth:`Exam.start`)."""
    p = exam.project
    p.members.require("annotator", f"sit the exam '{exam.name}'")
    user = p.user
    stamp = now()
    a = exam_attempts
    with db.transaction(p._engine) as conn:
        _lock_user(conn, p.id, user)
        mine = list(
            conn.execute(sa.select(a).where(a.c.exam_id == exam.id, a.c.user == user).order_by(a.c.number)).all()
        )
        open_ = [r for r in mine if r.state == "started"]
        if open_:
            return attempt_from_row(exam, open_[0])
        _check_may_start(exam, mine, stamp)
        number = len(mine) + 1
        attempt_id = int(
            conn.execute(
                a.insert()
                .values(project_id=p.id, exam_id=exam.id, user=user, number=number, state="started", started_at=stamp)
                .returning(a.c.id)
            ).scalar_one()
        )
        images = conn.execute(
            sa.select(job_assets.c.asset_id).where(job_assets.c.job_id == exam.job_id).order_by(job_assets.c.position)
        ).scalars()
        seq = next_seq(conn, exam.job_id)
        conn.execute(
            tasks.insert(),
            [
                {
                    "project_id": p.id, "job_id": exam.job_id, "asset_id": asset_id, "kind": "draw",
                    "pass_index": 0, "seq": seq + i, "state": "none", "needs_review": True, "assignee": user,
                    "claimed_at": stamp, "expires_at": None, "attempt_id": attempt_id, "created_at": stamp,
                    "updated_at": stamp,
                }
                for i, asset_id in enumerate(images)
            ],
        )  # fmt: skip
        record_event(conn, p.id, user, "exam.start", payload={"exam": exam.id, "attempt": attempt_id, "number": number})
        row = conn.execute(sa.select(a).where(a.c.id == attempt_id)).one()
    return attempt_from_row(exam, row)


def _check_may_start(exam: Exam, mine: list[Any], stamp: datetime) -> None:
    """Refuse a new attempt after a pass, while one awaits grading, past the limit, or inside the cool-down,
    saying when the next one is allowed."""
    if any(r.state == "passed" for r in mine):
        raise LabnbError(f"you passed the exam '{exam.name}' already")
    waiting = [r for r in mine if r.state == "submitted"]
    if waiting:
        raise LabnbError(f"your attempt {waiting[0].number} at '{exam.name}' is handed in and awaits grading")
    if exam.max_attempts is not None and len(mine) >= exam.max_attempts:
        raise AccessDenied(f"you have used all {exam.max_attempts} attempts allowed at the exam '{exam.name}'")
    if exam.retake_after is not None and mine:
        last = mine[-1]
        since = aware(last.decided_at or last.submitted_at or last.started_at)
        allowed = since + exam.retake_after
        if stamp < allowed:
            wait = allowed - stamp
            raise LabnbError(
                f"the next attempt at '{exam.name}' is allowed from {allowed:%Y-%m-%d %H:%M} UTC (in "
                f"{_duration(wait)}), {_duration(exam.retake_after)} after attempt {last.number} was decided"
            )


def _duration(d: timedelta) -> str:
    minutes = max(1, round(d.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"] * bool(mins)
    return " ".join(parts)


def active_seconds(conn: sa.Connection, attempt_ids: list[int]) -> dict[int, float]:
    """Per attempt, the summed active time (``events.duration``) of its trainee's events on its tasks:
    hand-ins and drawings carry the task, edits and deletions the annotation drawn for it."""
    if not attempt_ids:
        return {}
    t, e, a, x = tasks, events, annotation_rows, exam_attempts
    drawn = sa.select(a.c.id).join(t, t.c.id == a.c.task_id).where(t.c.attempt_id == x.c.id)
    own_tasks = sa.select(t.c.id).where(t.c.attempt_id == x.c.id)
    q = (
        sa.select(x.c.id, sa.func.coalesce(sa.func.sum(e.c.duration), 0.0))
        .join(e, sa.and_(e.c.user == x.c.user, e.c.project_id == x.c.project_id))
        .where(x.c.id.in_(attempt_ids), sa.or_(e.c.task_id.in_(own_tasks), e.c.annotation_id.in_(drawn)))
        .group_by(x.c.id)
    )
    return {int(i): float(s) for i, s in conn.execute(q).all()}
