"""Small reusable widgets."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QToolButton, QWidget


class PathPicker(QWidget):
    """A file path: a line edit plus a "Browse…" button opening a file dialog."""

    path_changed = Signal(str)

    def __init__(self, caption: str, file_filter: str, save: bool = False, placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._caption, self._filter, self._save = caption, file_filter, save
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.path_changed)
        browse = QToolButton()
        browse.setText("Browse…")
        browse.setToolTip(caption)
        browse.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def _browse(self) -> None:
        start = self.edit.text() or str(Path.home())
        if self._save:
            path, _ = QFileDialog.getSaveFileName(self, self._caption, start, self._filter)
        else:
            path, _ = QFileDialog.getOpenFileName(self, self._caption, start, self._filter)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, value: str | Path | None) -> None:
        self.edit.setText("" if value is None else str(value))

    def path(self) -> Path | None:
        return Path(self.text()).expanduser() if self.text() else None
