"""Loading sheet images: JPEG, PNG, TIFF, BMP (and WebP), and every page of a PDF.

Every image comes out as a 2-D ``uint8`` gray array (shape ``(H, W)``), upright
(EXIF orientation applied). Problems are :class:`~marksocr.domain.InputError`
messages that name the file; :func:`iter_pages` turns them into a
:class:`Page` with ``error`` set so that a batch goes on with the next file.

Images are decoded with Pillow: it identifies a file by its content (not its
extension), reads the size from the header before decoding (so oversized images
are refused cheaply) and applies EXIF orientation. PDFs are rendered with pypdfium2.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from marksocr.domain import GrayImage, InputError

log = logging.getLogger(__name__)

MAX_PIXELS = 60_000_000
"""Largest image (width x height) accepted; phone photos are 12-50 MP."""
PDF_DPI = 200
"""Resolution PDF pages are rendered at."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".bmp", ".webp")
PDF_SUFFIXES = (".pdf",)
_PIL_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class Page:
    """One page to read: a plain image file, or one page of a PDF / multi-page TIFF."""

    source: str
    """Path of the file, as given."""
    page: Optional[int]
    """1-based page number in a PDF or multi-page TIFF; None for single images."""
    sha256: str
    """sha256 of the file bytes, with ``#<page>`` appended for pages of a multi-page file."""
    image: Optional[GrayImage] = field(default=None, repr=False, compare=False)
    """The page, 2-D uint8 gray; None when it could not be loaded."""
    error: Optional[str] = None
    """Why the page could not be loaded (a sentence naming the file), else None."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.image is not None


def load_image(path: PathLike, max_pixels: int = MAX_PIXELS) -> GrayImage:
    """Load one image file as a 2-D uint8 gray array, upright.

    A PDF gives its first page. Raises :class:`InputError` (naming the file) for a
    missing, empty, corrupt, truncated, unsupported or oversized file.
    """
    data = _read_bytes(path)
    if _is_pdf(data):
        for page in _pdf_pages(str(path), data, _sha(data), max_pixels):
            if page.error:
                raise InputError(page.error)
            return page.image  # type: ignore[return-value]
    return _decode_image(str(path), data, max_pixels)[0]


def iter_pages(path: PathLike, max_pixels: int = MAX_PIXELS) -> Iterator[Page]:
    """Yield every page of a file: one for an image, one per page of a PDF / multi-page TIFF.

    Never raises for a bad file: the problem is in ``Page.error`` (and the
    ``image`` is None), so that a batch carries on.
    """
    src = str(path)
    try:
        data = _read_bytes(path)
    except InputError as exc:
        yield Page(src, None, "", None, str(exc))
        return
    digest = _sha(data)
    if _is_pdf(data):
        yield from _pdf_pages(src, data, digest, max_pixels)
        return
    try:
        frames = _decode_image(src, data, max_pixels, all_frames=True)
    except InputError as exc:
        yield Page(src, None, digest, None, str(exc))
        return
    if len(frames) == 1:
        yield Page(src, None, digest, frames[0], None)
        return
    for i, frame in enumerate(frames, start=1):
        yield Page(src, i, f"{digest}#{i}", frame, None)


def find_inputs(paths: Iterable[PathLike]) -> list[Path]:
    """Expand folders (recursively) into the image and PDF files they hold, sorted by name.

    Files named explicitly are kept whatever their extension (content decides
    whether they are images); missing paths are kept too, so they fail clearly later.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = [f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES + PDF_SUFFIXES
                     and not f.name.startswith(".")]
            out.extend(sorted(found, key=lambda f: str(f).lower()))
        else:
            out.append(p)
    return out


