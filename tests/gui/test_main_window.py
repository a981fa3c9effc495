"""The main window driven as a teacher would: open sheets, review with the keyboard, export."""

from __future__ import annotations

import csv
import json

import pytest
from PySide6.QtCore import Qt

from marksocr.domain import ModelError, SheetStatus
from gui_helpers import TEMPLATE, scan_and_wait, truth_values

pytestmark = pytest.mark.gui


def test_window_opens_offscreen_and_shows_shortcuts(qtbot, tmp_path, monkeypatch):
    from marksocr.gui.main_window import MainWindow

    win = MainWindow(db_url=f"sqlite:///{tmp_path / 'm.sqlite3'}")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.isVisible()
    assert "Loading the digit model" in win.status.model_label.text()
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles[:2] == ["File", "Review"]
    actions = win.menus.actions
    assert actions["open_images"].shortcut().toString() == "Ctrl+O"
    assert "(Ctrl+O)" in actions["open_images"].toolTip()
    assert "(F2)" in actions["suggestion"].toolTip()
    assert "Ctrl+Return" in actions["confirm_sheet"].toolTip()


def test_open_generated_sheet_shows_readings(qtbot, window, sheet_set):
    sheet_dir, _truth = sheet_set
    image = sorted(sheet_dir.glob("sheet_*"))[0]
    scan_and_wait(qtbot, window, [image])

    records = window.sheets.records()
    assert [r.label for r in records] == [image.name]
    sheet = window.review.sheet
    assert sheet.status in (SheetStatus.AUTO, SheetStatus.NEEDS_REVIEW)
    template_fields = [f["name"] for f in json.loads(TEMPLATE.read_text())["fields"]]
    assert [f.name for f in sheet.fields] == template_fields
    assert sorted(window.viewer.field_names()) == sorted(template_fields)  # every box drawn
    current = window.review.current_field()
    assert window.review.edit.text() == current.value
    # doubtful fields come first, lowest confidence first
    doubtful = [f for f in sheet.fields if f.is_doubtful(window.state.threshold)]
    if doubtful:
        assert current.name == min(doubtful, key=lambda f: f.confidence).name
        assert window.viewer.selected_field() == current.name
    qtbot.waitUntil(lambda: window.sheets.has_thumbnail(sheet.id), timeout=10_000)


def _type_value(qtbot, edit, value: str) -> None:
    edit.selectAll()
    if value:
        qtbot.keyClicks(edit, value)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)


def test_keyboard_correction_is_stored_with_audit_entry_and_undone(qtbot, window, sheet_set):
    sheet_dir, _truth = sheet_set
    image = sorted(sheet_dir.glob("sheet_*"))[0]
    scan_and_wait(qtbot, window, [image])
    review, db = window.review, window.state.database
    field = review.current_field()
    new_value = "1" if field.text != "1" else "2"   # valid for every kind, and a real change

    _type_value(qtbot, review.edit, new_value)
    assert review.edit.text() == new_value
    qtbot.keyClick(review.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: db.get_sheet(review.sheet.id).get_field(field.name).corrected_value == new_value,
                    timeout=10_000)
    entry = db.history(review.sheet.id)[0]
    assert (entry.action, entry.field_name, entry.old_value, entry.new_value, entry.user) == \
        ("correct", field.name, field.text, new_value, "tester")
    assert review.current_field_name() != field.name or len(review.doubtful_left()) == 0  # moved on

    qtbot.keyClick(review.edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: db.get_sheet(review.sheet.id).get_field(field.name).corrected_value is None,
                    timeout=10_000)
    assert db.history(review.sheet.id)[0].action == "undo"
    qtbot.waitUntil(lambda: review.current_field_name() == field.name, timeout=10_000)


