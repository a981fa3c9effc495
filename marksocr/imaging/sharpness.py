"""How blurred a registered page is, measured on the printed layout it shares with the reference.

Camera shake and missed focus smear the handwriting until digits are misread, and the digits
alone do not show it: a smeared 3 can be a confident 5. The printed parts of the layout (titles,
labels, rules, logos) are the same on every sheet and sharp on the reference image, so they show
how much the photo has blurred them:

* once per reference: pick up to ``PATCHES`` small patches, outside every field, that are rich in
  printed edges in both directions, and blur each by every blur tried: Gaussians of each sigma in
  ``SIGMAS`` (missed focus) and straight smears of each length in ``SHAKES``, in ``SHAKE_ANGLES``
  directions, over a little Gaussian blur (camera shake);
* per page: find each patch on the registered page (it may sit a few pixels off: curl, residual
  misalignment), then score every blurred version by normalised cross-correlation at the best of
  the 3x3 positions around it; patches matching nothing well (``MIN_MATCH``: handwriting spilled
  over, glare) are left out. The blur with the best mean score is the page's.

The figure is a Gaussian sigma in pixels of the registered page. A shake is given as the Gaussian
that reads as badly (``SHAKE_AS_SIGMA``): a smear leaves strokes sharp across it but doubles
their outlines along it, and a Gaussian cannot stand in for it in the match (the nearest Gaussian
is far too small, so strongly shaken photos used to pass as sharp enough).

Cross-correlation ignores brightness and contrast, so shadows, grey print and paper tint do not
count as blur. The figure is relative to the reference: a reference image that is itself blurred
makes pages look sharper than they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

import cv2
import numpy as np

from marksocr.domain import GrayImage, Template
from marksocr.imaging.features import load_reference

SIGMAS = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
"""Blurs tried, Gaussian sigma in pixels of the registered page."""

SHAKES = (4, 6, 8, 11, 14, 18)
"""Camera shake tried: lengths of the straight smear, in pixels of the registered page..."""

SHAKE_ANGLES = 8
"""...in this many directions, evenly spread over half a turn..."""

SHAKE_SIGMAS = (0.5, 1.0, 1.5)
"""...each on top of a Gaussian blur of these sigmas (a shaken photo is rarely in sharp focus)."""

SHAKE_FROM = 1.0
"""Shakes are tried only on pages whose best Gaussian is at least this: a smear long enough to
matter takes the fine detail a sharper Gaussian would keep (on the tuning sheets every page the
shakes put over the reader's limit measured 1.5 or more with Gaussians alone). Reading the same
sheets took 2-7 % longer with every page tried against the shakes, 2-4 % with this gate."""

SHAKE_AS_SIGMA = 0.25
"""A smear of length L reads about as badly as a Gaussian blur of sigma ``L * SHAKE_AS_SIGMA``
(from the tuning sheets, seed 1000; the smear's own standard deviation, 0.29 L, put sheets
that read every field right over ``MAX_BLUR`` of the reader)."""

PATCH = 40
"""Side of a patch, in page pixels."""

SHIFT = 6
"""How far a patch is searched for around its reference position, in page pixels."""

PATCHES = 40
"""Most patches used (the ones with the most printed edges in their weaker direction)."""

MIN_PATCHES = 6
"""Fewer usable patches than this: the blur is not measured (None)."""

MIN_MATCH = 0.5
"""A patch whose best score against the Gaussians is below this is not the printed layout on this page; left out."""

FIELD_MARGIN = 10
"""Page pixels kept clear around each field: handwriting is not on the reference."""

_SEARCH_SIGMA = 1.5  # the blur the patches are located with: between sharp scans and shaken photos


@dataclass(frozen=True)
class BlurProbe:
    """Patches of one reference image, ready to be compared with registered pages."""

    positions: tuple[tuple[int, int], ...]
    """(y, x) of each patch's top-left corner on the reference (and registered page)."""
    versions: np.ndarray
    """(patches, blurs, PATCH*PATCH): each patch under each blur tried (the Gaussians of ``SIGMAS``
    first, then the shakes), zero mean, unit norm."""
    as_sigma: np.ndarray
    """(blurs,): each blur as the page's figure: a Gaussian's sigma; for a shake, the Gaussian
    that reads as badly, ``hypot(sigma, length * SHAKE_AS_SIGMA)``."""
    located_by: np.ndarray
    """(patches, PATCH, PATCH) float32: each patch as blurred by ``_SEARCH_SIGMA``, for locating it."""


def blur_probe(reference: GrayImage, exclude: Iterable[tuple[int, int, int, int]] = ()) -> Optional[BlurProbe]:
    """Choose the patches of ``reference`` (gray, at the registered page's size) that measure blur,
    avoiding the rectangles ``exclude`` (x, y, width, height in pixels: the fields). None when the
    layout has too little print outside the fields."""
    ref = reference.astype(np.float32)
    h, w = ref.shape
    usable = np.zeros((h, w), bool)
    edge = SHIFT + 1
    usable[edge:h - edge - PATCH, edge:w - edge - PATCH] = True  # top-left corners whose search stays inside
    free = np.ones((h, w), np.uint8)
    for x, y, bw, bh in exclude:
        free[max(0, y - FIELD_MARGIN):y + bh + FIELD_MARGIN, max(0, x - FIELD_MARGIN):x + bw + FIELD_MARGIN] = 0
    gx = np.abs(cv2.Sobel(ref, cv2.CV_32F, 1, 0))
    gy = np.abs(cv2.Sobel(ref, cv2.CV_32F, 0, 1))
    ys, xs = np.arange(edge, h - edge - PATCH, PATCH), np.arange(edge, w - edge - PATCH, PATCH)
    if not len(ys) or not len(xs):
        return None
    sums = [cv2.integral(a) for a in (gx, gy, free.astype(np.float32))]
    y0, x0 = np.meshgrid(ys, xs, indexing="ij")

    def box_sum(ii: np.ndarray) -> np.ndarray:
        return ii[y0 + PATCH, x0 + PATCH] - ii[y0, x0 + PATCH] - ii[y0 + PATCH, x0] + ii[y0, x0]

    ex, ey, clear = (box_sum(ii) for ii in sums)
    weakest = np.minimum(ex, ey)  # edges both ways: a patch of only horizontal rules cannot place itself
    weakest[clear < PATCH * PATCH] = 0
    order = np.argsort(weakest, axis=None)[::-1][:PATCHES]
    order = order[weakest.ravel()[order] > 0]
    if len(order) < MIN_PATCHES:
        return None
    positions = tuple((int(y0.flat[i]), int(x0.flat[i])) for i in order)
    kernels, as_sigma = _blur_kernels()
    margin = max(k.shape[0] for k in kernels) // 2 + 1
    # the patches with a margin, in one column with gaps, so each kernel is one filter call
    step = PATCH + 2 * margin
    column = np.zeros((len(positions) * step, step), np.float32)
    padded = cv2.copyMakeBorder(ref, margin, margin, margin, margin, cv2.BORDER_REPLICATE)
    for i, (y, x) in enumerate(positions):
        column[i * step:(i + 1) * step] = padded[y:y + step, x:x + step]
    versions = np.empty((len(positions), len(kernels), PATCH * PATCH), np.float32)
    for j, k in enumerate(kernels):
        blurred = cv2.filter2D(column, -1, k, borderType=cv2.BORDER_REPLICATE)
        for i in range(len(positions)):
            versions[i, j] = blurred[i * step + margin:i * step + margin + PATCH, margin:margin + PATCH].ravel()
    search = cv2.GaussianBlur(ref, (0, 0), _SEARCH_SIGMA)
    located_by = np.stack([search[y:y + PATCH, x:x + PATCH] for y, x in positions])
    return BlurProbe(positions, _unit(versions), np.asarray(as_sigma, np.float32), located_by)


@lru_cache(maxsize=1)
def _blur_kernels() -> tuple[tuple[np.ndarray, ...], tuple[float, ...]]:
    """The blurs tried, as 2-D kernels, with their figures (``BlurProbe.as_sigma``): every
    Gaussian of ``SIGMAS``, then every shake of ``SHAKES`` x ``SHAKE_ANGLES`` x ``SHAKE_SIGMAS``."""
    kernels, as_sigma = [], []
    for s in SIGMAS:
        kernels.append(_gaussian(s))
        as_sigma.append(s)
    for length in SHAKES:
        for a in np.arange(SHAKE_ANGLES) * np.pi / SHAKE_ANGLES:
            line = _line(length, float(a))
            for s in SHAKE_SIGMAS:
                kernels.append(cv2.filter2D(np.pad(line, int(np.ceil(3 * s))), -1, _gaussian(s),
                                            borderType=cv2.BORDER_CONSTANT))
                as_sigma.append(float(np.hypot(s, length * SHAKE_AS_SIGMA)))
    return tuple(kernels), tuple(as_sigma)


def _gaussian(sigma: float) -> np.ndarray:
    """The 2-D Gaussian kernel of ``sigma`` (a single 1 for no blur)."""
    if sigma <= 0:
        return np.ones((1, 1), np.float32)
    g = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma).astype(np.float32)
    return g @ g.T


