"""Conversions between domain readings, ORM rows and the frozen records callers get."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from marksocr.domain import FieldKind, FieldReading, SheetReading, SheetStatus, Template, marks_add_up
from marksocr.storage.models import AuditRow, FieldRow, SheetRow, TemplateRow
from marksocr.storage.records import (
    AuditEntry,
    DigitRecord,
    FieldRecord,
    SheetRecord,
    TemplateRecord,
)


def kind_str(kind: "FieldKind | str") -> str:
    return kind.value if isinstance(kind, FieldKind) else str(kind)


def aware(dt: Optional[datetime]) -> Optional[datetime]:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _file_sha256(path: Path) -> Optional[str]:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def template_document(template: Template) -> tuple[str, str, Optional[str], list[dict[str, Any]]]:
    """``(canonical_json, checksum, reference_checksum, fields)`` for registering a template."""
    fields = [
        {"name": f.name, "kind": kind_str(f.kind), "max": f.max, "cells": f.cells} for f in template.fields
    ]
    if template.raw:
        doc: Any = dict(template.raw)
    else:
        doc = {"schema": "marksocr.template/1", "name": template.name, "fields": fields}
        if template.markers:
            doc["markers"] = dict(template.markers)
        if template.page_size:
            doc["page_size"] = list(template.page_size)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    ref = _file_sha256(template.reference_image) if template.reference_image else None
    checksum = hashlib.sha256((canonical + "\n" + (ref or "")).encode("utf-8")).hexdigest()
    return canonical, checksum, ref, fields


def template_record(row: TemplateRow) -> TemplateRecord:
    return TemplateRecord(
        id=row.id,
        name=row.name,
        checksum=row.checksum,
        field_names=tuple(f["name"] for f in row.fields),
        field_kinds=tuple(f["kind"] for f in row.fields),
        field_max=tuple(f.get("max") for f in row.fields),
    )


def digits_json(field: FieldReading) -> list[dict[str, Any]]:
    return [
        {
            "label": d.label,
            "confidence": float(d.confidence),
            "box": [int(v) for v in d.box],
            "alternatives": [[str(lbl), float(p)] for lbl, p in d.alternatives],
        }
        for d in field.digits
    ]


def field_row(field: FieldReading, position: int, crop_png: Optional[bytes]) -> FieldRow:
    return FieldRow(
        position=position,
        name=field.name,
        kind=kind_str(field.kind),
        text=field.text,
        confidence=float(field.confidence),
        digits=digits_json(field),
        box=[int(v) for v in field.box] if field.box is not None else None,
        reasons=list(field.reasons),
        suggestion=field.suggestion,
        crop_png=crop_png,
    )


def _first_of_kind(reading: SheetReading, kind: FieldKind) -> str:
    for f in reading.fields:
        if f.kind == kind or f.kind == kind.value:
            return f.text
    return ""


def fill_sheet_row(
    row: SheetRow,
    reading: SheetReading,
    field_pngs: Mapping[str, bytes],
    page_png: Optional[bytes],
    now: datetime,
) -> None:
    """Copy a reading onto a (new or replaced) sheet row, fields included."""
    row.source = reading.source
    row.page = reading.page
    row.sha256 = reading.sha256
    row.label = reading.sheet_label
    row.status = SheetStatus(reading.status).value
    row.reasons = list(reading.reasons)
    row.registration_quality = float(reading.registration_quality)
    row.model_version = reading.model_version or ""
    row.seconds = float(reading.seconds)
    row.roll_no = _first_of_kind(reading, FieldKind.ROLL_NO)
    row.subject_code = _first_of_kind(reading, FieldKind.SUBJECT_CODE)
    row.min_confidence = min((float(f.confidence) for f in reading.fields), default=1.0)
    if row.status == SheetStatus.FAILED.value:
        row.min_confidence = 0.0
    row.page_png = page_png
    row.updated_at = now
    row.fields = [field_row(f, i, field_pngs.get(f.name)) for i, f in enumerate(reading.fields)]


def refresh_sheet_keys(row: SheetRow) -> None:
    """Recompute the denormalised current roll number / subject code after a correction."""
    roll = subject = None
    for f in row.fields:
        current = f.corrected_value if f.corrected_value is not None else f.text
        if f.kind == FieldKind.ROLL_NO.value and roll is None:
            roll = current
        elif f.kind == FieldKind.SUBJECT_CODE.value and subject is None:
            subject = current
    row.roll_no = roll or ""
    row.subject_code = subject or ""


def field_record(row: FieldRow) -> FieldRecord:
    return FieldRecord(
        id=row.id,
        sheet_id=row.sheet_id,
        position=row.position,
        name=row.name,
        kind=row.kind,
        text=row.text,
        confidence=row.confidence,
        digits=tuple(
            DigitRecord(
                label=d["label"],
                confidence=float(d["confidence"]),
                box=tuple(d["box"]),  # type: ignore[arg-type]
                alternatives=tuple((str(a), float(p)) for a, p in d.get("alternatives", ())),
            )
            for d in (row.digits or ())
        ),
        box=tuple(row.box) if row.box is not None else None,  # type: ignore[arg-type]
        suggestion=row.suggestion,
        reasons=tuple(row.reasons or ()),
        corrected_value=row.corrected_value,
        corrected_by=row.corrected_by,
        corrected_at=aware(row.corrected_at),
        crop_png=row.crop_png,
    )


def sheet_record(row: SheetRow, template_name: str, with_fields: bool = False) -> SheetRecord:
    return SheetRecord(
        id=row.id,
        template_id=row.template_id,
        template_name=template_name,
        source=row.source,
        page=row.page,
        sha256=row.sha256,
        label=row.label,
        status=SheetStatus(row.status),
        reasons=tuple(row.reasons or ()),
        registration_quality=row.registration_quality,
        model_version=row.model_version,
        roll_no=row.roll_no,
        subject_code=row.subject_code,
        min_confidence=row.min_confidence,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        updated_at=aware(row.updated_at),  # type: ignore[arg-type]
        verified_by=row.verified_by,
        verified_at=aware(row.verified_at),
        fields=_with_sum_backing(tuple(field_record(f) for f in row.fields)) if with_fields else (),
    )


def _with_sum_backing(fields: tuple[FieldRecord, ...]) -> tuple[FieldRecord, ...]:
    """Mark the marks and total that the sum backs (see ``FieldRecord.sum_backed``)."""
    marks = [f.value for f in fields if f.kind == FieldKind.MARK.value]
    totals = [f.value for f in fields if f.kind == FieldKind.TOTAL.value]
    if not marks_add_up(marks, totals):
        return fields
    return tuple(replace(f, sum_backed=True)
                 if f.kind in (FieldKind.MARK.value, FieldKind.TOTAL.value) and not f.reasons and f.suggestion is None
                 else f for f in fields)


def audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=aware(row.at),  # type: ignore[arg-type]
        user=row.user,
        action=row.action,
        sheet_id=row.sheet_id,
        field_name=row.field_name,
        old_value=row.old_value,
        new_value=row.new_value,
        undone=row.undone,
    )
