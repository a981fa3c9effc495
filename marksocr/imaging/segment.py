"""Digit segmentation of a cleaned field: ink components -> one box and crop per character.

* connected components (contour boxes) of the cleaned ink mask, specks removed, except where
  pieces each too small to count make a digit together, away from any other digit (a pale
  stroke broken into bits, a dotted ``1``: ``_broken_digits``; read less trusted, ``Glyph.pieced``);
* broken strokes of one digit are grouped (strong horizontal overlap, or a small fragment
  right next to a digit);
* touching digits (a group much wider than a digit) are split: first by MSER regions of the
  group (a thin, lighter join disappears at some threshold), else at vertical projection minima
  near the expected cut positions;
* comb fields: one digit per cell (groups assigned to cells by overlap, merged per cell, split at
  the cell border when one group spans two cells);
* a decimal point (mark/total fields): a small round blob near the baseline between digits;
* empty fields give no digits; ``empty_confidence`` says how sure we are it is really empty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np

from marksocr.domain import GrayImage, PixelBox

log = logging.getLogger(__name__)


@dataclass
class Glyph:
    """One segmented character: ``kind`` is ``"digit"`` or ``"point"``."""

    kind: str
    box: PixelBox
    crop: GrayImage
    """Dark-on-light uint8 crop, only this glyph's ink (neighbours whitened)."""
    point_confidence: float = 1.0
    """For a decimal point: how point-like the blob is (0..1)."""
    cell: Optional[int] = None
    splits: list[list["Glyph"]] = field(default_factory=list)
    """For a digit that may be two touching digits: alternative ways to cut it in two (the
    reader lets the classifier arbitrate between one wide digit and the best cut)."""
    split_strokes: list[int] = field(default_factory=list)
    """Per cut in ``splits``: strokes it crosses beyond one per cut line (touching digits meet
    at one place; cutting one digit in two usually crosses two or three strokes)."""
    sum_splits: list[list["Glyph"]] = field(default_factory=list)
    """Cuts offered only to the sum check, never to the glyph's own reading: a straight
    full-height stroke taken out of the glyph (a ``1`` written across the next digit, see
    ``_stroke_cut``), or the best cut of a narrow glyph in a mark field (two digits leaning
    together, see :data:`NARROW_PAIR`). As a rival in the glyph's own reading the stroke cut
    lowered the confidence of plain 0s and 8s with a straight left side."""
    pieced: bool = False
    """Made of pieces each too small to be part of a digit on its own (a pale stroke broken into
    dashes, a dotted ``1``, see ``_broken_digits``): the reader trusts it less."""
    lattices: list["Lattice"] = field(default_factory=list)
    """For a long run of touching digits in a field of known length: cut lines across it (one
    lattice per slant) and every crop between two lines that could be one digit. The reader
    classifies them all and takes the best path through each lattice for every digit count
    (``pipeline.glyphs``), instead of trusting the ink profile alone to place the cuts."""


@dataclass
class Lattice:
    """Cut lines across a glyph (line 0 its left edge, line ``last`` its right edge) and the
    crops between them: ``segments`` holds (from line, to line, the crop's glyph)."""

    last: int
    segments: list[tuple[int, int, Glyph]]
    crossings: list[int]
    """Per line: the strokes a cut along it crosses (0 at the edges). Touching digits meet at
    one place, so a line crossing more strokes more likely goes through a digit."""


@dataclass
class Segmentation:
    glyphs: list[Glyph]
    empty_confidence: float
    """For a field without glyphs: 1.0 when no ink at all, lower when ink was discarded."""
    debug: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(eq=False)
class _Group:
    mask: np.ndarray  # full-crop 0/1 mask of this group's ink
    x: int
    y: int
    w: int
    h: int
    sum_only: bool = False  # first part of a cut offered to the sum check only (``_stroke_cut``, narrow pairs)
    joins: Optional[np.ndarray] = None  # full-crop 0/1 mask of strokes drawn between the specks of a dotted 1
    pieced: bool = False  # made of pieces each too small to count (``_broken_digits``)

    @staticmethod
    def of(mask: np.ndarray, joins: Optional[np.ndarray] = None, pieced: bool = False) -> "_Group":
        x, y, w, h = cv2.boundingRect(mask)
        return _Group(mask, int(x), int(y), int(w), int(h), joins=joins, pieced=pieced)

    @property
    def area(self) -> int:
        return int(cv2.countNonZero(self.mask[self.y:self.y + self.h, self.x:self.x + self.w])) if self.w else 0

    def merged(self, other: "_Group") -> "_Group":
        joins = self.joins if other.joins is None else other.joins if self.joins is None else self.joins | other.joins
        return _Group.of(self.mask | other.mask, joins, self.pieced or other.pieced)


def _components(mask: np.ndarray) -> list[_Group]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _a = stats[i]
        out.append(_Group((labels == i).astype(np.uint8), int(x), int(y), int(w), int(h)))
    return out


def _overlap_x(a: _Group, b: _Group) -> int:
    return min(a.x + a.w, b.x + b.w) - max(a.x, b.x)


def _group_strokes(parts: list[_Group], digit_h: float) -> list[_Group]:
    """Merge fragments of one digit: strong x-overlap, pieces stacked one above the other, or a
    small piece touching a digit; then the detached flags of 5s (:func:`_is_flag`), once every
    digit is whole, so a flag is measured against its whole digit and a 7's detached bar has
    already joined the stem below it."""
    groups = sorted(parts, key=lambda g: g.x)
    for flags in (False, True):
        changed = True
        while changed and len(groups) > 1:
            changed = False
            for i in range(len(groups)):
                for j in range(i + 1, len(groups)):
                    if _belong_together(groups[i], groups[j], digit_h, flags):
                        groups[i] = groups[i].merged(groups[j])
                        del groups[j]
                        changed = True
                        break
                if changed:
                    break
    return sorted(groups, key=lambda g: g.x)


