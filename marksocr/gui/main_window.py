"""The main window: sheet list (left), page (centre), review panel (right).

The window only assembles panels and wires signals. The database work is done
by :class:`~marksocr.gui.review_controller.ReviewController`, the reading by
:class:`~marksocr.gui.scan_controller.ScanController`; both call the same core
functions as the command line, off the UI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from marksocr.domain import SheetStatus
from marksocr.gui.errors import show_error
from marksocr.gui.page_layout import PageLayout
from marksocr.gui.page_viewer import PageViewer
from marksocr.gui.review_controller import ReviewController
from marksocr.gui.review_panel import ReviewPanel
from marksocr.gui.scan_controller import ScanController
from marksocr.gui.sheet_list import SheetListModel, SheetListPanel
from marksocr.gui.state import AppState
from marksocr.gui.status_bar import StatusPanel
from marksocr.gui.window_menus import WindowMenus

if TYPE_CHECKING:  # the storage package imports SQLAlchemy: not needed to show the window
    from marksocr.storage.records import SheetRecord

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The marksocr desktop window."""

    def __init__(self, db_url: str | None = None, state: AppState | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Handwritten marks")  # Qt appends " — marksocr"
        self.state = state or AppState(self)
        self._db_url = db_url
        self._page_image: QImage | None = None
        self._advance_after_verify: int | None = None
        self._show_first_saved = False  # the first sheet of a new batch is shown as soon as it is read
        self._select_when_listed: int | None = None
        self._refresh_timer = QTimer(self)  # coalesces list refreshes while a batch is read
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(400)
        self.sheets = SheetListModel(self)
        self.sheet_panel = SheetListPanel(self.sheets)
        self.viewer = PageViewer()
        self.review = ReviewPanel()
        self.controller = ReviewController(self.state, self)
        self.setCentralWidget(self.viewer)
        docks = [self._add_dock("Sheets", self.sheet_panel, Qt.DockWidgetArea.LeftDockWidgetArea),
                 self._add_dock("Review", self.review, Qt.DockWidgetArea.RightDockWidgetArea)]
        self.resizeDocks(docks, [290, 440], Qt.Orientation.Horizontal)
        self.status = StatusPanel(self.statusBar())
        self.scanner = ScanController(self.state, self)
        self.menus = WindowMenus(self)
        self._connect_state()
        self._connect_review()
        self._connect_scanner()
        self.setAcceptDrops(True)  # photos, folders and PDFs can be dropped on the window
        self._restore_geometry()

    def _add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(area, dock)
        return dock

    # ------------------------------------------------------------------ wiring

    def _connect_state(self) -> None:
        s = self.state
        s.classifier_ready.connect(lambda _clf: self.status.model_ready(s.model_summary(), s.model_accuracy_text()))
        s.classifier_failed.connect(self.status.model_failed)
        s.database_ready.connect(self._database_ready)
        s.database_failed.connect(self._database_failed)
        s.settings_changed.connect(lambda _settings: self._redraw_current())
        if s.classifier is not None:
            self.status.model_ready(s.model_summary(), s.model_accuracy_text())
        if s.settings_error:
            self.status.message(f"Settings file problem, using defaults: {s.settings_error}", 15000)

    def _connect_review(self) -> None:
        c, r = self.controller, self.review
        self._refresh_timer.timeout.connect(c.refresh_sheets)
        self.sheet_panel.sheet_selected.connect(self._sheet_selected)
        c.sheets_listed.connect(self._sheets_listed)
        c.sheet_loaded.connect(self._sheet_loaded)
        c.sheet_changed.connect(self._sheet_changed)
        c.thumbnail_ready.connect(self.sheets.set_thumbnail)
        c.saved.connect(lambda text: self.status.message(text))
        c.failed.connect(lambda exc: show_error(self, exc))
        r.field_confirmed.connect(c.confirm_field)
        r.sheet_confirmed.connect(self._verify_sheet)
        r.undo_requested.connect(c.undo)
        r.current_field_changed.connect(self.viewer.select_field)
        self.viewer.field_clicked.connect(self._field_clicked)

    def _connect_scanner(self) -> None:
        sc, p = self.scanner, self.status.progress
        sc.started.connect(p.start)
        sc.started.connect(lambda _n: setattr(self, "_show_first_saved", True))
        sc.progressed.connect(p.set_progress)
        sc.finished.connect(self._scan_finished)
        sc.sheet_saved.connect(self._sheet_saved)
        sc.waiting.connect(lambda text: self.status.message(text, 10000))
        sc.failed.connect(lambda exc: show_error(self, exc))
        p.cancel_requested.connect(sc.cancel)
        p.cancel_requested.connect(p.cancelling)

    # ------------------------------------------------------------------ start-up

    def start_background_loading(self) -> None:
        """Load the digit model (seconds) and open the database, off the UI thread."""
        self.state.load_classifier_in_background()
        self.state.open_database_in_background(self._db_url)

    def _database_ready(self, db: Any) -> None:
        short = Path(db.url.split("///", 1)[1]).name if db.url.startswith("sqlite:///") else db.description
        self.status.database(f"Database: {short}", db.description)
        self.sheets.clear()
        self.review.clear()
        self.controller.refresh_sheets()  # reopening the app restores the session

    def _database_failed(self, exc: BaseException) -> None:
        self.status.database("Database: not open", str(exc))
        show_error(self, exc)

    # ------------------------------------------------------------------ sheets

    def _sheet_saved(self, sheet_id: int) -> None:
        if self._show_first_saved:
            self._show_first_saved = False
            self._select_when_listed = sheet_id
            self.controller.refresh_sheets()  # at once: the teacher is waiting for this one
        else:
            self._refresh_timer.start()

    def _sheets_listed(self, records: list[SheetRecord]) -> None:
        current = self.sheet_panel.current_sheet_id()
        self.sheets.merge_records(records)
        if self._select_when_listed is not None and self.sheets.record(self._select_when_listed):
            current, self._select_when_listed = self._select_when_listed, None
        self.controller.load_thumbnails([r.id for r in records if not self.sheets.has_thumbnail(r.id)])
        target = current if current is not None and self.sheets.record(current) else self.sheet_panel.first_to_review()
        if target is None and records:
            target = records[0].id
        if target is not None:
            self.sheet_panel.select_sheet(target)
        else:
            self.viewer.clear_page("Open sheet photos (Ctrl+O) to start.")
            self.review.clear()

    def _sheet_loaded(self, record: SheetRecord, image: QImage | None, layout: PageLayout) -> None:
        self._page_image = image
        threshold = self.state.threshold
        if image is None:
            self.viewer.clear_page(f"{record.label}: no image to show. " + "; ".join(record.reasons))
        else:
            self.viewer.show_page(image, record.fields, threshold, layout)
        self.review.show_sheet(record, threshold)
        self.sheets.update_record(record)

    def _sheet_changed(self, record: SheetRecord, field_name: str) -> None:
        threshold = self.state.threshold
        self.sheets.update_record(record)
        if self.review.sheet is None or self.review.sheet.id != record.id:
            return  # the teacher moved on; the list row is enough
        self.viewer.update_fields(record.fields, threshold)
        self.review.show_sheet(record, threshold, field=field_name or None)
        if self._advance_after_verify == record.id and record.status == SheetStatus.VERIFIED:
            self._advance_after_verify = None
            self._open_next_to_review(record.id)

    def _verify_sheet(self, sheet_id: int) -> None:
        self._advance_after_verify = sheet_id
        self.controller.verify_sheet(sheet_id)

    def _open_next_to_review(self, done_id: int) -> None:
        nxt = self.sheet_panel.first_to_review()
        if nxt is not None and nxt != done_id:
            self.sheet_panel.select_sheet(nxt)
        else:
            self.status.message("No sheet needs review any more: export when ready (Ctrl+E).", 10000)

    def _field_clicked(self, name: str) -> None:
        self.review.go_to_field(name)

    def _sheet_selected(self, sheet_id: int) -> None:
        self.review.commit_typed_value()  # a value typed before moving on is still the teacher's
        self.controller.load_sheet(sheet_id)

    def _redraw_current(self) -> None:
        sheet = self.review.sheet
        if sheet is not None:
            self.viewer.update_fields(sheet.fields, self.state.threshold)
            self.review.show_sheet(sheet, self.state.threshold)

    def _scan_finished(self, summary: str) -> None:
        self.status.progress.finish()
        self.status.message(summary, 15000)
        self.controller.refresh_sheets()

    # ------------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.menus.scan(paths)

    # ------------------------------------------------------------------ geometry

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        window_state = settings.value("main_window/state")
        if isinstance(window_state, QByteArray) and not window_state.isEmpty():
            self.restoreState(window_state)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        self.scanner.cancel()
        self.scanner.wait(30000)
        self.controller.wait(30000)  # every edit is written before the window goes
        if self.state.parent() is self:
            self.state.close()
        super().closeEvent(event)
