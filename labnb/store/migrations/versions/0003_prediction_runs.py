"""Model assist: which images each model version has seen, with the image's uncertainty.

Predictions themselves are annotation rows (source ``prediction``, with model, version and score); this
table records that a model version ran on an image even when it found nothing there, so batch
pre-annotation resumes where it stopped, and holds the per-image uncertainty ``next_to_label`` ranks by.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asset_id", sa.Integer, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("least_confidence", sa.Float, nullable=False),
        sa.Column("margin", sa.Float, nullable=False),
        sa.Column("entropy", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("asset_id", "model", "model_version", name="uq_prediction_runs_asset_model"),
    )
    op.create_index("ix_prediction_runs_model", "prediction_runs", ["project_id", "model", "model_version"])
    with op.batch_alter_table("annotations") as batch:
        batch.create_index("ix_annotations_model", ["asset_id", "source", "model", "model_version"])


def downgrade() -> None:
    with op.batch_alter_table("annotations") as batch:
        batch.drop_index("ix_annotations_model")
    op.drop_index("ix_prediction_runs_model", "prediction_runs")
    op.drop_table("prediction_runs")
