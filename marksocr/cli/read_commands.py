"""``marksocr read [--json] IMAGE``: free mode, every handwritten digit string on an image."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``read`` command to the ``marksocr`` parser."""
    p = subparsers.add_parser(
        "read", help="read every handwritten digit string on an image (no template)",
        description="Find every handwritten digit string on an image and print each with its box "
                    "[x, y, w, h] (image pixels) and confidence, top to bottom, left to right.")
    p.add_argument("image", type=Path, metavar="IMAGE", help="JPEG, PNG, TIFF or BMP image (a PDF: its first page)")
    p.add_argument("--json", action="store_true", help="print a JSON array of {text, box, confidence}")
    p.add_argument("--model", type=Path, default=None, help="digit model file (default: the shipped model)")
    p.set_defaults(func=_cmd_read)


def _cmd_read(args: argparse.Namespace) -> int:
    from marksocr.domain import InputError
    from marksocr.imaging.io import iter_pages
    from marksocr.pipeline.free import read_free
    from marksocr.recognition import DigitClassifier

    pages = iter(iter_pages(args.image))
    page = next(pages, None)
    if page is None or page.image is None:
        raise InputError(page.error if page is not None and page.error else f"{args.image}: no image found")
    classifier = DigitClassifier.load(args.model)
    strings = read_free(page.image, classifier)
    if args.json:
        print(json.dumps([s.to_json() for s in strings]))
    else:
        if not strings:
            print("no digit strings found")
        for s in strings:
            x, y, w, h = s.box
            print(f"{s.text:>12}  box=[{x}, {y}, {w}, {h}]  confidence={s.confidence:.3f}")
    return 0
