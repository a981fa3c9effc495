"""Refused edits, session restore on reopening, settings and roster dialogs."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from gui_helpers import scan_and_wait

pytestmark = pytest.mark.gui


def _open_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_a_mark_above_its_maximum_is_refused_and_the_field_stays_open(qtbot, window, sheet_set):
    sheet_dir, _truth = sheet_set
    scan_and_wait(qtbot, window, [sorted(sheet_dir.glob("sheet_*"))[0]])
    review, db = window.review, window.state.database
    for _ in range(len(review.sheet.fields)):
        if review.current_field().kind == "mark":
            break
        qtbot.keyClick(review.edit, Qt.Key.Key_Tab)
    field = review.current_field()
    assert field.kind == "mark"
    review.edit.selectAll()
    qtbot.keyClicks(review.edit, "99")
    qtbot.keyClick(review.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any("maximum" in b.text() for b in _open_boxes()), timeout=10_000)
    qtbot.waitUntil(lambda: review.current_field_name() == field.name, timeout=10_000)  # back on it
    assert db.get_sheet(review.sheet.id).get_field(field.name).corrected_value is None
    assert field.name in review.doubtful_left() or not field.is_doubtful(window.state.threshold)
    for box in _open_boxes():
        box.close()


def test_reopening_the_window_restores_the_session(qtbot, window, sheet_set, db_url):
    from marksocr.gui.main_window import MainWindow

    sheet_dir, _truth = sheet_set
    scan_and_wait(qtbot, window, [sheet_dir])
    review = window.review
    field = review.current_field()
    review.edit.selectAll()
    qtbot.keyClicks(review.edit, "1" if field.text != "1" else "2")
    qtbot.keyClick(review.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)
    labels = sorted(r.label for r in window.sheets.records())
    window.close()

    again = MainWindow(db_url=db_url)
    qtbot.addWidget(again)
    again.show()
    again.start_background_loading()  # no model needed to review what is stored
    qtbot.waitUntil(lambda: len(again.sheets.records()) == len(labels), timeout=30_000)
    assert sorted(r.label for r in again.sheets.records()) == labels
    qtbot.waitUntil(lambda: again.review.sheet is not None and again.review.current_field() is not None,
                    timeout=30_000)
    stored = again.state.database.get_sheet(review.sheet.id).get_field(field.name)
    assert stored.corrected_value in ("1", "2")
    again.controller.wait()
    again.state.close()


def test_settings_dialog_saves_the_settings_file(qtbot, tmp_path):
    from marksocr.gui.settings_dialog import SettingsDialog
    from marksocr.settings import Settings, load_settings

    path = tmp_path / "settings.json"
    dialog = SettingsDialog(Settings(operator="tester"), path=path)
    qtbot.addWidget(dialog)
    dialog.threshold.setValue(0.75)
    dialog.db.set_text(str(tmp_path / "class.sqlite3"))
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    saved = load_settings(path, apply_env=False)
    assert saved.threshold == pytest.approx(0.75)
    assert saved.db_url == str(tmp_path / "class.sqlite3")
    assert json.loads(path.read_text())["threshold"] == pytest.approx(0.75)


def test_saving_the_settings_for_another_reason_keeps_the_default_threshold(qtbot, tmp_path):
    from marksocr.gui.settings_dialog import SettingsDialog
    from marksocr.settings import DEFAULT_THRESHOLD, Settings, load_settings

    path = tmp_path / "settings.json"
    dialog = SettingsDialog(Settings(), path=path)
    qtbot.addWidget(dialog)
    dialog.operator.setText("R. Iyer")
    dialog.accept()
    saved = load_settings(path, apply_env=False)
    assert saved.operator == "R. Iyer"
    assert saved.threshold == DEFAULT_THRESHOLD


def test_roster_import_reports_what_it_did(qtbot, window, tmp_path):
    from marksocr.gui.roster_import import RosterImporter

    roster = tmp_path / "roster.csv"
    roster.write_text("roll_no,name,subject_code\n11111111,Asha,23842\n22222222,Ravi,23842\n,Nobody,\n")
    importer = RosterImporter(window.state, window)
    with qtbot.waitSignal(importer.imported, timeout=10_000) as blocker:
        importer.import_file(roster)
    assert blocker.args[0].added == 2
    assert [s.roll_no for s in window.state.database.list_students()] == ["11111111", "22222222"]
    box = window.findChild(QMessageBox, "rosterResult")
    assert box is not None and "2 student(s) added" in box.text() and "no roll number" in box.text()
    box.close()


def test_a_value_typed_then_left_with_tab_is_saved(qtbot, window, sheet_set):
    sheet_dir, _truth = sheet_set
    scan_and_wait(qtbot, window, [sorted(sheet_dir.glob("sheet_*"))[0]])
    review, db = window.review, window.state.database
    field = review.current_field()
    value = "1" if field.value != "1" else "2"
    review.edit.selectAll()
    qtbot.keyClicks(review.edit, value)
    qtbot.keyClick(review.edit, Qt.Key.Key_Tab)
    assert review.current_field_name() != field.name
    qtbot.waitUntil(lambda: db.get_sheet(review.sheet.id).get_field(field.name).corrected_value == value,
                    timeout=10_000)
    qtbot.keyClick(review.edit, Qt.Key.Key_Backtab)  # back: nothing typed, nothing written
    assert review.current_field_name() == field.name
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)
    assert [e.action for e in db.history(review.sheet.id)].count("correct") == 1


def test_sheets_that_could_not_be_read_say_why_and_show_the_photo(qtbot, window, tmp_path):
    import numpy as np
    from PIL import Image

    from marksocr.domain import SheetStatus
    from gui_helpers import TEMPLATE

    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.jpg").write_text("not an image")
    Image.fromarray(np.full((400, 300), 255, np.uint8)).save(folder / "blank.png")
    assert window.menus.scan([str(folder)], TEMPLATE)
    qtbot.waitUntil(lambda: window.scanner.last_summary is not None, timeout=60_000)
    assert len(window.scanner.last_summary.failures) == 2
    qtbot.waitUntil(lambda: len(window.sheets.records()) == 2, timeout=10_000)
    assert {r.status for r in window.sheets.records()} == {SheetStatus.FAILED}
    window.sheet_panel.select_sheet(next(r.id for r in window.sheets.records() if r.label == "blank.png"))
    qtbot.waitUntil(lambda: window.review.sheet is not None and window.review.sheet.label == "blank.png",
                    timeout=10_000)
    assert "could not be read" in window.review.title.text()
    assert not window.review.sheet_button.isEnabled() and not window.review.edit.isEnabled()
    assert window.viewer.has_page()  # the photo itself is shown
    assert window.statusBar().currentMessage().endswith("2 could not be read")


def test_window_geometry_is_remembered(qtbot, tmp_path):
    from marksocr.gui.main_window import MainWindow

    first = MainWindow(db_url="sqlite://")
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 520)  # the offscreen screen is 800 x 600
    qtbot.waitUntil(lambda: first.height() == 520, timeout=5_000)
    size = (first.width(), first.height())  # the docks' minimum widths may have widened it
    first.close()
    second = MainWindow(db_url="sqlite://")
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size
