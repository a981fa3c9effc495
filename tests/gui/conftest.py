"""Fixtures for the GUI tests: an isolated window on a temporary database, synthetic sheets."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from gui_helpers import TEMPLATE  # noqa: E402


@pytest.fixture(scope="session")
def sheet_set(tmp_path_factory, mnist_dir) -> tuple[Path, list[dict]]:
    """Two synthetic scanned sheets (no deliberate anomalies) and their truth records."""
    from marksocr.sheets.synth import make_sheet_set

    out = tmp_path_factory.mktemp("sheets")
    rows = make_sheet_set(TEMPLATE, out, 2, style="scan", seed=7, mnist_dir=mnist_dir, anomaly_rate=0.0)
    return out, [record for _path, record in rows]


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path, monkeypatch):
    """Window geometry (QSettings) and the settings file go to this test's folder."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    monkeypatch.setenv("MARKSOCR_SETTINGS", str(tmp_path / "settings.json"))
    monkeypatch.setenv("MARKSOCR_OPERATOR", "tester")


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'marks.sqlite3'}"


@pytest.fixture
def window(qtbot, db_url, classifier):
    """The main window on a fresh database, with the shared classifier already loaded."""
    from marksocr.gui.main_window import MainWindow

    win = MainWindow(db_url=db_url)
    qtbot.addWidget(win)
    win.resize(1500, 950)
    win.show()
    win.state.set_classifier(classifier)
    win.state.open_database_in_background(db_url)
    qtbot.waitUntil(lambda: win.state.database is not None, timeout=30_000)
    yield win
    win.scanner.cancel()
    win.scanner.wait()
    win.controller.wait()
    win.state.close()
