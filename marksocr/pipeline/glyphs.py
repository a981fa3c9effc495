"""From segmented glyphs and classifier probabilities to characters (shared by both modes).

A wide glyph may be one digit or two touching ones: the segmenter offers cut alternatives,
every crop is classified in the one batch of the sheet, and :func:`decide_glyphs` picks per
glyph between "one digit" and its cuts with a score that becomes part of the confidence,
choosing the best combination within the field's expected digit count when it is known.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np

from marksocr.domain import DigitReading
from marksocr.imaging.segment import EDGE_LINEARITY, Glyph, Lattice, loop_areas, stroke_linearity

log = logging.getLogger(__name__)


BLANK_MAX_PROB = 0.11
"""The classifier answers a uniform row (0.1 each) for crops with no writing: such glyphs are
noise the segmenter kept, and are left out (the field keeps a low confidence, see reader)."""


def glyph_crops(glyphs: Sequence[Glyph]) -> list[np.ndarray]:
    """Crops to classify for ``glyphs``, in the order :func:`decide_glyphs` consumes them (a
    glyph object listed twice, e.g. a part shared by two cuts, is classified once)."""
    return [g.crop for g in _to_classify(glyphs)]


def sum_split_crops(glyphs: Sequence[Glyph]) -> list[np.ndarray]:
    """Crops of the parts of the glyphs' ``sum_splits``, in the order :func:`stroke_readings`
    consumes them. The reader classifies them after every field's :func:`glyph_crops`, in the
    same batch: they matter only when the sum check fails."""
    return [g.crop for g in _sum_parts(glyphs)]


def _to_classify(glyphs: Sequence[Glyph]) -> list[Glyph]:
    return _unique([part for g in glyphs if g.kind == "digit"
                    for part in [g] + [p for alt in g.splits for p in alt] + [s for lat in g.lattices for _, _, s in lat.segments]])


def _sum_parts(glyphs: Sequence[Glyph]) -> list[Glyph]:
    return _unique([p for g in glyphs if g.kind == "digit" for alt in g.sum_splits for p in alt])


def _unique(glyphs: list[Glyph]) -> list[Glyph]:
    """``glyphs`` without repeats of the same object (a part shared by two cuts), in order."""
    out: list[Glyph] = []
    seen: set[int] = set()
    for g in glyphs:
        if id(g) not in seen:
            seen.add(id(g))
            out.append(g)
    return out


def _digit(label_probs: np.ndarray, box, crop, factor: float = 1.0) -> DigitReading:
    order = np.argsort(-label_probs)[:3]
    alts = tuple((str(int(i)), float(label_probs[i] * factor)) for i in order)
    return DigitReading(alts[0][0], alts[0][1], box, alts, crop)


WIDEST_SINGLE = (1.43, 1.0, 1.67, 1.25, 1.25, 1.67, 1.11, 1.25, 1.25, 1.05)
"""Per digit 0..9: the width/height of its ink box that 99 % of single MNIST training digits stay
under (measured on the 60,000 training digits, ink > 60 of 255; medians 0.4 for ``1`` to 0.95
for ``2``/``5``). A glyph read whole as a ``6`` but 1.4 times as wide as high is more likely a
touching ``50`` than a ``6``; a ``2`` or ``5`` that wide is still common."""

WIDTH_MARGIN = 0.5
"""Beyond its digit's :data:`WIDEST_SINGLE`, the one-digit prior falls to its floor over this much
more width/height (handwriting other than MNIST's is allowed to be somewhat wider)."""


def one_digit_prior(ratio: float, label: Optional[int] = None) -> float:
    """Prior probability that a glyph of this width/height is one digit rather than several
    touching ones: 0.9 up to 1.2, falling to 0.3 at 2.0 (wide single digits are common,
    touching digits less so). With ``label`` (what the classifier reads the whole glyph as), it
    also falls from 0.9 at that digit's :data:`WIDEST_SINGLE` to 0.3 :data:`WIDTH_MARGIN` later.

    Against it, a cut scores ``(1 - prior) * product of its parts' confidences, squared``:
    digit classifiers are overconfident on pieces of digits, so two parts at 0.9 count as 0.66.
    """
    prior = float(np.clip(0.9 - 0.6 * (ratio - 1.2) / (2.0 - 1.2), 0.3, 0.9))
    if label is not None:
        prior = min(prior, float(np.clip(0.9 - 0.6 * (ratio - WIDEST_SINGLE[label]) / WIDTH_MARGIN, 0.3, 0.9)))
    return prior


ONE_MIN_LINEARITY = 5.0
"""A cut part read as ``1`` must be a fairly straight stroke; the arc of half a ``0`` or the
side of a wide ``4`` is not (the classifier is overconfident on such halves)."""


ONE_BESIDE_PRIOR = 0.4
"""One-digit prior of a glyph that has a cut leaving a narrow, straight, confidently read ``1``
beside a whole digit: at its left beside a ``0`` (a ``10`` written tight, read whole as ``0``), or
at its right beside the digit the whole glyph reads as, when that digit has no straight stroke on
its right (:data:`ONE_AFTER`: a ``61`` whose 1 touches the loop, read whole as ``6``). A straight
stroke beside a complete digit is strong evidence of two digits; the call stays close, so it goes
to review. At the left only for a ``0``: on the tuning sheets the same rule turned a ``2`` with a
straight-ish start into ``12``."""

ONE_AFTER = frozenset({0, 2, 3, 5, 6})
"""Digits whose right side is a curve, so a straight stroke cut off their right is not theirs
(a ``4``'s or ``9``'s stem, a ``7``'s diagonal are). Not an ``8``: a slanted one's right side
is often straight enough, and on the tuning sheets it was cut into ``81``."""


def _one_beside(g: Glyph, cuts: Sequence[tuple[Sequence[Glyph], np.ndarray]], whole: int) -> bool:
    """Whether a 2-way cut of ``g`` leaves a narrow straight ``1`` (p >= 0.9) left of a ``0``, or
    right of the digit ``whole`` the glyph reads as (one of :data:`ONE_AFTER`)."""
    for alt, pp in cuts:
        if len(alt) != 2:
            continue
        labels = [int(np.argmax(q)) for q in pp]
        if labels == [1, 0] and alt[0].box[2] <= 0.25 * g.box[2]:
            one = 0
        elif labels == [whole, 1] and whole in ONE_AFTER and alt[1].box[2] <= 0.4 * g.box[2]:
            one = 1
        else:
            continue
        if float(pp[one].max()) >= 0.9 and stroke_linearity(alt[one].crop) >= EDGE_LINEARITY:
            return True
    return False


def _cut_score(prior: float, parts_probs: np.ndarray, loops_cut: int = 0, extra_strokes: int = 0) -> float:
    """A cut's score against the whole glyph's ``prior * p`` (see :func:`one_digit_prior`),
    times :data:`LOOP_CUT` for each closed loop the cut opens (see :func:`_loops_cut`) and
    :data:`STROKE_CUT` for each stroke it crosses beyond one per cut line (``Glyph.split_strokes``)."""
    return ((1.0 - prior) * float(parts_probs.max(axis=1).prod()) ** 2
            * LOOP_CUT ** loops_cut * STROKE_CUT ** extra_strokes)


STROKE_CUT = 0.3
"""Touching digits meet at one place, so the line that parts them crosses one stroke; a line
through one digit (a ``5`` cut into two confident ``5``-like pieces) crosses two or three."""


LOOP_CUT = 0.1
"""A cut through a closed loop (a ``0`` cut into ``(`` and ``)``, which the classifier reads as a
sure ``6`` and ``7``) is this much less likely per loop opened: touching digits are cut between
their loops, not through them."""


SLIVER_LOOP = 0.25
"""A loop the cut opens does not count (see :func:`_loops_cut`) when the parts keep all but this
share of the enclosed area: a ``1`` leaning on a ``0`` closes a sliver between them, which a cut
between the two opens (ours, held-out seed 2000: ``10`` read ``0`` that way)."""


def _loops_cut(whole: Glyph, parts: Sequence[Glyph]) -> int:
    """Closed loops of ``whole`` that none of its ``parts`` keeps, unless they are slivers closed
    where the parts touch (:data:`SLIVER_LOOP`)."""
    held = loop_areas(whole.crop)
    kept = [a for p in parts for a in loop_areas(p.crop)]
    lost = max(0, len(held) - len(kept))
    if lost and kept and sum(held) - sum(kept) <= SLIVER_LOOP * sum(kept):
        return 0
    return lost


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

    Each wide glyph is read either whole or as one of its cuts, whichever the classifier and the
    width prior (:func:`one_digit_prior`) favour. ``count`` = (lo, hi): the number of digits the
    field may hold, when known; the most probable combination of choices within it is taken (a
    run of touching digits in a 10-digit roll number is cut in as many pieces as are missing).
    ``valid``: a test of the field's text (e.g. a mark within its maximum); a cut whose reading
    makes the field invalid is no alternative at all and does not lower the whole digit's
    confidence. A choice's confidence factor is its score against the best other choice, so a
    forced or close call stays unsure and goes to review.
    """
    return read_alternatives(glyphs, probs, first, count, valid, limit=1)[0][0]


def read_alternatives(glyphs: Sequence[Glyph], probs: np.ndarray, first: int,
                      count: Optional[tuple[int, int]] = None,
                      valid: Optional[Callable[[str], bool]] = None,
                      limit: int = 4) -> list[tuple[list[DigitReading], float]]:
    """The reading of :func:`decide_glyphs` first, then up to ``limit - 1`` readings that decide
    one glyph the other way (whole instead of cut, or cut instead of whole), each with its log
    score relative to the first (0 for the first, negative for the others). Readings of the same
    text are given once. Sheet-level checks use them (``pipeline.reader``)."""
    raw, options = _glyph_options(glyphs, probs, first, count, valid)
    best = _choose(options, count)
    out = [(_render(raw, options, best), 0.0)]
    seen = {text_of(out[0][0])}
    flips = []
    for i, opts in enumerate(options):
        for j, o in enumerate(opts):
            if j == best[i] or o.score <= 0:
                continue
            choice = best[:i] + [j] + best[i + 1:]
            total = sum(op[c].digits for op, c in zip(options, choice) if op)
            if count is not None and not count[0] <= total <= count[1]:
                continue
            flips.append((math.log(o.score) - math.log(max(opts[best[i]].score, 1e-300)), choice))
    for gain, choice in sorted(flips, key=lambda f: -f[0]):
        if len(out) >= limit:
            break
        digits = _render(raw, options, choice)
        if text_of(digits) not in seen:
            seen.add(text_of(digits))
            out.append((digits, gain))
    return out


def stroke_readings(glyphs: Sequence[Glyph], probs: np.ndarray, first: int, sum_first: int,
                    base: Sequence[DigitReading]) -> list[tuple[list[DigitReading], float]]:
    """Readings of ``base`` (a field's reading) with one glyph read whole there replaced by its
    ``sum_splits`` cut (a ``1`` taken out of a ``14``), each with its log score relative to
    ``base``, for the sum check only. The cut's digits keep a confidence below 0.5 when the whole
    digit was the likelier reading. Rows of ``probs``: the glyphs' own crops from ``first``
    (:func:`glyph_crops`), the cut parts from ``sum_first`` (:func:`sum_split_crops`)."""
    row = {id(g): first + i for i, g in enumerate(_to_classify(glyphs))}
    row.update({id(g): sum_first + i for i, g in enumerate(_sum_parts(glyphs))})
    out = []
    for g in glyphs:
        if g.kind != "digit" or not g.sum_splits:
            continue
        k = next((i for i, d in enumerate(base) if d.label != "." and tuple(d.box) == tuple(g.box)), None)
        if k is None:
            continue
        p = probs[row[id(g)]]
        prior = one_digit_prior(g.box[2] / max(1.0, g.box[3]), int(np.argmax(p)))
        whole = prior * float(p.max())
        for alt in g.sum_splits:
            pp = _plausible_ones(alt, probs[[row[id(part)] for part in alt]])
            cut = _cut_score(prior, pp, _loops_cut(g, alt))
            if cut <= 0 or whole <= 0:
                continue
            factor = cut / (cut + whole)
            parts = [_digit(q, s.box, s.crop, factor) for q, s in zip(pp, alt)]
            out.append((list(base[:k]) + parts + list(base[k + 1:]), math.log(cut / whole)))
    return out


def text_of(digits: Sequence[DigitReading]) -> str:
    return "".join(d.label for d in digits)


_Raw = list[tuple[Glyph, Optional[np.ndarray], list[tuple[Sequence[Glyph], np.ndarray]]]]
"""Per glyph: (glyph, its probabilities as one digit or None for a point, [(cut, its parts' probabilities)])."""


def _glyph_options(glyphs: Sequence[Glyph], probs: np.ndarray, first: int, count: Optional[tuple[int, int]],
                   valid: Optional[Callable[[str], bool]]) -> tuple[_Raw, list[list["_Option"]]]:
    """Each glyph's ways to be read (whole, or one of its cuts) with their scores."""
    row = {id(g): first + i for i, g in enumerate(_to_classify(glyphs))}
    raw: _Raw = []
    for g in glyphs:
        if g.kind == "point":
            raw.append((g, None, []))
            continue
        cuts = [(alt, probs[[row[id(part)] for part in alt]]) for alt in g.splits]
        raw.append((g, probs[row[id(g)]], cuts))
    whole = ["." if p is None else str(int(np.argmax(p))) for _, p, _ in raw]
    n_whole = sum(1 for _, p, _ in raw if p is not None)
    pitch = sum(g.box[2] for g, p, _ in raw if p is not None) / max(1, count[1] if count else n_whole)
    options: list[list[_Option]] = []
    for i, (g, p, cuts) in enumerate(raw):
        if p is None:
            options.append([])
            continue
        if valid is not None:
            cuts = [(alt, pp) for alt, pp in cuts
                    if valid("".join(whole[:i]) + "".join(str(int(np.argmax(q))) for q in pp) + "".join(whole[i + 1:]))]
        if count is not None:  # a cut that overshoots the count even with every other glyph whole
            cuts = [(alt, pp) for alt, pp in cuts if n_whole - 1 + len(alt) <= count[1]]
        prior = one_digit_prior(g.box[2] / max(1.0, g.box[3]), int(np.argmax(p)))
        if _one_beside(g, cuts, int(np.argmax(p))):
            prior = min(prior, ONE_BESIDE_PRIOR)
        blank = float(p.max()) <= BLANK_MAX_PROB
        opts = [_Option(None, p, 0 if blank else 1, prior * float(p.max()))]
        strokes = {id(alt): n for alt, n in zip(g.splits, g.split_strokes)}
        for alt, pp in cuts:
            pp = _plausible_ones(alt, pp)
            opts.append(_Option(alt, pp, len(alt), _cut_score(prior, pp, _loops_cut(g, alt), strokes.get(id(alt), 0))))
        most = 0 if count is None else count[1] - (n_whole - 1)  # lattices come with a known count
        for lat in g.lattices:
            for alt, pp, crossed in _lattice_paths(lat, probs, row, most):
                text = "".join(whole[:i]) + "".join(str(int(np.argmax(q))) for q in pp) + "".join(whole[i + 1:])
                if valid is None or valid(text):
                    score = (_cut_score(prior, pp, _loops_cut(g, alt), crossed) * _widths_prior(alt, pp)
                             * PITCH_COST ** abs(len(alt) - g.box[2] / pitch) * LATTICE_COST)
                    opts.append(_Option(alt, pp, len(alt), score))
        options.append(opts)
    return raw, options


NARROWEST_SINGLE = (0.55, 0.15, 0.55, 0.45, 0.5, 0.5, 0.4, 0.5, 0.45, 0.4)
"""Per digit 0..9: the width/height of its ink box that 99 % of single MNIST training digits stay
above (ink > 60 of 255; medians as in :data:`WIDEST_SINGLE`). A sliver of a run read as a
confident ``0`` is more likely part of a digit than a whole one."""

NARROW_MARGIN = 0.2
"""Below its digit's :data:`NARROWEST_SINGLE`, a lattice crop's prior falls to its floor over this
much less width/height."""


LATTICE_COST = 0.6
"""A lattice path's score is taken down this much against the profile cuts: it is the best of
many paths, each piece read by a classifier as sure of a piece as of a digit, so its score is
inflated by the search itself. Tuning seed 1000 (``foreign_university``, 300 sheets): 1.0 gained
21 fields and lost 9, 0.6 gained 21 and lost 4, 0.4 gained 19 and lost 4."""

PITCH_COST = 0.5
"""A lattice path of ``k`` digits through a glyph ``w`` wide, in a field whose glyphs are ``W`` wide
together for ``n`` digits, is this much less likely per digit that ``k`` differs from ``w * n / W``:
a writer's digits are about equally wide, and the classifier reads a stem cut off a ``4`` as a
confident ``1``, so nothing else stops a path from cutting one digit too many."""


def _widths_prior(parts: Sequence[Glyph], pp: np.ndarray) -> float:
    """How likely each crop of a lattice path is one digit for its width, relative to the best
    prior (0.9): :func:`one_digit_prior` for crops too wide, and the same fall below
    :data:`NARROWEST_SINGLE` for crops too narrow. The classifier is as sure of a sliver cut off a
    digit as of a whole digit; a path that cuts a digit in two or leaves two in one crop pays."""
    out = 1.0
    for s, q in zip(parts, pp):
        label, ratio = int(np.argmax(q)), s.box[2] / max(1.0, s.box[3])
        narrow = float(np.clip(0.9 - 0.6 * (NARROWEST_SINGLE[label] - ratio) / NARROW_MARGIN, 0.3, 0.9))
        out *= min(one_digit_prior(ratio, label), narrow) / 0.9
    return out


def _lattice_paths(lat: Lattice, probs: np.ndarray, row: dict[int, int],
                   most: int) -> list[tuple[list[Glyph], np.ndarray, int]]:
    """For each digit count from 2 to ``most``, the best path across ``lat`` (by each crop's
    confidence squared, as in :func:`_cut_score`, times its width prior, and :data:`STROKE_CUT`
    per stroke a line crosses beyond one): (its crops, their probabilities, strokes crossed beyond
    one per line)."""
    segs = []
    for a, b, s in lat.segments:
        pp = _plausible_ones([s], probs[[row[id(s)]]])
        score = 2.0 * math.log(max(float(pp.max()), 1e-300)) + math.log(max(_widths_prior([s], pp), 1e-300))
        extra = max(0, lat.crossings[b] - 1) if b < lat.last else 0
        segs.append((a, b, s, pp, score + extra * math.log(STROKE_CUT), extra))
    # best[k][line]: (log score, crossings beyond one, path) of k crops from line 0 up to ``line``
    best: list[dict[int, tuple[float, int, list]]] = [{0: (0.0, 0, [])}]
    out = []
    for k in range(1, most + 1):
        nxt: dict[int, tuple[float, int, list]] = {}
        for a, b, s, pp, score, extra in segs:
            if a in best[-1]:
                sc, ex, path = best[-1][a]
                if b not in nxt or sc + score > nxt[b][0]:
                    nxt[b] = (sc + score, ex + extra, path + [(s, pp)])
        best.append(nxt)
        if k >= 2 and lat.last in nxt:
            _, crossed, path = nxt[lat.last]
            out.append(([s for s, _ in path], np.vstack([pp for _, pp in path]), crossed))
        if not nxt:
            break
    return out


PIECED_CONFIDENCE = 0.9
"""The most a digit read from a glyph pieced together from specks (``Glyph.pieced``) is trusted:
the joining is a guess about ink the camera did not see, so such a digit never passes the
threshold on its own (a mark's may still be settled by the sum check)."""


def _render(raw: _Raw, options: list[list["_Option"]], choice: list[int]) -> list[DigitReading]:
    """The characters of one choice per glyph, each digit's confidence scaled by how clearly its
    choice beat the best choice that reads differently (and capped at :data:`PIECED_CONFIDENCE`
    for a glyph pieced together from specks)."""
    digits: list[DigitReading] = []
    for (g, p, _), opts, c in zip(raw, options, choice):
        if p is None:
            conf = float(g.point_confidence)
            digits.append(DigitReading(".", conf, g.box, ((".", conf), ("", 1.0 - conf)), g.crop))
            continue
        chosen = opts[c]  # its rivals: choices that read differently (another cut, same digits, is no rival)
        rivals = max((o.score for o in opts if o.text != chosen.text), default=0.0)
        factor = chosen.score / max(chosen.score + rivals, 1e-12) if rivals > 0 else 1.0
        if chosen.parts is None:
            if chosen.digits == 0:
                log.debug("glyph at %s is blank for the classifier: left out", g.box)
                continue
            digits.append(_digit(p, g.box, g.crop, _capped(factor, g, p)))
        else:
            digits += [_digit(q, s.box, s.crop, _capped(factor, g, q)) for q, s in zip(chosen.probs, chosen.parts)]
    return digits


def _capped(factor: float, g: Glyph, probs: np.ndarray) -> float:
    """``factor``, lowered so that a digit of a pieced glyph reads at most :data:`PIECED_CONFIDENCE`."""
    top = float(np.max(probs)) * factor
    return factor * PIECED_CONFIDENCE / top if g.pieced and top > PIECED_CONFIDENCE else factor


@dataclass(frozen=True)
class _Option:
    """One way to read a glyph: whole (``parts`` None) or cut into ``parts``."""

    parts: Optional[Sequence[Glyph]]
    probs: np.ndarray
    digits: int
    score: float

    @property
    def text(self) -> str:
        if self.digits == 0:
            return ""
        return "".join(str(int(i)) for i in np.atleast_2d(self.probs).argmax(axis=1))


def _choose(options: list[list[_Option]], count: Optional[tuple[int, int]]) -> list[int]:
    """Per glyph, the index of its chosen option: each glyph's best, or with ``count`` the best
    combination whose digit total lies in [lo, hi] (else the total closest to that range)."""
    best = [max(range(len(o)), key=lambda j: o[j].score) if o else 0 for o in options]
    if count is None:
        return best
    lo, hi = count
    total = sum(o[j].digits for o, j in zip(options, best) if o)
    if lo <= total <= hi:
        return best
    # dynamic programme over glyphs: digit total -> (log score, choices)
    table: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    for opts in options:
        if not opts:
            table = {n: (sc, ch + [0]) for n, (sc, ch) in table.items()}
            continue
        nxt: dict[int, tuple[float, list[int]]] = {}
        for n, (sc, ch) in table.items():
            for j, o in enumerate(opts):
                cand = (sc + math.log(max(o.score, 1e-300)), ch + [j])
                if n + o.digits not in nxt or cand[0] > nxt[n + o.digits][0]:
                    nxt[n + o.digits] = cand
        table = nxt
    n = min(table, key=lambda t: (max(lo - t, t - hi, 0), -table[t][0]))
    return table[n][1]
