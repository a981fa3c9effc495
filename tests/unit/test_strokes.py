"""Pen redraw used by training augmentation and the sheet generator."""

from __future__ import annotations

import cv2
import numpy as np

from marksocr.recognition import strokes
from marksocr.recognition.augment import _pen


def _widths(alpha: np.ndarray) -> list[int]:
    """Ink run lengths across a vertical stroke, row by row (rows with ink only)."""
    return [int((row > 0.5).sum()) for row in alpha if (row > 0.5).any()]


def test_a_thick_stroke_is_redrawn_with_the_pen_width():
    mask = np.zeros((80, 60), bool)
    cv2.line(mask.view(np.uint8), (30, 10), (30, 70), 1, 13)
    out = strokes.redraw(mask, 4.0)
    widths = _widths(out[20:60])
    assert widths and all(3 <= w <= 6 for w in widths)
    assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0


def test_an_empty_mask_gives_no_ink():
    assert not strokes.redraw(np.zeros((20, 20), bool), 3.0).any()


def test_pen_augmentation_keeps_the_digit_and_evens_its_strokes():
    img = np.zeros((56, 56), np.uint8)
    cv2.line(img, (28, 8), (28, 48), 255, 9)  # a fat MNIST-like 1
    out = _pen(img, np.random.default_rng(0))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert 30 <= np.count_nonzero(out > 128) < np.count_nonzero(img > 128)
    assert max(_widths(out[15:40] / 255.0)) <= 8
