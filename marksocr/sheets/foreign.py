"""Foreign answer-book covers: layouts marksocr did not print, with no fiducial markers.

They stand for "any other printed sheet": their templates name a ``reference_image``
(the blank cover) and photos of them are registered by feature matching. They are
deliberately unlike the marksocr sheet: black, heavier rules, printed digits near
the fields (serial numbers, instructions), a free roll-number line with an underline
instead of a comb, and an emblem and decorations that give feature matching something
to hold on to.

* ``university``: portrait A4, a framed header with an emblem, candidate details on
  underlined lines, a two-band marks grid (questions across) and a grand-total box.
* ``landscape``: landscape A4 internal-assessment sheet, roll-number comb of 10 cells,
  a 4-cell course code, twelve question cells in one row, and a total.
* ``college``: portrait US Letter answer booklet printed in mid-grey (a coloured print
  seen in gray) with a heavy black title bar: the student ID in one open box without
  cells, a 7-cell course code with dashed separators, and the marks as table rows
  (shaded writing cells, alternate rows a shade apart) above a black-framed total.
  It is kept out of ``resources/templates``: a layout the reader was never tuned on,
  for generalisation checks (``write_foreign(Path("out/unseen/college"), "college")``).
* ``bluebook``: portrait A4 answer-book cover (Indian / UK style) printed in dark blue with
  a red "FOR EXAMINER'S USE ONLY" heading on off-white paper, drawn in colour and returned
  as the gray page a scanner would give (the template pipeline works on gray pages). The
  roll number is written on a bare underline (a free 10-digit string), the subject code in
  6 cells marked only by short ticks rising from a baseline, and the marks in a vertical
  table (Q. No. | Max | Marks obtained) beside the instructions, with a Total row. Held out
  like ``college`` (``write_foreign(Path("out/unseen/bluebook"), "bluebook")``).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from marksocr.domain import GrayImage
from marksocr.sheets.drawing import Font, comb, font, rect, save_page_png, text_in_box
from marksocr.template import SCHEMA, save_template

log = logging.getLogger(__name__)

VARIANTS = ("university", "landscape", "college", "bluebook")
INK = 25    # printed text and rules: near black
RULE = 5    # table rule width, px


def render_foreign(variant: str = "university") -> tuple[GrayImage, dict[str, Any]]:
    """Draw a blank foreign cover; return the page (2-D uint8) and its template JSON object."""
    if variant == "university":
        return _university()
    if variant == "landscape":
        return _landscape()
    if variant == "college":
        return _college()
    if variant == "bluebook":
        return _bluebook()
    raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")


def write_foreign(out_dir: Path, variant: str = "university") -> Path:
    """Write ``blank.png`` and ``template.json`` of a foreign cover into ``out_dir``; return the JSON path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page, template = render_foreign(variant)
    save_page_png(Image.fromarray(page), out_dir / "blank.png", colors=8)
    return save_template(template, out_dir / "template.json")


# --------------------------------------------------------------------------- university (portrait)

_U_MAX = (10, 10, 10, 10, 15, 15, 15, 15)


def _university() -> tuple[GrayImage, dict[str, Any]]:
    w, h = 2480, 3508
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    fields: list[dict[str, Any]] = []
    rect(d, (90, 90, w - 90, h - 90), 9, INK)          # page frame, double rule
    rect(d, (115, 115, w - 115, h - 115), 3, INK)
    _emblem(d, (330, 350), 170)
    serif = "serif"
    text_in_box(d, (560, 180, 2300, 290), "STATE UNIVERSITY OF TECHNOLOGY", font(74, True, serif), INK, "left")
    text_in_box(d, (560, 300, 2300, 370), "Established 1961  -  Accredited Grade A", font(40, False, serif), 70, "left")
    text_in_box(d, (560, 390, 2300, 460), "END SEMESTER EXAMINATION, MAY 2026", font(50, True, serif), INK, "left")
    d.rectangle((160, 590, w - 160, 700), fill=INK)
    text_in_box(d, (160, 590, w - 160, 700), "MAIN ANSWER BOOK", font(70, True, serif), 255)
    text_in_box(d, (1750, 730, 2320, 800), "Sl. No.  0471923", font(46, True, "sans"), INK, "right")
    _barcode(d, (1760, 815, 2320, 905))
    y = 900
    for label in ("Name of the Candidate", "Roll Number", "Course Code", "Date of Examination"):
        y = _detail_line(d, label, y, w, fields)
    _instructions(d, y + 40)
    _u_marks_grid(d, fields, top=2030, w=w)
    return np.asarray(img, dtype=np.uint8).copy(), _template("State University end-semester answer book (foreign)",
                                                             fields, (w, h))


