"""The page viewer: the registered sheet, zoomable and pannable, with every field's box.

Boxes are coloured by confidence (green: confident, orange: doubtful, red: very
doubtful, blue: checked by the operator) and doubtful digits get a red fill so
they stand out. Wheel zooms, dragging pans, ``0`` fits the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem,
    QGraphicsView, QWidget,
)


from marksocr.gui.field_table import SUM_BACKED_NOTE
from marksocr.gui.page_layout import PageLayout

if TYPE_CHECKING:  # the storage package imports SQLAlchemy: not needed to show the window
    from marksocr.storage.records import FieldRecord

log = logging.getLogger(__name__)

CONFIDENT = QColor("#2e7d32")
DOUBTFUL = QColor("#ef6c00")
VERY_DOUBTFUL = QColor("#c62828")
CHECKED = QColor("#1565c0")


def field_colour(field: FieldRecord, threshold: float) -> QColor:
    """The colour of a field's box: checked, confident, doubtful or very doubtful."""
    if field.is_checked:
        return CHECKED
    if not field.is_doubtful(threshold):
        return CONFIDENT
    return VERY_DOUBTFUL if field.confidence < threshold / 2 or field.reasons else DOUBTFUL


class PageViewer(QGraphicsView):
    """Shows one sheet with its field boxes; emits ``field_clicked(name)``."""

    field_clicked = Signal(str)

    ZOOM_STEP = 1.25

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageViewer")
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor("#5f6368"))
        self._page: QGraphicsPixmapItem | None = None
        self._boxes: dict[str, QGraphicsRectItem] = {}
        self._selected: str | None = None
        self._layout = PageLayout()
        self._placeholder("Open sheet photos (Ctrl+O) to start.")

    # ------------------------------------------------------------------ content

    def _placeholder(self, text: str) -> None:
        scene = self.scene()
        scene.clear()
        self._page, self._boxes = None, {}
        item = scene.addText(text)
        item.setDefaultTextColor(QColor("white"))
        font = item.font()
        font.setPointSize(13)
        item.setFont(font)
        item.setTextWidth(520)  # long reasons wrap instead of running off the view
        self.resetTransform()
        self.setSceneRect(item.boundingRect().adjusted(-40, -40, 40, 40))

    def clear_page(self, message: str = "No sheet selected.") -> None:
        self._placeholder(message)

    def show_page(self, image: QImage | None, fields: Sequence[FieldRecord], threshold: float,
                  layout: PageLayout | None = None) -> None:
        """Show ``image`` (the registered page) with ``fields`` drawn on it."""
        self._layout = layout or PageLayout()
        scene = self.scene()
        scene.clear()
        self._boxes = {}
        if image is None or image.isNull():
            self._placeholder("The page image is not available.")
            return
        self._page = scene.addPixmap(QPixmap.fromImage(image))
        self._page.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.setSceneRect(QRectF(image.rect()))
        self.update_fields(fields, threshold)
        self.fit()

    def update_fields(self, fields: Sequence[FieldRecord], threshold: float) -> None:
        """Redraw the field boxes (after an edit) without touching the zoom."""
        for box in self._boxes.values():
            self.scene().removeItem(box)
        self._boxes = {}
        if self._page is None:
            return
        pix = self._page.pixmap()
        pen_w = max(2.0, pix.width() / 600)
        for field in fields:
            rect = self._layout.field_rect(field, pix.width(), pix.height())
            if rect is not None:
                self._boxes[field.name] = self._add_field(field, rect, threshold, pen_w)
        if self._selected in self._boxes:
            self.select_field(self._selected)

    def _add_field(self, field: FieldRecord, rect: QRectF, threshold: float, pen_w: float) -> QGraphicsRectItem:
        colour = field_colour(field, threshold)
        box = QGraphicsRectItem(rect)
        box.setPen(QPen(colour, pen_w))
        box.setData(0, field.name)
        box.setToolTip(self._tooltip(field, threshold))
        box.setZValue(1)
        self.scene().addItem(box)
        self._add_label(field, rect, box, colour)
        if not field.is_checked:
            self._mark_doubtful_digits(field, box, threshold, pen_w)
        return box

    def _add_label(self, field: FieldRecord, rect: QRectF, box: QGraphicsRectItem, colour: QColor) -> None:
        """``name: value`` just right of the box (inside it would hide the handwriting)."""
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        label = QGraphicsSimpleTextItem(f"{field.name}: {field.value or '∅'}", box)
        font = QFont(label.font())
        font.setPixelSize(max(10, min(28, int(h * 0.32))))
        font.setBold(True)
        label.setFont(font)
        label.setBrush(colour)
        text = label.boundingRect()
        page_w = self._page.pixmap().width() if self._page is not None else x + w + text.width() + 6
        if x + w + 6 + text.width() <= page_w:
            label.setPos(x + w + 6, y + (h - text.height()) / 2)
        else:  # no room on the right: above the box's right end
            label.setPos(x + w - text.width(), y - text.height() - 2)
        backdrop = QGraphicsRectItem(text.adjusted(-2, -1, 2, 1), label)
        backdrop.setBrush(QColor(255, 255, 255, 200))
        backdrop.setPen(QPen(Qt.PenStyle.NoPen))
        backdrop.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)

    def _mark_doubtful_digits(self, field: FieldRecord, box: QGraphicsRectItem, threshold: float,
                              pen_w: float) -> None:
        for digit in field.digits:
            rect = self._layout.digit_rect(field, digit)
            if digit.confidence >= threshold or rect is None or not field.is_doubtful(threshold):
                continue  # confident, or backed by the sum (the field's tooltip says so)
            mark = QGraphicsRectItem(rect, box)
            mark.setPen(QPen(VERY_DOUBTFUL, pen_w * 0.75))
            mark.setBrush(QBrush(QColor(198, 40, 40, 70)))

    @staticmethod
    def _tooltip(field: FieldRecord, threshold: float) -> str:
        lines = [f"{field.name} ({field.kind}): {field.value or 'empty'}", f"confidence {field.confidence:.0%}"]
        if field.is_checked:
            lines.append("checked by the operator")
        elif field.accepted_by_sum(threshold):
            lines.append(SUM_BACKED_NOTE)
        lines.extend(field.reasons)
        return "\n".join(lines)

    # ------------------------------------------------------------------ selection

    def select_field(self, name: str | None) -> None:
        """Highlight one field's box and bring it into view."""
        self._selected = name
        for field_name, box in self._boxes.items():
            pen = box.pen()
            pen.setStyle(Qt.PenStyle.DashLine if field_name == name else Qt.PenStyle.SolidLine)
            box.setPen(pen)
            box.setBrush(QBrush(QColor(255, 235, 59, 60)) if field_name == name else QBrush())
        if name in self._boxes:
            self.ensureVisible(self._boxes[name], 40, 40)

    def has_page(self) -> bool:
        """True when a page (or photo) is shown, False for a message."""
        return self._page is not None

    def selected_field(self) -> str | None:
        return self._selected

    def field_names(self) -> list[str]:
        return list(self._boxes)

    def digit_marks(self, name: str) -> list[QRectF]:
        """The doubtful-digit marks drawn in a field, in page pixels."""
        box = self._boxes[name]
        return [c.rect() for c in box.childItems() if isinstance(c, QGraphicsRectItem) and c.parentItem() is box
                and c.brush().style() != Qt.BrushStyle.NoBrush]

    def field_box_colour(self, name: str) -> QColor:
        return self._boxes[name].pen().color()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: ANN001
        for item in self.items(event.position().toPoint()):
            name = self._owner_name(item)
            if name:
                self.field_clicked.emit(name)
                return
        super().mouseDoubleClickEvent(event)

    @staticmethod
    def _owner_name(item: QGraphicsItem) -> str | None:
        while item is not None:
            name = item.data(0)
            if isinstance(name, str):
                return name
            item = item.parentItem()
        return None

    # ------------------------------------------------------------------ zoom

    def zoom_in(self) -> None:
        self.scale(self.ZOOM_STEP, self.ZOOM_STEP)

    def zoom_out(self) -> None:
        self.scale(1 / self.ZOOM_STEP, 1 / self.ZOOM_STEP)

    def fit(self) -> None:
        """Fit the whole page in the view."""
        self.resetTransform()
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def zoom_factor(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta == 0:
            super().wheelEvent(event)
            return
        factor = self.ZOOM_STEP if delta > 0 else 1 / self.ZOOM_STEP
        if 0.02 < self.zoom_factor() * factor < 20:
            self.scale(factor, factor)
        event.accept()
