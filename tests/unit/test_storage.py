"""Storage: schema, templates, saving readings, listing, editing, undo (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from sqlalchemy import inspect, text

from marksocr.domain import SheetStatus, StorageError
from marksocr.storage import Database, FieldRecord, InvalidEdit, RecordNotFound, SheetRecord
from test_storage_support import (  # noqa: F401 - fixtures
    db,
    db_url,
    failed_reading,
    make_reading,
    make_template,
    pg_server,
)


def test_open_creates_current_schema_and_reopen_is_a_no_op(db, db_url):
    tables = set(inspect(db._read_engine).get_table_names())
    assert {"templates", "subjects", "students", "enrolments", "sheets", "field_readings", "audit_log",
            "alembic_version"} <= tables
    assert db.schema_revision == "0001"
    assert db.upgrade() is False
    with Database.open(db_url) as again:
        assert again.schema_revision == "0001"


def test_orm_models_match_the_migrations(db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from marksocr.storage.models import Base

    with db._read_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diffs == []


def test_register_template_is_an_upsert_by_checksum(db):
    a = db.register_template(make_template())
    again = db.register_template(make_template())
    other = db.register_template(make_template(marks=("Q1", "Q2")))
    assert again.id == a.id and other.id != a.id
    assert a.mark_field_names == ("Q1", "Q2", "Q3")
    assert a.field_max[2] == 10
    assert [t.id for t in db.list_templates()] == [a.id, other.id]


def test_save_reading_round_trips_fields_digits_and_crops(db):
    t = db.register_template(make_template())
    reading = make_reading("aa" * 32, marks=("7", "8.5", ""), low="Q2")
    result = db.save_reading(reading, t.id, field_pngs={"Q1": b"\x89PNG-q1"}, page_png=b"\x89PNG-page")
    assert result.created
    sheet = db.get_sheet(result.sheet_id)
    assert isinstance(sheet, SheetRecord) and not dataclasses.is_dataclass(type(sheet)) is False
    assert [f.name for f in sheet.fields] == ["roll_no", "subject_code", "Q1", "Q2", "Q3", "total"]
    assert sheet.get_field("Q2").text == "8.5" and sheet.get_field("Q3").text == ""
    assert sheet.get_field("Q2").digits[0].alternatives[0] == ("8", 0.5)
    assert sheet.get_field("Q2").reasons == ("low confidence",)
    assert sheet.get_field("Q1").crop_png == b"\x89PNG-q1"
    assert db.get_page_png(sheet.id) == b"\x89PNG-page"
    assert sheet.roll_no == "20230001" and sheet.subject_code == "10101"
    assert sheet.min_confidence == pytest.approx(0.5)
    assert sheet.created_at.tzinfo is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        sheet.status = SheetStatus.VERIFIED  # type: ignore[misc]


def test_save_reading_is_idempotent_and_never_overwrites_a_read_sheet(db):
    t = db.register_template(make_template())
    first = db.save_reading(make_reading("bb" * 32), t.id)
    db.correct_field(first.sheet_id, "Q1", "6", "ann")
    again = db.save_reading(make_reading("bb" * 32, marks=("1", "1", "1")), t.id)
    assert again.sheet_id == first.sheet_id and not again.created
    assert len(db.list_sheets()) == 1
    assert db.get_sheet(first.sheet_id).get_field("Q1").value == "6"
    assert db.get_sheet(first.sheet_id).get_field("Q2").value == "8"
    assert db.has_sheet("bb" * 32, t.id) and not db.has_sheet("cc" * 32, t.id)
    # same bytes under another template is another sheet
    t2 = db.register_template(make_template(name="Other", marks=("A",)))
    assert db.save_reading(make_reading("bb" * 32, template=make_template(name="Other", marks=("A",)),
                                        marks=("4",)), t2.id).created


def test_failed_sheet_is_replaced_by_a_later_reading(db):
    t = db.register_template(make_template())
    failed = db.save_reading(failed_reading("dd" * 32), t.id)
    assert db.sheet_status("dd" * 32, t.id) == SheetStatus.FAILED
    assert db.get_sheet(failed.sheet_id).reasons == ("page not found: no markers",)
    again = db.save_reading(make_reading("dd" * 32), t.id)
    assert again.created and again.replaced_failed and again.sheet_id == failed.sheet_id
    sheet = db.get_sheet(again.sheet_id)
    assert sheet.status == SheetStatus.AUTO and len(sheet.fields) == 6
    assert [e.action for e in db.history(sheet.id)] == ["replace", "scan"]


def test_unique_sha256_template_is_enforced_by_the_database(db):
    from marksocr.storage.models import SheetRow

    t = db.register_template(make_template())
    db.save_reading(make_reading("ee" * 32), t.id)
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    with Session(db._write_engine) as s, pytest.raises(IntegrityError):
        with s.begin():
            s.add(SheetRow(template_id=t.id, source="x", sha256="ee" * 32, label="x", status="auto", reasons=[],
                           registration_quality=0, model_version="", seconds=0, roll_no="", subject_code="",
                           min_confidence=1))


def test_list_sheets_most_doubtful_first_with_filters(db):
    t = db.register_template(make_template())
    ids = {}
    ids["auto"] = db.save_reading(make_reading("01" * 32), t.id).sheet_id
    ids["review_mild"] = db.save_reading(make_reading("02" * 32, status=SheetStatus.NEEDS_REVIEW), t.id).sheet_id
    ids["review_bad"] = db.save_reading(make_reading("03" * 32, status=SheetStatus.NEEDS_REVIEW, low="Q1",
                                                     subject="20202"), t.id).sheet_id
    ids["failed"] = db.save_reading(failed_reading("04" * 32), t.id).sheet_id
    order = [s.id for s in db.list_sheets()]
    assert order == [ids["review_bad"], ids["review_mild"], ids["failed"], ids["auto"]]
    assert [s.id for s in db.list_sheets(status="needs_review", subject="20202")] == [ids["review_bad"]]
    assert {s.id for s in db.list_sheets(status=[SheetStatus.AUTO, "failed"])} == {ids["auto"], ids["failed"]}
    assert db.list_sheets(limit=1)[0].fields == ()
    assert db.count_sheets()[SheetStatus.NEEDS_REVIEW] == 2


def test_correct_confirm_verify_and_their_audit_log(db):
    t = db.register_template(make_template())
    sid = db.save_reading(make_reading("05" * 32, status=SheetStatus.NEEDS_REVIEW, low="Q1"), t.id).sheet_id
    rec = db.correct_field(sid, "Q1", "6.5", "ann")
    assert isinstance(rec, FieldRecord) and rec.value == "6.5" and rec.text == "7" and rec.is_corrected
    assert rec.corrected_by == "ann" and rec.corrected_at is not None
    assert db.confirm_field(sid, "Q2", "ann").is_checked
    assert not db.get_sheet(sid).get_field("Q2").is_corrected
    db.correct_field(sid, "roll_no", "20239999", "ann")
    assert db.get_sheet(sid).roll_no == "20239999"
    sheet = db.verify_sheet(sid, "bob")
    assert sheet.status == SheetStatus.VERIFIED and sheet.verified_by == "bob"
    log = db.history(sid)
    assert [(e.action, e.user, e.field_name, e.old_value, e.new_value) for e in log[:4]] == [
        ("verify", "bob", None, "needs_review", "verified"),
        ("correct", "ann", "roll_no", "20230001", "20239999"),
        ("confirm", "ann", "Q2", "8", "8"),
        ("correct", "ann", "Q1", "7", "6.5"),
    ]


def test_marks_the_sum_backs_are_not_doubtful_until_the_sum_breaks(db):
    # An auto sheet whose Q2 digit (0.6) the reader accepted because the marks add up to the total.
    t = db.register_template(make_template())
    reading = make_reading("0f" * 32)
    fields = tuple(dataclasses.replace(f, confidence=0.6, digits=tuple(dataclasses.replace(d, confidence=0.6) for d in f.digits))
                   if f.name in ("Q2", "roll_no") else f for f in reading.fields)
    sid = db.save_reading(dataclasses.replace(reading, fields=fields), t.id).sheet_id
    sheet = db.get_sheet(sid)
    backed = {f.name for f in sheet.fields if f.sum_backed}
    assert backed == {"Q1", "Q2", "Q3", "total"}
    assert not sheet.get_field("Q2").is_doubtful(0.9975)
    assert sheet.get_field("roll_no").is_doubtful(0.9975)  # nothing backs an id
    # The operator changes Q1 so the marks no longer add up: the doubtful Q2 needs a look again.
    db.correct_field(sid, "Q1", "6", "ann")
    sheet = db.get_sheet(sid)
    assert not any(f.sum_backed for f in sheet.fields)
    assert sheet.get_field("Q2").is_doubtful(0.9975)
    # A field the reader gave reasons is doubtful whatever the sum says.
    sid2 = db.save_reading(make_reading("1f" * 32, low="Q2", status=SheetStatus.NEEDS_REVIEW), t.id).sheet_id
    q2 = db.get_sheet(sid2).get_field("Q2")
    assert not q2.sum_backed and q2.is_doubtful(0.5)


@pytest.mark.parametrize("name,value", [("Q1", "7a"), ("Q1", "11"), ("Q1", "=1+1"), ("roll_no", "12-3")])
def test_invalid_corrections_are_refused(db, name, value):
    t = db.register_template(make_template())
    sid = db.save_reading(make_reading("06" * 32), t.id).sheet_id
    with pytest.raises(InvalidEdit):
        db.correct_field(sid, name, value, "ann")
    assert db.get_sheet(sid).get_field(name).corrected_value is None
    assert [e.action for e in db.history(sid)] == ["scan"]


def test_failed_sheets_cannot_be_edited_or_verified_and_unknown_ids_are_clear(db):
    t = db.register_template(make_template())
    fid = db.save_reading(failed_reading("07" * 32), t.id).sheet_id
    with pytest.raises(InvalidEdit):
        db.verify_sheet(fid, "ann")
    sid = db.save_reading(make_reading("08" * 32), t.id).sheet_id
    with pytest.raises(RecordNotFound, match="no field 'Q9'"):
        db.correct_field(sid, "Q9", "1", "ann")
    with pytest.raises(RecordNotFound, match="no sheet 999"):
        db.get_sheet(999)
    assert issubclass(RecordNotFound, StorageError)


def test_undo_walks_back_one_users_changes(db):
    t = db.register_template(make_template())
    sid = db.save_reading(make_reading("09" * 32, status=SheetStatus.NEEDS_REVIEW), t.id).sheet_id
    db.correct_field(sid, "Q1", "5", "ann")
    db.correct_field(sid, "Q1", "4", "ann")
    db.correct_field(sid, "Q2", "3", "bob")
    db.verify_sheet(sid, "ann")
    undone = db.undo("ann")
    assert undone.action == "verify" and db.get_sheet(sid).status == SheetStatus.NEEDS_REVIEW
    assert db.get_sheet(sid).verified_by is None
    assert db.undo("ann").new_value == "4"
    assert db.get_sheet(sid).get_field("Q1").value == "5"
    assert db.undo("ann").new_value == "5"
    q1 = db.get_sheet(sid).get_field("Q1")
    assert q1.value == "7" and q1.corrected_value is None and q1.corrected_by is None
    assert db.undo("ann") is None  # nothing left of ann's; bob's change stays
    assert db.get_sheet(sid).get_field("Q2").value == "3"
    assert [e.action for e in db.history(sid)][:3] == ["undo", "undo", "undo"]


def test_undo_of_roll_number_correction_restores_the_sheet_key(db):
    t = db.register_template(make_template())
    sid = db.save_reading(make_reading("0a" * 32), t.id).sheet_id
    db.correct_field(sid, "roll_no", "11112222", "ann")
    db.undo("ann", sheet_id=sid)
    assert db.get_sheet(sid).roll_no == "20230001"


def test_delete_sheet_is_logged(db):
    t = db.register_template(make_template())
    sid = db.save_reading(make_reading("0b" * 32), t.id).sheet_id
    db.delete_sheet(sid, "ann")
    assert db.list_sheets() == []
    assert db.history()[0].action == "delete" and "0b" in db.history()[0].old_value


def test_sqlite_pragmas_foreign_keys_and_wal(tmp_path):
    with Database.open(tmp_path / "m.db") as db:
        with db._write_engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
        t = db.register_template(make_template())
        db.save_reading(make_reading("0c" * 32), t.id)
        with pytest.raises(StorageError):  # RESTRICT: a template with sheets cannot vanish
            db._write_tx(lambda s: s.execute(text("DELETE FROM templates")), "test")


def test_storage_imports_no_qt_tensorflow_or_opencv():
    code = ("import sys, marksocr.storage, marksocr.settings; "
            "bad = [m for m in ('cv2', 'tensorflow', 'PySide6') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_in_memory_database_and_default_location(monkeypatch, tmp_path):
    with Database.open("sqlite://") as mem:
        t = mem.register_template(make_template())
        mem.save_reading(make_reading("0d" * 32), t.id)
        assert len(mem.list_sheets()) == 1
    with Database.open() as default:  # no URL, no variable, no settings: the user data folder
        assert default.description.endswith("marksocr/marks.sqlite3")
    monkeypatch.setenv("MARKSOCR_DB", str(tmp_path / "env.db"))
    with Database.open() as from_env:
        assert from_env.description == f"database file {tmp_path / 'env.db'}"


def test_one_database_shared_by_worker_threads(db):
    import threading

    t = db.register_template(make_template())
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(10):
                db.save_reading(make_reading(f"thread{k}-{i}"), t.id)
                db.list_sheets(limit=5)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(db.list_sheets()) == 30
