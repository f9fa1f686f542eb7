"""The image pyramid's stored small levels (labnb.pyramid): ``image_previews``, a 256-px thumbnail and a
1024-px preview per image file, keyed by its SHA-256. Projects made before this revision have none; they
are made the first time an image is shown (labnb.widgets.imagefeed), so the upgrade itself decodes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_previews",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("side", sa.Integer, primary_key=True),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("image_previews")
