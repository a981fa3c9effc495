"""The main window's actions, menus and toolbar, and the commands they start.

Kept apart from :mod:`marksocr.gui.main_window` so neither grows into a giant
class: each menu is built by a short helper from a list of :class:`ActionSpec`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from marksocr.gui.about import show_about
from marksocr.gui.actions import ActionSpec, add_menu, add_toolbar, make_actions
from marksocr.paths import resources_dir

if TYPE_CHECKING:
    from marksocr.gui.main_window import MainWindow

log = logging.getLogger(__name__)

IMAGE_FILTER = "Sheet photos and PDFs (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.pdf);;All files (*)"
TEMPLATE_FILTER = "Templates (*.json);;All files (*)"


class WindowMenus:
    """Builds and owns the window's actions; opens files and dialogs."""

    def __init__(self, window: "MainWindow") -> None:
        self.window = window
        self._dialogs: dict[str, QWidget] = {}
        self.template_path: Path | None = window.state.settings.default_template
        window.state.settings_changed.connect(
            lambda s: setattr(self, "template_path", s.default_template or self.template_path))
        self.actions = make_actions(window, self._file_specs() + self._review_specs()
                                    + self._view_specs() + self._tool_specs())
        a = self.actions
        bar = window.menuBar()
        add_menu(bar, "&File", a, ["open_images", "open_folder", "choose_template", None, "import_roster",
                                   "export", None, "settings", None, "quit"])
        add_menu(bar, "&Review", a, ["confirm_field", "next_field", "prev_field", "suggestion", None,
                                     "confirm_sheet", "undo", None, "next_sheet", "prev_sheet", None,
                                     "sheet_history", "delete_sheet"])
        add_menu(bar, "&View", a, ["zoom_in", "zoom_out", "fit"])
        add_menu(bar, "&Tools", a, ["template_editor", "digit_pad", None, "history"])
        add_menu(bar, "&Help", a, ["about"])
        add_toolbar(window, "Main", a, ["open_images", "open_folder", None, "confirm_sheet", "undo", "suggestion",
                                        None, "export", None, "zoom_in", "zoom_out", "fit"])

    # ------------------------------------------------------------------ specs

    def _file_specs(self) -> list[ActionSpec]:
        w = self.window
        return [
            ActionSpec("open_images", "&Open photos…", self.open_images, QKeySequence.StandardKey.Open,
                       "Read sheet photos or PDFs into the database"),
            ActionSpec("open_folder", "Open &folder…", self.open_folder, "Ctrl+Shift+O",
                       "Read every photo and PDF in a folder"),
            ActionSpec("choose_template", "Choose &template…", self.choose_template, "Ctrl+T",
                       "Choose the template of the sheets you are about to open"),
            ActionSpec("import_roster", "Import &roster…", self.import_roster, "Ctrl+R",
                       "Import the class list (roll numbers, names, subjects) from a CSV file"),
            ActionSpec("export", "&Export marks…", self.export, "Ctrl+E",
                       "Write the marks to a CSV file and see what is missing"),
            ActionSpec("settings", "&Settings…", self.settings, "Ctrl+,", "Database, confidence threshold, roster, default template"),
            ActionSpec("quit", "&Quit", w.close, QKeySequence.StandardKey.Quit, "Close marksocr (nothing is lost)"),
        ]

    def _review_specs(self) -> list[ActionSpec]:
        r, edit = self.window.review, self.window.review.edit
        return [
            ActionSpec("confirm_field", "&Confirm field", r.confirm_current, ["Return", "Enter"],
                       "Save the field's value and go to the next doubtful field", widget=edit),
            ActionSpec("next_field", "Ne&xt field", lambda: r.move(1), "Tab", "Next field", widget=edit),
            ActionSpec("prev_field", "Pre&vious field", lambda: r.move(-1), "Shift+Tab", "Previous field",
                       widget=edit),
            ActionSpec("suggestion", "Accept &suggestion", r.accept_suggestion, "F2",
                       "Take the value that makes the marks add up to the total"),
            ActionSpec("confirm_sheet", "Confirm &whole sheet", r.confirm_sheet, ["Ctrl+Return", "Ctrl+Enter"],
                       "Mark the sheet verified and open the next one to review"),
            ActionSpec("undo", "&Undo", r.undo, QKeySequence.StandardKey.Undo, "Undo the last change on this sheet"),
            ActionSpec("sheet_history", "Sheet &history…", lambda: self.history(only_sheet=True), "Ctrl+H",
                       "Who read, corrected, confirmed or verified what on this sheet, and when"),
            ActionSpec("delete_sheet", "&Delete sheet…", self.delete_sheet, None,
                       "Remove this sheet (a page scanned twice, a photo of the wrong page); logged, not undoable"),
            ActionSpec("next_sheet", "&Next sheet", lambda: self.window.sheet_panel.step(1), "Ctrl+Down",
                       "Show the next sheet in the list"),
            ActionSpec("prev_sheet", "&Previous sheet", lambda: self.window.sheet_panel.step(-1), "Ctrl+Up",
                       "Show the previous sheet in the list"),
        ]

    def _view_specs(self) -> list[ActionSpec]:
        v = self.window.viewer
        return [
            ActionSpec("zoom_in", "Zoom &in", v.zoom_in, QKeySequence.StandardKey.ZoomIn, "Zoom into the page"),
            ActionSpec("zoom_out", "Zoom &out", v.zoom_out, QKeySequence.StandardKey.ZoomOut, "Zoom out of the page"),
            ActionSpec("fit", "&Fit page", v.fit, "Ctrl+0", "Show the whole page"),
        ]

    def _tool_specs(self) -> list[ActionSpec]:
        return [
            ActionSpec("template_editor", "&Template editor…", self.template_editor, "Ctrl+Shift+T",
                       "Draw the fields of a new kind of sheet, or generate a printable sheet"),
            ActionSpec("digit_pad", "&Digit pad…", self.digit_pad, "Ctrl+D",
                       "Draw a digit and see what the model reads"),
            ActionSpec("history", "Change &history…", lambda: self.history(only_sheet=False), "Ctrl+Shift+H",
                       "Every change logged, newest first: who, when, what, before and after"),
            ActionSpec("about", "&About marksocr", lambda: show_about(self.window, self.window.state), None,
                       "Version, model version and its measured accuracy"),
        ]

    # ------------------------------------------------------------------ opening sheets

    def open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Open sheet photos", str(Path.home()), IMAGE_FILTER)
        if paths:
            self.scan(paths)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open a folder of sheet photos", str(Path.home()))
        if folder:
            self.scan([folder])

    def choose_template(self) -> Path | None:
        sample = resources_dir() / "templates" / "marksocr_a4" / "template.json"
        start = str(self.template_path or (sample if sample.is_file() else resources_dir() / "templates"))
        path, _ = QFileDialog.getOpenFileName(self.window, "Choose the sheets' template", start, TEMPLATE_FILTER)
        if path:
            self.template_path = Path(path)
            self.window.status.message(f"Template: {self.template_path}")
        return self.template_path if path else None

    def scan(self, paths: list[str], template_path: Path | None = None) -> bool:
        """Read ``paths`` with ``template_path`` (else the current one; asks when there is none)."""
        template = template_path or self.template_path or self.choose_template()
        if template is None:
            self.window.status.message("No template chosen: nothing was read.")
            return False
        self.template_path = Path(template)
        return self.window.scanner.scan(paths, template)

    # ------------------------------------------------------------------ sheets

    def delete_sheet(self) -> bool:
        """Ask, then remove the sheet under review. True when it was sent for deletion."""
        sheet = self.window.review.sheet
        if sheet is None:
            self.window.status.message("No sheet selected: nothing to delete.")
            return False
        answer = QMessageBox.question(
            self.window, "Delete sheet",
            f"Delete {sheet.label} ({sheet.status.value.replace('_', ' ')}) and every mark read or typed on it?\n\n"
            "The deletion is logged in the audit trail and cannot be undone. Read the photo again to get it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.window.review.clear()
        self.window.controller.delete_sheet(sheet.id, sheet.label)
        return True

    # ------------------------------------------------------------------ dialogs

    def _show(self, key: str, factory: Callable[[], QWidget]) -> QWidget:
        dialog = self._dialogs.get(key)
        if dialog is None:
            dialog = self._dialogs[key] = factory()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def digit_pad(self) -> QWidget:
        from marksocr.gui.digit_pad import DigitPadDialog

        return self._show("digit_pad", lambda: DigitPadDialog(self.window.state, self.window))

    def template_editor(self) -> QWidget:
        from marksocr.gui.template_editor import TemplateEditor

        def create() -> TemplateEditor:
            editor = TemplateEditor(self.window)
            editor.saved.connect(self._use_template)  # what was just drawn is what comes next
            return editor

        return self._show("template_editor", create)

    def history(self, only_sheet: bool) -> QWidget:
        """The change history, of the sheet under review when ``only_sheet`` (and there is one)."""
        from marksocr.gui.history_dialog import HistoryDialog

        def create() -> HistoryDialog:
            dialog = HistoryDialog(self.window.state, lambda: {r.id: r.label for r in self.window.sheets.records()},
                                   self.window)
            dialog.open_sheet.connect(self.window.sheet_panel.select_sheet)
            ctrl = self.window.controller  # keep an open log current while the operator works
            ctrl.saved.connect(lambda _msg: dialog.refresh() if dialog.isVisible() else None)
            scanner = self.window.scanner  # ... and while a batch is read, each sheet it stores
            scanner.sheet_saved.connect(lambda _id: dialog.refresh_soon() if dialog.isVisible() else None)
            scanner.finished.connect(lambda _msg: dialog.refresh_soon() if dialog.isVisible() else None)
            ctrl.sheet_loaded.connect(lambda record, _img, _layout: dialog.show_for(
                (record.id, record.label), dialog.only_sheet.isChecked()) if dialog.isVisible() else None)
            return dialog

        dialog = self._show("history", create)
        sheet = self.window.review.sheet
        dialog.show_for((sheet.id, sheet.label) if sheet is not None else None, only_sheet)  # type: ignore[attr-defined]
        return dialog

    def _use_template(self, path: str) -> None:
        self.template_path = Path(path)
        self.window.status.message(f"Template for the next photos: {path}")

    def export(self) -> QWidget:
        from marksocr.gui.export_dialog import ExportDialog

        subjects = sorted({r.subject_code for r in self.window.sheets.records() if r.subject_code})
        dialog = self._dialogs.pop("export", None)
        if dialog is not None:
            dialog.deleteLater()
        return self._show("export", lambda: ExportDialog(self.window.state, subjects, self.window))

    def import_roster(self) -> Any:
        from marksocr.gui.roster_import import RosterImporter

        importer = RosterImporter(self.window.state, self.window)
        importer.choose_and_import()
        return importer

    def settings(self) -> QWidget:
        from marksocr.domain import MarksocrError
        from marksocr.gui.settings_dialog import SettingsDialog
        from marksocr.settings import Settings, load_settings

        try:
            file_settings = load_settings(apply_env=False)  # edit the file, not the $MARKSOCR_* overrides
        except MarksocrError:
            file_settings = Settings()
        dialog = SettingsDialog(file_settings, self.window)
        dialog.accepted.connect(lambda: self.window.state.apply_settings(dialog.saved))
        dialog.open()
        return dialog
