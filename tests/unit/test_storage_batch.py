"""pipeline.batch.scan_paths against a real database: skip-before-read, failed pages,
retry policy, progress and cancel. (Reading real sheets: tests/e2e/test_cli_db_scan.py.)"""

from __future__ import annotations

import hashlib
import threading

import pytest

from marksocr.pipeline.batch import LazyClassifier, ScanOptions, scan_paths
from test_storage_support import db, db_url, make_reading, make_template, pg_server  # noqa: F401


def _never_loaded() -> LazyClassifier:
    def boom():
        raise AssertionError("the classifier must not be loaded when nothing needs reading")

    return LazyClassifier(boom)


@pytest.fixture
def broken_files(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    paths = []
    for name in ("a.jpg", "sub/b.png", "c.tif"):
        p = folder / name
        p.write_bytes(f"not an image {name}".encode())
        paths.append(p)
    (folder / "readme.txt").write_text("not scanned")
    return folder, paths


def test_unreadable_files_are_stored_as_failed_with_reasons(db, broken_files):
    folder, paths = broken_files
    events = []
    summary = scan_paths([folder], make_template(), db, _never_loaded(), ScanOptions(user="ann"),
                         progress=events.append)
    assert (summary.files, summary.pages, summary.saved) == (3, 3, 3)
    assert summary.counts["failed"] == 3 and not summary.ok
    assert sorted(f.label for f in summary.failures) == ["a.jpg", "b.png", "c.tif"]
    assert all(f.reason for f in summary.failures)
    assert [e.status for e in events] == ["failed"] * 3 and events[-1].files_done == 3
    sheets = db.list_sheets(status="failed")
    assert len(sheets) == 3 and all(s.reasons for s in sheets)
    assert {e.user for e in db.history()} == {"ann"}


def test_rerun_retries_failed_pages_without_duplicates_unless_told_not_to(db, broken_files):
    folder, _ = broken_files
    scan_paths([folder], make_template(), db, _never_loaded())
    again = scan_paths([folder], make_template(), db, _never_loaded())
    assert again.counts["failed"] == 3 and again.skipped == 0 and again.saved == 3  # replaced, not added
    assert len(db.list_sheets()) == 3
    quiet = scan_paths([folder], make_template(), db, _never_loaded(), ScanOptions(retry_failed=False))
    assert quiet.skipped == 3 and quiet.failures == () and quiet.ok


def test_pages_already_stored_are_skipped_before_reading(db, tmp_path):
    image = tmp_path / "sheet.png"
    image.write_bytes(b"\x89PNG pretend bytes of an already scanned photo")
    sha = hashlib.sha256(image.read_bytes()).hexdigest()
    t = db.register_template(make_template())
    db.save_reading(make_reading(sha, source=str(image)), t.id)
    summary = scan_paths([image], make_template(), db, _never_loaded())
    assert (summary.skipped, summary.saved, summary.ok) == (1, 0, True)
    assert len(db.list_sheets()) == 1


def test_missing_paths_are_failures_but_not_stored(db, tmp_path):
    summary = scan_paths([tmp_path / "nope.jpg"], make_template(), db, _never_loaded())
    assert [f.label for f in summary.failures] == ["nope.jpg"] and "not found" in summary.failures[0].reason
    assert db.list_sheets() == []


def test_cancel_stops_between_pages_and_a_rerun_finishes(db, broken_files):
    folder, _ = broken_files
    cancel = threading.Event()
    summary = scan_paths([folder], make_template(), db, _never_loaded(), progress=lambda e: cancel.set(),
                         cancel=cancel)
    assert summary.cancelled and summary.pages == 1 and not summary.ok
    assert "cancelled" in "\n".join(summary.lines())
    assert len(db.list_sheets()) == 1
    rest = scan_paths([folder], make_template(), db, _never_loaded(), cancel=lambda: False)
    assert not rest.cancelled and len(db.list_sheets()) == 3


class _Sevens:
    """Reads every crop as a confident 7: what it reads does not matter here, only the blur."""

    version = "sevens-1"

    def predict_proba(self, crops):
        import numpy as np

        out = np.full((len(crops), 10), 1e-4)
        out[:, 7] = 1.0
        return out / out.sum(axis=1, keepdims=True)


def test_a_blurred_photo_is_stored_for_review_and_listed_to_retake(db, tmp_path):
    import cv2

    import sheet_fakes as sf

    cv2.imwrite(str(tmp_path / "blank.png"), sf.blank_page())
    template = sf.template(reference=tmp_path / "blank.png")
    folder = tmp_path / "photos"
    folder.mkdir()
    page = sf.filled_page({"roll_no": "21012345", "Q1": "7"})
    cv2.imwrite(str(folder / "sharp.png"), sf.photograph(page, seed=1))
    cv2.imwrite(str(folder / "shaken.png"), sf.photograph(page, blur=6.0, seed=1))
    summary = scan_paths([folder], template, db, _Sevens(), ScanOptions(threshold=0.9))
    assert summary.retake == ("shaken.png",) and summary.ok
    assert "retake: shaken.png" in summary.lines()[-1]
    stored = {s.label: s for s in db.list_sheets()}
    assert stored["shaken.png"].status.value == "needs_review"
    assert any(r.startswith("photo too blurred") for r in stored["shaken.png"].reasons)
    assert not any(r.startswith("photo too blurred") for r in stored["sharp.png"].reasons)


def test_stored_field_values_are_the_current_ones_of_the_templates_sheets(db):
    from test_storage_support import failed_reading

    t = db.register_template(make_template())
    first = db.save_reading(make_reading("a", roll="20230001"), t.id).sheet_id
    db.save_reading(make_reading("b", roll="2023002"), t.id)
    db.save_reading(make_reading("c", roll=""), t.id)
    db.save_reading(failed_reading("d"), t.id)
    other = db.register_template(make_template(name="Other cover"))
    db.save_reading(make_reading("e", roll="99999999"), other.id)
    db.correct_field(first, "roll_no", "20230011")
    assert db.field_values(t.id, ["roll_no"]) == {"roll_no": ["20230011", "2023002"]}
    assert db.field_values(t.id, []) == {}
