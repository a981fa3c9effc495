"""``read_sheet``: one photo of a sheet -> a :class:`SheetReading` with a verdict.

registration -> field cleaning -> digit segmentation -> one batched ``predict_proba`` call for
every digit of the sheet -> field readings (where the marks and total disagree, another
segmentation of one or two of them that makes them agree) -> checks -> sum-consistent decoding
-> verdict.

Verdict: ``auto`` only when the registration is good, every character's confidence is at or
above the threshold (lowered by ``SUM_CHECK_RELIEF`` for mark/total digits, which the sum check
protects) and every check passes; otherwise ``needs_review`` with the reasons;
``failed`` when the page could not be registered at all.

Confidence conventions: a digit's confidence is the classifier's calibrated probability of its
label; a decimal point's is the segmenter's point-likeness score; a field's is the lowest of its
characters; an empty field's is the segmenter's confidence that nothing was written (1.0 with no
ink at all, lower when ink was discarded as noise).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any, Optional

import cv2
import numpy as np

from marksocr.domain import DigitReading, FieldKind, FieldReading, FieldSpec, SheetReading, SheetStatus, Template
from marksocr.imaging.fields import FieldImages, clean_field
from marksocr.imaging.register import DEFAULT_PAGE_WIDTH, RegistrationResult, reference_page, register_page
from marksocr.imaging.segment import Segmentation, segment_field
from marksocr.pipeline.checks import check_sheet, expected_digits, parse_number
from marksocr.pipeline.decoding import decode_marks, decode_roster, segmentation_for_sum
from marksocr.pipeline.glyphs import glyph_crops, read_alternatives, stroke_readings, text_of
from marksocr import settings

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = settings.DEFAULT_THRESHOLD  # one source for CLI, GUI and reader
"""Lowest per-character confidence for ``auto`` (mark/total digits: this minus
``SUM_CHECK_RELIEF``). Chosen on tuning sheets, see ``settings.DEFAULT_THRESHOLD``: roll numbers
and subject codes, which nothing checks without a roster, are where confident misreads happen
(ambiguous MNIST 6/4 and 9/7). Safety first: lower it only with a roster or new measurements."""

SUM_CHECK_RELIEF = 0.25
"""How much lower the threshold is for mark/total digits when the template has a total: a
misread mark or total almost always breaks "total = sum of marks", so those digits are
protected by the check, while roll numbers and subject codes are not (see the separate
id/marks sweep in benchmarks/RESULTS-sheets.md)."""

GOOD_REGISTRATION = 0.6
"""Registration quality needed for ``auto`` (below: the sheet is read but goes to review)."""

FIELD_SCALE_MAX = 2.0
"""Fields are cut at up to this many times the page resolution (2 x 1240 px = A4 at 300 dpi)."""

DROPPED_GLYPH_CONFIDENCE = 0.5
"""Field confidence when a segmented glyph was blank for the classifier and left out."""

SEGMENTATION_ALTERNATIVES = 4
"""Readings kept per free mark/total field (its own and other segmentations) for the sum."""

LOST_POINT_CONFIDENCE = 0.5
"""Confidence of a decimal point read where none was seen: ``85`` above a maximum of 10 is 8.5."""
LOST_POINT_PRIOR = 0.01
"""How likely a valid mark ending in 5 (``15``) is a half whose point was lost (``1.5``), for the sum."""

DROPPED_POINT_CONFIDENCE = 0.5
"""Confidence of the digit after a "decimal point" left out as a speck (see ``_point_readings``)."""

HALF_MARK_DIGITS = ("5", "0")
"""What may follow a decimal point in a mark or total (interfaces.md: half marks, ``7.5``)."""
HALF_MARK_MIN_PROBABILITY = 0.05
"""A digit after a point is taken as the likelier of 5 and 0 only when the classifier gives those
two at least this much together; else the point itself is in doubt (``_point_readings``)."""

DebugCallback = Callable[[str, np.ndarray], None]


@dataclass(frozen=True)
class ReadOptions:
    """How to read a sheet. ``roll_numbers`` / ``subject_codes``: known lists, if any."""

    threshold: float = DEFAULT_THRESHOLD
    roll_numbers: Optional[Collection[str]] = None
    subject_codes: Optional[Collection[str]] = None
    min_registration_quality: float = GOOD_REGISTRATION
    page_width: int = DEFAULT_PAGE_WIDTH
    sum_check_relief: float = SUM_CHECK_RELIEF
    """Mark/total digits need ``threshold - sum_check_relief`` when the sum can be checked."""

    def threshold_for(self, kind: "FieldKind | str", template: Template) -> float:
        """The confidence a character of a field of ``kind`` needs for ``auto``: lower where a
        check protects the field (marks/total by the sum, ids by a known list)."""
        summed = bool(template.mark_fields) and any(f.kind == FieldKind.TOTAL for f in template.fields)
        protected = ((summed and kind in (FieldKind.MARK, FieldKind.TOTAL))
                     or (kind == FieldKind.ROLL_NO and bool(self.roll_numbers))
                     or (kind == FieldKind.SUBJECT_CODE and bool(self.subject_codes)))
        return max(0.0, self.threshold - self.sum_check_relief) if protected else self.threshold


@dataclass
class _Field:
    spec: FieldSpec
    images: FieldImages
    seg: Segmentation
    first: int  # index of this field's first digit crop in the batch


def read_sheet(image: np.ndarray, template: Template, classifier: Any, *, source: str, page: Optional[int] = None,
               sha256: str = "", options: ReadOptions = ReadOptions(),
               on_debug: Optional[DebugCallback] = None) -> SheetReading:
    """Read one sheet image against ``template`` with ``classifier`` (see module docstring).

    Never raises for a bad photo: a page that cannot be registered comes back ``failed`` with
    the reasons. ``on_debug(name, image)`` receives intermediate images when given.
    """
    t0 = time.perf_counter()
    base = dict(source=source, page=page, sha256=sha256, template_name=template.name,
                model_version=str(getattr(classifier, "version", "")))
    try:
        reg = register_page(image, template, page_width=options.page_width)
    except (cv2.error, ValueError) as exc:
        log.exception("registration crashed on %s", source)
        reg = RegistrationResult(False, "none", 0.0, reason=f"image could not be processed: {exc}")
    if not reg.ok or reg.page is None:
        return SheetReading(status=SheetStatus.FAILED, reasons=(reg.reason or "could not register the sheet",),
                            registration_quality=reg.quality, seconds=time.perf_counter() - t0, **base)
    _emit(on_debug, "registered", reg.page)
    try:
        fields = _read_fields(reg, template, classifier, on_debug)
    except (cv2.error, ValueError, IndexError) as exc:
        log.exception("reading fields crashed on %s", source)
        return SheetReading(status=SheetStatus.FAILED, reasons=(f"fields could not be read: {exc}",),
                            registration_quality=reg.quality, page_image=reg.page,
                            seconds=time.perf_counter() - t0, **base)
    fields, status, reasons = judge(template, fields, reg, options)
    return SheetReading(status=status, reasons=tuple(reasons), registration_quality=round(reg.quality, 4),
                        fields=tuple(fields), page_image=reg.page, seconds=time.perf_counter() - t0, **base)


def _emit(cb: Optional[DebugCallback], name: str, img: np.ndarray) -> None:
    if cb is not None:
        cb(name, img)


def _read_fields(reg: RegistrationResult, template: Template, classifier: Any,
                 on_debug: Optional[DebugCallback]) -> list[FieldReading]:
    ref = reference_page(template)
    work: list[_Field] = []
    crops: list[np.ndarray] = []
    for spec in template.fields:
        images = clean_field(reg.page, spec, reference=ref, photo=reg.photo, homography=reg.homography,
                             scale=_field_scale(reg))
        allow_point = spec.is_numeric_mark and not spec.cells
        seg = segment_field(images.clean, images.cleaned, images.inner, cells=images.cells, allow_point=allow_point,
                            expected=expected_digits(spec))
        work.append(_Field(spec, images, seg, len(crops)))
        crops += glyph_crops(seg.glyphs)
        for name, img in {**images.debug, **seg.debug}.items():
            _emit(on_debug, f"{spec.name}/{name}", img)
    probs = np.asarray(classifier.predict_proba(crops)) if crops else np.zeros((0, 10))
    return segmentation_for_sum(template, [_field_readings(w, probs, template) for w in work])


def _field_scale(reg: RegistrationResult) -> float:
    """Cut fields at the photo's own resolution (capped at 2x the page): thin strokes survive."""
    if reg.photo is None or reg.homography is None:
        return 1.0
    w, h = reg.page_size
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    quad = cv2.perspectiveTransform(corners, np.linalg.inv(reg.homography)).reshape(-1, 2)
    photo_width = 0.5 * (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3]))
    return float(np.clip(photo_width / w, 1.0, FIELD_SCALE_MAX))


