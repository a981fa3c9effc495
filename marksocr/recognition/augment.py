"""Training augmentation that makes MNIST digits look like crops cut from phone photos.

An MNIST digit (white on black, 28x28) is upscaled, deformed (affine, elastic),
its stroke made thicker or thinner or redrawn with an even-width pen (``strokes``:
ball-point strokes barely change width, MNIST's do), then printed as dark ink on
paper of random brightness with uneven light, blur, noise, salt-and-pepper and a
random crop size and margin. The result goes through the same ``normalize_digit`` as real crops,
so the network learns on exactly the kind of input it sees in use.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from marksocr.recognition import strokes
from marksocr.recognition.normalize import normalize_digit

WORK = 56  # working resolution for deformations
PEN = 0.4  # share of augmented digits redrawn with an even-width pen


def _affine(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    c = WORK / 2
    angle = rng.uniform(-14, 14)
    scale = rng.uniform(0.85, 1.1)
    m = cv2.getRotationMatrix2D((c, c), angle, scale)
    shear = rng.uniform(-0.3, 0.3)
    m[0, 1] += shear
    m[0, 2] -= shear * c
    m[0, 0] *= rng.uniform(0.8, 1.15)  # aspect: narrow or wide handwriting
    m[0, 2] += c * (1 - m[0, 0]) - m[0, 1] * c + c * m[0, 1]  # keep the centre
    return cv2.warpAffine(img, m, (WORK, WORK), flags=cv2.INTER_LINEAR, borderValue=0)


def _elastic(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    alpha, sigma = rng.uniform(4, 9), rng.uniform(5, 8)
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (WORK, WORK)).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (WORK, WORK)).astype(np.float32), (0, 0), sigma)
    norm = max(float(np.abs(dx).max()), float(np.abs(dy).max()), 1e-6)
    gx, gy = np.meshgrid(np.arange(WORK, dtype=np.float32), np.arange(WORK, dtype=np.float32))
    return cv2.remap(img, gx + dx / norm * alpha, gy + dy / norm * alpha, cv2.INTER_LINEAR, borderValue=0)


def _thickness(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    k = int(rng.integers(2, 5))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    if rng.random() < 0.6:
        return cv2.dilate(img, kernel)
    thinner = cv2.erode(img, kernel)
    return thinner if np.count_nonzero(thinner > 64) > 30 else img


def _pen(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """The digit's strokes drawn again by a ball-point or gel pen: one width, slight pressure changes."""
    # None for a filled loop, which would thin to a line: the label would be wrong
    redrawn = strokes.pen_redraw(img > rng.uniform(70, 150), rng.uniform(1.8, 6.0), rng, pressure=rng.uniform(0, 0.2))
    if redrawn is None or np.count_nonzero(redrawn > 0.5) < 30:
        return img
    return (redrawn * 255).astype(np.uint8)


def _print_on_paper(ink: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """White-on-black ink map -> dark ink on light paper with uneven light."""
    paper = rng.uniform(150, 255)
    pen = rng.uniform(0, max(paper - 90, 1))
    a = ink.astype(np.float32) / 255.0
    img = paper - (paper - pen) * a
    return np.clip(img, 0, 255).astype(np.uint8)


def _uneven_light(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """A light gradient, sometimes with a hard shadow edge across the crop."""
    h, w = img.shape
    out = img.astype(np.float32)
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * rng.uniform(-35, 35)
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * rng.uniform(-35, 35)
    out = out + gx + gy
    if rng.random() < 0.15:
        shade = np.ones((h, w), np.float32)
        cut = int(rng.integers(0, w))
        shade[:, :cut] = rng.uniform(0.65, 0.9)
        out = out * shade
    return np.clip(out, 0, 255).astype(np.uint8)


def _camera(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    if rng.random() < 0.35:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.6))
    out = img.astype(np.float32)
    if rng.random() < 0.5:
        out += rng.normal(0, rng.uniform(2, 14), out.shape)
    if rng.random() < 0.1:
        sp = rng.random(out.shape)
        amount = rng.uniform(0.002, 0.02)
        out[sp < amount / 2] = 0
        out[sp > 1 - amount / 2] = 255
    return np.clip(out, 0, 255).astype(np.uint8)


def _resize_and_margin(img: npt.NDArray[np.uint8], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    size = int(rng.integers(18, 110))
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if size < WORK else cv2.INTER_LINEAR)
    # Photos crop digits with uneven margins: pad with paper of the same brightness.
    pads = rng.integers(0, max(2, size // 6), 4)
    paper = int(np.percentile(img, 90))
    return cv2.copyMakeBorder(img, *[int(p) for p in pads], cv2.BORDER_CONSTANT, value=paper)


def photo_like_crop(digit: npt.NDArray[np.uint8], rng: np.random.Generator, pen: float = PEN) -> npt.NDArray[np.uint8]:
    """A dark-on-light crop, as from a photo, made from one MNIST digit (white on black);
    ``pen``: the chance its strokes are redrawn with an even-width pen."""
    img = cv2.resize(digit, (WORK, WORK), interpolation=cv2.INTER_LINEAR)
    img = _affine(img, rng)
    if rng.random() < 0.5:
        img = _elastic(img, rng)
    style = rng.random()
    if style < pen:
        img = _pen(img, rng)
    elif style < pen + (1 - pen) * 0.5:
        img = _thickness(img, rng)
    img = _print_on_paper(img, rng)
    img = _resize_and_margin(img, rng)
    if rng.random() < 0.4:
        img = _uneven_light(img, rng)
    return _camera(img, rng)


def augment_batch(
    digits: npt.NDArray[np.uint8], rng: np.random.Generator, probability: float = 0.7, pen: float = PEN
) -> npt.NDArray[np.float32]:
    """Normalised (N, 28, 28) float32 training images; ``probability`` of each being augmented.

    Unaugmented digits still go through the normaliser (as dark-on-light crops), so
    training sees exactly what inference sees.
    """
    out = np.empty((len(digits), 28, 28), np.float32)
    for i, d in enumerate(digits):
        crop = photo_like_crop(d, rng, pen) if rng.random() < probability else 255 - d
        norm = normalize_digit(crop)
        if norm.blank:  # augmentation erased the digit: fall back to the clean one
            norm = normalize_digit(255 - d)
        out[i] = norm.image
    return out
