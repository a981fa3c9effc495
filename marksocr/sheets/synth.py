"""Synthetic filled-in sheets with ground truth, for tests and benchmarks.

* :func:`render_filled` writes digit strings (MNIST **test** digits) into a
  template's fields on its blank reference page;
* :func:`simulate_photo` (from :mod:`marksocr.sheets.photo`) turns the page into
  a scan or a phone photo;
* :func:`random_values` draws plausible values (marks <= max, total = sum);
* :func:`make_sheet_set` writes a labelled set: images, ``truth.csv`` and ``truth.json``.

Everything is deterministic given the seed: sheet ``i`` of a set depends only on
``(seed, i)``, so a larger set starts with the same sheets as a smaller one.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import os
from pathlib import Path
from typing import Any, Optional, Union

import cv2
import numpy as np
import numpy.typing as npt

from marksocr.domain import FieldKind, FieldSpec, Template, TemplateError
from marksocr.sheets.ink import INKS, DigitSource, Hand, ink_onto, write_comb, write_string
from marksocr.sheets.photo import STYLES, jpeg_round_trip, simulate, simulate_photo
from marksocr.template import load_template

log = logging.getLogger(__name__)

__all__ = ["DigitSource", "render_filled", "simulate_photo", "jpeg_round_trip", "random_values", "make_sheet_set",
           "make_sheet", "sheet_rng", "STYLES", "ANOMALIES"]

# Bumped whenever the same (seed, index) would draw a different sheet, so that caches of
# generated sets (benchmarks/sheets.py) are not reused across generators. 2: digits whose
# ink is filled in keep MNIST's strokes (``ink._pen_width``).
GENERATOR_VERSION = 2

ANOMALIES = ("total_wrong", "mark_empty", "total_empty")
"""Kinds of deliberately inconsistent sheets (recorded as ``anomaly`` in the truth)."""
STUDENT_INKS = ("blue", "dark_blue", "black", "blue_black")
EXAMINER_INKS = ("blue", "dark_blue", "black", "blue", "red")

PathLike = Union[str, os.PathLike]
BGRImage = npt.NDArray[np.uint8]


def sheet_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of sheet ``index`` in a set made with ``seed``."""
    return np.random.default_rng([int(seed), int(index)])


def render_filled(template: Template, values: dict[str, str], rng: np.random.Generator,
                  digit_source: DigitSource) -> BGRImage:
    """The template's blank page with ``values`` handwritten into the fields: BGR uint8.

    ``values`` maps field names to what is written (digits and ``.``; ``""`` or a
    missing name leaves the field empty). Comb fields get one digit per cell; other
    fields a free digit string. The student's fields (roll number, subject code) and
    the examiner's fields (marks, total) get different pens and hands.
    """
    unknown = set(values) - {f.name for f in template.fields}
    if unknown:
        raise ValueError(f"values for fields not in template {template.name!r}: {', '.join(sorted(unknown))}")
    bad = {k: v for k, v in values.items() if any(c not in "0123456789." for c in v)}
    if bad:
        raise ValueError(f"only digits and '.' can be written: {bad}")
    page = blank_page(template)
    h, w = page.shape[:2]
    pens = {
        "student": (INKS[str(rng.choice(STUDENT_INKS))], Hand.random(rng)),
        "examiner": (INKS[str(rng.choice(EXAMINER_INKS))], Hand.random(rng)),
    }
    for f in template.fields:
        text = values.get(f.name, "")
        if not text:
            continue
        colour, hand = pens["student" if f.kind in (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE) else "examiner"]
        x, y, bw, bh = _pixel_box(f, w, h)
        alpha = np.zeros((bh, bw), np.float32)
        if f.cells:
            write_comb(alpha, (0, 0, bw, bh), text, f.cells, hand, digit_source, rng)
        else:
            write_string(alpha, (0, 0, bw, bh), text, hand, digit_source, rng,
                         on_line=bool(f.extra.get("underline", False)))
        ink_onto(page, alpha, (x, y), _vary(colour, rng), hand.pressure, rng)
    return page


