"""Handwriting for synthetic sheets: MNIST *test* digits turned into pen strokes on a page.

MNIST digits are 28x28, white ink on black. A glyph here is a float32 alpha mask
(1 = full ink) scaled up to the size a person writes in a box, with a random
slant, rotation and stroke width. :func:`write_comb` puts one digit per cell,
:func:`write_string` writes a free digit string (touching neighbours sometimes,
a decimal point for half marks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
import numpy.typing as npt

from marksocr.recognition import strokes

log = logging.getLogger(__name__)

Alpha = npt.NDArray[np.float32]
BGR = tuple[float, float, float]

INKS: dict[str, BGR] = {
    "blue": (150.0, 45.0, 20.0),
    "dark_blue": (95.0, 30.0, 15.0),
    "black": (35.0, 32.0, 30.0),
    "blue_black": (70.0, 40.0, 30.0),
    "red": (40.0, 35.0, 185.0),
}


class DigitSource:
    """MNIST test digits grouped by label; :meth:`sample` picks one at random."""

    def __init__(self, images: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8]) -> None:
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError("images must be (N, H, W) with one label each")
        self.images = images
        self.by_label = {d: np.flatnonzero(labels == d) for d in range(10)}
        missing = [d for d, idx in self.by_label.items() if len(idx) == 0]
        if missing:
            raise ValueError(f"no examples of digit(s) {missing}")

    @classmethod
    def from_mnist(cls, directory: Optional[Path] = None) -> "DigitSource":
        """The MNIST **test** split (never the training digits, so benchmarks stay honest)."""
        from marksocr.recognition.mnist import load_mnist

        data = load_mnist("test", directory)
        return cls(data.images, data.labels)

    def sample(self, digit: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
        """A random 28x28 image of ``digit`` (white on black)."""
        idx = self.by_label[int(digit)]
        return self.images[idx[rng.integers(len(idx))]]


@dataclass(frozen=True)
class Hand:
    """One writer's habits: size, slant and stroke width (drawn once per sheet and pen)."""

    slant: float          # shear, + leans right
    stroke: float         # pen line width as a fraction of the digit height
    size: float           # digit height as a fraction of the box height
    pressure: float       # ink opacity

    @classmethod
    def random(cls, rng: np.random.Generator) -> "Hand":
        return cls(slant=float(rng.normal(0.12, 0.12)), stroke=float(rng.uniform(0.05, 0.11)),
                   size=float(rng.uniform(0.52, 0.8)), pressure=float(rng.uniform(0.82, 1.0)))


