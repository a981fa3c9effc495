"""The template editor's drawing surface: a blank sheet with movable, resizable field boxes.

Drag on empty paper to draw a new field; drag a box to move it; drag a box's
edge or corner to resize it; Delete removes the selected box. Boxes live in the
image's pixel coordinates; the editor turns them into page fractions on save.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QKeyEvent, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QGraphicsSceneMouseEvent, QGraphicsSimpleTextItem,
    QGraphicsView, QStyleOptionGraphicsItem, QWidget,
)

log = logging.getLogger(__name__)

KIND_COLOURS = {"roll_no": QColor("#6a1b9a"), "subject_code": QColor("#00838f"),
                "mark": QColor("#1565c0"), "total": QColor("#c62828")}
MIN_SIZE = 8.0


@dataclass
class FieldProps:
    """What the editor knows about a field besides its box."""

    name: str
    kind: str = "mark"
    cells: int | None = None
    max: float | None = None
    digits: int | None = None
    """Digits a free-written field holds (the template's optional ``digits`` key), when known."""
    extra: dict[str, Any] = field(default_factory=dict)
    """The field's other keys from the template file (unknown to the editor), written back as they were."""


class FieldBoxItem(QGraphicsRectItem):
    """One field: a rectangle that moves, resizes by its edges and shows its comb cells."""

    def __init__(self, rect: QRectF, props: FieldProps, page: QRectF) -> None:
        super().__init__(QRectF(0, 0, rect.width(), rect.height()))
        self.setPos(rect.topLeft())
        self.props = props
        self._page = page
        self._grab: tuple[bool, bool, bool, bool] | None = None  # left, top, right, bottom edges held
        self._press_rect = QRectF()
        self._press_pos = QPointF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.label = QGraphicsSimpleTextItem(self)
        self.refresh()

    # ------------------------------------------------------------------ looks

    def refresh(self) -> None:
        """Redraw after the name, kind or cells changed."""
        colour = KIND_COLOURS.get(self.props.kind, QColor("#ef6c00"))
        self.setPen(QPen(colour, max(2.0, self._page.width() / 800)))
        self.setBrush(QBrush(QColor(colour.red(), colour.green(), colour.blue(), 40)))
        extra = f" ≤{self.props.max:g}" if self.props.max else ""
        self.label.setText(f"{self.props.name} ({self.props.kind}){extra}")
        font = QFont(self.label.font())
        font.setPixelSize(max(12, min(int(self._page.width() / 60), int(self.rect().height() * 0.45))))
        font.setBold(True)
        self.label.setFont(font)
        self.label.setBrush(colour)
        inset = self.pen().widthF() * 2
        self.label.setPos(inset, inset)  # inside the box: above it would cover the neighbour
        self.label.setOpacity(0.85)
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        super().paint(painter, option, widget)
        r = self.rect()
        if self.props.cells and self.props.cells > 1:
            pen = QPen(self.pen().color(), self.pen().widthF() / 2, Qt.PenStyle.DotLine)
            painter.setPen(pen)
            for i in range(1, self.props.cells):
                x = r.left() + r.width() * i / self.props.cells
                painter.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
        if self.isSelected():
            painter.setPen(QPen(QColor("black"), self.pen().widthF(), Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(r)

    def scene_rect(self) -> QRectF:
        """The box in image pixels."""
        return QRectF(self.pos(), self.rect().size())

    def set_scene_rect(self, rect: QRectF) -> None:
        rect = rect.normalized().intersected(self._page)
        self.prepareGeometryChange()
        self.setPos(rect.topLeft())
        self.setRect(QRectF(0, 0, max(rect.width(), MIN_SIZE), max(rect.height(), MIN_SIZE)))

    # ------------------------------------------------------------------ resizing

    def _edges_at(self, p: QPointF) -> tuple[bool, bool, bool, bool]:
        tol = max(6.0, self._page.width() / 250)
        r = self.rect()
        return (abs(p.x() - r.left()) < tol, abs(p.y() - r.top()) < tol,
                abs(p.x() - r.right()) < tol, abs(p.y() - r.bottom()) < tol)

    def hoverMoveEvent(self, event) -> None:  # noqa: ANN001
        left, top, right, bottom = self._edges_at(event.pos())
        if (left and top) or (right and bottom):
            self.setCursor(Qt.CursorShape.SizeFDiagCursor)
        elif (left and bottom) or (right and top):
            self.setCursor(Qt.CursorShape.SizeBDiagCursor)
        elif left or right:
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        elif top or bottom:
            self.setCursor(Qt.CursorShape.SizeVerCursor)
        else:
            self.setCursor(Qt.CursorShape.SizeAllCursor)
        super().hoverMoveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        edges = self._edges_at(event.pos())
        if event.button() == Qt.MouseButton.LeftButton and any(edges):
            self._grab = edges
            self._press_rect = self.scene_rect()
            self._press_pos = event.scenePos()
            self.setSelected(True)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._grab is None:
            super().mouseMoveEvent(event)
            return
        d = event.scenePos() - self._press_pos
        r = QRectF(self._press_rect)
        left, top, right, bottom = self._grab
        if left:
            r.setLeft(r.left() + d.x())
        if right:
            r.setRight(r.right() + d.x())
        if top:
            r.setTop(r.top() + d.y())
        if bottom:
            r.setBottom(r.bottom() + d.y())
        self.set_scene_rect(r)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._grab = None
        super().mouseReleaseEvent(event)
        scene = self.scene()
        if isinstance(scene, TemplateScene):
            scene.boxes_changed.emit()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: ANN001, ANN201
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.scene() is not None:
            # Keep the box on the page while it is dragged.
            p = QPointF(value)
            w, h = self.rect().width(), self.rect().height()
            p.setX(min(max(p.x(), self._page.left()), self._page.right() - w))
            p.setY(min(max(p.y(), self._page.top()), self._page.bottom() - h))
            return p
        return super().itemChange(change, value)


class TemplateScene(QGraphicsScene):
    """The sheet image and its boxes; drag on empty paper to draw a new box."""

    box_drawn = Signal(object)   # FieldBoxItem
    boxes_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = QRectF()
        self._drawing: QGraphicsRectItem | None = None
        self._start = QPointF()
        self._next_number = 1

    def set_image(self, image: QImage) -> None:
        self.clear()
        self.addPixmap(QPixmap.fromImage(image)).setZValue(-1)
        self.page = QRectF(image.rect())
        self.setSceneRect(self.page)

    def boxes(self) -> list[FieldBoxItem]:
        """The field boxes, top to bottom then left to right."""
        items = [i for i in self.items() if isinstance(i, FieldBoxItem)]
        return sorted(items, key=lambda b: (round(b.scene_rect().top()), b.scene_rect().left()))

    def add_box(self, rect: QRectF, props: FieldProps) -> FieldBoxItem:
        box = FieldBoxItem(rect, props, self.page)
        self.addItem(box)
        self.boxes_changed.emit()
        return box

    def unused_name(self) -> str:
        names = {b.props.name for b in self.boxes()}
        while f"Q{self._next_number}" in names:
            self._next_number += 1
        return f"Q{self._next_number}"

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        on_box = any(isinstance(i, (FieldBoxItem, QGraphicsSimpleTextItem)) for i in self.items(event.scenePos()))
        if event.button() == Qt.MouseButton.LeftButton and not on_box and self.page.contains(event.scenePos()):
            self.clearSelection()
            self._start = event.scenePos()
            self._drawing = self.addRect(QRectF(self._start, self._start), QPen(QColor("#ef6c00"), 2, Qt.PenStyle.DashLine))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drawing is not None:
            self._drawing.setRect(QRectF(self._start, event.scenePos()).normalized().intersected(self.page))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drawing is None:
            super().mouseReleaseEvent(event)
            return
        rect = self._drawing.rect()
        self.removeItem(self._drawing)
        self._drawing = None
        if rect.width() >= MIN_SIZE and rect.height() >= MIN_SIZE:
            box = self.add_box(rect, FieldProps(name=self.unused_name()))
            box.setSelected(True)
            self.box_drawn.emit(box)


class TemplateCanvas(QGraphicsView):
    """Shows the :class:`TemplateScene`; wheel zooms, Delete removes the selected box."""

    delete_requested = Signal()

    def __init__(self, scene: TemplateScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("templateCanvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor("#5f6368"))
        self.setMouseTracking(True)

    def fit(self) -> None:
        self.resetTransform()
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_requested.emit()
            return
        super().keyPressEvent(event)
