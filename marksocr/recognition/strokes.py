"""Pen strokes: thin a digit to its skeleton and ink it again with an even-width pen.

MNIST digits were scanned from pencil and fountain pen and blurred when they were
scaled to 28x28, so their strokes swell and fade. A ball-point or gel pen on an answer
sheet draws nearly the same width everywhere. Training augmentation (``augment``)
and the synthetic sheet generator (``marksocr.sheets.ink``) both redraw with ``pen_redraw``,
which declines a digit whose ink is filled in (``filled_in``): redrawing it would change
which digit it is.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import numpy.typing as npt

# Ink deeper than this many times the typical half stroke is filled in, not a line (see
# ``filled_in``). Chosen on MNIST test digits written by the sheet generator: at 1.7 the
# generator keeps 20 % of digits as MNIST drew them, and the digits it redraws are no
# longer misread for a lost loop (classifier error 1.10 -> 0.70 %, raw MNIST 0.48 %);
# at 2.2 it keeps 1.4 % and most filled loops are still lost.
FILLED = 1.7


def thin(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Zhang-Suen thinning of a binary image to one-pixel-wide lines."""
    img = np.pad(mask, 1).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:]
            p5, p6, p7 = img[2:, 2:], img[2:, 1:-1], img[2:, :-2]
            p8, p9 = img[1:-1, :-2], img[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            neighbours = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9
            transitions = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.uint8) for i in range(8))
            if step == 0:
                side = ((p2 * p4 * p6) == 0) & ((p4 * p6 * p8) == 0)
            else:
                side = ((p2 * p4 * p8) == 0) & ((p2 * p6 * p8) == 0)
            remove = (img[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & side
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def filled_in(mask: npt.NDArray[np.bool_]) -> bool:
    """Has the writer's ink filled in part of the digit (a loop closed up by a thick pen, a blot)?

    Thinning keeps only the centre line of such ink, so a redrawn digit would no longer be
    the digit: the filled loop of a 6 thins to a stroke like a 1, the blotted head of a 9 to
    a 7, the closed loops of an 8 to a 6 or a 5. Filled in means: somewhere the ink is wider
    than ``FILLED`` times the digit's typical stroke (the median width along its skeleton).
    """
    return _filled(mask, thin(mask))


def _filled(mask: npt.NDArray[np.bool_], skeleton: npt.NDArray[np.bool_]) -> bool:
    if not skeleton.any():
        return False
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    typical = float(np.median(depth[skeleton]))
    return bool((depth > max(FILLED * typical, 1.5)).any())


def pen_redraw(mask: npt.NDArray[np.bool_], width: float, rng: Optional[np.random.Generator] = None,
               pressure: float = 0.15) -> Optional[npt.NDArray[np.float32]]:
    """:func:`redraw`, or None where a pen redraw would not be the same digit: the mask has no
    strokes, or its ink is filled in (:func:`filled_in`). Takes the same random draws either way,
    so what a generator draws after it does not depend on the answer. The mask is thinned once."""
    skeleton = thin(mask)
    alpha = _draw(skeleton, width, rng, pressure)
    return None if not skeleton.any() or _filled(mask, skeleton) else alpha


def redraw(mask: npt.NDArray[np.bool_], width: float, rng: Optional[np.random.Generator] = None,
           pressure: float = 0.15) -> npt.NDArray[np.float32]:
    """The strokes of ``mask`` drawn again with a pen about ``width`` px wide, as an alpha map in [0, 1].

    With ``rng``, the width wanders by about ``pressure`` along the stroke, as a hand presses
    harder or lighter. A mask with no strokes gives all zeros.
    """
    return _draw(thin(mask), width, rng, pressure)


def _draw(skeleton: npt.NDArray[np.bool_], width: float, rng: Optional[np.random.Generator],
          pressure: float) -> npt.NDArray[np.float32]:
    if not skeleton.any():
        return np.zeros(skeleton.shape, np.float32)
    dist = cv2.distanceTransform((~skeleton).astype(np.uint8), cv2.DIST_L2, 5)
    half = np.float32(max(width, 2.0) / 2)
    if rng is not None and pressure > 0:
        h, w = skeleton.shape
        small = rng.normal(0, 1, (max(2, h // 12), max(2, w // 12))).astype(np.float32)
        half = half * (1 + pressure * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))
    return np.clip(half - dist + 0.5, 0.0, 1.0).astype(np.float32)
