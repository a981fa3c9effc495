"""Reads a batch of photos into the database in a worker thread.

The worker calls ``marksocr.pipeline.batch.scan_paths`` (the same function as
``marksocr scan``) and reports each page through a queued signal; it never
touches a widget. Cancel stops after the current page; what was saved stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from marksocr.gui.state import AppState
from marksocr.gui.tasks import run_task

log = logging.getLogger(__name__)


class ScanSignals(QObject):
    """Lives on the UI thread; the worker emits ``page_done`` after every page."""

    page_done = Signal(object)  # marksocr.pipeline.batch.ScanProgress


def run_scan(paths: Sequence[str], template_path: str, database: Any, classifier: Any, threshold: float,
             user: str, progress: Any, cancel: threading.Event) -> Any:
    """Worker thread: load the template, the roster's roll numbers, and scan (returns a ScanSummary)."""
    from marksocr.pipeline.batch import ScanOptions, scan_paths
    from marksocr.template import load_template

    template = load_template(template_path)
    students = database.list_students()
    options = ScanOptions(threshold=threshold, user=user,
                          roll_numbers=[s.roll_no for s in students] or None)
    return scan_paths(paths, template, database, classifier, options, progress=progress, cancel=cancel)


def summary_text(summary: Any) -> str:
    """One line for the status bar."""
    lines = summary.lines()
    failures = len(summary.failures)
    text = lines[0] + (f"; {failures} could not be read" if failures else "")
    if summary.retake:
        text += f"; {len(summary.retake)} too blurred, retake: {', '.join(summary.retake)}"
    if summary.lengths:
        text += f"; read with {summary.lengths}"
    return f"Cancelled (open the same photos again to finish): {text}" if summary.cancelled else text


class ScanController(QObject):
    """Starts, follows and cancels a batch scan; emits plain signals for the window."""

    started = Signal(int)               # number of files (0 = not known yet)
    progressed = Signal(int, int, str)  # files done, files total, label and status
    sheet_saved = Signal(int)           # sheet id, as soon as it is in the database
    finished = Signal(str)              # summary line
    waiting = Signal(str)               # why the scan has not started yet
    failed = Signal(object)             # the exception that stopped the scan

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._signals = ScanSignals(self)
        self._signals.page_done.connect(self._page_done)
        self._cancel: threading.Event | None = None
        self._pending: tuple[list[str], str] | None = None
        self.last_summary: Any = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        state.classifier_ready.connect(lambda _clf: self._start_pending())
        state.database_ready.connect(lambda _db: self._start_pending())
        state.classifier_failed.connect(lambda _msg: self._drop_pending())
        state.database_failed.connect(lambda _exc: self._drop_pending())

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def scan(self, paths: Sequence[str | Path], template_path: str | Path) -> bool:
        """Read ``paths`` with the template; starts now, or as soon as the model and database are ready."""
        if self.running or self._pending is not None:
            self.waiting.emit("A batch is already being read; wait for it or cancel it.")
            return False
        missing = self._missing_resource()
        if missing is not None:
            self.failed.emit(missing)
            return False
        self._pending = ([str(p) for p in paths], str(template_path))
        self.started.emit(0)
        if not self._start_pending():
            what = "the digit model" if self.state.classifier is None else "the database"
            self.waiting.emit(f"Reading starts as soon as {what} is loaded…")
        return True

    def _missing_resource(self) -> Exception | None:
        """Why reading cannot start at all (the model or the database failed to load)."""
        from marksocr.domain import ModelError, StorageError

        if self.state.classifier is None and self.state.classifier_error:
            return ModelError(f"cannot read sheets: the digit model did not load ({self.state.classifier_error})")
        if self.state.database is None and self.state.database_error:
            return StorageError(f"cannot read sheets: the database did not open ({self.state.database_error})")
        return None

    def _start_pending(self) -> bool:
        if self._pending is None or self.running:
            return False
        if self.state.classifier is None or self.state.database is None:
            return False
        paths, template_path = self._pending
        self._pending = None
        self._cancel = threading.Event()
        log.info("scanning %d path(s) with %s", len(paths), template_path)
        run_task(run_scan, paths, template_path, self.state.database, self.state.classifier,
                 self.state.threshold, self.state.operator, self._signals.page_done.emit, self._cancel,
                 on_success=self._done, on_failure=self._failed, pool=self._pool)
        return True

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending = None
            self.failed.emit(self._missing_resource() or RuntimeError("reading could not start"))
            self.finished.emit("Nothing was read.")

    def cancel(self) -> None:
        """Stop after the current page (a pending scan is dropped)."""
        self._pending = None
        if self._cancel is not None:
            self._cancel.set()

    def wait(self, ms: int = 30000) -> bool:
        return self._pool.waitForDone(ms)

    def _page_done(self, event: Any) -> None:
        self.progressed.emit(event.files_done, event.files_total, f"{event.label}: {event.status}")
        if event.sheet_id is not None:
            self.sheet_saved.emit(event.sheet_id)

    def _done(self, summary: Any) -> None:
        self._cancel = None
        self.last_summary = summary
        self.finished.emit(summary_text(summary))

    def _failed(self, exc: BaseException) -> None:
        self._cancel = None
        self.last_summary = None
        self.failed.emit(exc)
        self.finished.emit(f"Reading stopped: {exc}")