def _detail_line(d: ImageDraw.ImageDraw, label: str, y: int, w: int, fields: list[dict[str, Any]]) -> int:
    """A label, a colon and a long underline to write on; roll number and course code become fields."""
    lf = font(50, False, "serif")
    text_in_box(d, (200, y + 95, 900, y + 165), label, lf, INK, "left")
    text_in_box(d, (900, y + 95, 940, y + 165), ":", lf, INK, "left")
    x0, x1, base = 980, w - 220, y + 165
    d.rectangle((x0, base, x1, base + 2), fill=INK)
    if label == "Roll Number":
        fields.append({"name": "roll_no", "kind": "roll_no", "box": _frac((x0 + 10, y + 5, x1 - 10, base - 8), w, 3508),
                       "digits": 10, "underline": True})
    elif label == "Course Code":
        fields.append({"name": "subject_code", "kind": "subject_code",
                       "box": _frac((x0 + 10, y + 5, x0 + 900, base - 8), w, 3508), "digits": 6,
                       "underline": True})
    return y + 185


def _instructions(d: ImageDraw.ImageDraw, y: int) -> None:
    lines = ("1. Write your Roll Number in figures on the line above; do not write it anywhere else.",
             "2. This answer book contains 32 pages. Do not tear off any page.",
             "3. Answer all questions from Part A (5 x 2 = 10) and any five from Part B.")
    _text_block(d, (200, y), "INSTRUCTIONS TO CANDIDATES", lines, font(40, True, "serif"), font(36, False, "serif"),
                (INK, 50))


