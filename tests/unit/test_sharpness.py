"""Page blur measured on the printed layout (``marksocr.imaging.sharpness``).

Real reference images of the shipped layouts, blurred by known amounts, with the light and
contrast changed and shifted a little as a registered photo would be.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import sheet_fakes as sf  # noqa: E402

from marksocr.imaging.sharpness import blur_probe, page_blur  # noqa: E402
from marksocr.paths import resources_dir  # noqa: E402
from marksocr.template import load_template  # noqa: E402

LAYOUTS = ("marksocr_a4", "foreign_university", "foreign_landscape")


def _layout(name: str):
    path = resources_dir() / "templates" / name / "template.json"
    template = load_template(path)
    ref = cv2.imread(str(template.reference_image), cv2.IMREAD_GRAYSCALE)
    size = (1240, int(round(1240 * ref.shape[0] / ref.shape[1])))
    ref = cv2.resize(ref, size, interpolation=cv2.INTER_AREA)
    w, h = size
    boxes = [(int(x * w), int(y * h), int(bw * w) + 1, int(bh * h) + 1) for x, y, bw, bh in (f.box for f in template.fields)]
    return ref, boxes


def _as_photographed(page: np.ndarray, sigma: float, motion: int = 0, seed: int = 0) -> np.ndarray:
    """``page`` blurred, in dimmer uneven light with lower contrast, noisy and 2 px off."""
    rng = np.random.default_rng(seed)
    img = page.astype(np.float32)
    if sigma:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    if motion:
        k = np.zeros((motion, motion), np.float32)
        cv2.line(k, (0, 0), (motion - 1, motion - 1), 1.0)
        img = cv2.filter2D(img, -1, k / k.sum())
    h, w = img.shape
    light = np.linspace(0.6, 1.0, w, dtype=np.float32)[None, :]
    img = (img * 0.7 + 40) * light + rng.normal(0, 3, img.shape)
    img = np.roll(img, (2, -2), axis=(0, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def _shaken(page: np.ndarray, length: int, degrees: float) -> np.ndarray:
    """``page`` a little out of focus and smeared ``length`` px in one direction, as by a hand
    moving while the shutter is open; then photographed as by ``_as_photographed``."""
    img = cv2.filter2D(cv2.GaussianBlur(page.astype(np.float32), (0, 0), 0.7), -1, sf.smear(length, degrees))
    return _as_photographed(np.clip(img, 0, 255).astype(np.uint8), 0.0)


@pytest.mark.parametrize("degrees", (0, 30, 90, 135))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_camera_shake_in_any_direction_is_measured_as_the_blur_it_is(layout, degrees):
    # A straight smear leaves strokes sharp across it, so the nearest Gaussian is small: a 14-px
    # shake, which doubles every stroke, used to measure 1.5-3.0 by direction and layout.
    ref, boxes = _layout(layout)
    probe = blur_probe(ref, boxes)
    slight, strong = page_blur(_shaken(ref, 5, degrees), probe), page_blur(_shaken(ref, 14, degrees), probe)
    assert slight <= 2.0 and strong > 3.0, (slight, strong)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_blur_grows_with_the_blur_of_the_photo(layout):
    ref, boxes = _layout(layout)
    probe = blur_probe(ref, boxes)
    assert probe is not None
    sharp = page_blur(_as_photographed(ref, 0.0), probe)
    soft = page_blur(_as_photographed(ref, 1.5), probe)
    shaken = page_blur(_as_photographed(ref, 1.0, motion=11), probe)
    smeared = page_blur(_as_photographed(ref, 5.0), probe)
    assert sharp <= 0.75 and 1.0 <= soft <= 2.0 and smeared >= 4.0, (sharp, soft, smeared)
    assert shaken > 2.5, shaken  # camera shake of 11 px along a diagonal: beyond what reads well


def test_light_and_contrast_are_not_blur():
    ref, boxes = _layout("marksocr_a4")
    probe = blur_probe(ref, boxes)
    dim = np.clip(ref.astype(np.float32) * 0.4 + 100, 0, 255).astype(np.uint8)  # grey print on grey paper
    assert page_blur(dim, probe) == page_blur(ref, probe) <= 0.5


def test_patches_avoid_the_fields():
    ref, boxes = _layout("foreign_university")
    probe = blur_probe(ref, boxes)
    for y, x in probe.positions:
        for bx, by, bw, bh in boxes:
            assert x + 40 <= bx or x >= bx + bw or y + 40 <= by or y >= by + bh, ((x, y), (bx, by, bw, bh))


def test_a_layout_without_print_or_a_page_of_something_else_is_not_measured():
    assert blur_probe(np.full((1754, 1240), 255, np.uint8)) is None
    ref, boxes = _layout("marksocr_a4")
    other = sf.blank_page(markers=False)  # another printed sheet altogether
    assert page_blur(other, blur_probe(ref, boxes)) is None
