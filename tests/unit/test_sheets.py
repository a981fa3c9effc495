"""Sheet generators: the printable sheet, the foreign layout and synthetic sheet photos."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from marksocr.cli.main import main as cli_main
from marksocr.imaging.io import iter_pages, load_image
from marksocr.paths import resources_dir
from marksocr.template import load_template


def _detect_markers(img: np.ndarray) -> dict[int, np.ndarray]:
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50),
                                       cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(img)
    return {} if ids is None else {int(i): c[0] for i, c in zip(ids.ravel(), corners)}


def test_template_new_writes_png_pdf_and_loadable_template(tmp_path):
    out = tmp_path / "sheet"
    rc = cli_main(["template", "new", "--out", str(out), "--questions", "6", "--max", "10,10,5,5,7.5,12.5",
                   "--roll-cells", "7", "--name", "Physics mid-term"])
    assert rc == 0
    t = load_template(out / "template.json")
    assert t.name == "Physics mid-term"
    assert [f.name for f in t.fields] == ["roll_no", "subject_code", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "total"]
    assert t.field_named("roll_no").cells == 7 and t.field_named("subject_code").cells == 5
    assert [f.max for f in t.mark_fields] == [10, 10, 5, 5, 7.5, 12.5]
    assert t.page_size == (2480, 3508) and t.reference_image == (out / "blank.png").resolve()
    png = load_image(out / "blank.png")
    assert png.shape == (3508, 2480)
    pdf_pages = list(iter_pages(out / "blank.pdf"))
    assert len(pdf_pages) == 1 and pdf_pages[0].ok
    h, w = pdf_pages[0].image.shape
    assert abs(w / h - 210 / 297) < 0.01  # A4 proportions
    # the writing areas are empty paper: no printed line or label inside them
    for f in t.fields:
        x, y, bw, bh = f.box
        crop = png[round(y * 3508):round((y + bh) * 3508), round(x * 2480):round((x + bw) * 2480)]
        if f.cells:  # comb dividers are inside by design; check the cell centres
            cw = crop.shape[1] / f.cells
            crop = np.hstack([crop[:, round(i * cw + cw * 0.2):round((i + 1) * cw - cw * 0.2)] for i in range(f.cells)])
        assert crop.min() > 240, f.name


def test_template_new_rejects_bad_options(tmp_path, capsys):
    assert cli_main(["template", "new", "--out", str(tmp_path), "--questions", "4", "--max", "10,5"]) == 2
    assert "4 questions" in capsys.readouterr().err
    assert not (tmp_path / "template.json").exists()


def test_markers_are_detected_where_the_template_says(tmp_path):
    from marksocr.sheets.printable import make_spec, render_sheet

    page, template = render_sheet(make_spec(questions=3))
    found = _detect_markers(page)
    markers = template["markers"]
    assert sorted(found) == [0, 1, 2, 3] == sorted(int(k) for k in markers["positions"])
    side = markers["size"] * page.shape[1]
    for mid, corners in found.items():
        fx, fy = markers["positions"][str(mid)]
        assert np.allclose(corners[0], (fx * page.shape[1], fy * page.shape[0]), atol=1.5)
        assert abs(np.linalg.norm(corners[1] - corners[0]) - side) < 2.5


def test_bundled_sample_templates_load():
    folder = resources_dir() / "templates"
    names = sorted(p.parent.name for p in folder.glob("*/template.json"))
    assert "marksocr_a4" in names
    for name in names:
        t = load_template(folder / name / "template.json")
        assert t.reference_image is not None and t.reference_image.is_file()
        assert t.page_size == load_image(t.reference_image).shape[::-1]
        assert (folder / name / "template.json").stat().st_size < 50_000
        assert t.reference_image.stat().st_size < 500_000
    t = load_template(folder / "marksocr_a4" / "template.json")
    assert len(_detect_markers(load_image(t.reference_image))) == 4