STACKED_WIDTH = 2.0
"""Width/height up to which pieces stacked one above the other still make one digit: a 5 whose
long flag reaches well past its small bowl. Digits of a number stand side by side, never stacked."""


def _belong_together(a: _Group, b: _Group, digit_h: float, flags: bool) -> bool:
    """Whether pieces ``a`` and ``b`` are parts of one digit (with ``flags``, a 5 and its detached
    flag too), and together no wider than one digit may be."""
    ov = _overlap_x(a, b)
    small = min(a.w, b.w)
    gap = -ov
    frag = min(a.h, b.h) < 0.55 * digit_h and min(a.area, b.area) < 0.5 * max(a.area, b.area)
    m = a.merged(b)
    flag = flags and _is_flag(a, b, digit_h)
    v_ov = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    stacked = v_ov <= 0.25 * min(a.h, b.h) and ov >= -0.05 * digit_h
    # a 5's flag may stick out well to the right of its body
    widest = STACKED_WIDTH if flag or (stacked and ov >= 0.5 * small) else 1.6 if frag else 1.3
    long_flag = flag and _flag_within_body(a, b)  # a hasty 5: its flag as long as its body, past the cap
    if m.w > widest * max(m.h, 0.8 * digit_h) and not long_flag:
        return False
    # two short pieces (a broken 5 or 8) that together make one digit-sized box
    halves = (max(a.h, b.h) < 0.75 * digit_h and m.h <= 1.25 * digit_h and m.w <= 1.05 * m.h
              and ov >= 0.2 * small)
    return ov >= 0.5 * small or stacked or halves or (frag and gap < 0.3 * digit_h) or flag


def _is_flag(a: _Group, b: _Group, digit_h: float) -> bool:
    """Is the right-hand piece the detached flag of a 5 (a short dash level with the left
    piece's top, a little apart)? No digit is a lone dash, so it belongs to its neighbour.
    The dash's height and its distance are measured against the typical digit or against the
    digit it sits on, whichever is taller (in a field of one or two digits the median piece may
    be half a 5)."""
    left, right = (a, b) if a.x <= b.x else (b, a)
    gap = right.x - (left.x + left.w)
    return (right.h < 0.35 * max(digit_h, left.h) and right.w >= 1.2 * right.h and right.area < 0.8 * left.area
            and left.h >= 0.6 * digit_h and right.y + right.h / 2 < left.y + 0.35 * left.h
            and gap < max(0.6 * digit_h, 0.35 * left.h))


def _flag_within_body(a: _Group, b: _Group) -> bool:
    """Whether a flag (the right-hand piece, :func:`_is_flag`) is no longer than the body of the 5
    it sits on, and no further from it than a tenth of that: together still one 5 (``12.5`` whose
    5 has a long flag was read ``12.57``, the flag as a 7), where two digits side by side would
    leave a digit-wide body and more."""
    left, right = (a, b) if a.x <= b.x else (b, a)
    return right.w <= left.w and right.x - (left.x + left.w) <= 0.1 * left.w


def _mser_split(g: _Group, gray: GrayImage, n: int) -> Optional[list[_Group]]:
    """Try to split a wide group by MSER regions: ``n`` disjoint digit-sized regions."""
    pad = 2
    y0, y1, x0, x1 = max(0, g.y - pad), g.y + g.h + pad, max(0, g.x - pad), g.x + g.w + pad
    patch = gray[y0:y1, x0:x1].copy()
    patch[g.mask[y0:y1, x0:x1] == 0] = 255
    mser = cv2.MSER_create(delta=4, min_area=max(20, int(0.05 * g.h * g.h)), max_area=int(0.9 * g.w * g.h))
    regions, boxes = mser.detectRegions(patch)
    cands = [(b, r) for b, r in zip(boxes, regions) if b[3] >= 0.5 * g.h and b[2] <= 0.8 * g.w]
    # keep maximal non-overlapping regions, widest first
    cands.sort(key=lambda t: -t[0][2] * t[0][3])
    chosen: list = []
    for b, r in cands:
        if all(min(b[0] + b[2], c[0] + c[2]) - max(b[0], c[0]) < 0.15 * min(b[2], c[2]) for c, _ in chosen):
            chosen.append((b, r))
    if len(chosen) != n:
        return None
    chosen.sort(key=lambda t: t[0][0])
    cuts = [int((chosen[i][0][0] + chosen[i][0][2] + chosen[i + 1][0][0]) / 2) + x0 for i in range(n - 1)]
    return _cut(g, cuts)


def _cut(g: _Group, cuts: list[int]) -> list[_Group]:
    out = []
    edges = [g.x] + cuts + [g.x + g.w]
    for a, b in zip(edges[:-1], edges[1:]):
        m = np.zeros_like(g.mask)
        m[:, a:b] = g.mask[:, a:b]
        if m.any():
            out.append(_Group.of(m))
    return out


_SQUARE3 = np.ones((3, 3), np.uint8)

SURE_SPLIT = 1.7
"""Width/height above which a group is probably several touching digits (n-way cuts offered)."""
MAYBE_SPLIT = 0.85
"""Width/height above which a group may be two touching digits (the classifier decides)."""


SHEARS = (0.0, 0.3, -0.3)
"""Slants tried for cutting touching digits (a slanted ``1`` touching a ``0``)."""
MAX_PIECES = 4
"""Most digits offered as one run of touching digits."""


PIECE_HEIGHT = 0.45
"""Each part of an n-way cut must span this share of the group's height: a cut that slices off
the long top bar of a ``7`` leaves a flat piece, which is no digit."""
WIDTH_SLACK = 0.3
"""Parts of an n-way cut may differ this much (share of the mean width) from the mean width for
free; beyond it, each further step costs as much ink as :data:`WIDTH_COST` typical columns."""
WIDTH_COST = 3.0


