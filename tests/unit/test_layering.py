"""Layering: only marksocr.gui imports Qt; the CLI and the pipeline import TensorFlow lazily.

Each check runs in a fresh interpreter, so modules imported by other tests do not hide a
violation.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NON_GUI_MODULES = [
    "marksocr",
    "marksocr.domain",
    "marksocr.paths",
    "marksocr.settings",
    "marksocr.template",
    "marksocr.imaging.io",
    "marksocr.imaging.register",
    "marksocr.recognition",
    "marksocr.storage",
    "marksocr.pipeline",
    "marksocr.pipeline.batch",
    "marksocr.sheets.printable",
    "marksocr.cli.main",
]


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = code + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", NON_GUI_MODULES)
def test_non_gui_modules_do_not_import_qt(module):
    loaded = _loaded_after(f"import {module}")
    assert "PySide6" not in loaded, f"{module} imports PySide6; only marksocr.gui may"


def test_cli_parser_does_not_import_qt_or_tensorflow():
    code = ("import marksocr.cli.main as m\n"
            "args = m.build_parser().parse_args(['gui', '--db', 'x.sqlite3'])\n"
            "assert args.func.__name__ == 'run_gui' and args.db == 'x.sqlite3'")
    loaded = _loaded_after(code)
    assert "PySide6" not in loaded
    assert "tensorflow" not in loaded


@pytest.mark.parametrize("module", ["marksocr.cli.main", "marksocr.pipeline", "marksocr.pipeline.batch",
                                    "marksocr.recognition", "marksocr.storage", "marksocr.imaging.register"])
def test_tensorflow_is_imported_lazily(module):
    loaded = _loaded_after(f"import {module}")
    assert "tensorflow" not in loaded and "keras" not in loaded, f"{module} imports TensorFlow at import time"


def test_gui_window_module_shows_without_tensorflow_or_sqlalchemy():
    """The window must not wait for TensorFlow or the database layer to import."""
    loaded = _loaded_after("import marksocr.gui.app, marksocr.gui.main_window")
    assert "tensorflow" not in loaded
    assert "sqlalchemy" not in loaded
