"""Turn a digit crop from a photo into an MNIST-like 28x28 image.

MNIST digits are white on black, fitted into a 20x20 box keeping their aspect
ratio, anti-aliased, and placed in a 28x28 field so that their centre of mass is
at the centre. Crops cut from a photo are dark ink on light paper, of any size,
with uneven light, noise and pen strokes of any width. ``normalize_digit`` bridges
the two: background removal, binarisation, small-speck removal, stroke-width
normalisation, MNIST fitting and centring. Pure NumPy/OpenCV: no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from marksocr.domain import GrayImage

MNIST_SIZE = 28
BOX = 20
# Mean stroke width of MNIST digits in the 20x20 box, measured with
# ``stroke_width`` on binarised MNIST training digits (see tests/unit/test_normalize.py).
TARGET_STROKE = 2.3
# Below this ink contrast (grey levels, 0..255) a crop is paper, not writing.
MIN_CONTRAST = 40
# Ink covering less than this share of the crop (after speck removal) is blank.
MIN_INK_FRACTION = 0.002
MIN_INK_PIXELS = 6
# Crops are worked on at most this many pixels on their long side.
WORK_SIZE = 64

# Paper whose border varies by at most this many grey levels is evenly lit.
FLAT_PAPER = 6

_SQUARE3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Normalized:
    """An MNIST-like digit: ``image`` (28, 28) float32 in 0..1, white on black."""

    image: npt.NDArray[np.float32]
    blank: bool
    stroke_width: float = 0.0


def _as_gray(crop: npt.ArrayLike) -> GrayImage:
    arr = np.asarray(crop)
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr.astype(np.uint8), cv2.COLOR_BGR2GRAY if arr.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if arr.ndim != 2:
        raise ValueError(f"a digit crop must be a 2-D image, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return arr


def _looks_inverted(gray: GrayImage) -> bool:
    """Light ink on a dark background (e.g. a raw MNIST digit)?"""
    border_mean = (int(gray[0].sum()) + int(gray[-1].sum()) + int(gray[:, 0].sum()) + int(gray[:, -1].sum())) / (
        2 * (gray.shape[0] + gray.shape[1]))
    return border_mean < 100 and float(gray.mean()) < 128


def ink_map(crop: npt.ArrayLike) -> GrayImage:
    """Ink intensity (0 = paper, 255 = darkest ink), with uneven light removed.

    Large crops are first reduced to ``WORK_SIZE`` pixels on their long side: the
    digit ends up 20 pixels high anyway, and this bounds the cost per crop.
    """
    gray = _as_gray(crop)
    if _looks_inverted(gray):
        gray = 255 - gray
    h, w = gray.shape
    if max(h, w) > WORK_SIZE:
        f = WORK_SIZE / max(h, w)
        gray = cv2.resize(gray, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA)
        h, w = gray.shape
    flat = _flat_paper(gray)
    if flat is not None:
        # Evenly lit paper (scans, clean crops, MNIST itself): the median filter
        # below would return (nearly) this level everywhere, and it was the largest single cost
        # per crop (about a fifth of the normaliser's time on MNIST-sized crops).
        return cv2.subtract(np.maximum(gray, np.uint8(flat)), gray)
    if min(h, w) >= 12:
        # A median wider than a stroke erases the ink and keeps the paper, including
        # sharp steps of light (shadow edges) that a max filter would turn into ink.
        k = max(5, int(min(h, w) * 0.6) | 1)
        pad = k // 2
        padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        background = cv2.medianBlur(padded, k)[pad:pad + h, pad:pad + w]
        background = np.maximum(background, gray)  # paper is never darker than itself
    else:
        background = np.full_like(gray, int(_quantile(gray, 0.9)))
    return cv2.subtract(background, gray)


def _flat_paper(gray: GrayImage) -> int | None:
    """The paper level when the crop's paper is evenly lit, else None.

    Evenly lit means: at least 90% of the crop's outer ring is within
    ``FLAT_PAPER`` grey levels of the ring's median, and nothing in the crop is
    brighter than that band (no lighter paper inside a shadowed ring).
    """
    ring = np.concatenate((gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]))
    level = int(np.partition(ring, len(ring) // 2)[len(ring) // 2])
    if int(gray.max()) > level + FLAT_PAPER:
        return None
    near = np.count_nonzero(np.abs(ring.astype(np.int16) - level) <= FLAT_PAPER)
    return level if near >= 0.9 * len(ring) else None


def _quantile(img: GrayImage, q: float) -> float:
    """A fast quantile of a small uint8 image (np.percentile costs more than the rest)."""
    if img.size == 0:
        return 0.0
    flat = img.ravel()
    k = min(flat.size - 1, int(q * flat.size))
    return float(np.partition(flat, k)[k])


def ink_mask(ink: GrayImage) -> GrayImage:
    """Binary mask (0/255) of the strokes in an ink map; all zero when there are none."""
    peak = _quantile(ink, 0.995)
    if peak < MIN_CONTRAST:
        return np.zeros_like(ink)
    otsu, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(otsu, 0.3 * peak, MIN_CONTRAST * 0.6)
    mask = (ink > level).astype(np.uint8) * 255
    return _drop_specks(mask)


def _drop_specks(mask: GrayImage) -> GrayImage:
    """Remove components much smaller than the largest one (noise, dust, JPEG blocks)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = areas.max()
    keep_min = max(MIN_INK_PIXELS, 0.08 * largest, mask.size * 0.0005)
    if areas.min() >= keep_min:  # nothing to drop (the common case)
        return mask
    keep = np.zeros(n, dtype=np.uint8)
    keep[1:] = np.where(areas >= keep_min, 255, 0)
    return keep[labels]


