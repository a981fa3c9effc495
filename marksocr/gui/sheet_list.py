"""The batch as a list of sheets: thumbnail, status and reasons, most doubtful first.

:class:`SheetListModel` wraps the storage layer's ``SheetRecord`` objects;
:class:`SheetFilterProxy` filters by status and sorts the sheets that need a
human first (lowest confidence first); :class:`SheetListPanel` shows them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, QSortFilterProxyModel, Qt, Signal,
)
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QListView, QVBoxLayout, QWidget

from marksocr.domain import SheetStatus

if TYPE_CHECKING:  # the storage package imports SQLAlchemy: not needed to show the window
    from marksocr.storage.records import SheetRecord

log = logging.getLogger(__name__)

RecordRole = Qt.ItemDataRole.UserRole + 1
SortKeyRole = Qt.ItemDataRole.UserRole + 2

STATUS_TEXT = {
    SheetStatus.NEEDS_REVIEW: "needs review",
    SheetStatus.FAILED: "failed",
    SheetStatus.AUTO: "auto",
    SheetStatus.VERIFIED: "verified",
}
STATUS_COLOUR = {
    SheetStatus.NEEDS_REVIEW: QColor("#ef6c00"),
    SheetStatus.FAILED: QColor("#c62828"),
    SheetStatus.AUTO: QColor("#2e7d32"),
    SheetStatus.VERIFIED: QColor("#1565c0"),
}
# Sheets a human must act on come first; verified ones last.
_STATUS_RANK = {SheetStatus.NEEDS_REVIEW: 0, SheetStatus.FAILED: 1, SheetStatus.AUTO: 2, SheetStatus.VERIFIED: 3}
THUMB_SIZE = QSize(72, 100)


def doubt_key(record: SheetRecord) -> tuple[int, float, str]:
    """Sort key: status rank, then lowest confidence first, then label."""
    return (_STATUS_RANK.get(record.status, 9), float(record.min_confidence), record.label)


def describe(record: SheetRecord) -> str:
    """Two lines for the list: label and roll number, then status and first reason."""
    who = f"  roll {record.roll_no}" if record.roll_no else ""
    status = STATUS_TEXT.get(record.status, str(record.status))
    reason = f": {record.reasons[0]}" if record.reasons else ""
    more = f" (+{len(record.reasons) - 1} more)" if len(record.reasons) > 1 else ""
    return f"{record.label}{who}\n{status}{reason}{more}"


class SheetListModel(QAbstractListModel):
    """A list model of ``SheetRecord`` (one row per sheet) with thumbnails."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._records: list[SheetRecord] = []
        self._rows: dict[int, int] = {}
        self._thumbs: dict[int, QPixmap] = {}
        self._placeholder = QPixmap(THUMB_SIZE)
        self._placeholder.fill(QColor("#dddddd"))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        rec = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return describe(rec)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(rec.id, self._placeholder)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [rec.source + (f" page {rec.page}" if rec.page else ""), f"status: {STATUS_TEXT.get(rec.status)}",
                     f"lowest confidence {rec.min_confidence:.0%}", *rec.reasons]
            return "\n".join(lines)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(STATUS_COLOUR.get(rec.status, QColor("black")))
        if role == RecordRole:
            return rec
        if role == SortKeyRole:
            return doubt_key(rec)
        return None

    # ------------------------------------------------------------------ content

    def set_records(self, records: Iterable[SheetRecord]) -> None:
        """Replace every row (e.g. after a scan or on start-up)."""
        self.beginResetModel()
        self._records = list(records)
        self._rows = {r.id: i for i, r in enumerate(self._records)}
        self.endResetModel()

    def clear(self) -> None:
        """No sheets, no thumbnails (another database was opened)."""
        self.beginResetModel()
        self._records, self._rows, self._thumbs = [], {}, {}
        self.endResetModel()

    def merge_records(self, records: Iterable[SheetRecord]) -> None:
        """Update rows in place, add new sheets, drop vanished ones (keeps the selection)."""
        records = list(records)
        wanted = {r.id for r in records}
        for sheet_id in [i for i in self._rows if i not in wanted]:
            row = self._rows[sheet_id]
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._records[row]
            self._rows = {r.id: i for i, r in enumerate(self._records)}
            self._thumbs.pop(sheet_id, None)
            self.endRemoveRows()
        for record in records:
            old = self.record(record.id)
            if old is None or old != record:
                self.update_record(record)

    def update_record(self, record: SheetRecord) -> None:
        """Replace (or add) one sheet's row."""
        row = self._rows.get(record.id)
        if row is None:
            self.beginInsertRows(QModelIndex(), len(self._records), len(self._records))
            self._rows[record.id] = len(self._records)
            self._records.append(record)
            self.endInsertRows()
            return
        self._records[row] = record
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def set_thumbnail(self, sheet_id: int, image: QImage) -> None:
        row = self._rows.get(sheet_id)
        if row is None or image.isNull():
            return
        self._thumbs[sheet_id] = QPixmap.fromImage(image)
        idx = self.index(row)
        self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def has_thumbnail(self, sheet_id: int) -> bool:
        return sheet_id in self._thumbs

    def records(self) -> list[SheetRecord]:
        return list(self._records)

    def record(self, sheet_id: int) -> SheetRecord | None:
        row = self._rows.get(sheet_id)
        return None if row is None else self._records[row]

    def row_of(self, sheet_id: int) -> int | None:
        return self._rows.get(sheet_id)


