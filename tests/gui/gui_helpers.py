"""Helpers shared by the GUI tests (imported as ``gui_helpers``: tests/gui has no ``__init__``)."""

from __future__ import annotations

import json
from pathlib import Path

from marksocr.paths import resources_dir

TEMPLATE = resources_dir() / "templates" / "marksocr_a4" / "template.json"
SCAN_MS = 120_000


def scan_and_wait(qtbot, window, paths) -> None:
    """Read ``paths`` with the sample template and wait until the first sheet is under review."""
    assert window.menus.scan([str(p) for p in paths], TEMPLATE)
    qtbot.waitUntil(lambda: window.scanner.last_summary is not None, timeout=SCAN_MS)
    saved = set(window.scanner.last_summary.sheet_ids)
    qtbot.waitUntil(lambda: saved <= {r.id for r in window.sheets.records()}, timeout=30_000)
    qtbot.waitUntil(lambda: window.review.sheet is not None and window.review.current_field() is not None,
                    timeout=30_000)


def truth_values(sheet_dir: Path) -> dict[str, dict[str, str]]:
    """``{sheet file name: {field: written value}}`` from the synthetic set's truth.json."""
    records = json.loads((sheet_dir / "truth.json").read_text(encoding="utf-8"))
    return {r["sheet"]: r["values"] for r in records}
