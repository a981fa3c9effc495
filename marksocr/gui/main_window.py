"""The main window: sheet list (left), page (centre), review panel (right).

The window only assembles panels and wires signals; the work is done by the
panels, by :class:`~marksocr.gui.state.AppState` and by the controllers, which
call the same core functions as the command line.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from marksocr.gui.about import show_about
from marksocr.gui.actions import ActionSpec, add_menu, add_toolbar, make_actions
from marksocr.gui.page_viewer import PageViewer
from marksocr.gui.sheet_list import SheetListModel, SheetListPanel
from marksocr.gui.state import AppState
from marksocr.gui.status_bar import StatusPanel

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The marksocr desktop window."""

    def __init__(self, db_url: str | None = None, state: AppState | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("marksocr: handwritten marks")
        self.state = state or AppState(self)
        self._db_url = db_url
        self._dialogs: dict[str, QWidget] = {}
        self.sheets = SheetListModel(self)
        self.sheet_panel = SheetListPanel(self.sheets)
        self.viewer = PageViewer()
        self.setCentralWidget(self.viewer)
        self._add_dock("Sheets", self.sheet_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.status = StatusPanel(self.statusBar())
        self.actions_by_key = make_actions(self, self._action_specs())
        self._build_menus()
        self._build_toolbar()
        self._connect_state()
        self._restore_geometry()

    # ------------------------------------------------------------------ building

    def _add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(area, dock)
        return dock

    def _action_specs(self) -> list[ActionSpec]:
        v = self.viewer
        return [
            ActionSpec("quit", "&Quit", self.close, QKeySequence.StandardKey.Quit, "Close marksocr"),
            ActionSpec("zoom_in", "Zoom &in", v.zoom_in, QKeySequence.StandardKey.ZoomIn, "Zoom into the page"),
            ActionSpec("zoom_out", "Zoom &out", v.zoom_out, QKeySequence.StandardKey.ZoomOut, "Zoom out of the page"),
            ActionSpec("fit", "&Fit page", v.fit, "Ctrl+0", "Show the whole page"),
            ActionSpec("next_sheet", "&Next sheet", lambda: self.sheet_panel.step(1), "Ctrl+Down",
                       "Show the next sheet in the list"),
            ActionSpec("prev_sheet", "&Previous sheet", lambda: self.sheet_panel.step(-1), "Ctrl+Up",
                       "Show the previous sheet in the list"),
            ActionSpec("digit_pad", "&Digit pad…", self.open_digit_pad, "Ctrl+D",
                       "Draw a digit and see what the model reads"),
            ActionSpec("about", "&About marksocr", lambda: show_about(self, self.state), None,
                       "Version, model version and its measured accuracy"),
        ]

    def _build_menus(self) -> None:
        bar, a = self.menuBar(), self.actions_by_key
        add_menu(bar, "&File", a, ["quit"])
        add_menu(bar, "&View", a, ["zoom_in", "zoom_out", "fit", None, "next_sheet", "prev_sheet"])
        add_menu(bar, "&Tools", a, ["digit_pad"])
        add_menu(bar, "&Help", a, ["about"])

    def _build_toolbar(self) -> None:
        add_toolbar(self, "Main", self.actions_by_key, ["zoom_in", "zoom_out", "fit", None, "digit_pad"])

    def _connect_state(self) -> None:
        self.state.classifier_ready.connect(lambda _clf: self.status.model_ready(self.state.model_summary()))
        self.state.classifier_failed.connect(self.status.model_failed)
        if self.state.classifier is not None:
            self.status.model_ready(self.state.model_summary())

    # ------------------------------------------------------------------ start-up

    def start_background_loading(self) -> None:
        """Load the digit model (seconds) and open the database, off the UI thread."""
        self.state.load_classifier_in_background()

    # ------------------------------------------------------------------ dialogs

    def _show_dialog(self, key: str, factory) -> QWidget:  # noqa: ANN001
        dialog = self._dialogs.get(key)
        if dialog is None:
            dialog = self._dialogs[key] = factory()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def open_digit_pad(self) -> QWidget:
        from marksocr.gui.digit_pad import DigitPadDialog

        return self._show_dialog("digit_pad", lambda: DigitPadDialog(self.state, self))

    # ------------------------------------------------------------------ geometry

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        window_state = settings.value("main_window/state")
        if isinstance(window_state, QByteArray) and not window_state.isEmpty():
            self.restoreState(window_state)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        super().closeEvent(event)
