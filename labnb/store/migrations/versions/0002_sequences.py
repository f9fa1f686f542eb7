"""Image sequences: frame order on assets and object track ids on annotations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("sequence", sa.String(200)))
        batch.add_column(sa.Column("frame_index", sa.Integer))
        batch.create_index("ix_assets_sequence", ["project_id", "sequence", "frame_index"])
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("track_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("annotations") as batch:
        batch.drop_column("track_id")
    with op.batch_alter_table("assets") as batch:
        batch.drop_index("ix_assets_sequence")
        batch.drop_column("frame_index")
        batch.drop_column("sequence")
