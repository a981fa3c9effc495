"""Errors shown as readable dialogs, never as raw tracebacks."""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from marksocr.domain import MarksocrError

log = logging.getLogger(__name__)

_open_boxes: list[QMessageBox] = []


def describe_error(exc: BaseException) -> tuple[str, str]:
    """A title and a one-paragraph message a teacher can read."""
    if isinstance(exc, MarksocrError):
        return "marksocr", str(exc)
    if isinstance(exc, OSError):
        return "File problem", f"{exc.strerror or exc} {('(' + str(exc.filename) + ')') if exc.filename else ''}".strip()
    return "Unexpected error", f"Something went wrong: {type(exc).__name__}: {exc}\n\nThe details are in the log."


def show_error(parent: QWidget | None, exc: BaseException, tb: TracebackType | None = None) -> None:
    """Show ``exc`` in a message box (details: the traceback) and log it."""
    title, message = describe_error(exc)
    details = getattr(exc, "gui_traceback", None) or "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
    if isinstance(exc, MarksocrError):
        log.warning("%s", message)
    else:
        log.error("%s\n%s", message, details)
    if QApplication.instance() is None:
        return
    box = QMessageBox(QMessageBox.Icon.Warning if isinstance(exc, MarksocrError) else QMessageBox.Icon.Critical,
                      title, message, QMessageBox.StandardButton.Ok, parent)
    if not isinstance(exc, MarksocrError):
        box.setDetailedText(details)
    box.setObjectName("errorDialog")
    _open_boxes.append(box)
    box.finished.connect(lambda _result: _open_boxes.remove(box))
    box.open()  # window-modal and non-blocking: never freezes a test or the event loop
