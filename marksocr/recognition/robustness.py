"""Accuracy of a digit model under photo-like corruptions, for the evaluation report.

Each MNIST test digit is inverted to dark ink on light paper and upscaled 3x (84x84),
so it looks like a crop cut from a photo; the corruption is applied to that crop, and
the crop goes through ``predict_proba`` (normalisation included), as in use.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

UPSCALE = 3
COLUMNS = ("corruption", "severity", "parameter", "accuracy", "drop_pp", "blank_rate", "digits")

Corrupt = Callable[[npt.NDArray[np.uint8], float, np.random.Generator], npt.NDArray[np.uint8]]


def _noise(img: npt.NDArray[np.uint8], sigma: float, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return np.clip(img + rng.normal(0.0, sigma, img.shape), 0, 255).astype(np.uint8)


def _blur(img: npt.NDArray[np.uint8], sigma: float, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return cv2.GaussianBlur(img, (0, 0), sigma)


def _salt_pepper(img: npt.NDArray[np.uint8], fraction: float, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    out = img.copy()
    hit = rng.random(img.shape) < fraction
    out[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0, 255).astype(np.uint8)
    return out


def _disk(size: float) -> npt.NDArray[np.uint8]:
    k = int(size)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def _thinner(img: npt.NDArray[np.uint8], size: float, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return cv2.dilate(img, _disk(size))  # paper grows into the dark ink: thinner strokes


def _thicker(img: npt.NDArray[np.uint8], size: float, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    return cv2.erode(img, _disk(size))  # dark ink grows: thicker strokes


@dataclass(frozen=True)
class Corruption:
    name: str
    levels: tuple[float, ...]
    unit: str
    apply: Corrupt


# Levels are in pixels / grey levels of the 84x84 crop; MNIST strokes are about 7 px wide there.
CORRUPTIONS = (
    Corruption("gaussian noise", (25.0, 50.0, 100.0), "sigma {:g} grey levels", _noise),
    Corruption("blur", (1.5, 3.0, 4.5), "Gaussian sigma {:g} px", _blur),
    Corruption("salt and pepper", (0.02, 0.05, 0.10), "{:.0%} of pixels", _salt_pepper),
    Corruption("thinner strokes", (3.0, 5.0, 7.0), "erode ink, {:g} px disk", _thinner),
    Corruption("thicker strokes", (5.0, 9.0, 13.0), "dilate ink, {:g} px disk", _thicker),
)


def photo_like(crops: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    """Upscale dark-on-light 28x28 digits to 84x84 (bicubic), like digit crops from a photo."""
    size = 28 * UPSCALE
    return [np.clip(cv2.resize(c, (size, size), interpolation=cv2.INTER_CUBIC), 0, 255) for c in crops]


def robustness_table(clf: Any, crops: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8],
                     digits: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Accuracy per corruption and severity on a fixed random subset of ``digits`` crops.

    ``crops`` are dark-on-light 28x28 test digits. Returns ``{"rows": [...], "digits": n, ...}``;
    each row has the columns of ``COLUMNS``; ``drop_pp`` is the loss in percentage points
    against the clean upscaled crops of the same subset.
    """
    rng = np.random.default_rng(seed)
    n = min(digits, len(labels))
    idx = np.sort(rng.permutation(len(labels))[:n])
    base, y = photo_like(crops[idx]), labels[idx]
    clean_acc, clean_blank = _score(clf, base, y)
    rows = [_row("none", 0, "clean 84x84 crop", clean_acc, clean_acc, clean_blank, n)]
    for c in CORRUPTIONS:
        for severity, level in enumerate(c.levels, start=1):
            level_rng = np.random.default_rng((seed, severity, len(rows)))
            images = [c.apply(img, level, level_rng) for img in base]
            acc, blank = _score(clf, images, y)
            rows.append(_row(c.name, severity, c.unit.format(level), acc, clean_acc, blank, n))
            log.info("robustness %s level %s: accuracy %.4f", c.name, level, acc)
    return {"digits": n, "seed": seed, "upscale": UPSCALE, "clean_accuracy": clean_acc, "rows": rows}


def _score(clf: Any, images: list[npt.NDArray[np.uint8]], labels: npt.NDArray[np.uint8]) -> tuple[float, float]:
    probs = clf.predict_proba(images)
    blank = np.isclose(probs, 0.1).all(axis=1)
    return float((probs.argmax(axis=1) == labels).mean()), float(blank.mean())


def _row(name: str, severity: int, parameter: str, acc: float, clean: float, blank: float, n: int) -> dict[str, Any]:
    return {"corruption": name, "severity": severity, "parameter": parameter, "accuracy": acc,
            "drop_pp": round(100 * (clean - acc), 2), "blank_rate": blank, "digits": n}


def robustness_markdown(table: dict[str, Any]) -> str:
    """The robustness table as Markdown, with a line saying how it was made."""
    lines = [
        f"Accuracy on {table['digits']} MNIST test digits (fixed random subset, seed {table['seed']}), "
        f"each inverted to dark-on-light, upscaled {table['upscale']}x to 84x84 like a photo crop, corrupted, "
        "then read through `predict_proba`. *Drop* is against the clean upscaled crops; *blank* is the share "
        "of crops the normaliser rejected as empty (counted as wrong).",
        "",
        "| corruption | severity | parameter | accuracy | drop (pp) | blank |",
        "|---|---|---|---|---|---|",
    ]
    for r in table["rows"]:
        lines.append(f"| {r['corruption']} | {r['severity']} | {r['parameter']} | {r['accuracy']:.2%} "
                     f"| {r['drop_pp']:.2f} | {r['blank_rate']:.1%} |")
    return "\n".join(lines)


def write_robustness(table: dict[str, Any], report_dir: Path) -> tuple[Path, Path]:
    """Write ``robustness.md`` and ``robustness.csv`` into the report folder."""
    md, csv_path = Path(report_dir) / "robustness.md", Path(report_dir) / "robustness.csv"
    md.write_text("# Robustness\n\n" + robustness_markdown(table) + "\n", encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for r in table["rows"]:
            writer.writerow({k: r[k] for k in COLUMNS})
    return md, csv_path