def _review_whole_sheet(qtbot, window, values: dict[str, str]) -> None:
    """Type the true value of every field with the keyboard, as a teacher would."""
    review, ctrl = window.review, window.controller
    # Enter walks the doubtful fields...
    for _ in range(len(review.sheet.fields) + 1):
        if not review.doubtful_left():
            break
        _type_value(qtbot, review.edit, values[review.current_field_name()])
        qtbot.keyClick(review.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not ctrl.busy, timeout=10_000)
    assert review.doubtful_left() == []
    # ...and Tab reaches the confident ones the model still got wrong.
    for name, truth in values.items():
        if review.sheet.get_field(name).value == truth:
            continue
        for _ in range(len(review.sheet.fields)):
            if review.current_field_name() == name:
                break
            qtbot.keyClick(review.edit, Qt.Key.Key_Tab)
        assert review.current_field_name() == name
        _type_value(qtbot, review.edit, truth)
        qtbot.keyClick(review.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not ctrl.busy, timeout=10_000)


def test_confirm_sheets_and_export_expected_csv(qtbot, window, sheet_set, tmp_path):
    from marksocr.gui.export_dialog import ExportDialog

    sheet_dir, _truth = sheet_set
    truth = truth_values(sheet_dir)
    scan_and_wait(qtbot, window, [sheet_dir])
    db = window.state.database
    assert len(window.sheets.records()) == len(truth)
    for _ in range(len(truth)):
        sheet = window.review.sheet
        _review_whole_sheet(qtbot, window, truth[sheet.label])
        qtbot.keyClick(window.review.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda s=sheet.id: db.get_sheet(s).status == SheetStatus.VERIFIED, timeout=10_000)
        if len({r.id for r in db.list_sheets(status=SheetStatus.VERIFIED)}) < len(truth):
            qtbot.waitUntil(lambda s=sheet.id: window.review.sheet.id != s, timeout=10_000)  # next sheet opened
    assert all(r.status == SheetStatus.VERIFIED for r in db.list_sheets())

    dialog = ExportDialog(window.state, [], window)
    qtbot.addWidget(dialog)
    out = tmp_path / "marks.csv"
    dialog.target.set_text(out)
    dialog.verified_only.setChecked(True)
    with qtbot.waitSignal(dialog.exported, timeout=10_000) as blocker:
        dialog.export()
    report = blocker.args[0]
    assert report.rows == len(truth)
    assert "sheet(s) exported" in dialog.report.toPlainText()

    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["sheet"] for r in rows} == set(truth)
    for row in rows:
        expected = truth[row["sheet"]]
        assert {k: row[k] for k in expected} == expected
        assert row["status"] == "verified"


def test_progress_bar_shows_while_reading_and_cancel_stops_the_batch(qtbot, window, sheet_set):
    sheet_dir, _truth = sheet_set
    progress = window.status.progress
    assert not progress.isVisible()
    assert window.menus.scan([str(sheet_dir)], TEMPLATE)
    assert progress.isVisible()
    qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)  # before the first page is read
    qtbot.waitUntil(lambda: window.scanner.last_summary is not None, timeout=60_000)
    summary = window.scanner.last_summary
    assert summary.cancelled and summary.pages < len(list(sheet_dir.glob("sheet_*")))
    assert not progress.isVisible()
    assert window.statusBar().currentMessage().startswith("Cancelled")


def test_opening_photos_without_a_model_says_why(qtbot, tmp_path, sheet_set):
    from marksocr.gui.main_window import MainWindow

    win = MainWindow(db_url=f"sqlite:///{tmp_path / 'm.sqlite3'}")
    qtbot.addWidget(win)
    win.show()
    def missing_model():
        raise ModelError("models/digits.keras not found")

    with qtbot.waitSignal(win.state.classifier_failed, timeout=30_000):
        win.state.load_classifier_in_background(loader=missing_model)
    assert "Reading unavailable" in win.status.model_label.text()
    with qtbot.waitSignal(win.scanner.failed, timeout=5_000) as blocker:
        assert not win.menus.scan([str(sheet_set[0])], TEMPLATE)
    assert "digit model did not load" in str(blocker.args[0])
    assert not win.status.progress.isVisible()


