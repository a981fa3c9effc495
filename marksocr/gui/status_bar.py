"""The status bar: whether reading is available, which database, scan progress."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

log = logging.getLogger(__name__)


class ScanProgress(QWidget):
    """A progress bar with a cancel button, shown while a batch is being read."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QHBoxLayout

        self.bar = QProgressBar()
        self.bar.setObjectName("scanProgress")
        self.bar.setMinimumWidth(220)
        self.bar.setFormat("%v / %m sheets")
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setObjectName("scanCancel")
        self.cancel_button.setToolTip("Stop reading after the current sheet (Esc)")
        self.cancel_button.setShortcut("Esc")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, total: int) -> None:
        self.bar.setRange(0, max(total, 0))
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.show()

    def set_progress(self, done: int, total: int, message: str = "") -> None:
        if total > 0 and self.bar.maximum() != total:
            self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.bar.setToolTip(message)

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.bar.setFormat("cancelling… %v / %m")

    def finish(self) -> None:
        self.bar.setFormat("%v / %m sheets")
        self.hide()


class StatusPanel:
    """Fills a ``QStatusBar`` with the model state, the database and the scan progress."""

    def __init__(self, status_bar: QStatusBar) -> None:
        self.status_bar = status_bar
        self.model_label = QLabel("Loading the digit model… (reading not yet available)")
        self.model_label.setObjectName("modelStatus")
        self.db_label = QLabel("Database: opening…")
        self.db_label.setObjectName("dbStatus")
        self.progress = ScanProgress()
        status_bar.addPermanentWidget(self.progress)
        status_bar.addPermanentWidget(self.db_label)
        status_bar.addPermanentWidget(self.model_label)

    def model_ready(self, summary: str, short: str = "") -> None:
        self.model_label.setText(f"Reading available ({short})" if short else "Reading available")
        self.model_label.setToolTip(summary)
        self.status_bar.showMessage("The digit model is loaded: you can open sheets.", 5000)

    def model_failed(self, message: str) -> None:
        self.model_label.setText("Reading unavailable: no digit model")
        self.model_label.setToolTip(message)

    def database(self, text: str, tooltip: str = "") -> None:
        self.db_label.setText(text)
        self.db_label.setToolTip(tooltip)

    def message(self, text: str, ms: int = 5000) -> None:
        self.status_bar.showMessage(text, ms)
