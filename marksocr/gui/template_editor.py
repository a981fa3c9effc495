"""The template editor: draw the fields of a kind of answer sheet, or print our own sheet.

Load a blank sheet image (or an existing template), draw, move and resize field
boxes, give each a name, kind, comb cells and maximum mark, and save the
``marksocr.template/1`` JSON through :mod:`marksocr.template`. "New printable
sheet" calls :mod:`marksocr.sheets.printable` (the same as ``marksocr template new``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDockWidget, QDoubleSpinBox, QFileDialog, QFormLayout, QLabel, QLineEdit,
    QListWidget, QMainWindow, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from marksocr.gui.actions import ActionSpec, add_menu, add_toolbar, make_actions
from marksocr.gui.errors import show_error
from marksocr.gui.images import array_to_qimage
from marksocr.gui.tasks import run_task
from marksocr.gui.template_canvas import FieldBoxItem, FieldProps, TemplateCanvas, TemplateScene
from marksocr.gui.widgets import PathPicker

log = logging.getLogger(__name__)

KINDS = ("roll_no", "subject_code", "mark", "total")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)"
_OWN_KEYS = ("schema", "name", "reference_image", "page_size", "fields")


def _load_page(path: str) -> QImage:
    """Worker thread: the image as marksocr reads it (EXIF orientation applied), as a QImage."""
    from marksocr.imaging.io import load_image

    return array_to_qimage(load_image(path))


def _load_template_and_page(path: str) -> tuple[Any, QImage | None]:
    from marksocr.template import load_template

    template = load_template(path)
    image = _load_page(str(template.reference_image)) if template.reference_image else None
    return template, image


def _write_printable(out_dir: str, spec: Any) -> str:
    from marksocr.sheets.printable import write_sheet

    return str(write_sheet(Path(out_dir), spec))


def _free_id(props: FieldProps) -> bool:
    """A free-written roll number or subject code: the one kind of field a digit count is for
    (a comb has its cells; a mark's length follows from its maximum)."""
    return not props.cells and props.kind in ("roll_no", "subject_code")


class FieldForm(QWidget):
    """Name, kind, comb cells and maximum of the selected field."""

    changed = Signal()
    delete_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box: FieldBoxItem | None = None
        self.name = QLineEdit()
        self.name.setObjectName("fieldName")
        self.kind = QComboBox()
        self.kind.setObjectName("fieldKind")
        self.kind.setEditable(True)
        self.kind.addItems(KINDS)
        self.cells = QSpinBox()
        self.cells.setObjectName("fieldCells")
        self.cells.setRange(0, 20)
        self.cells.setSpecialValueText("free writing")
        self.cells.setToolTip("Number of comb cells (one digit per cell); 'free writing' for none")
        self.digits = QSpinBox()
        self.digits.setObjectName("fieldDigits")
        self.digits.setRange(0, 20)
        self.digits.setSpecialValueText("not fixed")
        self.digits.setToolTip("How many digits a free-written roll number or subject code holds. "
                               "When not fixed, a scan learns it from what most of its sheets read")
        self.max = QDoubleSpinBox()
        self.max.setObjectName("fieldMax")
        self.max.setRange(0, 999)
        self.max.setDecimals(1)
        self.max.setSpecialValueText("no maximum")
        delete = QPushButton("Delete field")
        delete.setToolTip("Remove the selected field (Delete)")
        delete.clicked.connect(self.delete_requested)
        form = QFormLayout(self)
        form.addRow("&Name:", self.name)
        form.addRow("&Kind:", self.kind)
        form.addRow("&Cells:", self.cells)
        form.addRow("&Digits:", self.digits)
        form.addRow("&Max marks:", self.max)
        form.addRow(delete)
        self.name.textEdited.connect(self._store)
        self.kind.currentTextChanged.connect(self._store)
        self.cells.valueChanged.connect(self._store)
        self.digits.valueChanged.connect(self._store)
        self.max.valueChanged.connect(self._store)
        self.set_box(None)

    def set_box(self, box: FieldBoxItem | None) -> None:
        self.box = None  # no _store while filling
        self.setEnabled(box is not None)
        props = box.props if box is not None else FieldProps(name="")
        self.name.setText(props.name)
        self.kind.setCurrentText(props.kind)
        self.cells.setValue(props.cells or 0)
        self.digits.setValue(props.digits or 0)
        self.max.setValue(props.max or 0)
        self._enable_digits(props)
        self.box = box

    def _enable_digits(self, props: FieldProps) -> None:
        self.digits.setEnabled(_free_id(props))

    def _store(self, *_args: object) -> None:
        if self.box is None:
            return
        p = self.box.props
        p.name, p.kind = self.name.text().strip(), self.kind.currentText().strip()
        p.cells = self.cells.value() or None
        p.digits = self.digits.value() or None
        p.max = self.max.value() or None
        self._enable_digits(p)
        self.box.refresh()
        self.changed.emit()


class PrintableSheetDialog(QDialog):
    """Options of a printable marksocr sheet (``marksocr template new``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New printable sheet")
        self.name = QLineEdit("marksocr answer sheet")
        self.questions = QSpinBox()
        self.questions.setRange(1, 30)
        self.questions.setValue(10)
        self.max_marks = QLineEdit("10")
        self.max_marks.setToolTip("One maximum for every question, or one per question separated by commas")
        self.roll_cells = QSpinBox()
        self.roll_cells.setRange(1, 12)
        self.roll_cells.setValue(8)
        self.subject_cells = QSpinBox()
        self.subject_cells.setRange(1, 12)
        self.subject_cells.setValue(5)
        self.folder = PathPicker("Folder for the sheet", "")
        self.folder.set_text(Path.home() / "marksocr-sheet")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&Name:", self.name)
        form.addRow("&Questions:", self.questions)
        form.addRow("Max &marks:", self.max_marks)
        form.addRow("&Roll number cells:", self.roll_cells)
        form.addRow("&Subject code cells:", self.subject_cells)
        form.addRow("&Folder:", self.folder)
        form.addRow(buttons)

    def spec(self) -> Any:
        """The sheet spec (raises ``TemplateError`` for bad values)."""
        from marksocr.sheets.printable import make_spec

        try:
            maxima = [float(v) for v in self.max_marks.text().replace(";", ",").split(",") if v.strip()]
        except ValueError:
            from marksocr.domain import TemplateError

            raise TemplateError(f"max marks: {self.max_marks.text()!r} is not a list of numbers") from None
        return make_spec(self.name.text().strip() or None, self.questions.value(), maxima,
                         self.roll_cells.value(), self.subject_cells.value())


class TemplateEditor(QMainWindow):
    """Draw a template's fields on a blank sheet and save it as JSON."""

    loaded = Signal()
    saved = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Template editor")
        self.setObjectName("templateEditor")
        self.setWindowFlag(Qt.WindowType.Window)
        self.image_path: Path | None = None
        self.template_path: Path | None = None
        self._extra: dict[str, Any] = {}
        self.scene = TemplateScene(self)
        self.canvas = TemplateCanvas(self.scene)
        self.setCentralWidget(self.canvas)
        self.template_name = QLineEdit("New template")
        self.template_name.setObjectName("templateName")
        self.field_list = QListWidget()
        self.field_list.setObjectName("fieldList")
        self.form = FieldForm()
        self._build_side_panel()
        self._build_actions()
        self.scene.box_drawn.connect(self._select_box)
        self.scene.boxes_changed.connect(self._refresh_list)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.field_list.currentRowChanged.connect(self._list_row_changed)
        self.form.changed.connect(self._refresh_list)
        self.form.delete_requested.connect(self.delete_selected)
        self.canvas.delete_requested.connect(self.delete_selected)
        self.statusBar().showMessage("Open a blank sheet image (Ctrl+O), then drag on the paper to draw each field.")
        self.resize(1300, 900)

    def _build_side_panel(self) -> None:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.addWidget(QLabel("Template name:"))
        layout.addWidget(self.template_name)
        layout.addWidget(QLabel("Fields (drag on the paper to add one):"))
        layout.addWidget(self.field_list, 1)
        layout.addWidget(self.form)
        dock = QDockWidget("Fields", self)
        dock.setObjectName("dock_fields")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _build_actions(self) -> None:
        specs = [
            ActionSpec("open_image", "Open blank &sheet image…", self.choose_image, QKeySequence.StandardKey.Open,
                       "Load a photo or scan of an empty sheet"),
            ActionSpec("open_template", "Open &template…", self.choose_template, "Ctrl+Shift+O",
                       "Edit an existing template"),
            ActionSpec("save", "&Save template…", self.choose_save_path, QKeySequence.StandardKey.Save,
                       "Write the template JSON"),
            ActionSpec("printable", "New &printable sheet…", self.choose_printable, QKeySequence.StandardKey.New,
                       "Generate a marksocr sheet to print (with markers) and its template"),
            ActionSpec("delete", "&Delete field", self.delete_selected, None, "Remove the selected field (Delete)"),
            ActionSpec("fit", "&Fit page", self.canvas.fit, "Ctrl+0", "Show the whole sheet"),
            ActionSpec("close", "&Close", self.close, QKeySequence.StandardKey.Close, "Close the editor"),
        ]
        self.actions_by_key = make_actions(self, specs)
        a = self.actions_by_key
        add_menu(self.menuBar(), "&Template", a, ["open_image", "open_template", "save", None, "printable", None,
                                                 "close"])
        add_menu(self.menuBar(), "&Edit", a, ["delete", "fit"])
        add_toolbar(self, "Template", a, ["open_image", "open_template", "save", None, "printable", None, "fit"])

    # ------------------------------------------------------------------ loading

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a blank sheet image", str(Path.home()), IMAGE_FILTER)
        if path:
            self.load_image(Path(path))

    def load_image(self, path: Path) -> None:
        """Start a new template on this image (decoded in the background)."""
        self.statusBar().showMessage(f"Loading {path.name}…")
        run_task(_load_page, str(path), on_success=lambda image: self._image_loaded(Path(path), image),
                 on_failure=lambda exc: show_error(self, exc))

    def _image_loaded(self, path: Path, image: QImage) -> None:
        self.image_path, self.template_path, self._extra = path.resolve(), None, {}
        self.scene.set_image(image)
        self.canvas.fit()
        self._refresh_list()
        self.statusBar().showMessage(f"{path.name}: {image.width()} x {image.height()} px. Drag on the paper to draw a field.")
        self.loaded.emit()

    def choose_template(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a template", str(Path.home()), "Templates (*.json)")
        if path:
            self.load_template_file(Path(path))

    def load_template_file(self, path: Path) -> None:
        """Open an existing template (validated by ``marksocr.template``) for editing."""
        run_task(_load_template_and_page, str(path), on_success=self._template_loaded,
                 on_failure=lambda exc: show_error(self, exc))

    def _template_loaded(self, result: tuple[Any, QImage | None]) -> None:
        template, image = result
        if image is None:
            show_error(self, ValueError(f"{template.path}: the template has no reference image to draw on"))
            return
        self.scene.set_image(image)
        self.image_path, self.template_path = template.reference_image, template.path
        self._extra = {k: v for k, v in template.raw.items() if k not in _OWN_KEYS}
        self.template_name.setText(template.name)
        self.template_name.setCursorPosition(0)
        w, h = image.width(), image.height()
        for f in template.fields:
            x, y, bw, bh = f.box
            kind = f.kind.value if hasattr(f.kind, "value") else str(f.kind)
            extra = {k: v for k, v in f.extra.items() if k != "digits"}
            digits = f.extra.get("digits")
            props = FieldProps(f.name, kind, f.cells, f.max, int(digits) if str(digits).isdigit() else None, extra)
            self.scene.add_box(QRectF(x * w, y * h, bw * w, bh * h), props)
        self.canvas.fit()
        self.statusBar().showMessage(f"{template.path}: {len(template.fields)} fields")
        self.loaded.emit()

    # ------------------------------------------------------------------ fields

    def _refresh_list(self) -> None:
        boxes = self.scene.boxes()
        current = self.form.box
        self.field_list.blockSignals(True)
        self.field_list.clear()
        for b in boxes:
            extra = f", {b.props.cells} cells" if b.props.cells else ""
            extra += f", {b.props.digits} digits" if (_free_id(b.props) and b.props.digits) else ""
            extra += f", max {b.props.max:g}" if b.props.max else ""
            self.field_list.addItem(f"{b.props.name} ({b.props.kind}{extra})")
        if current in boxes:
            self.field_list.setCurrentRow(boxes.index(current))
        self.field_list.blockSignals(False)

    def _select_box(self, box: FieldBoxItem) -> None:
        self.scene.clearSelection()
        box.setSelected(True)
        self.form.set_box(box)
        self._refresh_list()
        self.form.name.setFocus()
        self.form.name.selectAll()

    def _selection_changed(self) -> None:
        selected = [i for i in self.scene.selectedItems() if isinstance(i, FieldBoxItem)]
        self.form.set_box(selected[0] if selected else None)
        self._refresh_list()

    def _list_row_changed(self, row: int) -> None:
        boxes = self.scene.boxes()
        if 0 <= row < len(boxes):
            self.scene.clearSelection()
            boxes[row].setSelected(True)
            self.canvas.ensureVisible(boxes[row])

    def delete_selected(self) -> None:
        for item in self.scene.selectedItems():
            if isinstance(item, FieldBoxItem):
                self.scene.removeItem(item)
        self.form.set_box(None)
        self._refresh_list()

    # ------------------------------------------------------------------ saving

    def template_dict(self, path: Path) -> dict[str, Any]:
        """The template JSON object for a file at ``path`` (boxes as page fractions)."""
        if self.image_path is None:
            from marksocr.domain import TemplateError

            raise TemplateError("open a blank sheet image first: the template needs a reference image")
        page = self.scene.page
        w, h = page.width(), page.height()
        fields = []
        for b in self.scene.boxes():
            r = b.scene_rect()
            box = [r.left() / w, r.top() / h, r.width() / w, r.height() / h]
            field: dict[str, Any] = {**b.props.extra, "name": b.props.name, "kind": b.props.kind,  # keys it does not edit: kept
                                     "box": [round(min(max(v, 0.0), 1.0), 6) for v in box]}
            if b.props.cells:
                field["cells"] = b.props.cells
            if (_free_id(b.props) and b.props.digits):
                field["digits"] = b.props.digits
            if b.props.max:
                field["max"] = b.props.max
            fields.append(field)
        reference = Path(os.path.relpath(self.image_path, path.resolve().parent)).as_posix()
        data: dict[str, Any] = {"schema": "marksocr.template/1", "name": self.template_name.text().strip(),
                                "reference_image": reference, "page_size": [int(w), int(h)]}
        data.update(self._extra)  # markers of a printed sheet, unknown keys: kept
        data["fields"] = fields
        return data

    def choose_save_path(self) -> None:
        start = str(self.template_path or (self.image_path.with_suffix(".json") if self.image_path else Path.home()))
        path, _ = QFileDialog.getSaveFileName(self, "Save the template", start, "Templates (*.json)")
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Validate and write the template; errors are shown, not raised."""
        from marksocr.template import save_template

        try:
            written = save_template(self.template_dict(path), path)
        except Exception as exc:  # TemplateError names the field and key; OSError the file
            show_error(self, exc)
            return False
        self.template_path = written
        self.statusBar().showMessage(f"Saved {written}")
        self.saved.emit(str(written))
        return True

    # ------------------------------------------------------------------ printable sheet

    def choose_printable(self) -> None:
        dialog = PrintableSheetDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            spec = dialog.spec()
        except Exception as exc:
            show_error(self, exc)
            return
        folder = dialog.folder.path() or Path.home() / "marksocr-sheet"
        self.generate_printable(folder, spec)

    def generate_printable(self, folder: Path, spec: Any) -> None:
        """Write blank.png, blank.pdf and template.json in ``folder`` and open the template."""
        self.statusBar().showMessage(f"Drawing the sheet in {folder}…")
        run_task(_write_printable, str(folder), spec,
                 on_success=lambda path: self.load_template_file(Path(path)),
                 on_failure=lambda exc: show_error(self, exc))
