"""The page viewer: boxes coloured by confidence, doubtful digits marked, zoom and pan."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from marksocr.storage.records import DigitRecord, FieldRecord

pytestmark = pytest.mark.gui


def _field(name: str, conf: float, **kw) -> FieldRecord:
    digit = DigitRecord("7", conf, (20, 10, 30, 40))
    return FieldRecord(id=1, sheet_id=1, position=0, name=name, kind="mark", text="7", confidence=conf,
                       digits=(digit,), box=(100, 100, 200, 60), **kw)


FIELDS = [
    _field("sure", 0.99),
    _field("unsure", 0.7),
    _field("wrong", 0.3, reasons=("wrong = 17 > max 10",)),
    _field("checked", 0.3, corrected_value="7"),
    _field("added", 0.6, sum_backed=True),
]


def _viewer_and_blank_page(qtbot, view: tuple[int, int], page_size: tuple[int, int]):
    """A shown PageViewer of ``view`` size and a white page image of ``page_size``."""
    from marksocr.gui.page_viewer import PageViewer

    viewer = PageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(*view)
    viewer.show()
    page = QImage(*page_size, QImage.Format.Format_Grayscale8)
    page.fill(Qt.GlobalColor.white)
    return viewer, page


def test_boxes_are_coloured_by_confidence_and_doubtful_digits_marked(qtbot):
    from marksocr.gui.page_layout import PageLayout
    from marksocr.gui.page_viewer import CHECKED, CONFIDENT, DOUBTFUL, VERY_DOUBTFUL

    viewer, page = _viewer_and_blank_page(qtbot, (600, 800), (1000, 1400))
    boxes = {f.name: (0.1, 0.1 + 0.1 * i, 0.5, 0.05) for i, f in enumerate(FIELDS)}
    viewer.show_page(page, FIELDS, 0.9, PageLayout(boxes, {f.name: (400, 120) for f in FIELDS}))
    assert viewer.has_page() and sorted(viewer.field_names()) == sorted(boxes)
    colours = {n: viewer.field_box_colour(n).name() for n in boxes}
    assert colours == {"sure": CONFIDENT.name(), "unsure": DOUBTFUL.name(), "wrong": VERY_DOUBTFUL.name(),
                       "checked": CHECKED.name(), "added": CONFIDENT.name()}
    # Doubtful digits get their own mark; the crop (400 px wide for a 200 px box) is scaled back.
    marks = {n: viewer.digit_marks(n) for n in boxes}
    assert [len(marks[n]) for n in ("sure", "unsure", "wrong", "checked", "added")] == [0, 1, 1, 0, 0]
    assert marks["unsure"][0].getRect() == pytest.approx((110, 105, 15, 20))


def test_zoom_and_fit(qtbot):
    viewer, page = _viewer_and_blank_page(qtbot, (500, 700), (1240, 1754))
    viewer.show_page(page, [], 0.9)
    fitted = viewer.zoom_factor()
    assert fitted < 0.5  # the whole page fits in the small view
    viewer.zoom_in()
    assert viewer.zoom_factor() == pytest.approx(fitted * 1.25)
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.zoom_factor() == pytest.approx(fitted / 1.25)
    viewer.fit()
    assert viewer.zoom_factor() == pytest.approx(fitted)
    assert viewer.dragMode() == viewer.DragMode.ScrollHandDrag  # drag to pan
