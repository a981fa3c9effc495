"""Every sheet check, with the human-readable reason a reviewer sees."""

from __future__ import annotations

from marksocr.domain import FieldKind, FieldSpec, Template
from marksocr.domain import parse_number
from marksocr.pipeline.checks import check_sheet

TPL = Template(name="t", fields=(
    FieldSpec("roll_no", FieldKind.ROLL_NO, (0.1, 0.1, 0.4, 0.05), cells=7),
    FieldSpec("subject_code", FieldKind.SUBJECT_CODE, (0.1, 0.2, 0.3, 0.05), cells=5),
    FieldSpec("Q1", FieldKind.MARK, (0.5, 0.3, 0.2, 0.05), max=10),
    FieldSpec("Q2", FieldKind.MARK, (0.5, 0.4, 0.2, 0.05), max=20),
    FieldSpec("Q3", FieldKind.MARK, (0.5, 0.5, 0.2, 0.05), max=15),
    FieldSpec("total", FieldKind.TOTAL, (0.5, 0.6, 0.2, 0.05)),
))
GOOD = {"roll_no": "2101234", "subject_code": "40712", "Q1": "7.5", "Q2": "18", "Q3": "12", "total": "37.5"}


def messages(texts, **kw):
    return [i.message for i in check_sheet(TPL, texts, **kw)]


def test_consistent_sheet_has_no_issues():
    assert messages(GOOD) == []
    assert messages(GOOD, roll_numbers={"2101234"}, subject_codes={"40712"}) == []


def test_total_differs_from_sum():
    assert messages({**GOOD, "total": "38.5"}) == ["total 38.5 but marks add up to 37.5"]


def test_mark_above_max():
    msgs = messages({**GOOD, "Q3": "18", "total": "43.5"})
    assert msgs == ["Q3 = 18 > max 15"]


def test_mark_with_more_digits_than_max():
    assert "Q1 '007' has more digits than its max 10" in messages({**GOOD, "Q1": "007", "total": "37"})


def test_roster_and_subject_codes():
    msgs = messages(GOOD, roll_numbers={"2101235"}, subject_codes={"40711"})
    assert "roll number 2101234 not in roster" in msgs
    assert "subject code 40712 not in list of subject codes" in msgs


def test_comb_digit_count():
    assert messages({**GOOD, "roll_no": "210123"}) == ["roll number has 6 digits, expected 7"]


def test_empty_required_fields_and_empty_mark_counts_as_zero():
    msgs = messages({**GOOD, "roll_no": "", "Q1": "", "total": "30"})
    assert msgs == ["roll number is empty"]
    assert "total is empty" in messages({**GOOD, "total": ""})


def test_malformed_numbers():
    assert "Q2 '1.8.' is not a number" in messages({**GOOD, "Q2": "1.8."})
    assert parse_number("7.5") == 7.5
    assert parse_number(".5") is None and parse_number("7.") is None and parse_number("") is None


def test_marks_add_up():
    from marksocr.domain import marks_add_up

    assert marks_add_up(["7", "8.5", ""], ["15.5"])
    assert not marks_add_up(["7", "8.5", ""], ["16"])
    assert not marks_add_up(["7", "8.5"], [])  # no total: nothing to add up to
    assert not marks_add_up(["7", "8x"], ["15"])  # an unreadable mark backs nothing
    assert not marks_add_up(["7", "8"], [""])  # nor does an empty total
    assert marks_add_up(["0.5", "0.5", "0.5"], ["1.5"])
