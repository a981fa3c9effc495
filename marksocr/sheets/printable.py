"""The printable marksocr answer-sheet cover (``marksocr template new``).

An A4 page at 300 dpi (2480 x 3508 px) with four ArUco markers (``DICT_4X4_50``,
ids 0-3) in the corners, comb boxes for the roll number and the subject code, a
marks table (question / max / marks obtained) and a total box. Printed lines are
thin and light grey, labels sit outside the writing areas, and the writing areas
are large, because teachers write big. The matching template JSON gives each
writing area as a field box, plus ``page_size`` and ``markers`` (see
``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image, ImageDraw

from marksocr.domain import GrayImage, TemplateError
from marksocr.sheets.drawing import comb, font, rect, save_page_png, text_in_box
from marksocr.template import SCHEMA, save_template

log = logging.getLogger(__name__)

PAGE_W, PAGE_H = 2480, 3508
"""A4 at 300 dpi."""
DPI = 300
MARKER_DICT = "DICT_4X4_50"
MARKER_SIZE = 0.06
MARKER_POSITIONS = {"0": (0.03, 0.02), "1": (0.91, 0.02), "2": (0.03, 0.94), "3": (0.91, 0.94)}
LINE = 4        # printed line width, px (about 0.34 mm)
LINE_GRAY = 150  # printed lines: light-ish grey, easy to remove
LABEL_GRAY = 60
INSET = 6       # field box = cell interior minus this margin, px
MAX_QUESTIONS = 30


@dataclass(frozen=True)
class SheetSpec:
    """What to print on the sheet."""

    name: str = "marksocr answer sheet"
    max_marks: tuple[float, ...] = (10.0,) * 10
    """One maximum per question; the number of questions is its length."""
    roll_cells: int = 8
    subject_cells: int = 5
    title: str = "ANSWER BOOK"

    @property
    def questions(self) -> int:
        return len(self.max_marks)


def make_spec(name: Optional[str] = None, questions: Optional[int] = None,
              max_marks: Optional[Sequence[float]] = None, roll_cells: int = 8,
              subject_cells: int = 5) -> SheetSpec:
    """Build a :class:`SheetSpec` from command-line style options, checking them.

    ``max_marks`` may hold one value (used for every question) or one per question;
    without ``questions`` the number of maxima decides it (default 10 questions of 10).
    """
    maxima = [float(m) for m in (max_marks or [10.0])]
    n = questions if questions is not None else (len(maxima) if max_marks else 10)
    if not 1 <= n <= MAX_QUESTIONS:
        raise TemplateError(f"--questions must be between 1 and {MAX_QUESTIONS}, got {n}")
    if len(maxima) == 1:
        maxima = maxima * n
    if len(maxima) != n:
        raise TemplateError(f"--max gives {len(maxima)} maxima for {n} questions; give one, or one per question")
    if any(m <= 0 or m >= 1000 for m in maxima):
        raise TemplateError("--max: every maximum must be greater than 0 and below 1000")
    for label, cells in (("--roll-cells", roll_cells), ("--subject-cells", subject_cells)):
        if not 1 <= cells <= 12:
            raise TemplateError(f"{label} must be between 1 and 12, got {cells}")
    return SheetSpec(name=name or SheetSpec.name, max_marks=tuple(maxima),
                     roll_cells=roll_cells, subject_cells=subject_cells)


def render_sheet(spec: SheetSpec) -> tuple[GrayImage, dict[str, Any]]:
    """Draw the blank sheet; return the page (2-D uint8, 2480 x 3508) and its template JSON object.

    The template's ``reference_image`` is ``"blank.png"`` (see :func:`write_sheet`).
    """
    img = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(img)
    _draw_markers(img)
    _draw_header(draw, spec)
    fields: list[dict[str, Any]] = []
    y = _draw_combs(draw, spec, fields, top=470)
    _draw_marks_table(draw, spec, fields, top=y + 110)
    _draw_footer(draw)
    template = {
        "schema": SCHEMA,
        "name": spec.name,
        "reference_image": "blank.png",
        "page_size": [PAGE_W, PAGE_H],
        "markers": {"dictionary": MARKER_DICT, "size": MARKER_SIZE,
                    "positions": {k: list(v) for k, v in MARKER_POSITIONS.items()}},
        "generator": {"program": "marksocr template new", "dpi": DPI, "line_gray": LINE_GRAY},
        "fields": fields,
    }
    return np.asarray(img, dtype=np.uint8).copy(), template


def write_sheet(out_dir: Path, spec: SheetSpec) -> Path:
    """Write ``blank.png``, ``blank.pdf`` (A4, to print) and ``template.json`` into ``out_dir``.

    Returns the path of ``template.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page, template = render_sheet(spec)
    pil = Image.fromarray(page)
    save_page_png(pil, out_dir / "blank.png")
    pil.save(out_dir / "blank.pdf", "PDF", resolution=float(DPI), title=spec.name, creator="marksocr")
    path = save_template(template, out_dir / "template.json")
    log.info("wrote %s, blank.png and blank.pdf in %s", path.name, out_dir)
    return path