def _validator(spec: FieldSpec, template: Template) -> Optional[Callable[[str], bool]]:
    """What a plausible reading of a mark/total looks like: a number within its maximum (a total
    within the sum of the maxima). None when nothing is known, or when the field has an expected
    digit count (that is enforced over all its glyphs together, not per cut)."""
    if expected_digits(spec):  # the digit count is enforced by ``decide_glyphs`` over all glyphs together
        return None
    top = spec.max
    if spec.kind == FieldKind.TOTAL:
        maxima = [f.max for f in template.mark_fields]
        top = sum(maxima) if maxima and all(m is not None for m in maxima) else None
    if top is None:
        return None

    def valid(text: str) -> bool:
        value = parse_number(text)
        # a cut giving a second decimal (8.35 from a wide 5) or a leading zero is no plausible mark
        leading_zero = len(text) > 1 and text[0] == "0" and text[1] != "."
        return (value is not None and value <= top + 1e-9 and len(text.partition(".")[2]) <= 1
                and not leading_zero)

    return valid


def _field_readings(w: _Field, probs: np.ndarray, template: Template) -> list[tuple[FieldReading, float]]:
    """The field's reading, and for a free mark/total field a few other segmentations of it
    (with log scores relative to the reading) for :func:`segmentation_for_sum`."""
    want = expected_digits(w.spec)
    count = (want, want) if want else None
    if count is None and w.spec.is_numeric_mark and w.spec.max is not None:
        has_point = any(g.kind == "point" for g in w.seg.glyphs)
        count = (1, len(str(int(w.spec.max))) + (1 if has_point else 0))
    limit = SEGMENTATION_ALTERNATIVES if w.spec.kind in (FieldKind.MARK, FieldKind.TOTAL) and not w.spec.cells else 1
    alts = read_alternatives(w.seg.glyphs, probs, w.first, count, valid=_validator(w.spec, template), limit=limit)
    if limit > 1:  # a 1 across the next digit: offered to the sum check only
        valid = _validator(w.spec, template)
        alts += [(d, gain) for d, gain in stroke_readings(w.seg.glyphs, probs, w.first, alts[0][0])
                 if valid is None or valid(text_of(d))]
    n_glyphs = sum(1 for g in w.seg.glyphs if g.kind == "digit")
    if w.spec.kind in (FieldKind.MARK, FieldKind.TOTAL):
        valid = _validator(w.spec, template)
        alts = [(d, gain + extra) for digits, gain in alts for d, extra in _point_readings(_half_mark(digits), valid, w.images.cleaned)]
        alts = [a for i, a in enumerate(alts) if text_of(a[0]) not in {text_of(b[0]) for b in alts[:i]}]
    out = []
    for digits, gain in alts:
        conf = min((d.confidence for d in digits), default=w.seg.empty_confidence)
        if sum(1 for d in digits if d.label != ".") < n_glyphs and not any(g.splits for g in w.seg.glyphs):
            conf = min(conf, DROPPED_GLYPH_CONFIDENCE)  # ink the classifier calls blank: look again
        text = "".join(d.label for d in digits)
        out.append((FieldReading(w.spec.name, w.spec.kind, text, float(conf), tuple(digits), box=w.images.box,
                                 crop=w.images.gray), gain))
    return out


