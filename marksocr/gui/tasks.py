"""Run slow core functions off the UI thread and report back with signals.

Background work never touches widgets: a :class:`Task` runs a plain callable in
the global ``QThreadPool`` and emits ``succeeded`` / ``failed`` (and
``progressed``) which Qt delivers, queued, on the UI thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    """Signals of one :class:`Task`; lives on the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)  # the exception; its formatted traceback is in ``.gui_traceback``
    progressed = Signal(int, int, str)  # done, total, message
    finished = Signal()


class Task(QRunnable):
    """A callable run in the thread pool.

    If ``fn`` accepts ``progress`` / ``cancel`` keyword arguments (``with_progress=True``),
    it is given a ``progress(done, total, message)`` callback that emits
    ``progressed`` and a ``cancel()`` predicate that turns true after :meth:`cancel`.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self.signals = TaskSignals()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancelled = threading.Event()
        if with_progress:
            self._kwargs.setdefault("progress", self._report)
            self._kwargs.setdefault("cancel", self._cancelled.is_set)
        self.setAutoDelete(False)  # the pool must not delete it while Python still holds it

    def cancel(self) -> None:
        """Ask the callable to stop at its next check (it sees ``cancel()`` return True)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _report(self, done: int, total: int, message: str = "") -> None:
        self.signals.progressed.emit(int(done), int(total), str(message))

    def run(self) -> None:  # runs on a worker thread
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # reported to the UI thread, which decides how to show it
            exc.gui_traceback = traceback.format_exc()  # type: ignore[attr-defined]
            log.debug("task %s failed", getattr(self._fn, "__name__", self._fn), exc_info=True)
            self._emit(self.signals.failed, exc)
        else:
            self._emit(self.signals.succeeded, result)
        finally:
            self._emit(self.signals.finished)

    def _emit(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the application quit while this ran: nobody is listening any more
            log.debug("task %s finished after the application quit", getattr(self._fn, "__name__", self._fn))


_running: set[Task] = set()


def run_task(
    fn: Callable[..., Any],
    *args: Any,
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Task:
    """Start ``fn(*args, **kwargs)`` in the thread pool and return its :class:`Task`.

    The callbacks run on the UI thread. The task is kept alive until it finishes.
    """
    task = Task(fn, *args, with_progress=on_progress is not None, **kwargs)
    if on_success is not None:
        task.signals.succeeded.connect(on_success)
    if on_failure is not None:
        task.signals.failed.connect(on_failure)
    if on_progress is not None:
        task.signals.progressed.connect(on_progress)
    _running.add(task)
    task.signals.finished.connect(lambda: _running.discard(task))
    (pool or QThreadPool.globalInstance()).start(task)
    return task


def wait_for_all_tasks(timeout_ms: int = 30000) -> bool:
    """Wait for the global pool to drain (used when closing the window and in tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
