"""Writing the event log: one row per change, in the change's own transaction, with the facts the
performance dashboard aggregates in SQL.

Besides who, what and when, each event row says

- ``work``: what kind of a person's work it was, decided when it happens (later it cannot be: whether an
  edit was *rework* depends on the pass being "to fix" at that moment):

  - ``review``: a review decision, anything on a review task, and a reviewer's edit of someone else's pass;
  - ``rework``: the drawer's edits and hand-in of a pass sent back "to fix";
  - ``exam``: drawing an exam attempt's images or a job's continuous-gold images;
  - ``label``: every other annotation edit and hand-in by a person;
  - NULL for the rest (imports, model predictions, claims, merges, member and credential changes).
- ``created``: how many annotation rows the event created;
- ``job_id``: the job of the event's task;
- ``flow_from`` / ``flow_to`` / ``pass_task_id``: the state change of a draw pass the event made (the
  Sankey's flows: a hand-in, a review claim or release, a review decision).

Migration 0009 fills these for events written before they existed, by replaying the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labnb.clock import now
from labnb.store.rows import dumps
from labnb.store.tables import events, tasks

#: Annotation edits and hand-ins: the events that are labelling, rework or review work.
EDIT_KINDS = frozenset(
    {
        "annotation.create",
        "annotation.update",
        "annotation.delete",
        "annotation.restore",
        "annotation.replace",
        "task.submit",
    }
)
REVIEW_KINDS = frozenset({"review.accept", "review.reject", "review.fix"})
WORK_CLASSES = ("label", "review", "rework", "exam")


@dataclass(frozen=True)
class Flow:
    """A draw pass (task ``pass_task_id``) changing state from ``before`` to ``after``."""

    pass_task_id: int
    before: str
    after: str


def work_class(kind: str, user: str, payload: dict[str, Any] | None, task: Any | None) -> str | None:
    """The work class of an event (see the module docstring). ``task`` is the event's task row (kind, state,
    assignee, attempt_id, gold) as it is when the event is written; a hand-in says its former state in its
    payload, since the row is already updated then."""
    if kind in REVIEW_KINDS:
        return "review"
    if kind not in EDIT_KINDS:
        return None
    if payload and payload.get("source") in ("prediction", "ground_truth") and kind != "task.submit":
        return None  # a model's output or a manager's ground truth, not a pass's drawing
    if task is None:
        return "label"
    if task.kind == "review":
        return "review"
    if task.attempt_id is not None or task.gold:
        return "exam"
    if task.assignee is not None and task.assignee != user:
        return "review"  # a reviewer fixing the pass in the review panel
    state = payload.get("from") if kind == "task.submit" and payload else task.state
    return "rework" if state == "to_fix" else "label"


def record_event(
    conn: Connection,
    project_id: int,
    user: str,
    kind: str,
    *,
    asset_id: int | None = None,
    task_id: int | None = None,
    annotation_id: int | None = None,
    duration: float | None = None,
    payload: dict[str, Any] | None = None,
    time: datetime | None = None,
    created: int | None = None,
    flow: Flow | None = None,
) -> None:
    """Write one event row inside the caller's transaction (so the change and its event land together).

    ``created`` is the number of annotation rows the change created, ``flow`` the state change of a draw
    pass it made; the work class and the job are read from the event's task here, in one place."""
    task = None
    if task_id is not None:
        t = tasks
        task = conn.execute(
            sa.select(t.c.kind, t.c.state, t.c.assignee, t.c.attempt_id, t.c.gold, t.c.job_id).where(t.c.id == task_id)
        ).first()
    work = work_class(kind, user, payload, task)
    if flow is not None and (flow.before == flow.after or _exam_pass(conn, flow.pass_task_id)):
        flow = None  # a lapsed review claim taken over changes nothing; exams have their own results
    conn.execute(
        events.insert().values(
            project_id=project_id,
            user=user,
            kind=kind,
            asset_id=asset_id,
            task_id=task_id,
            annotation_id=annotation_id,
            time=time or now(),
            duration=duration,
            payload=dumps(payload),
            work=work,
            created=created,
            job_id=None if task is None else task.job_id,
            flow_from=None if flow is None else flow.before,
            flow_to=None if flow is None else flow.after,
            pass_task_id=None if flow is None else flow.pass_task_id,
        )
    )


def _exam_pass(conn: Connection, task_id: int) -> bool:
    """Whether draw task ``task_id`` is an exam attempt's image or a continuous-gold image."""
    row = conn.execute(sa.select(tasks.c.attempt_id, tasks.c.gold).where(tasks.c.id == task_id)).first()
    return row is not None and (row.attempt_id is not None or bool(row.gold))
