"""Digit pad: draw a digit with the mouse and see what the model thinks.

A quick way for a teacher to trust (or distrust) the classifier: the prediction
and all ten probabilities are shown as bars.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from marksocr.gui.images import qimage_to_gray_array
from marksocr.gui.state import AppState
from marksocr.gui.tasks import run_task

log = logging.getLogger(__name__)


class DigitCanvas(QWidget):
    """A white square to write on with the mouse, black ink; emits ``stroke_finished``."""

    stroke_finished = Signal()

    def __init__(self, size: int = 280, pen_width: int = 22, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(size, size)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._pen = QPen(Qt.GlobalColor.black, pen_width, Qt.PenStyle.SolidLine,
                         Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        self._image = QImage(size, size, QImage.Format.Format_Grayscale8)
        self._last: QPointF | None = None
        self.clear()

    def clear(self) -> None:
        """Wipe the canvas."""
        self._image.fill(Qt.GlobalColor.white)
        self.update()

    def is_empty(self) -> bool:
        return bool(self.to_array().min() == 255)

    def to_array(self) -> np.ndarray:
        """The drawing as a (H, W) uint8 array, dark ink on light paper."""
        return qimage_to_gray_array(self._image)

    def draw_stroke(self, points: Sequence[tuple[float, float]]) -> None:
        """Draw a polyline (canvas pixels) as if written with the mouse."""
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen)
        pts = [QPointF(x, y) for x, y in points]
        for a, b in zip(pts, pts[1:]):
            painter.drawLine(a, b)
        if len(pts) == 1:
            painter.drawPoint(pts[0])
        painter.end()
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.draw_stroke([(self._last.x(), self._last.y())])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None and event.buttons() & Qt.MouseButton.LeftButton:
            p = event.position()
            self.draw_stroke([(self._last.x(), self._last.y()), (p.x(), p.y())])
            self._last = p

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._last is not None and event.button() == Qt.MouseButton.LeftButton:
            self._last = None
            self.stroke_finished.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(0, 0, self._image)
        painter.setPen(QPen(QColor("#bbbbbb"), 1, Qt.PenStyle.DashLine))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()


class ProbabilityBars(QWidget):
    """Ten horizontal bars, one per digit, the most likely one highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._probs: np.ndarray | None = None
        self.setMinimumSize(220, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_probabilities(self, probs: Sequence[float] | None) -> None:
        self._probs = None if probs is None else np.asarray(probs, dtype=float)
        self.update()

    def probabilities(self) -> np.ndarray | None:
        return self._probs

    def sizeHint(self) -> QSize:
        return QSize(260, 280)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = painter.fontMetrics()
        label_w, value_w = fm.horizontalAdvance("0") + 12, fm.horizontalAdvance("100.0 %") + 8
        row_h = self.height() / 10
        bar_w = max(10.0, self.width() - label_w - value_w)
        best = int(np.argmax(self._probs)) if self._probs is not None else -1
        for d in range(10):
            y = d * row_h
            p = float(self._probs[d]) if self._probs is not None else 0.0
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(0, y, label_w, row_h), Qt.AlignmentFlag.AlignCenter, str(d))
            track = QRectF(label_w, y + row_h * 0.2, bar_w, row_h * 0.6)
            painter.fillRect(track, QColor("#e6e6e6"))
            painter.fillRect(QRectF(track.x(), track.y(), bar_w * p, track.height()),
                             QColor("#2e7d32") if d == best else QColor("#7986cb"))
            text = f"{p * 100:.1f} %" if self._probs is not None else ""
            painter.drawText(QRectF(label_w + bar_w + 4, y, value_w, row_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.end()


class DigitPadDialog(QDialog):
    """Write a digit, see the classifier's prediction and its ten probabilities."""

    predicted = Signal(int, object)  # best digit, the (10,) probabilities

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Digit pad")
        self.setObjectName("digitPad")
        self._state = state
        self.canvas = DigitCanvas()
        self.bars = ProbabilityBars()
        self.result_label = QLabel()
        self.result_label.setObjectName("digitPadResult")
        font = self.result_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.result_label.setFont(font)
        clear = QPushButton("&Clear")
        clear.setShortcut("Delete")
        clear.setToolTip("Wipe the pad (Delete)")
        clear.clicked.connect(self.clear)
        self._build_layout(clear)
        self.canvas.stroke_finished.connect(self.predict)
        state.classifier_ready.connect(lambda _clf: self._show_waiting())
        state.classifier_failed.connect(lambda _msg: self._show_waiting())
        self._show_waiting()

    def _build_layout(self, clear: QPushButton) -> None:
        left = QVBoxLayout()
        hint = QLabel("Write one digit with the mouse:")
        left.addWidget(hint)
        left.addWidget(self.canvas)
        left.addWidget(clear)
        right = QVBoxLayout()
        right.addWidget(self.result_label)
        right.addWidget(self.bars, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)

    def _show_waiting(self) -> None:
        if self._state.classifier is None:
            self.result_label.setText(f"Model: {self._state.model_summary()}")
        elif self.canvas.is_empty():
            self.result_label.setText("Draw a digit")
        else:
            self.predict()

    def clear(self) -> None:
        self.canvas.clear()
        self.bars.set_probabilities(None)
        self._show_waiting()

    def predict(self) -> None:
        """Classify the drawing in the background; the result arrives as ``predicted``."""
        clf = self._state.classifier
        if clf is None:
            self._show_waiting()
            return
        crop = self.canvas.to_array()
        self.result_label.setText("Reading…")
        run_task(clf.predict_proba, [crop], on_success=self._show_prediction, on_failure=self._show_failure)

    def _show_prediction(self, probs: Any) -> None:
        row = np.asarray(probs, dtype=float)[0]
        best = int(np.argmax(row))
        self.bars.set_probabilities(row)
        self.result_label.setText(f"Prediction: <b>{best}</b> ({row[best] * 100:.1f} %)")
        self.predicted.emit(best, row)

    def _show_failure(self, exc: BaseException) -> None:
        log.error("digit pad prediction failed: %s", exc)
        self.result_label.setText(f"Cannot read: {exc}")
