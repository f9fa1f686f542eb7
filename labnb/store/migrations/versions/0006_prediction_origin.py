"""Annotations record the prediction they were committed from (``prediction_id``); revisions their kind.

An accepted model suggestion is an ordinary annotation that keeps the model, version and score of the
stored prediction; which prediction it was used to be read back from the payload of its
``annotation.create`` event, a lookup in the event log for every image the annotator opened. The column
makes it a plain column of ``p.annotations.df``; the upgrade fills it from those events.

A revision kept the replaced geometry but not its kind, so the history of a box edited into a polygon
could not be rebuilt; revisions now keep ``kind``, filled for older rows from the stored geometry itself
(its JSON tells the kinds apart), since an update could change an annotation's kind.

Event payloads numbered passes from 0 (``"pass"`` of task.submit, task.claim, task.release and
job.extra_pass) while the widgets and ``job.tasks`` count from 1; from this revision every payload counts
from 1, and older payloads are renumbered so the log means one thing throughout.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


#: Events whose payload's "pass" numbered passes from 0 before this revision.
PASS_EVENTS = ("task.submit", "task.claim", "task.release", "job.extra_pass")


def kind_of(data: str | None) -> str:
    """The kind of a stored geometry: a box has none (its bbox columns say it all), a mask is RLE, a tag
    its value, a polygon a list of parts, keypoints one flat list."""
    if data is None:
        return "box"
    value = json.loads(data)
    if isinstance(value, dict):
        return "mask" if "counts" in value else "tag"
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "polygon"
    return "keypoints"


def _renumber_passes(conn: sa.Connection, step: int) -> None:
    """Shift the "pass" of every payload of :data:`PASS_EVENTS` by ``step``."""
    events = sa.table(
        "events", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("payload", sa.Text)
    )
    rows = conn.execute(
        sa.select(events.c.id, events.c.payload).where(events.c.kind.in_(PASS_EVENTS), events.c.payload.is_not(None))
    ).all()
    for event_id, payload in rows:
        value = json.loads(payload)
        if isinstance(value, dict) and isinstance(value.get("pass"), int):
            value["pass"] += step
            conn.execute(events.update().where(events.c.id == event_id).values(payload=json.dumps(value)))


def upgrade() -> None:
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("prediction_id", sa.Integer))
    with op.batch_alter_table("annotation_revisions") as batch:
        batch.add_column(sa.Column("kind", sa.String(16)))
    conn = op.get_bind()
    found = conn.execute(
        sa.text(
            "SELECT annotation_id, payload FROM events WHERE kind = 'annotation.create' "
            "AND annotation_id IS NOT NULL AND payload LIKE '%prediction_id%'"
        )
    ).all()
    for annotation_id, payload in found:
        assist = (json.loads(payload) or {}).get("assist") or {}
        pid = assist.get("prediction_id") if isinstance(assist, dict) else None
        if isinstance(pid, int) and not isinstance(pid, bool):
            conn.execute(
                sa.text("UPDATE annotations SET prediction_id = :p WHERE id = :a"), {"p": pid, "a": annotation_id}
            )
    for rev_id, data in conn.execute(sa.text("SELECT id, data FROM annotation_revisions")).all():
        conn.execute(
            sa.text("UPDATE annotation_revisions SET kind = :k WHERE id = :i"), {"k": kind_of(data), "i": rev_id}
        )
    _renumber_passes(conn, +1)


def downgrade() -> None:
    _renumber_passes(op.get_bind(), -1)
    with op.batch_alter_table("annotation_revisions") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("prediction_id")
