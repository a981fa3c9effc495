"""Simulated scans and phone photos of a sheet, for tests and benchmarks.

:func:`simulate` takes a page (BGR or gray, at reference resolution) and returns
what a flatbed scanner (``"scan"``) or a phone camera (``"photo"``, ``"hard_photo"``)
would have produced, before JPEG compression, plus the page-to-image homography
and the parameters drawn. :func:`simulate_photo` also applies the JPEG round trip.

Photos: perspective tilt up to 20 degrees, any in-plane rotation (upside-down
included), the page filling 55-90% of a 2400 x 3200 frame on a cluttered desk,
uneven light and shadows, defocus or motion blur, sensor noise, colour casts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

STYLES = ("scan", "photo", "hard_photo")
PHOTO_SIZE = (2400, 3200)
"""(width, height) of a portrait phone photo."""

Image = npt.NDArray[np.uint8]


@dataclass
class Simulated:
    """A simulated capture before JPEG compression."""

    image: Image
    """BGR (or 2-D gray for gray scans) uint8."""
    homography: npt.NDArray[np.float64]
    """3x3 matrix mapping page pixels (reference resolution) to image pixels."""
    jpeg_quality: int
    params: dict[str, Any] = field(default_factory=dict)


def simulate_photo(page: Image, rng: np.random.Generator, style: str = "photo") -> Image:
    """A scan or phone photo of ``page`` (JPEG artifacts included): BGR uint8, or gray for some scans."""
    sim = simulate(page, rng, style)
    return jpeg_round_trip(sim.image, sim.jpeg_quality)


def simulate(page: Image, rng: np.random.Generator, style: str = "photo") -> Simulated:
    """Simulate a capture of ``page``; see the module docstring for ``style``."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    bgr = page if page.ndim == 3 else cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    if style == "scan":
        return _scan(bgr, rng)
    return _photo(bgr, rng, hard=(style == "hard_photo"))


