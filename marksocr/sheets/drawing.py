"""Small drawing helpers shared by the sheet generators (Pillow, gray pages)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
_FONT_FILES = {
    ("sans", False): ("DejaVuSans.ttf", "Arial.ttf", "arial.ttf"),
    ("sans", True): ("DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf"),
    ("serif", False): ("DejaVuSerif.ttf", "Times New Roman.ttf", "times.ttf"),
    ("serif", True): ("DejaVuSerif-Bold.ttf", "Times New Roman Bold.ttf", "timesbd.ttf"),
}

Font = ImageFont.FreeTypeFont


@functools.lru_cache(maxsize=64)
def font(size: int, bold: bool = False, family: str = "sans") -> Font:
    """A TrueType font of ``size`` pixels: DejaVu (or a system font) when present, else Pillow's own."""
    for name in _FONT_FILES.get((family, bold), ()):
        for folder in _FONT_DIRS:
            path = folder / name
            if path.is_file():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)  # type: ignore[return-value]


def text_size(draw: ImageDraw.ImageDraw, text: str, fnt: Font) -> tuple[int, int]:
    """Width and height of ``text`` drawn with ``fnt``."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=fnt)
    return right - left, bottom - top


def text_in_box(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, fnt: Font,
                fill: int = 60, align: str = "center") -> None:
    """Draw ``text`` vertically centred in ``box`` = (x0, y0, x1, y1), aligned left/center/right."""
    x0, y0, x1, y1 = box
    left, top, right, bottom = draw.textbbox((0, 0), text, font=fnt)
    w, h = right - left, bottom - top
    if align == "left":
        x = x0
    elif align == "right":
        x = x1 - w
    else:
        x = x0 + (x1 - x0 - w) // 2
    y = y0 + (y1 - y0 - h) // 2
    draw.text((x - left, y - top), text, font=fnt, fill=fill)


def rect(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], width: int, fill: int,
         inside: Optional[int] = None) -> None:
    """A rectangle outline ``width`` px thick drawn inside ``box``, optionally filled."""
    draw.rectangle(box, outline=fill, width=width, fill=inside)


def comb(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], cells: int, width: int, fill: int,
         divider_height: float = 1.0) -> None:
    """A comb: a rectangle split into ``cells`` equal cells (dividers of a fraction of the height)."""
    x0, y0, x1, y1 = box
    rect(draw, box, width, fill)
    step = (x1 - x0) / cells
    top = y1 - round((y1 - y0) * divider_height)
    for i in range(1, cells):
        x = round(x0 + i * step)
        draw.rectangle((x - width // 2, top, x - width // 2 + width - 1, y1), fill=fill)


def save_page_png(image: Image.Image, path: Path, colors: int = 16) -> None:
    """Save a mostly-white gray page compactly: quantised to a few gray levels, optimised PNG."""
    palette = image.convert("L").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)
