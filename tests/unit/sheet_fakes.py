"""Small self-contained sheet images for the imaging/pipeline tests.

Independent of ``marksocr.sheets`` on purpose: registration and segmentation tests must not
depend on the generator they are meant to check against. Digits are drawn with strokes
(a crude "handwriting") so tests run without MNIST; tests that need real handwriting use the
synthetic generator instead.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from marksocr.domain import FieldKind, FieldSpec, Template

W, H = 1240, 1754
MARKERS = {"dictionary": "DICT_4X4_50", "size": 0.06,
           "positions": {"0": [0.03, 0.02], "1": [0.91, 0.02], "2": [0.03, 0.94], "3": [0.91, 0.94]}}
FIELDS = (
    FieldSpec("roll_no", FieldKind.ROLL_NO, (0.30, 0.14, 0.48, 0.05), cells=8),
    FieldSpec("subject_code", FieldKind.SUBJECT_CODE, (0.30, 0.22, 0.30, 0.05), cells=5),
    FieldSpec("Q1", FieldKind.MARK, (0.55, 0.36, 0.25, 0.05), max=10),
    FieldSpec("Q2", FieldKind.MARK, (0.55, 0.43, 0.25, 0.05), max=20),
    FieldSpec("Q3", FieldKind.MARK, (0.55, 0.50, 0.25, 0.05), max=15),
    FieldSpec("total", FieldKind.TOTAL, (0.55, 0.60, 0.25, 0.05)),
)


def template(markers: bool = True, reference=None) -> Template:
    return Template(name="fake", fields=FIELDS, markers=MARKERS if markers else None,
                    page_size=(W, H) if markers else None, reference_image=reference)


def blank_page(markers: bool = True) -> np.ndarray:
    """The printed blank sheet: markers, title, labels, comb boxes, a marks table."""
    page = np.full((H, W), 255, np.uint8)
    if markers:
        d = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
        side = int(round(MARKERS["size"] * W))
        for key, (fx, fy) in MARKERS["positions"].items():
            x, y = int(round(fx * W)), int(round(fy * H))
            page[y:y + side, x:x + side] = cv2.aruco.generateImageMarker(d, int(key), side)
    cv2.putText(page, "END SEMESTER EXAMINATION - ANSWER BOOK", (160, 150), cv2.FONT_HERSHEY_DUPLEX, 1.2, 0, 2)
    cv2.putText(page, "Department of Mechanical Engineering", (260, 200), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    for f in FIELDS:
        x, y, w, h = (int(round(v * s)) for v, s in zip(f.box, (W, H, W, H)))
        cv2.rectangle(page, (x, y), (x + w, y + h), 0, 2)
        if f.cells:
            for i in range(1, f.cells):
                cx = x + int(round(i * w / f.cells))
                cv2.line(page, (cx, y), (cx, y + h), 0, 2)
        cv2.putText(page, f.name.replace("_", " ").upper(), (x - 300, y + h - 25), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
        if f.max:
            cv2.putText(page, f"/ {f.max:g}", (x + w + 20, y + h - 25), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 2)
    for i in range(10):
        cv2.line(page, (120, 1250 + 40 * i), (1120, 1250 + 40 * i), 0, 1)
    cv2.putText(page, "Instructions: write legibly. Do not write outside the boxes.", (120, 1220), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 1)
    return page


_STROKES = {  # polylines in a 0..1 box, one list per stroke
    "0": [[(0.5, 0), (0.1, 0.25), (0.1, 0.75), (0.5, 1), (0.9, 0.75), (0.9, 0.25), (0.5, 0)]],
    "1": [[(0.3, 0.2), (0.55, 0), (0.55, 1)]],
    "2": [[(0.1, 0.25), (0.5, 0), (0.9, 0.25), (0.1, 1), (0.95, 1)]],
    "3": [[(0.1, 0.1), (0.8, 0.05), (0.4, 0.45), (0.9, 0.7), (0.5, 1), (0.1, 0.9)]],
    "4": [[(0.7, 1), (0.7, 0), (0.05, 0.7), (0.95, 0.7)]],
    "5": [[(0.9, 0), (0.2, 0), (0.15, 0.45), (0.8, 0.5), (0.85, 0.85), (0.4, 1), (0.1, 0.9)]],
    "6": [[(0.8, 0), (0.2, 0.5), (0.2, 0.9), (0.6, 1), (0.85, 0.7), (0.5, 0.5), (0.2, 0.6)]],
    "7": [[(0.05, 0), (0.95, 0), (0.4, 1)]],
    "8": [[(0.5, 0.5), (0.15, 0.25), (0.5, 0), (0.85, 0.25), (0.15, 0.8), (0.5, 1), (0.85, 0.8), (0.5, 0.5)]],
    "9": [[(0.85, 0.3), (0.5, 0.5), (0.15, 0.3), (0.5, 0), (0.85, 0.3), (0.7, 1)]],
}


def draw_digit(img: np.ndarray, ch: str, x: int, y: int, w: int, h: int, thickness: int = 4) -> None:
    """Draw one stroke digit (or a '.' dot) into ``img`` at box (x, y, w, h)."""
    if ch == ".":
        r = max(3, thickness)
        cv2.circle(img, (x + w // 2, y + h - r), r, 0, -1)
        return
    for stroke in _STROKES[ch]:
        pts = np.int32([[x + px * w, y + py * h] for px, py in stroke])
        cv2.polylines(img, [pts], False, 0, thickness, cv2.LINE_AA)


def write_field(page: np.ndarray, spec: FieldSpec, text: str, rng: np.random.Generator) -> None:
    x, y, w, h = (int(round(v * s)) for v, s in zip(spec.box, (W, H, W, H)))
    dh, dw = int(h * 0.6), int(h * 0.4)
    if spec.cells:
        cw = w / spec.cells
        for i, ch in enumerate(text):
            draw_digit(page, ch, int(x + i * cw + (cw - dw) / 2), y + int(h * 0.2), dw, dh)
        return
    cx = x + int(w * 0.15)
    for ch in text:
        if ch == ".":
            draw_digit(page, ".", cx, y + int(h * 0.2), 10, dh)
            cx += 14
        else:
            draw_digit(page, ch, cx, y + int(h * 0.2) + int(rng.integers(-3, 4)), dw, dh)
            cx += dw + int(rng.integers(6, 12))


def filled_page(values: dict[str, str], markers: bool = True, seed: int = 0) -> np.ndarray:
    page = blank_page(markers)
    rng = np.random.default_rng(seed)
    for f in FIELDS:
        if values.get(f.name):
            write_field(page, f, values[f.name], rng)
    return page


def photograph(page: np.ndarray, *, tilt_deg: float = 0.0, rotate_deg: float = 0.0, scale: float = 0.75,
               shadow: bool = False, blur: float = 0.0, shake: tuple[int, float] = (0, 0.0), jpeg: int = 0,
               out=(2400, 3200), seed: int = 0) -> np.ndarray:
    """Simulate a photo: the page on a cluttered background with perspective and rotation; out of
    focus by a Gaussian of ``blur`` px, shaken by ``shake`` (px, degrees: see :func:`smear`)."""
    rng = np.random.default_rng(seed)
    ow, oh = out
    bg = cv2.resize(rng.integers(40, 140, (oh // 40, ow // 40)).astype(np.uint8), (ow, oh), interpolation=cv2.INTER_LINEAR)
    for _ in range(12):
        c = tuple(int(v) for v in rng.integers(0, min(ow, oh), 2))
        cv2.circle(bg, c, int(rng.integers(20, 200)), int(rng.integers(0, 255)), -1)
    h, w = page.shape
    pw = scale * min(ow / w, oh / h) * w
    ph = pw * h / w
    base = np.float32([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
    t = math.radians(tilt_deg)
    base[:2, 0] *= 1 - math.sin(t) * 0.5  # top edge farther away: shorter
    base[:2, 1] *= math.cos(t)
    a = math.radians(rotate_deg)
    rot = np.float32([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    dst = base @ rot.T + np.float32([ow / 2, oh / 2])
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(page, m, (ow, oh), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(page, 255), m, (ow, oh), flags=cv2.INTER_LINEAR)
    photo = (warped.astype(np.float32) * (mask / 255.0) * 0.92 + bg * (1 - mask / 255.0)).astype(np.float32)
    if shadow:
        xx = np.linspace(0, 1, ow)[None, :]
        yy = np.linspace(0, 1, oh)[:, None]
        photo *= np.clip(0.45 + 0.55 * (xx * 0.7 + yy * 0.5), 0.4, 1.0)
    if blur:
        photo = cv2.GaussianBlur(photo, (0, 0), blur)
    if shake[0]:
        photo = cv2.filter2D(photo, -1, smear(*shake))
    photo = np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    if jpeg:
        ok, buf = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        photo = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return photo


def smear(length: int, degrees: float) -> np.ndarray:
    """The kernel of camera shake: a straight line ``length`` px long at ``degrees``, as drawn by a
    hand moving steadily while the shutter is open (anti-aliased, summing to 1)."""
    k = np.zeros((length + 3, length + 3), np.float32)
    c, a = (length + 2) / 2, math.radians(degrees)
    ends = [(int(round((c + s * length / 2 * math.cos(a)) * 16)), int(round((c + s * length / 2 * math.sin(a)) * 16)))
            for s in (-1, 1)]
    cv2.line(k, ends[0], ends[1], 1.0, 1, cv2.LINE_AA, 4)  # end points to 1/16 px
    return k / k.sum()