def jpeg_round_trip(image: Image, quality: int) -> Image:
    """Encode as JPEG at ``quality`` and decode again."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
    return cv2.imdecode(buf, flag)


# --------------------------------------------------------------------------- scans

def _scan(page: Image, rng: np.random.Generator) -> Simulated:
    ph, pw = page.shape[:2]
    dpi_scale = rng.uniform(200, 300) / 300.0 * 2480 / max(min(pw, ph), 1)  # an A4 scan at 200-300 dpi
    out_w, out_h = int(round(pw * dpi_scale)), int(round(ph * dpi_scale))
    angle = rng.normal(0, 1.0) + (180.0 if rng.random() < 0.05 else 0.0)
    shift = rng.normal(0, 0.008, 2) * (out_w, out_h)
    a = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, dpi_scale)
    a[:, 2] += (out_w / 2 - pw / 2) + shift[0], (out_h / 2 - ph / 2) + shift[1]
    lid = int(rng.integers(200, 250))
    img = cv2.warpAffine(page, a, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=(lid, lid, lid))
    img = img.astype(np.float32)
    img = img * rng.uniform(0.93, 1.04) + rng.uniform(-8, 6)
    img = _gradient_light(img, rng, strength=rng.uniform(0.0, 0.06), shadow=False)
    sigma = rng.uniform(0.3, 0.9)
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = _noise(img, rng, rng.uniform(1.0, 3.0))
    gray = rng.random() < 0.6
    out = np.clip(img, 0, 255).astype(np.uint8)
    if gray:
        out = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    h = np.vstack([a, [0, 0, 1]])
    return Simulated(out, h, int(rng.integers(80, 96)),
                     {"rotation_deg": float(angle), "tilt_deg": 0.0, "blur": float(sigma), "gray": bool(gray)})


# --------------------------------------------------------------------------- photos

def _photo(page: Image, rng: np.random.Generator, hard: bool) -> Simulated:
    rotation = _rotation(rng, hard)
    tilt = rng.uniform(8, 20) if hard else rng.uniform(0, 14)
    fill = rng.uniform(0.72, 0.95) if hard else rng.uniform(0.8, 0.97)
    quad = _page_quad(page.shape[1], page.shape[0], rotation, tilt, rng.uniform(0, 2 * np.pi), rng)
    span = quad.max(0) - quad.min(0)
    landscape = (span[0] > span[1]) == (rng.random() < 0.85)  # people mostly turn the phone to the page
    size = PHOTO_SIZE[::-1] if landscape else PHOTO_SIZE
    dst = _fit_quad(quad, size, fill, rng)
    src = np.float32([[0, 0], [page.shape[1], 0], [page.shape[1], page.shape[0]], [0, page.shape[0]]])
    hom = cv2.getPerspectiveTransform(src, dst)
    img = _background(size, rng)
    curl = 0.0
    if rng.random() < (0.5 if hard else 0.25):  # a booklet cover is rarely flat
        page, curl = _curl(page, rng, rng.uniform(0.002, 0.008 if hard else 0.004))
    cv2.warpPerspective(_paper_tint(page, rng), hom, size, dst=img, flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_TRANSPARENT)
    light = _light_field(size, rng, strength=rng.uniform(0.1, 0.35) if hard else rng.uniform(0.03, 0.2),
                         shadow=rng.random() < (0.85 if hard else 0.45), hard=hard)
    img = img.astype(np.float32)
    img *= light[..., None] * _cast_gains(rng, 0.06 if hard else 0.035)
    glare = hard and rng.random() < 0.3
    if glare:  # a reflection of a lamp on glossy paper washes part of the page out
        _add_glare(img, dst, rng)
    img, blur = _blur(img, rng, hard)
    img = _noise(img, rng, rng.uniform(3, 8) if hard else rng.uniform(1.5, 4.5))
    quality = int(rng.integers(60, 78)) if hard else int(rng.integers(70, 96))
    out = np.clip(img, 0, 255).astype(np.uint8)
    return Simulated(out, hom, quality, {"rotation_deg": float(rotation), "tilt_deg": float(tilt), **blur,
                                         "fill": float(fill), "curl_px": float(curl),
                                         "glare": bool(glare)})


def _add_glare(img: npt.NDArray[np.float32], quad: npt.NDArray[np.float32], rng: np.random.Generator) -> None:
    """Brighten a soft elliptical spot somewhere on the page, in place."""
    h, w = img.shape[:2]
    sh, sw = h // 8, w // 8
    spot = np.zeros((sh, sw), np.float32)
    centre = quad[rng.integers(4)] * 0.35 + quad.mean(0) * 0.65  # between the middle and a corner
    axes = (int(rng.uniform(0.08, 0.2) * sw), int(rng.uniform(0.05, 0.12) * sh))
    cv2.ellipse(spot, (int(centre[0] / 8), int(centre[1] / 8)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    k = int(max(axes) * 0.8) * 2 + 1
    spot = cv2.GaussianBlur(spot, (k, k), 0) * np.float32(rng.uniform(0.3, 0.55))
    spot = cv2.resize(spot, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    img += spot * (255.0 - np.clip(img, 0, 255))


def _rotation(rng: np.random.Generator, hard: bool) -> float:
    if hard:
        return float(rng.uniform(0, 360))
    base = float(rng.choice([0, 0, 0, 0, 90, 180, 270]))
    return (base + rng.normal(0, 6)) % 360


def _page_quad(w: int, h: int, rotation: float, tilt: float, tilt_dir: float,
               rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """The page corners as the camera sees them: rotated in plane, tilted in 3-D, projected."""
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]], np.float64)
    r = math.radians(rotation)
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    axis = np.array([math.cos(tilt_dir), math.sin(tilt_dir), 0.0])
    rt, _ = cv2.Rodrigues(axis * math.radians(tilt))
    pts = pts @ rz.T @ rt.T
    dist = max(w, h) * rng.uniform(1.1, 1.6)  # phone a little over an A4 height away
    return pts[:, :2] * (dist / (dist + pts[:, 2:3]))


def _fit_quad(proj: npt.NDArray[np.float64], size: tuple[int, int], fill: float,
              rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Scale and place the projected page so that it fills ``fill`` of the frame, somewhere in it."""
    span = proj.max(0) - proj.min(0)
    scale = fill * min(size[0] / span[0], size[1] / span[1])
    proj = (proj - proj.min(0)) * scale
    slack = np.array(size) - (proj.max(0))
    offset = slack * rng.uniform(0.2, 0.8, 2)
    return (proj + offset).astype(np.float32)


