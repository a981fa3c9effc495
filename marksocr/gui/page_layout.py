"""Where to draw a sheet's fields and digits on its stored page image.

A stored field's ``box`` is the *crop* around the field (with a margin) in page
pixels, and its digit boxes are in pixels of the crop, which the reader may cut
at a higher resolution than the page. The template's own field boxes (fractions
of the page) give the writing area without the margin.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

if TYPE_CHECKING:
    from marksocr.storage.records import DigitRecord, FieldRecord, SheetRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageLayout:
    """Template field boxes (page fractions) and stored crop sizes (pixels), by field name."""

    field_boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    crop_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def field_rect(self, f: "FieldRecord", page_w: int, page_h: int) -> QRectF | None:
        """The writing area of ``f`` in page-image pixels."""
        frac = self.field_boxes.get(f.name)
        if frac is not None:
            x, y, w, h = frac
            return QRectF(x * page_w, y * page_h, w * page_w, h * page_h)
        if f.box is not None:
            return QRectF(*f.box)
        return None

    def digit_rect(self, f: "FieldRecord", d: "DigitRecord") -> QRectF | None:
        """A digit's box in page-image pixels (crop pixels scaled back to the page)."""
        if f.box is None:
            return None
        cx, cy, cw, _ch = f.box
        crop_w = self.crop_sizes.get(f.name, (cw, 0))[0] or cw
        s = cw / crop_w
        dx, dy, dw, dh = d.box
        return QRectF(cx + dx * s, cy + dy * s, dw * s, dh * s)


def template_field_boxes(template_json: str) -> dict[str, tuple[float, float, float, float]]:
    """``{field name: (x, y, w, h)}`` from a registered template's JSON ({} if unreadable)."""
    try:
        doc = json.loads(template_json)
        return {f["name"]: tuple(float(v) for v in f["box"]) for f in doc.get("fields", []) if "box" in f}
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("cannot read the template's field boxes: %s", exc)
        return {}


def crop_sizes(sheet: "SheetRecord") -> dict[str, tuple[int, int]]:
    """Pixel size of each stored field crop, read from the PNG headers (no decoding, no Qt)."""
    from marksocr.gui.images import png_size

    sizes = {}
    for f in sheet.fields:
        size = png_size(f.crop_png)
        if size is not None:
            sizes[f.name] = size
    return sizes