def _projection_split(g: _Group, n: int) -> list[_Group]:
    """Cut into ``n`` parts along straight or slanted lines through minima of the ink profile:
    the cuts that cross the least ink while every part stays digit-tall (:data:`PIECE_HEIGHT`)
    and about as wide as the others (a slanted ``1`` touching a ``0`` needs a slanted cut; a
    ``7`` whose top bar reaches over the next digit needs a cut far from the even spacing)."""
    ys, xs = np.nonzero(g.mask[g.y:g.y + g.h, g.x:g.x + g.w])
    if len(xs) < 10:
        return [g]
    cy = g.h / 2.0
    best: Optional[tuple[float, float, list[float]]] = None
    for shear in SHEARS:
        xp = xs - shear * (ys - cy)
        x0 = float(xp.min())
        col = np.round(xp - x0).astype(int)
        found = _profile_cuts(col, ys, n, g.h)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], shear, [x0 + c - 0.5 for c in found[1]])
    if best is None:
        return [g]
    _, shear, cuts = best
    side = np.searchsorted(np.asarray(cuts), xs - shear * (ys - cy))
    out = []
    for k in range(n):
        sel = side == k
        if sel.any():
            m = np.zeros_like(g.mask)
            m[ys[sel] + g.y, xs[sel] + g.x] = 1
            out.append(_Group.of(m))
    return out


def _ink_profile(col: np.ndarray) -> np.ndarray:
    """Ink pixels per column (``col``: each pixel's column from 0), smoothed over 3 columns."""
    return np.convolve(np.bincount(col).astype(float), np.ones(3) / 3, mode="same")


def _profile_cuts(col: np.ndarray, ys: np.ndarray, n: int, height: int) -> Optional[tuple[float, list[int]]]:
    """The ``n - 1`` cut columns (a part is the columns from one cut up to the next) of least cost,
    by dynamic programming over the profile's minima; None when no cut leaves digit-tall parts."""
    prof = _ink_profile(col)
    width = len(prof)
    top = np.full(width, height, int)
    bottom = np.full(width, -1, int)
    np.minimum.at(top, col, ys)
    np.maximum.at(bottom, col, ys)
    typical = float(np.median(prof[prof > 0])) if (prof > 0).any() else 1.0
    step = width / float(n)
    inner = np.arange(1, width - 1)
    minima = inner[(prof[1:-1] <= prof[:-2]) & (prof[1:-1] <= prof[2:])]
    pos = np.unique(np.concatenate([[0, width], minima, np.round(np.arange(1, n) * step).astype(int)]))
    pos = pos[(pos >= 0) & (pos <= width)]
    # cost[i, j]: the part from pos[i] up to pos[j] (inf when too narrow or too flat), plus the
    # ink crossed by the cut at pos[j]
    m = len(pos)
    cost = np.full((m, m), np.inf)
    for i in range(m - 1):
        ends = pos[i + 1:]
        span = (np.maximum.accumulate(bottom[pos[i]:])[ends - pos[i] - 1]
                - np.minimum.accumulate(top[pos[i]:])[ends - pos[i] - 1] + 1)
        w = ends - pos[i]
        ok = (w >= 0.3 * step) & (span >= PIECE_HEIGHT * height)
        c = WIDTH_COST * typical * np.maximum(0.0, np.abs(w - step) / step - WIDTH_SLACK)
        c += np.where(ends < width, prof[np.minimum(ends, width - 1)], 0.0)
        cost[i, i + 1:] = np.where(ok, c, np.inf)
    best = np.full(m, np.inf)
    best[0] = 0.0
    back = []
    for _ in range(n):  # best[j]: least cost of k parts ending at pos[j]
        total = best[:, None] + cost
        back.append(np.argmin(total, axis=0))
        best = total[back[-1], np.arange(m)]
    if not np.isfinite(best[-1]):
        return None
    cuts, j = [], m - 1
    for b in reversed(back):
        j = int(b[j])
        cuts.append(int(pos[j]))
    return float(best[-1]), sorted(cuts)[1:]


EDGE_CUT = 0.06
"""A ``1`` written tight against the next digit (``10``) may be only 6-15 % of the group's width:
cuts that close to the left edge are offered too, when the piece they leave is a tall straight
stroke. (Not the right edge: there the straight stem of a ``9`` or ``4`` would pass as a ``1``.)"""


def _cut_candidates(g: _Group, max_cuts: int = 3) -> list[list[_Group]]:
    """Alternative 2-way cuts of a group: along straight or slanted lines through minima of the
    (sheared) column ink profile, between 15% and 85% of its width, those crossing the fewest
    strokes first (touching digits meet at one place; the middle of a ``0`` has little ink but
    two strokes), then the least ink; plus the best
    cut nearer the left edge (from :data:`EDGE_CUT`) that leaves a tall straight stroke (a ``1``)."""
    ys, xs = np.nonzero(g.mask[g.y:g.y + g.h, g.x:g.x + g.w])
    if len(xs) < 10:
        return []
    cy = g.h / 2.0
    scored: list[tuple[int, float, float, float, bool]] = []  # (strokes crossed, profile value, shear, cut, near an edge)
    for shear in SHEARS:
        xp = xs - shear * (ys - cy)
        x0 = xp.min()
        width = xp.max() - x0 + 1
        col = np.round(xp - x0).astype(int)
        prof = _ink_profile(col)
        lo, hi = int(0.15 * width), int(0.85 * width)
        for i in range(max(1, int(EDGE_CUT * width)), hi - 1):
            if prof[i] <= prof[i - 1] and prof[i] <= prof[i + 1]:
                scored.append((_strokes_across(ys[col == i]), prof[i], shear, x0 + i, i <= lo))
    scored.sort()
    out: list[list[_Group]] = []
    used: list[tuple[float, float]] = []
    edge_taken = False
    for _, _, shear, cut, edge in scored:
        if (edge and edge_taken) or (not edge and len(out) - edge_taken >= max_cuts):
            continue
        if any(sh == shear and abs(cut - c) < 0.12 * g.w for sh, c in used):
            continue
        left = (xs - shear * (ys - cy)) < cut
        if edge and (left.sum() < 5 or np.ptp(ys[left]) < 0.7 * g.h or _linearity(xs[left], ys[left]) < EDGE_LINEARITY):
            continue
        parts = []
        for sel in (left, ~left):
            m = np.zeros_like(g.mask)
            m[ys[sel] + g.y, xs[sel] + g.x] = 1
            parts.append(_Group.of(m))
        if min(p.area for p in parts) > 0 and min(p.h for p in parts) >= 0.55 * g.h:  # a flat piece is no digit
            out.append(parts)
            used.append((shear, cut))
            edge_taken = edge_taken or edge
    return out


