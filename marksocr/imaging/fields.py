"""Field cleaning: cut a field from the registered page and keep only the handwriting.

Steps (each result is kept in :class:`FieldImages` so a GUI or a test can look at it):

1. cut the box (template fractions -> page pixels) with a margin, so slightly misaligned or
   oversized writing is not cut off;
2. normalise illumination: divide by a background estimated with a grey closing (removes
   shadows and gradients, paper becomes ~255);
3. ink mask by hysteresis: strong ink seeds, faint ink connected to them (pencil, stroke ends);
4. remove printed structure: long straight horizontal/vertical lines (box borders, comb lines,
   table rules) found by morphological opening, vertical lines only where printed lines are
   expected (box edges, comb cell boundaries, or spanning the whole crop) so a handwritten ``1``
   survives; with a reference image, the registered blank layout's print is masked out too;
5. pale writing (glare, light pencil, red ink in grey) gets thresholds from the field itself, and
   the printed lines are looked for again at those levels; lone pale strokes are kept when they
   are tall enough beside the dark writing and are not pale print along the box edges;
6. one pass over the components drops specks, line slivers and residue hugging the box edges or
   comb lines, and ink lying mostly outside the writing box (labels, printed text).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np

from marksocr.domain import FieldSpec, GrayImage, PixelBox

log = logging.getLogger(__name__)

MARGIN = 0.18
"""Margin around the box, as a fraction of the box height."""
STRONG_INK = 150
"""Normalised grey level (paper = 255) below which a pixel is surely ink."""
WEAK_INK = 212
"""Normalised grey level below which a pixel is ink when connected to strong ink."""
SPECK = 0.03
"""Components smaller than (this x the writing box's shorter side) squared are dust, not ink. The
shorter side: in a tall, narrow table cell the box height overstates the writing's size, and a
decimal point was dropped as dust."""


@dataclass
class FieldImages:
    """A field cut from the registered page, with every cleaning stage.

    Images are crops of the page around the field (``box`` in page pixels); ``inner`` is the
    writing box inside the crop as (x, y, w, h). ``ink`` / ``clean`` are 0/1 uint8 masks;
    ``cleaned`` is dark-on-light uint8 with everything but handwriting whitened.
    """

    box: PixelBox
    """The crop in registered-page pixels (the crop images may be at a higher scale)."""
    inner: PixelBox
    gray: GrayImage
    normalized: GrayImage
    ink: np.ndarray
    lines: np.ndarray
    clean: np.ndarray
    cleaned: GrayImage
    cells: Optional[list[tuple[int, int]]] = None
    """For comb fields, the x-range of each cell in crop pixels."""
    debug: dict[str, np.ndarray] = field(default_factory=dict)


def field_box(spec: FieldSpec, page_size: tuple[int, int]) -> PixelBox:
    """The field's box in page pixels (no margin)."""
    w, h = page_size
    x, y, bw, bh = spec.box
    return int(round(x * w)), int(round(y * h)), max(1, int(round(bw * w))), max(1, int(round(bh * h)))


def normalize_illumination(gray: GrayImage, box_h: int) -> GrayImage:
    """Divide by an estimated paper background: shadows gone, paper ~255, ink dark.

    The background is a grey closing (removes strokes thinner than ~1/3 box height), smoothed;
    computed at 1/4 resolution for speed (light varies slowly).
    """
    f = 4 if min(gray.shape[:2]) >= 48 else 1
    small = cv2.resize(gray, (max(1, gray.shape[1] // f), max(1, gray.shape[0] // f)), interpolation=cv2.INTER_AREA) if f > 1 else gray
    k = max(5, int(box_h * 0.35 / f)) | 1
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    bg = cv2.GaussianBlur(bg, (0, 0), max(1.0, k / 4))
    if f > 1:
        bg = cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    bg = np.maximum(bg, gray)  # background is never darker than the pixel itself
    return cv2.divide(gray, np.maximum(bg, 1), scale=255)


def ink_mask(norm: GrayImage, strong_level: float = STRONG_INK, weak_level: float = WEAK_INK) -> np.ndarray:
    """Hysteresis threshold: faint pixels count only when connected to strong ink."""
    weak = (norm < weak_level).astype(np.uint8)
    strong = norm < strong_level
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _open_lines(mask: np.ndarray, length: int, horizontal: bool) -> np.ndarray:
    length = max(3, int(length))
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, k)


def line_mask(ink: np.ndarray, inner: PixelBox, cells: Optional[list[tuple[int, int]]]) -> np.ndarray:
    """Pixels of printed straight lines (borders, comb lines, rules) in the crop."""
    ch, cw = ink.shape
    x, y, w, h = inner
    # horizontal: longer than any handwritten stroke (a digit is at most ~box-height wide)
    hl = min(max(1.3 * h, 0.4 * w), 0.95 * w)
    horiz = _open_lines(ink, hl, True)
    # vertical: anything spanning (almost) the whole crop cannot be a digit written in the box
    vert_full = _open_lines(ink, 0.92 * ch, False)
    # shorter vertical lines only at the places printed lines are expected
    vert = _open_lines(ink, 0.7 * h, False)
    expected = [x, x + w] + ([a for a, _ in cells[1:]] if cells else [])
    tol = max(4, int(0.1 * h))
    near = np.zeros(cw, bool)
    for ex in expected:
        near[max(0, ex - tol): min(cw, ex + tol + 1)] = True
    vert[:, ~near] = 0
    lines = horiz | vert_full | vert
    # thicken a little: anti-aliased line edges are ink too
    return cv2.dilate(lines, np.ones((3, 3), np.uint8))


def reference_mask(ref_crop: GrayImage, box_h: int, dilate: int = 2) -> np.ndarray:
    """Printed structure of the blank reference layout in this crop (dilated for misalignment).

    The reference is a clean image of the blank sheet: a global threshold relative to its paper
    level is enough.
    """
    paper = _quantile(ref_crop.ravel(), 0.9) if ref_crop.size else 255.0
    m = (ref_crop < 0.75 * paper).astype(np.uint8)
    return cv2.dilate(m, np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8))


def crop_geometry(spec: FieldSpec, page_size: tuple[int, int]) -> tuple[PixelBox, PixelBox]:
    """The crop around a field (box plus margin, clipped to the page) and the box within it.

    Both in page pixels: ``(crop_box, inner)`` where ``inner`` is relative to the crop.
    """
    pw, ph = page_size
    bx, by, bw, bh = field_box(spec, page_size)
    m = max(4, int(round(MARGIN * bh)))
    x0, y0 = max(0, bx - m), max(0, by - m)
    x1, y1 = min(pw, bx + bw + m), min(ph, by + bh + m)
    return (x0, y0, x1 - x0, y1 - y0), (bx - x0, by - y0, min(bw, x1 - bx), min(bh, y1 - by))


def cut_from_photo(photo: GrayImage, homography: np.ndarray, crop_box: PixelBox, scale: float) -> GrayImage:
    """Cut ``crop_box`` (registered-page pixels) straight from the photo at ``scale`` x the page.

    Sampling the original photo (instead of the downscaled registered page) keeps thin, faint
    strokes: a field is read at up to ~300 dpi while the page is kept at ~150 dpi.
    """
    x0, y0, w, h = crop_box
    m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale], [0, 0, 1]], np.float64) @ homography
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    flags = cv2.INTER_LINEAR if scale >= 1.5 else cv2.INTER_AREA
    return cv2.warpPerspective(photo, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _scaled(box: PixelBox, scale: float) -> PixelBox:
    return tuple(int(round(v * scale)) for v in box)  # type: ignore[return-value]


def clean_field(page: GrayImage, spec: FieldSpec, *, reference: Optional[GrayImage] = None,
                photo: Optional[GrayImage] = None, homography: Optional[np.ndarray] = None,
                scale: float = 1.0) -> FieldImages:
    """Cut ``spec`` from the registered ``page`` and isolate its handwriting.

    ``reference`` is the blank layout registered to the same frame as the page (any size with
    the page's aspect ratio; it is sampled at the field's scale), when the template has a
    reference image: its print is masked out of the field. With ``photo`` and ``homography``
    (photo -> page pixels) the field is cut from the photo at ``scale`` x the page resolution.
    """
    ph, pw = page.shape[:2]
    crop_box, inner_1x = crop_geometry(spec, (pw, ph))
    if photo is not None and homography is not None and scale != 1.0:
        gray = cut_from_photo(photo, homography, crop_box, scale)
    else:
        scale = 1.0
        x0, y0, w, h = crop_box
        gray = page[y0:y0 + h, x0:x0 + w]
    ref_crop = None
    if reference is not None:
        rs = reference.shape[1] / float(pw) / scale  # reference pixels per crop pixel
        x0, y0, w, h = crop_box
        rx0, ry0 = int(round(x0 * scale * rs)), int(round(y0 * scale * rs))
        ref = reference[ry0:ry0 + int(round(h * scale * rs)), rx0:rx0 + int(round(w * scale * rs))]
        ref_crop = cv2.resize(ref, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_AREA) if ref.size else None
    return clean_crop(gray, spec, _scaled(inner_1x, scale), crop_box, ref_crop)


def clean_crop(gray: GrayImage, spec: FieldSpec, inner: PixelBox, crop_box: PixelBox,
               ref_crop: Optional[GrayImage] = None) -> FieldImages:
    """Clean an already cut field crop (``inner`` = the writing box in crop pixels)."""
    bh = inner[3]
    cells = None
    if spec.cells and spec.cells > 1:
        step = inner[2] / float(spec.cells)
        cells = [(int(round(inner[0] + i * step)), int(round(inner[0] + (i + 1) * step))) for i in range(spec.cells)]
    norm = normalize_illumination(gray, bh)
    ink = ink_mask(norm)
    lines = line_mask(ink, inner, cells)
    clean = ink & (1 - lines)
    ref_m = None
    if ref_crop is not None:
        ref_m = reference_mask(ref_crop, bh, dilate=max(2, int(round(bh * 0.03))))
        clean = clean & (1 - ref_m)
    faint = faint_ink_levels(norm, lines if ref_m is None else lines | ref_m, inner)
    if faint is not None:  # pale ink (glare, light pencil, red ink in grey): thresholds from the field itself
        ink = ink_mask(norm, *faint)
        # pale printed lines show up at these levels too, blurred wider than the fixed levels see them
        lines = lines | cv2.dilate(line_mask(ink, inner, cells), np.ones((5, 5), np.uint8))
        clean = ink & (1 - lines) if ref_m is None else ink & (1 - lines) & (1 - ref_m)
    printed = lines if ref_m is None else lines | ref_m
    pale = pale_strokes(norm, ink, printed, inner, cells)
    if pale.any():
        # printed lines too pale for the ink levels (a thin border blurred by the camera) are still
        # print: without this, a pale stroke as tall as the box was its right edge, read as a 1.
        # Looked for only when there are pale strokes: most fields have none, and it takes time.
        printed = printed | line_mask((norm < PALE_WEAK).astype(np.uint8), inner, cells)
        pale = pale_strokes(norm, ink, printed, inner, cells)
    clean = clean | pale
    clean = filter_components(clean, inner, cells, printed=printed)
    cleaned = np.full_like(norm, 255)
    keep = cv2.dilate(clean, np.ones((3, 3), np.uint8)).astype(bool) & (norm < 235)
    cleaned[keep] = norm[keep]
    debug = {"gray": gray, "normalized": norm, "ink": ink * 255, "lines": lines * 255, "cleaned": cleaned}
    return FieldImages(crop_box, inner, gray, norm, ink, lines, clean, cleaned, cells, debug)


PALE_STROKE = 195
"""A digit-sized stroke with no pixel as dark as ``STRONG_INK`` is still writing when its darkest
pixel is below this level (a thin ``1`` blurred by the camera: 176 beside digits at 110-130)."""
PALE_MIN_HEIGHT = 0.4
"""...and it is at least this share of the box height (smaller pale marks are smudges), or, in a
box much taller than the writing in it, :data:`PALE_OF_WRITING` x the tallest dark writing."""
PALE_OF_WRITING = 0.6
"""A thin pale ``4`` beside a dark ``5``, both a third of a tall table cell high, is a digit too
(a mark ``4.5`` was read ``5``)."""
PALE_FLOOR = 0.2
"""...but never less than this share of the box height."""
PALE_WEAK = 225
"""A pale stroke's pixels: lighter than ``WEAK_INK``, as a blurred thin ``1`` falls apart at 212."""


def pale_strokes(norm: GrayImage, ink: np.ndarray, printed: np.ndarray, inner: PixelBox,
                 cells: Optional[list[tuple[int, int]]] = None) -> np.ndarray:
    """Pale digit-sized strokes that the hysteresis threshold missed because no pixel of theirs
    reaches ``STRONG_INK``: components of ``norm < PALE_WEAK`` that are not ``ink``, keep clear of
    printed lines, are darker than :data:`PALE_STROKE` somewhere, tall enough for a digit and not
    slivers along the box edges or comb lines."""
    near_print = cv2.dilate(printed.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    writing = ink.astype(bool) & ~near_print
    weak = (norm < PALE_WEAK) & ~ink.astype(bool) & ~near_print
    n, labels, stats, _ = cv2.connectedComponentsWithStats(weak.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(ink)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[norm < PALE_STROKE])] = True  # dark enough somewhere
    keep &= stats[:, cv2.CC_STAT_HEIGHT] >= PALE_FLOOR * inner[3]
    keep[0] = False
    if not keep.any():  # the usual case: the checks below take time
        return np.zeros_like(ink)
    keep &= stats[:, cv2.CC_STAT_HEIGHT] >= _pale_min_height(writing, inner)
    keep &= ~_pale_border_pieces(labels, stats, inner, cells, printed)
    keep &= ~_along_edges(labels, n, inner)  # a corner of a pale border (an L), read as .5 beside a total
    keep[0] = False
    return keep[labels].astype(ink.dtype)


EDGE_BAND = 0.1
"""Half-width of the band along the writing box's edges, as a share of the box height."""


def _along_edges(labels: np.ndarray, n: int, inner: PixelBox) -> np.ndarray:
    """Per component: a corner of the box's print? Most of its pixels lie in the band along the
    writing box's edges, with a good share along a top or bottom edge and along a side (an L:
    a pale ``1`` written close to one side is not a corner)."""
    x, y, w, h = inner
    t = max(2, int(round(EDGE_BAND * h)))
    flat = np.zeros(labels.shape, bool)
    upright = np.zeros(labels.shape, bool)
    for yy in (y, y + h):
        flat[max(0, yy - t):yy + t, max(0, x - t):x + w + t] = True
    for xx in (x, x + w):
        upright[max(0, y - t):y + h + t, max(0, xx - t):xx + t] = True
    total = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)
    on_flat = np.bincount(labels[flat].ravel(), minlength=n)
    on_upright = np.bincount(labels[upright].ravel(), minlength=n)
    on_either = np.bincount(labels[flat | upright].ravel(), minlength=n)
    return (on_either >= 0.6 * total) & (on_flat >= 0.25 * total) & (on_upright >= 0.25 * total)