def stroke_width(mask: GrayImage) -> float:
    """Mean stroke width in pixels: twice the area over the outline length."""
    area = float(cv2.countNonZero(mask))
    if area == 0:
        return 0.0
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * area / max(perimeter, 1.0)


def _adjust_stroke(mask: GrayImage, soft: GrayImage, scale: float) -> tuple[GrayImage, GrayImage, float]:
    """Thicken hairlines / thin marker strokes so they match MNIST after scaling."""
    width = stroke_width(mask)
    wanted = TARGET_STROKE / scale  # in crop pixels
    if width <= 0:
        return mask, soft, width
    if width < 0.7 * wanted:
        k = int(round(wanted - width))
        if k >= 1:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 1, k + 1))
            mask, soft = cv2.dilate(mask, kernel), cv2.dilate(soft, kernel)
    elif width > 1.6 * wanted:
        k = int(round((width - wanted) / 2))
        if k >= 1:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
            thinner = cv2.erode(mask, kernel)
            if np.count_nonzero(thinner) > 0.35 * np.count_nonzero(mask):
                mask, soft = thinner, cv2.erode(soft, kernel)
    return mask, soft, width


def _soft_ink(ink: GrayImage, mask: GrayImage) -> GrayImage:
    """Grey-level ink near the strokes, stretched so the strokes' core is 255.

    Keeping grey levels (not just the binary mask) preserves the anti-aliased edges
    that small crops, like MNIST's own digits, carry.
    """
    core = ink[mask > 0]
    level = float(np.partition(core, len(core) // 2)[len(core) // 2]) if core.size else 255.0
    stretched = cv2.convertScaleAbs(ink, alpha=255.0 / max(level, 1.0))
    near = cv2.dilate(mask, _SQUARE3)
    return cv2.bitwise_and(stretched, near)


def _fit_and_centre(mask: GrayImage, soft: GrayImage) -> npt.NDArray[np.float32]:
    x0, y0, w0, h0 = cv2.boundingRect(mask)
    digit = soft[y0:y0 + h0, x0:x0 + w0]
    h, w = digit.shape
    scale = BOX / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(digit, (nw, nh), interpolation=interp).astype(np.float32)
    canvas = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    top, left = (MNIST_SIZE - nh) // 2, (MNIST_SIZE - nw) // 2
    canvas[top:top + nh, left:left + nw] = small
    m = cv2.moments(canvas)
    if m["m00"] > 0:
        dx = MNIST_SIZE / 2 - m["m10"] / m["m00"]
        dy = MNIST_SIZE / 2 - m["m01"] / m["m00"]
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        canvas = cv2.warpAffine(canvas, shift, (MNIST_SIZE, MNIST_SIZE), flags=cv2.INTER_LINEAR)
    canvas *= np.float32(1 / 255.0)
    return np.clip(canvas, 0.0, 1.0, out=canvas)


def normalize_digit(crop: npt.ArrayLike) -> Normalized:
    """Normalise one dark-on-light crop (any size) to an MNIST-like 28x28 image."""
    gray = _as_gray(crop)
    if gray.size == 0 or min(gray.shape) < 2:
        return Normalized(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), blank=True)
    ink = ink_map(gray)
    mask = ink_mask(ink)
    ink_px = cv2.countNonZero(mask)
    if ink_px < max(MIN_INK_PIXELS, MIN_INK_FRACTION * mask.size):
        return Normalized(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), blank=True)
    _, _, bw, bh = cv2.boundingRect(mask)
    extent = max(bw, bh)
    mask, soft, width = _adjust_stroke(mask, _soft_ink(ink, mask), BOX / extent)
    return Normalized(_fit_and_centre(mask, soft), blank=False, stroke_width=width)


def is_blank(crop: npt.ArrayLike) -> bool:
    """True when the crop holds no writing (paper, faint smudges, specks)."""
    return normalize_digit(crop).blank


def normalize_batch(crops: list[npt.ArrayLike]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Normalise many crops: images (N, 28, 28) float32 and a blank flag per crop."""
    out = np.zeros((len(crops), MNIST_SIZE, MNIST_SIZE), np.float32)
    blank = np.zeros(len(crops), dtype=bool)
    for i, crop in enumerate(crops):
        n = normalize_digit(crop)
        out[i], blank[i] = n.image, n.blank
    return out, blank