def _half_mark(digits: list[DigitReading], force: bool = False) -> list[DigitReading]:
    """Marks are whole or half (``7.5``): the one digit after a decimal point is a 5 or a 0. Where
    the classifier's top answer there is another digit (a hasty 5 read as 9 or 3), the likelier of
    5 and 0 among its alternatives is taken, with a confidence no higher than the classifier's own
    top answer had (the reading changes, the trust does not grow). ``force``: the point is sure (the
    mark is invalid without it), so a 5 or 0 is taken even where the classifier barely offers one,
    at most :data:`DROPPED_POINT_CONFIDENCE` sure."""
    labels = [d.label for d in digits]
    if labels.count(".") != 1 or labels.index(".") != len(labels) - 2 or labels[-1] in HALF_MARK_DIGITS:
        return digits
    frac = digits[-1]
    allowed = [(lab, p) for lab, p in frac.alternatives if lab in HALF_MARK_DIGITS]
    mass = sum(p for _, p in allowed)
    if mass < HALF_MARK_MIN_PROBABILITY and not force:  # no half at all: the point is in doubt
        return digits
    if mass < HALF_MARK_MIN_PROBABILITY:  # forced, with no real evidence either way: a half (.0 is rare)
        label, conf = "5", min(frac.confidence, DROPPED_POINT_CONFIDENCE)
    else:
        label, p = max(allowed, key=lambda a: a[1])
        conf = min(frac.confidence, p / mass)
    alternatives = ((label, conf),) + tuple(a for a in frac.alternatives if a[0] != label)
    return digits[:-1] + [replace(frac, label=label, confidence=conf, alternatives=alternatives)]


