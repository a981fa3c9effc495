"""The database commands through the real command line (no digit model needed here)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from marksocr.cli.main import main
from marksocr.domain import SheetStatus
from marksocr.storage import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_storage_support import make_reading, make_template  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marksocr", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, timeout=120)


@pytest.fixture
def populated(tmp_path) -> Path:
    path = tmp_path / "marks.db"
    with Database.open(path) as db:
        t = db.register_template(make_template())
        db.save_reading(make_reading("01" * 32, roll="101", marks=("7", "8", "9")), t.id)
        db.save_reading(make_reading("02" * 32, roll="102", marks=("1", "2", "3"), status=SheetStatus.NEEDS_REVIEW,
                                     low="Q2"), t.id)
        db.save_reading(make_reading("03" * 32, roll="103", subject="20202", marks=("4", "4", "4")), t.id)
    return path


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_db_upgrade_creates_a_database(tmp_path):
    path = tmp_path / "new.db"
    proc = run_cli("db", "upgrade", "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    assert path.is_file() and "schema revision 0001" in proc.stderr


def test_db_comes_from_environment_variable(tmp_path, monkeypatch, populated, capsys):
    monkeypatch.setenv("MARKSOCR_DB", str(populated))
    assert main(["sheets", "--json"]) == 0
    assert '"sheet": "' + "02" * 32 + '.jpg"' in capsys.readouterr().out


def test_export_csv_and_filters(populated, tmp_path):
    out = tmp_path / "out.csv"
    proc = run_cli("export", "--db", str(populated), "--csv", str(out))
    assert proc.returncode == 0, proc.stderr
    table = rows(out)
    assert table[0] == ["sheet", "roll_no", "subject_code", "Q1", "Q2", "Q3", "total", "status"]
    assert [r[1] for r in table[1:]] == ["101", "102", "103"]
    assert "1 sheet(s) still need review" in proc.stderr
    assert run_cli("export", "--db", str(populated), "--csv", str(out), "--subject", "20202").returncode == 0
    assert [r[1] for r in rows(out)[1:]] == ["103"]
    assert run_cli("export", "--db", str(populated), "--csv", str(out), "--verified-only").returncode == 0
    assert rows(out)[1:] == []
    strict = run_cli("export", "--db", str(populated), "--csv", str(out), "--strict")
    assert strict.returncode == 1


def test_export_without_output_is_a_usage_error(populated):
    assert run_cli("export", "--db", str(populated)).returncode == 2


def test_sheets_lists_status_and_reasons(populated, capsys):
    assert main(["sheets", "--db", str(populated), "--status", "needs_review"]) == 0
    out = capsys.readouterr().out
    assert "02" * 14 in out and "01" * 14 not in out


def test_review_with_piped_input_corrects_accepts_and_verifies(populated):
    # Q2 is the doubtful field of sheet 102: type 5, then Enter verifies.
    proc = run_cli("review", "--db", str(populated), "--user", "ann", "--threshold", "0.9", stdin="5\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "Q2: read '2', confidence 0.50" in proc.stdout and "verified" in proc.stdout
    with Database.open(populated) as db:
        sheet = next(s for s in db.list_sheets() if s.roll_no == "102")
        full = db.get_sheet(sheet.id)
        assert full.status == SheetStatus.VERIFIED and full.get_field("Q2").value == "5"
        assert full.get_field("Q2").corrected_by == "ann"
        assert [e.action for e in db.history(sheet.id)][:2] == ["verify", "correct"]


def test_review_rejects_bad_values_and_stops_cleanly_at_end_of_input(populated):
    proc = run_cli("review", "--db", str(populated), "--user", "ann", "--threshold", "0.9", stdin="abc\n99\n")
    assert proc.returncode == 0, proc.stderr
    assert "is not a mark" in proc.stdout and "is more than the maximum 10" in proc.stdout
    assert "everything answered so far is saved" in proc.stdout
    with Database.open(populated) as db:
        assert db.count_sheets()[SheetStatus.NEEDS_REVIEW] == 1
        assert all(e.action == "scan" for e in db.history())


def test_import_roster_then_export_reports_missing_students(populated, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("roll_no,name\n101,Asha\n102,Bala\n104,Dev\n", encoding="utf-8")
    proc = run_cli("import-roster", str(roster), "--db", str(populated))
    assert proc.returncode == 0 and "3 student(s) added" in proc.stderr
    proc = run_cli("export", "--db", str(populated), "--csv", str(tmp_path / "o.csv"))
    assert "no sheet for roll numbers: 104" in proc.stderr
    assert "roll numbers not in the roster: 103" in proc.stderr


def test_scan_usage_errors(tmp_path):
    img = tmp_path / "a.jpg"
    img.write_bytes(b"x")
    assert run_cli("scan", "--db", str(tmp_path / "m.db"), str(img)).returncode == 2  # no template
    bad = run_cli("scan", "--template", str(tmp_path / "missing.json"), "--db", str(tmp_path / "m.db"), str(img))
    assert bad.returncode == 2 and "missing.json" in bad.stderr
    assert run_cli("scan", "--template", "t.json").returncode == 2  # no PATH


def test_scan_of_unreadable_files_fails_clearly_stores_them_and_reruns_without_duplicates(tmp_path):
    template = REPO / "resources" / "templates" / "marksocr_a4" / "template.json"
    if not template.is_file():
        pytest.skip("sample template not available")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (folder / "notes.txt").write_text("ignored: not an image extension")
    db = tmp_path / "m.db"
    args = ("scan", "--template", str(template), "--db", str(db), str(folder), str(tmp_path / "missing.png"))
    first = run_cli(*args)
    assert first.returncode == 1, first.stderr
    assert "FAILED broken.jpg" in first.stderr and "FAILED missing.png" in first.stderr
    second = run_cli(*args)
    assert second.returncode == 1
    with Database.open(db) as d:
        sheets = d.list_sheets()
        assert [(s.label, s.status) for s in sheets] == [("broken.jpg", SheetStatus.FAILED)]
        assert sheets[0].reasons and "broken.jpg" in sheets[0].reasons[0]


def test_db_info_and_a_corrupt_database_gives_one_clear_line(populated, tmp_path):
    info = run_cli("db", "info", "--db", str(populated))
    assert info.returncode == 0 and "2 auto, 1 needs_review, 0 verified, 0 failed" in info.stdout
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 1000)
    proc = run_cli("export", "--db", str(bad), "--csv", str(tmp_path / "o.csv"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"marksocr: error: database file {bad} is corrupt or not a SQLite database (bad header)"]


def test_history_shows_who_changed_what_newest_first(populated, capsys):
    with Database.open(populated) as db:
        sheet = next(s for s in db.list_sheets() if s.roll_no == "102")
        db.correct_field(sheet.id, "Q2", "5", user="ann")
        db.verify_sheet(sheet.id, user="bob")
        gone = next(s for s in db.list_sheets() if s.roll_no == "103")
        db.delete_sheet(gone.id, user="ann")
    assert main(["history", "--db", str(populated), "--sheet", str(sheet.id)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "bob" in lines[0] and "verify" in lines[0]
    assert "ann" in lines[1] and "correct" in lines[1] and "Q2" in lines[1] and "2 -> 5" in lines[1]
    assert main(["history", "--db", str(populated), "--json", "--limit", "1"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert (entry["action"], entry["user"], entry["sheet_id"]) == ("delete", "ann", None) and "03" in entry["old"]
    assert main(["history", "--db", str(populated), "--limit", "0"]) == 2
