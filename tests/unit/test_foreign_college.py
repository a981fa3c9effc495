"""The held-out ``college`` foreign layout (US Letter, grey print, open ID box, shaded marks rows)."""

from __future__ import annotations

import numpy as np

from marksocr.cli.main import main as cli_main
from marksocr.imaging.io import load_image
from marksocr.sheets.foreign import VARIANTS, render_foreign
from marksocr.template import load_template
from layout_checks import overlapping


def test_college_renders_a_us_letter_grey_page():
    page, template = render_foreign("college")
    assert "college" in VARIANTS
    assert page.dtype == np.uint8 and page.shape == (3300, 2550)  # US Letter at 300 dpi
    assert template["page_size"] == [2550, 3300] and "markers" not in template
    levels, counts = np.unique(page, return_counts=True)
    main = set(levels[counts > 0.01 * page.size].tolist())
    assert 100 in main and 25 in main  # mid-grey print and a few heavy black elements


def test_college_template_validates_and_boxes_are_inside_the_page_and_apart(tmp_path):
    assert cli_main(["template", "foreign", "--out", str(tmp_path), "--variant", "college"]) == 0
    t = load_template(tmp_path / "template.json")
    assert t.markers is None and t.reference_image == (tmp_path / "blank.png").resolve()
    page = load_image(t.reference_image)
    assert page.shape[::-1] == t.page_size == (2550, 3300)
    assert [f.name for f in t.fields] == ["roll_no", "subject_code", *[f"Q{i}" for i in range(1, 9)], "total"]
    roll, code = t.field_named("roll_no"), t.field_named("subject_code")
    assert roll.cells is None and roll.extra.get("digits") == 9 and not roll.extra.get("underline")
    assert code.cells == 7
    assert [f.max for f in t.mark_fields] == [5, 5, 10, 10, 10, 15, 20, 25] and sum(f.max for f in t.mark_fields) == 100
    margin = 150 / 2550  # half an inch
    for f in t.fields:
        x, y, w, h = f.box
        assert margin <= x and x + w <= 1 - margin and margin <= y and y + h <= 1 - 150 / 3300, f.name
        assert h * 3300 >= 100, f.name  # room to write
    boxes = [(f.name, f.box) for f in t.fields]
    assert overlapping(boxes) == []


def test_college_writing_areas_are_clear_and_marks_cells_shaded():
    page, template = render_foreign("college")
    hp, wp = page.shape
    shades = []
    for f in template["fields"]:
        x, y, w, h = f["box"]
        crop = page[round(y * hp):round((y + h) * hp), round(x * wp):round((x + w) * wp)]
        if f.get("cells"):  # the dashed separators are printed inside the comb: look between them
            cw = crop.shape[1] / f["cells"]
            crop = np.hstack([crop[:, round(i * cw + cw * 0.2):round((i + 1) * cw - cw * 0.2)]
                              for i in range(f["cells"])])
        assert crop.min() > 200, f["name"]  # nothing printed in a writing area
        if f["kind"] == "mark":
            shades.append(int(np.median(crop)))
    assert all(220 <= s <= 240 for s in shades), shades  # light grey background to write on
    assert len(set(shades[0::2])) == 1 and len(set(shades[1::2])) == 1 and shades[0] != shades[1]  # alternate rows
