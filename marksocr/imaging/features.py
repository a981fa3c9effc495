"""ORB feature machinery for registering a photo to a template's reference image.

Reference keypoints are computed once per reference file and cached; photos are matched with a
ratio test, and a second, spatially constrained pass (each keypoint of the roughly aligned
photo matched only to reference keypoints within a few pixels) gives a precise homography.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Optional

import cv2
import numpy as np

from marksocr.domain import GrayImage

log = logging.getLogger(__name__)

MIN_INLIERS = 25


@lru_cache(maxsize=8)
def load_reference(path: str) -> Optional[GrayImage]:
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if img is None:
        log.warning("cannot read reference image %s", path)
    return img


@lru_cache(maxsize=8)
def reference_features(path: str, ref_width: int):
    """(shape, keypoint positions, descriptors) of the reference image at ``ref_width``, cached."""
    ref = load_reference(path)
    if ref is None:
        return None
    scale = ref_width / float(ref.shape[1])
    small = cv2.resize(ref, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    kp, des = orb_detector().detectAndCompute(prep_features(small), None)
    pts = np.float32([k.pt for k in kp]) if kp else np.zeros((0, 2), np.float32)
    return small.shape, pts, des


_orb = None


def orb_detector() -> "cv2.ORB":
    global _orb
    if _orb is None:
        _orb = cv2.ORB_create(nfeatures=4000, scaleFactor=1.2, nlevels=8, fastThreshold=10)
    return _orb


def prep_features(gray: GrayImage) -> GrayImage:
    """Flatten illumination so shadows do not create or hide keypoints."""
    small = cv2.resize(gray, (max(1, gray.shape[1] // 8), max(1, gray.shape[0] // 8)), interpolation=cv2.INTER_AREA)
    bg = cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    norm = cv2.divide(gray, np.maximum(bg, 1), scale=200)
    return cv2.GaussianBlur(norm, (3, 3), 0)


def match(des_a, des_b, ratio: float) -> list[tuple[int, int]]:
    if des_a is None or des_b is None or len(des_a) < 2 or len(des_b) < 2:
        return []
    bf = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = []
    for m in bf.knnMatch(des_a, des_b, k=2):
        if len(m) == 2 and m[0].distance < ratio * m[1].distance:
            pairs.append((m[0].queryIdx, m[0].trainIdx))
    return pairs


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def local_matches(pts_a, des_a, pts_b, des_b, radius: float, max_dist: int = 64):
    """Best descriptor match of each point of ``a`` among the points of ``b`` within ``radius``
    pixels (grid buckets + Hamming distance in NumPy: much cheaper than brute force)."""
    big = 1 << 20
    kb = np.floor(pts_b / radius).astype(np.int64)
    keys_b = kb[:, 0] * big + kb[:, 1]
    order_b = np.argsort(keys_b, kind="stable")
    sorted_b = keys_b[order_b]
    ka = np.floor(pts_a / radius).astype(np.int64)
    ias, ibs = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            key = (ka[:, 0] + dx) * big + ka[:, 1] + dy
            lo = np.searchsorted(sorted_b, key, "left")
            hi = np.searchsorted(sorted_b, key, "right")
            cnt = hi - lo
            if cnt.sum() == 0:
                continue
            rep_a = np.repeat(np.arange(len(ka)), cnt)
            offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            ias.append(rep_a)
            ibs.append(order_b[np.repeat(lo, cnt) + offs])
    if not ias:
        return [], []
    ia, ib = np.concatenate(ias), np.concatenate(ibs)
    ia_a, ib_a = ia, ib
    close = np.sum((pts_a[ia_a] - pts_b[ib_a]) ** 2, axis=1) < radius * radius
    ia_a, ib_a = ia_a[close], ib_a[close]
    dist = _POPCOUNT[np.bitwise_xor(des_a[ia_a], des_b[ib_a])].sum(axis=1)
    order = np.lexsort((dist, ia_a))  # by point of a, then distance
    ia_s, ib_s, d_s = ia_a[order], ib_a[order], dist[order]
    first = np.r_[True, ia_s[1:] != ia_s[:-1]]
    keep = first & (d_s < max_dist)
    return list(pts_a[ia_s[keep]]), list(pts_b[ib_s[keep]])


def refine(photo_small: GrayImage, h0: np.ndarray, ref_shape, ref_pts, ref_des) -> tuple[np.ndarray, int, float, float]:
    """Second pass on the roughly aligned photo: match only keypoints within ~12 px. Returns
    (homography, inliers, reprojection error, spread): the spread is how much of the reference's
    height the inliers span (0..1); inliers bunched in one part of the page fit that part and
    may stretch the rest."""
    size = (ref_shape[1], ref_shape[0])
    warped = cv2.warpPerspective(photo_small, h0, size, flags=cv2.INTER_LINEAR, borderValue=255)
    kp, des = orb_detector().detectAndCompute(prep_features(warped), None)
    if des is None or len(kp) < MIN_INLIERS:
        return h0, 0, 0.0, 0.0
    wpts = np.float32([k.pt for k in kp])
    src, dst = local_matches(wpts, des, ref_pts, ref_des, radius=12.0)
    if len(src) < MIN_INLIERS:
        return h0, 0, 0.0, 0.0
    src_a, dst_a = np.float32(src), np.float32(dst)
    h1, mask = cv2.findHomography(src_a, dst_a, cv2.RANSAC, 2.5)
    if h1 is None:
        return h0, 0, 0.0, 0.0
    inl = mask.ravel().astype(bool)
    err = float(np.sqrt(np.mean(np.sum((cv2.perspectiveTransform(src_a[inl].reshape(-1, 1, 2), h1).reshape(-1, 2) - dst_a[inl]) ** 2, axis=1))))
    ys = dst_a[inl, 1]
    spread = float(np.ptp(ys) / max(1, ref_shape[0])) if len(ys) else 0.0
    return h1 @ h0, int(inl.sum()), err, spread
