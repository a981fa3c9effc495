"""``read_sheet``: one photo of a sheet -> a :class:`SheetReading` with a verdict.

registration -> field cleaning -> digit segmentation -> one batched ``predict_proba`` call for
every digit of the sheet -> field readings (where the marks and total disagree, another
segmentation of one or two of them that makes them agree) -> checks -> sum-consistent decoding
-> verdict.

Verdict: ``auto`` only when the registration is good, the page is not too blurred
(``MAX_BLUR``), every character's confidence is at or above the threshold and every check
passes; otherwise ``needs_review`` with the reasons; ``failed`` when the page could not be
registered at all. Mark/total digits, which the sum check protects, need less: the
threshold minus ``SUM_CHECK_RELIEF``; or only ``SUM_VERIFIED_FLOOR``
when the marks and total add up and the probability that they are right *given that they add
up* (:func:`~marksocr.pipeline.decoding.sum_posterior`) reaches the threshold: a doubtful 7
against a 1 is settled by a total that only the 7 makes. Roll-number and subject-code digits
likewise need only ``SUM_VERIFIED_FLOOR`` when the id is in its known list and the probability
that it is the one read, given that it is in the list
(:func:`~marksocr.pipeline.decoding.roster_posterior`), reaches the threshold.

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

from marksocr.domain import FieldKind, FieldReading, FieldSpec, SheetReading, SheetStatus, Template, parse_number
from marksocr.imaging.fields import FieldImages, clean_field
from marksocr.imaging.register import DEFAULT_PAGE_WIDTH, RegistrationResult, reference_page, register_page
from marksocr.imaging.segment import Segmentation, segment_field
from marksocr.imaging.sharpness import layout_probe, page_blur
from marksocr.pipeline.checks import check_sheet, expected_digits
from marksocr.pipeline.decoding import decode_marks, decode_roster, roster_posterior, segmentation_for_sum, sum_posterior
from marksocr.pipeline.glyphs import glyph_crops, read_alternatives, stroke_readings, sum_split_crops, text_of
from marksocr.pipeline.half_marks import mark_readings
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

SUM_VERIFIED_FLOOR = 0.5
"""Lowest confidence a mark/total digit needs when the sum confirms the marks and total: the
probability that they are right, given that they add up (``sum_posterior``), is at least the
threshold. Below the floor a digit is too doubtful to be settled by the sum alone."""

GOOD_REGISTRATION = 0.6
"""Registration quality needed for ``auto`` (below: the sheet is read but goes to review)."""

MAX_BLUR = 2.5
"""Most blur (:func:`~marksocr.imaging.sharpness.page_blur`: Gaussian sigma in pixels of the
registered page, 1240 across; camera shake as the Gaussian that reads as badly) a sheet may have
and still be ``auto``; above it the sheet goes to review with a "retake it" reason. On the tuning
sheets (seed 1000, 900 sheets) fields read 96-98 % right up to 2.0, 94 % at 2.5 and 55-82 % from
3.0 on, where no sheet was ``auto`` anyway: the reason tells the operator why so much is
doubtful, and that a sharper photo is the fix."""

FIELD_SCALE_MAX = 2.0
"""Fields are cut at up to this many times the page resolution (2 x 1240 px = A4 at 300 dpi)."""

DROPPED_GLYPH_CONFIDENCE = 0.5
"""Field confidence when a segmented glyph was blank for the classifier and left out."""

SEGMENTATION_ALTERNATIVES = 4
"""Readings kept per free mark/total field (its own and other segmentations) for the sum."""

DebugCallback = Callable[[str, np.ndarray], None]


@dataclass(frozen=True)
class ReadOptions:
    """How to read a sheet. ``roll_numbers`` / ``subject_codes``: known lists, if any."""

    threshold: float = DEFAULT_THRESHOLD
    roll_numbers: Optional[Collection[str]] = None
    subject_codes: Optional[Collection[str]] = None
    min_registration_quality: float = GOOD_REGISTRATION
    max_blur: float = MAX_BLUR
    """Above this page blur (see ``MAX_BLUR``) the sheet goes to review."""
    page_width: int = DEFAULT_PAGE_WIDTH
    sum_check_relief: float = SUM_CHECK_RELIEF
    """Mark/total digits need ``threshold - sum_check_relief`` when the sum can be checked."""
    sum_verified_floor: float = SUM_VERIFIED_FLOOR
    """... and only this much when the marks and total add up with a posterior of at least
    ``threshold`` (:func:`~marksocr.pipeline.decoding.sum_posterior`); likewise the digits of a
    roll number or subject code in its known list with a
    :func:`~marksocr.pipeline.decoding.roster_posterior` of at least ``threshold``."""

    def threshold_for(self, kind: "FieldKind | str", template: Template) -> float:
        """The confidence a character of a field of ``kind`` needs for ``auto``: lower for
        marks/total when the sum checks them. (An id in a known list is judged by its
        :func:`~marksocr.pipeline.decoding.roster_posterior` instead: a flat relief would let a
        misread last digit of a sequential roll number through.)"""
        summed = bool(template.mark_fields) and any(f.kind == FieldKind.TOTAL for f in template.fields)
        protected = summed and kind in (FieldKind.MARK, FieldKind.TOTAL)
        return max(0.0, self.threshold - self.sum_check_relief) if protected else self.threshold

    def too_blurred(self, blur: Optional[float]) -> bool:
        """Whether a page of this blur (``SheetReading.blur``; None: not measured) goes to review for it."""
        return blur is not None and blur > self.max_blur

    def known_for(self, kind: "FieldKind | str") -> Optional[Collection[str]]:
        """The known list for a field of ``kind``, if any (roll numbers, subject codes)."""
        return (self.roll_numbers if kind == FieldKind.ROLL_NO
                else self.subject_codes if kind == FieldKind.SUBJECT_CODE else None) or None


@dataclass
class _Field:
    spec: FieldSpec
    images: FieldImages
    seg: Segmentation
    first: int  # index of this field's first digit crop in the batch
    sum_first: int = 0  # index of its first sum-only cut part (after every field's own crops)


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
    probe = layout_probe(template, (reg.page.shape[1], reg.page.shape[0]))
    blur = page_blur(reg.page, probe) if probe is not None else None
    reg.details["blur"] = blur
    try:
        fields = _read_fields(reg, template, classifier, on_debug)
    except (cv2.error, ValueError, IndexError) as exc:
        log.exception("reading fields crashed on %s", source)
        return SheetReading(status=SheetStatus.FAILED, reasons=(f"fields could not be read: {exc}",),
                            registration_quality=reg.quality, page_image=reg.page,
                            seconds=time.perf_counter() - t0, **base)
    fields, status, reasons = judge(template, fields, reg, options)
    return SheetReading(status=status, reasons=tuple(reasons), registration_quality=round(reg.quality, 4),
                        fields=tuple(fields), page_image=reg.page, blur=blur, seconds=time.perf_counter() - t0,
                        **base)


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
        free_mark = _free_mark(spec)  # may hold a decimal point; the sum check may re-segment it
        seg = segment_field(images.clean, images.cleaned, images.inner, cells=images.cells, allow_point=free_mark,
                            sum_checked=free_mark, expected=expected_digits(spec))
        work.append(_Field(spec, images, seg, len(crops)))
        crops += glyph_crops(seg.glyphs)
        for name, img in {**images.debug, **seg.debug}.items():
            _emit(on_debug, f"{spec.name}/{name}", img)
    for w in work:  # cut parts for the sum check only: last, so the fields' own crops keep their order
        w.sum_first = len(crops)
        if _free_mark(w.spec):
            crops += sum_split_crops(w.seg.glyphs)
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
    """What a plausible reading of a mark/total looks like: a number with at most one decimal and
    no leading zero, within its maximum (a total within the sum of the maxima) when that is known
    (a template need not give maxima: ``0.57`` or ``01`` is no mark either way). None for other
    fields, or when the field has an expected digit count (that is enforced over all its glyphs
    together, not per cut)."""
    if expected_digits(spec) or not spec.is_numeric_mark:  # the digit count: ``decide_glyphs``, over all glyphs
        return None
    top = spec.max
    if spec.kind == FieldKind.TOTAL:
        maxima = [f.max for f in template.mark_fields]
        top = sum(maxima) if maxima and all(m is not None for m in maxima) else None
    if top is None:
        top = math.inf

    def valid(text: str) -> bool:
        value = parse_number(text)
        # a cut giving a second decimal (8.35 from a wide 5) or a leading zero is no plausible mark
        leading_zero = len(text) > 1 and text[0] == "0" and text[1] != "."
        return (value is not None and value <= top + 1e-9 and len(text.partition(".")[2]) <= 1
                and not leading_zero)

    return valid


def _free_mark(spec: FieldSpec) -> bool:
    """A mark or total written freely (not in a comb): the fields the sum check may re-segment."""
    return spec.kind in (FieldKind.MARK, FieldKind.TOTAL) and not spec.cells


def _field_readings(w: _Field, probs: np.ndarray, template: Template) -> list[tuple[FieldReading, float]]:
    """The field's reading, and for a free mark/total field a few other segmentations of it
    (with log scores relative to the reading) for :func:`segmentation_for_sum`."""
    want = expected_digits(w.spec)
    count = (want, want) if want else None
    if count is None and w.spec.is_numeric_mark and w.spec.cells:  # a comb: at most one digit a cell
        count = (1, int(w.spec.cells))
    elif count is None and w.spec.is_numeric_mark and w.spec.max is not None:
        has_point = any(g.kind == "point" for g in w.seg.glyphs)
        count = (1, len(str(int(w.spec.max))) + (1 if has_point else 0))
    valid = _validator(w.spec, template)
    free_mark = _free_mark(w.spec)
    alts = read_alternatives(w.seg.glyphs, probs, w.first, count, valid=valid,
                             limit=SEGMENTATION_ALTERNATIVES if free_mark else 1)
    if free_mark:  # a 1 across the next digit: offered to the sum check only
        alts += [(d, gain) for d, gain in stroke_readings(w.seg.glyphs, probs, w.first, w.sum_first, alts[0][0])
                 if valid is None or valid(text_of(d))]
    if w.spec.kind in (FieldKind.MARK, FieldKind.TOTAL):  # whole or half marks, points lost or specks
        alts = [(d, gain + extra) for digits, gain in alts for d, extra in mark_readings(digits, valid, w.images.cleaned)]
    n_glyphs = sum(1 for g in w.seg.glyphs if g.kind == "digit")
    out: list[tuple[FieldReading, float]] = []
    seen: set[str] = set()
    for digits, gain in alts:
        text = text_of(digits)
        if text in seen:
            continue
        seen.add(text)
        conf = min((d.confidence for d in digits), default=w.seg.empty_confidence)
        reasons: tuple[str, ...] = ()
        if sum(1 for d in digits if d.label != ".") < n_glyphs and not any(g.splits or g.lattices for g in w.seg.glyphs):
            conf = min(conf, DROPPED_GLYPH_CONFIDENCE)  # ink the classifier calls blank: look again
            if digits:  # (an all-blank field is judged as empty with stray marks)
                reasons = (f"{w.spec.name}: stray marks left out ({conf:.2f})",)
        out.append((FieldReading(w.spec.name, w.spec.kind, text, float(conf), tuple(digits), box=w.images.box,
                                 crop=w.images.gray, reasons=reasons), gain))
    return out


def judge(template: Template, fields: list[FieldReading], reg: RegistrationResult,
          options: ReadOptions) -> tuple[list[FieldReading], SheetStatus, list[str]]:
    """Checks, decoding and the verdict: returns fields with reasons/suggestions, status, reasons."""
    texts = {f.name: f.text for f in fields}
    issues = check_sheet(template, texts, roll_numbers=options.roll_numbers, subject_codes=options.subject_codes)
    field_reasons: dict[str, list[str]] = {f.name: list(f.reasons) for f in fields}  # e.g. stray marks left out
    sheet_reasons: list[str] = []
    if reg.quality < options.min_registration_quality:
        sheet_reasons.append(f"poor registration (quality {reg.quality:.2f}, {reg.method})" + (f": {reg.reason}" if reg.reason else ""))
    blur = reg.details.get("blur")
    if options.too_blurred(blur):
        sheet_reasons.append(f"photo too blurred to read reliably (blur {blur:.1f}, at most {options.max_blur:.1f} "
                             "expected): check every field, or retake it with the camera held still and in focus")
    sum_conf = sum_posterior(template, fields) if not issues else None
    verified = sum_conf is not None and sum_conf >= options.threshold
    for f in fields:
        t = options.threshold_for(f.kind, template)
        t_digit = min(t, options.sum_verified_floor) if verified and f.kind in (FieldKind.MARK, FieldKind.TOTAL) else t
        known = options.known_for(f.kind)
        if known:
            listed = roster_posterior(f, known)
            if listed is not None and listed >= options.threshold:
                t_digit = min(t, options.sum_verified_floor)
        low = [d for d in f.digits if d.confidence < t_digit]
        for d in low:
            alts = " or ".join(a if a else "nothing" for a, _ in d.alternatives[:2])
            shown = f"{d.confidence:.2f}" if d.confidence < 0.99 else f"{d.confidence:.4f}"  # 0.9967 is not "1.00"
            field_reasons[f.name].append(f"{f.name}: unsure character ({shown}: {alts})")
        if not f.digits and f.confidence < t:
            field_reasons[f.name].append(f"{f.name}: looks empty but has stray marks ({f.confidence:.2f})")
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
        known = options.known_for(f.kind)
        if known:
            s = decode_roster(f, known)
            if s is not None:
                out[f.name] = s
    return out


def _with(f: FieldReading, reasons: list[str], suggestion: Optional[str]) -> FieldReading:
    return replace(f, reasons=tuple(_dedupe(reasons)), suggestion=suggestion)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
