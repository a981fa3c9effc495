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
from layout_checks import overlapping


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


# --------------------------------------------------------------------------- synthetic sheets

@pytest.fixture(scope="module")
def digits():
    from marksocr.paths import default_mnist_dir
    from marksocr.sheets.synth import DigitSource

    if not (default_mnist_dir() / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("MNIST test digits not found; set $MARKSOCR_MNIST")
    return DigitSource.from_mnist()


@pytest.fixture(scope="module")
def a4_template():
    return load_template(resources_dir() / "templates" / "marksocr_a4" / "template.json")


def _field_px(f, shape):
    x, y, w, h = f.box
    return round(x * shape[1]), round(y * shape[0]), round((x + w) * shape[1]), round((y + h) * shape[0])


def test_render_filled_inks_exactly_the_fields_asked(a4_template, digits):
    from marksocr.sheets.synth import blank_page, render_filled

    values = {"roll_no": "12345678", "Q1": "7.5", "Q3": "10", "total": "17.5"}
    page = render_filled(a4_template, values, np.random.default_rng(0), digits)
    blank = blank_page(a4_template)
    assert page.shape == blank.shape and page.dtype == np.uint8
    diff = np.abs(page.astype(int) - blank.astype(int)).max(axis=2) > 40
    outside = diff.copy()
    for f in a4_template.fields:
        x0, y0, x1, y1 = _field_px(f, page.shape)
        inked = diff[y0:y1, x0:x1].sum()
        assert (inked > 200) == bool(values.get(f.name)), f.name
        outside[y0:y1, x0:x1] = False
    assert outside.sum() == 0  # no ink outside the writing areas
    roll = a4_template.field_named("roll_no")
    x0, y0, x1, y1 = _field_px(roll, page.shape)
    cell_w = (x1 - x0) / 8
    for i in range(8):  # one digit in every comb cell
        assert diff[y0:y1, round(x0 + i * cell_w):round(x0 + (i + 1) * cell_w)].sum() > 100
    with pytest.raises(ValueError, match="not in template"):
        render_filled(a4_template, {"Q99": "1"}, np.random.default_rng(0), digits)


def test_random_values_respect_max_and_sum(a4_template):
    from marksocr.sheets.synth import random_values

    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(300):
        values, anomaly = random_values(a4_template, rng, anomaly_rate=0.3)
        seen.add(anomaly)
        assert len(values["roll_no"]) == 8 and len(values["subject_code"]) == 5
        marks = [float(values[f.name]) for f in a4_template.mark_fields if values[f.name]]
        assert all(0 <= m <= f.max for m, f in zip(marks, a4_template.mark_fields))
        assert all(m * 2 == int(m * 2) for m in marks)
        empty = [f.name for f in a4_template.mark_fields if not values[f.name]]
        assert (len(empty) == 1) == (anomaly == "mark_empty")
        if anomaly == "total_empty":
            assert values["total"] == ""
        elif anomaly == "total_wrong":
            assert float(values["total"]) != sum(marks)
        else:
            assert float(values["total"]) == sum(marks)
    assert seen == {"", "total_wrong", "mark_empty", "total_empty"}


def test_synthetic_photo_homography_is_the_truth(a4_template, digits):
    from marksocr.sheets.photo import simulate
    from marksocr.sheets.synth import render_filled

    page = render_filled(a4_template, {"Q1": "5"}, np.random.default_rng(2), digits)
    sim = simulate(page, np.random.default_rng(5), "photo")
    assert sim.image.shape[:2] in ((3200, 2400), (2400, 3200))
    gray = cv2.cvtColor(sim.image, cv2.COLOR_BGR2GRAY)
    found = _detect_markers(gray)
    assert len(found) >= 3
    for mid, corners in found.items():
        fx, fy = a4_template.markers["positions"][str(mid)]
        p = np.array([fx * 2480, fy * 3508, 1.0])
        q = sim.homography @ p
        tolerance = 6 + sim.params["curl_px"]  # a bent page is only approximately a homography
        assert np.linalg.norm(q[:2] / q[2] - corners[0]) < tolerance  # marker corner where the truth says


def test_make_sheet_set_writes_images_and_truth(tmp_path, digits):
    import csv

    from marksocr.sheets.synth import make_sheet_set

    template = resources_dir() / "templates" / "marksocr_a4" / "template.json"
    rows = make_sheet_set(template, tmp_path / "set", 3, style="scan", seed=4, anomaly_rate=0.5, digit_source=digits)
    assert len(rows) == 3
    table = list(csv.DictReader(open(tmp_path / "set" / "truth.csv", encoding="utf-8")))
    records = json.loads((tmp_path / "set" / "truth.json").read_text())
    assert [r["sheet"] for r in table] == [r["sheet"] for r in records] == [p.name for p, _ in rows]
    for (path, record), row in zip(rows, table):
        img = load_image(path)
        assert img.ndim == 2 and min(img.shape) > 1500
        assert row["total"] == record["values"]["total"] and row["roll_no"] == record["values"]["roll_no"]
        assert (row["consistent"] == "yes") == (record["anomaly"] == "")
    again = make_sheet_set(template, tmp_path / "again", 2, style="scan", seed=4, anomaly_rate=0.5,
                           digit_source=digits, workers=2)
    for (p1, r1), (p2, r2) in zip(again, rows):  # deterministic given the seed, in parallel too
        assert r1 == r2 and p1.name == p2.name and p1.read_bytes() == p2.read_bytes()
    other = make_sheet_set(template, tmp_path / "other", 1, style="scan", seed=5, digit_source=digits)
    assert other[0][1]["values"] != rows[0][1]["values"]


# --------------------------------------------------------------------------- foreign layouts

@pytest.mark.parametrize("variant", ["university", "landscape"])
def test_foreign_layout_has_no_markers_and_blank_writing_areas(tmp_path, variant):
    rc = cli_main(["template", "foreign", "--out", str(tmp_path / variant), "--variant", variant])
    assert rc == 0
    t = load_template(tmp_path / variant / "template.json")
    assert t.markers is None and t.reference_image.name == "blank.png"
    page = load_image(t.reference_image)
    assert page.shape[::-1] == t.page_size
    assert _detect_markers(page) == {}
    kinds = {f.kind for f in t.fields}
    assert {"roll_no", "subject_code", "mark", "total"} <= {getattr(k, "value", k) for k in kinds}
    for f in t.fields:
        x0, y0, x1, y1 = _field_px(f, page.shape)
        crop = page[y0:y1, x0:x1]
        if f.cells:
            cw = crop.shape[1] / f.cells
            crop = np.hstack([crop[:, round(i * cw + cw * 0.2):round((i + 1) * cw - cw * 0.2)] for i in range(f.cells)])
        assert crop.min() > 200, f.name  # nothing printed inside a writing area
    # looks nothing like the marksocr sheet (so registration must really use the reference image)
    ours = load_image(resources_dir() / "templates" / "marksocr_a4" / "blank.png")
    if page.shape == ours.shape:
        assert np.mean(np.abs(page.astype(int) - ours.astype(int)) > 60) > 0.02


def test_university_roll_number_is_a_free_underlined_line():
    t = load_template(resources_dir() / "templates" / "foreign_university" / "template.json")
    roll = t.field_named("roll_no")
    assert roll.cells is None and roll.extra.get("digits") == 10 and roll.extra.get("underline") is True
    page = load_image(t.reference_image)
    x0, y0, x1, y1 = _field_px(roll, page.shape)
    below = page[y1:y1 + 20, x0:x1]
    assert (below < 100).mean(axis=1).max() > 0.9  # the printed underline just below the writing area


def test_template_synth_cli_writes_a_set(tmp_path, digits):
    template = resources_dir() / "templates" / "foreign_university" / "template.json"
    rc = cli_main(["template", "synth", "--template", str(template), "--out", str(tmp_path / "s"), "-n", "1",
                   "--style", "hard_photo", "--seed", "3"])
    assert rc == 0
    records = json.loads((tmp_path / "s" / "truth.json").read_text())
    assert len(records) == 1 and records[0]["style"] == "hard_photo"
    assert len(records[0]["values"]["roll_no"]) == 10 and len(records[0]["values"]["subject_code"]) == 6
    img = load_image(tmp_path / "s" / records[0]["sheet"])
    assert sorted(img.shape) == [2400, 3200]
    assert 8 <= records[0]["tilt_deg"] <= 20 and 60 <= records[0]["jpeg_quality"] <= 80


@pytest.mark.parametrize("questions", [1, 14, 15, 30])
def test_writing_areas_stay_large_and_apart(questions):
    from marksocr.sheets.printable import make_spec, render_sheet

    page, template = render_sheet(make_spec(questions=questions, max_marks=[7.5]))
    boxes = [(f["name"], f["box"]) for f in template["fields"]]
    assert [n for n, _ in boxes] == ["roll_no", "subject_code", *[f"Q{i}" for i in range(1, questions + 1)], "total"]
    for name, (x, y, w, h) in boxes:
        assert h * page.shape[0] >= 90, name  # at least ~8 mm tall: teachers write big
        assert 0 < x and x + w < 1 and 0 < y and y + h < 0.93, name  # clear of the bottom markers
    assert overlapping(boxes) == []
