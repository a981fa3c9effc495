"""The digit pad: a digit drawn with the mouse is read by the shipped model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def _mouse(widget, kind, x: float, y: float, buttons) -> None:
    pos = QPointF(x, y)
    button = Qt.MouseButton.LeftButton if kind != QMouseEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def _draw(widget, points) -> None:
    """Press, drag through ``points`` and release, like a hand with a mouse."""
    left = Qt.MouseButton.LeftButton
    _mouse(widget, QMouseEvent.Type.MouseButtonPress, *points[0], left)
    for x, y in points[1:]:
        _mouse(widget, QMouseEvent.Type.MouseMove, x, y, left)
    _mouse(widget, QMouseEvent.Type.MouseButtonRelease, *points[-1], Qt.MouseButton.NoButton)


STROKES = {
    1: [(140, 50 + i * 9) for i in range(21)],
    0: [(140 + 55 * math.sin(t / 20 * 2 * math.pi), 140 - 85 * math.cos(t / 20 * 2 * math.pi)) for t in range(22)],
    7: [(80 + i * 6, 55) for i in range(21)] + [(200 - i * 4.5, 55 + i * 9) for i in range(1, 21)],
}


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_digit_pad_predicts_a_drawn_digit(qtbot, classifier, digit):
    from marksocr.gui.digit_pad import DigitPadDialog
    from marksocr.gui.state import AppState

    state = AppState()
    state.set_classifier(classifier)
    pad = DigitPadDialog(state)
    qtbot.addWidget(pad)
    pad.show()
    assert pad.canvas.is_empty()
    with qtbot.waitSignal(pad.predicted, timeout=30_000) as blocker:
        _draw(pad.canvas, STROKES[digit])
    best, probs = blocker.args
    assert not pad.canvas.is_empty()
    assert best == digit, f"drew {digit}, model says {best} ({np.round(probs, 3)})"
    shown = pad.bars.probabilities()
    assert shown is not None and shown.shape == (10,) and abs(shown.sum() - 1) < 1e-3
    assert f"<b>{digit}</b>" in pad.result_label.text()
    pad.clear()
    assert pad.canvas.is_empty() and pad.bars.probabilities() is None


def test_digit_pad_waits_for_the_model(qtbot):
    from marksocr.gui.digit_pad import DigitPadDialog
    from marksocr.gui.state import AppState

    pad = DigitPadDialog(AppState())
    qtbot.addWidget(pad)
    _draw(pad.canvas, STROKES[1])
    assert "loading" in pad.result_label.text()
    assert pad.bars.probabilities() is None