def _curl(page: Image, rng: np.random.Generator, amount: float) -> tuple[Image, float]:
    """Bend the page a little (lifted edges look magnified); returns it and the largest shift in px.

    The homography in the truth is then exact only to within that shift.
    """
    h, w = page.shape[:2]
    x = np.arange(w, dtype=np.float32)
    y = np.arange(h, dtype=np.float32)[:, None]
    u = x / w
    a, b = rng.uniform(0, 1, 2)
    lift = (amount * (a * (1 - u) ** 2 + b * u ** 2) / max(a + b, 1e-3)).astype(np.float32)
    dx = lift * (x - w / 2) * 0.5
    map_x = np.broadcast_to(x - dx, (h, w)).astype(np.float32)
    map_y = (y - lift[None, :] * (y - h / 2)).astype(np.float32)
    shift = float(max(np.abs(dx).max(), (lift * h / 2).max()))
    bent = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return bent, shift


def _paper_tint(page: Image, rng: np.random.Generator) -> Image:
    """Paper is never pure white: a slight warm or grey tint (BGR gains below 1)."""
    tint = np.diag([rng.uniform(0.9, 0.98), rng.uniform(0.93, 0.99), rng.uniform(0.95, 1.0)]).astype(np.float32)
    return cv2.transform(page, tint)


