"""Operator edits: correct / confirm a field, verify a sheet, undo, and the audit log."""

from __future__ import annotations

import logging
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from marksocr.domain import FieldKind, SheetStatus
from marksocr.storage import convert
from marksocr.storage.core import (
    _CODE_RE,
    _MARK_RE,
    UNDOABLE_ACTIONS,
    DatabaseCore,
    InvalidEdit,
    RecordNotFound,
    _now,
    _operator,
)
from marksocr.storage.models import AuditRow, FieldRow, SheetRow, TemplateRow
from marksocr.storage.records import AuditEntry, FieldRecord, SheetRecord

log = logging.getLogger(__name__)

_FIELD_STATE = ("corrected_value", "corrected_by", "corrected_at")
_SHEET_STATE = ("status", "verified_by", "verified_at")


def _dump(row: object, names: tuple[str, ...]) -> dict:
    out = {}
    for n in names:
        v = getattr(row, n)
        out[n] = convert.aware(v).isoformat() if hasattr(v, "isoformat") else v
    return out


def _load(row: object, state: dict, names: tuple[str, ...]) -> None:
    from datetime import datetime

    for n in names:
        v = state.get(n)
        if n.endswith("_at") and isinstance(v, str):
            v = datetime.fromisoformat(v)
        setattr(row, n, v)


