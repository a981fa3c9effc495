"""Free mode: every handwritten digit string on an image, without a template.

1. normalise illumination, ink mask by hysteresis, remove long printed rules;
2. candidate glyph components from contours of the ink mask, plus MSER regions that recover
   faint strokes the threshold missed;
3. components grouped into strings along text lines (vertical overlap, similar height, gaps
   smaller than a character); small pieces (decimal points, detached strokes) join the line
   they sit in;
4. each string is segmented like a field (broken strokes grouped, touching digits cut,
   decimal points), all crops classified in one batch; glyphs the classifier is unsure about
   (letters, printed separators) break a string and are left out; strings in reading order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from marksocr.domain import GrayImage, PixelBox
from marksocr.imaging.fields import ink_mask, normalize_illumination
from marksocr.imaging.register import to_gray
from marksocr.imaging.segment import linked_groups, segment_field
from marksocr.pipeline.glyphs import decide_glyphs, glyph_crops

log = logging.getLogger(__name__)

WORK_MAX_SIDE = 1600
MIN_GLYPH_CONFIDENCE = 0.6
"""Glyphs below this are taken for letters / printed separators and left out."""
MIN_STRING_CONFIDENCE = 0.75
RELATIVE_MIN_HEIGHT = 0.5
"""Strings less than this share of the tallest string's height are taken for printed text."""
"""Strings whose mean digit confidence is below this are not digit strings."""


@dataclass(frozen=True)
class DigitString:
    """One digit string found in free mode; ``box`` is ``[x, y, w, h]`` in image pixels."""

    text: str
    box: PixelBox
    confidence: float

    def to_json(self) -> dict:
        return {"text": self.text, "box": [int(v) for v in self.box], "confidence": round(float(self.confidence), 4)}


def _ink(work: GrayImage) -> tuple[np.ndarray, GrayImage]:
    h, w = work.shape
    norm = normalize_illumination(work, max(40, int(0.12 * min(h, w))))
    mask = ink_mask(norm)
    # MSER: stable dark regions recover faint strokes connected to nothing strong
    mser = cv2.MSER_create(delta=6, min_area=30, max_area=int(0.01 * h * w))
    regions, _ = mser.detectRegions(norm)
    for r in regions:
        vals = norm[r[:, 1], r[:, 0]]
        if vals.mean() < 200:
            mask[r[:, 1], r[:, 0]] = 1
    # printed rules and frames: straight runs far longer than any handwritten stroke
    for horizontal, length in ((True, max(0.2 * w, 0.1 * h)), (False, max(0.3 * h, 0.1 * w))):
        k = cv2.getStructuringElement(cv2.MORPH_RECT, (int(length), 1) if horizontal else (1, int(length)))
        mask &= 1 - cv2.dilate(cv2.morphologyEx(mask, cv2.MORPH_OPEN, k), np.ones((3, 3), np.uint8))
    return mask, norm


def _lines(stats: np.ndarray, min_h: int) -> list[list[int]]:
    """Group component indices into text lines / strings (neighbours of like height, side by side)."""
    idx = [i for i in range(1, len(stats)) if stats[i, 3] >= min_h]

    def neighbours(i: int, j: int) -> bool:
        xa, ya, wa, ha = stats[idx[i], :4]
        xb, yb, wb, hb = stats[idx[j], :4]
        if not 0.5 <= ha / hb <= 2.0:
            return False
        v_ov = min(ya + ha, yb + hb) - max(ya, yb)
        gap = max(xb - (xa + wa), xa - (xb + wb))
        return bool(v_ov >= 0.5 * min(ha, hb) and gap <= 0.8 * max(ha, hb))

    return [[idx[k] for k in group] for group in linked_groups(len(idx), neighbours)]