def _background(size: tuple[int, int], rng: np.random.Generator) -> Image:
    """A desk: wood grain, cloth or plain surface, with clutter (books, pens, papers, a cup...)."""
    w, h = size
    sw, sh = w // 8, h // 8
    kind = rng.choice(["wood", "cloth", "plain", "checks"])
    colour = rng.uniform(40, 200, 3)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    low = cv2.resize(rng.normal(0, 1, (sh // 8 + 2, sw // 8 + 2)).astype(np.float32), (sw, sh),
                     interpolation=cv2.INTER_CUBIC)
    if kind == "wood":
        colour = np.array([rng.uniform(40, 90), rng.uniform(70, 120), rng.uniform(110, 170)])
        angle = rng.uniform(0, np.pi)
        u = xx * math.cos(angle) + yy * math.sin(angle)
        freq = rng.uniform(0.15, 0.4)
        texture = 0.5 + 0.35 * np.sin(u * freq + low * 0.6) + 0.15 * np.sin(u * freq * 3.7 + low * 1.0)
        base = colour[None, None, :] * (0.75 + 0.35 * texture[..., None])
    elif kind == "checks":
        period = rng.uniform(20, 60)
        checks = ((xx // period + yy // period) % 2)[..., None]
        other = rng.uniform(40, 220, 3)
        base = colour * (1 - checks) + other * checks
    else:
        amp = 0.25 if kind == "cloth" else 0.08
        base = colour[None, None, :] * (1 + amp * low[..., None])
    img = cv2.resize(np.clip(base, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    _clutter(img, rng)
    return img


def _clutter(img: Image, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(4, 14))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        kind = rng.integers(0, 4)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        if kind == 0:  # a book, a phone, another paper (with lines of text)
            rw, rh = rng.uniform(200, 1200), rng.uniform(200, 1500)
            box = cv2.boxPoints(((cx, cy), (rw, rh), rng.uniform(0, 180))).astype(np.int32)
            paper = rng.random() < 0.4
            cv2.fillConvexPoly(img, box, (235, 238, 240) if paper else colour, cv2.LINE_AA)
            if paper:
                for k in range(int(rh // 60)):
                    y = cy - rh / 2 + 40 + k * 60
                    cv2.line(img, (int(cx - rw / 2 + 30), int(y)), (int(cx + rw / 3), int(y)), (90, 90, 90), 6)
        elif kind == 1:  # a cup or a roll of tape
            r = int(rng.uniform(60, 300))
            cv2.circle(img, (int(cx), int(cy)), r, colour, -1, cv2.LINE_AA)
            cv2.circle(img, (int(cx), int(cy)), int(r * 0.7), tuple(c * 0.6 for c in colour), -1, cv2.LINE_AA)
        elif kind == 2:  # a pen
            a = rng.uniform(0, np.pi)
            length = rng.uniform(300, 900)
            p0 = (int(cx), int(cy))
            p1 = (int(cx + length * math.cos(a)), int(cy + length * math.sin(a)))
            cv2.line(img, p0, p1, colour, int(rng.integers(14, 35)), cv2.LINE_AA)
        else:  # scribbles: printing on a box, a child's drawing, cables
            pts = np.cumsum(rng.normal(0, 60, (int(rng.integers(5, 25)), 2)), axis=0) + (cx, cy)
            cv2.polylines(img, [pts.astype(np.int32)], False, colour, int(rng.integers(4, 16)), cv2.LINE_AA)


def _gradient_light(img: npt.NDArray[np.float32], rng: np.random.Generator, strength: float,
                    shadow: bool, hard: bool = False) -> npt.NDArray[np.float32]:
    """``img`` multiplied by a smooth illumination field (see :func:`_light_field`)."""
    light = _light_field((img.shape[1], img.shape[0]), rng, strength, shadow, hard)
    return img * (light[..., None] if img.ndim == 3 else light)


def _light_field(size: tuple[int, int], rng: np.random.Generator, strength: float,
                 shadow: bool, hard: bool = False) -> npt.NDArray[np.float32]:
    """A smooth illumination field (H, W) around 1: a gradient, a vignette and maybe a soft shadow."""
    w, h = size
    sh, sw = max(h // 16, 8), max(w // 16, 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    xx, yy = xx / sw - 0.5, yy / sh - 0.5
    a = rng.uniform(0, 2 * np.pi)
    light = 1 + strength * (xx * math.cos(a) + yy * math.sin(a)) * 2
    light -= strength * 0.8 * (xx ** 2 + yy ** 2)
    if shadow:
        poly = _shadow_polygon(sw, sh, rng)
        mask = np.zeros((sh, sw), np.float32)
        cv2.fillPoly(mask, [poly], 1.0)
        k = int(max(sw, sh) * rng.uniform(0.02, 0.08)) * 2 + 1
        mask = cv2.GaussianBlur(mask, (k, k), 0)
        light *= 1 - mask * (rng.uniform(0.25, 0.5) if hard else rng.uniform(0.15, 0.35))
    return cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _shadow_polygon(w: int, h: int, rng: np.random.Generator) -> npt.NDArray[np.int32]:
    """A blob entering from one edge: the shadow of a hand, a phone or a head."""
    side = rng.integers(0, 4)
    depth = rng.uniform(0.2, 0.6)
    t0, t1 = sorted(rng.uniform(0, 1, 2))
    t1 = max(t1, t0 + 0.3)
    pts = [(t0, 0.0), (t1, 0.0), (min(t1 + 0.1, 1.2), depth * rng.uniform(0.6, 1)),
           ((t0 + t1) / 2, depth), (max(t0 - 0.1, -0.2), depth * rng.uniform(0.5, 1))]
    out = []
    for u, v in pts:
        x, y = {0: (u, v), 1: (1 - v, u), 2: (u, 1 - v), 3: (v, u)}[int(side)]
        out.append((x * w, y * h))
    return np.array(out, np.int32)


def _cast_gains(rng: np.random.Generator, amount: float) -> npt.NDArray[np.float32]:
    """Per-channel (BGR) gains of a white-balance error."""
    gains = 1 + rng.normal(0, amount, 3)
    if rng.random() < 0.3:  # warm indoor light
        gains *= np.array([0.88, 0.97, 1.06])
    return gains.astype(np.float32)


def _blur(img: npt.NDArray[np.float32], rng: np.random.Generator, hard: bool):
    sigma = float(rng.uniform(0.8, 2.0) if hard else rng.uniform(0.3, 1.3))
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    length = 0
    if rng.random() < (0.5 if hard else 0.15):
        length = int(rng.integers(3, 10 if hard else 6))
        k = np.zeros((length * 2 + 1, length * 2 + 1), np.float32)
        a = rng.uniform(0, np.pi)
        c = length
        cv2.line(k, (int(c - length * math.cos(a)), int(c - length * math.sin(a))),
                 (int(c + length * math.cos(a)), int(c + length * math.sin(a))), 1.0, 1, cv2.LINE_AA)
        img = cv2.filter2D(img, -1, k / k.sum())
    return img, {"blur": sigma, "motion_px": 2 * length}


def _noise(img: npt.NDArray[np.float32], rng: np.random.Generator, sigma: float) -> npt.NDArray[np.float32]:
    """Add sensor noise in place: per-pixel luminance noise plus coarser colour noise."""
    h, w = img.shape[:2]
    lum = rng.standard_normal((h, w), dtype=np.float32)
    lum *= np.float32(sigma)
    if img.ndim == 2:
        img += lum
        return img
    img += lum[..., None]
    chroma = rng.standard_normal((h // 2 + 1, w // 2 + 1, 3), dtype=np.float32) * np.float32(sigma * 0.5)
    img += cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR)
    return img
