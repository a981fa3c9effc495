"""Marks CSV (interfaces.md section 3), XLSX, roster import and the completeness report."""

from __future__ import annotations

import csv

import pytest

from marksocr.domain import InputError, SheetStatus
from marksocr.storage import neutralise
from test_storage_support import (  # noqa: F401 - fixtures
    db,
    db_url,
    failed_reading,
    make_reading,
    make_template,
    pg_server,
)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_marks_csv_columns_values_and_corrections(db, tmp_path):
    t = db.register_template(make_template())
    a = db.save_reading(make_reading("a1" * 32, roll="20230001", marks=("7", "8.5", "")), t.id).sheet_id
    b = db.save_reading(make_reading("a2" * 32, roll="20230002", marks=("1", "2", "3"), source="/s/batch.pdf",
                                     page=3, status=SheetStatus.NEEDS_REVIEW), t.id).sheet_id
    db.correct_field(b, "Q2", "4", "ann")
    db.correct_field(a, "Q3", "", "ann")  # confirmed empty stays empty
    db.verify_sheet(a, "ann")
    out = tmp_path / "marks.csv"
    report = db.export_csv(out)
    rows = read_csv(out)
    assert rows[0] == ["sheet", "roll_no", "subject_code", "Q1", "Q2", "Q3", "total", "status"]
    assert rows[1:] == [
        ["a1" * 32 + ".jpg", "20230001", "10101", "7", "8.5", "", "15.5", "verified"],
        ["batch.pdf#3", "20230002", "10101", "1", "4", "3", "6", "needs_review"],
    ]
    assert report.rows == 2 and report.needs_review == ("batch.pdf#3",)
    assert out.read_bytes().decode("utf-8")  # UTF-8


def test_cells_that_look_like_formulas_are_neutralised(db, tmp_path):
    t = db.register_template(make_template())
    db.save_reading(make_reading("b1" * 32, source="/s/=HYPERLINK(1).jpg", roll="-1", subject="@SUM"), t.id)
    out = tmp_path / "m.csv"
    db.export_csv(out)
    row = read_csv(out)[1]
    assert row[0] == "'=HYPERLINK(1).jpg" and row[1] == "'-1" and row[2] == "'@SUM"
    assert all(not c.startswith(("=", "+", "-", "@")) for c in row)
    assert neutralise("+3") == "'+3" and neutralise("7.5") == "7.5" and neutralise("") == ""


def test_verified_only_and_subject_filters(db, tmp_path):
    t = db.register_template(make_template())
    s1 = db.save_reading(make_reading("c1" * 32, roll="1", subject="111"), t.id).sheet_id
    db.save_reading(make_reading("c2" * 32, roll="2", subject="111"), t.id)
    db.save_reading(make_reading("c3" * 32, roll="3", subject="222"), t.id)
    db.verify_sheet(s1, "ann")
    out = tmp_path / "m.csv"
    db.export_csv(out, verified_only=True)
    assert [r[1] for r in read_csv(out)[1:]] == ["1"]
    report = db.export_csv(out, subject="111")
    assert [r[1] for r in read_csv(out)[1:]] == ["1", "2"] and report.subject == "111"
    db.export_csv(out, subject="999")
    assert len(read_csv(out)) == 1


def test_failed_sheets_get_an_empty_needs_review_row_and_are_reported(db, tmp_path):
    t = db.register_template(make_template())
    db.save_reading(make_reading("d1" * 32), t.id)
    db.save_reading(failed_reading("d2" * 32, source="/s/blurry.jpg"), t.id)
    out = tmp_path / "m.csv"
    report = db.export_csv(out)
    assert read_csv(out)[2] == ["blurry.jpg", "", "", "", "", "", "", "needs_review"]
    assert report.failed == ("blurry.jpg",) and not report.is_complete and report.rows == 2
    assert report.needs_review == ()  # the report keeps "could not be read" apart
    db.export_csv(out, include_failed=False)
    assert len(read_csv(out)) == 2
    db.export_csv(out, verified_only=True)
    assert len(read_csv(out)) == 1


