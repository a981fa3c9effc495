"""Digit accuracy away from MNIST's own look: pen-redrawn and photo-like test digits.

We have no non-MNIST handwriting to ship, so this is a proxy for "real handwriting". Each MNIST
*test* digit is turned into

* a pen-drawn glyph by the sheet generator's handwriting (``marksocr.sheets.ink.glyph``: skeleton
  redrawn with an even pen width, slant, rotation, 40-70 px tall), pasted dark-on-light, and
* a photo-like crop (``marksocr.recognition.augment.photo_like_crop``: affine, elastic, stroke
  width, paper, uneven light, blur, noise),

and read through ``predict_proba``. Every model given is scored on the same crops.

    .venv/bin/python benchmarks/pen_digits.py [MODEL ...] [--n 3000]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pen_crops(images: np.ndarray) -> list[np.ndarray]:
    from marksocr.sheets import ink

    out = []
    for i, digit in enumerate(images):
        rng = np.random.default_rng(i)
        g = ink.glyph(digit, float(rng.uniform(40, 70)), ink.Hand.random(rng), rng)
        out.append((255 - np.pad(g, 6) * 255).astype(np.uint8))
    return out


def photo_crops(images: np.ndarray) -> list[np.ndarray]:
    from marksocr.recognition.augment import photo_like_crop

    return [photo_like_crop(d, np.random.default_rng(10_000 + i)) for i, d in enumerate(images)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path, help="model files (default: the shipped one)")
    ap.add_argument("--n", type=int, default=3000, help="MNIST test digits to use (default 3000)")
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args(argv)

    from marksocr.recognition import DigitClassifier
    from marksocr.recognition.mnist import load_mnist

    test = load_mnist("test", args.data)
    images, labels = test.images[:args.n], test.labels[:args.n]
    sets = {"MNIST as is (dark-on-light)": list(255 - images), "pen-redrawn": pen_crops(images),
            "photo-like": photo_crops(images)}
    print(f"{args.n} MNIST test digits per set")
    print("| model | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    for path in args.models or [None]:
        clf = DigitClassifier.load(path)
        accs = [float((clf.predict_proba(crops).argmax(axis=1) == labels).mean()) for crops in sets.values()]
        name = f"{clf.card.get('architecture', '?')} {clf.version}"
        print(f"| {name} | " + " | ".join(f"{a:.2%}" for a in accs) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
