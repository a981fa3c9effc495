"""Labelled digit crops cut by the real reading pipeline, for training the digit model.

MNIST digits are clean 28x28 scans; what the classifier sees on a sheet is a digit written
with a pen, photographed, registered, cleaned of box lines, segmented and cut out. Those
steps leave marks of their own (blur, JPEG blocks, a stub of a comb line, a cell edge that
clips a stroke), and the model reads such crops worse than MNIST digits.

:func:`harvest` closes that gap with the pipeline itself: it writes synthetic sheets with
MNIST **training** digits (never the test digits that the benchmarks write), captures them
as scans and photos, reads them with :func:`marksocr.pipeline.read_sheet`, and keeps the
crops of every field whose digit count matches what was written, labelled with the digit
that was written there. ``marksocr train --extra DIR`` then trains on them beside MNIST.

Only crops that are one digit are wanted. A comb cell holds one digit by construction; in a
free string the count can match while a cut went through the wrong place, so a misread crop
of a free string is kept only when the written digit is among its top-3 readings (a badly
cut piece is rarely that).

Output: ``DIR/<digit>/<layout>-<style>-<seed>-<sheet>-<field>-<i>.png`` (the crop as the
classifier got it) and ``DIR/harvest.json``, the recipe and counts (the model card of a
model trained on the crops copies it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import cv2
import numpy as np

from marksocr.domain import DataError, SheetStatus, Template
from marksocr.recognition.train import HARVEST_FORMAT as FORMAT
from marksocr.recognition.train import HARVEST_MANIFEST as MANIFEST
from marksocr.sheets.ink import DigitSource
from marksocr.sheets.photo import STYLES, jpeg_round_trip, simulate
from marksocr.sheets.synth import GENERATOR_VERSION, random_values, render_filled, sheet_rng
from marksocr.template import load_template

log = logging.getLogger(__name__)

TOP_K = 3


@dataclass(frozen=True)
class HarvestConfig:
    out: Path
    templates: tuple[Path, ...]
    sheets: int = 100
    """Sheets per template and style."""
    styles: tuple[str, ...] = STYLES
    seed: int = 9000
    mnist_dir: Optional[Path] = None
    model: Optional[Path] = None
    """The model whose readings choose the cuts (default: the shipped one)."""
    workers: int = 1


@dataclass
class Crop:
    digit: int
    name: str
    image: np.ndarray
    misread: bool


@dataclass
class SheetHarvest:
    crops: list[Crop] = field(default_factory=list)
    fields_kept: int = 0
    fields_skipped: int = 0
    crops_dropped: int = 0
    failed: bool = False


def harvest(config: HarvestConfig, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Make the sheets, read them, write the labelled crops and the manifest; return the manifest."""
    if config.sheets < 1:
        raise DataError("--sheets must be at least 1")
    if not config.templates:
        raise DataError("no template to draw on (give --template T.json)")
    bad = [s for s in config.styles if s not in STYLES]
    if bad or not config.styles:
        raise DataError(f"unknown style(s) {', '.join(bad) or '(none given)'}; choose from {', '.join(STYLES)}")
    templates = [load_template(p) for p in config.templates]
    for t in templates:
        if t.reference_image is None:
            raise DataError(f"{t.path}: a template without a reference_image cannot be drawn on")
    out = Path(config.out)
    if (out / MANIFEST).exists():
        raise DataError(f"{out}: already holds a harvest ({MANIFEST}); choose an empty folder")
    for d in range(10):
        (out / str(d)).mkdir(parents=True, exist_ok=True)
    jobs = [(i, path, style) for i, path in enumerate(config.templates) for style in config.styles]
    totals: dict[str, Any] = {"sheets": 0, "failed": 0, "fields_kept": 0, "fields_skipped": 0,
                              "crops": 0, "misread_crops": 0, "crops_dropped": 0, "per_digit": [0] * 10}
    per_set: dict[str, dict[str, int]] = {}
    pool = (ProcessPoolExecutor(max_workers=config.workers, initializer=_init_worker,
                                initargs=(config.model, config.mnist_dir)) if config.workers > 1 else None)
    if pool is None:
        _init_worker(config.model, config.mnist_dir)
    try:
        for t_index, path, style in jobs:
            _harvest_set(config, pool, t_index, Path(path), style, out, totals, per_set, progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    manifest = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "recipe": {"seed": config.seed, "sheets_per_set": config.sheets, "styles": list(config.styles),
                   "generator": GENERATOR_VERSION, "mnist_split": "train", "top_k_for_free_strings": TOP_K,
                   "templates": [_template_summary(t) for t in templates]},
        "model": _model_summary(config.model),
        "mnist": _mnist_checksums(config.mnist_dir),
        "counts": totals,
        "sets": per_set,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------- reading sheets

def _harvest_set(config: HarvestConfig, pool: Optional[ProcessPoolExecutor], t_index: int, path: Path, style: str,
                 out: Path, totals: dict[str, Any], per_set: dict[str, dict[str, int]],
                 progress: Callable[[str], None]) -> None:
    name = Path(path).parent.name
    counts = {"sheets": 0, "crops": 0, "misread_crops": 0}
    for sheet in _read_set(config, pool, t_index, path, style):
        counts["sheets"] += 1
        totals["sheets"] += 1
        totals["failed"] += sheet.failed
        totals["fields_kept"] += sheet.fields_kept
        totals["fields_skipped"] += sheet.fields_skipped
        totals["crops_dropped"] += sheet.crops_dropped
        for c in sheet.crops:
            _write_png(out / str(c.digit) / f"{c.name}.png", c.image)
            totals["per_digit"][c.digit] += 1
            counts["crops"] += 1
            counts["misread_crops"] += c.misread
    totals["crops"] += counts["crops"]
    totals["misread_crops"] += counts["misread_crops"]
    per_set[f"{name}/{style}"] = counts
    progress(f"{name}/{style}: {counts['sheets']} sheets, {counts['crops']} crops "
             f"({counts['misread_crops']} misread by the model)")


_WORKER: dict[str, Any] = {}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
"""Characters kept in crop file names (a field may be named anything)."""


def _read_set(config: HarvestConfig, pool: Optional[ProcessPoolExecutor], t_index: int, path: Path,
              style: str) -> Iterator[SheetHarvest]:
    # Each (template, style) set gets its own seed, so the sets are not the same handwriting.
    seed = config.seed + 100 * t_index + STYLES.index(style)
    args = [(path, style, seed, i) for i in range(config.sheets)]
    if pool is None:
        yield from map(_harvest_sheet, args)
    else:
        yield from pool.map(_harvest_sheet, args, chunksize=4)


def _init_worker(model: Optional[Path], mnist_dir: Optional[Path]) -> None:
    if "classifier" in _WORKER and _WORKER.get("key") == (model, mnist_dir):
        return
    from marksocr.recognition import DigitClassifier
    from marksocr.recognition.mnist import load_mnist

    train = load_mnist("train", mnist_dir)
    _WORKER.update(key=(model, mnist_dir), classifier=DigitClassifier.load(model),
                   digits=DigitSource(train.images, train.labels), templates={})


def _harvest_sheet(job: tuple[Path, str, int, int]) -> SheetHarvest:
    from marksocr.imaging.io import to_gray
    from marksocr.pipeline import ReadOptions, read_sheet

    path, style, seed, index = job
    templates: dict[Path, Template] = _WORKER["templates"]
    template = templates.get(path) or templates.setdefault(path, load_template(path))
    rng = sheet_rng(seed, index)
    values, _ = random_values(template, rng)
    page = render_filled(template, values, rng, _WORKER["digits"])
    sim = simulate(page, rng, style)
    image = to_gray(jpeg_round_trip(sim.image, sim.jpeg_quality))
    reading = read_sheet(image, template, _WORKER["classifier"], source=f"harvest {index}", options=ReadOptions())
    result = SheetHarvest(failed=reading.status == SheetStatus.FAILED)
    combs = {f.name for f in template.fields if f.cells}
    for f in reading.fields:
        written = values.get(f.name, "")
        if not written:
            continue
        if len(f.digits) != len(written) or any((d.label == ".") != (w == ".") for d, w in zip(f.digits, written)):
            result.fields_skipped += 1
            continue
        result.fields_kept += 1
        prefix = _SAFE.sub("_", f"{path.parent.name}-{style}-{seed}-{index:05d}-{f.name}")
        for i, (d, w) in enumerate(zip(f.digits, written)):
            if w == "." or d.crop is None:
                continue
            if not keep_crop(d.label, [a for a, _ in d.alternatives], w, in_cell=f.name in combs):
                result.crops_dropped += 1
                continue
            result.crops.append(Crop(int(w), f"{prefix}-{i}", np.ascontiguousarray(d.crop), d.label != w))
    return result


def keep_crop(label: str, alternatives: Sequence[str], written: str, *, in_cell: bool) -> bool:
    """Whether a crop read as ``label`` where ``written`` was written is one digit to learn from.

    Read right: yes. In a comb cell (one digit per cell by construction): yes. In a free
    string, a misread crop is kept only when ``written`` is among its top-3 readings; a crop
    that does not even look a little like the written digit is most likely a piece or a pair.
    """
    return label == written or in_cell or written in list(alternatives)[:TOP_K]


# --------------------------------------------------------------------------- manifest parts

def _write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError(f"could not encode {path.name}")
    path.write_bytes(buf.tobytes())


def _sha256(path: Optional[Path]) -> Optional[str]:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path and Path(path).is_file() else None


def _shown(path: Optional[Path]) -> Optional[str]:
    """A file as the manifest (and so the model card) names it: relative to the checkout when it
    lies inside it, else by its name alone (its sha256 identifies it; no one's home folder)."""
    if path is None:
        return None
    from marksocr.paths import checkout_root

    full = Path(path).resolve()
    root = checkout_root()
    if root is not None and full.is_relative_to(root.resolve()):
        return full.relative_to(root.resolve()).as_posix()
    return full.name


def _template_summary(t: Template) -> dict[str, Any]:
    return {"name": t.name, "file": _shown(t.path), "sha256": _sha256(t.path),
            "reference_image_sha256": _sha256(t.reference_image)}


def _model_summary(model: Optional[Path]) -> dict[str, Any]:
    from marksocr.paths import default_model_path
    from marksocr.recognition.card import read_card

    path = Path(model) if model else default_model_path()
    card = read_card(path)
    return {"file": _shown(path), "version": card.get("version"), "sha256": card.get("sha256")}


def _mnist_checksums(mnist_dir: Optional[Path]) -> dict[str, str]:
    from marksocr.recognition.mnist import load_mnist

    return dict(load_mnist("train", mnist_dir).checksums)
