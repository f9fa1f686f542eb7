"""Annotations record the prediction they were committed from (``prediction_id``); revisions their kind.

An accepted model suggestion is an ordinary annotation that keeps the model, version and score of the
stored prediction; which prediction it was used to be read back from the payload of its
``annotation.create`` event, a lookup in the event log for every image the annotator opened. The column
makes it a plain column of ``p.annotations.df``; the upgrade fills it from those events.

A revision kept the replaced geometry but not its kind, so the history of a box edited into a polygon
could not be rebuilt; revisions now keep ``kind`` (filled from the annotation's kind for older rows, which
no labnb before this revision could change).

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


    conn.execute(
        sa.text(
            "UPDATE annotation_revisions SET kind = "
            "(SELECT a.kind FROM annotations a WHERE a.id = annotation_revisions.annotation_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("annotation_revisions") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("prediction_id")
