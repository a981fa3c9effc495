"""What the whole window shares: the digit model, the database, the settings.

:class:`AppState` is a plain ``QObject`` (no widgets). It loads the slow things
in the background and announces them with signals, so every panel can enable
itself when what it needs is ready.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from marksocr.gui.tasks import run_task

log = logging.getLogger(__name__)


def load_classifier() -> Any:
    """Import TensorFlow and load the shipped digit model (seconds; worker thread only)."""
    from marksocr.recognition import DigitClassifier

    t0 = time.perf_counter()
    clf = DigitClassifier.load()
    log.info("digit model %s loaded in %.1f s", getattr(clf, "version", "?"), time.perf_counter() - t0)
    return clf


class AppState(QObject):
    """Shared, slowly-loaded resources of the application, announced by signals."""

    classifier_ready = Signal(object)
    classifier_failed = Signal(str)
    database_ready = Signal(object)
    database_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.classifier: Any = None
        self.classifier_error: str | None = None
        self._classifier_loading = False

    # ------------------------------------------------------------------ classifier

    def load_classifier_in_background(self, loader=load_classifier) -> None:  # noqa: ANN001
        """Start loading the digit model unless it is loaded or loading."""
        if self.classifier is not None or self._classifier_loading:
            return
        self._classifier_loading = True
        run_task(loader, on_success=self._on_classifier, on_failure=self._on_classifier_error)

    def set_classifier(self, classifier: Any) -> None:
        """Use an already loaded classifier (tests share one across windows)."""
        self._on_classifier(classifier)

    def _on_classifier(self, clf: Any) -> None:
        self._classifier_loading = False
        self.classifier = clf
        self.classifier_error = None
        self.classifier_ready.emit(clf)

    def _on_classifier_error(self, exc: BaseException) -> None:
        self._classifier_loading = False
        self.classifier_error = str(exc) or type(exc).__name__
        log.error("cannot load the digit model: %s", self.classifier_error,
                  exc_info=(type(exc), exc, exc.__traceback__))
        self.classifier_failed.emit(self.classifier_error)

    def model_summary(self) -> str:
        """``"digits v3, test accuracy 99.2 %"`` or why there is no model."""
        clf = self.classifier
        if clf is None:
            return self.classifier_error or "loading…"
        acc = (getattr(clf, "card", None) or {}).get("metrics", {}).get("test_accuracy")
        acc_text = f", measured test accuracy {acc * 100:.2f} %" if isinstance(acc, (int, float)) else ""
        return f"model {clf.version}{acc_text}"
