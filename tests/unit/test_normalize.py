"""The MNIST-style normaliser on the kinds of crops a photo gives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from marksocr.recognition.mnist import load_mnist
from marksocr.recognition.normalize import (
    BOX,
    TARGET_STROKE,
    is_blank,
    normalize_digit,
    stroke_width,
)


@pytest.fixture(scope="module")
def digits(mnist_dir):
    ds = load_mnist("test", mnist_dir)
    return ds.images[:200], ds.labels[:200]


def _draw_seven(size: int, thickness: int, ink: int = 30, paper: int = 230) -> np.ndarray:
    img = np.full((size, size), paper, np.uint8)
    s = size / 100
    pts = np.array([[25, 20], [75, 20], [45, 85]], np.float32) * s
    cv2.polylines(img, [pts.astype(np.int32)], False, ink, thickness, cv2.LINE_AA)
    return img


def _bbox(img: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(img > 0.2)
    return ys.min(), ys.max(), xs.min(), xs.max()


@pytest.mark.parametrize("crop", [
    np.full((40, 30), 235, np.uint8),                                            # clean paper
    np.clip(np.random.default_rng(0).normal(220, 6, (50, 50)), 0, 255).astype(np.uint8),  # noisy paper
    np.zeros((0, 0), np.uint8),                                                  # nothing at all
    np.full((1, 5), 200, np.uint8),                                              # a sliver
])
def test_blank_crops_are_blank(crop):
    assert is_blank(crop)
    assert normalize_digit(crop).image.max() == 0


def test_faint_smudge_and_specks_are_blank():
    img = np.full((60, 60), 225, np.uint8)
    img[10:12, 40:42] = 120  # a speck of dust
    img = cv2.GaussianBlur(img, (0, 0), 1)
    img[30:45, 10:30] -= 12  # a faint smudge
    assert is_blank(img)


def test_output_is_mnist_shaped_and_centred(digits):
    images, _ = digits
    for d in images[:50]:
        out = normalize_digit(255 - d).image
        assert out.shape == (28, 28) and out.dtype == np.float32
        y0, y1, x0, x1 = _bbox(out)
        assert max(y1 - y0, x1 - x0) + 1 <= BOX + 2
        m = cv2.moments(out)
        assert abs(m["m10"] / m["m00"] - 14) < 1.0 and abs(m["m01"] / m["m00"] - 14) < 1.0


def test_mnist_digits_come_back_nearly_unchanged(digits):
    images, _ = digits
    out = np.stack([normalize_digit(255 - d).image for d in images])
    assert np.abs(out - images / 255.0).mean() < 0.06


@pytest.mark.parametrize("size", [8, 14, 60, 400, 1600])
def test_tiny_and_huge_crops_fill_the_box(size):
    out = normalize_digit(_draw_seven(size, max(1, size // 12))).image
    y0, y1, x0, x1 = _bbox(out)
    assert 16 <= max(y1 - y0, x1 - x0) + 1 <= BOX + 2


def test_inverted_crop_matches_dark_on_light(digits):
    images, _ = digits
    for d in images[:20]:
        a, b = normalize_digit(d).image, normalize_digit(255 - d).image
        assert np.abs(a - b).mean() < 0.02


@pytest.mark.parametrize("thickness", [1, 3, 14])
def test_stroke_width_is_brought_near_mnist(thickness):
    out = normalize_digit(_draw_seven(200, thickness)).image
    width = stroke_width(((out > 0.5) * 255).astype(np.uint8))
    assert 0.5 * TARGET_STROKE <= width <= 2.2 * TARGET_STROKE


def test_noise_and_uneven_light_are_removed(digits):
    images, _ = digits
    rng = np.random.default_rng(1)
    clean = np.stack([normalize_digit(255 - d).image for d in images[:30]])
    noisy = []
    for d in images[:30]:
        crop = cv2.resize(255 - d, (84, 84)).astype(np.float32) * 0.7 + 40
        crop += np.linspace(-30, 30, 84)[None, :]          # light gradient
        crop += rng.normal(0, 10, crop.shape)             # sensor noise
        noisy.append(normalize_digit(np.clip(crop, 0, 255).astype(np.uint8)).image)
    assert np.abs(np.stack(noisy) - clean).mean() < 0.08


def test_evenly_lit_paper_takes_the_shortcut_and_shadows_do_not():
    from marksocr.recognition.normalize import _flat_paper, ink_map

    seven = _draw_seven(60, 5)
    assert _flat_paper(seven) == 230
    shadowed = np.clip(seven.astype(np.int16) - np.linspace(0, 60, 60)[None, :].astype(np.int16), 0, 255).astype(np.uint8)
    assert _flat_paper(shadowed) is None
    # both ways find the same strokes and no paper
    for crop in (seven, shadowed):
        ink = ink_map(crop)
        strokes = seven < 130
        assert ink[strokes].mean() > 100 and ink[~strokes & (cv2.dilate(strokes.astype(np.uint8), np.ones((5, 5))) == 0)].max() < 40


def test_colour_crop_is_accepted():
    gray = _draw_seven(50, 4)
    colour = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    assert np.allclose(normalize_digit(colour).image, normalize_digit(gray).image)


def test_three_d_non_image_is_rejected():
    with pytest.raises(ValueError, match="2-D"):
        normalize_digit(np.zeros((3, 3, 3, 3), np.uint8))
