"""Which annotation rows a user may read: the rule that keeps an exam's answers away from its trainees.

An exam's gold is a snapshot in its own table (``exam_gold``, :mod:`labnb.exams`), never an annotation row,
so no annotation read returns it. But the rows it was copied from stay (the ground truth, a consensus, a
job's passes), and so do other trainees' attempts: on an exam's images, a user below the reviewer role
reads only the rows they wrote themselves. Every read path applies it (``p.annotations``,
``p.get_annotations``, ``p.history``, exports, a task's shapes, the widgets), and so does the writer (a row
one may not read is "not found", not refused, so guessing ids tells nothing). Reviewers and above read
everything: they grade exams and may see the gold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.people import RANK
from labnb.store.tables import annotation_rows, job_assets, jobs

if TYPE_CHECKING:
    from labnb.project import Project


def exam_images(project_id: int) -> sa.Select[Any]:
    """The ids of the images of the project's exams (a subquery)."""
    return (
        sa.select(job_assets.c.asset_id)
        .join(jobs, jobs.c.id == job_assets.c.job_id)
        .where(jobs.c.project_id == project_id, jobs.c.kind == "exam")
    )


def hidden_rows(project: Project) -> sa.ColumnElement[bool] | None:
    """The condition on ``annotation_rows`` of the rows the current user may not read, or None when they may
    read every row (reviewers and above)."""
    role = project.members.role()
    if role is not None and RANK[role] >= RANK["reviewer"]:
        return None
    a = annotation_rows
    return sa.and_(a.c.asset_id.in_(exam_images(project.id)), a.c.created_by != project.user)


def visible(project: Project) -> sa.ColumnElement[bool]:
    """The condition on ``annotation_rows`` of the rows the current user may read."""
    hidden = hidden_rows(project)
    return sa.true() if hidden is None else sa.not_(hidden)
