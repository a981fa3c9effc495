"""read_sheet's verdict, reasons and suggestions, with a stand-in classifier.

The stand-in answers each crop with the digit the test wrote there (crops come in template
order, left to right), so these tests check the pipeline's logic, not the model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import sheet_fakes as sf  # noqa: E402

from marksocr.domain import SheetStatus  # noqa: E402
from marksocr.pipeline import ReadOptions, read_sheet  # noqa: E402

VALUES = {"roll_no": "21012345", "subject_code": "40712", "Q1": "7", "Q2": "15", "Q3": "12", "total": "34"}


class ScriptedClassifier:
    """Returns, crop after crop, the next scripted label with the given confidence."""

    version = "scripted-1"

    def __init__(self, labels: str, confidence: dict[int, float] | None = None, second: dict[int, str] | None = None):
        self.labels, self.confidence, self.second = labels, confidence or {}, second or {}
        self.calls = 0

    def predict_proba(self, crops):
        self.calls += 1
        out = np.full((len(crops), 10), 1e-4)
        for i, ch in enumerate(self.labels[:len(crops)]):
            if ch == "b":  # blank for the classifier: a uniform row
                continue
            c = self.confidence.get(i, 0.995)
            out[i, int(ch)] = c
            alts = self.second.get(i)  # one or more labels sharing the rest
            for alt in alts or ():
                out[i, int(alt)] = (1 - c) / len(alts)
        return out / out.sum(axis=1, keepdims=True)


def labels_for(values: dict[str, str]) -> str:
    return "".join(values[f.name].replace(".", "") for f in sf.FIELDS)


def read(values, clf, **opts):
    photo = sf.photograph(sf.filled_page(values), tilt_deg=10, rotate_deg=180, seed=4)
    return read_sheet(photo, sf.template(), clf, source="s.jpg", options=ReadOptions(**opts))


def test_confident_consistent_sheet_is_auto():
    clf = ScriptedClassifier(labels_for(VALUES))
    r = read(VALUES, clf)
    assert r.status == SheetStatus.AUTO, r.reasons
    assert {f.name: f.text for f in r.fields} == VALUES
    assert clf.calls == 1  # one batched call for the whole sheet
    assert r.model_version == "scripted-1" and r.registration_quality > 0.9 and r.seconds > 0
    assert r.page_image is not None
    q2 = r.get_field("Q2")
    assert len(q2.digits) == 2 and q2.digits[0].alternatives[0][0] == "1" and q2.digits[0].crop is not None


def test_low_confidence_digit_needs_review():
    clf = ScriptedClassifier(labels_for(VALUES), confidence={3: 0.6}, second={3: "7"})  # roll_no's 4th digit
    r = read(VALUES, clf)
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert any("roll_no: unsure character (0.60: 1 or 7)" in x for x in r.reasons)


Q2_TENS = labels_for(VALUES).index("15", 13)  # the 1 of Q2 (after roll 8 + subject 5 + Q1 1 digits)


def test_doubtful_mark_confirmed_by_the_total_is_auto():
    # Q2 "15" or "75": 75 is above Q2's max 20, and any other reading breaks 7 + 15 + 12 = 34
    clf = ScriptedClassifier(labels_for(VALUES), confidence={Q2_TENS: 0.6}, second={Q2_TENS: "7"})
    r = read(VALUES, clf)
    assert r.status == SheetStatus.AUTO, r.reasons
    assert r.get_field("Q2").text == "15"


def test_doubtful_mark_and_total_that_can_trade_need_review():
    # Q1 7 or 6, total 34 or 33: 6 + 15 + 12 = 33 adds up as well, so the sum settles nothing
    labels = labels_for(VALUES)
    last = len(labels) - 1
    clf = ScriptedClassifier(labels, confidence={13: 0.6, last: 0.6}, second={13: "6", last: "3"})
    r = read(VALUES, clf)
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert any("Q1: unsure character (0.60: 7 or 6)" in x for x in r.reasons)
    assert any("total: unsure character (0.60: 4 or 3)" in x for x in r.reasons)


def test_sum_does_not_settle_a_digit_below_the_floor():
    # Q2's 1 at 0.4 (7 and 4 at 0.3 each): the sum confirms it, but it is too doubtful on its own
    clf = ScriptedClassifier(labels_for(VALUES), confidence={Q2_TENS: 0.4}, second={Q2_TENS: "74"})
    r = read(VALUES, clf)
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert any(x.startswith("Q2: unsure character (0.40: 1 or") for x in r.reasons)
    r = read(VALUES, clf, sum_verified_floor=0.3)
    assert r.status == SheetStatus.AUTO, r.reasons


def test_ink_left_out_goes_to_review_even_when_the_sum_backs_the_rest():
    # Q2 written "15", its 1 blank for the classifier and left out: "5" at 0.48 adds up (7 + 5 + 12
    # = 24) and clears a floor of 0.45, but the left-out ink must still be looked at.
    values = {**VALUES, "total": "24"}
    labels = labels_for(values)
    labels = labels[:Q2_TENS] + "b" + labels[Q2_TENS + 1:]
    clf = ScriptedClassifier(labels, confidence={Q2_TENS + 1: 0.48}, second={Q2_TENS + 1: "38"})
    r = read(values, clf, sum_verified_floor=0.45)
    assert r.get_field("Q2").text == "5"
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert any(x.startswith("Q2: stray marks left out") for x in r.reasons), r.reasons
    assert any(x.startswith("Q2: stray marks left out") for x in r.get_field("Q2").reasons)


def test_total_mismatch_gets_reason_and_suggestion():
    values = {**VALUES, "total": "35"}
    labels = labels_for(values)
    clf = ScriptedClassifier(labels, confidence={len(labels) - 1: 0.7}, second={len(labels) - 1: "4"})
    r = read(values, clf, threshold=0.5)
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert "total 35 but marks add up to 34" in r.reasons
    assert r.get_field("total").suggestion == "34"


def test_roster_check_and_suggestion():
    clf = ScriptedClassifier(labels_for(VALUES), confidence={7: 0.8}, second={7: "6"})
    r = read(VALUES, clf, threshold=0.5, roll_numbers={"21012346", "99999999"})
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert "roll number 21012345 not in roster" in r.reasons
    assert r.get_field("roll_no").suggestion == "21012346"


def test_unregistrable_photo_fails_without_raising():
    clf = ScriptedClassifier("")
    r = read_sheet(np.full((3000, 2000), 128, np.uint8), sf.template(), clf, source="grey.jpg")
    assert r.status == SheetStatus.FAILED and r.reasons and r.fields == ()
    assert clf.calls == 0


def test_sum_checked_marks_need_less_confidence_than_ids():
    labels = labels_for(VALUES)
    mark_digit = 13  # Q1's digit: protected by the sum check
    r = read(VALUES, ScriptedClassifier(labels, confidence={mark_digit: 0.8}, second={mark_digit: "1"}), threshold=0.9)
    assert r.status == SheetStatus.AUTO, r.reasons
    id_digit = 2  # third roll-number digit: nothing checks it
    r = read(VALUES, ScriptedClassifier(labels, confidence={id_digit: 0.8}, second={id_digit: "7"}), threshold=0.9)
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert any(x.startswith("roll_no: unsure character (0.80") for x in r.reasons)
    # with a roster in which no other entry has a 7 there, the roster settles the doubtful digit
    r = read(VALUES, ScriptedClassifier(labels, confidence={id_digit: 0.8}, second={id_digit: "7"}), threshold=0.9,
             roll_numbers={VALUES["roll_no"], "21012346", "21012347"})
    assert r.status == SheetStatus.AUTO, r.reasons


def test_a_roster_with_the_other_reading_in_it_settles_nothing():
    # Sequential roll numbers: 21012345 and 21012346 are both students. The last digit read as 5
    # at 0.8 (6 at 0.2) is in the roster, but so is the 6: a look is needed, whatever the relief.
    labels = labels_for(VALUES)
    last_roll = 7
    clf = ScriptedClassifier(labels, confidence={last_roll: 0.8}, second={last_roll: "6"})
    roster = {f"210123{k:02d}" for k in range(30, 60)}
    r = read(VALUES, clf, threshold=0.9, roll_numbers=roster)
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert any(x.startswith("roll_no: unsure character (0.80: 5 or 6)") for x in r.reasons), r.reasons
    roster.discard("21012346")  # the 6 is nobody's: the roster settles it
    assert read(VALUES, clf, threshold=0.9, roll_numbers=roster).status == SheetStatus.AUTO


def test_a_digit_just_below_a_high_threshold_is_not_shown_as_certain():
    from marksocr.domain import DigitReading, FieldKind, FieldReading, FieldSpec, Template
    from marksocr.imaging.register import RegistrationResult
    from marksocr.pipeline.reader import judge

    tpl = Template(name="t", fields=(FieldSpec("roll_no", FieldKind.ROLL_NO, (0.1, 0.1, 0.5, 0.05)),))
    digit = DigitReading("9", 0.9967, (0, 0, 5, 5), (("9", 0.9967), ("8", 0.002)))
    field = FieldReading("roll_no", FieldKind.ROLL_NO, "9", 0.9967, (digit,))
    _, status, reasons = judge(tpl, [field], RegistrationResult(True, "markers", 0.95), ReadOptions(threshold=0.997))
    assert status == SheetStatus.NEEDS_REVIEW
    assert "roll_no: unsure character (0.9967: 9 or 8)" in reasons


def test_the_digit_after_a_decimal_point_is_read_as_a_half_mark():
    """Marks are whole or half: a hasty 5 after the point, read as 9 (with 5 second), is 7.5,
    but no surer than the classifier was of its own answer: on its own it goes to review, and a
    total that only 7.5 makes settles it."""
    values = dict(VALUES, Q1="7.5", total="34.5")
    labels = labels_for(values)
    frac = len(values["roll_no"]) + len(values["subject_code"]) + 1  # the 5 of Q1's 7.5
    clf = ScriptedClassifier(labels[:frac] + "9" + labels[frac + 1:], confidence={frac: 0.7}, second={frac: "5"})
    r = read(values, clf, sum_verified_floor=1.0)  # the digit on its own
    q1 = next(f for f in r.fields if f.name == "Q1")
    assert q1.text == "7.5"
    assert q1.digits[-1].confidence <= 0.7 + 1e-6 and q1.digits[-1].alternatives[1][0] == "9"
    assert r.status == SheetStatus.NEEDS_REVIEW and any("Q1: unsure" in x for x in r.reasons)
    assert read(values, clf).status == SheetStatus.AUTO  # the total, 34.5, settles it: 7.9 would not add up


def test_a_point_before_a_digit_that_is_no_half_is_a_speck():
    """A 12 with a dot between its digits reads 1.2 to the segmenter, but .2 is no mark (whole or
    half only): the point is left out, and the 2 goes to review unless the total settles it."""
    values = dict(VALUES, Q3="1.2")  # the dot is drawn; the truth is 12 (total 34)
    r = read(values, ScriptedClassifier(labels_for(values)), sum_verified_floor=1.0)  # the digits on their own
    q3 = next(f for f in r.fields if f.name == "Q3")
    assert q3.text == "12" and q3.confidence <= 0.5
    assert r.status == SheetStatus.NEEDS_REVIEW and any("Q3: unsure" in x for x in r.reasons)
    assert not any("sum" in x for x in r.reasons)
    assert read(values, ScriptedClassifier(labels_for(values))).status == SheetStatus.AUTO  # the total 34 settles it


def test_a_half_whose_point_the_photo_lost_is_read_as_a_half():
    """8.5 written, the point lost: 85 is above Q1's maximum of 10, 8.5 is a half: read 8.5,
    with the point unsure. And 15 in Q2 (maximum 20) is kept, unless the sum wants 1.5."""
    values = dict(VALUES, Q1="85", total="35.5")  # written without a point: what the segmenter sees
    r = read(values, ScriptedClassifier(labels_for(values)), sum_verified_floor=1.0)  # the point on its own
    got = {f.name: f.text for f in r.fields}
    assert got["Q1"] == "8.5" and got["Q2"] == "15"
    point = next(f for f in r.fields if f.name == "Q1").digits[1]
    assert point.crop is not None and point.crop.size > 0  # the evidence: where the point should be
    assert r.status == SheetStatus.NEEDS_REVIEW and any("Q1: unsure character (0.50" in x for x in r.reasons)
    assert read(values, ScriptedClassifier(labels_for(values))).status == SheetStatus.AUTO  # the total settles it
    values = dict(VALUES, Q2="15", total="20.5")  # 7 + 1.5 + 12: only the half makes the sum
    r = read(values, ScriptedClassifier(labels_for(values)), sum_verified_floor=1.0)
    assert {f.name: f.text for f in r.fields}["Q2"] == "1.5"
    assert r.status == SheetStatus.NEEDS_REVIEW


def test_a_needed_point_makes_the_digit_after_it_a_half():
    """9.5 with the 5 read as a confident 9 and nothing else: 99 is above the maximum, so the
    point is real and the digit after it is taken as the half, at most 0.5 sure (settled only by
    the total)."""
    values = dict(VALUES, Q1="9.5", total="36.5")
    labels = labels_for(values)
    frac = len(values["roll_no"]) + len(values["subject_code"]) + 1
    clf = ScriptedClassifier(labels[:frac] + "9" + labels[frac + 1:])
    r = read(values, clf, sum_verified_floor=1.0)  # the half on its own
    q1 = next(f for f in r.fields if f.name == "Q1")
    assert q1.text == "9.5" and q1.digits[-1].confidence <= 0.5
    assert r.status == SheetStatus.NEEDS_REVIEW
    assert read(values, clf).status == SheetStatus.AUTO  # the total 36.5 settles it


def test_a_lost_point_before_a_misread_five_is_still_a_half():
    """7.5 written, the point lost and the hasty 5 read as 6 (5 second): 76 is above Q1's maximum
    of 10, so the point was lost and the digit after it is a half: read 7.5, never sure on its
    own."""
    values = dict(VALUES, Q1="75", total="34.5")  # written without a point: what the segmenter sees
    labels = labels_for(values)
    frac = len(values["roll_no"]) + len(values["subject_code"]) + 1
    clf = ScriptedClassifier(labels[:frac] + "6" + labels[frac + 1:], confidence={frac: 0.7}, second={frac: "5"})
    r = read(values, clf, sum_verified_floor=1.0)  # the point and the half on their own
    q1 = next(f for f in r.fields if f.name == "Q1")
    assert q1.text == "7.5" and q1.digits[1].label == "." and q1.digits[-1].confidence <= 0.7
    assert r.status == SheetStatus.NEEDS_REVIEW and any("Q1: unsure character (0.50" in x for x in r.reasons)
    assert read(values, clf).status == SheetStatus.AUTO  # the total 34.5 settles them


def test_a_blurred_photo_goes_to_review_saying_so(tmp_path):
    import cv2

    from marksocr.pipeline.reader import MAX_BLUR

    ref = tmp_path / "blank.png"
    cv2.imwrite(str(ref), sf.blank_page())
    template = sf.template(reference=ref)
    page = sf.filled_page(VALUES)
    sharp = read_sheet(sf.photograph(page, tilt_deg=10, seed=4), template, ScriptedClassifier(labels_for(VALUES)),
                       source="s.jpg")
    shaken = read_sheet(sf.photograph(page, tilt_deg=10, blur=6.0, seed=4), template,
                        ScriptedClassifier(labels_for(VALUES)), source="s.jpg")
    assert sharp.status == SheetStatus.AUTO and sharp.blur is not None and sharp.blur <= 1.0, (sharp.blur, sharp.reasons)
    assert {f.name: f.text for f in shaken.fields} == VALUES  # read right, confidently: only the blur is against it
    assert shaken.blur > MAX_BLUR and shaken.status == SheetStatus.NEEDS_REVIEW
    assert any(r.startswith("photo too blurred") and "retake" in r for r in shaken.reasons), shaken.reasons


@pytest.mark.parametrize("degrees", (20, 90))
def test_a_photo_shaken_one_way_goes_to_review_saying_so(tmp_path, degrees):
    """Camera shake doubles every stroke along one direction and leaves them sharp across it: a
    strong shake (about 16 px of the registered page) is too blurred, a slight one (4 px) is not."""
    import cv2

    ref = tmp_path / "blank.png"
    cv2.imwrite(str(ref), sf.blank_page())
    template = sf.template(reference=ref)
    page = sf.filled_page(VALUES)
    steady, shaken = (read_sheet(sf.photograph(page, tilt_deg=10, blur=1.0, shake=(length, degrees), seed=4), template,
                                 ScriptedClassifier(labels_for(VALUES)), source="s.jpg") for length in (5, 22))
    assert steady.status == SheetStatus.AUTO, (steady.blur, steady.reasons)
    assert shaken.status == SheetStatus.NEEDS_REVIEW, shaken.blur
    assert any(r.startswith("photo too blurred") and "retake" in r for r in shaken.reasons), shaken.reasons


def test_a_mark_in_a_comb_of_two_cells_may_be_a_single_digit(classifier, monkeypatch):
    """A marks table with a tens and a units cell per question: ``7`` is a whole mark there, not
    a mark one digit short (the comb's cells are the most digits it holds)."""
    from dataclasses import replace

    monkeypatch.setattr(sf, "FIELDS", tuple(replace(f, cells=2) if f.name in ("Q2", "Q3") else f for f in sf.FIELDS))
    values = {**VALUES, "Q2": "7", "Q3": "12", "total": "26"}
    r = read_sheet(sf.filled_page(values), sf.template(), classifier, source="s.png")
    assert {n: r.get_field(n).text for n in ("Q1", "Q2", "Q3", "total")} == {"Q1": "7", "Q2": "7", "Q3": "12", "total": "26"}
    assert not [m for m in r.reasons if "digits, expected" in m], r.reasons