def _u_marks_grid(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]], top: int, w: int) -> None:
    text_in_box(d, (160, top, w - 160, top + 80), "FOR THE USE OF EXAMINERS ONLY", font(52, True, "serif"), INK)
    x0, x1 = 200, w - 200
    label_w = 300
    per_band = 4
    cell_w = (x1 - x0 - label_w) // per_band
    head_h, mark_h = 95, 215
    y = top + 120
    hf, lf = font(40, True, "sans"), font(40, False, "serif")
    for band in range(2):
        qs = range(band * per_band, band * per_band + per_band)
        rect(d, (x0, y, x0 + label_w + cell_w * per_band, y + head_h + mark_h), RULE, INK)
        d.rectangle((x0, y + head_h - RULE // 2, x0 + label_w + cell_w * per_band, y + head_h + RULE // 2), fill=INK)
        text_in_box(d, (x0, y, x0 + label_w, y + head_h), "Question", hf, INK)
        text_in_box(d, (x0, y + head_h, x0 + label_w, y + head_h + mark_h), "Marks", lf, INK)
        for k, q in enumerate(qs):
            cx = x0 + label_w + k * cell_w
            d.rectangle((cx - RULE // 2, y, cx + RULE // 2, y + head_h + mark_h), fill=INK)
            text_in_box(d, (cx, y, cx + cell_w, y + head_h), f"{q + 1}  ({_U_MAX[q]})", hf, INK)
            box = (cx + RULE, y + head_h + RULE, cx + cell_w - RULE, y + head_h + mark_h - RULE)
            fields.append({"name": f"Q{q + 1}", "kind": "mark", "box": _frac(_inset(box, 6), w, 3508),
                           "max": _U_MAX[q]})
        y += head_h + mark_h + 50
    gt = (x0 + label_w + cell_w * 2, y + 20, x1, y + 260)
    rect(d, gt, RULE + 3, INK)
    text_in_box(d, (x0, gt[1], gt[0] - 40, gt[3]), "GRAND TOTAL", font(60, True, "serif"), INK, "right")
    fields.append({"name": "total", "kind": "total", "box": _frac(_inset(gt, RULE + 9), w, 3508)})
    sy = gt[3] + 150
    for (a, b), label in (((200, 1000), "Signature of Examiner"), ((1400, 2280), "Signature of Scrutiniser")):
        d.rectangle((a, sy, b, sy + 2), fill=INK)
        text_in_box(d, (a, sy + 12, b, sy + 70), label, font(38, False, "serif"), INK)


def _emblem(d: ImageDraw.ImageDraw, centre: tuple[int, int], r: int) -> None:
    """A seal: rings, a star, radial ticks and a book, so the header has features to match."""
    cx, cy = centre
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=INK, width=10)
    d.ellipse((cx - r + 28, cy - r + 28, cx + r - 28, cy + r - 28), outline=INK, width=4)
    for k in range(36):
        a = 2 * math.pi * k / 36
        d.line((cx + (r - 24) * math.cos(a), cy + (r - 24) * math.sin(a),
                cx + (r - 8) * math.cos(a), cy + (r - 8) * math.sin(a)), fill=INK, width=4)
    star = [(cx + (r * 0.55 if k % 2 == 0 else r * 0.22) * math.cos(math.pi / 2 + k * math.pi / 5),
             cy - 25 - (r * 0.55 if k % 2 == 0 else r * 0.22) * math.sin(math.pi / 2 + k * math.pi / 5))
            for k in range(10)]
    d.polygon(star, fill=INK)
    d.polygon([(cx - 80, cy + 60), (cx, cy + 40), (cx + 80, cy + 60), (cx + 80, cy + 110), (cx, cy + 90),
               (cx - 80, cy + 110)], outline=INK, width=6)
    d.line((cx, cy + 40, cx, cy + 90), fill=INK, width=5)


def _barcode(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    rng = np.random.default_rng(471923)  # fixed: the printed sheet is the same on every run
    x = x0
    while x < x1 - 8:
        bw = int(rng.integers(3, 12))
        if rng.random() < 0.55:
            d.rectangle((x, y0, min(x + bw, x1), y1), fill=INK)
        x += bw + int(rng.integers(3, 9))


# --------------------------------------------------------------------------- landscape

_L_MAX = (5, 5, 5, 5, 5, 5, 10, 10, 10, 10, 15, 15)


def _landscape() -> tuple[GrayImage, dict[str, Any]]:
    w, h = 3508, 2480
    img = Image.new("L", (w, h), 250)
    d = ImageDraw.Draw(img)
    fields: list[dict[str, Any]] = []
    d.rectangle((0, 0, w, 330), fill=215)  # a tinted header band
    d.polygon([(0, 330), (260, 0), (420, 0), (160, 330)], fill=180)
    d.polygon([(w - 420, 330), (w - 160, 0), (w, 0), (w, 330), (w - 260, 330)], fill=180)
    text_in_box(d, (450, 60, w - 450, 190), "Institute of Applied Sciences", font(96, True, "sans"), INK)
    text_in_box(d, (450, 200, w - 450, 280), "Continuous Internal Assessment  -  Mark Sheet", font(54), 60)
    lf = font(52, True, "sans")
    y = 450
    text_in_box(d, (160, y, 760, y + 170), "REGISTER No.", lf, INK, "left")
    roll = (780, y, 780 + 10 * 150, y + 170)
    comb(d, roll, 10, 4, INK, divider_height=0.35)
    fields.append({"name": "roll_no", "kind": "roll_no", "box": _frac(_inset(roll, 10), w, h), "cells": 10})
    text_in_box(d, (2420, y, 2820, y + 170), "COURSE", lf, INK, "left")
    course = (2830, y, 2830 + 4 * 150, y + 170)
    comb(d, course, 4, 4, INK, divider_height=0.35)
    fields.append({"name": "subject_code", "kind": "subject_code", "box": _frac(_inset(course, 10), w, h), "cells": 4})
    text_in_box(d, (160, 700, w - 160, 770), "Section A: Q1 - Q6 (5 marks each)     Section B: Q7 - Q10 (10 marks each)"
                "     Section C: Q11 - Q12 (15 marks each)", font(40), 70)
    _l_marks_row(d, fields, top=860, w=w, h=h)
    rect(d, (160, 1420, w - 160, 1900), 3, 90)  # a remarks box: printed, never a field
    text_in_box(d, (190, 1440, 900, 1510), "Remarks / Attendance (%):", font(42), 60, "left")
    for k in range(14):  # a decorative dotted rule
        x = 160 + k * 245
        d.ellipse((x, 2000, x + 22, 2022), fill=120)
    text_in_box(d, (160, 2150, 1500, 2230), "Faculty in charge:", font(46), INK, "left")
    d.rectangle((620, 2225, 1500, 2227), fill=INK)
    text_in_box(d, (2000, 2150, 3340, 2230), "HoD:", font(46), INK, "left")
    d.rectangle((2150, 2225, 3340, 2227), fill=INK)
    return np.asarray(img, dtype=np.uint8).copy(), _template("Institute internal-assessment mark sheet (landscape, "
                                                             "foreign)", fields, (w, h))


def _l_marks_row(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]], top: int, w: int, h: int) -> None:
    x0, label_w, cell_w = 160, 260, 200
    head_h, mark_h = 150, 250
    right = x0 + label_w + cell_w * len(_L_MAX)
    rect(d, (x0, top, right, top + head_h + mark_h), 4, INK)
    d.rectangle((x0, top + head_h - 2, right, top + head_h + 2), fill=INK)
    text_in_box(d, (x0, top, x0 + label_w, top + head_h), "Q. No.", font(42, True), INK)
    text_in_box(d, (x0, top + head_h, x0 + label_w, top + head_h + mark_h), "Marks", font(42, True), INK)
    for i, maximum in enumerate(_L_MAX):
        cx = x0 + label_w + i * cell_w
        d.rectangle((cx - 2, top, cx + 2, top + head_h + mark_h), fill=INK)
        text_in_box(d, (cx, top + 10, cx + cell_w, top + 80), f"{i + 1}", font(50, True), INK)
        text_in_box(d, (cx, top + 80, cx + cell_w, top + head_h - 10), f"max {maximum}", font(34), 80)
        box = (cx + 4, top + head_h + 4, cx + cell_w - 4, top + head_h + mark_h - 4)
        fields.append({"name": f"Q{i + 1}", "kind": "mark", "box": _frac(_inset(box, 6), w, h), "max": maximum})
    tx0 = right + 60
    tot = (tx0, top + head_h, w - 160, top + head_h + mark_h)
    text_in_box(d, (tx0, top, w - 160, top + head_h), "TOTAL", font(50, True), INK)
    rect(d, tot, 8, INK)
    fields.append({"name": "total", "kind": "total", "box": _frac(_inset(tot, 14), w, h)})


# --------------------------------------------------------------------------- college (US Letter)

_C_W, _C_H = 2550, 3300            # US Letter at 300 dpi
_C_X0, _C_X1 = 150, _C_W - 150     # half-inch margins
_C_MAX = (5, 5, 10, 10, 10, 15, 20, 25)
GREY = 100                         # the college's print: mid-grey rules and text
_C_SHADE = (228, 236)              # mark-cell backgrounds, alternating by row
_C_ZEBRA = (255, 247)              # the rest of each table row
_C_COLS = (_C_X0, 480, 860, 1660, _C_X1)  # question | maximum | marks (the field) | examiner's initials
_C_HEAD_H, _C_ROW_H = 100, 145


def _college() -> tuple[GrayImage, dict[str, Any]]:
    img = Image.new("L", (_C_W, _C_H), 255)
    d = ImageDraw.Draw(img)
    fields: list[dict[str, Any]] = []
    _c_header(d)
    _c_identity(d, fields, top=590)
    lines = ("1. Write your Student ID and the Course Code in the boxes above, in figures only.",
             "2. Answer in blue or black ink. Start each question on a new page of this booklet.",
             "3. Do not write in the shaded columns; they are for the examiner (24 pages in all).")
    _text_block(d, (_C_X0, 1130), "Instructions to students", lines, font(42, True, "serif"), font(34), (GREY, GREY),
                pitch=55)
    bottom = _c_marks_table(d, fields, top=1420)
    _c_total(d, fields, top=bottom + 50)
    for (a, b), label in (((_C_X0, 1050), "Signature of Examiner"), ((1500, _C_X1), "Signature of Invigilator")):
        d.rectangle((a, 3010, b, 3012), fill=GREY)
        text_in_box(d, (a, 3022, b, 3072), label, font(36), GREY)
    text_in_box(d, (_C_X0, 3100, _C_X1, 3145), "Form EX-7 (rev. 03/2026)    Westbrook College Press    Booklet 1 of 1",
                font(30), GREY)
    return np.asarray(img, dtype=np.uint8).copy(), _template("Westbrook College examination answer booklet "
                                                             "(US Letter, foreign)", fields, (_C_W, _C_H))


def _c_header(d: ImageDraw.ImageDraw) -> None:
    """Monogram, college name, a printed booklet number and the heavy black title bar."""
    _monogram(d, (285, 272), 118, "WC")
    text_in_box(d, (450, 165, 1800, 275), "WESTBROOK COLLEGE", font(84, True, "serif"), GREY, "left")
    text_in_box(d, (450, 285, _C_X1, 345), "of Arts, Science & Commerce  -  Office of the Controller of Examinations",
                font(38, False, "serif"), GREY, "left")
    text_in_box(d, (1850, 170, _C_X1, 220), "Booklet No.", font(34), GREY, "right")
    text_in_box(d, (1850, 222, _C_X1, 278), "B 204175", font(46, True), GREY, "right")
    d.rectangle((_C_X0, 400, _C_X1, 510), fill=INK)
    text_in_box(d, (_C_X0, 400, _C_X1, 510), "EXAMINATION ANSWER BOOKLET  -  FALL TERM 2026", font(60, True), 255)


def _c_identity(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]], top: int) -> None:
    """Student ID in one open box (a free string, no cells) and a 7-cell course code with dashed separators."""
    lf, x0, box_h = font(46, True), 700, 180
    text_in_box(d, (_C_X0, top, x0 - 30, top + box_h), "STUDENT ID No.", lf, GREY, "left")
    roll = (x0, top, x0 + 1400, top + box_h)
    rect(d, roll, 4, GREY)
    text_in_box(d, (x0, top + box_h + 12, _C_X1, top + box_h + 58),
                "Write all nine digits inside the box, as on your college ID card", font(32), GREY, "left")
    fields.append({"name": "roll_no", "kind": "roll_no", "box": _frac(_inset(roll, 14), _C_W, _C_H), "digits": 9})
    y = top + 300
    text_in_box(d, (_C_X0, y, x0 - 30, y + box_h), "COURSE CODE", lf, GREY, "left")
    code = (x0, y, x0 + 7 * 150, y + box_h)
    _dashed_comb(d, code, 7, GREY)
    fields.append({"name": "subject_code", "kind": "subject_code", "box": _frac(_inset(code, 10), _C_W, _C_H),
                   "cells": 7})
    text_in_box(d, (1900, y + 100, 2040, y + box_h - 10), "Date", font(40), GREY, "left")
    d.rectangle((2040, y + box_h - 12, _C_X1, y + box_h - 10), fill=GREY)


