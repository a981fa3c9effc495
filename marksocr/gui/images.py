"""Conversions between NumPy grayscale images and Qt images (no image processing)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtGui import QImage, QPixmap


def array_to_qimage(image: npt.NDArray[np.uint8]) -> QImage:
    """A deep-copied ``QImage`` of a 2-D uint8 (H, W) or 3-D (H, W, 3) BGR array."""
    a = np.ascontiguousarray(image)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8).copy()
    if a.ndim == 3 and a.shape[2] == 3:
        h, w, _ = a.shape
        return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_BGR888).copy()
    raise ValueError(f"cannot show an image of shape {a.shape}")


def array_to_pixmap(image: npt.NDArray[np.uint8]) -> QPixmap:
    """A ``QPixmap`` of a grayscale or BGR array (UI thread only)."""
    return QPixmap.fromImage(array_to_qimage(image))


def qimage_to_gray_array(image: QImage) -> npt.NDArray[np.uint8]:
    """A (H, W) uint8 copy of a ``QImage``, converted to 8-bit grayscale first."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = gray.width(), gray.height(), gray.bytesPerLine()
    buf = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, :w].copy()
