"""The held-out ``bluebook`` foreign layout (A4, blue and red print seen in gray, underline, tick comb, marks rows)."""

from __future__ import annotations

import numpy as np

from marksocr.cli.main import main as cli_main
from marksocr.imaging.io import load_image
from marksocr.sheets.foreign import VARIANTS, render_foreign
from marksocr.template import load_template
from layout_checks import overlapping

_MAX = [10, 10, 15, 15, 10, 10, 15, 15]


def _crop(page: np.ndarray, box: list[float]) -> np.ndarray:
    hp, wp = page.shape
    x, y, w, h = box
    return page[round(y * hp):round((y + h) * hp), round(x * wp):round((x + w) * wp)]


def test_bluebook_renders_an_a4_page_of_blue_print_on_off_white_paper():
    page, template = render_foreign("bluebook")
    assert "bluebook" in VARIANTS
    assert page.dtype == np.uint8 and page.ndim == 2 and page.shape == (3508, 2480)  # A4 at 300 dpi, gray
    assert template["page_size"] == [2480, 3508] and "markers" not in template
    levels, counts = np.unique(page, return_counts=True)
    main = set(levels[counts > 0.001 * page.size].tolist())
    assert {243, 57, 82, 228} <= main  # paper, dark blue print, the red heading, the tinted table columns
    assert page.max() == 243  # off-white: nothing is printed white


def test_bluebook_template_validates_and_boxes_are_inside_the_page_and_apart(tmp_path):
    assert cli_main(["template", "foreign", "--out", str(tmp_path), "--variant", "bluebook"]) == 0
    t = load_template(tmp_path / "template.json")
    assert t.markers is None and t.reference_image == (tmp_path / "blank.png").resolve()
    assert load_image(t.reference_image).shape[::-1] == t.page_size == (2480, 3508)
    assert [f.name for f in t.fields] == ["roll_no", "subject_code", *[f"Q{i}" for i in range(1, 9)], "total"]
    roll, code = t.field_named("roll_no"), t.field_named("subject_code")
    assert roll.cells is None and roll.extra.get("digits") == 10 and roll.extra.get("underline") is True
    assert code.cells == 6
    assert [f.max for f in t.mark_fields] == _MAX and sum(f.max for f in t.mark_fields) == 100
    for f in t.fields:
        x, y, w, h = f.box
        assert 150 / 2480 <= x and x + w <= 1 - 150 / 2480 and 150 / 3508 <= y and y + h <= 1 - 150 / 3508, f.name
        assert h * 3508 >= 100, f.name  # room to write
    marks = [t.field_named(f"Q{i}") for i in range(1, 9)] + [t.field_named("total")]
    assert len({round(f.box[0], 3) for f in marks}) <= 2 and all(a.box[1] < b.box[1] for a, b in zip(marks, marks[1:]))
    boxes = [(f.name, f.box) for f in t.fields]
    assert overlapping(boxes) == []


def test_bluebook_writing_areas_are_clear_roll_on_a_line_and_code_between_ticks():
    page, template = render_foreign("bluebook")
    hp, wp = page.shape
    for f in template["fields"]:
        crop = _crop(page, f["box"])
        if f.get("cells"):  # the ticks rise inside the comb: look between them
            cw = crop.shape[1] / f["cells"]
            crop = np.hstack([crop[:, round(i * cw + cw * 0.2):round((i + 1) * cw - cw * 0.2)]
                              for i in range(f["cells"])])
        assert crop.min() > 200, f["name"]  # nothing printed in a writing area
        if f["kind"] == "mark":
            assert int(np.median(crop)) == 243, f["name"]  # plain paper, unlike the tinted printed columns
    x, y, w, h = template["fields"][0]["box"]  # roll number: a printed line just below the box, none above it
    below = page[round((y + h) * hp):round((y + h) * hp) + 20, round((x + w / 2) * wp)]
    assert below.min() < 100
    assert page[round(y * hp) - 60:round(y * hp), round(x * wp):round((x + w) * wp)].min() > 200
    x, y, w, h = template["fields"][1]["box"]  # subject code: ticks low inside the box, a baseline under it
    bottom_row = page[round((y + h) * hp) - 5, round(x * wp):round((x + w) * wp)]
    assert 4 <= int(np.sum(np.diff((bottom_row < 128).astype(int)) == 1)) <= 6  # the inner ticks (5)
    assert page[round(y * hp) + 10, round(x * wp):round((x + w) * wp)].min() > 200  # no frame on top
