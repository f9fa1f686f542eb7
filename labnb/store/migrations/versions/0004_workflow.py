"""Workflow: jobs over images, their draw and review tasks, credentials, and which task drew a shape.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("passes_per_file", sa.Integer, nullable=False),
        sa.Column("review_frequency", sa.Integer, nullable=False),
        sa.Column("overlap", sa.Float, nullable=False),
        sa.Column("min_agreement", sa.Float),
        sa.Column("max_extra_passes", sa.Integer, nullable=False),
        sa.Column("guide", sa.Text, nullable=False),
        sa.Column("review_guide", sa.Text, nullable=False),
        sa.Column("credentials", sa.Text, nullable=False),
        sa.Column("claim_minutes", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("launched_at", TZ),
        sa.UniqueConstraint("project_id", "name", name="uq_jobs_project_name"),
    )
    op.create_table(
        "job_assets",
        sa.Column("job_id", sa.Integer, _fk("jobs"), primary_key=True),
        sa.Column("asset_id", sa.Integer, _fk("assets"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("passes", sa.Integer, nullable=False),
        sa.Column("extra_passes", sa.Integer, nullable=False),
        sa.Column("agreement", sa.Float),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("job_id", sa.Integer, _fk("jobs"), nullable=False),
        sa.Column("asset_id", sa.Integer, _fk("assets"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("pass_index", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("claimed_at", TZ),
        sa.Column("expires_at", TZ),
        sa.Column("draw_task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE")),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_tasks_queue", "tasks", ["job_id", "kind", "state", "seq"])
    op.create_index("ix_tasks_asset_assignee", "tasks", ["job_id", "asset_id", "assignee"])
    op.create_index("ix_tasks_assignee", "tasks", ["project_id", "assignee", "kind", "state"])
    op.create_table(
        "credentials",
        sa.Column("project_id", sa.Integer, _fk("projects"), primary_key=True),
        sa.Column("user", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", TZ, nullable=False),
    )
    with op.batch_alter_table("annotations") as batch:
        batch.add_column(sa.Column("task_id", sa.Integer))
        batch.create_index("ix_annotations_task", ["task_id"])


def downgrade() -> None:
    with op.batch_alter_table("annotations") as batch:
        batch.drop_index("ix_annotations_task")
        batch.drop_column("task_id")
    op.drop_table("credentials")
    op.drop_index("ix_tasks_assignee", "tasks")
    op.drop_index("ix_tasks_asset_assignee", "tasks")
    op.drop_index("ix_tasks_queue", "tasks")
    op.drop_table("tasks")
    op.drop_table("job_assets")
    op.drop_table("jobs")
