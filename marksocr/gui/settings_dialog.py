"""The settings dialog: database, confidence threshold, roster, default template.

It edits the settings *file* (``marksocr.settings``), not QSettings: the command
line and the window share the same values.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from marksocr.settings import Settings, SettingsError, save_settings, settings_path
from marksocr.gui.errors import show_error
from marksocr.gui.widgets import PathPicker

log = logging.getLogger(__name__)


class SettingsDialog(QDialog):
    """Edit and save the marksocr settings file."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._path = path
        self._original = settings
        self.saved: Settings | None = None
        self.db = PathPicker("Choose the database file", "SQLite database (*.sqlite3 *.sqlite *.db);;All files (*)",
                             save=True, placeholder="default file in your data folder, or a URL such as postgresql://…")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        # The default sits in the fourth decimal (0.9975): fewer decimals would show it rounded and
        # save the rounded value the first time the dialog is saved for another reason.
        self.threshold.setSingleStep(0.0005)
        self.threshold.setDecimals(4)
        self.threshold.setToolTip("Digits read with less confidence than this are sent to review")
        self.roster = PathPicker("Choose the roster", "Roster (*.csv);;All files (*)")
        self.template = PathPicker("Choose the default template", "Template (*.json);;All files (*)")
        self.operator = QLineEdit()
        self.operator.setToolTip("The name written in the audit log with every correction")
        self._fill(settings)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Database:", self.db)
        form.addRow("Confidence &threshold:", self.threshold)
        form.addRow("&Roster:", self.roster)
        form.addRow("Default t&emplate:", self.template)
        form.addRow("&Operator name:", self.operator)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        note = QLabel(f"Saved in {path or settings_path()}. $MARKSOCR_* variables override these values.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    def _fill(self, s: Settings) -> None:
        self.db.set_text(s.db_url)
        self.threshold.setValue(float(s.threshold))
        self.roster.set_text(s.roster)
        self.template.set_text(s.default_template)
        self.operator.setText(s.operator)

    def values(self) -> Settings:
        """The settings as edited (validated; raises ``SettingsError``)."""
        return dataclasses.replace(
            self._original,
            db_url=self.db.text() or None,
            threshold=round(self.threshold.value(), 4),
            roster=self.roster.path(),
            default_template=self.template.path(),
            operator=self.operator.text().strip(),
        )

    def accept(self) -> None:
        try:
            settings = self.values()
            save_settings(settings, self._path)
        except (SettingsError, OSError) as exc:
            show_error(self, exc)
            return
        log.info("settings saved")
        self.saved = settings
        super().accept()
