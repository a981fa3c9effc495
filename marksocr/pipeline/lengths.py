"""How many digits a free-written roll number or subject code holds when the template does not say.

A comb field has one digit per cell, and a template may give a free field's length with the
optional ``digits`` key. A template drawn in the editor or written by hand from the contract
often gives neither, and then the reader knows nothing of the length: a run of touching digits
read as one confident digit makes a 9-digit roll number that no check questions, and the cut
lattices that split such runs (``segment._lattice``) are never tried.

Two places know the length all the same:

* the known list: when every roll number of the roster (every known subject code) has the
  same length, that is the length (:func:`listed_lengths`);
* the batch: one class's roll numbers all have one length, so the length most sheets of the
  layout read is the length (:func:`learned_lengths`), counting those stored before.
  ``pipeline.batch`` holds back the first :data:`LEARN_FROM` sheets (up to :data:`LEARN_MAX`
  while a length is unclear), decides, reads them again knowing it, and reads the rest knowing it.

A length found either way is given to the reader as the field's ``digits`` key
(:func:`with_lengths`), marked ``digits_from`` so the count check can say where it came from.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import Optional

from marksocr.domain import FieldKind, FieldSpec, SheetReading, SheetStatus, Template
from marksocr.pipeline.checks import expected_digits

log = logging.getLogger(__name__)

LEARN_FROM = 6
"""Sheets a scan reads before it decides the lengths of open fields, when every one of them is
clear by then (a scan of fewer decides on what it has, when at least :data:`MIN_SHEETS` agree)."""

LEARN_MAX = 12
"""Most sheets a scan holds back while a length is still unclear; then it decides what it can.
(Tuning seed 1000, ``foreign_university`` scans without ``digits``: four of the first six
subject codes came out of the wrong length, so six were not enough there.)"""

MIN_SHEETS = 3
"""Fewest sheets that must agree on a length."""

MIN_SHARE = 0.4
"""Share of the sheets read (with the field not empty) that must agree on a length ..."""

MARGIN = 1.5
"""... and how many times as many sheets as the next most common length. Misread fields of
another length are spread over several wrong lengths, mostly shorter (touching digits read as
one). Measured on the first 12 sheets of the tuning and unseen sets read without their
``digits`` keys: the right length had 8 of 12 (scans) down to 5 or 6 of 12 (hard photos), the
runner-up at most 4 (``foreign_university`` hard photos: 5 against 4, not decided there; the
other sets are). A class with two lengths of roll number in even shares gets none forced on it."""

ID_KINDS = (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE)


def open_fields(template: Template) -> list[FieldSpec]:
    """Roll-number and subject-code fields whose length the template does not give."""
    return [f for f in template.fields if f.kind in ID_KINDS and expected_digits(f) is None]


def with_lengths(template: Template, lengths: Mapping[str, int], source: str) -> Template:
    """``template`` with each named open field given its length (``digits``), and ``digits_from``
    = ``source`` (e.g. "as in the roster") for the count check's message."""
    if not lengths:
        return template
    fields = tuple(replace(f, extra={**f.extra, "digits": int(lengths[f.name]), "digits_from": source})
                   if f.name in lengths and expected_digits(f) is None else f for f in template.fields)
    return replace(template, fields=fields)


def listed_lengths(template: Template, roll_numbers: Optional[Collection[str]],
                   subject_codes: Optional[Collection[str]]) -> dict[str, int]:
    """Lengths of open fields whose known list holds entries of one length only."""
    out: dict[str, int] = {}
    for f in open_fields(template):
        known = roll_numbers if f.kind == FieldKind.ROLL_NO else subject_codes
        sizes = {len(str(k).strip()) for k in known or () if str(k).strip().isdigit()}
        if len(sizes) == 1:
            out[f.name] = sizes.pop()
    return out


def learned_lengths(template: Template, readings: Iterable[SheetReading],
                    stored: Optional[Mapping[str, Iterable[str]]] = None) -> dict[str, int]:
    """For each open field, the length most of ``readings`` read it as, when at least
    :data:`MIN_SHEETS` sheets and :data:`MIN_SHARE` of those with the field not empty agree, and
    :data:`MARGIN` times as many as on any other length.
    ``stored``: values of the fields on sheets of this layout stored before (field name ->
    values, ``Database.field_values``), counted as sheets too."""
    readings = [r for r in readings if SheetStatus(r.status) != SheetStatus.FAILED]
    out: dict[str, int] = {}
    for f in open_fields(template):
        before = ["".join(c for c in v if c.isdigit()) for v in (stored or {}).get(f.name, ())]
        counts = Counter(len(t) for t in [*before, *(_digits_of(r, f.name) for r in readings)] if t)
        if not counts:
            continue
        (length, n), *rest = counts.most_common(2)
        runner_up = rest[0][1] if rest else 0
        if n >= MIN_SHEETS and n >= MIN_SHARE * sum(counts.values()) and n >= MARGIN * runner_up:
            out[f.name] = length
        else:
            log.info("no length learned for %s: %s", f.name, dict(counts))
    return out


def describe(lengths: Mapping[str, int], source: str) -> str:
    """One line for a scan summary: ``roll_no 10 digits, subject_code 6 digits (as in the roster)``."""
    return ", ".join(f"{name} {n} digits" for name, n in lengths.items()) + f" ({source})"


def _digits_of(reading: SheetReading, name: str) -> str:
    text = next((f.text for f in reading.fields if f.name == name), "")
    return "".join(c for c in text if c.isdigit())
