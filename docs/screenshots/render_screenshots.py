"""Render the README screenshots offscreen: main window under review, template editor, digit pad.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/render_screenshots.py

Uses synthetic sheets (``marksocr.sheets.synth``, needs MNIST) and a throw-away database.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from PySide6.QtCore import QEventLoop, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def wait_until(app: QApplication, condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def draw(widget, points) -> None:
    def send(kind, x, y, button, buttons):
        p = QPointF(x, y)
        QApplication.sendEvent(widget, QMouseEvent(kind, p, widget.mapToGlobal(p), button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))
    left = Qt.MouseButton.LeftButton
    send(QMouseEvent.Type.MouseButtonPress, *points[0], left, left)
    for x, y in points[1:]:
        send(QMouseEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, left)
    send(QMouseEvent.Type.MouseButtonRelease, *points[-1], left, Qt.MouseButton.NoButton)


def main() -> int:
    from marksocr.gui.app import create_application
    from marksocr.gui.main_window import MainWindow
    from marksocr.paths import resources_dir
    from marksocr.sheets.synth import make_sheet_set

    tmp = Path(tempfile.mkdtemp(prefix="marksocr-shots-"))
    os.environ["MARKSOCR_SETTINGS"] = str(tmp / "settings.json")
    os.environ["MARKSOCR_OPERATOR"] = "teacher"
    app = create_application()
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp / "qsettings"))
    template = resources_dir() / "templates" / "marksocr_a4" / "template.json"
    make_sheet_set(template, tmp / "class", 4, style="scan", seed=11, anomaly_rate=0.5)

    window = MainWindow(db_url=str(tmp / "marks.sqlite3"))
    window.resize(1600, 1000)
    window.show()
    window.start_background_loading()
    wait_until(app, lambda: window.state.classifier is not None and window.state.database is not None)
    window.menus.scan([str(tmp / "class")], template)
    wait_until(app, lambda: window.scanner.last_summary is not None)
    wait_until(app, lambda: window.review.current_field() is not None)
    review = window.review
    # One field confirmed by the teacher, so the picture shows that state too.
    review.edit.setText(review.current_field().value)
    review.confirm_current()
    wait_until(app, lambda: not window.controller.busy)
    # Then show a sheet where sum-consistent decoding has a suggestion, if the batch has one.
    db = window.state.database
    for rec in db.list_sheets():
        sheet = db.get_sheet(rec.id)
        suggested = [f for f in sheet.fields if f.suggestion]
        if suggested:
            window.sheet_panel.select_sheet(rec.id)
            wait_until(app, lambda: review.sheet is not None and review.sheet.id == rec.id)
            wait_until(app, lambda: not window.controller.busy)
            review.show_sheet(review.sheet, window.state.threshold, field=suggested[0].name)
            break
    wait_until(app, lambda: all(window.sheets.has_thumbnail(r.id) for r in window.sheets.records()), 30)
    settle(app)
    window.viewer.fit()
    window.viewer.zoom_in()
    window.viewer.select_field(review.current_field_name())
    settle(app)
    window.grab().save(str(HERE / "main_window.png"))

    history = window.menus.history(only_sheet=False)
    history.resize(1000, 420)
    wait_until(app, lambda: history.table.rowCount() > 0, 30)
    settle(app)
    history.grab().save(str(HERE / "history.png"))
    history.close()

    from marksocr.gui.template_editor import TemplateEditor

    editor = TemplateEditor()
    editor.resize(1300, 950)
    editor.show()
    editor.load_template_file(template)
    wait_until(app, lambda: len(editor.scene.boxes()) > 0)
    boxes = editor.scene.boxes()
    boxes[3].setSelected(True)
    settle(app)
    editor.canvas.fit()
    settle(app)
    editor.grab().save(str(HERE / "template_editor.png"))

    pad = window.menus.digit_pad()
    settle(app)
    seven = [(80 + i * 6, 60) for i in range(21)] + [(200 - i * 4.5, 60 + i * 9) for i in range(1, 21)]
    draw(pad.canvas, seven)
    wait_until(app, lambda: pad.bars.probabilities() is not None, 30)
    settle(app)
    pad.grab().save(str(HERE / "digit_pad.png"))

    for w in (pad, editor, window):
        w.close()
    print("wrote", ", ".join(str(HERE / n) for n in ("main_window.png", "history.png", "template_editor.png",
                                                             "digit_pad.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
