"""Import the class roster (roll numbers, names, subjects) from a CSV file."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from marksocr.gui.errors import show_error
from marksocr.gui.state import AppState
from marksocr.gui.tasks import run_task

log = logging.getLogger(__name__)


def result_html(result: Any) -> str:
    """What an import did, for a message box."""
    text = (f"Imported <b>{html.escape(Path(result.path).name)}</b>: {result.added} student(s) added, "
            f"{result.updated} updated, {result.enrolments} subject enrolment(s).")
    if result.skipped_rows:
        rows = "".join(f"<li>{html.escape(r)}</li>" for r in result.skipped_rows[:20])
        more = f"<li>… and {len(result.skipped_rows) - 20} more</li>" if len(result.skipped_rows) > 20 else ""
        text += f"<p>Rows not imported:</p><ul>{rows}{more}</ul>"
    return text


class RosterImporter(QObject):
    """Asks for a roster CSV, imports it in the background, shows what happened."""

    imported = Signal(object)  # RosterImportResult

    def __init__(self, state: AppState, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self._parent = parent

    def choose_and_import(self) -> None:
        start = str(self.state.settings.roster or Path.home())
        path, _ = QFileDialog.getOpenFileName(self._parent, "Import the roster", start,
                                              "Roster (*.csv);;All files (*)")
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        db = self.state.database
        if db is None:
            show_error(self._parent, RuntimeError("the database is not open yet"))
            return
        run_task(db.import_roster, path, self.state.operator, on_success=self._done,
                 on_failure=lambda exc: show_error(self._parent, exc))

    def _done(self, result: Any) -> None:
        log.info("roster %s: %d added, %d updated", result.path, result.added, result.updated)
        box = QMessageBox(QMessageBox.Icon.Information, "Roster imported", result_html(result),
                          QMessageBox.StandardButton.Ok, self._parent)
        box.setObjectName("rosterResult")
        box.open()
        self.imported.emit(result)
