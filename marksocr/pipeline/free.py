"""Free mode: every handwritten digit string on an image, without a template.

1. normalise illumination, ink mask by hysteresis, remove long printed rules;
2. candidate glyphs from contour boxes of the ink and MSER regions (merged, de-duplicated),
   kept when digit-sized (height, aspect, fill) relative to the image;
3. glyphs grouped into strings along text lines (vertical overlap, similar height, small gap),
   broken strokes merged, touching digits split, decimal points detected (as in fields);
4. one batched classification; glyphs the classifier is unsure about (letters, printed
   separators) break a string and are left out; strings in reading order.
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
from marksocr.imaging.segment import segment_field

log = logging.getLogger(__name__)

WORK_MAX_SIDE = 1600
MIN_GLYPH_CONFIDENCE = 0.6
"""Glyphs below this are taken for letters / printed separators and left out."""


@dataclass(frozen=True)
class DigitString:
    """One digit string found in free mode; ``box`` is ``[x, y, w, h]`` in image pixels."""

    text: str
    box: PixelBox
    confidence: float

    def to_json(self) -> dict:
        return {"text": self.text, "box": [int(v) for v in self.box], "confidence": round(float(self.confidence), 4)}


def _candidates(mask: np.ndarray, norm: GrayImage) -> list[tuple[int, int, int, int]]:
    """Digit-sized boxes from contours and MSER regions."""
    h, w = mask.shape
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(c) for c in contours]
    mser = cv2.MSER_create(delta=5, min_area=40, max_area=int(0.02 * h * w))
    _, mboxes = mser.detectRegions(norm)
    boxes += [tuple(int(v) for v in b) for b in mboxes]
    min_h, max_h = max(8, int(0.008 * max(h, w))), int(0.4 * min(h, w))
    keep = []
    for x, y, bw, bh in boxes:
        if max(bw, bh) < 3:
            continue
        keep.append((x, y, bw, bh))
    out: list[tuple[int, int, int, int]] = []
    for b in sorted(set(keep), key=lambda b: -b[2] * b[3]):
        if b[3] > max_h or b[2] > 3 * max_h:
            continue
        if any(_inside(b, o) for o in out):
            continue
        out.append(b)
    return [b for b in out if b[3] >= min_h or _dotlike(b, min_h)]


def _dotlike(b, min_h: int) -> bool:
    return b[2] >= 2 and b[3] >= 2 and max(b[2], b[3]) <= min_h and max(b[2], b[3]) <= 2.5 * min(b[2], b[3])


def _inside(a, b) -> bool:
    """``a`` lies (mostly) inside ``b``."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return ix > 0 and iy > 0 and ix * iy >= 0.8 * a[2] * a[3]


def _lines(boxes: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    """Group boxes into strings: same line (vertical overlap), similar height, small gaps."""
    tall = sorted([b for b in boxes], key=lambda b: b[0])
    strings: list[list] = []
    for b in sorted(tall, key=lambda b: -b[3]):
        placed = False
        for s in strings:
            ref = max(s, key=lambda t: t[3])
            top, bot = min(t[1] for t in s), max(t[1] + t[3] for t in s)
            ov = min(bot, b[1] + b[3]) - max(top, b[1])
            gap = min(abs(b[0] - (t[0] + t[2])) if b[0] >= t[0] + t[2] else abs(t[0] - (b[0] + b[2])) if t[0] >= b[0] + b[2] else 0 for t in s)
            small_ok = b[3] < 0.45 * ref[3] and b[1] + b[3] <= bot + 0.2 * ref[3] and b[1] >= top
            if (ov >= 0.5 * min(b[3], bot - top) and 0.4 <= b[3] / ref[3] <= 2.5 or small_ok) and gap <= 1.0 * ref[3]:
                s.append(b)
                placed = True
                break
        if not placed:
            strings.append([b])
    return [sorted(s, key=lambda t: t[0]) for s in strings]


def read_free(image: np.ndarray, classifier: Any) -> list[DigitString]:
    """Find and read every handwritten digit string on ``image`` (reading order)."""
    gray = to_gray(image)
    scale = min(1.0, WORK_MAX_SIDE / float(max(gray.shape)))
    work = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    h, w = work.shape
    norm = normalize_illumination(work, max(40, int(0.08 * min(h, w))))
    mask = ink_mask(norm)
    for horizontal, length in ((True, 0.15 * w), (False, 0.15 * h)):
        k = cv2.getStructuringElement(cv2.MORPH_RECT, (int(length), 1) if horizontal else (1, int(length)))
        mask &= 1 - cv2.dilate(cv2.morphologyEx(mask, cv2.MORPH_OPEN, k), np.ones((3, 3), np.uint8))
    boxes = _candidates(mask, norm)
    segs = []
    crops: list[np.ndarray] = []
    for line in _lines(boxes):
        x0 = max(0, min(b[0] for b in line) - 4)
        y0 = max(0, min(b[1] for b in line) - 4)
        x1 = min(w, max(b[0] + b[2] for b in line) + 4)
        y1 = min(h, max(b[1] + b[3] for b in line) + 4)
        if max(b[3] for b in line) < max(10, int(0.01 * max(h, w))):
            continue
        sub = mask[y0:y1, x0:x1].copy()
        cleaned = np.full_like(norm[y0:y1, x0:x1], 255)
        keep = sub.astype(bool)
        cleaned[keep] = norm[y0:y1, x0:x1][keep]
        seg = segment_field(sub, cleaned, (0, 0, x1 - x0, y1 - y0), allow_point=True)
        digits = [g for g in seg.glyphs if g.kind == "digit"]
        if not digits:
            continue
        segs.append((x0, y0, seg, len(crops)))
        crops += [g.crop for g in digits]
    probs = np.asarray(classifier.predict_proba(crops)) if crops else np.zeros((0, 10))
    out: list[DigitString] = []
    for x0, y0, seg, first in segs:
        out += _strings(seg.glyphs, probs, first, x0, y0, scale)
    out.sort(key=lambda s: (s.box[1] + s.box[3] / 2, s.box[0]))
    return _reading_order(out)


def _strings(glyphs, probs: np.ndarray, first: int, x0: int, y0: int, scale: float) -> list[DigitString]:
    """Turn one line's glyphs into strings, breaking at glyphs that are not confident digits."""
    runs: list[list[tuple[str, float, tuple]]] = [[]]
    k = first
    for g in glyphs:
        if g.kind == "point":
            runs[-1].append((".", g.point_confidence, g.box))
            continue
        p = probs[k]
        k += 1
        lab = int(np.argmax(p))
        if p[lab] < MIN_GLYPH_CONFIDENCE:
            runs.append([])
            continue
        runs[-1].append((str(lab), float(p[lab]), g.box))
    out = []
    for run in runs:
        while run and run[0][0] == ".":
            run = run[1:]
        while run and run[-1][0] == ".":
            run = run[:-1]
        if not run:
            continue
        xs = [b[0] for _, _, b in run]
        ys = [b[1] for _, _, b in run]
        xe = [b[0] + b[2] for _, _, b in run]
        ye = [b[1] + b[3] for _, _, b in run]
        box = (int((x0 + min(xs)) / scale), int((y0 + min(ys)) / scale),
               int((max(xe) - min(xs)) / scale), int((max(ye) - min(ys)) / scale))
        out.append(DigitString("".join(c for c, _, _ in run), box, min(c for _, c, _ in run)))
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
