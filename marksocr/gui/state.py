"""What the whole window shares: the digit model, the database, the settings.

:class:`AppState` is a plain ``QObject`` (no widgets). It loads the slow things
in the background and announces them with signals, so every panel can enable
itself when what it needs is ready.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from marksocr.domain import MarksocrError
from marksocr.gui.tasks import run_task
from marksocr.settings import Settings, load_settings

log = logging.getLogger(__name__)


def load_classifier() -> Any:
    """Import TensorFlow and load the shipped digit model (seconds; worker thread only)."""
    from marksocr.recognition import DigitClassifier

    t0 = time.perf_counter()
    clf = DigitClassifier.load()
    log.info("digit model %s loaded in %.1f s", getattr(clf, "version", "?"), time.perf_counter() - t0)
    return clf


def _open_database(url: str | None) -> Any:
    """Open and migrate the database (worker thread only)."""
    from marksocr.storage import Database

    t0 = time.perf_counter()
    db = Database.open(url)
    log.info("opened %s in %.2f s", db.description, time.perf_counter() - t0)
    return db


class AppState(QObject):
    """Shared, slowly-loaded resources of the application, announced by signals."""

    classifier_ready = Signal(object)
    classifier_failed = Signal(str)
    database_ready = Signal(object)
    database_failed = Signal(object)  # the exception
    settings_changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.classifier: Any = None
        self.classifier_error: str | None = None
        self._classifier_loading = False
        self.database: Any = None
        self.database_error: str | None = None
        self.settings_error: str | None = None
        self.settings: Settings = self._load_settings()
        self._db_generation = 0
        self._requested_db_url: str | None = None

    # ------------------------------------------------------------------ settings

    def _load_settings(self) -> Settings:
        try:
            return load_settings()
        except MarksocrError as exc:  # a broken settings file must not stop the window
            self.settings_error = str(exc)
            log.error("%s; using the defaults", exc)
            return Settings()

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings (saved by the settings dialog); reopen the database if it moved."""
        old_url = self.settings.db_url
        self.settings = self._with_env(settings)
        self.settings_changed.emit(self.settings)
        if self.settings.db_url != old_url:
            self.open_database_in_background(self._requested_db_url)  # --db, if given, still wins

    @staticmethod
    def _with_env(settings: Settings) -> Settings:
        try:
            return load_settings()  # the saved file plus $MARKSOCR_* overrides
        except MarksocrError:
            return settings

    @property
    def threshold(self) -> float:
        return float(self.settings.threshold)

    @property
    def operator(self) -> str:
        return self.settings.operator

    # ------------------------------------------------------------------ database

    def open_database_in_background(self, url: str | None) -> None:
        """Open (and migrate) the database off the UI thread; ``url`` None: $MARKSOCR_DB / settings / default."""
        self._requested_db_url = url
        self._db_generation += 1
        generation = self._db_generation
        run_task(_open_database, url,
                 on_success=lambda db: self._on_database(db, generation),
                 on_failure=self._on_database_error)

    def set_database(self, database: Any) -> None:
        """Use an already opened database."""
        self._db_generation += 1
        self._on_database(database, self._db_generation)

    def _on_database(self, db: Any, generation: int) -> None:
        if generation != self._db_generation:  # a newer open superseded this one
            db.close()
            return
        old, self.database, self.database_error = self.database, db, None
        if old is not None and old is not db:
            old.close()
        self.database_ready.emit(db)

    def _on_database_error(self, exc: BaseException) -> None:
        self.database_error = str(exc)
        log.error("cannot open the database: %s", exc)
        self.database_failed.emit(exc)

    def close(self) -> None:
        """Close the database (the window is closing)."""
        if self.database is not None:
            self.database.close()
            self.database = None

    # ------------------------------------------------------------------ classifier

    def load_classifier_in_background(self, loader: Callable[[], Any] | None = None) -> None:
        """Start loading the digit model (``loader``, default: the shipped one) unless loaded or loading."""
        if self.classifier is not None or self._classifier_loading:
            return
        self._classifier_loading = True
        run_task(loader or load_classifier, on_success=self._on_classifier, on_failure=self._on_classifier_error)

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

    def model_accuracy_text(self) -> str:
        """``"99.58 % on MNIST test digits"``, or "" when the card does not say."""
        card = getattr(self.classifier, "card", None) or {}
        acc = card.get("metrics", {}).get("test_accuracy") if isinstance(card, dict) else None
        return f"{acc * 100:.2f} % on MNIST test digits" if isinstance(acc, (int, float)) else ""

    def model_summary(self) -> str:
        """``"digits v3, test accuracy 99.2 %"`` or why there is no model."""
        clf = self.classifier
        if clf is None:
            return self.classifier_error or "loading…"
        acc = (getattr(clf, "card", None) or {}).get("metrics", {}).get("test_accuracy")
        acc_text = f", measured test accuracy {acc * 100:.2f} %" if isinstance(acc, (int, float)) else ""
        return f"model {clf.version}{acc_text}"
