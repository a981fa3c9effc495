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
    import cv2  # the OpenCV build a reading depends on, for bug reports
    assert f"OpenCV {cv2.__version__}" in box.text()


_MAIN_PROBE = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from marksocr.gui import app

def look_and_quit():
    windows = [w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible()]
    w = windows[0] if windows else None
    if w is not None and w.state.classifier is not None and w.state.database is not None:
        print("MODEL:", w.status.model_label.text(), "|", w.status.model_label.toolTip())
        print("DB:", w.status.db_label.text())
        w.close()
    else:
        QTimer.singleShot(100, look_and_quit)

app.create_application()  # main() uses this one; timers need it to exist
QTimer.singleShot(100, look_and_quit)
sys.exit(app.main(sys.argv[1:]))
"""


def test_main_shows_the_window_loads_the_model_and_logs_to_a_file(tmp_path, classifier):
    """The real entry point (``python main.py`` / ``marksocr gui``) in a fresh process."""
    import os
    import subprocess

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    db = tmp_path / "m.sqlite3"
    out = subprocess.run([sys.executable, "-c", _MAIN_PROBE, "--db", str(db)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    acc = classifier.card["metrics"]["test_accuracy"] * 100
    assert f"MODEL: Reading available ({acc:.2f} % on MNIST test digits) | model {classifier.version}" in out.stdout
    assert f"DB: Database: {db.name}" in out.stdout
    logs = list((tmp_path / "state").rglob("marksocr-gui.log"))
    assert len(logs) == 1 and "window shown" in logs[0].read_text()
