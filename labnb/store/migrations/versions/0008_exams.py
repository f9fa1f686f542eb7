"""Exams and credentials with a history: exams over snapshotted gold, attempts, automatic scores and
grades; jobs of kind ``exam`` and continuous gold in ordinary jobs; credential grants that stay on record
when revoked or suspended (0004's ``credentials`` rows become manual grants).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "credential_grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("exam_id", sa.Integer),
        sa.Column("attempt_id", sa.Integer),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", TZ, nullable=False),
        sa.Column("revoked_by", sa.String(200)),
        sa.Column("revoked_at", TZ),
        sa.Column("suspended_by", sa.String(200)),
        sa.Column("suspended_at", TZ),
        sa.Column("suspend_reason", sa.Text),
    )
    op.create_index("ix_credential_grants_user", "credential_grants", ["project_id", "user", "name"])
    op.execute(
        'INSERT INTO credential_grants (project_id, "user", name, source, granted_by, granted_at) '
        "SELECT project_id, \"user\", name, 'manual', granted_by, granted_at FROM credentials"
    )
    op.drop_table("credentials")
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("job_id", sa.Integer, _fk("jobs"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("gold_source", sa.String(40), nullable=False),
        sa.Column("grants", sa.Text, nullable=False),
        sa.Column("pass_mark", sa.Text, nullable=False),
        sa.Column("max_attempts", sa.Integer),
        sa.Column("retake_after", sa.Float),
        sa.Column("auto_pass", sa.Boolean, nullable=False),
        sa.Column("iou", sa.Float, nullable=False),
        sa.Column("show_graded", sa.Boolean, nullable=False),
        sa.Column("gold_version", sa.Integer, nullable=False),
        sa.Column("gold_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_exams_project_name"),
    )
    op.create_table(
        "exam_gold",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("exam_id", sa.Integer, _fk("exams"), nullable=False),
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
        sa.Column("source_annotation_id", sa.Integer),
    )
    op.create_index("ix_exam_gold_asset", "exam_gold", ["exam_id", "asset_id"])
    op.create_table(
        "exam_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("projects"), nullable=False),
        sa.Column("exam_id", sa.Integer, _fk("exams"), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", TZ),
        sa.UniqueConstraint("exam_id", "user", "number", name="uq_exam_attempts_number"),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="work"))
        batch.add_column(sa.Column("gold_rate", sa.Float))
        batch.add_column(sa.Column("gold_exam_id", sa.Integer))
        batch.add_column(sa.Column("min_gold_f1", sa.Float))
        batch.add_column(sa.Column("min_gold_images", sa.Integer))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("attempt_id", sa.Integer))
        batch.add_column(sa.Column("gold", sa.Boolean, nullable=False, server_default=sa.text("false")))
        batch.create_foreign_key("fk_tasks_attempt", "exam_attempts", ["attempt_id"], ["id"], ondelete="CASCADE")
    op.create_table(
        "exam_scores",
        sa.Column("task_id", sa.Integer, _fk("tasks"), primary_key=True),
        sa.Column("exam_id", sa.Integer, _fk("exams"), nullable=False),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("tp", sa.Integer, nullable=False),
        sa.Column("fp", sa.Integer, nullable=False),
        sa.Column("fn", sa.Integer, nullable=False),
        sa.Column("wrong_label", sa.Integer, nullable=False),
        sa.Column("iou_sum", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("scored_at", TZ, nullable=False),
    )
    op.create_table(
        "exam_grades",
        sa.Column("task_id", sa.Integer, _fk("tasks"), primary_key=True),
        sa.Column("attempt_id", sa.Integer, _fk("exam_attempts"), nullable=False),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("grader", sa.String(200), nullable=False),
        sa.Column("stars", sa.Text, nullable=False),
        sa.Column("missing", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("graded_at", TZ, nullable=False),
    )
    op.create_index("ix_exam_grades_attempt", "exam_grades", ["attempt_id"])


def downgrade() -> None:
    op.drop_index("ix_exam_grades_attempt", "exam_grades")
    op.drop_table("exam_grades")
    op.drop_table("exam_scores")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint("fk_tasks_attempt", type_="foreignkey")
        batch.drop_column("gold")
        batch.drop_column("attempt_id")
    with op.batch_alter_table("jobs") as batch:
        for column in ("min_gold_images", "min_gold_f1", "gold_exam_id", "gold_rate", "kind"):
            batch.drop_column(column)
    op.drop_table("exam_attempts")
    op.drop_index("ix_exam_gold_asset", "exam_gold")
    op.drop_table("exam_gold")
    op.drop_table("exams")
    op.create_table(
        "credentials",
        sa.Column("project_id", sa.Integer, _fk("projects"), primary_key=True),
        sa.Column("user", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", TZ, nullable=False),
    )
    op.execute(
        'INSERT INTO credentials (project_id, "user", name, granted_by, granted_at) '
        'SELECT project_id, "user", name, MIN(granted_by), MIN(granted_at) FROM credential_grants '
        'WHERE revoked_at IS NULL GROUP BY project_id, "user", name'
    )
    op.drop_index("ix_credential_grants_user", "credential_grants")
    op.drop_table("credential_grants")