class SheetFilterProxy(QSortFilterProxyModel):
    """Shows the sheets of some statuses only, sorted most doubtful first."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._statuses: frozenset[SheetStatus] | None = None
        self.setSortRole(SortKeyRole)
        self.setDynamicSortFilter(True)

    def set_statuses(self, statuses: Iterable[SheetStatus] | None) -> None:
        """Only these statuses (None: all)."""
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            self._statuses = None if statuses is None else frozenset(statuses)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._statuses = None if statuses is None else frozenset(statuses)
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self._statuses is None:
            return True
        rec = self.sourceModel().index(source_row, 0, source_parent).data(RecordRole)
        return rec is not None and rec.status in self._statuses

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        return left.data(SortKeyRole) < right.data(SortKeyRole)


FILTERS: tuple[tuple[str, Sequence[SheetStatus] | None], ...] = (
    ("All sheets", None),
    ("To do (needs review or failed)", (SheetStatus.NEEDS_REVIEW, SheetStatus.FAILED)),
    ("Needs review", (SheetStatus.NEEDS_REVIEW,)),
    ("Failed", (SheetStatus.FAILED,)),
    ("Auto (read confidently)", (SheetStatus.AUTO,)),
    ("Verified", (SheetStatus.VERIFIED,)),
)


class SheetListPanel(QWidget):
    """A status filter above the list of sheets; emits ``sheet_selected(sheet_id)``."""

    sheet_selected = Signal(int)

    def __init__(self, model: SheetListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sheetList")
        self.model = model
        self.proxy = SheetFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.proxy.sort(0)
        self.filter = QComboBox()
        self.filter.setObjectName("sheetFilter")
        self.filter.setToolTip("Show only the sheets with this status")
        for text, _statuses in FILTERS:
            self.filter.addItem(text)
        self.filter.currentIndexChanged.connect(lambda i: self.proxy.set_statuses(FILTERS[i][1]))
        self.view = QListView()
        self.view.setObjectName("sheetListView")
        self.view.setModel(self.proxy)
        self.view.setIconSize(THUMB_SIZE)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(2)
        self.view.setWordWrap(True)
        self.view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.summary = QLabel()
        self.summary.setObjectName("sheetSummary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.summary)
        for signal in (model.modelReset, model.rowsInserted, model.dataChanged):
            signal.connect(self._update_summary)
        self._update_summary()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        rec = current.data(RecordRole) if current.isValid() else None
        if rec is not None:
            self.sheet_selected.emit(rec.id)

    def _update_summary(self, *_args: object) -> None:
        counts: dict[SheetStatus, int] = {}
        for rec in self.model.records():
            counts[rec.status] = counts.get(rec.status, 0) + 1
        parts = [f"{counts[s]} {STATUS_TEXT[s]}" for s in _STATUS_RANK if counts.get(s)]
        self.summary.setText(f"{sum(counts.values())} sheets" + (": " + ", ".join(parts) if parts else ""))

    def select_sheet(self, sheet_id: int) -> None:
        """Make ``sheet_id`` the current row (shown if filtered out: the filter resets)."""
        row = self.model.row_of(sheet_id)
        if row is None:
            return
        idx = self.proxy.mapFromSource(self.model.index(row))
        if not idx.isValid():
            self.filter.setCurrentIndex(0)
            idx = self.proxy.mapFromSource(self.model.index(row))
        self.view.setCurrentIndex(idx)

    def current_sheet_id(self) -> int | None:
        rec = self.view.currentIndex().data(RecordRole)
        return rec.id if rec is not None else None

    def step(self, delta: int) -> None:
        """Move the selection ``delta`` rows down (negative: up) in the shown order."""
        rows = self.proxy.rowCount()
        if rows == 0:
            return
        current = self.view.currentIndex().row()
        target = 0 if current < 0 else max(0, min(rows - 1, current + delta))
        self.view.setCurrentIndex(self.proxy.index(target, 0))

    def first_to_review(self) -> int | None:
        """The most doubtful sheet still needing review, in the shown order."""
        for r in range(self.proxy.rowCount()):
            rec = self.proxy.index(r, 0).data(RecordRole)
            if rec is not None and rec.status == SheetStatus.NEEDS_REVIEW:
                return rec.id
        return None
