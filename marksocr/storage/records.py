"""Frozen records the storage layer hands to its callers (never ORM objects).

The CLI and the GUI only ever see these: they are plain, immutable, safe to pass
between threads and to keep after the database session that produced them closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional

from marksocr.domain import SheetStatus


@dataclass(frozen=True)
class TemplateRecord:
    """A template registered in the database (upserted by the checksum of its JSON)."""

    id: int
    name: str
    checksum: str
    """sha256 of the canonical template JSON (plus the reference image's checksum)."""
    field_names: tuple[str, ...]
    field_kinds: tuple[str, ...]
    field_max: tuple[Optional[float], ...] = ()
    """The ``max`` of each field (None when the template gives none)."""

    @property
    def mark_field_names(self) -> tuple[str, ...]:
        return tuple(n for n, k in zip(self.field_names, self.field_kinds) if k == "mark")


@dataclass(frozen=True)
class DigitRecord:
    """One character of a stored field reading."""

    label: str
    confidence: float
    box: tuple[int, int, int, int]
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class FieldRecord:
    """One stored field of a sheet, with the operator's correction if any."""

    id: int
    sheet_id: int
    position: int
    """Order of the field in its template (0-based)."""
    name: str
    kind: str
    text: str
    """What the reader recognised ("" when empty or unreadable)."""
    confidence: float
    digits: tuple[DigitRecord, ...] = ()
    box: Optional[tuple[int, int, int, int]] = None
    suggestion: Optional[str] = None
    reasons: tuple[str, ...] = ()
    corrected_value: Optional[str] = None
    """The operator's value; set by a correction or a confirmation, None otherwise."""
    corrected_by: Optional[str] = None
    corrected_at: Optional[datetime] = None
    crop_png: Optional[bytes] = field(default=None, repr=False, compare=False)
    """The field crop as PNG bytes, when the scanner stored it."""
    sum_backed: bool = False
    """A mark or total the reader had no doubt about because the sheet's marks add up to its
    total (with the current values): digits below the threshold were accepted on that ground.
    Set when the sheet is fetched with its fields; False in isolation."""

    @property
    def value(self) -> str:
        """The current value: the operator's correction, else the reading."""
        return self.corrected_value if self.corrected_value is not None else self.text

    @property
    def is_checked(self) -> bool:
        """True once an operator corrected or confirmed this field."""
        return self.corrected_value is not None

    @property
    def is_corrected(self) -> bool:
        """True when the operator's value differs from the reading."""
        return self.corrected_value is not None and self.corrected_value != self.text

    def is_doubtful(self, threshold: float) -> bool:
        """Whether a human should look at this field (and has not yet): the reader gave
        reasons or a suggestion, or it is below ``threshold`` and not backed by the sum."""
        if self.is_checked:
            return False
        if self.reasons or self.suggestion is not None:
            return True
        return self.confidence < threshold and not self.sum_backed

    def accepted_by_sum(self, threshold: float) -> bool:
        """Below ``threshold``, yet not doubtful: the sheet's marks add up to its total
        (:attr:`sum_backed`). The review shows such a field as "adds up", not as ok or doubtful."""
        return self.sum_backed and self.confidence < threshold and not self.is_doubtful(threshold)


@dataclass(frozen=True)
class SheetRecord:
    """One stored sheet. ``fields`` is filled by ``get_sheet`` and empty in listings."""

    id: int
    template_id: int
    template_name: str
    source: str
    page: Optional[int]
    sha256: str
    label: str
    """The ``sheet`` column of the marks CSV (file name, ``#page`` for PDF pages)."""
    status: SheetStatus
    reasons: tuple[str, ...]
    registration_quality: float
    model_version: str
    roll_no: str
    """Current value of the roll number field ("" when none)."""
    subject_code: str
    """Current value of the subject code field ("" when none)."""
    min_confidence: float
    created_at: datetime
    updated_at: datetime
    verified_by: Optional[str] = None
    verified_at: Optional[datetime] = None
    fields: tuple[FieldRecord, ...] = ()

    def get_field(self, name: str) -> FieldRecord:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class SaveResult:
    """What ``Database.save_reading`` did."""

    sheet_id: int
    created: bool
    """True when a new sheet row was written (or a failed one replaced)."""
    replaced_failed: bool = False
    """True when an earlier ``failed`` sheet of the same page was replaced."""


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who changed what, when, old -> new."""

    id: int
    at: datetime
    user: str
    action: str
    """``scan``, ``replace`` (read again), ``correct``, ``confirm``, ``verify``, ``undo``, ``delete``, ``roster``."""
    sheet_id: Optional[int]
    field_name: Optional[str]
    old_value: Optional[str]
    new_value: Optional[str]
    undone: bool = False


@dataclass(frozen=True)
class StudentRecord:
    """A student of the roster."""

    roll_no: str
    name: str
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class RosterImportResult:
    """What ``Database.import_roster`` did."""

    path: Path
    added: int
    updated: int
    enrolments: int
    skipped_rows: tuple[str, ...] = ()
    """Rows that were not imported, each with the reason."""


@dataclass(frozen=True)
class ExportReport:
    """The completeness report of an export (also useful on its own)."""

    path: Optional[Path]
    rows: int
    columns: tuple[str, ...]
    subject: Optional[str]
    missing_rolls: tuple[str, ...] = ()
    """Roster roll numbers with no sheet (for the subject, when one was given)."""
    duplicate_rolls: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    """``(roll_no, subject_code) -> sheet labels`` for roll numbers scanned more than once."""
    needs_review: tuple[str, ...] = ()
    """Labels of sheets still needing review."""
    failed: tuple[str, ...] = ()
    """Labels of sheets that could not be read (rows with empty values, status needs_review)."""
    unknown_rolls: tuple[str, ...] = ()
    """Roll numbers on sheets that are not in the roster (only when a roster exists)."""
    roster_size: int = 0

    @property
    def is_complete(self) -> bool:
        return not (self.missing_rolls or self.duplicate_rolls or self.needs_review or self.failed)

    def lines(self) -> list[str]:
        """The report as human-readable lines."""
        out = [f"{self.rows} sheet(s) exported" + (f" for subject {self.subject}" if self.subject else "")]
        if self.roster_size:
            out.append(f"roster: {self.roster_size} student(s), {len(self.missing_rolls)} with no sheet")
        if self.missing_rolls:
            out.append("no sheet for roll numbers: " + ", ".join(self.missing_rolls))
        for (roll, subject), labels in sorted(self.duplicate_rolls.items()):
            subj = subject or "(no subject)"
            out.append(f"roll number {roll} scanned {len(labels)} times for {subj}: " + ", ".join(labels))
        if self.needs_review:
            out.append(f"{len(self.needs_review)} sheet(s) still need review: " + ", ".join(self.needs_review))
        if self.failed:
            out.append(f"{len(self.failed)} sheet(s) could not be read (rescan them): " + ", ".join(self.failed))
        if self.unknown_rolls:
            out.append("roll numbers not in the roster: " + ", ".join(self.unknown_rolls))
        if self.is_complete:
            out.append("complete: every sheet is read, no duplicates" + (", roster covered" if self.roster_size else ""))
        return out
