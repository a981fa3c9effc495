"""Export marks to CSV: subject filter, verified only, and the completeness report.

The report (missing roll numbers, duplicates, sheets still to review, failed
sheets) is shown before exporting, refreshed whenever the options change, and
again after the file is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget,
)

from marksocr.gui.errors import show_error
from marksocr.gui.state import AppState
from marksocr.gui.tasks import run_task
from marksocr.gui.widgets import PathPicker

log = logging.getLogger(__name__)

ALL_SUBJECTS = "All subjects"


class ExportDialog(QDialog):
    """Choose what to export and where; shows the completeness report."""

    exported = Signal(object)  # ExportReport

    def __init__(self, state: AppState, subjects: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export marks")
        self.setObjectName("exportDialog")
        self.state = state
        self.subject = QComboBox()
        self.subject.setObjectName("exportSubject")
        self.subject.addItem(ALL_SUBJECTS)
        self.subject.addItems(list(subjects))
        self.verified_only = QCheckBox("Only sheets a teacher &verified")
        self.verified_only.setObjectName("exportVerifiedOnly")
        self.target = PathPicker("Save the marks as", "CSV (*.csv)", save=True)
        self.target.set_text(Path.home() / "marks.csv")
        self.report = QPlainTextEdit()
        self.report.setObjectName("completenessReport")
        self.report.setReadOnly(True)
        self.report.setFont(QFont("monospace"))
        self.report.setMinimumSize(560, 200)
        self.state_label = QLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Export")
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Subject:", self.subject)
        form.addRow("", self.verified_only)
        form.addRow("&File:", self.target)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Completeness report:"))
        layout.addWidget(self.report, 1)
        layout.addWidget(self.state_label)
        layout.addWidget(self.buttons)
        self.subject.currentIndexChanged.connect(lambda _i: self.refresh_report())
        self.verified_only.toggled.connect(lambda _on: self.refresh_report())
        self.last_report: Any = None
        self._generation = 0
        self.refresh_report()

    def options(self) -> tuple[str | None, bool]:
        subject = self.subject.currentText()
        return (None if subject == ALL_SUBJECTS else subject), self.verified_only.isChecked()

    def refresh_report(self) -> None:
        """Compute what an export would say (in the background)."""
        db = self.state.database
        if db is None:
            self.report.setPlainText("The database is not open yet.")
            return
        subject, verified = self.options()
        self.report.setPlainText("Checking…")
        self._generation += 1
        generation = self._generation
        run_task(db.completeness, subject, verified,
                 on_success=lambda r: self._show_report(r, preview=True, generation=generation),
                 on_failure=lambda exc: show_error(self, exc))

    def _show_report(self, report: Any, preview: bool, generation: int | None = None) -> None:
        if generation is not None and generation != self._generation:
            return  # an older answer: the options changed or the file was written since
        self.last_report = report
        head = "If you export now:" if preview else f"Written to {report.path}:"
        self.report.setPlainText("\n".join([head, *report.lines()]))

    def export(self) -> None:
        """Write the CSV in the background; the report of the written file replaces the preview."""
        db, path = self.state.database, self.target.path()
        if db is None or path is None:
            show_error(self, ValueError("choose a file to export to" if path is None else "the database is not open"))
            return
        subject, verified = self.options()
        self.buttons.setEnabled(False)
        self.state_label.setText("Exporting…")
        self._generation += 1
        run_task(db.export_csv, path, subject, verified, on_success=self._exported, on_failure=self._failed)

    def _exported(self, report: Any) -> None:
        self.buttons.setEnabled(True)
        self._show_report(report, preview=False)
        self.state_label.setText(f"Wrote {report.rows} row(s) to {report.path}")
        log.info("exported %d rows to %s", report.rows, report.path)
        self.exported.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.state_label.setText("Export failed.")
        show_error(self, exc)
