"""The About box: program version, model version and its measured accuracy."""

from __future__ import annotations

import html
import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QMessageBox, QWidget

from marksocr import __version__
from marksocr.gui.state import AppState
from marksocr.versions import versions_line

_CORE = ("OpenCV", "numpy", "TensorFlow", "SQLAlchemy")  # what a reading depends on, for bug reports


def about_html(state: AppState) -> str:
    """The About text (HTML): versions and what the model card says about accuracy."""
    clf = state.classifier
    if clf is None:
        model = f"Digit model: {html.escape(state.model_summary())}"
    else:
        card = getattr(clf, "card", None) or {}
        metrics = card.get("metrics", {}) if isinstance(card, dict) else {}
        acc = metrics.get("test_accuracy")
        acc_text = f"{acc * 100:.2f} % on the MNIST test set" if isinstance(acc, (int, float)) else "not recorded"
        model = (f"Digit model: <b>{html.escape(str(clf.version))}</b><br>"
                 f"Measured accuracy: {html.escape(acc_text)}")
        extra = [f"{html.escape(k)}: {v:.4g}" for k, v in metrics.items()
                 if k != "test_accuracy" and isinstance(v, (int, float))]
        if extra:
            model += "<br><small>" + ", ".join(extra[:6]) + "</small>"
    return (f"<h3>marksocr {__version__}</h3>"
            "<p>Reads handwritten marks from photos of answer-sheet covers into a database.</p>"
            f"<p>{model}</p>"
            f"<p><small>Python {platform.python_version()}, PySide6 {pyside_version}, {html.escape(versions_line(_CORE))}"
            "</small></p>")


def show_about(parent: QWidget | None, state: AppState) -> QMessageBox:
    """Open the About box (non-blocking) and return it."""
    box = QMessageBox(QMessageBox.Icon.Information, "About marksocr", about_html(state),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("aboutBox")
    box.open()
    return box
