"""Roster import, marks CSV / XLSX export and the completeness report.

Marks CSV (``interfaces.md`` section 3): ``sheet, roll_no, subject_code, <mark fields in
template order>, total, status``; one row per sheet, current values (correction else
reading). Several templates in one export: the mark columns are the union of their
mark fields, in the order of first appearance (templates in registration order); a
sheet whose template lacks a column leaves it empty. A ``failed`` sheet (the page could
not be read at all) is still a scanned sheet: it gets its row, with empty values and the
status ``needs_review`` (the contract's status vocabulary has no ``failed``), and is
listed in the report; ``include_failed=False`` leaves such rows out.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marksocr.domain import FieldKind, InputError, SheetStatus
from marksocr.storage.core import DatabaseCore, _operator, _now
from marksocr.storage.models import AuditRow, EnrolmentRow, SheetRow, StudentRow, SubjectRow, TemplateRow
from marksocr.storage.records import ExportReport, RosterImportResult, StudentRecord

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ROLL_COLUMNS = ("roll_no", "roll", "roll_number", "rollno", "roll_num")
_NAME_COLUMNS = ("name", "student", "student_name", "full_name")
_SUBJECT_COLUMNS = ("subject_code", "subject", "subjects", "subject_codes", "course", "course_code")


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with a single quote."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _norm_header(h: str) -> str:
    return h.strip().lower().replace(" ", "_").replace("-", "_").replace(".", "")


def _current(f) -> str:
    return f.corrected_value if f.corrected_value is not None else f.text


class ExchangeMixin(DatabaseCore):
    """Roster import and marks export."""

    # -- roster --------------------------------------------------------------------------
    def import_roster(self, path: "str | Path", user: Optional[str] = None) -> RosterImportResult:
        """Import students from a CSV with a header: roll number (``roll_no``/``roll``),
        optional ``name`` and optional ``subject_code`` (several separated by ``;``).

        Students are upserted by roll number (names updated); enrolments added.
        """
        path = Path(path)
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.reader(fh))
        except FileNotFoundError:
            raise InputError(f"roster file {path} does not exist") from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read roster file {path}: {exc}") from None
        if not rows:
            raise InputError(f"roster file {path} is empty")
        header = [_norm_header(h) for h in rows[0]]
        roll_i = next((header.index(c) for c in _ROLL_COLUMNS if c in header), None)
        if roll_i is None:
            raise InputError(
                f"roster file {path}: no roll number column in the header {rows[0]!r} "
                f"(expected one of {', '.join(_ROLL_COLUMNS)})"
            )
        name_i = next((header.index(c) for c in _NAME_COLUMNS if c in header), None)
        subj_i = next((header.index(c) for c in _SUBJECT_COLUMNS if c in header), None)
        entries: dict[str, tuple[str, set[str]]] = {}
        skipped: list[str] = []
        for lineno, row in enumerate(rows[1:], start=2):
            if not any(c.strip() for c in row):
                continue
            roll = row[roll_i].strip() if roll_i < len(row) else ""
            if not roll:
                skipped.append(f"line {lineno}: no roll number")
                continue
            name = row[name_i].strip() if name_i is not None and name_i < len(row) else ""
            subjects = set()
            if subj_i is not None and subj_i < len(row):
                subjects = {x.strip() for x in row[subj_i].replace(",", ";").split(";") if x.strip()}
            old_name, old_subjects = entries.get(roll, ("", set()))
            entries[roll] = (name or old_name, old_subjects | subjects)

        def run(s: Session) -> RosterImportResult:
            added = updated = enrolled = 0
            students = {st.roll_no: st for st in s.scalars(select(StudentRow))}
            subjects = {sb.code: sb for sb in s.scalars(select(SubjectRow))}
            for roll, (name, codes) in entries.items():
                st = students.get(roll)
                if st is None:
                    st = StudentRow(roll_no=roll, name=name)
                    s.add(st)
                    added += 1
                elif name and st.name != name:
                    st.name = name
                    updated += 1
                s.flush()
                have = set(s.scalars(select(EnrolmentRow.subject_id).where(EnrolmentRow.student_id == st.id)))
                for code in sorted(codes):
                    sb = subjects.get(code)
                    if sb is None:
                        sb = subjects[code] = SubjectRow(code=code)
                        s.add(sb)
                        s.flush()
                    if sb.id not in have:
                        s.add(EnrolmentRow(student_id=st.id, subject_id=sb.id))
                        have.add(sb.id)
                        enrolled += 1
            s.add(AuditRow(at=_now(), user=user or _operator(), action="roster", sheet_id=None,
                           old_value=None, new_value=f"{path.name}: {added} added, {updated} updated",
                           undone=False))
            return RosterImportResult(path, added, updated, enrolled, tuple(skipped))

        return self._write_tx(run, f"importing roster {path.name}")

    def list_students(self, subject: Optional[str] = None) -> list[StudentRecord]:
        """Students of the roster (enrolled in ``subject`` if given), by roll number."""
        return self._read_tx(lambda s: _students(s, subject), "listing students")

    # -- export --------------------------------------------------------------------------
    def export_csv(self, path: "str | Path", subject: Optional[str] = None, verified_only: bool = False,
                   include_failed: bool = True) -> ExportReport:
        """Write the marks CSV (interfaces.md section 3) and return the completeness report."""
        path = Path(path)
        columns, rows, report = self._marks_table(subject, verified_only, include_failed)
        tmp = path.with_name(path.name + ".part")
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(columns)
                writer.writerows([[neutralise(c) for c in r] for r in rows])
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return _with_path(report, path)

    def export_xlsx(self, path: "str | Path", subject: Optional[str] = None, verified_only: bool = False,
                    include_failed: bool = True) -> ExportReport:
        """The same table as :meth:`export_csv`, as an Excel workbook (openpyxl)."""
        from openpyxl import Workbook

        path = Path(path)
        columns, rows, report = self._marks_table(subject, verified_only, include_failed)
        wb = Workbook()
        ws = wb.active
        ws.title = "marks"
        ws.append(columns)
        for r in rows:
            ws.append([neutralise(c) for c in r])  # text cells: no formula can run
        try:
            wb.save(path)
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return _with_path(report, path)

    def completeness(self, subject: Optional[str] = None, verified_only: bool = False) -> ExportReport:
        """The completeness report alone (what an export would say), without writing a file."""
        return self._marks_table(subject, verified_only, False)[2]

    def _marks_table(self, subject: Optional[str], verified_only: bool, include_failed: bool):
        def run(s: Session):
            templates = {t.id: t for t in s.scalars(select(TemplateRow).order_by(TemplateRow.id))}
            q = select(SheetRow).options(selectinload(SheetRow.fields)).order_by(SheetRow.id)
            if subject is not None:
                q = q.where(SheetRow.subject_code == subject)
            sheets = list(s.scalars(q))
            roster = _students(s, subject)
            return _build_table(templates, sheets, roster, subject, verified_only, include_failed)

        return self._read_tx(run, "exporting marks")


def _with_path(report: ExportReport, path: Path) -> ExportReport:
    from dataclasses import replace

    return replace(report, path=path)


def _students(s: Session, subject: Optional[str]) -> list[StudentRecord]:
    subj_of: dict[int, list[str]] = defaultdict(list)
    for sid, code in s.execute(select(EnrolmentRow.student_id, SubjectRow.code).join(SubjectRow)):
        subj_of[sid].append(code)
    out = [
        StudentRecord(st.roll_no, st.name, tuple(sorted(subj_of.get(st.id, ()))))
        for st in s.scalars(select(StudentRow).order_by(StudentRow.roll_no))
    ]
    if subject is not None and any(subject in st.subjects for st in out):
        out = [st for st in out if subject in st.subjects]
    return out


def _build_table(templates, sheets, roster, subject, verified_only, include_failed):
    used = {sh.template_id for sh in sheets} or set(templates)
    mark_cols: list[str] = []
    for tid, t in templates.items():
        if tid in used:
            for f in t.fields:
                if f["kind"] == FieldKind.MARK.value and f["name"] not in mark_cols:
                    mark_cols.append(f["name"])
    columns = ["sheet", "roll_no", "subject_code", *mark_cols, "total", "status"]
    rows: list[list[str]] = []
    needs_review, failed = [], []
    by_roll: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sh in sheets:
        if sh.status == SheetStatus.FAILED.value:
            failed.append(sh.label)
            if not include_failed or verified_only:
                continue
        status = SheetStatus.NEEDS_REVIEW.value if sh.status == SheetStatus.FAILED.value else sh.status
        if sh.status == SheetStatus.NEEDS_REVIEW.value:
            needs_review.append(sh.label)
        if verified_only and sh.status != SheetStatus.VERIFIED.value:
            continue
        if sh.roll_no and sh.status != SheetStatus.FAILED.value:
            by_roll[(sh.roll_no, sh.subject_code)].append(sh.label)
        values = {f.name: _current(f) for f in sh.fields}
        kinds = {}
        for f in sh.fields:
            kinds.setdefault(f.kind, _current(f))
        rows.append([
            sh.label,
            kinds.get(FieldKind.ROLL_NO.value, ""),
            kinds.get(FieldKind.SUBJECT_CODE.value, ""),
            *[values.get(c, "") if c in values else "" for c in mark_cols],
            kinds.get(FieldKind.TOTAL.value, ""),
            status,
        ])
    scanned = {roll for roll, _ in by_roll}
    roster_rolls = [st.roll_no for st in roster]
    report = ExportReport(
        path=None,
        rows=len(rows),
        columns=tuple(columns),
        subject=subject,
        missing_rolls=tuple(r for r in roster_rolls if r not in scanned),
        duplicate_rolls={k: tuple(v) for k, v in by_roll.items() if len(v) > 1},
        needs_review=tuple(needs_review),
        failed=tuple(failed),
        unknown_rolls=tuple(sorted(scanned - set(roster_rolls))) if roster_rolls else (),
        roster_size=len(roster_rolls),
    )
    return columns, rows, report