def test_photos_dropped_on_the_window_are_read(qtbot, window, sheet_set):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    sheet_dir, _truth = sheet_set
    image = sorted(sheet_dir.glob("sheet_*"))[1]
    window.menus.template_path = TEMPLATE
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    enter = QDragEnterEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)  # (Qt only routes a Drop to the widget a real drag entered)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: window.review.sheet is not None and window.review.sheet.label == image.name,
                    timeout=60_000)


def test_a_sheet_scanned_by_mistake_is_deleted_after_asking(qtbot, window, sheet_set, monkeypatch):
    """Review > Delete sheet asks first; Cancel keeps the sheet, Yes removes it from the database
    and the list (logged with the operator), and the other sheet comes up for review."""
    from PySide6.QtWidgets import QMessageBox

    sheet_dir, _truth = sheet_set
    images = sorted(sheet_dir.glob("sheet_*"))[:2]
    scan_and_wait(qtbot, window, images)
    qtbot.waitUntil(lambda: len(window.sheets.records()) == 2, timeout=30_000)
    db, doomed = window.state.database, window.review.sheet
    asked: list[str] = []

    def answer(button):
        def ask(_parent, _title, text, *_args):
            asked.append(text)
            return button
        return ask

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    window.menus.actions["delete_sheet"].trigger()
    assert doomed.label in asked[0] and "cannot be undone" in asked[0]
    assert window.review.sheet.id == doomed.id and len(db.list_sheets()) == 2

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    window.menus.actions["delete_sheet"].trigger()
    qtbot.waitUntil(lambda: [r.id for r in window.sheets.records()] == [s.id for s in db.list_sheets()]
                    and len(db.list_sheets()) == 1, timeout=30_000)
    assert doomed.id not in [s.id for s in db.list_sheets()]
    entry = db.history()[0]
    assert (entry.action, entry.user) == ("delete", "tester") and doomed.label in entry.old_value
    qtbot.waitUntil(lambda: window.review.sheet is not None and window.review.sheet.id != doomed.id,
                    timeout=30_000)