def _point_readings(digits: list[DigitReading], valid: Optional[Callable[[str], bool]],
                    field_image: np.ndarray) -> list[tuple[list[DigitReading], float]]:
    """A reading with a decimal point, and what else it may be (with a log score relative to it).

    After :func:`_half_mark`, a digit other than 5 or 0 after the point makes no mark: the "point"
    is a speck (a ``14`` with a dot, read ``1.4``), so the point is left out and that digit gets
    at most :data:`DROPPED_POINT_CONFIDENCE`. A ``.0`` is a mark, but a rare one beside a ``10``
    with a speck: the reading without the point is offered to the sum check, as likely as the
    point is unlikely."""
    labels = [d.label for d in digits]
    if "." not in labels:
        return _lost_point(digits, valid, field_image)
    if labels.count(".") != 1 or labels.index(".") != len(labels) - 2:
        return [(digits, 0.0)]
    point, frac = digits[-2], digits[-1]
    without = digits[:-2] + [replace(frac, confidence=min(frac.confidence, DROPPED_POINT_CONFIDENCE))]
    if valid is not None and not valid(text_of(without)):  # the point is needed: the digit after it is a half
        return [(_half_mark(digits, force=True), 0.0)]
    if frac.label not in HALF_MARK_DIGITS:
        return [(without, 0.0)]
    if frac.label == "0":
        pc = min(max(point.confidence, 1e-6), 1 - 1e-6)
        return [(digits, 0.0), (without, math.log((1 - pc) / pc))]
    return [(digits, 0.0)]


def _lost_point(digits: list[DigitReading], valid: Optional[Callable[[str], bool]],
                field_image: np.ndarray) -> list[tuple[list[DigitReading], float]]:
    """A mark ending in 5 whose decimal point the photo lost (``85`` for ``8.5``): when the reading
    is no valid mark (above the maximum) and the half is, the half is read, its point at
    :data:`LOST_POINT_CONFIDENCE`; when both are valid, the half is offered to the sum check at
    :data:`LOST_POINT_PRIOR`. The point's box and crop are where it should be: at the foot of the
    gap before the last digit, in ``field_image`` (the cleaned field crop)."""
    if valid is None or len(digits) < 2 or digits[-1].label != "5":
        return [(digits, 0.0)]
    point = _missing_point(digits[-2], digits[-1], field_image)
    half = digits[:-1] + [point, digits[-1]]
    if not valid(text_of(half)):
        return [(digits, 0.0)]
    if not valid(text_of(digits)):
        return [(half, 0.0)]
    return [(digits, 0.0), (half, math.log(LOST_POINT_PRIOR))]


