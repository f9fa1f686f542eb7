"""Who may write the shapes of a job's pass: the rule the writer applies to every row of a draw task.

A pass (one draw task of a job) is one person's blind work: its drawer edits it while it is open (claimed,
or sent back to fix), the reviewer holding its review may fix it, and nobody else may touch it, whatever
their role or the path they write through (``p.update_annotation``, an Annotator, a hand-in). Kept in the
annotations layer so :mod:`labnb.annotations.writer` can check it inside the write's own transaction (a
check made earlier on another connection could be overtaken by a hand-in or a review before the write).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.errors import AccessDenied, LabnbError, TaskStateError
from labnb.people import require_credentials
from labnb.store.tables import jobs, tasks

if TYPE_CHECKING:
    from labnb.project import Project

#: Draw-task states in which the drawer still works on it.
OPEN_DRAW = ("none", "to_fix")


def whose(row: Any) -> str:
    """How messages say who holds a task row."""
    return f"claimed by '{row.assignee}'" if row.assignee else "not claimed by anyone"


def check_pass_write(conn: sa.Connection, project: Project, task_id: int, asset_id: int) -> None:
    """Raise unless the current user may write shapes for draw task ``task_id`` of image ``asset_id``: its
    drawer while it is open (claimed or sent back to fix), or the reviewer holding its review (a fix). On
    PostgreSQL the task row is locked until the write commits, so a hand-in or a review cannot slip between
    this check and the write."""
    q = sa.select(tasks).where(tasks.c.id == task_id, tasks.c.project_id == project.id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise LabnbError(f"no task {task_id} in project '{project.name}'")
    if row.kind != "draw":
        raise TaskStateError(f"task {task_id} is a review task; shapes belong to the draw task it reviews")
    if row.asset_id != asset_id:
        raise LabnbError(f"task {task_id} is a pass over asset {row.asset_id}, not asset {asset_id}")
    job = conn.execute(sa.select(jobs).where(jobs.c.id == row.job_id)).one()
    if row.assignee == project.user and row.state in OPEN_DRAW:
        # a credential revoked or suspended while the pass is open stops the drawing, not just new claims
        require_credentials(conn, project.id, job, project.user, "draw its passes")
        return
    reviewing = conn.execute(
        sa.select(tasks.c.id).where(
            tasks.c.draw_task_id == task_id, tasks.c.assignee == project.user, tasks.c.state == "review"
        )
    ).first()
    if reviewing is not None:
        require_credentials(conn, project.id, job, project.user, "fix its passes")
    else:
        raise AccessDenied(
            f"task {task_id} is '{row.state}', {whose(row)}; only its drawer (while open) or the reviewer "
            "holding its review can change its shapes"
        )