def _c_marks_table(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]], top: int) -> int:
    """Questions as rows: number, printed maximum, a shaded marks cell (the field), initials. Returns the bottom."""
    x = _C_COLS
    hf, qf, mf = font(38, True), font(44, True), font(36)
    for (a, b), label in zip(zip(x, x[1:]), ("Question", "Maximum", "Marks awarded", "Examiner's initials")):
        text_in_box(d, (a, top, b, top + _C_HEAD_H), label, hf, GREY)
    y = top + _C_HEAD_H
    for q, maximum in enumerate(_C_MAX):
        d.rectangle((x[0], y, x[-1], y + _C_ROW_H), fill=_C_ZEBRA[q % 2])
        cell = (x[2], y, x[3], y + _C_ROW_H)
        d.rectangle(cell, fill=_C_SHADE[q % 2])
        text_in_box(d, (x[0], y, x[1], y + _C_ROW_H), f"Q{q + 1}", qf, GREY)
        text_in_box(d, (x[1], y, x[2], y + _C_ROW_H), f"Max {maximum}", mf, GREY)
        fields.append({"name": f"Q{q + 1}", "kind": "mark", "box": _frac(_inset(cell, 3 + 8), _C_W, _C_H),
                       "max": maximum})
        y += _C_ROW_H
    d.rectangle((x[0], top + _C_HEAD_H - 4, x[-1], top + _C_HEAD_H + 4), fill=INK)  # heavy rule under the header
    for k in range(1, len(_C_MAX)):
        ry = top + _C_HEAD_H + k * _C_ROW_H
        d.rectangle((x[0], ry - 1, x[-1], ry + 1), fill=GREY)
    for cx in x[1:-1]:
        d.rectangle((cx - 1, top, cx + 1, y), fill=GREY)
    rect(d, (x[0], top, x[-1], y), 5, GREY)
    return y


