"""marksocr's marks database: SQLAlchemy ORM, Alembic migrations, export.

Imports neither Qt nor TensorFlow nor OpenCV. Public API (used by the CLI and the GUI)::

    from marksocr.storage import Database
    db = Database.open(url=None)                 # --db / $MARKSOCR_DB / settings / default SQLite
    t = db.register_template(template)           # -> TemplateRecord (upsert by JSON checksum)
    db.has_sheet(sha256, t.id) / db.sheet_status(sha256, t.id)
    db.field_values(t.id, names) -> {name: [current values]}   # e.g. lengths a template does not give
    db.save_reading(reading, t.id, field_pngs={name: png}, page_png=png, user=None) -> SaveResult
    db.list_sheets(status=None, subject=None, template_id=None, limit=None) -> [SheetRecord]
    db.count_sheets() -> {SheetStatus: n}
    db.get_sheet(sheet_id) -> SheetRecord (with .fields: FieldRecord...)
    db.get_page_png(sheet_id) -> bytes | None
    db.correct_field(sheet_id, field_name, value, user=None) -> FieldRecord
    db.confirm_field(sheet_id, field_name, user=None) -> FieldRecord
    db.verify_sheet(sheet_id, user=None) -> SheetRecord
    db.undo(user=None, sheet_id=None) -> AuditEntry | None
    db.history(sheet_id=None, limit=200) -> [AuditEntry]
    db.delete_sheet(sheet_id, user=None)
    db.import_roster(path) -> RosterImportResult ; db.list_students(subject=None)
    db.export_csv(path, subject=None, verified_only=False) -> ExportReport
    db.export_xlsx(path, ...) -> ExportReport ; db.completeness(subject=None) -> ExportReport
    db.close()

``user=None`` means the operator from the settings (default: the login name).
Errors: :class:`~marksocr.domain.StorageError` (cannot open, locked, read-only, full,
corrupt; names the file), :class:`RecordNotFound` (a StorageError), :class:`InvalidEdit`.
"""

from marksocr.storage.core import InvalidEdit, RecordNotFound
from marksocr.storage.database import Database
from marksocr.storage.exchange import neutralise
from marksocr.storage.records import (
    AuditEntry,
    DigitRecord,
    ExportReport,
    FieldRecord,
    RosterImportResult,
    SaveResult,
    SheetRecord,
    StudentRecord,
    TemplateRecord,
)

__all__ = [
    "AuditEntry",
    "Database",
    "DigitRecord",
    "ExportReport",
    "FieldRecord",
    "InvalidEdit",
    "RecordNotFound",
    "RosterImportResult",
    "SaveResult",
    "SheetRecord",
    "StudentRecord",
    "TemplateRecord",
    "neutralise",
]
