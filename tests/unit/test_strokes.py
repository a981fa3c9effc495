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


def _filled_six() -> np.ndarray:
    """A 6 whose loop the pen filled in: a stem curving down into a solid disc."""
    mask = np.zeros((90, 70), np.uint8)
    cv2.ellipse(mask, (45, 40), (22, 30), 0, 180, 260, 1, 5)
    cv2.circle(mask, (35, 62), 16, 1, -1)
    return mask.astype(bool)


def test_a_filled_loop_is_filled_in_and_an_open_ring_is_not():
    assert strokes.filled_in(_filled_six())
    ring = np.zeros((90, 70), np.uint8)
    cv2.ellipse(ring, (35, 45), (22, 32), 0, 0, 360, 1, 6)
    assert not strokes.filled_in(ring.astype(bool))
    bar = np.zeros((80, 60), np.uint8)
    cv2.line(bar, (30, 10), (30, 70), 1, 13)  # one fat stroke: wide, but evenly so
    assert not strokes.filled_in(bar.astype(bool))
    assert not strokes.filled_in(np.zeros((20, 20), bool))


def test_the_generator_keeps_a_filled_loop_instead_of_thinning_it_to_a_line():
    from marksocr.sheets.ink import _pen_width

    alpha = _filled_six().astype(np.float32)
    out = _pen_width(alpha, 4.0, np.random.default_rng(0))
    assert out[62, 35] > 0.9 and out[62, 24] > 0.9  # the disc's centre and its inner side are still ink
    redrawn = strokes.redraw(alpha > 0.4, 4.0)
    assert redrawn[62, 24] < 0.1  # what a pen redraw would have made of it: a line through the disc


def test_pen_augmentation_leaves_a_filled_loop_as_written():
    img = (_filled_six() * 255).astype(np.uint8)
    out = _pen(img, np.random.default_rng(1))
    assert np.array_equal(out, img)


def test_declining_a_filled_loop_takes_the_same_random_draws_as_redrawing_it():
    """The sheet generator's later draws must not depend on whether a digit was redrawn, or a
    change to the rule would redraw every capture of every benchmark sheet after it."""
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert strokes.pen_redraw(_filled_six(), 4.0, a) is None
    strokes.redraw(_filled_six(), 4.0, b)
    assert a.random() == b.random()