def _c_total(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]], top: int) -> None:
    """A black-framed total box under the marks column, labelled on its left; a "checked by" line on its right."""
    box = (_C_COLS[2], top, _C_COLS[3], top + 190)
    rect(d, box, 9, INK)
    text_in_box(d, (_C_X0, top, box[0] - 40, top + 95), "TOTAL", font(56, True), INK, "right")
    text_in_box(d, (_C_X0, top + 95, box[0] - 40, top + 160), "(out of 100)", font(36), GREY, "right")
    fields.append({"name": "total", "kind": "total", "box": _frac(_inset(box, 9 + 10), _C_W, _C_H)})
    text_in_box(d, (box[2] + 60, top + 110, _C_X1, top + 170), "Checked by", font(36), GREY, "left")
    d.rectangle((box[2] + 60, top + 180, _C_X1, top + 182), fill=GREY)


def _dashed_comb(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int], cells: int, fill: int) -> None:
    """A solid frame split into ``cells`` by thin dashed separators."""
    x0, y0, x1, y1 = box
    rect(d, box, 4, fill)
    step = (x1 - x0) / cells
    for i in range(1, cells):
        x = round(x0 + i * step)
        for y in range(y0 + 8, y1 - 8, 24):
            d.rectangle((x - 1, y, x, min(y + 12, y1 - 8)), fill=fill)


def _monogram(d: ImageDraw.ImageDraw, centre: tuple[int, int], r: int, initials: str) -> None:
    """A round logo: a heavy ring, a dotted inner ring, the initials and a year."""
    cx, cy = centre
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=GREY, width=9)
    for k in range(48):
        a = 2 * math.pi * k / 48
        px, py = cx + (r - 22) * math.cos(a), cy + (r - 22) * math.sin(a)
        d.ellipse((px - 4, py - 4, px + 4, py + 4), fill=GREY)
    text_in_box(d, (cx - r, cy - 62, cx + r, cy + 18), initials, font(68, True, "serif"), GREY)
    d.rectangle((cx - 50, cy + 26, cx + 50, cy + 28), fill=GREY)
    text_in_box(d, (cx - r, cy + 34, cx + r, cy + 60), "EST. 1892", font(20, True), GREY)


