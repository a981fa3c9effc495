"""The audit log in a window: who read, corrected, confirmed, verified, undid or deleted what.

The same entries as ``marksocr history``, newest first, for every sheet or for the
sheet under review. Undone changes stay listed, greyed. Double-clicking a row that
belongs to a sheet still in the database opens that sheet for review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timezone
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from marksocr.gui.errors import show_error
from marksocr.gui.state import AppState
from marksocr.gui.tasks import run_task

LIMIT = 500  # newest entries shown; the command line has --limit for more
COLUMNS = ("When", "Operator", "Action", "Sheet", "Field", "Before", "After")
ACTIONS = {  # the log's action names, as an operator says them
    "scan": "read", "replace": "read again", "correct": "corrected", "confirm": "confirmed",
    "verify": "verified sheet", "undo": "undid", "delete": "deleted sheet", "roster": "imported roster",
}
REFRESH_DELAY_MS = 400
"""``refresh_soon`` waits this long, so a batch scan reads the log a few times a second at most."""
STATUS_ACTIONS = {"scan", "replace", "verify"}  # their before/after are sheet statuses (needs_review)


class HistoryDialog(QDialog):
    """The audit log as a table; ``open_sheet(sheet_id)`` when a row is double-clicked."""

    open_sheet = Signal(int)

    def __init__(self, state: AppState, labels: Callable[[], dict[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change history")
        self.setObjectName("historyDialog")
        self.state = state
        self._labels = labels  # sheet id -> label of the sheets now listed
        self._sheet: tuple[int, str] | None = None
        self._generation = 0
        self.entries: list[Any] = []
        self._soon = QTimer(self)  # coalesces a batch's many saved sheets into one read of the log
        self._soon.setSingleShot(True)
        self._soon.setInterval(REFRESH_DELAY_MS)
        self._soon.timeout.connect(self.refresh)
        self.only_sheet = QCheckBox("Only the sheet under review")
        self.only_sheet.setObjectName("historyOnlySheet")
        self.only_sheet.toggled.connect(lambda _on: self.refresh())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumSize(760, 320)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.summary = QLabel()
        self.summary.setObjectName("historySummary")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.refresh_button = buttons.addButton("&Refresh", QDialogButtonBox.ButtonRole.ActionRole)
        self.refresh_button.clicked.connect(self.refresh)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.only_sheet)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)

    def show_for(self, sheet: tuple[int, str] | None, only_sheet: bool) -> None:
        """Offer the filter for ``sheet`` (id, label), set it, and list the entries again."""
        self._sheet = sheet
        self.only_sheet.blockSignals(True)
        self.only_sheet.setEnabled(sheet is not None)
        self.only_sheet.setText(f"Only {sheet[1]}" if sheet else "Only the sheet under review")
        self.only_sheet.setChecked(bool(only_sheet and sheet))
        self.only_sheet.blockSignals(False)
        self.refresh()

    def refresh_soon(self) -> None:
        """Read the log again shortly (once for many calls in a row, e.g. while a batch is read)."""
        if not self._soon.isActive():
            self._soon.start()

    def refresh(self) -> None:
        """Read the log again (in the background)."""
        db = self.state.database
        if db is None:
            self.summary.setText("The database is not open yet.")
            return
        sheet_id = self._sheet[0] if self._sheet and self.only_sheet.isChecked() else None
        self._generation += 1
        generation = self._generation
        self.summary.setText("Reading the log…")
        run_task(db.history, sheet_id, LIMIT,
                 on_success=lambda entries: self._show(entries, generation),
                 on_failure=lambda exc: self._failed(exc, generation))

    def _failed(self, exc: BaseException, generation: int) -> None:
        if generation == self._generation:
            self.summary.setText("The log could not be read.")
            show_error(self, exc)

    def _show(self, entries: Sequence[Any], generation: int) -> None:
        if generation != self._generation:
            return  # an older answer: the filter changed since
        self.entries = list(entries)
        labels = self._labels()
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            action = ACTIONS.get(e.action, e.action) + (" (undone)" if e.undone else "")
            sheet = "" if e.sheet_id is None else labels.get(e.sheet_id, f"sheet {e.sheet_id}")
            at = e.at if e.at.tzinfo else e.at.replace(tzinfo=timezone.utc)
            old, new = e.old_value or "", e.new_value or ""
            if e.action in STATUS_ACTIONS:
                old, new = old.replace("_", " "), new.replace("_", " ")
            cells = (f"{at.astimezone():%Y-%m-%d %H:%M:%S}", e.user, action, sheet, e.field_name or "", old, new)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if e.undone:
                    item.setForeground(QColor("gray"))
                self.table.setItem(row, col, item)
        shown = f" of {self._sheet[1]}" if self._sheet and self.only_sheet.isChecked() else ""
        more = f" (the newest {LIMIT}; 'marksocr history --limit N' lists more)" if len(self.entries) >= LIMIT else ""
        self.summary.setText(f"{len(self.entries)} change(s){shown}, newest first{more}. "
                             "Double-click a row to open its sheet.")

    def _double_clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.entries):
            sheet_id = self.entries[row].sheet_id
            if sheet_id is not None and sheet_id in self._labels():
                self.open_sheet.emit(sheet_id)
