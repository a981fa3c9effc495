"""Shared vocabulary of marksocr: small frozen dataclasses passed between layers.

Every layer (imaging, recognition, pipeline, storage, cli, gui) speaks in these
types, so a reading produced by the pipeline can be stored, shown and exported
without translation. This module imports nothing heavy (NumPy only for typing).

Glossary (see also docs/CONTEXT.md):

* *template*  -- where the handwritten fields are on one kind of answer sheet.
* *sheet*     -- one scanned page (one image file, or one page of a PDF).
* *field*     -- one handwritten area on a sheet (roll number, a question's mark...).
* *reading*   -- what marksocr read in a field: text, per-digit confidences, crops.
* *auto*      -- a sheet read with every digit confident and every check passing.
* *needs_review* -- a sheet a human must look at; the reasons say why.
* *verified*  -- a sheet an operator confirmed.
* *failed*    -- a sheet that could not be read at all (corrupt file, no page...).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
"""A 2-D uint8 image, shape (H, W)."""

PixelBox = tuple[int, int, int, int]
"""``(x, y, w, h)`` in pixels of the image it refers to."""

FractionBox = tuple[float, float, float, float]
"""``(x, y, w, h)`` as fractions (0..1) of the page width and height."""


class FieldKind(str, enum.Enum):
    ROLL_NO = "roll_no"
    SUBJECT_CODE = "subject_code"
    MARK = "mark"
    TOTAL = "total"

    @classmethod
    def parse(cls, value: str) -> "FieldKind | str":
        """Known kinds become enum members; other kinds stay plain strings."""
        try:
            return cls(value)
        except ValueError:
            return value


def parse_number(text: str) -> Optional[float]:
    """``"7.5"`` -> 7.5; None for anything that is not a plain decimal number."""
    if not text or text.count(".") > 1 or text.startswith(".") or text.endswith("."):
        return None
    if not all(c.isdigit() or c == "." for c in text):
        return None
    return float(text)


def sum_of_marks(marks: Sequence[str]) -> Optional[float]:
    """The sum of mark texts (an empty mark counts as 0); None when one is not a number."""
    values = [parse_number(m) if m else 0.0 for m in marks]
    return None if any(v is None for v in values) else math.fsum(v or 0.0 for v in values)


def marks_add_up(marks: Sequence[str], totals: Sequence[str]) -> bool:
    """True when there are marks and a total and every total equals the sum of the marks
    (empty marks count as 0; any unreadable value: False)."""
    s = sum_of_marks(marks) if marks and totals else None
    if s is None:
        return False
    written = [parse_number(t) for t in totals]
    return all(t is not None and abs(t - s) <= 1e-6 for t in written)


class SheetStatus(str, enum.Enum):
    AUTO = "auto"
    NEEDS_REVIEW = "needs_review"
    VERIFIED = "verified"
    FAILED = "failed"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a template (``marksocr.template/1``)."""

    name: str
    kind: "FieldKind | str"
    box: FractionBox
    cells: Optional[int] = None
    max: Optional[float] = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Unknown keys of the template's field object, kept for round-tripping."""

    @property
    def is_numeric_mark(self) -> bool:
        return self.kind in (FieldKind.MARK, FieldKind.TOTAL)


@dataclass(frozen=True)
class Template:
    """A loaded, validated sheet template."""

    name: str
    fields: tuple[FieldSpec, ...]
    reference_image: Optional[Path] = None
    """Absolute path of the blank-sheet image, when the template has one."""
    path: Optional[Path] = None
    """The JSON file this template was loaded from (None when built in code)."""
    markers: Optional[Mapping[str, Any]] = None
    """Fiducial marker layout for sheets printed by ``marksocr template new``."""
    page_size: Optional[tuple[int, int]] = None
    """``(width, height)`` in pixels of the reference page, when known."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The JSON object as loaded (unknown keys included)."""

    @property
    def mark_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.kind == FieldKind.MARK)

    def field_named(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class DigitReading:
    """One character read in a field: a digit ``0``-``9`` or a decimal point ``.``."""

    label: str
    confidence: float
    """Calibrated probability of ``label`` (0..1)."""
    box: PixelBox
    """Where the character is, in pixels of the field crop."""
    alternatives: tuple[tuple[str, float], ...] = ()
    """Top alternatives, best first, ``label`` included: ``(("7", .91), ("1", .06), ...)``."""
    crop: Optional[GrayImage] = field(default=None, repr=False, compare=False)
    """The digit as cut from the field, dark ink on light paper."""


@dataclass(frozen=True)
class FieldReading:
    """What was read in one field of one sheet."""

    name: str
    kind: "FieldKind | str"
    text: str
    """Digits (and ``.``) as read; ``""`` when the field is empty or unreadable."""
    confidence: float
    """Lowest digit confidence in the field (1.0 for a confidently empty field)."""
    digits: tuple[DigitReading, ...] = ()
    box: Optional[PixelBox] = None
    """Where the field is, in pixels of the registered page."""
    crop: Optional[GrayImage] = field(default=None, repr=False, compare=False)
    """The field as cut from the registered page (grayscale)."""
    suggestion: Optional[str] = None
    """A better reading proposed by sum-consistent decoding, if any."""
    reasons: tuple[str, ...] = ()
    """Why this field is doubtful (human-readable), empty when it is fine."""

    @property
    def value(self) -> Optional[float]:
        """The reading as a number, or None when empty or not a number."""
        try:
            return float(self.text) if self.text else None
        except ValueError:
            return None

    @property
    def is_empty(self) -> bool:
        return self.text == ""


@dataclass(frozen=True)
class SheetReading:
    """Everything read from one sheet (one image, or one page of a PDF)."""

    source: str
    """Path of the image or PDF file."""
    page: Optional[int]
    """1-based PDF page number, None for plain images."""
    sha256: str
    """Checksum of the file's bytes (plus ``#page`` for PDF pages)."""
    template_name: str
    status: SheetStatus
    reasons: tuple[str, ...] = ()
    """Why the sheet needs review or failed, human-readable."""
    registration_quality: float = 0.0
    """0..1: how well the photo was aligned to the template (1 = perfect)."""
    fields: tuple[FieldReading, ...] = ()
    model_version: str = ""
    page_image: Optional[GrayImage] = field(default=None, repr=False, compare=False)
    """The registered (aligned) page, for display and evidence."""
    blur: Optional[float] = None
    """How blurred the registered page is (Gaussian sigma in its pixels, measured on the printed
    layout); None when not measured. Not stored: when it sends the sheet to review, its reason is."""
    seconds: float = 0.0
    """Time spent reading this sheet."""

    @property
    def sheet_label(self) -> str:
        """The ``sheet`` column of the marks CSV: file name, ``#page`` for PDF pages."""
        name = Path(self.source).name
        return f"{name}#{self.page}" if self.page is not None else name

    def get_field(self, name: str) -> FieldReading:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


class MarksocrError(Exception):
    """Base class for errors a user should see as a clear message (no traceback)."""


class InputError(MarksocrError):
    """A file could not be read: corrupt, not an image, too large, unsupported..."""


class TemplateError(MarksocrError):
    """A template file is missing, malformed, or inconsistent."""


class ModelError(MarksocrError):
    """A model file or its card is missing, corrupt or does not match."""


class DataError(MarksocrError):
    """Training or evaluation data is missing or malformed."""


class StorageError(MarksocrError):
    """The database cannot be opened, is locked, read-only, full or corrupt."""