def _line(length: int, angle: float) -> np.ndarray:
    """A straight smear ``length`` pixels long at ``angle`` (radians), anti-aliased, summing to 1."""
    r = length // 2 + 1
    k = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
    dx, dy = 0.5 * length * np.cos(angle), 0.5 * length * np.sin(angle)
    bits = 4  # end points to 1/16 pixel
    ends = [(int(round((r + sx * dx) * (1 << bits))), int(round((r + sx * dy) * (1 << bits)))) for sx in (-1, 1)]
    cv2.line(k, ends[0], ends[1], 1.0, 1, cv2.LINE_AA, bits)
    return k / k.sum()


def page_blur(page: GrayImage, probe: BlurProbe) -> Optional[float]:
    """The blur of ``page`` (registered, same size as the probe's reference): the Gaussian sigma,
    in page pixels, whose blurred reference matches it best; None when too few patches match."""
    img = page.astype(np.float32)
    n = len(probe.positions)
    around = np.zeros((n, 9, PATCH * PATCH), np.float32)
    for i, (y, x) in enumerate(probe.positions):
        window = img[y - SHIFT:y + PATCH + SHIFT, x - SHIFT:x + PATCH + SHIFT]
        score = cv2.matchTemplate(window, probe.located_by[i], cv2.TM_CCOEFF_NORMED)
        _, _, _, (bx, by) = cv2.minMaxLoc(score)
        bx, by = min(max(bx, 1), 2 * SHIFT - 1), min(max(by, 1), 2 * SHIFT - 1)
        k = 0
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                around[i, k] = window[by + dy:by + dy + PATCH, bx + dx:bx + dx + PATCH].ravel()
                k += 1
    around = _unit(around)
    n = len(SIGMAS)  # the Gaussians come first
    scores = np.matmul(around, probe.versions[:, :n].transpose(0, 2, 1)).max(axis=1)  # (patches, sigmas)
    matched = scores.max(axis=1) >= MIN_MATCH
    if matched.sum() < MIN_PATCHES:
        return None
    focus = scores[matched].mean(axis=0)
    best = int(focus.argmax())
    if SIGMAS[best] < SHAKE_FROM:
        return float(SIGMAS[best])
    shake = np.matmul(around[matched], probe.versions[matched, n:].transpose(0, 2, 1)).max(axis=1).mean(axis=0)
    if shake.max() > focus[best]:
        return float(probe.as_sigma[n + int(shake.argmax())])
    return float(SIGMAS[best])


def _unit(a: np.ndarray) -> np.ndarray:
    """Zero mean, unit norm along the last axis (flat vectors stay zero)."""
    a = a - a.mean(axis=-1, keepdims=True)
    return (a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-3)).astype(np.float32)


def layout_probe(template: Template, size: tuple[int, int]) -> Optional[BlurProbe]:
    """The probe of ``template``'s reference image at the registered page's ``size`` (width,
    height), fields left out; built once per layout. None without a reference image."""
    if template.reference_image is None:
        return None
    w, h = size
    fields = tuple((int(x * w), int(y * h), int(np.ceil(bw * w)), int(np.ceil(bh * h)))
                   for x, y, bw, bh in (f.box for f in template.fields))
    return _probe(str(template.reference_image), size, fields)


@lru_cache(maxsize=4)  # about 40 MB each
def _probe(path: str, size: tuple[int, int], fields: tuple[tuple[int, int, int, int], ...]) -> Optional[BlurProbe]:
    ref = load_reference(path)
    if ref is None:
        return None
    return blur_probe(cv2.resize(ref, size, interpolation=cv2.INTER_AREA), fields)
