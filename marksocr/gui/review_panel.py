"""The review panel: walk a sheet's doubtful fields with the keyboard alone.

Doubtful fields come first, lowest confidence first, then the other fields. For
the current field the panel shows the crop large, the reading, each digit's
confidence and alternatives, the suggestion and the reasons. Keys:

* digits: type the right value (the reading is selected, typing replaces it);
* Enter: confirm the field (corrected or not) and go to the next doubtful one;
* Tab / Shift+Tab: next / previous field without confirming;
* F2: accept the sum-consistent suggestion;
* Ctrl+Enter: confirm (verify) the whole sheet; Ctrl+Z: undo the last change.

The panel holds no SQL: it emits requests that the controller writes to the
database, and is then given the updated sheet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import html
import logging
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QRegularExpression, QSize, Qt, Signal
from PySide6.QtGui import QFont, QImage, QKeyEvent, QKeySequence, QPixmap, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QTableView, QVBoxLayout,
    QWidget,
)

from marksocr.domain import SheetStatus
from marksocr.gui.field_table import SUM_BACKED_NOTE, FieldTableModel

if TYPE_CHECKING:  # the storage package imports SQLAlchemy: not needed to show the window
    from marksocr.storage.records import FieldRecord, SheetRecord

log = logging.getLogger(__name__)

CONFIRM_KEY = "Return"
SUGGESTION_KEY = "F2"
CONFIRM_SHEET_KEY = "Ctrl+Return"
UNDO_KEY = QKeySequence.StandardKey.Undo


def review_order(sheet: SheetRecord, threshold: float) -> list[str]:
    """Field names: doubtful ones first (lowest confidence first), then the rest in template order."""
    doubtful = sorted((f for f in sheet.fields if f.is_doubtful(threshold)), key=lambda f: (f.confidence, f.position))
    rest = sorted((f for f in sheet.fields if not f.is_doubtful(threshold)), key=lambda f: f.position)
    return [f.name for f in doubtful] + [f.name for f in rest]


def digits_html(field: FieldRecord, threshold: float) -> str:
    """One column per digit: the digit, its confidence, its alternatives."""
    if not field.digits:
        return "<i>no digits found in this field</i>"
    cells = []
    backed = field.accepted_by_sum(threshold)
    for d in field.digits:
        colour = "#2e7d32" if d.confidence >= threshold else "#ef6c00" if backed else "#c62828"
        alts = "<br>".join(f"{html.escape(lbl)} {p:.0%}" for lbl, p in d.alternatives[1:3] if lbl and p >= 0.005)
        cells.append(f"<td align='center' style='padding:2px 8px'>"
                     f"<span style='font-size:18pt;font-weight:bold;color:{colour}'>{html.escape(d.label)}</span><br>"
                     f"<span style='color:{colour}'>{d.confidence:.0%}</span><br>"
                     f"<small style='color:#666'>{alts}</small></td>")
    table = "<table><tr>" + "".join(cells) + "</tr></table>"
    if backed:
        table += f"<small style='color:#ef6c00'>{html.escape(SUM_BACKED_NOTE)}</small>"
    return table


class ReadingEdit(QLineEdit):
    """The value of the current field; turns review keys into signals."""

    confirm = Signal()
    confirm_sheet = Signal()
    next_field = Signal()
    previous_field = Signal()
    undo = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readingEdit")
        self.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9.]{0,16}"), self))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self.setFont(font)
        self.setToolTip("Type the right value; Enter confirms, Tab/Shift+Tab move between fields, "
                        "F2 accepts the suggestion, Ctrl+Enter confirms the sheet, Ctrl+Z undoes")

    def event(self, event: QEvent) -> bool:
        # Tab would move the keyboard focus; here it moves between fields.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Tab and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.next_field.emit()
                return True
            if event.key() == Qt.Key.Key_Backtab:
                self.previous_field.emit()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.confirm_sheet.emit()
            else:
                self.confirm.emit()
            return
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo.emit()  # undo in the database, not just in this line edit
            return
        super().keyPressEvent(event)


class ReviewPanel(QWidget):
    """Shows one field of the current sheet at a time and emits review requests."""

    field_confirmed = Signal(int, str, str)  # sheet id, field name, value
    sheet_confirmed = Signal(int)            # sheet id
    undo_requested = Signal(int)             # sheet id
    current_field_changed = Signal(str)      # field name ("" when none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.sheet: SheetRecord | None = None
        self.threshold = 0.9
        self._order: list[str] = []
        self._index = -1
        self._sent: set[str] = set()  # fields confirmed here whose database update is on its way
        self._build()
        self._show_nothing("Select a sheet to review.")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setObjectName("reviewTitle")
        self.title.setWordWrap(True)
        self.progress = QLabel()
        self.progress.setObjectName("reviewProgress")
        self.crop = QLabel()
        self.crop.setObjectName("fieldCrop")
        self.crop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.crop.setMinimumSize(QSize(320, 110))
        self.crop.setFrameShape(QFrame.Shape.StyledPanel)
        self.crop.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.edit = ReadingEdit()
        self.digits = QLabel()
        self.digits.setObjectName("digitConfidences")
        self.suggestion = QLabel()
        self.suggestion.setObjectName("suggestion")
        self.reasons = QLabel()
        self.reasons.setObjectName("reasons")
        self.reasons.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setObjectName("reviewHint")
        self.hint.setWordWrap(True)
        self.fields_model = FieldTableModel(self)
        self.fields_view = QTableView()
        self.fields_view.setObjectName("fieldTable")
        self.fields_view.setModel(self.fields_model)
        self.fields_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard stays on the reading
        self.fields_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.fields_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.fields_view.verticalHeader().hide()
        self.fields_view.horizontalHeader().setStretchLastSection(True)
        self.fields_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.fields_view.clicked.connect(self._field_row_clicked)
        layout = QVBoxLayout(self)
        for w in (self.title, self.progress, self.crop, self.edit, self.digits, self.suggestion, self.reasons):
            layout.addWidget(w)
        layout.addLayout(self._buttons())
        layout.addWidget(self.hint)
        layout.addWidget(self.fields_view, 1)
        self.edit.confirm.connect(self.confirm_current)
        self.edit.confirm_sheet.connect(self.confirm_sheet)
        self.edit.next_field.connect(lambda: self.move(1))
        self.edit.previous_field.connect(lambda: self.move(-1))
        self.edit.undo.connect(self.undo)

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.confirm_button = self._button("Confirm field", "Confirm this field's value and go on (Enter)",
                                           self.confirm_current)
        self.suggest_button = self._button("Accept suggestion", f"Accept the sum-consistent suggestion ({SUGGESTION_KEY})",
                                           self.accept_suggestion)
        self.sheet_button = self._button("Confirm sheet", "Mark the whole sheet as verified (Ctrl+Enter)",
                                         self.confirm_sheet)
        self.undo_button = self._button("Undo", "Undo the last change on this sheet (Ctrl+Z)", self.undo)
        for b in (self.confirm_button, self.suggest_button, self.sheet_button, self.undo_button):
            row.addWidget(b)
        return row

    @staticmethod
    def _button(text: str, tip: str, slot) -> QPushButton:  # noqa: ANN001
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep the keyboard on the reading
        b.clicked.connect(slot)
        return b

    # ------------------------------------------------------------------ content

    def _show_nothing(self, message: str) -> None:
        self.sheet, self._order, self._index = None, [], -1
        self.title.setText(message)
        for w in (self.progress, self.digits, self.suggestion, self.reasons, self.hint):
            w.clear()
        self.crop.clear()
        self.edit.clear()
        self.fields_model.set_fields([], self.threshold, None)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for w in (self.edit, self.confirm_button, self.suggest_button, self.sheet_button, self.undo_button):
            w.setEnabled(on)

    def clear(self, message: str = "Select a sheet to review.") -> None:
        self._show_nothing(message)
        self.current_field_changed.emit("")

    def show_sheet(self, sheet: SheetRecord, threshold: float, field: str | None = None) -> None:
        """Show ``sheet``. The same sheet again (after a save) keeps the order and the current field."""
        same = self.sheet is not None and self.sheet.id == sheet.id
        current = self.current_field_name() if same else None
        self.sheet, self.threshold = sheet, threshold
        if not same:
            self._order = review_order(sheet, threshold)
            self._sent = set()
        else:
            self._sent.discard(field or "")  # refused edit or undo: that field is open again
            known = set(self._order)
            self._order += [f.name for f in sheet.fields if f.name not in known]
        if not self._order:
            why = "; ".join(sheet.reasons) or "no fields were read"
            self._show_nothing(f"<b>{html.escape(sheet.label)}</b> could not be read: {html.escape(why)}.<br><br>"
                               "Take a new photo (or choose the right template) and open it again.")
            self.sheet = sheet
            self.sheet_button.setEnabled(sheet.status != SheetStatus.FAILED)
            return
        self._enable(True)
        target = field or current or self._order[0]
        # A refresh after a save must not wipe what the teacher is already typing.
        keep_text = same and field is None and target == current and self.edit.isModified()
        self._go_to(self._order.index(target) if target in self._order else 0, keep_text=keep_text)

    def current_field_name(self) -> str | None:
        return self._order[self._index] if 0 <= self._index < len(self._order) else None

    def current_field(self) -> FieldRecord | None:
        name = self.current_field_name()
        return self.sheet.get_field(name) if self.sheet is not None and name else None

    def _is_doubtful(self, name: str) -> bool:
        if self.sheet is None or name in self._sent:
            return False
        return self.sheet.get_field(name).is_doubtful(self.threshold)

    def doubtful_left(self) -> list[str]:
        """Names of fields still doubtful (not yet confirmed) on this sheet."""
        return [n for n in self._order if self._is_doubtful(n)]

    def _go_to(self, index: int, keep_text: bool = False) -> None:
        changed = index != self._index
        self._index = index
        field = self.current_field()
        assert self.sheet is not None and field is not None
        self._render_field(self.sheet, field)
        if not keep_text:
            self.edit.setText(field.value)
            self.edit.selectAll()
        self.edit.setFocus()
        if changed or not keep_text:
            self.current_field_changed.emit(field.name)

    def _field_row_clicked(self, index) -> None:  # noqa: ANN001
        field = self.fields_model.field_at(index.row())
        if field is not None:
            self.go_to_field(field.name)

    def go_to_field(self, name: str) -> None:
        """Make ``name`` the current field (a value typed in the previous one is saved)."""
        if name in self._order:
            self.commit_typed_value()
            self._go_to(self._order.index(name))

    def _render_field(self, sheet: SheetRecord, field: FieldRecord) -> None:
        self.fields_model.set_fields(sheet.fields, self.threshold, field.name)
        status = {SheetStatus.VERIFIED: "verified", SheetStatus.NEEDS_REVIEW: "needs review",
                  SheetStatus.AUTO: "auto", SheetStatus.FAILED: "failed"}.get(sheet.status, str(sheet.status))
        self.title.setText(f"<b>{html.escape(sheet.label)}</b> ({status}) - field <b>{html.escape(field.name)}</b>"
                           f" <small>({html.escape(str(field.kind))})</small>")
        left = self.doubtful_left()
        self.progress.setText(f"{len(left)} doubtful field(s) left on this sheet; field "
                              f"{self._index + 1} of {len(self._order)}")
        self._set_crop(field.crop_png)
        self.digits.setText(digits_html(field, self.threshold))
        state = "confirmed" if field.is_checked and not field.is_corrected else "corrected" if field.is_corrected else ""
        read = f"read <b>{html.escape(field.text) or '(empty)'}</b> at {field.confidence:.0%}"
        self.digits.setToolTip(read)
        if field.suggestion:
            self.suggestion.setText(f"Suggestion: <b>{html.escape(field.suggestion)}</b> "
                                    f"(<b>{SUGGESTION_KEY}</b> accepts) &nbsp; {read}")
        else:
            self.suggestion.setText(read + (f" &nbsp; <b>{state}</b>" if state else ""))
        self.suggest_button.setEnabled(bool(field.suggestion))
        # The field's own reasons, then sheet-wide ones (registration...) that belong to no field.
        field_reasons = {r for f in sheet.fields for r in f.reasons}
        reasons = list(field.reasons) + [r for r in sheet.reasons if r not in field_reasons]
        self.reasons.setText("".join(f"• {html.escape(r)}<br>" for r in reasons) or "<i>no problems found</i>")
        self.hint.setText(self._hint(left))

    def _hint(self, left: Sequence[str]) -> str:
        if self.sheet is not None and self.sheet.status == SheetStatus.VERIFIED:
            return "This sheet is verified. Ctrl+Down: next sheet."
        if not left:
            return "Every doubtful field is checked: <b>Ctrl+Enter</b> verifies the sheet and opens the next one."
        return "Type the right value, <b>Enter</b> to confirm; Tab / Shift+Tab: other fields."

    def _set_crop(self, png: bytes | None) -> None:
        image = QImage.fromData(png) if png else QImage()
        if image.isNull():
            self.crop.setText("(no field image stored)")
            return
        width = max(self.crop.width(), 320)
        pix = QPixmap.fromImage(image)
        target = pix.scaled(width - 8, 160, Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation)
        self.crop.setPixmap(target)

    # ------------------------------------------------------------------ actions

    def move(self, delta: int) -> None:
        """Tab / Shift+Tab: the next / previous field, wrapping around (a typed value is kept)."""
        if self._order:
            self.commit_typed_value()
            self._go_to((self._index + delta) % len(self._order))

    def commit_typed_value(self) -> None:
        """A value typed but not confirmed with Enter is still the teacher's correction: write it."""
        field = self.current_field()
        if self.sheet is None or field is None or not self.edit.isModified():
            return
        value = self.edit.text().strip()
        self.edit.setModified(False)
        if value != field.value:
            self._sent.add(field.name)
            self.field_confirmed.emit(self.sheet.id, field.name, value)

    def confirm_current(self) -> None:
        """Enter: write the typed value (corrected or not) and go to the next doubtful field."""
        field = self.current_field()
        if self.sheet is None or field is None:
            return
        value = self.edit.text().strip()
        self.edit.setModified(False)
        self._sent.add(field.name)
        self.field_confirmed.emit(self.sheet.id, field.name, value)
        self._advance_after(field.name)

    def accept_suggestion(self) -> None:
        """F2: take the sum-consistent suggestion as the value and go on."""
        field = self.current_field()
        if self.sheet is None or field is None or not field.suggestion:
            return
        self.edit.setText(field.suggestion)
        self.confirm_current()

    def _advance_after(self, name: str) -> None:
        # Move at once (the database write is on its way): the next doubtful field after this one.
        n = len(self._order)
        start = self._order.index(name)
        for step in range(1, n):
            candidate = self._order[(start + step) % n]
            if self._is_doubtful(candidate):
                self._go_to((start + step) % n)
                return
        self.hint.setText(self._hint([]))
        self.edit.selectAll()

    def confirm_sheet(self) -> None:
        """Ctrl+Enter: verify the whole sheet (after writing a value still being typed)."""
        if self.sheet is not None and self.sheet.status != SheetStatus.FAILED:
            self.commit_typed_value()
            self.sheet_confirmed.emit(self.sheet.id)

    def undo(self) -> None:
        if self.sheet is not None:
            self._sent.clear()  # the stored state decides again
            self.undo_requested.emit(self.sheet.id)
