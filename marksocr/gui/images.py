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


def png_to_qimage(png: bytes | None) -> QImage | None:
    """A ``QImage`` of PNG bytes, safe in a worker thread; None when empty or undecodable.

    Decoded with OpenCV (which releases the GIL) rather than ``QImage.fromData``: Qt's
    image-plugin lock taken in a worker while the UI thread waits for the GIL can deadlock.
    """
    if not png:
        return None
    import cv2

    array = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if array is None:
        return None
    if (array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all():
        array = array[..., 0]
    return array_to_qimage(array)


def png_size(png: bytes | None) -> tuple[int, int] | None:
    """``(width, height)`` read from a PNG's header, without decoding it; None if not a PNG."""
    if not png or len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def array_to_pixmap(image: npt.NDArray[np.uint8]) -> QPixmap:
    """A ``QPixmap`` of a grayscale or BGR array (UI thread only)."""
    return QPixmap.fromImage(array_to_qimage(image))


def qimage_to_gray_array(image: QImage) -> npt.NDArray[np.uint8]:
    """A (H, W) uint8 copy of a ``QImage``, converted to 8-bit grayscale first."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = gray.width(), gray.height(), gray.bytesPerLine()
    buf = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, :w].copy()
