"""The Qt item models over storage records: order, filters, and Qt's model contract."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from marksocr.domain import SheetStatus
from marksocr.storage.records import DigitRecord, FieldRecord, SheetRecord

pytestmark = pytest.mark.gui

NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)


def _sheet(i: int, status: SheetStatus, conf: float, reasons: tuple[str, ...] = ()) -> SheetRecord:
    return SheetRecord(id=i, template_id=1, template_name="t", source=f"/x/s{i}.jpg", page=None, sha256=str(i),
                       label=f"s{i}.jpg", status=status, reasons=reasons, registration_quality=1.0,
                       model_version="m", roll_no=f"{i}" * 3, subject_code="", min_confidence=conf,
                       created_at=NOW, updated_at=NOW)


SHEETS = [
    _sheet(1, SheetStatus.VERIFIED, 0.2),
    _sheet(2, SheetStatus.AUTO, 0.97),
    _sheet(3, SheetStatus.NEEDS_REVIEW, 0.8, ("Q3 = 18 > max 15",)),
    _sheet(4, SheetStatus.FAILED, 0.0, ("no page found",)),
    _sheet(5, SheetStatus.NEEDS_REVIEW, 0.4, ("total 58 but marks add up to 57", "roll number not in roster")),
    _sheet(6, SheetStatus.AUTO, 0.93),
]


def _shown(panel) -> list[int]:
    from marksocr.gui.sheet_list import RecordRole

    return [panel.proxy.index(r, 0).data(RecordRole).id for r in range(panel.proxy.rowCount())]


def test_sheet_list_most_doubtful_first_and_filters(qtbot, qtmodeltester):
    from marksocr.gui.sheet_list import FILTERS, SheetListModel, SheetListPanel

    model = SheetListModel()
    model.set_records(SHEETS)
    qtmodeltester.check(model)
    panel = SheetListPanel(model)
    qtbot.addWidget(panel)
    assert _shown(panel) == [5, 3, 4, 6, 2, 1]
    assert panel.first_to_review() == 5
    assert "total 58 but marks add up to 57 (+1 more)" in model.index(model.row_of(5)).data()
    assert panel.summary.text() == "6 sheets: 2 needs review, 1 failed, 2 auto, 1 verified"

    panel.filter.setCurrentIndex([t for t, _ in FILTERS].index("Verified"))
    assert _shown(panel) == [1]
    panel.filter.setCurrentIndex([t for t, _ in FILTERS].index("To do (needs review or failed)"))
    assert _shown(panel) == [5, 3, 4]

    # A sheet verified meanwhile drops out of "to do"; a new sheet appears at its place.
    model.merge_records([*[s for s in SHEETS if s.id != 5], _sheet(5, SheetStatus.VERIFIED, 0.4),
                         _sheet(7, SheetStatus.NEEDS_REVIEW, 0.1)])
    assert _shown(panel) == [7, 3, 4]
    panel.select_sheet(1)  # filtered out: the filter resets to show it
    assert panel.current_sheet_id() == 1 and panel.filter.currentIndex() == 0


def test_field_table_model(qtmodeltester):
    from marksocr.gui.field_table import FieldTableModel

    fields = [
        FieldRecord(id=1, sheet_id=1, position=0, name="Q1", kind="mark", text="7", confidence=0.99,
                    digits=(DigitRecord("7", 0.99, (0, 0, 5, 5)),)),
        FieldRecord(id=2, sheet_id=1, position=1, name="Q2", kind="mark", text="1", confidence=0.5,
                    reasons=("Q2: unsure character",)),
        FieldRecord(id=3, sheet_id=1, position=2, name="total", kind="total", text="8", confidence=0.6,
                    corrected_value="9"),
    ]
    model = FieldTableModel()
    model.set_fields(fields, 0.9, "Q2")
    qtmodeltester.check(model)
    states = [model.index(r, 3).data() for r in range(3)]
    assert states == ["ok", "doubtful", "corrected"]
    assert model.index(2, 1).data() == "9"
    from PySide6.QtCore import Qt

    assert model.index(1, 0).data(Qt.ItemDataRole.FontRole).bold()  # the current field
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole) is None
