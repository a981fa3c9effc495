"""Talks to the database for the window: list sheets, load one, save each review step.

Every call runs on a one-thread pool, so writes happen in the order the teacher
made them and the UI thread never waits for the database. Results come back as
signals carrying the storage layer's frozen records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThreadPool, Qt, Signal
from PySide6.QtGui import QImage

from marksocr.gui.page_layout import PageLayout, crop_sizes, template_field_boxes
from marksocr.gui.sheet_list import THUMB_SIZE
from marksocr.gui.state import AppState
from marksocr.gui.tasks import run_task

if TYPE_CHECKING:  # the storage package imports SQLAlchemy: not needed to show the window
    from marksocr.storage.records import SheetRecord

log = logging.getLogger(__name__)


def _decode_png(png: bytes | None) -> QImage | None:
    """A QImage of PNG bytes, built off the UI thread (see ``images.png_to_qimage``)."""
    from marksocr.gui.images import png_to_qimage

    return png_to_qimage(png)


def _source_image(sheet: SheetRecord) -> QImage | None:
    """The photo itself (plain image files only), loaded as the pipeline loads it; None if unreadable."""
    from marksocr.domain import MarksocrError
    from marksocr.gui.images import array_to_qimage
    from marksocr.imaging.io import load_image

    if sheet.page is not None or not Path(sheet.source).is_file():
        return None
    try:
        return array_to_qimage(load_image(sheet.source))
    except (MarksocrError, OSError, ValueError) as exc:
        log.info("cannot show %s: %s", sheet.source, exc)
        return None


def _thumbnail(db: Any, sheet_id: int) -> QImage | None:
    """A small picture of the stored page, else of the photo (sheets that could not be aligned)."""
    image = _decode_png(db.get_page_png(sheet_id)) or _source_image(db.get_sheet(sheet_id))
    if image is None:
        return None
    return image.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class ReviewController(QObject):
    """Runs the review's database calls in order, off the UI thread."""

    sheets_listed = Signal(list)           # [SheetRecord] most doubtful first
    sheet_loaded = Signal(object, object, object)  # SheetRecord with fields, QImage page (or None), PageLayout
    sheet_changed = Signal(object, str)    # SheetRecord after an edit, field to show ("" = keep)
    thumbnail_ready = Signal(int, QImage)
    saved = Signal(str)                    # a short message for the status bar
    failed = Signal(object)                # the exception

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)  # strict order: each edit sees the one before
        self._thumbs = QThreadPool(self)
        self._thumbs.setMaxThreadCount(1)
        self._wanted_sheet: int | None = None
        self._template_boxes: dict[int, dict[str, tuple[float, float, float, float]]] = {}
        self._thumbs_requested: set[int] = set()
        state.database_ready.connect(lambda _db: self._forget_database())
        self._pending = 0

    @property
    def busy(self) -> bool:
        """True while a database call is queued or running."""
        return self._pending > 0

    def _run(self, fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None],
             pool: QThreadPool | None = None, on_failure: Callable[[BaseException], None] | None = None) -> None:
        db = self.state.database
        if db is None:
            log.warning("no database yet: %s ignored", getattr(fn, "__name__", fn))
            return
        self._pending += 1

        def done(result: Any) -> None:
            self._pending -= 1
            on_success(result)

        def fail(exc: BaseException) -> None:
            self._pending -= 1
            self.failed.emit(exc)
            if on_failure is not None:
                on_failure(exc)

        run_task(fn, db, *args, on_success=done, on_failure=fail, pool=pool or self._writes)

    def _forget_database(self) -> None:
        """Another database: ids mean other sheets now."""
        self._template_boxes.clear()
        self._thumbs_requested.clear()

    def wait(self, ms: int = 10000) -> bool:
        """Block until queued database calls are done (closing the window, tests)."""
        return self._writes.waitForDone(ms) and self._thumbs.waitForDone(ms)

    # ------------------------------------------------------------------ reading

    def refresh_sheets(self) -> None:
        """List every sheet (most doubtful first); answers with ``sheets_listed``."""
        self._run(lambda db: db.list_sheets(), on_success=self.sheets_listed.emit)

    def load_sheet(self, sheet_id: int) -> None:
        """Fetch one sheet with its fields and page image; answers with ``sheet_loaded``."""
        self._wanted_sheet = sheet_id

        def fetch(db: Any) -> tuple[SheetRecord, QImage | None, PageLayout]:
            sheet = db.get_sheet(sheet_id)
            boxes = self._template_boxes.get(sheet.template_id)
            if boxes is None:
                boxes = self._template_boxes[sheet.template_id] = template_field_boxes(db.template_json(sheet.template_id))
            page = _decode_png(db.get_page_png(sheet_id))
            if page is None:  # e.g. a sheet that could not be aligned: show the photo as it is
                return sheet, _source_image(sheet), PageLayout()
            return sheet, page, PageLayout(boxes, crop_sizes(sheet))

        def loaded(result: tuple[SheetRecord, QImage | None, PageLayout]) -> None:
            if result[0].id == self._wanted_sheet:  # the teacher may have moved on meanwhile
                self.sheet_loaded.emit(*result)

        self._run(fetch, on_success=loaded)

    def load_thumbnails(self, sheet_ids: list[int]) -> None:
        """Small page images for the sheet list, one ``thumbnail_ready`` each (each sheet once)."""
        for sheet_id in sheet_ids:
            if sheet_id in self._thumbs_requested:
                continue
            self._thumbs_requested.add(sheet_id)
            self._run(lambda db, i=sheet_id: (i, _thumbnail(db, i)), on_success=self._thumbnail_loaded,
                      pool=self._thumbs)

    def _thumbnail_loaded(self, result: tuple[int, QImage | None]) -> None:
        sheet_id, image = result
        if image is not None:
            self.thumbnail_ready.emit(sheet_id, image)

    # ------------------------------------------------------------------ writing

    def confirm_field(self, sheet_id: int, field_name: str, value: str) -> None:
        """Write the teacher's value: a confirmation if unchanged, else a correction (audited)."""
        user = self.state.operator

        def write(db: Any) -> SheetRecord:
            current = db.get_sheet(sheet_id).get_field(field_name)
            if value == current.value:
                db.confirm_field(sheet_id, field_name, user=user)
            else:
                db.correct_field(sheet_id, field_name, value, user=user)
            return db.get_sheet(sheet_id)

        def written(sheet: SheetRecord) -> None:
            self.saved.emit(f"{sheet.label}: {field_name} = {value or '(empty)'} saved")
            self.sheet_changed.emit(sheet, "")

        self._run(write, on_success=written, on_failure=lambda _exc: self.resync_sheet(sheet_id, field_name))

    def verify_sheet(self, sheet_id: int) -> None:
        """Mark the whole sheet verified (audited)."""
        user = self.state.operator

        def written(sheet: SheetRecord) -> None:
            self.saved.emit(f"{sheet.label} verified")
            self.sheet_changed.emit(sheet, "")

        self._run(lambda db: db.verify_sheet(sheet_id, user=user), on_success=written)

    def undo(self, sheet_id: int) -> None:
        """Undo the teacher's last change on this sheet; the undone field becomes current."""
        user = self.state.operator

        def write(db: Any) -> tuple[Any, SheetRecord]:
            return db.undo(user=user, sheet_id=sheet_id), db.get_sheet(sheet_id)

        def written(result: tuple[Any, SheetRecord]) -> None:
            entry, sheet = result
            if entry is None:
                self.saved.emit(f"{sheet.label}: nothing to undo")
                return
            what = f"{entry.action} of {entry.field_name}" if entry.field_name else entry.action
            self.saved.emit(f"{sheet.label}: undid {what}")
            self.sheet_changed.emit(sheet, entry.field_name or "")

        self._run(write, on_success=written)

    def delete_sheet(self, sheet_id: int, label: str) -> None:
        """Remove a sheet (a page scanned twice, a photo of the wrong page); logged in the audit
        trail, not undoable. The sheet list is listed again afterwards."""
        user = self.state.operator

        def deleted(_result: Any) -> None:
            self.saved.emit(f"{label} deleted")
            self.refresh_sheets()

        self._run(lambda db: db.delete_sheet(sheet_id, user=user), on_success=deleted)

    def resync_sheet(self, sheet_id: int, field_name: str) -> None:
        """After a refused edit: show the stored values again, on the refused field."""
        self._run(lambda db: db.get_sheet(sheet_id), on_success=lambda s: self.sheet_changed.emit(s, field_name))
