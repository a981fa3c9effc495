"""Page-outline detection: the sheet's border as the largest quadrilateral in the photo."""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from marksocr.domain import GrayImage


def _downscale(image: GrayImage, max_side: int) -> tuple[GrayImage, float]:
    scale = min(1.0, max_side / float(max(image.shape[:2])))
    if scale >= 1.0:
        return image, 1.0
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points TL, TR, BR, BL (image coordinates)."""
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise from the left-most angle (-pi)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _edge_support(edges: np.ndarray, quad: np.ndarray) -> float:
    """Share of the quadrilateral's outline that runs along detected edges (a page border
    does; the hull of scattered clutter does not)."""
    outline = np.zeros_like(edges)
    cv2.polylines(outline, [quad.astype(np.int32).reshape(-1, 1, 2)], True, 255, 1)
    on = outline > 0
    near = cv2.dilate(edges, np.ones((5, 5), np.uint8)) > 0
    return float((on & near).sum()) / max(1, int(on.sum()))


def find_page_quad(photo: GrayImage) -> Optional[np.ndarray]:
    small, scale = _downscale(photo, 800)
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    area_min = 0.2 * small.shape[0] * small.shape[1]
    candidates = []
    _, otsu = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = cv2.dilate(cv2.Canny(blur, 40, 120), np.ones((3, 3), np.uint8))
    for mask in (otsu, edges):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL if mask is otsu else cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            hull = cv2.convexHull(c)
            hull_area = cv2.contourArea(hull)  # (an edge chain with a gap encloses no area itself)
            if hull_area < area_min:
                continue
            for eps in (0.02, 0.035, 0.05):  # blur and touching objects round the corners off
                approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
                if len(approx) == 4 and cv2.contourArea(approx) >= 0.9 * hull_area:
                    if _edge_support(edges, approx.reshape(4, 2)) >= 0.6:
                        candidates.append((cv2.contourArea(approx), approx.reshape(4, 2)))
                    break
    if not candidates:
        return None
    quad = max(candidates, key=lambda t: t[0])[1].astype(np.float32) / scale
    if np.any(np.all(quad < 3, axis=1)) and np.any(np.all(quad > np.float32(photo.shape[::-1]) - 3, axis=1)):
        return None  # the "quad" is the photo's own border
    return _order_corners(quad)