# --------------------------------------------------------------------------- parts

def _draw_markers(img: Image.Image) -> None:
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, MARKER_DICT))
    side = round(MARKER_SIZE * PAGE_W)
    for mid, (fx, fy) in MARKER_POSITIONS.items():
        marker = cv2.aruco.generateImageMarker(dictionary, int(mid), side)
        img.paste(Image.fromarray(marker), (round(fx * PAGE_W), round(fy * PAGE_H)))


def _draw_header(draw: ImageDraw.ImageDraw, spec: SheetSpec) -> None:
    text_in_box(draw, (300, 85, 2180, 185), spec.title, font(76, bold=True), fill=30)
    text_in_box(draw, (300, 195, 2180, 265), spec.name, font(46), fill=LABEL_GRAY)
    draw.rectangle((300, 300, 2180, 302), fill=LINE_GRAY)
    note = "Write one digit in each box. Keep your writing inside the boxes."
    text_in_box(draw, (300, 330, 2180, 390), note, font(34), fill=90)


def _draw_combs(draw: ImageDraw.ImageDraw, spec: SheetSpec, fields: list[dict[str, Any]], top: int) -> int:
    """Roll number and subject code combs; returns the y below them."""
    cell_w, cell_h, left = 190, 200, 760
    if spec.roll_cells * cell_w > PAGE_W - left - 220:
        cell_w = (PAGE_W - left - 220) // spec.roll_cells
    y = top
    for name, kind, label, cells in (("roll_no", "roll_no", "Roll No.", spec.roll_cells),
                                     ("subject_code", "subject_code", "Subject Code", spec.subject_cells)):
        box = (left, y, left + cells * cell_w, y + cell_h)
        text_in_box(draw, (220, y, left - 40, y + cell_h), label, font(54, bold=True), fill=LABEL_GRAY, align="right")
        comb(draw, box, cells, LINE, LINE_GRAY)
        fields.append({"name": name, "kind": kind, "box": _fraction_box(box, LINE), "cells": cells})
        y += cell_h + 70
    return y - 70


