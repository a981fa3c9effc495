"""All fields of the sheet under review as a small table: value, confidence, state.

:class:`FieldTableModel` wraps the storage layer's ``FieldRecord`` objects; the
review panel shows it under the current field so the teacher sees the whole
sheet at a glance and can click any field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

if TYPE_CHECKING:
    from marksocr.storage.records import FieldRecord

SUM_BACKED_NOTE = "below the threshold, but the marks add up to the total: accepted"
"""Said of a mark or total whose low-confidence digits the sum check backs."""

COLUMNS = ("Field", "Value", "Conf.", "State")
_STATE_COLOURS = {"corrected": QColor("#1565c0"), "confirmed": QColor("#1565c0"),
                  "doubtful": QColor("#c62828"), "ok": QColor("#2e7d32"), "adds up": QColor("#2e7d32")}


def field_state(field: "FieldRecord", threshold: float) -> str:
    if field.is_corrected:
        return "corrected"
    if field.is_checked:
        return "confirmed"
    if field.is_doubtful(threshold):
        return "doubtful"
    return "adds up" if field.accepted_by_sum(threshold) else "ok"


class FieldTableModel(QAbstractTableModel):
    """One row per field of a sheet, in template order; the current field in bold."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._fields: list[FieldRecord] = []
        self._threshold = 0.9
        self._current: str | None = None

    def set_fields(self, fields: Sequence["FieldRecord"], threshold: float, current: str | None) -> None:
        self.beginResetModel()
        self._fields, self._threshold, self._current = list(fields), threshold, current
        self.endResetModel()

    def set_current(self, name: str | None) -> None:
        self._current = name
        if self._fields:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._fields) - 1, len(COLUMNS) - 1))

    def row_of(self, name: str) -> int:
        return next((i for i, f in enumerate(self._fields) if f.name == name), -1)

    def field_at(self, row: int) -> "FieldRecord | None":
        return self._fields[row] if 0 <= row < len(self._fields) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._fields)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        f = self.field_at(index.row())
        if f is None:
            return None
        state = field_state(f, self._threshold)
        if role == Qt.ItemDataRole.DisplayRole:
            return (f.name, f.value or "∅", f"{f.confidence:.0%}", state)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3:
            return QBrush(_STATE_COLOURS[state])
        if role == Qt.ItemDataRole.FontRole and f.name == self._current:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if state == "adds up":
                return SUM_BACKED_NOTE
            return "\n".join(f.reasons) or None
        return None
