"""Small helpers that build actions, menus and toolbars.

Every action shows its shortcut in its menu entry (Qt does that) and in its
tooltip (added here), so a teacher can learn the keyboard as they go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

Shortcut = QKeySequence.StandardKey | str | None


@dataclass(frozen=True)
class ActionSpec:
    """What one action is: its text, what it does, its keys and its tooltip."""

    key: str
    text: str
    slot: Callable[[], object]
    shortcut: Shortcut | Sequence[str] = None
    tip: str = ""
    checkable: bool = False
    widget: QWidget | None = None
    """When given, the shortcut works only while this widget has the keyboard focus."""


def shortcut_text(action: QAction) -> str:
    """The action's main shortcut as the user sees it, e.g. ``"Ctrl+O"``."""
    return action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)


def make_action(parent: QWidget, spec: ActionSpec) -> QAction:
    """An action whose tooltip and status tip mention its shortcut."""
    action = QAction(spec.text, parent)
    action.setObjectName(f"action_{spec.key}")
    if isinstance(spec.shortcut, QKeySequence.StandardKey):
        action.setShortcuts(spec.shortcut)
    elif isinstance(spec.shortcut, str):
        action.setShortcut(QKeySequence(spec.shortcut))
    elif spec.shortcut:
        action.setShortcuts([QKeySequence(s) for s in spec.shortcut])
    action.setCheckable(spec.checkable)
    action.triggered.connect(lambda _checked=False: spec.slot())
    plain = spec.text.replace("&", "").rstrip(".…")
    tip = spec.tip or plain
    keys = shortcut_text(action)
    action.setToolTip(f"{tip} ({keys})" if keys else tip)
    action.setStatusTip(tip)
    return action


def make_actions(parent: QWidget, specs: Iterable[ActionSpec]) -> dict[str, QAction]:
    """Actions for every spec, keyed by ``spec.key``, added to ``parent`` so their keys work."""
    actions = {}
    for spec in specs:
        action = make_action(parent, spec)
        if spec.widget is not None:
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            spec.widget.addAction(action)
        else:
            parent.addAction(action)
        actions[spec.key] = action
    return actions


def _fill(widget: QMenu | QToolBar, actions: dict[str, QAction], keys: Sequence[str | None]) -> None:
    """Add the named actions to a menu or toolbar; ``None`` is a separator."""
    for key in keys:
        if key is None:
            widget.addSeparator()
        else:
            widget.addAction(actions[key])


def add_menu(menubar: QMenuBar, title: str, actions: dict[str, QAction], keys: Sequence[str | None]) -> QMenu:
    """A menu with the named actions; ``None`` in ``keys`` is a separator."""
    menu = menubar.addMenu(title)
    menu.setToolTipsVisible(True)
    _fill(menu, actions, keys)
    return menu


def add_toolbar(parent, title: str, actions: dict[str, QAction], keys: Sequence[str | None]) -> QToolBar:  # noqa: ANN001
    """A toolbar (``parent`` is the main window) with the named actions."""
    bar = QToolBar(title, parent)
    bar.setObjectName(f"toolbar_{title.lower().replace(' ', '_')}")
    bar.setMovable(False)
    _fill(bar, actions, keys)
    parent.addToolBar(bar)
    return bar