# --------------------------------------------------------------------------- bluebook (A4, colour print)

Colour = tuple[int, int, int]


def _rgb(bgr: Colour) -> Colour:
    """Pillow draws in RGB; the bluebook's colours are given in BGR (as OpenCV sees them)."""
    return bgr[2], bgr[1], bgr[0]


_B_W, _B_H = 2480, 3508                 # A4 at 300 dpi
_B_X0, _B_X1 = 150, _B_W - 150
_B_MAX = (10, 10, 15, 15, 10, 10, 15, 15)
_B_PAPER = _rgb((232, 243, 248))        # slightly warm off-white paper (gray 243)
_B_BLUE = _rgb((140, 60, 20))           # the print: dark blue (gray 57)
_B_RED = _rgb((40, 30, 200))            # the one red element: the examiner's heading and its rules (gray 82)
_B_TINT = _rgb((245, 232, 215))         # light blue tint of the printed table columns (gray 228)
_B_COLS = (1260, 1480, 1700, _B_X1)     # Q. No. | Max | Marks obtained (the field)
_B_TABLE_TOP, _B_HEAD_H, _B_ROW_H, _B_TOTAL_H = 1560, 120, 160, 190


def _bluebook() -> tuple[GrayImage, dict[str, Any]]:
    """The cover drawn in colour, returned as its gray (ITU-R 601 luma) page."""
    img = Image.new("RGB", (_B_W, _B_H), _B_PAPER)
    d = ImageDraw.Draw(img)
    fields: list[dict[str, Any]] = []
    blue: Any = _B_BLUE
    rect(d, (90, 90, _B_W - 90, _B_H - 90), 5, blue)
    _b_header(d)
    _b_details(d, fields)
    _b_instructions(d)
    _b_marks_table(d, fields)
    text_in_box(d, (_B_X0, 3350, _B_X1, 3392), "Form AB-24 (2026)   -   Printed at the University Press, Shillong   -   "
                "24 pages", font(28), blue)
    gray = img.convert("L")
    return np.asarray(gray, dtype=np.uint8).copy(), _template("Northern Provinces University answer book "
                                                              "(A4, blue print, foreign)", fields, (_B_W, _B_H))


def _b_header(d: ImageDraw.ImageDraw) -> None:
    """Logo block, university name, the title, a barcode-like stripe with its serial and a double rule."""
    _b_logo(d, (_B_X0, 150, 450, 450))
    blue: Any = _B_BLUE
    text_in_box(d, (500, 160, 1780, 250), "NORTHERN PROVINCES UNIVERSITY", font(56, True, "serif"), blue, "left")
    text_in_box(d, (500, 262, 1780, 312), "Examination Branch  -  Senate House, Shillong", font(36, False, "serif"),
                blue, "left")
    text_in_box(d, (500, 335, 1780, 425), "A N S W E R   B O O K", font(64, True), blue, "left")
    _b_stripes(d, (1840, 165, _B_X1, 300))
    text_in_box(d, (1840, 310, _B_X1, 360), "No. 26 B 0385174", font(40, True), blue, "right")
    text_in_box(d, (1840, 368, _B_X1, 410), "(Main answer book)", font(30), blue, "right")
    d.rectangle((_B_X0, 480, _B_X1, 486), fill=blue)
    d.rectangle((_B_X0, 495, _B_X1, 497), fill=blue)


def _b_logo(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """A solid blue square with a ring, an open book and a lamp flame cut out in paper colour."""
    x0, y0, x1, y1 = box
    blue: Any = _B_BLUE
    paper: Any = _B_PAPER
    d.rectangle(box, fill=blue)
    cx, cy, r = (x0 + x1) // 2, (y0 + y1) // 2 - 15, 115
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=paper, width=7)
    d.polygon([(cx - 80, cy + 10), (cx - 5, cy + 30), (cx - 5, cy + 85), (cx - 80, cy + 65)], fill=paper)
    d.polygon([(cx + 80, cy + 10), (cx + 5, cy + 30), (cx + 5, cy + 85), (cx + 80, cy + 65)], fill=paper)
    d.ellipse((cx - 18, cy - 75, cx + 18, cy - 5), fill=paper)
    d.rectangle((cx - 6, cy - 10, cx + 6, cy + 15), fill=paper)
    text_in_box(d, (x0, y1 - 52, x1, y1 - 12), "EST. 1957", font(30, True), paper)


