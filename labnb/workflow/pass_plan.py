"""The passes a job plans for each image: a draw task's row, and the pass added when the drawn ones agree
too little (``min_agreement``, up to ``max_extra_passes``) or a manager asks for one (``job.add_pass``).
Called inside the transaction of the hand-in or the request.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.event_log import record_event
from labnb.metrics.agreement import image_agreement
from labnb.store.tables import job_assets, tasks
from labnb.workflow.task_rows import next_seq
from labnb.workflow.tasks import DRAWN, task_shapes

if TYPE_CHECKING:
    from labnb.project import Project


def draw_values(
    project_id: int, job_id: int, asset_id: int, pass_index: int, seq: int, frequency: int, stamp: datetime
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "job_id": job_id,
        "asset_id": asset_id,
        "kind": "draw",
        "pass_index": pass_index,
        "seq": seq,
        "state": "none",
        "needs_review": frequency > 0 and seq % frequency == 0,
        "created_at": stamp,
        "updated_at": stamp,
    }


def after_pass_drawn(project: Project, conn: sa.Connection, job: Any, asset_id: int, stamp: datetime) -> None:
    """A pass of ``asset_id`` was handed in: once all planned passes are, store their agreement, and add a
    pass when it is under the job's ``min_agreement`` (inside the submitting transaction)."""
    # The image's row is locked first (PostgreSQL; SQLite's writer lock already serialises): two passes
    # handed in at once would otherwise each count only their own as drawn, and neither store the agreement.
    ja = conn.execute(
        sa.select(job_assets).where(job_assets.c.job_id == job.id, job_assets.c.asset_id == asset_id).with_for_update()
    ).one()
    drawn = (
        conn.execute(
            sa.select(tasks.c.id).where(
                tasks.c.job_id == job.id, tasks.c.asset_id == asset_id, tasks.c.kind == "draw", tasks.c.state.in_(DRAWN)
            )
        )
        .scalars()
        .all()
    )
    if len(drawn) < ja.passes or ja.passes < 2:
        return
    asset = project.asset(asset_id)
    passes = [task_shapes(project, tid, conn) for tid in drawn]
    score = image_agreement(passes, asset.height, asset.width)
    conn.execute(
        job_assets.update()
        .where(job_assets.c.job_id == job.id, job_assets.c.asset_id == asset_id)
        .values(agreement=score)
    )
    if job.min_agreement is None or not score < job.min_agreement or ja.extra_passes >= job.max_extra_passes:
        return
    insert_pass(project, conn, job, ja, stamp, extra=True)
    record_event(
        conn,
        project.id,
        project.user,
        "job.extra_pass",
        asset_id=asset_id,
        payload={"job": job.id, "agreement": score, "min_agreement": job.min_agreement, "pass": ja.passes + 1},
    )


def insert_pass(project: Project, conn: sa.Connection, job: Any, ja: Any, stamp: datetime, *, extra: bool) -> None:
    """One more draw pass of the image of job-asset row ``ja``, at the end of the job's queue."""
    seq = next_seq(conn, job.id)
    conn.execute(
        tasks.insert().values(draw_values(project.id, job.id, ja.asset_id, ja.passes, seq, job.review_frequency, stamp))
    )
    conn.execute(
        job_assets.update()
        .where(job_assets.c.job_id == job.id, job_assets.c.asset_id == ja.asset_id)
        .values(passes=ja.passes + 1, extra_passes=ja.extra_passes + int(extra))
    )
