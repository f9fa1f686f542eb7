"""The drawn passes the agreement report compares, read in a few queries for a whole project or job.

A pass is one draw task of a work job in a drawn state (:data:`labnb.workflow.tasks.DRAWN`: annotated,
review, completed) with its live shapes. Exam images never count: an exam's own tasks (``attempt_id``) and
continuous-gold tasks in a work job (``gold``) are left out, as they are of the job's agreement and merge.
One query reads the tasks with their images and jobs, one the shapes of all of them (a join, not an ``IN``
list of ids), and one, when asked, the ground truth of the same images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import sqlalchemy as sa

from labnb.annotations.visibility import visible
from labnb.geometry import Shape, Tag
from labnb.store.database import in_batches
from labnb.store.rows import READ_COLUMNS, row_to_shape
from labnb.store.tables import annotation_rows, assets, jobs, tasks
from labnb.workflow.tasks import DRAWN

if TYPE_CHECKING:
    from labnb.project import Project


@dataclass
class Pass:
    """One person's drawn pass over one image: its task, drawer, pass number (from 1) and shapes."""

    task_id: int
    user: str
    number: int
    shapes: list[Shape] = field(default_factory=list)

    @property
    def objects(self) -> list[Shape]:
        """The shapes that are objects (everything but image tags)."""
        return [s for s in self.shapes if not isinstance(s, Tag)]

    @property
    def tags(self) -> list[Tag]:
        return [s for s in self.shapes if isinstance(s, Tag)]


@dataclass
class ImagePasses:
    """The drawn passes of one image in one job, in pass order."""

    job_id: int
    job: str
    asset_id: int
    file_name: str
    width: int
    height: int
    passes: list[Pass] = field(default_factory=list)


def _drawn_tasks(
    project: Project, job_ids: Sequence[int] | None, since: datetime | None = None
) -> sa.Select[tuple[int]]:
    """The ids of the drawn, non-exam draw tasks of the project's work jobs (``job_ids`` narrows them;
    ``since``: only passes that changed state since then, handed in or reviewed)."""
    q = (
        sa.select(tasks.c.id)
        .join(jobs, jobs.c.id == tasks.c.job_id)
        .where(
            tasks.c.project_id == project.id,
            jobs.c.kind == "work",
            tasks.c.kind == "draw",
            tasks.c.state.in_(DRAWN),
            tasks.c.gold.is_(False),
            tasks.c.attempt_id.is_(None),
        )
    )
    if job_ids is not None:
        q = q.where(tasks.c.job_id.in_(list(job_ids)))
    if since is not None:
        q = q.where(tasks.c.updated_at >= since.astimezone(timezone.utc))
    return q


def read_passes(
    project: Project, job_ids: Sequence[int] | None = None, since: datetime | None = None
) -> list[ImagePasses]:
    """Every image of the project's work jobs (or of ``job_ids``) with its drawn passes, in job then image
    order: two queries whatever the number of images. ``since``: only the images with a pass that changed
    state since then (all of their drawn passes, so each is still compared with the others)."""
    changed = _drawn_tasks(project, job_ids, since)
    if since is None:
        drawn = changed
    else:
        recent = sa.select(tasks.c.job_id, tasks.c.asset_id).where(tasks.c.id.in_(changed))
        everyone = _drawn_tasks(project, job_ids)
        drawn = everyone.where(sa.tuple_(tasks.c.job_id, tasks.c.asset_id).in_(recent))
    t = tasks
    task_q = (
        sa.select(
            t.c.id,
            t.c.job_id,
            jobs.c.name,
            t.c.asset_id,
            assets.c.file_name,
            assets.c.width,
            assets.c.height,
            t.c.pass_index,
            t.c.assignee,
        )
        .join(jobs, jobs.c.id == t.c.job_id)
        .join(assets, assets.c.id == t.c.asset_id)
        .where(t.c.id.in_(drawn))
        .order_by(t.c.job_id, t.c.asset_id, t.c.pass_index)
    )
    a = annotation_rows
    shape_q = (
        sa.select(*READ_COLUMNS, a.c.task_id)
        .where(a.c.task_id.in_(drawn), a.c.deleted.is_(False), visible(project))
        .order_by(a.c.id)
    )
    with project._engine.connect() as conn:
        task_rows = conn.execute(task_q).all()
        shape_rows = conn.execute(shape_q).all()
    classes = project._classes_by_id()
    by_task: dict[int, list[Shape]] = {}
    for s in shape_rows:
        by_task.setdefault(int(s.task_id), []).append(row_to_shape(s, classes))
    images: dict[tuple[int, int], ImagePasses] = {}
    for row in task_rows:
        key = (int(row.job_id), int(row.asset_id))
        img = images.get(key)
        if img is None:
            img = images[key] = ImagePasses(key[0], str(row.name), key[1], str(row.file_name), row.width, row.height)
        img.passes.append(Pass(int(row.id), str(row.assignee), int(row.pass_index) + 1, by_task.get(int(row.id), [])))
    return list(images.values())


def read_ground_truth(project: Project, asset_ids: Sequence[int]) -> dict[int, list[Shape]]:
    """The live ground-truth shapes of the given images (one query): {asset id: shapes}, images without any
    left out."""
    if not asset_ids:
        return {}
    a = annotation_rows
    out: dict[int, list[Shape]] = {}
    classes = project._classes_by_id()
    with project._engine.connect() as conn:
        for chunk in in_batches(asset_ids, 10_000):
            rows = conn.execute(
                sa.select(*READ_COLUMNS)
                .where(
                    a.c.project_id == project.id,
                    a.c.asset_id.in_(chunk),
                    a.c.source == "ground_truth",
                    a.c.deleted.is_(False),
                    visible(project),
                )
                .order_by(a.c.id)
            ).all()
            for r in rows:
                out.setdefault(int(r.asset_id), []).append(row_to_shape(r, classes))
    return out