def test_several_templates_export_the_union_of_mark_columns(db, tmp_path):
    ta = make_template(name="A", marks=("Q1", "Q2"))
    tb = make_template(name="B", marks=("Q2", "Q3", "Q4"))
    ra, rb = db.register_template(ta), db.register_template(tb)
    db.save_reading(make_reading("e1" * 32, template=ta, marks=("1", "2")), ra.id)
    db.save_reading(make_reading("e2" * 32, template=tb, marks=("3", "4", "5")), rb.id)
    out = tmp_path / "m.csv"
    report = db.export_csv(out)
    rows = read_csv(out)
    assert rows[0] == ["sheet", "roll_no", "subject_code", "Q1", "Q2", "Q3", "Q4", "total", "status"]
    assert rows[1][3:7] == ["1", "2", "", ""] and rows[2][3:7] == ["", "3", "4", "5"]
    assert report.columns == tuple(rows[0])


def test_completeness_report_with_roster(db, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Roll No,Name,Subject\n1,Asha,111\n2,Bala,111\n3,Chen,111;222\n\n,Nobody,111\n",
                      encoding="utf-8")
    result = db.import_roster(roster)
    assert (result.added, result.enrolments) == (3, 4) and len(result.skipped_rows) == 1
    t = db.register_template(make_template())
    db.save_reading(make_reading("f1" * 32, roll="1", subject="111"), t.id)
    db.save_reading(make_reading("f2" * 32, roll="1", subject="111"), t.id)  # scanned twice
    db.save_reading(make_reading("f3" * 32, roll="9", subject="111", status=SheetStatus.NEEDS_REVIEW), t.id)
    db.save_reading(make_reading("f4" * 32, roll="3", subject="222"), t.id)
    report = db.export_csv(tmp_path / "m.csv", subject="111")
    assert report.missing_rolls == ("2", "3")  # 3 has a sheet, but for 222
    assert report.duplicate_rolls == {("1", "111"): ("f1" * 32 + ".jpg", "f2" * 32 + ".jpg")}
    assert report.needs_review == ("f3" * 32 + ".jpg",)
    assert report.unknown_rolls == ("9",) and report.roster_size == 3
    text = "\n".join(report.lines())
    assert "no sheet for roll numbers: 2, 3" in text and "scanned 2 times" in text
    whole = db.completeness()
    assert whole.missing_rolls == ("2",)


def test_roster_reimport_updates_names_and_bad_files_are_clear(db, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("roll_no,name\n1,Asha\n", encoding="utf-8")
    db.import_roster(f)
    f.write_text("roll_no,name\n1,Asha K\n2,Bala\n", encoding="utf-8")
    r = db.import_roster(f)
    assert (r.added, r.updated) == (1, 1)
    assert [(s.roll_no, s.name) for s in db.list_students()] == [("1", "Asha K"), ("2", "Bala")]
    f.write_text("student,marks\nx,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no roll number column"):
        db.import_roster(f)
    with pytest.raises(InputError, match="does not exist"):
        db.import_roster(tmp_path / "missing.csv")


def test_xlsx_has_the_same_table(db, tmp_path):
    from openpyxl import load_workbook

    t = db.register_template(make_template())
    db.save_reading(make_reading("g1" * 32, roll="=1"), t.id)
    db.export_xlsx(tmp_path / "m.xlsx")
    db.export_csv(tmp_path / "m.csv")
    ws = load_workbook(tmp_path / "m.xlsx").active
    assert [[c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)] == read_csv(
        tmp_path / "m.csv")


def test_export_to_an_unwritable_place_is_a_clear_error(db, tmp_path):
    with pytest.raises(InputError, match="cannot write"):
        db.export_csv(tmp_path / "no" / "such" / "dir" / "m.csv")