def read_free(image: np.ndarray, classifier: Any) -> list[DigitString]:
    """Find and read every handwritten digit string on ``image`` (reading order)."""
    gray = to_gray(image)
    scale = min(1.0, WORK_MAX_SIDE / float(max(gray.shape)))
    work = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    h, w = work.shape
    mask, norm = _ink(work)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_h = max(10, int(0.012 * max(h, w)))
    too_big = (stats[:, 3] > 0.4 * h) | (stats[:, 2] > 0.5 * w)
    segs, crops = [], []
    for line in _lines(stats, min_h):
        line = [i for i in line if not too_big[i]]
        if not line:
            continue
        x0, y0 = int(stats[line, 0].min()), int(stats[line, 1].min())
        x1, y1 = int((stats[line, 0] + stats[line, 2]).max()), int((stats[line, 1] + stats[line, 3]).max())
        lh = y1 - y0
        # small pieces inside the line band: decimal points, detached strokes
        pad = int(0.15 * lh)
        small = [i for i in range(1, n) if stats[i, 3] < min_h and not too_big[i]
                 and stats[i, 1] >= y0 - pad and stats[i, 1] + stats[i, 3] <= y1 + pad
                 and stats[i, 0] >= x0 - lh and stats[i, 0] + stats[i, 2] <= x1 + lh]
        ids = line + small
        bx0, by0 = max(0, x0 - lh), max(0, y0 - pad)
        bx1, by1 = min(w, x1 + lh), min(h, y1 + pad)
        sub = np.isin(labels[by0:by1, bx0:bx1], ids).astype(np.uint8)
        cleaned = np.full(sub.shape, 255, np.uint8)
        keep = cv2.dilate(sub, np.ones((3, 3), np.uint8)).astype(bool)
        cleaned[keep] = norm[by0:by1, bx0:bx1][keep]
        inner = (x0 - bx0, y0 - by0, x1 - x0, int(lh / 0.6))  # digits fill ~60% of a writing box
        seg = segment_field(sub, cleaned, inner, allow_point=True)
        if not any(g.kind == "digit" for g in seg.glyphs):
            continue
        segs.append((bx0, by0, seg, len(crops)))
        crops += glyph_crops(seg.glyphs)
    probs = np.asarray(classifier.predict_proba(crops)) if crops else np.zeros((0, 10))
    out: list[DigitString] = []
    for bx0, by0, seg, first in segs:
        digits = decide_glyphs(seg.glyphs, probs, first)
        out += _strings(digits, bx0, by0, scale)
    if out:
        # printed labels are far smaller than handwriting beside them; keep strings of the
        # handwriting's size (relative to the tallest string found)
        tallest = max(s.box[3] for s in out)
        out = [s for s in out if s.box[3] >= RELATIVE_MIN_HEIGHT * tallest]
    return _reading_order(out)


def _strings(digits, x0: int, y0: int, scale: float) -> list[DigitString]:
    """Break a line's characters into strings at unsure glyphs (letters, separators)."""
    runs: list[list] = [[]]
    heights = [d.box[3] for d in digits if d.label != "."]
    med = float(np.median(heights)) if heights else 0.0
    for d in digits:
        flat = d.label != "." and d.box[3] < 0.55 * med  # a dash or underscore, not a digit
        if d.label != "." and (d.confidence < MIN_GLYPH_CONFIDENCE or flat):
            runs.append([])
        else:
            runs[-1].append(d)
    out = []
    for run in runs:
        while run and run[0].label == ".":
            run = run[1:]
        while run and run[-1].label == ".":
            run = run[:-1]
        if not run:
            continue
        conf = [d.confidence for d in run if d.label != "."]
        if float(np.mean(conf)) < MIN_STRING_CONFIDENCE:
            continue
        xs = [d.box[0] for d in run]
        ys = [d.box[1] for d in run]
        xe = [d.box[0] + d.box[2] for d in run]
        ye = [d.box[1] + d.box[3] for d in run]
        box = (int((x0 + min(xs)) / scale), int((y0 + min(ys)) / scale),
               int(round((max(xe) - min(xs)) / scale)), int(round((max(ye) - min(ys)) / scale)))
        out.append(DigitString("".join(d.label for d in run), box, float(min(d.confidence for d in run))))
    return out


def _reading_order(items: list[DigitString]) -> list[DigitString]:
    """Top to bottom by lines (strings overlapping vertically share a line), left to right."""
    lines: list[list[DigitString]] = []
    for s in sorted(items, key=lambda s: s.box[1]):
        for line in lines:
            top = min(t.box[1] for t in line)
            bot = max(t.box[1] + t.box[3] for t in line)
            if min(bot, s.box[1] + s.box[3]) - max(top, s.box[1]) > 0.5 * min(s.box[3], bot - top):
                line.append(s)
                break
        else:
            lines.append([s])
    return [s for line in lines for s in sorted(line, key=lambda s: s.box[0])]
