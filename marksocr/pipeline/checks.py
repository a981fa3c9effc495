"""Consistency checks on a sheet's readings, as human-readable reasons.

The checks work on plain texts (field name -> text) so that sum-consistent decoding can run
them on candidate readings too.

* a mark that is not a number, has more digits than its maximum, or exceeds its maximum;
* a total that differs from the sum of the marks (empty marks count as 0);
* a roll number / subject code not in a known list (when one is given);
* an unexpected digit count (comb fields need exactly ``cells`` digits);
* an empty required field (roll number, subject code, total).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Optional

from marksocr.domain import FieldKind, FieldSpec, Template, parse_number, sum_of_marks

log = logging.getLogger(__name__)

REQUIRED_KINDS = (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE, FieldKind.TOTAL)
"""Kinds that must not be empty. An empty mark means an unanswered question (counts as 0)."""


@dataclass(frozen=True)
class Issue:
    """A failed check: the fields it concerns and a sentence saying what is wrong."""

    fields: tuple[str, ...]
    message: str
    kind: str
    """``count``, ``number``, ``max``, ``sum``, ``roster``, ``empty``."""


def _fmt(v: float) -> str:
    return f"{v:g}"


def _label(spec: FieldSpec) -> str:
    return {FieldKind.ROLL_NO: "roll number", FieldKind.SUBJECT_CODE: "subject code"}.get(spec.kind, spec.name)


def expected_digits(spec: FieldSpec) -> Optional[int]:
    """Digits a field must hold: its ``cells``, else an optional ``digits`` key of the template.
    None for marks and totals: a mark written in a comb of two cells may be a single ``7``, so
    its cells are the most digits it holds, not a count it must have."""
    if spec.cells and not spec.is_numeric_mark:
        return int(spec.cells)
    try:
        n = int(spec.extra.get("digits", 0) or 0)
    except (TypeError, ValueError):
        return None
    return n if n > 0 and not spec.is_numeric_mark else None


def check_field(spec: FieldSpec, text: str) -> list[Issue]:
    """Checks of one field on its own (count, number format, maximum, required)."""
    issues: list[Issue] = []
    name = spec.name
    if not text:
        if spec.kind in REQUIRED_KINDS:
            issues.append(Issue((name,), f"{_label(spec)} is empty", "empty"))
        return issues
    expected = expected_digits(spec)
    if expected and "." not in text and len(text) != expected:
        source = spec.extra.get("digits_from") if not spec.cells else None  # a length the template did not give
        said = f" ({source})" if source else ""
        issues.append(Issue((name,), f"{_label(spec)} has {len(text)} digits, expected {expected}{said}", "count"))
    if spec.is_numeric_mark:
        value = parse_number(text)
        if value is None:
            issues.append(Issue((name,), f"{name} '{text}' is not a number", "number"))
            return issues
        if spec.max is not None:
            int_digits = len(text.split(".")[0])
            max_digits = len(str(int(spec.max)))
            if value > spec.max + 1e-9:
                issues.append(Issue((name,), f"{name} = {_fmt(value)} > max {_fmt(spec.max)}", "max"))
            elif int_digits > max_digits:
                issues.append(Issue((name,), f"{name} '{text}' has more digits than its max {_fmt(spec.max)}", "count"))
        if "." in text and len(text.split(".")[1]) > 2:
            issues.append(Issue((name,), f"{name} '{text}' has too many decimals", "number"))
    elif "." in text:
        issues.append(Issue((name,), f"{_label(spec)} '{text}' contains a point", "number"))
    return issues


def check_roster(spec: FieldSpec, text: str, known: Optional[Collection[str]]) -> list[Issue]:
    """A roll number / subject code must be in the known list, when one is given."""
    if not known or not text or spec.kind not in (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE):
        return []
    if text in known:
        return []
    where = "roster" if spec.kind == FieldKind.ROLL_NO else "list of subject codes"
    return [Issue((spec.name,), f"{_label(spec)} {text} not in {where}", "roster")]


def check_sum(template: Template, texts: Mapping[str, str]) -> list[Issue]:
    """The written total must equal the sum of the marks (empty marks count as 0)."""
    marks = template.mark_fields
    totals = [f for f in template.fields if f.kind == FieldKind.TOTAL]
    if not marks or not totals:
        return []
    s = sum_of_marks([texts.get(f.name, "") for f in marks])
    if s is None:
        return []  # unparseable marks are reported by check_field
    issues = []
    for t in totals:
        tv = parse_number(texts.get(t.name, ""))
        if tv is None:
            continue
        if abs(tv - s) > 1e-6:
            issues.append(Issue(tuple(f.name for f in marks) + (t.name,), f"{t.name} {_fmt(tv)} but marks add up to {_fmt(s)}", "sum"))
    return issues


def check_sheet(template: Template, texts: Mapping[str, str], *, roll_numbers: Optional[Collection[str]] = None,
                subject_codes: Optional[Collection[str]] = None) -> list[Issue]:
    """Every check on a sheet's texts; an empty list when the sheet is consistent."""
    issues: list[Issue] = []
    for spec in template.fields:
        text = texts.get(spec.name, "")
        issues += check_field(spec, text)
        known = roll_numbers if spec.kind == FieldKind.ROLL_NO else subject_codes if spec.kind == FieldKind.SUBJECT_CODE else None
        issues += check_roster(spec, text, known)
    issues += check_sum(template, texts)
    return issues