def _pale_min_height(writing: np.ndarray, inner: PixelBox) -> float:
    """How tall a pale stroke must be: :data:`PALE_MIN_HEIGHT` x the box height, lowered to
    :data:`PALE_OF_WRITING` x the tallest dark writing inside the box when that is shorter."""
    x, y, w, h = inner
    n, _, stats, _ = cv2.connectedComponentsWithStats(writing[y:y + h, x:x + w].astype(np.uint8), connectivity=8)
    big = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= max(4, int((SPECK * min(h, w)) ** 2))]
    tallest = int(big[:, cv2.CC_STAT_HEIGHT].max()) if len(big) else 0
    if tallest == 0:
        return PALE_MIN_HEIGHT * h
    return min(PALE_MIN_HEIGHT * h, max(PALE_FLOOR * h, PALE_OF_WRITING * tallest))


def filter_components(mask: np.ndarray, inner: PixelBox, cells: Optional[list[tuple[int, int]]] = None,
                      min_inside: float = 0.5, printed: Optional[np.ndarray] = None) -> np.ndarray:
    """One pass over the ink's connected components, dropping what is not handwriting:

    * specks far too small for a stroke or a decimal point (dust, JPEG noise);
    * 1-2 px slivers left along removed lines;
    * components lying mostly outside the writing box (labels, printed text around the box);
    * thin residue of printed lines hugging the box edges or a comb line, parallel to it (a
      handwritten ``1`` is written inside the box, not on its border). With ``printed`` (the
      mask of printed lines found in the crop), residue must also lie against printed pixels:
      a ``1`` written a little inside a narrow box is not a sliver of its border.
    """
    x, y, w, h = inner
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    area = stats[:, cv2.CC_STAT_AREA]
    ww, hh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    keep = area >= max(4, int((SPECK * min(h, w)) ** 2))
    keep &= ~((np.minimum(ww, hh) <= 2) & (np.maximum(ww, hh) >= 4 * np.minimum(ww, hh)))
    inside = np.bincount(labels[y:y + h, x:x + w].ravel(), minlength=n)
    keep &= inside / np.maximum(area, 1) >= min_inside
    sliver = _edge_slivers(stats, inner, cells)
    if printed is not None:
        sliver &= _against_print(labels, printed, h)
    keep &= ~sliver
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _edge_slivers(stats: np.ndarray, inner: PixelBox, cells: Optional[list[tuple[int, int]]]) -> np.ndarray:
    """Per component: thin, parallel to and lying along a box edge or a comb line?"""
    x, y, w, h = inner
    cx, cy, cw, ch = (stats[:, k].astype(float) for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP,
                                                            cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    mid_x, mid_y = cx + cw / 2.0, cy + ch / 2.0
    tol = EDGE_BAND * h
    verticals = [(x, tol), (x + w, tol)] + ([(a, 0.05 * h) for a, _ in cells[1:]] if cells else [])
    near_v = np.zeros(len(stats), bool)
    for vx, t in verticals:
        near_v |= np.abs(mid_x - vx) <= t
    upright = (cw <= 0.1 * h) & (ch >= 2 * cw) & near_v
    flat = (ch <= 0.1 * h) & (cw >= 2 * ch) & (np.minimum(np.abs(mid_y - y), np.abs(mid_y - (y + h))) <= tol)
    return upright | flat


def _pale_border_pieces(labels: np.ndarray, stats: np.ndarray, inner: PixelBox,
                        cells: Optional[list[tuple[int, int]]], printed: np.ndarray) -> np.ndarray:
    """Per pale component: a piece of a pale border, too short to be found as a line? A sliver
    along a box edge or comb line (:func:`_edge_slivers`), unless that edge's printed line was
    found beside it and the stroke keeps clear of it: a pale ``1`` written a few pixels inside a
    tall table cell's found border is writing (a mark ``14.5`` was read ``4.5``)."""
    sliver = _edge_slivers(stats, inner, cells)
    if not sliver.any() or not printed.any():
        return sliver
    against = _against_print(labels, printed, inner[3])
    tol = int(round(EDGE_BAND * inner[3]))
    for i in np.flatnonzero(sliver & ~against):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if h >= w:  # upright: a found vertical line in the band beside it, along its height
            band = printed[y:y + h, max(0, x - tol):x + w + tol]
            found = band.sum(axis=0).max(initial=0) >= 0.5 * h
        else:
            band = printed[max(0, y - tol):y + h + tol, x:x + w]
            found = band.sum(axis=1).max(initial=0) >= 0.5 * w
        sliver[i] = not found
    return sliver


def _against_print(labels: np.ndarray, printed: np.ndarray, box_h: int) -> np.ndarray:
    """Per component: does at least half of it lie within a few pixels of printed lines?"""
    d = max(2, int(round(0.025 * box_h)))
    near = cv2.dilate(printed.astype(np.uint8), np.ones((2 * d + 1, 2 * d + 1), np.uint8)).astype(bool)
    n = int(labels.max()) + 1
    total = np.bincount(labels.ravel(), minlength=n)
    close = np.bincount(labels[near].ravel(), minlength=n)
    return close >= 0.5 * np.maximum(total, 1)


def _quantile(values: np.ndarray, q: float) -> float:
    """A quantile by partial sort (np.percentile sorts fully: slow on big crops)."""
    flat = values.ravel()
    k = min(flat.size - 1, max(0, int(q * flat.size)))
    return float(np.partition(flat, k)[k])


FAINT_MIN_CONTRAST = 30
"""Darkest writing must stand this many grey levels below the paper to count as faint ink."""


def faint_ink_levels(norm: GrayImage, printed: np.ndarray, inner: PixelBox) -> Optional[tuple[float, float]]:
    """(strong, weak) thresholds for a field whose writing is too pale for the fixed ones.

    None when the field holds normal dark ink (or nothing but paper noise). Looks at the darkest
    pixels inside the writing box, away from printed lines.
    """
    x, y, w, h = inner
    d = max(2, int(0.05 * h))
    region = norm[y + d:y + h - d, x + d:x + w - d]
    excl = cv2.dilate(printed, np.ones((5, 5), np.uint8))[y + d:y + h - d, x + d:x + w - d].astype(bool)
    vals = region[~excl]
    if vals.size < 200:
        return None
    dark = _quantile(vals, 0.003)
    paper = _quantile(vals, 0.6)
    contrast = paper - dark
    if dark < STRONG_INK or contrast < FAINT_MIN_CONTRAST:
        return None
    return dark + 0.45 * contrast, dark + 0.8 * contrast