def _strokes_across(rows: np.ndarray) -> int:
    """Separate runs of ink among the rows a cut line meets (strokes it crosses)."""
    if len(rows) == 0:
        return 0
    r = np.unique(rows)
    return 1 + int(np.count_nonzero(np.diff(r) > 2))


STROKE_COVER = 0.85
"""A band of the glyph (1.6 stroke widths wide, straight or slanted) in its left 45 % holding ink
in this share of its rows is a full-height straight stroke: a ``1`` (see ``_stroke_cut``)."""


def _stroke_cut(g: _Group) -> Optional[list[_Group]]:
    """A ``1`` written across the next digit (``14`` with the 1 through the 4's bar): no cut line
    separates them, but the 1 is a straight band of ink from top to bottom. Returns [the band,
    the rest], the rest keeping the band's pixels in rows where ink crosses it; None when the
    glyph has no such band."""
    sub = g.mask[g.y:g.y + g.h, g.x:g.x + g.w]
    ys, xs = np.nonzero(sub)
    if len(xs) < 20:
        return None
    d = np.diff(np.pad(sub.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    runs = np.nonzero(d.ravel() == -1)[0] - np.nonzero(d.ravel() == 1)[0]
    band = int(np.ceil(1.6 * max(2.0, float(np.median(runs)))))
    cy = g.h / 2.0
    best: Optional[tuple[float, float, int, np.ndarray, np.ndarray]] = None
    for shear in STROKE_SHEARS:
        xp = np.round(xs - shear * (ys - cy)).astype(int)
        xp -= xp.min()
        img = np.zeros((g.h, int(xp.max()) + 1), bool)
        img[ys, xp] = True
        starts = max(1, int(0.45 * img.shape[1]) - band + 1)
        cs = np.pad(np.cumsum(img, axis=1), ((0, 0), (1, 0)))
        ends = np.minimum(np.arange(starts) + band, img.shape[1])
        cover = ((cs[:, ends] - cs[:, :starts]) > 0).mean(axis=0)  # share of rows with ink, per window
        for c in np.nonzero(cover >= STROKE_COVER)[0]:
            if best is None or cover[c] > best[0] + 0.02:
                best = (float(cover[c]), shear, int(c), xp, img)
    if best is None:
        return None
    _, _, c, xp, img = best
    inside = (xp >= c) & (xp < c + band)
    crossing = img[:, c + band:c + band + 2].any(axis=1)[ys] & inside  # rows where the other digit crosses
    rest = ~inside | crossing
    if (not inside.any() or rest.sum() < 0.3 * len(xs) or np.ptp(ys[rest]) + 1 < 0.55 * g.h
            or _linearity(xs[inside], ys[inside]) < EDGE_LINEARITY):
        return None
    parts = []
    for sel in (inside, rest):
        m = np.zeros_like(g.mask)
        m[ys[sel] + g.y, xs[sel] + g.x] = 1
        parts.append(_Group.of(m))
    parts[0].sum_only = True
    return parts


MAYBE_ONE_ACROSS = 0.6
"""Width/height above which a glyph too narrow for other cuts is still searched for a ``1``'s stroke."""

NARROW_PAIR = 0.45
"""Width/height from which a glyph too narrow to be cut in its own reading may still be two digits
leaning together (``11`` written as a ``V`` or a ``Λ``, read whole as ``4`` or ``1``): in mark
fields its best cut is offered to the sum check."""

STROKE_SHEARS = (0.0, 0.15, -0.15, 0.3, -0.3)
"""Slants tried for a ``1``'s straight stroke."""


LATTICE_FROM = 1.2
"""Width/height from which a group in a field still short of digits gets cut lattices. At
:data:`SURE_SPLIT` (1.7), runs of two or three small digits written into each other got none."""
LATTICE_GAP = 0.12
"""Least distance between two cut lines of a lattice, as a share of the group's height (a
slanted ``1`` squeezed between two digits can be that narrow)."""
LATTICE_WIDEST = 1.5
"""Widest crop of a lattice, as a share of the group's height (a wide ``2`` or ``5``)."""
LATTICE_PIECES = 6
"""Most digits a lattice is cut into (and so the number of cut lines it keeps, see :func:`_lattice`)."""


def _lattices(groups: list[_Group], digit_h: float, want: Optional[int]) -> dict[int, list[tuple[list[int], list[tuple[int, int, _Group]]]]]:
    """Cut lattices (one per slant in :data:`SHEARS`) for the groups wide enough to be a run of
    several touching digits (:data:`LATTICE_FROM`), when the field is known to hold more digits
    than it has tall groups. Keyed by ``id(group)``."""
    tall = [g for g in groups if g.h >= 0.6 * digit_h]
    missing = (want or 0) - len(tall)
    out: dict[int, list[tuple[list[int], list[tuple[int, int, _Group]]]]] = {}
    if missing <= 0:
        return out
    for g in tall:
        if g.w / max(g.h, 0.7 * digit_h) < LATTICE_FROM:
            continue
        pieces = min(LATTICE_PIECES, 1 + missing)
        found = [lat for lat in (_lattice(g, shear, pieces) for shear in SHEARS) if lat is not None]
        if found:
            out[id(g)] = found
    return out


def _lattice(g: _Group, shear: float, pieces: int) -> Optional[tuple[list[int], list[tuple[int, int, _Group]]]]:
    """Cut lines at the minima of the group's (sheared) column ink profile, lowest first and at
    least :data:`LATTICE_GAP` apart (at most ``3 * pieces`` of them), and the group's ink between
    every two lines that spans :data:`PIECE_HEIGHT` of its height and is at most
    :data:`LATTICE_WIDEST` wide: (strokes crossed per line, [(from line, to line, part)])."""
    ys, xs = np.nonzero(g.mask[g.y:g.y + g.h, g.x:g.x + g.w])
    if len(xs) < 10:
        return None
    xp = xs - shear * (ys - g.h / 2.0)
    col = np.round(xp - xp.min()).astype(int)
    prof = _ink_profile(col)
    width = len(prof)
    gap = max(2.0, LATTICE_GAP * g.h)
    inner = np.arange(1, width - 1)
    minima = inner[(prof[1:-1] <= prof[:-2]) & (prof[1:-1] <= prof[2:])]
    kept: list[int] = []
    for i in sorted(minima.tolist(), key=lambda i: (prof[i], i)):
        if gap <= i <= width - gap and all(abs(i - k) >= gap for k in kept):
            kept.append(int(i))
            if len(kept) >= 3 * pieces:
                break
    lines = [0] + sorted(kept) + [width]
    crossings = [0] + [_strokes_across(ys[col == i]) for i in sorted(kept)] + [0]
    segments = []
    for a in range(len(lines) - 1):
        for b in range(a + 1, len(lines)):
            if lines[b] - lines[a] > LATTICE_WIDEST * g.h:
                break
            sel = (col >= lines[a]) & (col < lines[b])
            if sel.sum() < 10 or np.ptp(ys[sel]) + 1 < PIECE_HEIGHT * g.h:
                continue
            m = np.zeros_like(g.mask)
            m[ys[sel] + g.y, xs[sel] + g.x] = 1
            segments.append((a, b, _Group.of(m)))
    return (crossings, segments) if segments else None


def _split_touching(groups: list[_Group], gray: GrayImage, digit_h: float,
                    want: Optional[int] = None, narrow_pairs: bool = False) -> list[tuple[_Group, list[list[_Group]]]]:
    """Each group with its alternative cuts: ``(group, [])``, or ``(group, [parts, ...])`` when it
    may be several touching digits (the classifier arbitrates, see ``pipeline.glyphs``). A cut
    whose first part is marked ``sum_only`` (``_stroke_cut``, narrow pairs) is for the sum check only.

    Flat groups (a detached bar or flag) are never split. With ``want`` (the expected number of
    digits) and too few groups, the widest groups also get a split alternative. With
    ``narrow_pairs`` (a field the sum checks), groups narrower than :data:`MAYBE_SPLIT` but not
    than :data:`NARROW_PAIR` also get their best cut, for the sum check only.
    """
    def ratio(g: _Group) -> float:
        return g.w / max(g.h, 0.7 * digit_h)

    tall = [g for g in groups if g.h >= 0.6 * digit_h]
    missing = (want or 0) - len(tall)
    extra = {id(g) for g in sorted(tall, key=ratio, reverse=True)[:max(0, (want or 0) - len(groups))] if ratio(g) >= 0.75}
    out: list[tuple[_Group, list[list[_Group]]]] = []
    for g in groups:
        r = ratio(g)
        # a 1 across a digit hardly widens it: searched for in glyphs too narrow for other cuts
        stroke = _stroke_cut(g) if g.h >= 0.6 * digit_h and r >= MAYBE_ONE_ACROSS else None
        if g.h < 0.6 * digit_h or (r < MAYBE_SPLIT and id(g) not in extra):
            alts = [stroke] if stroke else []
            if narrow_pairs and g.h >= 0.6 * digit_h and r >= NARROW_PAIR:
                for parts in _cut_candidates(g, max_cuts=1)[:1]:
                    parts[0].sum_only = True
                    alts.append(parts)
            out.append((g, alts))
            continue
        alts = _cut_candidates(g) + ([stroke] if stroke else [])
        if r >= SURE_SPLIT:  # probably several digits; still one very wide digit is possible
            n = int(max(2, min(4, round(g.w / (0.62 * max(g.h, 0.7 * digit_h))))))
            parts = [p for p in (_mser_split(g, gray, n) or _projection_split(g, n)) if p.area > 0]
            if n > 2 and len(parts) == n and min(p.h for p in parts) >= 0.4 * g.h:
                alts.insert(0, parts)
        mser = _mser_split(g, gray, 2)
        if mser and min(p.h for p in mser) >= 0.55 * g.h:
            alts.insert(0, mser)
        if missing > 0:  # a run of touching digits in a field of known length: offer 3- and 4-way cuts
            widest = int(g.w / (0.3 * max(g.h, 0.7 * digit_h)))
            for n in range(3, min(MAX_PIECES, 1 + missing, widest) + 1):
                if any(len(a) == n for a in alts):
                    continue
                parts = [p for p in (_mser_split(g, gray, n) or _projection_split(g, n)) if p.area > 0]
                if len(parts) == n and min(p.h for p in parts) >= 0.4 * g.h:
                    alts.append(parts)
        log.debug("group %dx%d: %d cut alternatives", g.w, g.h, len(alts))
        out.append((g, alts))
    return out


def _point_score(p: _Group, digits: list[_Group], digit_h: float) -> float:
    """How much a small blob looks like a decimal point between digits (0 = not at all)."""
    if len(digits) < 2:
        return 0.0
    cx = p.x + p.w / 2.0
    left = [d for d in digits if d.x + d.w / 2.0 < cx]
    right = [d for d in digits if d.x + d.w / 2.0 > cx]
    if not left or not right:
        return 0.0
    top = float(np.median([d.y for d in digits]))
    bottom = float(np.median([d.y + d.h for d in digits]))
    band = max(1.0, bottom - top)
    cy = p.y + p.h / 2.0
    pos = (cy - top) / band  # 1.0 = on the baseline
    size = max(p.w, p.h) / band
    aspect = max(p.w, p.h) / max(1.0, min(p.w, p.h))
    fill = p.area / float(max(1, p.w * p.h))
    if pos < 0.6 or pos > 1.15 or size > 0.45 or size < 0.04 or aspect > 2.5:
        return 0.0
    score = 1.0
    score *= min(1.0, (pos - 0.6) / 0.2)
    score *= 1.0 if aspect <= 1.6 else (2.5 - aspect) / 0.9
    score *= min(1.0, fill / 0.5)
    score *= 1.0 if size <= 0.28 else (0.45 - size) / 0.17  # blur and thick pens make big dots
    return float(max(0.0, min(0.99, score)))


def _crop(gray: GrayImage, g: _Group) -> GrayImage:
    """The glyph's ink on white paper, centred in a square canvas with a margin.

    Only this glyph's pixels are copied (neighbours' strokes stay out). The paper margin
    matters: a tight crop of a ``1`` is nearly all ink, and background estimation in the
    digit normaliser would take the stroke for paper.
    """
    keep = cv2.dilate(g.mask[g.y:g.y + g.h, g.x:g.x + g.w], np.ones((3, 3), np.uint8)).astype(bool)
    side = int(round(max(g.w, g.h) * 1.4)) + 4
    crop = np.full((side, side), 255, np.uint8)
    oy, ox = (side - g.h) // 2, (side - g.w) // 2
    region = crop[oy:oy + g.h, ox:ox + g.w]
    ink = gray[g.y:g.y + g.h, g.x:g.x + g.w]
    region[keep] = ink[keep]
    if g.joins is not None:  # the pen's path between the specks of a dotted 1, in the specks' ink
        own = g.mask[g.y:g.y + g.h, g.x:g.x + g.w].astype(bool)
        drawn = g.joins[g.y:g.y + g.h, g.x:g.x + g.w].astype(bool) & ~own
        if own.any():
            region[drawn] = np.minimum(region[drawn], int(np.median(ink[own])))
    return crop


def _rejoin_across_lines(groups: list[_Group], cells: list[tuple[int, int]]) -> list[_Group]:
    """Re-join a digit that overflowed a comb line and was cut in two by the line's removal."""
    cell_w = float(np.median([b - a for a, b in cells]))
    tol = max(3, int(0.08 * cell_w))
    groups = list(groups)
    for line_x in [a for a, _ in cells[1:]]:
        left = [g for g in groups if abs(g.x + g.w - line_x) <= tol]
        right = [g for g in groups if abs(g.x - line_x) <= tol]
        for a in left:
            for b in right:
                if a is b or a not in groups or b not in groups:  # a speck on the line is both
                    continue
                v_ov = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
                m = a.merged(b)
                if v_ov >= 0.3 * min(a.h, b.h) and m.w <= 1.15 * cell_w:
                    groups.remove(a)
                    groups.remove(b)
                    groups.append(m)
    return groups


def _assign_cells(groups: list[_Group], cells: list[tuple[int, int]]) -> dict[int, _Group]:
    """One digit per comb cell: split groups spanning two cells, merge groups within a cell."""
    groups = _rejoin_across_lines(groups, cells)
    pieces: list[tuple[int, _Group]] = []
    for g in groups:
        ovs = [max(0, min(g.x + g.w, b) - max(g.x, a)) for a, b in cells]
        cell_w = float(np.median([b - a for a, b in cells]))
        spanned = [i for i, o in enumerate(ovs) if o >= 0.3 * min(g.w, cells[i][1] - cells[i][0])]
        if len(spanned) > 1 and g.w > 1.15 * cell_w:  # two digits run together across a comb line
            for part in _cut(g, [cells[i][0] for i in spanned[1:]]):
                ovp = [max(0, min(part.x + part.w, b) - max(part.x, a)) for a, b in cells]
                pieces.append((int(np.argmax(ovp)), part))
        else:
            pieces.append((int(np.argmax(ovs)), g))
    out: dict[int, _Group] = {}
    for i, g in pieces:
        out[i] = out[i].merged(g) if i in out else g
    return out


MIN_PIECE = 0.22
"""Ink pieces at least this share of the box height are (parts of) digits; smaller ones are
points, fragments or dust."""
SMALL_WRITING = 0.6
"""...or at least this share of the tallest such piece: digits written small in a tall box (a
``5.5`` in a tall table cell: the second 5's body and flag are each under 22 % of the box)."""


BROKEN_GAP = 0.06
"""Pieces under :data:`MIN_PIECE` this close (share of the box height, across and along) are the
broken stroke of one pale digit; joined (:func:`_broken_digits`)..."""
BROKEN_HEIGHT = 0.36
"""...they count as a digit once they reach this share of the box height (the least digit height,
see :func:`segment_field`) and stand no wider than tall."""
DOTTED_GAP = 0.2
"""Specks up to this far apart (share of the box height) still make a dotted ``1`` when three or
more of them line up in a steep straight chain (a pen skipping along a quick downstroke)."""
DOTTED_WIDTH = 0.6
"""...no wider than this share of the chain's height."""


def linked_groups(count: int, linked: Callable[[int, int], bool]) -> list[list[int]]:
    """Indices ``0..count-1`` in groups, two indices in one group when a chain of ``linked``
    pairs joins them (union-find); groups in order of their first index, indices ascending."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(count):
        for j in range(i + 1, count):
            if linked(i, j):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _clusters(pieces: list[_Group], pad: float) -> list[tuple[_Group, list[_Group]]]:
    """``pieces`` joined where their boxes come within ``pad`` of each other, across and along:
    each cluster as (its merged group, its pieces)."""
    out = []
    for idx in linked_groups(len(pieces), lambda i, j: _near(pieces[i], pieces[j], pad)):
        g = pieces[idx[0]]
        for k in idx[1:]:
            g = g.merged(pieces[k])
        out.append((g, [pieces[k] for k in idx]))
    return out


def _joined(g: _Group, specks: list[_Group]) -> _Group:
    """``g`` (the specks of a dotted stroke) with the pen's path drawn between consecutive specks,
    top to bottom, as wide as the specks: the classifier knows a ``1``, not a column of dots."""
    joins = np.zeros_like(g.mask)
    width = max(1, int(round(float(np.median([min(m.w, m.h) for m in specks])))))
    centres = sorted((m.y + m.h / 2.0, m.x + m.w / 2.0) for m in specks)
    for (y0, x0), (y1, x1) in zip(centres, centres[1:]):
        cv2.line(joins, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), 1, width)
    return _Group(g.mask, g.x, g.y, g.w, g.h, joins=joins, pieced=True)


def _near(a: _Group, b: _Group, pad: float) -> bool:
    return (max(a.x, b.x) - min(a.x + a.w, b.x + b.w) <= pad
            and max(a.y, b.y) - min(a.y + a.h, b.y + b.h) <= pad)


def _broken_digits(small: list[_Group], big: list[_Group], least: float,
                   box_h: int) -> tuple[list[_Group], list[_Group]]:
    """Digit-sized groups made of pieces each too small to count, and the small pieces left over:
    a pale or thin stroke that the ink threshold broke into dashes (a 6 in three bits), or a
    dotted ``1`` (specks in a steep straight chain). A decimal point or dust stands alone; a dash
    of a printed line has no piece above or below it. Pieces that reach a ``big`` piece are left
    to it (they are the rest of that digit, or specks beside it)."""
    tall = max(least, BROKEN_HEIGHT * box_h)
    pad = BROKEN_GAP * box_h
    whole: list[_Group] = []
    rest: list[_Group] = []
    for g, ms in _clusters(small, pad):
        if len(ms) >= 2 and g.h >= tall and g.w <= g.h and not any(_near(g, b, pad) for b in big):
            g.pieced = True
            whole.append(g)
        else:
            rest += ms
    left: list[_Group] = []
    for g, ms in _clusters(rest, DOTTED_GAP * box_h):
        sub = g.mask[g.y:g.y + g.h, g.x:g.x + g.w]
        ys, xs = np.nonzero(sub)
        if (len(ms) >= 3 and g.h >= tall and g.w <= DOTTED_WIDTH * g.h and _linearity(xs, ys) >= EDGE_LINEARITY
                and not any(_near(g, b, pad) for b in big)):
            whole.append(_joined(g, ms))
        else:
            left += ms
    return whole, left


def segment_field(clean: np.ndarray, cleaned: GrayImage, inner: PixelBox, *,
                  cells: Optional[list[tuple[int, int]]] = None, allow_point: bool = False,
                  expected: Optional[int] = None, sum_checked: bool = False) -> Segmentation:
    """Segment the cleaned ink mask of a field into character glyphs, left to right.

    ``clean`` is the 0/1 handwriting mask, ``cleaned`` the dark-on-light field crop, ``inner``
    the writing box within the crop. ``cells`` (comb fields) gives each cell's x-range;
    ``expected`` the number of digits the field should hold, when known (guides splitting).
    ``allow_point``: a decimal point may be written (marks). ``sum_checked``: the sheet's sum
    check may re-segment the field, so narrow glyphs also get cuts for it (``Glyph.sum_splits``).
    """
    box_h = inner[3]
    digit_h = 0.6 * box_h  # typical handwritten digit height in a box
    comps = _components(clean)
    least = MIN_PIECE * box_h
    tallest = max((c.h for c in comps if max(c.h, c.w) >= least), default=0)
    least = min(least, SMALL_WRITING * tallest) if tallest else least  # digits written small in a tall box
    big = [c for c in comps if max(c.h, c.w) >= least]
    small = [c for c in comps if max(c.h, c.w) < least]
    if not cells:  # a pale digit broken into pieces each too small to count: together they do
        whole, small = _broken_digits(small, big, least, box_h)
        big += whole
    glyphs: list[Glyph] = []
    discarded = sum(c.area for c in small)
    if big:
        heights = sorted(c.h for c in big)
        digit_h = float(heights[len(heights) // 2])
        if least >= MIN_PIECE * box_h:  # digits of a usual size for the box: not below 36 % of it
            digit_h = max(digit_h, 0.36 * box_h)
        groups = _group_strokes(big, digit_h)
        # small pieces right beside a digit are fragments of it (unless they are a point)
        if cells:
            per_cell = _assign_cells(groups + [s for s in small if s.area >= 0.02 * digit_h ** 2], cells)
            for i in sorted(per_cell):
                g = per_cell[i]
                if max(g.h, g.w) < least:
                    continue
                glyphs.append(Glyph("digit", (g.x, g.y, g.w, g.h), _crop(cleaned, g), cell=i))
            discarded = sum(s.area for s in small if s.area < 0.02 * digit_h ** 2)
        else:
            points: list[Glyph] = []
            discarded = 0
            for s in small:
                score = _point_score(s, groups, digit_h) if allow_point else 0.0
                if score >= 0.3:
                    points.append(Glyph("point", (s.x, s.y, s.w, s.h), _crop(cleaned, s), point_confidence=score))
                    continue
                host = _host(s, groups, 0.1 * digit_h)
                if host is None:
                    discarded += s.area
                else:  # a detached bit of a digit (the flag of a 5, the end of a 4's stroke)
                    groups[host] = groups[host].merged(s)
            pairs = _split_touching(groups, cleaned, digit_h, expected, narrow_pairs=sum_checked)
            lattices = _lattices(groups, digit_h, expected)
            items: list[Glyph] = [_glyph(cleaned, g, parts, lattices.get(id(g), [])) for g, parts in pairs] + points
            glyphs = sorted(items, key=lambda gl: gl.box[0])
            glyphs = _one_point(glyphs)
    typical_ink = 0.12 * digit_h * digit_h
    empty_conf = float(np.clip(1.0 - discarded / typical_ink, 0.5, 1.0)) if not glyphs else 1.0
    overlay = cv2.cvtColor(cleaned, cv2.COLOR_GRAY2BGR)
    for gl in glyphs:
        x, y, w, h = gl.box
        cv2.rectangle(overlay, (x, y), (x + w - 1, y + h - 1), (0, 0, 255) if gl.kind == "digit" else (255, 0, 0), 1)
    return Segmentation(glyphs, empty_conf, {"segments": overlay})


INK_LEVEL = 160
PAPER_LEVEL = 235
"""Grey levels for :func:`stroke_linearity`: ink is darker than ``INK_LEVEL``, or than halfway
from the darkest pixel to ``PAPER_LEVEL`` (the level above which ``cleaned`` keeps no ink)."""

EDGE_LINEARITY = 6.0
"""How straight (see :func:`stroke_linearity`) the narrow piece of a cut near an edge must be."""


def stroke_linearity(crop: GrayImage) -> float:
    """How straight the ink of a glyph crop is: sqrt of the ratio of the principal variances of
    its ink pixels (a straight ``1`` stroke ~8 or more; the arc of half a ``0`` ~3-5).

    Ink is darker than 160, or for pale ink (a blurred photo: no pixel that dark) darker than
    halfway between its darkest pixel and the paper."""
    ys, xs = np.nonzero(_ink(crop)) if crop.size else ([], [])
    return _linearity(xs, ys)


def _ink(crop: GrayImage) -> np.ndarray:
    return crop < max(INK_LEVEL, (int(crop.min()) + PAPER_LEVEL) / 2)


LOOP_AREA = 0.012
"""A hole in a glyph's ink counts as a loop (of a ``0``, ``6``, ``8``, ``9``) from this share of
the crop's height squared: a ``0`` encloses ~0.2, the loop of a ``6`` ~0.05, pen gaps less."""


def loop_count(crop: GrayImage) -> int:
    """Closed loops in a glyph crop's ink (holes of at least :data:`LOOP_AREA` of its height squared)."""
    return len(loop_areas(crop))


def loop_areas(crop: GrayImage) -> list[float]:
    """The areas (px) of the closed loops :func:`loop_count` counts, smallest first."""
    if crop.size == 0:
        return []
    mask = _ink(crop).astype(np.uint8)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    least = LOOP_AREA * crop.shape[0] ** 2
    areas = (cv2.contourArea(c) for c, h in zip(contours, hierarchy[0]) if h[3] >= 0)
    return sorted(float(a) for a in areas if a >= least)


def _linearity(xs: np.ndarray, ys: np.ndarray) -> float:
    if len(xs) < 5:
        return 0.0
    cov = np.cov(np.vstack([xs, ys]).astype(np.float64))
    ev = np.linalg.eigvalsh(cov)
    return float(np.sqrt(ev[-1] / max(ev[0], 1e-6)))


def _host(piece: _Group, groups: list[_Group], pad: float) -> Optional[int]:
    """Index of the group whose (padded) box overlaps ``piece`` most, or None."""
    best, best_ov = None, 0.0
    for i, g in enumerate(groups):
        ox = min(piece.x + piece.w, g.x + g.w + pad) - max(piece.x, g.x - pad)
        oy = min(piece.y + piece.h, g.y + g.h + pad) - max(piece.y, g.y - pad)
        if ox > 0 and oy > 0 and ox * oy > best_ov:
            best, best_ov = i, ox * oy
    return best


def _glyph(cleaned: GrayImage, g: _Group, alts: list[list[_Group]],
           lattices: Sequence[tuple[list[int], list[tuple[int, int, _Group]]]] = ()) -> Glyph:
    def glyphs(parts: list[_Group]) -> list[Glyph]:
        return [Glyph("digit", (p.x, p.y, p.w, p.h), _crop(cleaned, p), pieced=g.pieced) for p in parts]

    own = [parts for parts in alts if not parts[0].sum_only]
    return Glyph("digit", (g.x, g.y, g.w, g.h), _crop(cleaned, g), pieced=g.pieced,
                 splits=[glyphs(parts) for parts in own], split_strokes=[_extra_strokes(g, parts) for parts in own],
                 sum_splits=[glyphs(parts) for parts in alts if parts[0].sum_only],
                 lattices=[Lattice(len(crossings) - 1, [(a, b, glyphs([p])[0]) for a, b, p in segments], crossings)
                           for crossings, segments in lattices])


def _extra_strokes(g: _Group, parts: list[_Group]) -> int:
    """Strokes a cut crosses beyond one per cut line: separate places where neighbouring parts
    touch, found on the group's own box (see ``Glyph.split_strokes``). A straight stroke (a
    ``1`` pressed against the next digit) may touch it all along: not counted there."""
    pad = 2
    y0, x0 = max(0, g.y - pad), max(0, g.x - pad)
    y1, x1 = g.y + g.h + pad, g.x + g.w + pad
    extra = 0
    for a, b in zip(parts, parts[1:]):
        if any(_linearity(*np.nonzero(p.mask[y0:y1, x0:x1])[::-1]) >= EDGE_LINEARITY for p in (a, b)):
            continue
        near = cv2.dilate(a.mask[y0:y1, x0:x1], _SQUARE3) & b.mask[y0:y1, x0:x1]
        if near.any():
            n, _ = cv2.connectedComponents(cv2.dilate(near, _SQUARE3))
            extra += max(0, n - 2)  # n counts the background
    return extra


def _one_point(glyphs: list[Glyph]) -> list[Glyph]:
    """At most one decimal point per number: keep the most point-like one."""
    points = [g for g in glyphs if g.kind == "point"]
    if len(points) <= 1:
        return glyphs
    best = max(points, key=lambda g: g.point_confidence)
    return [g for g in glyphs if g.kind == "digit" or g is best]