def glyph(image28: npt.NDArray[np.uint8], height: float, hand: Hand, rng: np.random.Generator) -> Alpha:
    """A digit as an alpha mask about ``height`` px tall, slanted and rotated a little."""
    m = image28.astype(np.float32) / 255.0
    ys, xs = np.nonzero(m > 0.15)
    m = m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    m = np.pad(m, 2)
    scale = max(height, 8.0) / max(m.shape[0] - 4, 1)
    big = cv2.resize(m, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    soft = max(0.08, 1.2 / scale)
    alpha = np.clip((big - 0.45) / soft + 0.5, 0.0, 1.0).astype(np.float32)
    alpha = np.pad(alpha, int(hand.stroke * height) + 2)
    alpha = _pen_width(alpha, hand.stroke * height * float(rng.uniform(0.9, 1.1)), rng)
    shear = hand.slant + rng.normal(0, 0.06)
    angle = np.deg2rad(rng.normal(0, 4))
    return _shear_rotate(alpha, shear, angle)


def _pen_width(alpha: Alpha, target: float, rng: Optional[np.random.Generator] = None) -> Alpha:
    """Redraw the digit with a pen of about ``target`` px (MNIST stroke widths vary a lot, pens do not).

    A digit whose ink is filled in keeps MNIST's strokes: its pen redraw would be another digit.
    """
    redrawn = strokes.pen_redraw(alpha > 0.4, target, rng)  # the sheet's later draws still depend on the glyph's size
    return alpha if redrawn is None else redrawn


def _shear_rotate(alpha: Alpha, shear: float, angle: float) -> Alpha:
    h, w = alpha.shape
    c, s = np.cos(angle), np.sin(angle)
    a = np.array([[c, -s], [s, c]]) @ np.array([[1.0, -shear], [0.0, 1.0]])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) - (w / 2, h / 2)
    out = corners @ a.T
    ow, oh = np.ceil(out.max(0) - out.min(0)).astype(int) + 2
    m = np.hstack([a, (np.array([ow / 2, oh / 2]) - a @ np.array([w / 2, h / 2]))[:, None]])
    warped = cv2.warpAffine(alpha, m, (int(ow), int(oh)), flags=cv2.INTER_LINEAR, borderValue=0)
    ys, xs = np.nonzero(warped > 0.05)
    if len(ys) == 0:
        return warped
    return warped[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def decimal_point(height: float, rng: np.random.Generator) -> Alpha:
    """A hand-made dot: a small, slightly elongated blob ``~height/8`` across."""
    d = max(4, int(round(height * rng.uniform(0.09, 0.15))))
    canvas = np.zeros((d + 4, int(d * 1.5) + 4), np.float32)
    axes = (max(2, int(d * rng.uniform(0.5, 0.75))), max(2, d // 2))
    cv2.ellipse(canvas, (canvas.shape[1] // 2, canvas.shape[0] // 2), axes, float(rng.uniform(-30, 30)), 0, 360,
                1.0, -1, cv2.LINE_AA)
    return canvas


def write_comb(canvas: Alpha, box: tuple[int, int, int, int], text: str, cells: int, hand: Hand,
               digits: DigitSource, rng: np.random.Generator) -> None:
    """Write ``text`` one digit per cell of the comb ``box`` = (x, y, w, h) into ``canvas`` (max-blend)."""
    x, y, w, h = box
    cw = w / cells
    for i, ch in enumerate(text[:cells]):
        if not ch.isdigit():
            continue
        g = glyph(digits.sample(int(ch), rng), h * float(np.clip(hand.size + rng.normal(0, 0.05), 0.45, 0.85)),
                  hand, rng)
        g = _fit(g, cw * 0.86, h * 0.9)
        gx = x + i * cw + (cw - g.shape[1]) / 2 + rng.normal(0, cw * 0.05)
        gy = y + (h - g.shape[0]) / 2 + rng.normal(0, h * 0.05)
        gx = float(np.clip(gx, x + i * cw + 1, x + (i + 1) * cw - g.shape[1] - 1))
        gy = float(np.clip(gy, y + 1, y + h - g.shape[0] - 1))
        _blend(canvas, g, int(round(gx)), int(round(gy)))


def write_string(canvas: Alpha, box: tuple[int, int, int, int], text: str, hand: Hand,
                 digits: DigitSource, rng: np.random.Generator, touching: float = 0.2,
                 on_line: bool = False) -> None:
    """Write a free digit string (``"7"``, ``"10"``, ``"7.5"``) in ``box`` with natural spacing.

    With probability ``touching`` neighbouring digits are pushed together until they touch
    or overlap a little. ``on_line``: the box sits on a printed underline; write on it.
    """
    x, y, w, h = box
    size = h * float(np.clip(hand.size + rng.normal(0, 0.04), 0.42, 0.85))
    parts: list[tuple[Alpha, bool]] = []
    for ch in text:
        if ch.isdigit():
            parts.append((glyph(digits.sample(int(ch), rng), size * rng.uniform(0.93, 1.07), hand, rng), False))
        elif ch == ".":
            parts.append((decimal_point(size, rng), True))
    if not parts:
        return
    touch = rng.random() < touching
    gaps = [(-rng.uniform(0.02, 0.15) if touch else rng.uniform(0.06, 0.35)) * size * 0.6 for _ in parts]
    for i, (_, is_dot) in enumerate(parts):  # a decimal point keeps some air around it
        if is_dot or (i > 0 and parts[i - 1][1]):
            gaps[i] = abs(gaps[i]) * 0.6 + size * 0.06
    total_w = sum(g.shape[1] for g, _ in parts) + sum(gaps[1:])
    shrink = min(1.0, (w * 0.9) / max(total_w, 1))
    if shrink < 1.0:
        parts = [(_resize(g, shrink), d) for g, d in parts]
        gaps = [gp * shrink for gp in gaps]
        total_w *= shrink
    digit_h = max((g.shape[0] for g, d in parts if not d), default=size)
    cx = x + rng.uniform(0.05 * w, max(0.05 * w, w * 0.95 - total_w))
    base = y + (h + digit_h) / 2 + rng.normal(0, h * 0.05)
    if on_line:
        base = y + h - rng.uniform(0.01, 0.08) * h
    base = float(np.clip(base, y + digit_h + 2, y + h - 2))
    for i, (g, is_dot) in enumerate(parts):
        if i:
            cx += gaps[i]
        if is_dot:
            gy = base - g.shape[0] + rng.normal(0, 2)
        else:
            gy = base - g.shape[0] + rng.normal(0, g.shape[0] * 0.04)
        gx = float(np.clip(cx, x + 1, x + w - g.shape[1] - 1))
        gy = float(np.clip(gy, y + 1, y + h - g.shape[0] - 1))
        _blend(canvas, g, int(round(gx)), int(round(gy)))
        cx += g.shape[1]


def ink_onto(page: npt.NDArray[np.uint8], alpha: Alpha, origin: tuple[int, int], colour: BGR, pressure: float,
             rng: np.random.Generator) -> None:
    """Lay ``alpha`` onto the BGR ``page`` in place at ``origin`` = (x, y), in pen ``colour``."""
    ys, xs = np.nonzero(alpha > 0.01)
    if len(ys) == 0:
        return
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    a = alpha[y0:y1, x0:x1] * pressure
    grain = cv2.GaussianBlur(rng.normal(1.0, 0.07, a.shape).astype(np.float32), (0, 0), 1.2)
    a = np.clip(a * grain, 0.0, 1.0)[..., None]
    ox, oy = origin
    y0, y1, x0, x1 = y0 + oy, y1 + oy, x0 + ox, x1 + ox
    region = page[y0:y1, x0:x1].astype(np.float32)
    ink = np.minimum(region, np.array(colour, np.float32))
    page[y0:y1, x0:x1] = np.clip(region * (1 - a) + ink * a, 0, 255).astype(np.uint8)


def _fit(g: Alpha, max_w: float, max_h: float) -> Alpha:
    s = min(1.0, max_w / g.shape[1], max_h / g.shape[0])
    return _resize(g, s) if s < 1.0 else g


def _resize(g: Alpha, s: float) -> Alpha:
    return cv2.resize(g, (max(1, round(g.shape[1] * s)), max(1, round(g.shape[0] * s))), interpolation=cv2.INTER_AREA)


def _blend(canvas: Alpha, g: Alpha, x: int, y: int) -> None:
    h, w = g.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, canvas.shape[1]), min(y + h, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    sub = g[y0 - y:y1 - y, x0 - x:x1 - x]
    np.maximum(canvas[y0:y1, x0:x1], sub, out=canvas[y0:y1, x0:x1])
