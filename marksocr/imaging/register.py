"""Registration: a photo or scan of a sheet -> the page in the template's reference frame.

Three methods, tried in order:

1. **markers**: ArUco fiducials printed by ``marksocr template new`` (template ``markers`` and
   ``page_size``). Each detected marker gives four corners whose page positions are known, so
   rotation (including upside-down), perspective and scale come out of one homography.
2. **features**: ORB keypoints of the photo matched to the template's ``reference_image``
   (ratio test + RANSAC homography), refined by a second, spatially constrained matching pass
   on the roughly aligned page. Reference features are cached per template.
3. **outline**: the largest convex quadrilateral in the photo taken as the page border.
   Orientation is ambiguous without content, so when a reference image exists each of the four
   rotations is checked against it; otherwise the result is marked unverified (low quality).

The result carries the warped page at a working resolution (``page_width`` pixels wide), the
homography from photo pixels to page pixels, the method, a quality figure 0..1 and a reason
when alignment failed or is doubtful. Intermediate images are returned in ``debug``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

import cv2
import numpy as np

from marksocr.domain import GrayImage, Template
from marksocr.imaging.features import (MIN_INLIERS, load_reference, match, orb_detector, prep_features,
                                       reference_features, refine)
from marksocr.imaging.outline import find_page_quad

log = logging.getLogger(__name__)

DEFAULT_PAGE_WIDTH = 1240
"""Working resolution of registered pages (A4 at ~150 dpi)."""
A4_ASPECT = 297.0 / 210.0

_DETECT_MAX_SIDE = 1600     # marker detection on a downscaled photo first (speed)
_FEATURE_MAX_SIDE = 1100    # photo size for ORB matching
_FEATURE_REF_WIDTH = 800    # reference size for ORB matching
_FEATURE_SCALES = ((_FEATURE_MAX_SIDE, _FEATURE_REF_WIDTH), (700, 500), (1600, 500), (2400, 500))
"""(photo's longer side, reference width) for ORB matching, tried in turn until one registers.
The second: heavy blur (camera shake) wipes out fine keypoints, and shrinking the photo shrinks
the blur with it. The last two: a sheet filling only a third or a quarter of the photo's width is
a few hundred pixels wide at 1100, beyond ORB's scale range from an 800-pixel reference; a larger
photo and a smaller reference bring the two to one scale (7 of the 13 hard photos of two tuning
seeds that no method registered)."""

MATCH_RATIO = 0.8
LOOSE_RATIO = 0.85
"""Lowe's ratio test for ORB matches: ``MATCH_RATIO`` first; ``LOOSE_RATIO`` only when no size
registers with it. A small, blurred sheet among clutter has few distinct keypoints, and the
strict test left too few true matches for RANSAC (on tuning, 4 of the 5 hard photos that still
failed then registered; RANSAC and the reference check keep the extra false matches out).
The cost is on photos that are not the sheet: all sizes are tried twice, so such a photo is
refused after ~1.6 s instead of ~0.3 s (measured on a photo of a page of text, this machine)."""

FAIL_QUALITY = 0.25
"""Below this quality the page is treated as not registered at all (status ``failed``)."""


@dataclass
class RegistrationResult:
    """Outcome of :func:`register_page`.

    ``page`` is the registered page (uint8 gray, ``page_size`` = (width, height)) or None when
    registration failed; ``homography`` maps photo pixels to page pixels.
    ``quality`` is 0 (failed) .. 1 (perfect); ``reason`` says what is doubtful or wrong.
    """

    ok: bool
    method: str
    quality: float
    page: Optional[GrayImage] = None
    photo: Optional[GrayImage] = None
    """The gray photo that was registered (fields can be cut from it at a higher resolution)."""
    homography: Optional[np.ndarray] = None
    page_size: tuple[int, int] = (0, 0)
    reason: str = ""
    details: dict = field(default_factory=dict)
    debug: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def page_size_for(template: Template, page_width: int = DEFAULT_PAGE_WIDTH) -> tuple[int, int]:
    """Working page size (width, height) keeping the template's page aspect ratio."""
    aspect = A4_ASPECT
    if template.page_size:
        w, h = template.page_size
        aspect = h / float(w)
    elif template.reference_image is not None:
        ref = load_reference(str(template.reference_image))
        if ref is not None:
            aspect = ref.shape[0] / float(ref.shape[1])
    return page_width, int(round(page_width * aspect))


def to_gray(image: np.ndarray) -> GrayImage:
    """Any 2-D / 3-channel / 4-channel uint8 image -> 2-D uint8 gray."""
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def _downscale(image: GrayImage, max_side: int) -> tuple[GrayImage, float]:
    scale = min(1.0, max_side / float(max(image.shape[:2])))
    if scale >= 1.0:
        return image, 1.0
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return small, scale


def _scale_h(h: np.ndarray, photo_scale: float, page_scale: float) -> np.ndarray:
    """Homography between scaled images -> homography between the unscaled ones."""
    s_in = np.diag([photo_scale, photo_scale, 1.0])
    s_out = np.diag([1.0 / page_scale, 1.0 / page_scale, 1.0])
    return s_out @ h @ s_in


def warp(image: GrayImage, h: np.ndarray, size: tuple[int, int]) -> GrayImage:
    """Warp ``image`` with homography ``h`` into a ``size`` (w, h) page; outside = white."""
    return cv2.warpPerspective(image, h, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def _coverage(photo_shape: tuple[int, int], h: np.ndarray, size: tuple[int, int]) -> float:
    """Share of the page that lies inside the photo."""
    w, hh = size
    ones = np.full((max(1, photo_shape[0] // 8), max(1, photo_shape[1] // 8)), 255, np.uint8)
    hs = _scale_h(h, 8.0, 8.0)
    small = (max(1, w // 8), max(1, hh // 8))
    m = cv2.warpPerspective(ones, hs, small, flags=cv2.INTER_NEAREST)
    return float((m > 0).mean())


def _plausible(h: Optional[np.ndarray], photo_shape: tuple[int, int], size: tuple[int, int]) -> bool:
    """Reject degenerate homographies (mirrored, collapsed, absurdly distorted)."""
    if h is None or not np.all(np.isfinite(h)):
        return False
    w, hh = size
    corners = np.float32([[0, 0], [w, 0], [w, hh], [0, hh]]).reshape(-1, 1, 2)
    try:
        inv = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return False
    quad = cv2.perspectiveTransform(corners, inv).reshape(-1, 2)
    if not cv2.isContourConvex(quad.astype(np.float32)):
        return False
    area = cv2.contourArea(quad.astype(np.float32))
    photo_area = photo_shape[0] * photo_shape[1]
    if area < 0.03 * photo_area or area > 30 * photo_area:
        return False
    # orientation must be preserved (no mirror): signed area of page corners in photo
    x, y = quad[:, 0], quad[:, 1]
    signed = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    if signed <= 0:
        return False
    sides = [np.linalg.norm(quad[i] - quad[(i + 1) % 4]) for i in range(4)]
    return min(sides) > 0.15 * max(sides)


def reference_page(template: Template, size: Optional[tuple[int, int]] = None) -> Optional[GrayImage]:
    """The template's reference image (resized to ``size`` when given), or None."""
    if template.reference_image is None:
        return None
    if size is None:
        return load_reference(str(template.reference_image))
    return _reference_resized(str(template.reference_image), size)


@lru_cache(maxsize=8)
def _reference_resized(path: str, size: tuple[int, int]) -> Optional[GrayImage]:
    ref = load_reference(path)
    if ref is None:
        return None
    return cv2.resize(ref, size, interpolation=cv2.INTER_AREA)


def _structure(gray: GrayImage, width: int = 310) -> np.ndarray:
    """Low-resolution, illumination-flattened, zero-mean structure image (for comparisons)."""
    small = cv2.resize(gray, (width, int(round(width * gray.shape[0] / gray.shape[1]))), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    bg = cv2.GaussianBlur(small, (0, 0), 8)
    flat = small / np.maximum(bg, 1.0)
    flat = cv2.GaussianBlur(flat, (0, 0), 1.2)
    return flat - flat.mean()


def reference_agreement(page: GrayImage, ref: GrayImage) -> float:
    """Normalised cross-correlation (0..1) of the registered page and the reference layout.

    Computed at ~1/4 resolution after flattening the light, so blur, shadows and handwriting
    matter little: ~0.5-0.9 for a correctly aligned sheet of that layout, ~0-0.2 for a wrong
    alignment or another document.
    """
    a, b = _structure(page), _structure(ref)
    if a.shape != b.shape:
        b = cv2.resize(b, (a.shape[1], a.shape[0]))
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if den < 1e-6:
        return 0.0
    return float(max(0.0, (a * b).sum() / den))


# --------------------------------------------------------------------------- markers


def _marker_reference_points(markers: dict, size: tuple[int, int]) -> dict[int, np.ndarray]:
    w, h = size
    side = float(markers.get("size", 0.06)) * w
    pts = {}
    for key, (fx, fy) in dict(markers.get("positions", {})).items():
        x, y = fx * w, fy * h
        pts[int(key)] = np.float32([[x, y], [x + side, y], [x + side, y + side], [x, y + side]])
    return pts


@lru_cache(maxsize=4)
def _aruco_detector(dictionary: str) -> "cv2.aruco.ArucoDetector":
    d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(d, params)


def _detect_markers(photo: GrayImage, dictionary: str, wanted: set[int]) -> dict[int, np.ndarray]:
    """Markers by id, in photo pixels. Tries several scales (blurred photos detect better
    small, small markers better large) and stops once every wanted marker is found."""
    det = _aruco_detector(dictionary)
    found: dict[int, np.ndarray] = {}
    for max_side in (_DETECT_MAX_SIDE, 1000, 100000):
        img, s = _downscale(photo, max_side)
        corners, ids, _ = det.detectMarkers(img)
        if ids is not None:
            for c, i in zip(corners, ids.ravel()):
                if int(i) in wanted and int(i) not in found:
                    found[int(i)] = c.reshape(4, 2) / s
        if len(found) >= len(wanted) or s == 1.0:
            break
    return found


def register_markers(photo: GrayImage, template: Template, size: tuple[int, int]) -> RegistrationResult:
    """Register with the template's ArUco markers."""
    markers = dict(template.markers or {})
    ref_pts = _marker_reference_points(markers, size)
    try:
        found = _detect_markers(photo, str(markers.get("dictionary", "DICT_4X4_50")), set(ref_pts))
    except (AttributeError, cv2.error) as exc:
        return RegistrationResult(False, "markers", 0.0, reason=f"marker detection failed: {exc}")
    if len(found) < 2:
        return RegistrationResult(False, "markers", 0.0, reason=f"found {len(found)} of {len(ref_pts)} alignment markers")
    src = np.concatenate([found[i] for i in sorted(found)]).astype(np.float32)
    dst = np.concatenate([ref_pts[i] for i in sorted(found)]).astype(np.float32)
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, 6.0)
    if not _plausible(h, photo.shape[:2], size):
        return RegistrationResult(False, "markers", 0.0, reason="alignment markers are inconsistent")
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2)
    err = float(np.sqrt(np.mean(np.sum((proj - dst) ** 2, axis=1))))
    n = len(found)
    quality = {2: 0.6, 3: 0.9}.get(n, 1.0) * math.exp(-max(0.0, err - 1.0) / 4.0)
    details = {"markers": n, "reprojection_px": round(err, 2)}
    reason = "" if n >= 3 else f"only {n} of {len(ref_pts)} alignment markers found"
    return RegistrationResult(True, "markers", quality, homography=h, page_size=size, reason=reason, details=details)


# --------------------------------------------------------------------------- features

def register_features(photo: GrayImage, template: Template, size: tuple[int, int]) -> RegistrationResult:
    """Register by ORB feature matching against the template's reference image.

    Tried at the normal matching size, then at the other :data:`_FEATURE_SCALES`, then at all of
    them again with the looser :data:`LOOSE_RATIO`.
    """
    res = RegistrationResult(False, "features", 0.0)
    for ratio in (MATCH_RATIO, LOOSE_RATIO):
        for max_side, ref_width in _FEATURE_SCALES:
            res = _register_features_at(photo, template, size, max_side, ref_width, ratio)
            if res.ok:
                return res
    return res


REFINE_PASSES = 5
REFINE_SPREAD = 0.75
"""A refined feature alignment whose inliers span less than ``REFINE_SPREAD`` of the reference's
height is refined again from itself, up to ``REFINE_PASSES`` more times while the inliers grow.
Under strong tilt or blur the coarse homography can fit the keypoint-rich top of the page and
stretch the bottom; the first refinement then finds matches only near the top, and its
homography extrapolates the rest. Each pass brings more of the page within the matching radius
(a tilted, shadowed tuning photo: 249 -> 720 inliers, from refused to quality 0.87). Five passes,
not three: with OpenCV 5.1 / 4.13-4.14 (session 20) the inliers grow more slowly from pass to
pass, and three left the bottom of a stretched test page 3-7 px off; the 900 tuning sheets of
seed 1000 read field for field the same with five."""


def refine_repeatedly(small: GrayImage, h0: np.ndarray, ref_shape, ref_pts, ref_des) -> tuple[np.ndarray, int, float]:
    """:func:`features.refine`, repeated from its own result while its inliers cover only part
    of the page and grow (see :data:`REFINE_SPREAD`): (homography, inliers, reprojection error)."""
    h, inliers, err, spread = refine(small, h0, ref_shape, ref_pts, ref_des)
    for _ in range(REFINE_PASSES):
        if not inliers or spread >= REFINE_SPREAD:
            break
        h2, inliers2, err2, spread2 = refine(small, h, ref_shape, ref_pts, ref_des)
        if inliers2 <= inliers:
            break
        h, inliers, err, spread = h2, inliers2, err2, spread2
    return h, inliers, err


def _register_features_at(photo: GrayImage, template: Template, size: tuple[int, int],
                          max_side: int, ref_width: int, ratio: float = MATCH_RATIO) -> RegistrationResult:
    feats = reference_features(str(template.reference_image), ref_width)
    if feats is None:
        return RegistrationResult(False, "features", 0.0, reason=f"cannot read reference image {template.reference_image}")
    ref_shape, ref_pts, ref_des = feats
    small, pscale = _downscale(photo, max_side)
    kp, des = orb_detector().detectAndCompute(prep_features(small), None)
    pairs = match(des, ref_des, ratio)
    if len(pairs) < MIN_INLIERS:
        return RegistrationResult(False, "features", 0.0, reason=f"photo does not match the reference layout ({len(pairs)} feature matches)")
    src = np.float32([kp[i].pt for i, _ in pairs])
    dst = np.float32([ref_pts[j] for _, j in pairs])
    h0, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0 * ref_width / _FEATURE_REF_WIDTH, maxIters=4000, confidence=0.999)
    inliers = int(mask.sum()) if mask is not None else 0
    if h0 is None or inliers < MIN_INLIERS:
        return RegistrationResult(False, "features", 0.0, reason=f"photo does not match the reference layout ({inliers} consistent matches)")
    h1, inl2, err = refine_repeatedly(small, h0, ref_shape, ref_pts, ref_des)
    page_scale = size[0] / float(ref_shape[1])
    h = _scale_h(h1, pscale, 1.0)
    h = np.diag([page_scale, page_scale, 1.0]) @ h
    if not _plausible(h, photo.shape[:2], size):
        return RegistrationResult(False, "features", 0.0, reason="feature alignment is degenerate (not this layout?)")
    ratio = inliers / float(len(pairs))
    quality = min(1.0, inl2 / 150.0 + 0.3) * (0.6 + 0.4 * min(1.0, ratio * 2)) if inl2 else 0.4
    quality *= math.exp(-max(0.0, err - 1.0) / 3.0) if inl2 else 1.0
    details = {"matches": len(pairs), "inliers": inliers, "refined_inliers": inl2, "refine_err_px": round(err, 2),
               "match_size": max_side}
    return RegistrationResult(True, "features", min(1.0, quality), homography=h, page_size=size, details=details)


def refine_with_reference(photo: GrayImage, res: RegistrationResult, template: Template,
                          size: tuple[int, int]) -> RegistrationResult:
    """Polish a coarse homography (e.g. from 2-3 markers) by constrained feature matching
    against the reference image; keeps the coarse one when refinement finds too little."""
    feats = reference_features(str(template.reference_image), _FEATURE_REF_WIDTH)
    if feats is None or res.homography is None:
        return res
    ref_shape, ref_pts, ref_des = feats
    small, pscale = _downscale(photo, _FEATURE_MAX_SIDE)
    rscale = ref_shape[1] / float(size[0])
    to_small = np.diag([rscale, rscale, 1.0]) @ res.homography @ np.diag([1.0 / pscale, 1.0 / pscale, 1.0])
    h1, inl, err = refine_repeatedly(small, to_small, ref_shape, ref_pts, ref_des)
    if inl < 3 * MIN_INLIERS:
        return res
    h = np.diag([1.0 / rscale, 1.0 / rscale, 1.0]) @ h1 @ np.diag([pscale, pscale, 1.0])
    if not _plausible(h, photo.shape[:2], size):
        return res
    q = max(res.quality, min(1.0, inl / 150.0 + 0.3) * math.exp(-max(0.0, err - 1.0) / 3.0))
    details = {**res.details, "refined_inliers": inl, "refine_err_px": round(err, 2)}
    return RegistrationResult(True, res.method + "+features", q, homography=h, page_size=size,
                              reason=res.reason, details=details)


# --------------------------------------------------------------------------- outline


def register_outline(photo: GrayImage, template: Template, size: tuple[int, int]) -> RegistrationResult:
    """Register by the page border; verified against the reference image when there is one."""
    quad = find_page_quad(photo)
    if quad is None:
        return RegistrationResult(False, "outline", 0.0, reason="no page outline found in the photo")
    w, h = size
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    side_a = np.linalg.norm(quad[0] - quad[1]) + np.linalg.norm(quad[2] - quad[3])
    side_b = np.linalg.norm(quad[1] - quad[2]) + np.linalg.norm(quad[3] - quad[0])
    rolls = [1, 3] if (side_a > side_b) != (w > h) else [0, 2]  # match the page's long side
    ref = reference_page(template, size)
    best = None
    for r in rolls:
        hm = cv2.getPerspectiveTransform(np.roll(quad, -r, axis=0), dst)
        score = reference_agreement(warp(photo, hm, size), ref) if ref is not None else 0.0
        if best is None or score > best[0]:
            best = (score, hm)
    score, hm = best
    if ref is not None:
        quality = 0.75 * float(np.clip((score - 0.4) / 0.4, 0.0, 1.0))
        details = {"reference_agreement": round(score, 3)}
    elif template.markers:
        # a printed sheet whose markers are all invisible is most likely not that sheet
        quality, details = 0.2, {}
    else:
        quality, details = 0.45, {}
    reason = "aligned by the page outline only (no markers or reference match)"
    return RegistrationResult(True, "outline", quality, homography=hm, page_size=size, reason=reason, details=details)


# --------------------------------------------------------------------------- entry point


def register_page(image: np.ndarray, template: Template, *, page_width: int = DEFAULT_PAGE_WIDTH) -> RegistrationResult:
    """Align a photo/scan of a sheet to ``template``; never raises for a bad photo.

    Tries markers (if the template has them), then reference-image features, then the page
    outline, and keeps the first confident result (else the best one). The returned quality
    includes a check of the registered page against the reference image when one exists and
    of how much of the page lies inside the photo.
    """
    photo = to_gray(image)
    size = page_size_for(template, page_width)
    if photo.size == 0 or min(photo.shape[:2]) < 100:
        return RegistrationResult(False, "none", 0.0, page_size=size, reason="image too small to be a sheet")
    methods = []
    if template.markers:
        methods.append(register_markers)
    if template.reference_image is not None:
        methods.append(register_features)
    methods.append(register_outline)
    tried: list[RegistrationResult] = []
    for method in methods:
        try:
            res = method(photo, template, size)
        except cv2.error as exc:  # OpenCV errors on odd inputs must not crash a batch
            log.warning("%s registration raised %s", method.__name__, exc)
            res = RegistrationResult(False, method.__name__.split("_")[-1], 0.0, reason=f"OpenCV error: {exc}")
        if res.ok and res.method == "markers" and res.quality < 0.9 and template.reference_image is not None:
            res = refine_with_reference(photo, res, template, size)
        if res.ok:
            _finish(res, photo, template, size)
        tried.append(res)
        log.debug("registration %s: ok=%s q=%.3f %s %s", res.method, res.ok, res.quality, res.reason, res.details)
        if res.ok and res.quality >= 0.7:
            return res
    ok = [r for r in tried if r.ok]
    if ok:
        best = max(ok, key=lambda r: r.quality)
        if best.quality >= FAIL_QUALITY:
            return best
        best.ok = False
        best.reason = f"not recognisable as this sheet ({best.method}: {best.reason}, quality {best.quality:.2f})"
        return best
    reasons = "; ".join(f"{r.method}: {r.reason}" for r in tried)
    return RegistrationResult(False, "none", 0.0, page_size=size, reason=f"could not align the sheet ({reasons})")


def _finish(res: RegistrationResult, photo: GrayImage, template: Template, size: tuple[int, int]) -> None:
    """Warp the page and fold coverage and the reference check into the quality."""
    res.page = warp(photo, res.homography, size)
    res.photo = photo
    res.debug["registered"] = res.page
    cov = _coverage(photo.shape[:2], res.homography, size)
    res.details["coverage"] = round(cov, 3)
    if cov < 0.97:
        res.quality *= max(0.0, (cov - 0.8) / 0.17)
        res.reason = _join(res.reason, f"{100 * (1 - cov):.0f}% of the page is outside the photo")
    ref = reference_page(template, size)
    if ref is not None and res.method != "outline":
        agree = reference_agreement(res.page, ref)
        res.details["reference_agreement"] = round(agree, 3)
        if agree < 0.6:
            res.quality *= max(0.0, agree / 0.6) ** 2
            res.reason = _join(res.reason, f"registered page differs from the reference layout (agreement {agree:.2f})")
    res.quality = float(max(0.0, min(1.0, res.quality)))


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
