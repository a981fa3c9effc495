"""Desktop manners of the application: errors as dialogs, Qt messages in the log, About box."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import qInstallMessageHandler, qWarning
from PySide6.QtWidgets import QApplication, QMessageBox

from marksocr.domain import TemplateError

pytestmark = pytest.mark.gui


def _visible_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


@pytest.mark.parametrize("exc, title, text", [
    (TemplateError("T.json: fields[2]: missing key 'box'"), "marksocr", "T.json: fields[2]: missing key 'box'"),
    (ZeroDivisionError("division by zero"), "Unexpected error", "ZeroDivisionError: division by zero"),
])
def test_unhandled_errors_become_a_readable_dialog_and_a_log_entry(qtbot, monkeypatch, caplog, exc, title, text):
    from marksocr.gui import app

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    app.install_exception_hook()
    with caplog.at_level(logging.WARNING):
        try:
            raise exc
        except Exception as e:  # what Qt hands to sys.excepthook when a slot raises
            sys.excepthook(type(e), e, e.__traceback__)
    boxes = _visible_boxes()
    assert len(boxes) == 1
    box = boxes[0]
    assert box.windowTitle() == title and text in box.text()
    assert "Traceback" not in box.text()  # the traceback goes to the details and the log
    assert text in caplog.text
    box.close()


def test_qt_messages_go_to_the_log(caplog):
    from marksocr.gui import app

    previous = app.route_qt_messages_to_logging()
    try:
        with caplog.at_level(logging.WARNING, logger="qt"):
            qWarning("marksocr test warning")
    finally:
        qInstallMessageHandler(previous)
    assert any(r.name == "qt" and "marksocr test warning" in r.getMessage() for r in caplog.records)


def test_about_box_names_the_model_and_its_accuracy(qtbot, classifier):
    from marksocr.gui.about import show_about
    from marksocr.gui.state import AppState

    state = AppState()
    state.set_classifier(classifier)
    box = show_about(None, state)
    qtbot.addWidget(box)
    acc = classifier.card["metrics"]["test_accuracy"]
    assert classifier.version in box.text()
    assert f"{acc * 100:.2f} %" in box.text()


def test_main_shows_the_window_and_logs_to_a_file(qtbot, monkeypatch, tmp_path, classifier):
    """The real entry point (``python main.py`` / ``marksocr gui``), quit by a timer."""
    from PySide6.QtCore import QTimer

    from marksocr.gui import app, state

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(state, "load_classifier", lambda: classifier)  # no second TensorFlow load
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    seen = []

    def look_and_quit():
        windows = [w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible()]
        if windows and windows[0].state.classifier is not None and windows[0].state.database is not None:
            seen.append(windows[0].status.model_label.text())
            windows[0].close()
            QApplication.instance().quit()
        else:
            QTimer.singleShot(100, look_and_quit)

    QTimer.singleShot(100, look_and_quit)
    try:
        assert app.main(["--db", str(tmp_path / "m.sqlite3")]) == 0
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
                h.close()
        root.setLevel(level)
        qInstallMessageHandler(None)
    assert seen and seen[0].startswith("Reading available")
    log_file = app.log_file_path()
    assert str(log_file).startswith(str(tmp_path)) and "window shown" in log_file.read_text()