def blank_page(template: Template) -> BGRImage:
    """The template's reference image as a BGR page at ``page_size`` (a fresh copy)."""
    if template.reference_image is None:
        raise TemplateError(f"{template.name}: synthetic sheets need a template with a reference_image")
    ref = Path(template.reference_image)
    size = tuple(template.page_size) if template.page_size else None
    return _blank_page_cached(str(ref), ref.stat().st_mtime_ns, size).copy()


@functools.lru_cache(maxsize=4)
def _blank_page_cached(path: str, mtime_ns: int, size: Optional[tuple[int, int]]) -> BGRImage:
    from marksocr.imaging.io import load_image

    gray = load_image(path)
    if size and gray.shape[::-1] != size:
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    page = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    page.setflags(write=False)
    return page


def random_values(template: Template, rng: np.random.Generator, anomaly_rate: float = 0.1,
                  half_mark_rate: float = 0.1) -> tuple[dict[str, str], str]:
    """Plausible values for a sheet and which anomaly (if any) was put in.

    Marks are multiples of 1 (sometimes 0.5) up to the field's ``max`` (10 when
    absent); the written total is their sum unless the sheet is one of the
    ``anomaly_rate`` fraction made inconsistent on purpose: a wrong total, an empty
    mark (the total is then the sum of the written marks) or an empty total.
    """
    values: dict[str, str] = {}
    for f in template.fields:
        if f.kind in (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE):
            n = f.cells or int(f.extra.get("digits", 8 if f.kind == FieldKind.ROLL_NO else 5))
            values[f.name] = "".join(str(d) for d in rng.integers(0, 10, n))
    marks = {f.name: _random_mark(f, rng, half_mark_rate) for f in template.mark_fields}
    totals = [f for f in template.fields if f.kind == FieldKind.TOTAL]
    anomaly = str(rng.choice(ANOMALIES)) if rng.random() < anomaly_rate else ""
    if anomaly == "mark_empty" and marks:
        marks[str(rng.choice(sorted(marks)))] = None
    total = sum(m for m in marks.values() if m is not None)
    if anomaly == "total_wrong":
        total = max(0.0, total + float(rng.choice([-10, -5, -2, -1, 1, 2, 3, 5, 10])))
    for name, m in marks.items():
        values[name] = "" if m is None else format_mark(m)
    for f in totals:
        values[f.name] = "" if anomaly == "total_empty" else format_mark(total)
    return values, anomaly


