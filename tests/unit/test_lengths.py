"""Digit counts of free-written ids that the template does not give: from the roster, or from
what most sheets of a scan read (``pipeline.lengths``)."""

from __future__ import annotations

from marksocr.domain import FieldKind, FieldReading, FieldSpec, SheetReading, SheetStatus, Template
from marksocr.pipeline.checks import check_sheet, expected_digits
from marksocr.pipeline.lengths import LEARN_FROM, MIN_SHEETS, learned_lengths, listed_lengths, open_fields, with_lengths

OPEN = Template(name="free ids", fields=(
    FieldSpec("roll_no", FieldKind.ROLL_NO, (0.1, 0.1, 0.4, 0.05)),
    FieldSpec("subject_code", FieldKind.SUBJECT_CODE, (0.1, 0.2, 0.3, 0.05)),
    FieldSpec("Q1", FieldKind.MARK, (0.5, 0.3, 0.2, 0.05), max=10),
    FieldSpec("total", FieldKind.TOTAL, (0.5, 0.6, 0.2, 0.05)),
))


def sheet(roll: str, subject: str = "40712", status: SheetStatus = SheetStatus.NEEDS_REVIEW) -> SheetReading:
    texts = {"roll_no": roll, "subject_code": subject, "Q1": "7", "total": "7"}
    fields = tuple(FieldReading(f.name, f.kind, texts[f.name], 0.99) for f in OPEN.fields)
    return SheetReading(source="s.jpg", page=None, sha256=roll, template_name=OPEN.name, status=status, fields=fields)


def test_only_ids_without_cells_or_digits_are_open():
    combed = Template(name="t", fields=(
        FieldSpec("roll_no", FieldKind.ROLL_NO, (0.1, 0.1, 0.4, 0.05), cells=8),
        FieldSpec("subject_code", FieldKind.SUBJECT_CODE, (0.1, 0.2, 0.3, 0.05), extra={"digits": 5}),
        FieldSpec("Q1", FieldKind.MARK, (0.5, 0.3, 0.2, 0.05), max=10),
    ))
    assert open_fields(combed) == []
    assert [f.name for f in open_fields(OPEN)] == ["roll_no", "subject_code"]


def test_the_length_most_sheets_read_is_learned_and_misreads_do_not_outvote_it():
    readings = [sheet("2023000101"), sheet("202300012"), sheet("2023000103"), sheet("20230014"),
                sheet("2023000105"), sheet("2023000106", "4071")]
    assert learned_lengths(OPEN, readings) == {"roll_no": 10, "subject_code": 5}


def test_on_hard_photos_the_right_length_needs_only_a_clear_lead():
    ten, nine = "2023000101", "202300012"
    spread = [sheet(ten)] * 6 + [sheet(nine)] * 3 + [sheet("2023"), sheet("2023000"), sheet("20230001011")]
    assert learned_lengths(OPEN, spread)["roll_no"] == 10  # 6 of 12, twice the runner-up
    close = [sheet(ten)] * 5 + [sheet(nine)] * 4 + [sheet("2023"), sheet("2023000"), sheet("20230001011")]
    assert "roll_no" not in learned_lengths(OPEN, close)  # 5 against 4: not clear enough


def test_no_length_is_forced_on_a_class_whose_numbers_are_of_two_lengths_or_too_few_sheets():
    even = [sheet("20230001"), sheet("2023000102"), sheet("20230003"), sheet("2023000104")] * 2
    assert "roll_no" not in learned_lengths(OPEN, even)
    assert learned_lengths(OPEN, [sheet("20230001")] * (MIN_SHEETS - 1)) == {}
    failed = [sheet("", "", SheetStatus.FAILED)] * LEARN_FROM
    assert learned_lengths(OPEN, failed + [sheet("20230001")]) == {}  # failed pages and empty fields say nothing


def test_a_roster_of_one_length_gives_the_length_and_a_mixed_one_does_not():
    assert listed_lengths(OPEN, ["20230001", "20230002"], None) == {"roll_no": 8}
    assert listed_lengths(OPEN, ["20230001", "2023000"], ["40712"]) == {"subject_code": 5}
    assert listed_lengths(OPEN, None, None) == {}


def test_a_learned_length_is_checked_and_the_reviewer_is_told_where_it_came_from():
    given = with_lengths(OPEN, {"roll_no": 10}, "as on most sheets of this scan")
    assert expected_digits(given.field_named("roll_no")) == 10 and expected_digits(given.field_named("subject_code")) is None
    texts = {"roll_no": "202300012", "subject_code": "40712", "Q1": "7", "total": "7"}
    assert [i.message for i in check_sheet(given, texts)] == [
        "roll number has 9 digits, expected 10 (as on most sheets of this scan)"]
    assert check_sheet(OPEN, texts) == []  # without the length nothing questions the lost digit
    assert with_lengths(given, {"roll_no": 8}, "x").field_named("roll_no").extra["digits"] == 10  # given stays


def test_template_check_says_which_free_ids_have_no_digit_count(tmp_path, capsys):
    import json
    import shutil

    from marksocr.cli.main import main
    from marksocr.paths import resources_dir

    layout = resources_dir() / "templates" / "foreign_university"
    raw = json.loads((layout / "template.json").read_text())
    next(f for f in raw["fields"] if f["name"] == "subject_code").pop("digits")
    shutil.copy(layout / raw["reference_image"], tmp_path / raw["reference_image"])
    (tmp_path / "t.json").write_text(json.dumps(raw))
    assert main(["template", "check", str(tmp_path / "t.json")]) == 0
    out = capsys.readouterr().out
    assert "10 digits" in out and "note: subject_code is written freely with no digit count" in out
    assert "note: roll_no" not in out


def test_lengths_stored_before_with_the_template_decide_at_once():
    from marksocr.pipeline.batch import LengthReader, ScanOptions

    stored = {"roll_no": ["2023000101", "2023000102", "2023000103", "202300014"], "subject_code": ["40712"] * 3}
    reader = LengthReader(OPEN, None, ScanOptions(threshold=0.9), stored)
    assert not reader.learning  # nothing is held back: the first sheet is read knowing both
    assert [expected_digits(reader.template.field_named(n)) for n in ("roll_no", "subject_code")] == [10, 5]
    assert reader.found == "roll_no 10 digits, subject_code 5 digits (as on most sheets read with this template)"
    roster = LengthReader(OPEN, None, ScanOptions(threshold=0.9, roll_numbers=["20230001"]), {"subject_code": []})
    assert roster.learning and expected_digits(roster.template.field_named("roll_no")) == 8
    assert roster.found == "roll_no 8 digits (as in the roster)"