def test_change_history_lists_who_changed_what_and_opens_the_sheet(qtbot, window, sheet_set):
    """Review > Sheet history shows the sheet's own log (a correction with before and after, by the
    operator); Tools > Change history shows every sheet's; double-clicking a row opens its sheet."""
    sheet_dir, _truth = sheet_set
    images = sorted(sheet_dir.glob("sheet_*"))[:2]
    scan_and_wait(qtbot, window, images)
    qtbot.waitUntil(lambda: len(window.sheets.records()) == 2, timeout=30_000)
    review, db = window.review, window.state.database
    corrected, field = review.sheet, review.current_field()
    new_value = "1" if field.text != "1" else "2"
    _type_value(qtbot, review.edit, new_value)
    qtbot.keyClick(review.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: db.history(corrected.id)[0].action == "correct", timeout=10_000)

    window.menus.actions["sheet_history"].trigger()
    dialog = window.menus._dialogs["history"]

    def listed(entries) -> bool:  # the answer of the latest refresh is shown (hooks may start more)
        return "newest first" in dialog.summary.text() and dialog.table.rowCount() == len(entries)

    qtbot.waitUntil(lambda: listed(db.history(corrected.id)), timeout=10_000)
    assert dialog.only_sheet.isChecked() and corrected.label in dialog.only_sheet.text()
    rows = [[dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
            for r in range(dialog.table.rowCount())]
    assert rows[0][1:] == ["tester", "corrected", corrected.label, field.name, field.text, new_value]
    assert {r[3] for r in rows} == {corrected.label}  # this sheet's entries only

    dialog.only_sheet.setChecked(False)  # every sheet's log
    qtbot.waitUntil(lambda: listed(db.history()), timeout=10_000)
    other = next(s for s in db.list_sheets() if s.id != corrected.id)
    row = next(r for r, e in enumerate(dialog.entries) if e.sheet_id == other.id)
    assert dialog.table.item(row, 3).text() == other.label
    dialog.table.cellDoubleClicked.emit(row, 0)
    qtbot.waitUntil(lambda: review.sheet is not None and review.sheet.id == other.id, timeout=30_000)

    # the open log follows the operator: the sheet now on screen, and each change as it is saved
    assert other.label in dialog.only_sheet.text()
    dialog.only_sheet.setChecked(True)
    qtbot.waitUntil(lambda: {e.sheet_id for e in dialog.entries} == {other.id}, timeout=10_000)
    field = review.current_field()
    _type_value(qtbot, review.edit, "1" if field.text != "1" else "2")
    qtbot.keyClick(review.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.entries and dialog.entries[0].action == "correct"
                    and dialog.table.item(0, 4).text() == field.name, timeout=10_000)

    window.menus.actions["history"].trigger()  # Tools > Change history: the same window, unfiltered
    assert not dialog.only_sheet.isChecked() and dialog.isVisible()


def test_open_change_history_follows_a_batch_scan(qtbot, window, sheet_set, tmp_path):
    """An open Change history lists each sheet a batch stores, without pressing Refresh."""
    import cv2

    sheet_dir, _truth = sheet_set
    first, other = sorted(sheet_dir.glob("sheet_*"))[:2]
    batch = [other]
    for i, src in enumerate((first, other)):  # two more photos: the same sheets, one pixel changed
        img = cv2.imread(str(src))
        img[0, 0] = 255 - img[0, 0]
        batch.append(tmp_path / f"again_{i}.png")
        cv2.imwrite(str(batch[-1]), img)
    scan_and_wait(qtbot, window, [first])
    window.menus.actions["history"].trigger()
    dialog = window.menus._dialogs["history"]
    qtbot.waitUntil(lambda: "newest first" in dialog.summary.text(), timeout=10_000)
    assert len({e.sheet_id for e in dialog.entries}) == 1
    db = window.state.database
    assert window.menus.scan([str(p) for p in batch], TEMPLATE)  # the dialog stays open while the batch runs
    qtbot.waitUntil(lambda: len(db.list_sheets()) == 4, timeout=120_000)
    scanned = {s.id for s in db.list_sheets()}
    qtbot.waitUntil(lambda: {e.sheet_id for e in dialog.entries if e.action == "scan"} == scanned, timeout=10_000)
    labels = {dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())}
    assert {p.name for p in batch} <= labels


def test_a_blurred_photo_is_named_for_a_retake_when_the_scan_ends(qtbot, window, sheet_set, tmp_path):
    import cv2

    sheet_dir, _truth = sheet_set
    photo = cv2.imread(str(sorted(sheet_dir.glob("sheet_*"))[0]))
    cv2.imwrite(str(tmp_path / "shaken.png"), cv2.GaussianBlur(photo, (0, 0), 8))
    scan_and_wait(qtbot, window, [tmp_path / "shaken.png"])
    assert window.scanner.last_summary.retake == ("shaken.png",)
    assert "too blurred, retake: shaken.png" in window.statusBar().currentMessage()
    assert any(r.startswith("photo too blurred") for r in window.review.sheet.reasons)


def test_the_status_line_says_which_lengths_a_scan_gave_free_written_ids():
    from marksocr.gui.scan_controller import summary_text
    from marksocr.pipeline.batch import ScanSummary

    summary = ScanSummary(files=6, pages=6, saved=6, counts={"needs_review": 6},
                          lengths="roll_no 10 digits (as on most sheets read with this template)")
    assert summary_text(summary).endswith("; read with roll_no 10 digits (as on most sheets read with this template)")
    assert "read with" not in summary_text(ScanSummary(files=1, pages=1, saved=1))