def _b_stripes(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """A printed barcode-like pattern of blue bars (fixed: the same on every run)."""
    x0, y0, x1, y1 = box
    rng = np.random.default_rng(385174)
    blue: Any = _B_BLUE
    x = x0
    while x < x1 - 10:
        bw = int(rng.choice((3, 5, 8, 12)))
        d.rectangle((x, y0, min(x + bw, x1), y1), fill=blue)
        x += bw + int(rng.choice((4, 6, 9)))


def _b_details(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]]) -> None:
    """Roll No. on a bare underline (a free 10-digit string) and a 6-cell subject code marked by ticks."""
    blue: Any = _B_BLUE
    lf = font(54, True)
    # roll number: the writing area is the space above the printed line
    base = 760
    text_in_box(d, (_B_X0, base - 110, 500, base - 10), "Roll No.", lf, blue, "left")
    x0, x1 = 520, 1720
    d.rectangle((x0, base, x1, base + 3), fill=blue)
    text_in_box(d, (x0, base + 14, 1200, base + 56), "(in figures, on the line)", font(30), blue, "left")
    fields.append({"name": "roll_no", "kind": "roll_no", "box": _frac((x0 + 10, base - 160, x1 - 10, base - 8),
                                                                       _B_W, _B_H), "digits": 10, "underline": True})
    text_in_box(d, (1800, base - 100, _B_X1, base - 40), "Centre Code  0417", font(40), blue, "right")
    # subject code: 6 cells, only short ticks rising from a baseline
    base, cell, cells, tick = 1060, 150, 6, 42
    text_in_box(d, (_B_X0, base - 120, 600, base - 20), "Subject Code", lf, blue, "left")
    x0 = 620
    x1 = x0 + cells * cell
    d.rectangle((x0 - 2, base, x1 + 2, base + 4), fill=blue)
    for i in range(cells + 1):
        x = x0 + i * cell
        d.rectangle((x - 2, base - tick, x + 1, base), fill=blue)
    fields.append({"name": "subject_code", "kind": "subject_code",
                   "box": _frac((x0 + 4, base - 170, x1 - 4, base - 8), _B_W, _B_H), "cells": cells})
    text_in_box(d, (1600, base - 80, 1800, base - 10), "Subject", font(40), blue, "left")
    d.rectangle((1800, base, _B_X1, base + 2), fill=blue)
    # a plain details line that is not a field, then a rule closing the section
    text_in_box(d, (_B_X0, 1150, 700, 1230), "Name of the Course", font(44), blue, "left")
    d.rectangle((700, 1228, _B_X1, 1230), fill=blue)
    d.rectangle((_B_X0, 1330, _B_X1, 1333), fill=blue)


def _b_instructions(d: ImageDraw.ImageDraw) -> None:
    """Left column: an instructions paragraph, a supplementary-sheets box and the signature lines."""
    blue: Any = _B_BLUE
    x0, x1 = _B_X0, 1170
    text_in_box(d, (x0, 1400, x1, 1460), "INSTRUCTIONS TO THE CANDIDATE", font(40, True), blue, "left")
    lines = ("Write your Roll No. in figures on the line above",
             "and the Subject Code one digit between each pair",
             "of ticks. Do not write your name or any mark of",
             "identification anywhere else in this answer book.",
             "Answers must be written in blue or black ink only,",
             "on both sides of the paper. Rough work is to be done",
             "on the last page and crossed through. This book has",
             "24 pages; check them before you begin and report a",
             "missing page to the invigilator at once. Mobile",
             "phones and calculators are not allowed in the hall.")
    for i, line in enumerate(lines):
        text_in_box(d, (x0, 1490 + i * 54, x1, 1536 + i * 54), line, font(32, False, "serif"), blue, "left")
    sy = 2130
    text_in_box(d, (x0, sy, 960, sy + 90), "No. of supplementary sheets", font(36), blue, "left")
    rect(d, (990, sy, 1150, sy + 100), 4, blue)
    for (y, label) in ((2560, "Signature of Candidate"), (2880, "Signature of Invigilator")):
        d.rectangle((x0, y, x1, y + 2), fill=blue)
        text_in_box(d, (x0, y + 14, x1, y + 64), label, font(36), blue, "left")
    text_in_box(d, (x0, 3000, 500, 3060), "Name:", font(36), blue, "left")
    d.rectangle((300, 3058, x1, 3060), fill=blue)
    d.rectangle((1215, 1400, 1217, 3200), fill=blue)  # thin rule between the two columns


