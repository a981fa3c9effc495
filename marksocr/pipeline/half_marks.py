"""Marks are whole or half (interfaces.md: "a decimal point for half marks", ``7.5``).

Rules applied to each reading of a mark or total field (``reader._field_readings``):

* the one digit after a decimal point is a 5 or a 0 (``9.9`` is ``9.5``);
* a point before any other digit is a speck (``1.4`` is ``14``), and so is a point anywhere but
  before the last digit (``53.`` is ``53``; ``4.45`` is ``445``, above the maximum, so ``44.5``);
* a mark above its maximum lost its point (``85`` with a maximum of 10 is ``8.5``, ``76`` is
  ``7.5``: the digit after the lost point is a 5 or 0 like any other), unless a digit nearly read
  otherwise makes a valid mark that is likelier (``72`` is ``12`` when the 7 was nearly a 1);
* a ``.0`` or a valid ``15`` also offer the other reading to the sum check.

A changed character is never more confident than the classifier was (0.5 where it is a guess),
so such a sheet goes to review.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Optional

import numpy as np

from marksocr.domain import DigitReading
from marksocr.pipeline.glyphs import text_of

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


def mark_readings(digits: list[DigitReading], valid: Optional[Callable[[str], bool]],
                  field_image: np.ndarray) -> list[tuple[list[DigitReading], float]]:
    """A mark's reading under the half-mark rules, then what else it may be, each with a log score
    relative to the first. ``valid``: the field's test of a text (within its maximum), if any;
    ``field_image``: the cleaned field crop (evidence for a point read where the photo lost it)."""
    return _point_readings(_half_mark(digits), valid, field_image)


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
        return _misplaced_point(digits, valid, field_image)
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


def _misplaced_point(digits: list[DigitReading], valid: Optional[Callable[[str], bool]],
                     field_image: np.ndarray) -> list[tuple[list[DigitReading], float]]:
    """A lone point that is not before the last digit makes no mark (``4.45``, ``53.``): it is a
    speck, left out with its neighbours at most :data:`DROPPED_POINT_CONFIDENCE` sure; and where
    the number is then above the maximum, the real point was lost (``445`` is ``44.5``)."""
    labels = [d.label for d in digits]
    if labels.count(".") != 1 or len(labels) < 2:
        return [(digits, 0.0)]
    k = labels.index(".")
    trailing = k == len(labels) - 1  # nothing after it: never a half
    if not trailing and (valid is None or valid(text_of(digits))):
        return [(digits, 0.0)]
    near = {k - 1, k + 1}
    without = [replace(d, confidence=min(d.confidence, DROPPED_POINT_CONFIDENCE)) if i in near else d
               for i, d in enumerate(digits) if i != k]
    reading = _lost_point(without, valid, field_image)[0][0]
    return [(reading, 0.0)] if trailing or valid(text_of(reading)) else [(digits, 0.0)]


def _lost_point(digits: list[DigitReading], valid: Optional[Callable[[str], bool]],
                field_image: np.ndarray) -> list[tuple[list[DigitReading], float]]:
    """A mark whose decimal point the photo lost (``85`` for ``8.5``): when the reading is no valid
    mark (above the maximum) and the half is, the half is read, its point at
    :data:`LOST_POINT_CONFIDENCE` and its last digit a 5 or 0 (:func:`_half_mark`: ``76`` above a
    maximum of 10 is ``7.5``, a hasty 5 read as 6), unless one digit read otherwise (one of its
    alternatives) makes a valid mark that the classifier finds likelier (:func:`_misread_digit`:
    ``72`` is ``12`` when the 7 was nearly a 1, rather than ``7.5`` with a sure 2 taken for a 5).
    When both are valid and the mark ends in 5, the half is offered to the sum check at
    :data:`LOST_POINT_PRIOR`. The point's box and crop are where it should be: at the foot of the
    gap before the last digit, in ``field_image`` (the cleaned field crop)."""
    if valid is None or len(digits) < 2:
        return [(digits, 0.0)]
    whole_valid = valid(text_of(digits))
    if whole_valid and digits[-1].label != "5":
        return [(digits, 0.0)]
    point = _missing_point(digits[-2], digits[-1], field_image)
    half = _half_mark(digits[:-1] + [point, digits[-1]], force=True)
    if not valid(text_of(half)):
        return [(digits, 0.0)]
    if whole_valid:
        return [(digits, 0.0), (half, math.log(LOST_POINT_PRIOR))]
    last = digits[-1]
    half_odds = LOST_POINT_ODDS * _probability(last, half[-1].label) / max(last.confidence, 1e-6)
    if half[-1].label == "0":
        half_odds *= ZERO_HALF_ODDS
    misread = _misread_digit(digits, valid)
    if misread is None:
        return [(half, 0.0)]
    other, odds = misread
    if odds <= half_odds:
        return [(half, 0.0), (other, math.log(max(odds, 1e-300) / max(half_odds, 1e-300)))]
    share = odds / (odds + half_odds)
    other = [replace(d, confidence=min(d.confidence, share)) if d is not o else d for d, o in zip(other, digits)]
    return [(other, 0.0), (half, math.log(max(half_odds, 1e-300) / odds))]


LOST_POINT_ODDS = 0.5
"""Odds, before the digits' own evidence, that a mark above its maximum is a half whose point
was lost rather than a misread digit (``85``: ``8.5`` or ``35``?); the classifier's probabilities
of each decide (see :func:`_lost_point`)."""
ZERO_HALF_ODDS = 0.2
"""A lost point before a ``0`` (``7.0`` for ``70``) is rarer still: half marks are written ``.5``."""
MISREAD_MIN_PROBABILITY = 0.01
"""Least probability of a digit's alternative for :func:`_misread_digit` to consider it."""


def _probability(d: DigitReading, label: str) -> float:
    """The classifier's probability of ``label`` for digit ``d`` (0 when not among its alternatives)."""
    return next((p for lab, p in d.alternatives if lab == label), 0.0)


def _misread_digit(digits: list[DigitReading], valid: Callable[[str], bool]) -> Optional[tuple[list[DigitReading], float]]:
    """The likeliest valid mark with one digit read as one of its alternatives instead, and its odds
    against the reading (the alternative's probability over the digit's); None when no single
    change makes a valid mark. The changed digit keeps the classifier's probability of its new
    label as its confidence."""
    best: Optional[tuple[list[DigitReading], float]] = None
    for i, d in enumerate(digits):
        if d.label == ".":
            continue
        for label, p in d.alternatives:
            if label == d.label or p < MISREAD_MIN_PROBABILITY:
                continue
            other = list(digits)
            alternatives = ((label, p),) + tuple(a for a in d.alternatives if a[0] != label)
            other[i] = replace(d, label=label, confidence=p, alternatives=alternatives)
            odds = p / max(d.confidence, 1e-6)
            if valid(text_of(other)) and (best is None or odds > best[1]):
                best = (other, odds)
    return best


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