class EditingMixin(DatabaseCore):
    """Field corrections, sheet verification, undo and history."""

    def _field_row(self, s: Session, sheet_id: int, field_name: str) -> tuple[SheetRow, FieldRow]:
        sheet = self._sheet_row(s, sheet_id, lock=True)
        for f in sheet.fields:
            if f.name == field_name:
                return sheet, f
        raise RecordNotFound(f"sheet {sheet_id} ({sheet.label}) has no field {field_name!r}")

    def _check_value(self, s: Session, sheet: SheetRow, field: FieldRow, value: str) -> str:
        value = value.strip()
        if field.kind in (FieldKind.MARK.value, FieldKind.TOTAL.value):
            if not _MARK_RE.match(value):
                raise InvalidEdit(f"{field.name}: {value!r} is not a mark (digits, optionally with a decimal point)")
            tmpl = s.get(TemplateRow, sheet.template_id)
            spec = next((f for f in (tmpl.fields if tmpl else ()) if f["name"] == field.name), None)
            if value and spec and spec.get("max") is not None and float(value) > float(spec["max"]):
                raise InvalidEdit(f"{field.name}: {value} is more than the maximum {spec['max']:g}")
        elif field.kind in (FieldKind.ROLL_NO.value, FieldKind.SUBJECT_CODE.value):
            if not _CODE_RE.match(value):
                raise InvalidEdit(f"{field.name}: {value!r} may only hold letters and digits")
        elif any(ord(c) < 32 for c in value):
            raise InvalidEdit(f"{field.name}: control characters are not allowed")
        return value

    def _set_field(self, sheet_id: int, field_name: str, value: Optional[str], user: Optional[str],
                   action: str) -> FieldRecord:
        user = user or _operator()

        def run(s: Session) -> FieldRecord:
            sheet, field = self._field_row(s, sheet_id, field_name)
            if sheet.status == SheetStatus.FAILED.value:
                raise InvalidEdit(f"sheet {sheet.label} could not be read; rescan it instead of editing it")
            old_current = field.corrected_value if field.corrected_value is not None else field.text
            if value is None:  # confirm: the current value is right
                new = old_current
            else:
                new = self._check_value(s, sheet, field, value)
            if field.corrected_value == new:
                return convert.field_record(field)  # nothing changes: no audit noise
            now = _now()
            s.add(AuditRow(
                at=now, user=user, action=action, sheet_id=sheet.id, field_name=field.name,
                old_value=old_current, new_value=new, state=_dump(field, _FIELD_STATE), undone=False,
            ))
            field.corrected_value, field.corrected_by, field.corrected_at = new, user, now
            sheet.updated_at = now
            convert.refresh_sheet_keys(sheet)
            s.flush()
            return convert.field_record(field)

        return self._write_tx(run, f"{action}ing field {field_name} of sheet {sheet_id}")

    def correct_field(self, sheet_id: int, field_name: str, value: str, user: Optional[str] = None) -> FieldRecord:
        """Set the operator's value of a field (``""`` = the field is empty); logged, undoable.

        Marks and totals must be digits with an optional decimal point and not above the
        field's ``max``; roll numbers and subject codes letters and digits
        (:class:`InvalidEdit` otherwise).
        """
        return self._set_field(sheet_id, field_name, value, user, "correct")

    def confirm_field(self, sheet_id: int, field_name: str, user: Optional[str] = None) -> FieldRecord:
        """Record that the operator checked the field and its current value is right."""
        return self._set_field(sheet_id, field_name, None, user, "confirm")

    def verify_sheet(self, sheet_id: int, user: Optional[str] = None) -> SheetRecord:
        """Mark the sheet ``verified`` (an operator confirmed all of it); logged, undoable."""
        user = user or _operator()

        def run(s: Session) -> SheetRecord:
            sheet = self._sheet_row(s, sheet_id, lock=True)
            if sheet.status == SheetStatus.FAILED.value:
                raise InvalidEdit(f"sheet {sheet.label} could not be read; it cannot be verified")
            if sheet.status != SheetStatus.VERIFIED.value:
                now = _now()
                s.add(AuditRow(
                    at=now, user=user, action="verify", sheet_id=sheet.id, old_value=sheet.status,
                    new_value=SheetStatus.VERIFIED.value, state=_dump(sheet, _SHEET_STATE), undone=False,
                ))
                sheet.status, sheet.verified_by, sheet.verified_at = SheetStatus.VERIFIED.value, user, now
                sheet.updated_at = now
                s.flush()
            return self._sheet_record(s, sheet_id)

        return self._write_tx(run, f"verifying sheet {sheet_id}")

    def undo(self, user: Optional[str] = None, sheet_id: Optional[int] = None) -> Optional[AuditEntry]:
        """Undo ``user``'s latest correction, confirmation or verification (of ``sheet_id``).

        Returns the audit entry that was undone, or None when there is nothing to undo.
        The undo itself is logged (action ``undo``); undone entries are not undone twice.
        """
        user = user or _operator()

        def run(s: Session) -> Optional[AuditEntry]:
            q = select(AuditRow).where(
                AuditRow.action.in_(UNDOABLE_ACTIONS), AuditRow.undone.is_(False), AuditRow.user == user,
                AuditRow.sheet_id.is_not(None),
            )
            if sheet_id is not None:
                q = q.where(AuditRow.sheet_id == sheet_id)
            entry = s.scalar(q.order_by(AuditRow.id.desc()).limit(1))
            if entry is None:
                return None
            sheet = self._sheet_row(s, entry.sheet_id, lock=True)  # type: ignore[arg-type]
            state = entry.state or {}
            if entry.action == "verify":
                _load(sheet, state, _SHEET_STATE)
            else:
                field = next((f for f in sheet.fields if f.name == entry.field_name), None)
                if field is None:
                    raise RecordNotFound(f"sheet {sheet.label} has no field {entry.field_name!r} any more")
                _load(field, state, _FIELD_STATE)
                convert.refresh_sheet_keys(sheet)
            now = _now()
            sheet.updated_at = now
            entry.undone = True
            s.add(AuditRow(
                at=now, user=user, action="undo", sheet_id=sheet.id, field_name=entry.field_name,
                old_value=entry.new_value, new_value=entry.old_value, state={"undid": entry.id}, undone=False,
            ))
            s.flush()
            return convert.audit_entry(entry)

        return self._write_tx(run, "undoing the last change")

    def history(self, sheet_id: Optional[int] = None, limit: int = 200) -> list[AuditEntry]:
        """The audit log, newest first (of one sheet when ``sheet_id`` is given)."""
        def run(s: Session) -> list[AuditEntry]:
            q = select(AuditRow)
            if sheet_id is not None:
                q = q.where(AuditRow.sheet_id == sheet_id)
            return [convert.audit_entry(r) for r in s.scalars(q.order_by(AuditRow.id.desc()).limit(limit))]

        return self._read_tx(run, "reading the audit log")