def _draw_marks_table(draw: ImageDraw.ImageDraw, spec: SheetSpec, fields: list[dict[str, Any]], top: int) -> None:
    """The marks table (two side-by-side tables beyond 14 questions, so rows stay tall) and the total."""
    text_in_box(draw, (300, top, 2180, top + 70), "FOR EXAMINER'S USE ONLY", font(44, bold=True), fill=LABEL_GRAY)
    head_top, head_h = top + 100, 110
    n_tables = 1 if spec.questions <= 14 else 2
    per_table = -(-spec.questions // n_tables)
    row_h = min(200, (3140 - head_top - head_h) // (per_table + 1))
    columns = [(300, 680, 1080, 2180)] if n_tables == 1 else [(200, 380, 620, 1210), (1270, 1450, 1690, 2280)]
    rows_bottom = head_top
    for t, cols in enumerate(columns):
        first = t * per_table
        maxima = spec.max_marks[first:first + per_table]
        bottom = _draw_table_part(draw, cols, head_top, head_h, row_h, first, maxima, fields, compact=n_tables > 1)
        rows_bottom = max(rows_bottom, bottom)
    x_q, x_max, x_mark, x_end = columns[-1] if n_tables > 1 else columns[0]
    total_top = rows_bottom + 40
    total_box = (x_mark, total_top, x_end, total_top + max(row_h, 170))
    rect(draw, total_box, LINE + 2, LINE_GRAY - 20)
    label_x = x_q if n_tables == 1 else 300
    text_in_box(draw, (label_x, total_box[1], x_max, total_box[3]), "TOTAL", font(54, bold=True), fill=40)
    text_in_box(draw, (x_max, total_box[1], x_mark, total_box[3]), f"/ {_fmt(sum(spec.max_marks))}", font(48),
                fill=LABEL_GRAY)
    fields.append({"name": "total", "kind": "total", "box": _fraction_box(total_box, LINE + 2)})


def _draw_table_part(draw: ImageDraw.ImageDraw, cols: tuple[int, int, int, int], head_top: int, head_h: int,
                     row_h: int, first: int, maxima: Sequence[float], fields: list[dict[str, Any]],
                     compact: bool) -> int:
    """One question / max / marks-obtained table; returns the y of its bottom rule."""
    x_q, x_max, x_mark, x_end = cols
    rows_bottom = head_top + head_h + row_h * len(maxima)
    hfont, cfont = font(36 if compact else 40, bold=True), font(int(min(56, row_h * 0.42)))
    draw.rectangle((x_q, head_top, x_end, head_top + head_h), fill=238)
    labels = ("Q.", "Max.", "Marks Obtained") if compact else ("Question", "Max. Marks", "Marks Obtained")
    for (a, b), label in zip(((x_q, x_max), (x_max, x_mark), (x_mark, x_end)), labels):
        text_in_box(draw, (a, head_top, b, head_top + head_h), label, hfont, fill=LABEL_GRAY)
    rect(draw, (x_q, head_top, x_end, rows_bottom), LINE, LINE_GRAY)
    for x in (x_max, x_mark):
        draw.rectangle((x - LINE // 2, head_top, x - LINE // 2 + LINE - 1, rows_bottom), fill=LINE_GRAY)
    y = head_top + head_h
    for i, maximum in enumerate(maxima, start=first + 1):
        draw.rectangle((x_q, y - LINE // 2, x_end, y - LINE // 2 + LINE - 1), fill=LINE_GRAY)
        text_in_box(draw, (x_q, y, x_max, y + row_h), f"Q{i}", cfont, fill=LABEL_GRAY)
        text_in_box(draw, (x_max, y, x_mark, y + row_h), _fmt(maximum), cfont, fill=LABEL_GRAY)
        box = (x_mark, y, x_end, y + row_h)
        fields.append({"name": f"Q{i}", "kind": "mark", "box": _fraction_box(box, LINE // 2 + 1), "max": _num(maximum)})
        y += row_h
    return rows_bottom


def _draw_footer(draw: ImageDraw.ImageDraw) -> None:
    y = 3330
    small = font(34)
    draw.rectangle((420, y, 1200, y + 2), fill=LINE_GRAY)
    draw.rectangle((1400, y, 2060, y + 2), fill=LINE_GRAY)
    text_in_box(draw, (420, y + 15, 1200, y + 65), "Signature of the Examiner", small, fill=110)
    text_in_box(draw, (1400, y + 15, 2060, y + 65), "Date", small, fill=110)
    text_in_box(draw, (300, 3440, 2180, 3490), "marksocr sheet  -  do not write over the black squares",
                font(26), fill=150)


def _fraction_box(box: tuple[int, int, int, int], line: int) -> list[float]:
    """The writing area inside a printed box (its lines and a small margin left out), as page fractions."""
    x0, y0, x1, y1 = box
    m = line + INSET
    return [round((x0 + m) / PAGE_W, 6), round((y0 + m) / PAGE_H, 6),
            round((x1 - x0 - 2 * m) / PAGE_W, 6), round((y1 - y0 - 2 * m) / PAGE_H, 6)]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)
