"""Whole generated sheets through ``read_sheet`` and ``marksocr read --json``; bad inputs.

A few sheets per style and layout (ours with markers, foreign layouts with a reference image
only) so CI stays fast. The benchmark (benchmarks/sheets.py) measures the same at scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from marksocr.domain import SheetStatus
from marksocr.paths import resources_dir

LAYOUTS = ("marksocr_a4", "foreign_university", "foreign_landscape")
STYLES = ("scan", "photo", "hard_photo")
N = 2


def _template_path(layout: str) -> Path:
    path = resources_dir() / "templates" / layout / "template.json"
    if not path.is_file():
        pytest.skip(f"no template {path}")
    return path


@pytest.fixture(scope="module")
def sheet_sets(tmp_path_factory, mnist_dir):
    from marksocr.sheets.synth import make_sheet_set

    out = {}
    for layout in LAYOUTS:
        for style in STYLES:
            d = tmp_path_factory.mktemp(f"{layout}-{style}")
            out[layout, style] = (_template_path(layout), make_sheet_set(_template_path(layout), d, N, style=style,
                                                                          seed=78, mnist_dir=mnist_dir))
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
def test_generated_sheets_are_read(layout, sheet_sets, classifier):
    from marksocr.imaging.io import load_image
    from marksocr.pipeline import read_sheet
    from marksocr.template import load_template

    right = total = 0
    for style in STYLES:
        tpath, rows = sheet_sets[layout, style]
        template = load_template(tpath)
        for path, record in rows:
            reading = read_sheet(load_image(path), template, classifier, source=str(path), sha256="x")
            assert reading.status != SheetStatus.FAILED, (style, path.name, reading.reasons)
            assert reading.registration_quality > 0.5
            assert reading.page_image is not None and reading.model_version == classifier.version
            assert [f.name for f in reading.fields] == [f.name for f in template.fields]
            got = {f.name: f.text for f in reading.fields}
            wrong = {n: (got[n], v) for n, v in record["values"].items() if got.get(n) != v}
            if reading.status == SheetStatus.AUTO:
                assert not wrong, f"{style}/{path.name} auto but wrong: {wrong}"
            else:
                assert reading.reasons
            for f in reading.fields:
                assert 0.0 <= f.confidence <= 1.0
                for d in f.digits:
                    assert d.crop is not None and d.alternatives[0][0] == d.label
            right += len(record["values"]) - len(wrong)
            total += len(record["values"])
    assert right / total >= 0.75, f"only {right}/{total} fields read right"


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="known confident misread, not fixed: a 7 whose top hooks down at the left "
                   "(roll number 07657283, fifth digit) is read 9 at 0.998, so this scan is `auto` and wrong; "
                   "see benchmarks/RESULTS-sheets.md, thirteenth run. Passing means it was fixed: drop the mark.")
def test_a_hooked_seven_does_not_make_a_wrong_auto_sheet(tmp_path, mnist_dir, classifier):
    from marksocr.imaging.io import load_image
    from marksocr.pipeline import read_sheet
    from marksocr.sheets.synth import make_sheet_set
    from marksocr.template import load_template

    tpath = _template_path("marksocr_a4")
    [(path, record)] = make_sheet_set(tpath, tmp_path, 1, style="scan", seed=77, mnist_dir=mnist_dir)
    reading = read_sheet(load_image(path), load_template(tpath), classifier, source=str(path), sha256="x")
    roll = next(f for f in reading.fields if f.name == "roll_no")
    if record["values"]["roll_no"] != "07657283":  # not an expected failure: the generator changed
        pytest.fail(f"seed 77 no longer draws the sheet this test is about: {record['values']['roll_no']}")
    assert reading.status != SheetStatus.AUTO or roll.text == "07657283"


def test_blank_page_and_photo_of_something_else_fail(tmp_path, classifier):
    from marksocr.pipeline import read_sheet
    from marksocr.template import load_template

    template = load_template(_template_path("marksocr_a4"))
    foreign = load_template(_template_path("foreign_university"))
    rng = np.random.default_rng(0)
    blank = np.full((3200, 2400), 240, np.uint8)
    cv2.rectangle(blank, (300, 300), (2100, 2900), 250, -1)
    clutter = cv2.GaussianBlur(rng.integers(0, 255, (3200, 2400)).astype(np.uint8), (0, 0), 9)
    for tpl in (template, foreign):
        for img in (blank, clutter):
            reading = read_sheet(img, tpl, classifier, source="x.jpg")
            assert reading.status == SheetStatus.FAILED
            assert reading.reasons and reading.reasons[0]
            assert reading.fields == ()


def test_marksocr_read_json(tmp_path, classifier, mnist_dir):
    from marksocr.cli.main import main

    img = _digit_strings_image(mnist_dir, ["407", "12"])
    path = tmp_path / "numbers.png"
    cv2.imwrite(str(path), img)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["read", "--json", str(path)]) == 0
    items = json.loads(buf.getvalue())
    assert isinstance(items, list) and items
    for it in items:
        assert set(it) >= {"text", "box", "confidence"}
        assert len(it["box"]) == 4 and 0.0 <= it["confidence"] <= 1.0
    texts = [it["text"] for it in items]
    assert "407" in texts and "12" in texts
    assert texts.index("407") < texts.index("12")  # reading order: top to bottom


def _digit_strings_image(mnist_dir: Path, strings: list[str]) -> np.ndarray:
    import gzip

    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as fh:
        labels = np.frombuffer(fh.read(), np.uint8, offset=8)
    img = np.full((700, 900), 245, np.uint8)
    cv2.putText(img, "Marks:", (40, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 2)
    for row, s in enumerate(strings):
        x = 260
        for k, ch in enumerate(s):
            idx = np.nonzero(labels == int(ch))[0][k + 3 * row]
            d = cv2.resize(images[idx], (90, 90))
            sub = img[80 + 300 * row:170 + 300 * row, x:x + 90]
            np.minimum(sub, 255 - d, out=sub)
            x += 70
    return img