def format_mark(value: float) -> str:
    """``7.0`` -> ``"7"``, ``7.5`` -> ``"7.5"``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def make_sheet_set(template_path: PathLike, out_dir: PathLike, n: int, style: str = "photo", seed: int = 0,
                   *, mnist_dir: Optional[PathLike] = None, anomaly_rate: float = 0.1,
                   digit_source: Optional[DigitSource] = None, workers: int = 1) -> list[tuple[Path, dict[str, Any]]]:
    """Write ``n`` synthetic sheets of ``template_path`` into ``out_dir`` with their truth.

    Files: ``sheet_0000.jpg`` ... (some scans are PNG), ``truth.json`` (a list of
    records) and ``truth.csv`` (``sheet``, one column per field in template order,
    ``anomaly``, ``consistent``). Each record holds ``sheet`` (file name), ``values``
    (field -> written text), ``anomaly`` (``""`` or one of :data:`ANOMALIES`),
    ``consistent`` (no anomaly: nothing empty, marks sum to the written total),
    ``total_matches_sum`` (the written total equals the sum of the written marks), ``style``,
    and the capture parameters including ``page_to_image`` (3x3 homography from
    reference-page pixels to image pixels; exact to within ``curl_px``).
    ``workers`` > 1 makes sheets in parallel processes (same output: each sheet depends
    only on ``(seed, index)``). Returns ``[(image path, record), ...]``.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    template = load_template(template_path)
    digits = digit_source or DigitSource.from_mnist(Path(mnist_dir) if mnist_dir else None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    job = functools.partial(make_sheet, template, digits, out, style, seed, anomaly_rate=anomaly_rate)
    if workers > 1 and n > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(job, range(n), chunksize=max(1, n // (workers * 4))))
    else:
        rows = [job(i) for i in range(n)]
    _write_truth(out, template, [r for _, r in rows])
    return rows


def make_sheet(template: Template, digits: DigitSource, out: Path, style: str, seed: int, index: int,
               anomaly_rate: float = 0.1) -> tuple[Path, dict[str, Any]]:
    """Make sheet ``index`` of a set (see :func:`make_sheet_set`): write its image, return its record."""
    rng = sheet_rng(seed, index)
    values, anomaly = random_values(template, rng, anomaly_rate)
    page = render_filled(template, values, rng, digits)
    sim = simulate(page, rng, style)
    png = style == "scan" and rng.random() < 0.2
    path = out / f"sheet_{index:04d}.{'png' if png else 'jpg'}"
    _write_image(path, sim.image, sim.jpeg_quality)
    record = {"sheet": path.name, "template": template.name, "style": style, "seed": seed, "index": index,
              "generator": GENERATOR_VERSION,
              "values": values, "anomaly": anomaly, "consistent": anomaly == "",
              "total_matches_sum": _total_matches(template, values),
              "jpeg_quality": None if png else sim.jpeg_quality,
              "page_to_image": [[round(float(v), 6) for v in row] for row in sim.homography],
              "image_size": [int(sim.image.shape[1]), int(sim.image.shape[0])],
              **{k: round(v, 4) if isinstance(v, float) else v for k, v in sim.params.items()}}
    log.info("sheet %d: %s", index, path.name)
    return path, record


def _write_image(path: Path, image: BGRImage, quality: int) -> None:
    params = [cv2.IMWRITE_PNG_COMPRESSION, 3] if path.suffix == ".png" else [cv2.IMWRITE_JPEG_QUALITY, quality]
    ok, buf = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise RuntimeError(f"could not encode {path.name}")
    path.write_bytes(buf.tobytes())


def _write_truth(out: Path, template: Template, records: list[dict[str, Any]]) -> None:
    body = ",\n".join(" " + json.dumps(r) for r in records)
    (out / "truth.json").write_text(f"[\n{body}\n]\n", encoding="utf-8")
    names = [f.name for f in template.fields]
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sheet", *names, "anomaly", "consistent"])
        for r in records:
            writer.writerow([r["sheet"], *(r["values"].get(n, "") for n in names), r["anomaly"],
                             "yes" if r["consistent"] else "no"])


def _total_matches(template: Template, values: dict[str, str]) -> bool:
    """True when every total field is written and equals the sum of the written marks."""
    marks = sum(float(values[f.name]) for f in template.mark_fields if values.get(f.name))
    totals = [values.get(f.name, "") for f in template.fields if f.kind == FieldKind.TOTAL]
    return all(t != "" and abs(float(t) - marks) < 1e-6 for t in totals)


def _random_mark(f: FieldSpec, rng: np.random.Generator, half_rate: float) -> float:
    top = f.max if f.max is not None else 10.0
    if rng.random() < half_rate and top >= 1:  # a half mark: 0.5, 1.5, ... below the max
        return float(rng.integers(0, int(np.floor(top - 0.5)) + 1)) + 0.5
    return float(rng.integers(0, int(np.floor(top)) + 1))


def _pixel_box(f: FieldSpec, w: int, h: int) -> tuple[int, int, int, int]:
    x, y, bw, bh = f.box
    x0, y0 = int(round(x * w)), int(round(y * h))
    return x0, y0, max(1, int(round(bw * w))), max(1, int(round(bh * h)))


def _vary(colour: tuple[float, float, float], rng: np.random.Generator) -> tuple[float, float, float]:
    c = np.clip(np.array(colour) + rng.normal(0, 8, 3), 0, 255)
    return (float(c[0]), float(c[1]), float(c[2]))

