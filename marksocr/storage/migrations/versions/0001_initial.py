"""Initial marks database schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("reference_checksum", sa.String(64)),
        sa.Column("json", sa.Text, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("checksum", name="uq_templates_checksum"),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("exam", sa.String(200)),
        sa.UniqueConstraint("code", name="uq_subjects_code"),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("roll_no", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.UniqueConstraint("roll_no", name="uq_students_roll_no"),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
        sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("student_id", "subject_id", name="uq_enrolments_student_subject"),
    )
    op.create_table(
        "sheets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("template_id", sa.Integer, sa.ForeignKey("templates.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("page", sa.Integer),
        sa.Column("sha256", sa.String(80), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("registration_quality", sa.Float, nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("roll_no", sa.String(50), nullable=False),
        sa.Column("subject_code", sa.String(50), nullable=False),
        sa.Column("min_confidence", sa.Float, nullable=False),
        sa.Column("page_png", sa.LargeBinary),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("verified_by", sa.String(100)),
        sa.Column("verified_at", TZ),
        sa.UniqueConstraint("sha256", "template_id", name="uq_sheets_sha256_template"),
    )
    op.create_index("ix_sheets_status", "sheets", ["status"])
    op.create_index("ix_sheets_subject_roll", "sheets", ["subject_code", "roll_no"])
    op.create_table(
        "field_readings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("text", sa.String(100), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("digits", sa.JSON, nullable=False),
        sa.Column("box", sa.JSON),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("suggestion", sa.String(100)),
        sa.Column("crop_png", sa.LargeBinary),
        sa.Column("corrected_value", sa.String(100)),
        sa.Column("corrected_by", sa.String(100)),
        sa.Column("corrected_at", TZ),
        sa.UniqueConstraint("sheet_id", "name", name="uq_field_readings_sheet_name"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("sheet_id", sa.Integer, sa.ForeignKey("sheets.id", ondelete="SET NULL")),
        sa.Column("field_name", sa.String(100)),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("state", sa.JSON),
        sa.Column("undone", sa.Boolean, nullable=False),
    )
    op.create_index("ix_audit_log_sheet", "audit_log", ["sheet_id"])


def downgrade() -> None:
    for table in ("audit_log", "field_readings", "sheets", "enrolments", "students", "subjects", "templates"):
        op.drop_table(table)