def _b_marks_table(d: ImageDraw.ImageDraw, fields: list[dict[str, Any]]) -> None:
    """Right column: the red heading, then one row per question (number, maximum, marks) and a Total row."""
    blue: Any = _B_BLUE
    red: Any = _B_RED
    tint: Any = _B_TINT
    x = _B_COLS
    text_in_box(d, (x[0], 1400, x[-1], 1470), "FOR EXAMINER'S USE ONLY", font(48, True, "serif"), red)
    d.rectangle((x[0], 1484, x[-1], 1489), fill=red)
    d.rectangle((x[0], 1498, x[-1], 1500), fill=red)
    top = _B_TABLE_TOP
    rows_bottom = top + _B_HEAD_H + len(_B_MAX) * _B_ROW_H
    bottom = rows_bottom + _B_TOTAL_H
    d.rectangle((x[0], top, x[-1], top + _B_HEAD_H), fill=tint)  # tinted header and printed columns
    d.rectangle((x[0], top, x[2], bottom), fill=tint)
    hf = font(36, True)
    for (a, b), label in zip(zip(x, x[1:]), ("Q. No.", "Max", "Marks obtained")):
        text_in_box(d, (a, top, b, top + _B_HEAD_H), label, hf, blue)
    y = top + _B_HEAD_H
    for q, maximum in enumerate(_B_MAX):
        text_in_box(d, (x[0], y, x[1], y + _B_ROW_H), f"{q + 1}", font(46, True), blue)
        text_in_box(d, (x[1], y, x[2], y + _B_ROW_H), f"{maximum}", font(42), blue)
        cell = (x[2], y, x[3], y + _B_ROW_H)
        fields.append({"name": f"Q{q + 1}", "kind": "mark", "box": _frac(_inset(cell, 2 + 10), _B_W, _B_H),
                       "max": maximum})
        y += _B_ROW_H
    text_in_box(d, (x[0], y, x[1], bottom), "Total", font(46, True), blue)
    text_in_box(d, (x[1], y, x[2], bottom), f"{sum(_B_MAX)}", font(42, True), blue)
    fields.append({"name": "total", "kind": "total", "box": _frac(_inset((x[2], y, x[3], bottom), 6 + 12), _B_W, _B_H)})
    for k in range(len(_B_MAX)):  # row rules, the one under the header heavier
        ry = top + _B_HEAD_H + k * _B_ROW_H
        d.rectangle((x[0], ry - (2 if k == 0 else 1), x[-1], ry + (2 if k == 0 else 1)), fill=blue)
    d.rectangle((x[0], rows_bottom - 6, x[-1], rows_bottom - 4), fill=blue)  # a double rule above the Total row
    d.rectangle((x[0], rows_bottom + 1, x[-1], rows_bottom + 3), fill=blue)
    for cx in x[1:-1]:
        d.rectangle((cx - 1, top, cx + 1, bottom), fill=blue)
    rect(d, (x[0], top, x[-1], bottom), 6, blue)
    rect(d, (x[2], rows_bottom + 3, x[3], bottom), 6, blue)  # the total cell framed heavier
    sy = bottom + 90
    d.rectangle((x[0] + 100, sy, x[-1], sy + 2), fill=blue)
    text_in_box(d, (x[0] + 100, sy + 14, x[-1], sy + 64), "Signature of Examiner", font(36), blue)


# --------------------------------------------------------------------------- helpers

def _text_block(d: ImageDraw.ImageDraw, origin: tuple[int, int], heading: str, lines: tuple[str, ...],
                heading_font: Font, line_font: Font, inks: tuple[int, int], pitch: int = 58) -> None:
    """A heading and indented lines of printed text below it (instructions)."""
    x, y = origin
    text_in_box(d, (x, y, x + 1000, y + 60), heading, heading_font, inks[0], "left")
    for i, line in enumerate(lines):
        text_in_box(d, (x + 30, y + 75 + i * pitch, x + 1000, y + 130 + i * pitch), line, line_font, inks[1], "left")


def _template(name: str, fields: list[dict[str, Any]], size: tuple[int, int]) -> dict[str, Any]:
    return {"schema": SCHEMA, "name": name, "reference_image": "blank.png", "page_size": list(size),
            "generator": {"program": "marksocr.sheets.foreign"}, "fields": fields}


def _inset(box: tuple[int, int, int, int], m: int) -> tuple[int, int, int, int]:
    return box[0] + m, box[1] + m, box[2] - m, box[3] - m


def _frac(box: tuple[int, int, int, int], w: int, h: int) -> list[float]:
    x0, y0, x1, y1 = box
    return [round(x0 / w, 6), round(y0 / h, 6), round((x1 - x0) / w, 6), round((y1 - y0) / h, 6)]



