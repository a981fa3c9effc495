"""SQLAlchemy 2.0 typed ORM of the marks database.

The schema itself is created and evolved by the Alembic migrations in
``marksocr/storage/migrations``; these classes must match them (a test checks it).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class TemplateRow(Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("checksum", name="uq_templates_checksum"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))
    reference_checksum: Mapped[Optional[str]] = mapped_column(String(64))
    json: Mapped[str] = mapped_column(Text)
    fields: Mapped[list] = mapped_column(JSON)
    """``[[name, kind], ...]`` in template order (CSV column order)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubjectRow(Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("code", name="uq_subjects_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[Optional[str]] = mapped_column(String(200))
    exam: Mapped[Optional[str]] = mapped_column(String(200))


class StudentRow(Base):
    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("roll_no", name="uq_students_roll_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roll_no: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200), default="")


class EnrolmentRow(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("student_id", "subject_id", name="uq_enrolments_student_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))


class SheetRow(Base):
    __tablename__ = "sheets"
    __table_args__ = (
        UniqueConstraint("sha256", "template_id", name="uq_sheets_sha256_template"),
        Index("ix_sheets_status", "status"),
        Index("ix_sheets_subject_roll", "subject_code", "roll_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(Text)
    page: Mapped[Optional[int]] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    registration_quality: Mapped[float] = mapped_column(Float, default=0.0)
    model_version: Mapped[str] = mapped_column(String(100), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    roll_no: Mapped[str] = mapped_column(String(50), default="")
    subject_code: Mapped[str] = mapped_column(String(50), default="")
    min_confidence: Mapped[float] = mapped_column(Float, default=1.0)
    page_png: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verified_by: Mapped[Optional[str]] = mapped_column(String(100))
    verified_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    template: Mapped[TemplateRow] = relationship()
    fields: Mapped[list["FieldRow"]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="FieldRow.position"
    )


class FieldRow(Base):
    __tablename__ = "field_readings"
    __table_args__ = (UniqueConstraint("sheet_id", "name", name="uq_field_readings_sheet_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(String(100), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    digits: Mapped[list] = mapped_column(JSON, default=list)
    """``[{"label", "confidence", "box", "alternatives"}, ...]``."""
    box: Mapped[Optional[list]] = mapped_column(JSON)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    suggestion: Mapped[Optional[str]] = mapped_column(String(100))
    crop_png: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)
    """Deferred: exports and listings never load the images."""
    corrected_value: Mapped[Optional[str]] = mapped_column(String(100))
    corrected_by: Mapped[Optional[str]] = mapped_column(String(100))
    corrected_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    sheet: Mapped[SheetRow] = relationship(back_populates="fields")


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_sheet", "sheet_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    sheet_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sheets.id", ondelete="SET NULL"))
    field_name: Mapped[Optional[str]] = mapped_column(String(100))
    old_value: Mapped[Optional[str]] = mapped_column(Text)
    new_value: Mapped[Optional[str]] = mapped_column(Text)
    state: Mapped[Optional[dict]] = mapped_column(JSON)
    """What ``undo`` needs to restore (the columns before the change)."""
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
