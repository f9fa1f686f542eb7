"""Events say what work they were and which pass they moved: the performance dashboard's facts.

New columns of ``events`` (see :mod:`labnb.event_log`): ``work`` (label, review, rework, exam or NULL),
``created`` (annotation rows created), ``job_id``, and ``flow_from`` / ``flow_to`` / ``pass_task_id``
(the state change of a draw pass), with a covering index for the dashboard's aggregates.

The upgrade fills them for the events already in the log by replaying it in id order, per project, with
each draw pass's state tracked from its events (a pass is "to fix" from a ``review.reject`` until its next
hand-in, so edits in between are rework). The classification repeats ``labnb.event_log.work_class`` on
purpose: a migration must keep meaning what it meant when it was written.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EDIT_KINDS = {
    "annotation.create",
    "annotation.update",
    "annotation.delete",
    "annotation.restore",
    "annotation.replace",
    "task.submit",
}
REVIEW_KINDS = {"review.accept", "review.reject", "review.fix"}
COLUMNS = ("work", "created", "job_id", "flow_from", "flow_to", "pass_task_id")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("work", sa.String(8)))
        batch.add_column(sa.Column("created", sa.Integer))
        batch.add_column(sa.Column("job_id", sa.Integer))
        batch.add_column(sa.Column("flow_from", sa.String(16)))
        batch.add_column(sa.Column("flow_to", sa.String(16)))
        batch.add_column(sa.Column("pass_task_id", sa.Integer))
    _backfill(op.get_bind())
    op.create_index(
        "ix_events_dashboard",
        "events",
        ["project_id", "time", "work", "user", "kind", "job_id", "duration", "created", "asset_id"],
    )
    op.create_index("ix_events_flow", "events", ["project_id", "pass_task_id", "kind"])
    op.create_index("ix_events_project_id", "events", ["project_id", "id"])
    where = sa.text("flow_from IS NOT NULL")
    op.create_index(
        "ix_events_flows",
        "events",
        ["project_id", "time", "flow_from", "flow_to", "pass_task_id", "kind", "job_id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_events_flows", "events")
    op.drop_index("ix_events_project_id", "events")
    op.drop_index("ix_events_flow", "events")
    op.drop_index("ix_events_dashboard", "events")
    with op.batch_alter_table("events") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)


def _payload(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _backfill(conn: sa.Connection) -> None:
    task_rows = {
        r.id: r
        for r in conn.execute(
            sa.text("SELECT id, kind, assignee, attempt_id, gold, job_id, draw_task_id FROM tasks")
        ).all()
    }
    # before 0009 an edit's event named its task only when it created the row: the row knows its pass
    row_task: dict[int, int] = {
        int(i): int(t)
        for i, t in conn.execute(sa.text("SELECT id, task_id FROM annotations WHERE task_id IS NOT NULL"))
    }
    state: dict[int, str] = {}  # draw task id -> its state as replayed so far
    updates: list[dict[str, Any]] = []
    rows = conn.execute(
        sa.text('SELECT id, "user", kind, task_id, annotation_id, payload FROM events ORDER BY id')
    ).all()
    for e in rows:
        payload = _payload(e.payload)
        task_id = e.task_id if e.task_id is not None else row_task.get(e.annotation_id)
        task = task_rows.get(task_id) if task_id is not None else None
        values: dict[str, Any] = {"id": e.id, **dict.fromkeys(COLUMNS)}
        values["job_id"] = None if task is None else task.job_id
        exam = task is not None and (task.attempt_id is not None or bool(task.gold))
        if e.kind in ("annotation.create", "annotation.replace"):
            ids = payload.get("annotation_ids")
            values["created"] = len(ids) if isinstance(ids, list) else (1 if e.annotation_id is not None else 0)
        flow: tuple[int, str, str] | None = None
        if e.kind == "task.submit" and task is not None:
            flow = (task.id, str(payload.get("from", "none")), str(payload.get("to", "annotated")))
        elif e.kind in REVIEW_KINDS:
            draw = payload.get("draw_task")
            if isinstance(draw, int):
                flow = (draw, "review", "to_fix" if e.kind == "review.reject" else "completed")
        elif e.kind in ("task.claim", "task.release") and task is not None and task.kind == "review":
            draw = task.draw_task_id
            if draw is not None:
                before = state.get(draw, "annotated")
                flow = (draw, before, "review") if e.kind == "task.claim" else (draw, "review", "annotated")
        # the work class, with the pass's state as it was when the event happened
        if e.kind in REVIEW_KINDS:
            values["work"] = "review"
        elif e.kind in EDIT_KINDS and payload.get("source") != "prediction":
            if task is None:
                values["work"] = "label"
            elif task.kind == "review":
                values["work"] = "review"
            elif exam:
                values["work"] = "exam"
            elif task.assignee is not None and task.assignee != e.user:
                values["work"] = "review"
            else:
                was = payload.get("from") if e.kind == "task.submit" else state.get(task.id, "none")
                values["work"] = "rework" if was == "to_fix" else "label"
        if flow is not None:
            state[flow[0]] = flow[2]
            moved = task_rows.get(flow[0])
            exam_pass = moved is not None and (moved.attempt_id is not None or bool(moved.gold))
            if flow[1] != flow[2] and not exam_pass:
                values["pass_task_id"], values["flow_from"], values["flow_to"] = flow
        if any(values[c] is not None for c in COLUMNS):
            updates.append(values)
    if updates:
        conn.execute(
            sa.text(
                "UPDATE events SET work = :work, created = :created, job_id = :job_id, flow_from = :flow_from, "
                "flow_to = :flow_to, pass_task_id = :pass_task_id WHERE id = :id"
            ),
            updates,
        )
