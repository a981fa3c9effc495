"""The review panel's keyboard flow on a fabricated sheet (no model, no database)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from PySide6.QtCore import Qt

from marksocr.domain import SheetStatus
from marksocr.storage.records import DigitRecord, FieldRecord, SheetRecord

pytestmark = pytest.mark.gui
NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)


def _field(pos: int, name: str, kind: str, text: str, conf: float, **kw) -> FieldRecord:
    digits = tuple(DigitRecord(c, conf, (i * 10, 0, 10, 20), ((c, conf), ("1", 1 - conf))) for i, c in enumerate(text))
    return FieldRecord(id=pos + 1, sheet_id=1, position=pos, name=name, kind=kind, text=text, confidence=conf,
                       digits=digits, box=(0, pos * 30, 100, 25), **kw)


SHEET = SheetRecord(
    id=1, template_id=1, template_name="t", source="/x/a.jpg", page=None, sha256="a", label="a.jpg",
    status=SheetStatus.NEEDS_REVIEW, reasons=("total 18 but marks add up to 17",), registration_quality=0.9,
    model_version="m", roll_no="123", subject_code="", min_confidence=0.4, created_at=NOW, updated_at=NOW,
    fields=(
        _field(0, "roll_no", "roll_no", "123", 0.99),
        _field(1, "Q1", "mark", "7", 0.55, reasons=("Q1: unsure character (0.55: 7 or 1)",)),
        _field(2, "Q2", "mark", "10", 0.99),
        _field(3, "total", "total", "18", 0.4, suggestion="17", reasons=("total 18 but marks add up to 17",)),
    ),
)


@pytest.fixture
def window(qtbot):
    from marksocr.gui.main_window import MainWindow

    win = MainWindow(db_url="sqlite://")  # never opened: nothing here touches the database
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.review.show_sheet(SHEET, 0.9)
    return win


def test_doubtful_fields_first_lowest_confidence_first(window):
    from marksocr.gui.review_panel import review_order

    assert review_order(SHEET, 0.9) == ["total", "Q1", "roll_no", "Q2"]
    review = window.review
    assert review.current_field_name() == "total"
    assert review.edit.text() == "18" and review.edit.selectedText() == "18"  # typing replaces it
    assert "F2" in review.suggestion.text() and "17" in review.suggestion.text()
    assert "total 18 but marks add up to 17" in review.reasons.text()
    assert window.viewer.selected_field() == "total"


def test_enter_tab_f2_and_ctrl_enter(qtbot, window):
    review = window.review
    confirmed, verified = [], []
    review.field_confirmed.connect(lambda *args: confirmed.append(args))
    review.sheet_confirmed.connect(verified.append)

    qtbot.keyClick(review.edit, Qt.Key.Key_F2)          # accept the suggestion for the total
    assert confirmed == [(1, "total", "17")]
    assert review.current_field_name() == "Q1"          # on to the next doubtful field

    qtbot.keyClick(review.edit, Qt.Key.Key_Tab)         # Tab: next field, nothing written
    assert review.current_field_name() == "roll_no" and len(confirmed) == 1
    qtbot.keyClick(review.edit, Qt.Key.Key_Backtab)
    assert review.current_field_name() == "Q1"

    qtbot.keyClicks(review.edit, "1")
    qtbot.keyClick(review.edit, Qt.Key.Key_Return)      # Enter: the typed value
    assert confirmed[-1] == (1, "Q1", "1")
    assert review.doubtful_left() == []
    assert "Ctrl+Enter" in review.hint.text()

    qtbot.keyClick(review.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert verified == [1]


def test_a_mark_the_sum_backs_is_shown_as_accepted_not_doubtful(qtbot, window):
    """An auto sheet: Q1's 7 at 0.6 was accepted because 7 + 10 = 17 is the written total."""
    from dataclasses import replace

    from marksocr.gui.field_table import SUM_BACKED_NOTE, field_state
    from marksocr.gui.review_panel import digits_html, review_order

    q1 = _field(1, "Q1", "mark", "7", 0.6, sum_backed=True)
    sheet = replace(SHEET, status=SheetStatus.AUTO, reasons=(), fields=(
        _field(0, "roll_no", "roll_no", "123", 0.999), q1, _field(2, "Q2", "mark", "10", 0.999, sum_backed=True),
        _field(3, "total", "total", "17", 0.999, sum_backed=True)))
    assert review_order(sheet, 0.9975) == ["roll_no", "Q1", "Q2", "total"]  # nothing doubtful: template order
    assert field_state(q1, 0.9975) == "adds up"
    shown = digits_html(q1, 0.9975)
    assert SUM_BACKED_NOTE in shown and "#ef6c00" in shown and "#c62828" not in shown
    # Without the sum's backing the same digit is doubtful and red.
    assert field_state(replace(q1, sum_backed=False), 0.9975) == "doubtful"
    assert "#c62828" in digits_html(replace(q1, sum_backed=False), 0.9975)
    window.review.show_sheet(sheet, 0.9975, field="Q1")
    assert window.review.doubtful_left() == []
    assert "0 doubtful field(s) left" in window.review.progress.text()
