"""The template editor: boxes drawn with the mouse become a valid template file."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from marksocr.domain import FieldKind
from gui_helpers import TEMPLATE

pytestmark = pytest.mark.gui


def _drag(view, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """Press at ``start``, move to ``end`` with the button held, release (viewport coordinates)."""
    vp = view.viewport()

    def send(kind, pos: QPoint, button, buttons) -> None:
        p = QPointF(pos)
        QApplication.sendEvent(vp, QMouseEvent(kind, p, vp.mapToGlobal(p), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))

    left = Qt.MouseButton.LeftButton
    send(QMouseEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        send(QMouseEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
    send(QMouseEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton)


def _page_point(view, fx: float, fy: float) -> QPoint:
    page = view.scene().page
    return view.mapFromScene(QPointF(page.width() * fx, page.height() * fy))


@pytest.fixture
def editor(qtbot, tmp_path):
    from marksocr.gui.template_editor import TemplateEditor

    blank = tmp_path / "blank.png"
    shutil.copy(TEMPLATE.parent / "blank.png", blank)
    ed = TemplateEditor()
    qtbot.addWidget(ed)
    ed.resize(1200, 900)
    ed.show()
    with qtbot.waitSignal(ed.loaded, timeout=20_000):
        ed.load_image(blank)
    return ed


def test_boxes_drawn_with_the_mouse_save_a_valid_template(qtbot, editor, tmp_path):
    from marksocr.template import load_template

    view = editor.canvas
    _drag(view, _page_point(view, 0.30, 0.14), _page_point(view, 0.70, 0.18))
    assert len(editor.scene.boxes()) == 1
    form = editor.form
    form.name.setText("roll")
    form.name.textEdited.emit("roll")
    form.kind.setCurrentText("roll_no")
    form.cells.setValue(8)

    _drag(view, _page_point(view, 0.50, 0.40), _page_point(view, 0.80, 0.44))
    assert len(editor.scene.boxes()) == 2
    assert form.box is not None and form.box.props.name == "Q1"  # a new box gets a fresh name
    form.max.setValue(15)
    editor.template_name.setText("Drawn in the editor")

    out = tmp_path / "drawn.json"
    with qtbot.waitSignal(editor.saved, timeout=5_000):
        assert editor.save_to(out)
    template = load_template(out)  # validates schema, boxes, reference image
    assert template.name == "Drawn in the editor"
    assert template.reference_image == (tmp_path / "blank.png").resolve()
    roll, q1 = template.fields
    assert (roll.name, roll.kind, roll.cells) == ("roll", FieldKind.ROLL_NO, 8)
    assert (q1.name, q1.kind, q1.max) == ("Q1", FieldKind.MARK, 15.0)
    assert roll.box == pytest.approx((0.30, 0.14, 0.40, 0.04), abs=0.01)
    assert q1.box == pytest.approx((0.50, 0.40, 0.30, 0.04), abs=0.01)


def test_a_box_is_moved_and_resized_by_dragging(qtbot, editor):
    view = editor.canvas
    _drag(view, _page_point(view, 0.20, 0.50), _page_point(view, 0.40, 0.55))
    (box,) = editor.scene.boxes()
    before = box.scene_rect()
    _drag(view, _page_point(view, 0.30, 0.525), _page_point(view, 0.35, 0.625))  # grab the middle: move
    moved = box.scene_rect()
    assert moved.size() == before.size()
    assert moved.left() > before.left() and moved.top() > before.top()
    right_edge = view.mapFromScene(QPointF(moved.right() - 1, moved.center().y()))
    _drag(view, right_edge, right_edge + QPoint(60, 0))  # grab the right edge: resize
    assert box.scene_rect().width() > moved.width()
    assert box.scene_rect().left() == pytest.approx(moved.left())


def test_duplicate_names_are_refused_with_a_readable_error(qtbot, editor, tmp_path):
    view = editor.canvas
    _drag(view, _page_point(view, 0.2, 0.2), _page_point(view, 0.4, 0.25))
    _drag(view, _page_point(view, 0.2, 0.3), _page_point(view, 0.4, 0.35))
    editor.form.name.setText("Q1")
    editor.form.name.textEdited.emit("Q1")
    out = tmp_path / "dup.json"
    assert not editor.save_to(out)
    assert not out.exists()
    box = QApplication.activeModalWidget() or editor.findChild(object, "errorDialog")
    assert box is not None and "already used" in box.text()
    box.close()


def test_printable_sheet_is_generated_and_opened(qtbot, editor, tmp_path):
    from marksocr.sheets.printable import make_spec

    with qtbot.waitSignal(editor.loaded, timeout=60_000):
        editor.generate_printable(tmp_path / "printed", make_spec("Printed", 4, [10, 10, 5, 5]))
    names = [b.props.name for b in editor.scene.boxes()]
    assert {"Q1", "Q2", "Q3", "Q4", "total"} <= set(names)
    assert (tmp_path / "printed" / "blank.pdf").is_file()
    out = tmp_path / "printed" / "edited.json"
    assert editor.save_to(out)
    from marksocr.template import load_template

    assert load_template(out).markers is not None  # the printed sheet's markers survive editing


def test_a_free_roll_number_keeps_its_digit_count_and_unknown_keys_through_editing(qtbot, editor, tmp_path):
    import json

    from marksocr.paths import resources_dir
    from marksocr.pipeline.checks import expected_digits
    from marksocr.template import load_template

    layout = resources_dir() / "templates" / "foreign_university"
    raw = json.loads((layout / "template.json").read_text())
    roll = next(f for f in raw["fields"] if f["name"] == "roll_no")
    roll["underline"] = True  # a key the editor knows nothing of
    subject = next(f for f in raw["fields"] if f["name"] == "subject_code")
    subject.pop("digits")
    shutil.copy(layout / raw["reference_image"], tmp_path / raw["reference_image"])
    src = tmp_path / "university.json"
    src.write_text(json.dumps(raw))
    with qtbot.waitSignal(editor.loaded, timeout=20_000):
        editor.load_template_file(src)
    boxes = {b.props.name: b for b in editor.scene.boxes()}
    editor._select_box(boxes["subject_code"])
    assert editor.form.digits.isEnabled() and editor.form.digits.value() == 0  # "not fixed"
    editor.form.digits.setValue(6)
    editor._select_box(boxes["Q1"])
    assert not editor.form.digits.isEnabled()  # a mark's length comes from its maximum
    assert any("subject_code (subject_code, 6 digits)" == editor.field_list.item(i).text()
               for i in range(editor.field_list.count()))
    out = tmp_path / "edited.json"
    assert editor.save_to(out)
    saved = load_template(out)
    assert expected_digits(saved.field_named("roll_no")) == 10 and saved.field_named("roll_no").extra["underline"] is True
    assert expected_digits(saved.field_named("subject_code")) == 6
