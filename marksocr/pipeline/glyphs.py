"""From segmented glyphs and classifier probabilities to characters (shared by both modes).

A wide glyph may be one digit or two touching ones: the segmenter offers cut alternatives,
every crop is classified in the one batch of the sheet, and :func:`decide_glyphs` picks per
glyph between "one digit" and its best cut with a posterior that becomes part of the
confidence, optionally steering the digit count into an expected range.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Optional

import numpy as np

from marksocr.domain import DigitReading
from marksocr.imaging.segment import Glyph, stroke_linearity

log = logging.getLogger(__name__)


BLANK_MAX_PROB = 0.11
"""The classifier answers a uniform row (0.1 each) for crops with no writing: such glyphs are
noise the segmenter kept, and are left out (the field keeps a low confidence, see reader)."""


def glyph_crops(glyphs: Sequence[Glyph]) -> list[np.ndarray]:
    """Crops to classify for ``glyphs``, in the order :func:`decide_glyphs` consumes them."""
    crops: list[np.ndarray] = []
    for g in glyphs:
        if g.kind == "digit":
            crops.append(g.crop)
            crops += [p.crop for alt in g.splits for p in alt]
    return crops


def _digit(label_probs: np.ndarray, box, crop, factor: float = 1.0) -> DigitReading:
    order = np.argsort(-label_probs)[:3]
    alts = tuple((str(int(i)), float(label_probs[i] * factor)) for i in order)
    return DigitReading(alts[0][0], alts[0][1], box, alts, crop)


def split_posterior(ratio: float, whole: float, parts: float) -> float:
    """Probability that a wide glyph is one digit rather than several touching ones.

    ``whole`` is the classifier's confidence in the glyph as one digit, ``parts`` the product of
    its parts' confidences. Digit classifiers are overconfident on pieces of digits, so the
    parts' evidence is squared (two parts at 0.9 count as 0.66), and the prior for "one digit"
    falls from 0.9 at width/height 1.2 to 0.3 at 2.0: wide single digits are common, touching
    digits less so.
    """
    prior = float(np.clip(0.9 - 0.6 * (ratio - 1.2) / (2.0 - 1.2), 0.3, 0.9))
    a, b = prior * whole, (1.0 - prior) * parts * parts
    return a / max(a + b, 1e-9)


ONE_MIN_LINEARITY = 5.0
"""A cut part read as ``1`` must be a fairly straight stroke; the arc of half a ``0`` or the
side of a wide ``4`` is not (the classifier is overconfident on such halves)."""


def _plausible_ones(parts: Sequence[Glyph], pp: np.ndarray) -> np.ndarray:
    out = pp.copy()
    for i, part in enumerate(parts):
        if int(np.argmax(out[i])) == 1 and stroke_linearity(part.crop) < ONE_MIN_LINEARITY:
            out[i] = out[i] * 0.2
    return out


def decide_glyphs(glyphs: Sequence[Glyph], probs: np.ndarray, first: int,
                  count: Optional[tuple[int, int]] = None,
                  valid: Optional[Callable[[str], bool]] = None) -> list[DigitReading]:
    """Characters read from ``glyphs`` whose crops start at row ``first`` of ``probs``.

    ``count`` = (lo, hi): the number of digits the field may hold, when known. ``valid``: a
    test of the field's text (e.g. a mark within its maximum); a cut whose reading makes the
    field invalid is no alternative at all and does not lower the whole digit's confidence.
    """
    raw = []  # (glyph, probs as one digit, [(cut, its probs), ...]); points: no probs
    k = first
    for g in glyphs:
        if g.kind == "point":
            raw.append((g, None, []))
            continue
        p = probs[k]
        k += 1
        cuts = []
        for alt in g.splits:
            cuts.append((alt, probs[k:k + len(alt)]))
            k += len(alt)
        raw.append((g, p, cuts))
    whole = ["." if p is None else str(int(np.argmax(p))) for _, p, _ in raw]
    items = []  # (glyph, probs, best valid cut or None)
    for i, (g, p, cuts) in enumerate(raw):
        if valid is not None:
            cuts = [(alt, pp) for alt, pp in cuts
                    if valid("".join(whole[:i]) + "".join(str(int(np.argmax(q))) for q in pp) + "".join(whole[i + 1:]))]
        cuts = [(alt, _plausible_ones(alt, pp)) for alt, pp in cuts]
        best = max(cuts, key=lambda c: c[1].max(axis=1).prod(), default=None)
        items.append((g, p, best))
    posts = [split_posterior(g.box[2] / max(1.0, g.box[3]), float(p.max()), float(b[1].max(axis=1).prod()))
             if b is not None else 1.0 for g, p, b in items]
    use_split = [post < 0.5 for post in posts]
    if count is not None:
        _fit_count(items, posts, use_split, *count)
    digits: list[DigitReading] = []
    for (g, p, b), post, split in zip(items, posts, use_split):
        if p is not None and not split and float(p.max()) <= BLANK_MAX_PROB:
            log.debug("glyph at %s is blank for the classifier: left out", g.box)
            continue
        if p is None:
            c = float(g.point_confidence)
            digits.append(DigitReading(".", c, g.box, ((".", c), ("", 1.0 - c)), g.crop))
        elif not split:
            digits.append(_digit(p, g.box, g.crop, post))
        else:
            digits += [_digit(q, s.box, s.crop, 1.0 - post) for q, s in zip(b[1], b[0])]
    return digits


def _fit_count(items, posts: list[float], use_split: list[bool], lo: int, hi: int) -> None:
    """Flip split decisions (most plausible flips first) to bring the digit count into [lo, hi].

    A flipped decision keeps its posterior as the confidence, so a forced choice between two
    plausible segmentations stays unsure and goes to review.
    """
    def count() -> int:
        return sum(0 if p is None else (len(b[0]) if s else 1) for (g, p, b), s in zip(items, use_split))

    flips = sorted((i for i, (g, p, pp) in enumerate(items) if pp is not None), key=lambda i: abs(posts[i] - 0.5))
    for i in flips:
        n = count()
        if lo <= n <= hi:
            return
        if (n < lo and not use_split[i]) or (n > hi and use_split[i]):
            use_split[i] = not use_split[i]
            if n < lo and count() > hi:  # overshoot: undo
                use_split[i] = not use_split[i]