def to_gray(image: np.ndarray) -> GrayImage:
    """Convert an OpenCV-style image (gray, BGR or BGRA; uint8 or uint16) to 2-D uint8 gray."""
    import cv2

    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = _scale_to_uint8(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        img = cv2.cvtColor(img, code)
    if img.ndim != 2:
        raise InputError(f"unsupported image shape {img.shape}")
    return np.ascontiguousarray(img)


# --------------------------------------------------------------------------- files

def _read_bytes(path: PathLike) -> bytes:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not an image file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not data:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    return data


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip()[:5] == b"%PDF-"


# --------------------------------------------------------------------------- images

def _decode_image(src: str, data: bytes, max_pixels: int, all_frames: bool = False) -> list[GrayImage]:
    """Decode an image file's bytes with Pillow into upright gray frames."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_PIL_FORMATS)
    except UnidentifiedImageError:
        raise InputError(f"{src}: not an image file (or an unsupported format; "
                         "use JPEG, PNG, TIFF, BMP or PDF)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"{src}: corrupt image file ({exc})") from None
    with im:
        w, h = im.size
        if w * h > max_pixels:
            raise InputError(f"{src}: image is too large ({w}x{h} = {w * h / 1e6:.0f} MP; "
                             f"the limit is {max_pixels / 1e6:.0f} MP); resize it first")
        if w < 1 or h < 1:
            raise InputError(f"{src}: image has no pixels ({w}x{h})")
        n_frames = getattr(im, "n_frames", 1) if (all_frames and im.format == "TIFF") else 1
        frames = []
        for i in range(n_frames):
            try:
                im.seek(i)
                frame = ImageOps.exif_transpose(im) if i == 0 else im.copy()
                frames.append(_pil_to_gray(frame, src))
            except InputError:
                raise
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                raise InputError(f"{src}: corrupt or truncated image ({exc})") from None
    log.debug("loaded %s: %s %dx%d, %d page(s)", src, im.format, w, h, len(frames))
    return frames


def _pil_to_gray(im, src: str) -> GrayImage:
    """A Pillow image (any mode) as 2-D uint8 gray; transparency is composited on white."""
    from PIL import Image

    im.load()
    w, h = im.size
    if w * h > MAX_PIXELS * 4:  # a later TIFF frame can be bigger than the first
        raise InputError(f"{src}: image page is too large ({w}x{h})")
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return np.ascontiguousarray(_scale_to_uint8(np.asarray(im)))
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    if im.mode != "L":
        im = im.convert("L")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def _scale_to_uint8(arr: np.ndarray) -> GrayImage:
    arr = np.asarray(arr)
    if arr.dtype == np.uint16 or (arr.dtype.kind in "iu" and arr.max(initial=0) > 255):
        return (arr.astype(np.float32) / 257.0).clip(0, 255).round().astype(np.uint8)
    if arr.dtype.kind == "f":
        hi = 1.0 if float(arr.max(initial=0.0)) <= 1.0 else 255.0
        return (arr.astype(np.float32) * (255.0 / hi)).clip(0, 255).round().astype(np.uint8)
    return arr.clip(0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- PDF

def _pdf_pages(src: str, data: bytes, digest: str, max_pixels: int) -> Iterator[Page]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = "password-protected" if "password" in str(exc).lower() else f"corrupt ({exc})"
        yield Page(src, None, digest, None, f"{src}: cannot open the PDF: {msg}")
        return
    try:
        n = len(doc)
        if n == 0:
            yield Page(src, None, digest, None, f"{src}: the PDF has no pages")
            return
        for i in range(n):
            yield _render_pdf_page(doc, i, src, digest, max_pixels)
    finally:
        doc.close()


def _render_pdf_page(doc, index: int, src: str, digest: str, max_pixels: int) -> Page:
    import pypdfium2 as pdfium

    number = index + 1
    try:
        page = doc[index]
        width_pt, height_pt = page.get_size()
        scale = PDF_DPI / 72.0
        pixels = width_pt * height_pt * scale * scale
        if pixels > max_pixels:  # a poster-sized page: render it smaller, not refuse it
            scale *= (max_pixels / pixels) ** 0.5
            log.warning("%s page %d is very large; rendering at %.0f dpi", src, number, scale * 72)
        bitmap = page.render(scale=scale, grayscale=True)
        image = to_gray(bitmap.to_numpy().copy())
        page.close()
    except (pdfium.PdfiumError, ValueError, MemoryError) as exc:
        return Page(src, number, f"{digest}#{number}", None, f"{src}: page {number}: cannot render it ({exc})")
    return Page(src, number, f"{digest}#{number}", image, None)