def _missing_point(before: DigitReading, after: DigitReading, field_image: np.ndarray) -> DigitReading:
    """A point read where none was seen, between ``before`` and ``after`` near their baseline."""
    bx, by, bw, bh = before.box
    ax, ay, aw, ah = after.box
    x0, x1 = bx + bw, ax
    if x1 - x0 < 6:  # touching or overlapping digits: a small window on their boundary
        x0, x1 = (x0 + x1) // 2 - 3, (x0 + x1) // 2 + 3
    bottom = max(by + bh, ay + ah)
    y0 = bottom - max(6, (bottom - min(by, ay)) // 3)
    x0, y0 = max(0, x0), max(0, y0)
    crop = np.ascontiguousarray(field_image[y0:bottom, x0:max(x0 + 1, x1)])
    if crop.size == 0:
        crop = np.full((6, 6), 255, np.uint8)
    box = (int(x0), int(y0), int(crop.shape[1]), int(crop.shape[0]))
    return DigitReading(".", LOST_POINT_CONFIDENCE, box, ((".", LOST_POINT_CONFIDENCE), ("", 1 - LOST_POINT_CONFIDENCE)), crop)


def judge(template: Template, fields: list[FieldReading], reg: RegistrationResult,
          options: ReadOptions) -> tuple[list[FieldReading], SheetStatus, list[str]]:
    """Checks, decoding and the verdict: returns fields with reasons/suggestions, status, reasons."""
    texts = {f.name: f.text for f in fields}
    issues = check_sheet(template, texts, roll_numbers=options.roll_numbers, subject_codes=options.subject_codes)
    field_reasons: dict[str, list[str]] = {f.name: [] for f in fields}
    sheet_reasons: list[str] = []
    if reg.quality < options.min_registration_quality:
        sheet_reasons.append(f"poor registration (quality {reg.quality:.2f}, {reg.method})" + (f": {reg.reason}" if reg.reason else ""))
    for f in fields:
        t = options.threshold_for(f.kind, template)
        low = [d for d in f.digits if d.confidence < t]
        for d in low:
            alts = " or ".join(a if a else "nothing" for a, _ in d.alternatives[:2])
            shown = f"{d.confidence:.2f}" if d.confidence < 0.99 else f"{d.confidence:.4f}"  # 0.9967 is not "1.00"
            field_reasons[f.name].append(f"{f.name}: unsure character ({shown}: {alts})")
        if not f.digits and f.confidence < t:
            field_reasons[f.name].append(f"{f.name}: looks empty but has stray marks ({f.confidence:.2f})")
        elif f.digits and not low and f.confidence < t:
            field_reasons[f.name].append(f"{f.name}: stray marks left out ({f.confidence:.2f})")
    for issue in issues:
        for name in issue.fields[-1:] if issue.kind == "sum" else issue.fields:
            field_reasons.setdefault(name, []).append(issue.message)
        sheet_reasons.append(issue.message)
    sheet_reasons += [r for f in fields for r in field_reasons[f.name] if "unsure" in r or "stray" in r]
    suggestions = _suggest(template, fields, issues, options)
    out = [_with(f, field_reasons.get(f.name, []), suggestions.get(f.name)) for f in fields]
    status = SheetStatus.NEEDS_REVIEW if sheet_reasons else SheetStatus.AUTO
    if suggestions:
        sheet_reasons.append("suggested: " + ", ".join(f"{k} = {v or 'empty'}" for k, v in suggestions.items()))
    return out, status, _dedupe(sheet_reasons)


def _suggest(template: Template, fields: list[FieldReading], issues, options: ReadOptions) -> dict[str, str]:
    out: dict[str, str] = {}
    if any(i.kind in ("sum", "max", "number", "count") for i in issues):
        dec = decode_marks(template, fields)
        if dec is not None:
            out.update(dec.texts)
    for f in fields:
        known = options.roll_numbers if f.kind == FieldKind.ROLL_NO else options.subject_codes if f.kind == FieldKind.SUBJECT_CODE else None
        if known:
            s = decode_roster(f, known)
            if s is not None:
                out[f.name] = s
    return out


def _with(f: FieldReading, reasons: list[str], suggestion: Optional[str]) -> FieldReading:
    return replace(f, reasons=tuple(_dedupe(reasons)), suggestion=suggestion)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
