"""Initial schema: projects, classes, members, blobs, assets, annotations with revisions, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
    )
    op.create_table(
        "label_classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("color", sa.String(7), nullable=False),
        sa.Column("hotkey", sa.String(8)),
        sa.Column("keypoints", sa.Text, nullable=False),
        sa.Column("skeleton", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("project_id", "user"),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("format", sa.String(16)),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_assets_project_hash", "assets", ["project_id", "sha256"])
    op.create_index("ix_assets_project_name", "assets", ["project_id", "file_name"])
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("asset_id", sa.Integer, _fk("assets"), nullable=False),
        sa.Column("label_id", sa.Integer, sa.ForeignKey("label_classes.id")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("data", sa.Text),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("w", sa.Float, nullable=False),
        sa.Column("h", sa.Float, nullable=False),
        sa.Column("area", sa.Float, nullable=False),
        sa.Column("iscrowd", sa.Boolean, nullable=False),
        sa.Column("attributes", sa.Text),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("model_version", sa.String(100)),
        sa.Column("score", sa.Float),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_annotations_asset", "annotations", ["asset_id", "deleted"])
    op.create_index("ix_annotations_project_source", "annotations", ["project_id", "source"])
    op.create_table(
        "annotation_revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("annotation_id", sa.Integer, _fk("annotations"), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("time", TZ, nullable=False),
        sa.Column("label_id", sa.Integer),
        sa.Column("data", sa.Text),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("w", sa.Float, nullable=False),
        sa.Column("h", sa.Float, nullable=False),
        sa.Column("attributes", sa.Text),
        sa.Column("deleted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_revisions_annotation", "annotation_revisions", ["annotation_id", "revision"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("asset_id", sa.Integer),
        sa.Column("task_id", sa.Integer),
        sa.Column("annotation_id", sa.Integer),
        sa.Column("time", TZ, nullable=False),
        sa.Column("duration", sa.Float),
        sa.Column("payload", sa.Text),
    )
    op.create_index("ix_events_project_time", "events", ["project_id", "time"])


def downgrade() -> None:
    for table in (
        "events",
        "annotation_revisions",
        "annotations",
        "assets",
        "blobs",
        "members",
        "label_classes",
        "projects",
    ):
        op.drop_table(table)
