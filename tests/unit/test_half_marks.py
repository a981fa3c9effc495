"""The half-mark rules on readings alone (``pipeline.half_marks``), without a photo."""

from __future__ import annotations

import numpy as np

from marksocr.domain import DigitReading
from marksocr.pipeline.glyphs import text_of
from marksocr.pipeline.half_marks import mark_readings


def _reading(text: str, confidence: float = 0.99) -> list[DigitReading]:
    out = []
    for i, ch in enumerate(text):
        box = (20 * i, 0 if ch != "." else 30, 18 if ch != "." else 4, 40 if ch != "." else 4)
        out.append(DigitReading(ch, confidence, box, ((ch, confidence),)))
    return out


def _within(top: float):
    def valid(text: str) -> bool:
        return text.count(".") <= 1 and len(text.partition(".")[2]) <= 1 and float(text) <= top
    return valid


FIELD = np.full((40, 120), 255, np.uint8)


def test_a_speck_read_as_a_point_in_the_wrong_place_gives_way_to_the_lost_point():
    """44.5 with its point lost and a speck read as a point after the first 4: 4.45 is no mark,
    445 is above the maximum, so the point was lost before the 5: 44.5, never sure."""
    got, _ = mark_readings(_reading("4.45"), _within(100), FIELD)[0]
    assert text_of(got) == "44.5"
    assert got[1].confidence <= 0.5 and got[2].confidence <= 0.5  # the moved point stays unsure


def test_a_trailing_point_is_a_speck():
    got, _ = mark_readings(_reading("53."), _within(100), FIELD)[0]
    assert text_of(got) == "53" and got[-1].confidence <= 0.5


def test_a_misplaced_point_is_kept_when_nothing_valid_comes_of_it():
    """5.254 without its point is 5254, and no half of it is a mark: the reading stays as read
    (the checks then send it to review)."""
    got, _ = mark_readings(_reading("5.254"), _within(100), FIELD)[0]
    assert text_of(got) == "5.254"


def _digit(i: int, *alternatives: tuple[str, float]) -> DigitReading:
    label, p = alternatives[0]
    return DigitReading(label, p, (20 * i, 0, 18, 40), tuple(alternatives))


def test_a_mark_above_its_maximum_with_a_sure_last_digit_was_misread_not_a_lost_half():
    """12 (maximum 15) with its 1 read as a 7 at 0.52 (1 at 0.45) and a sure 2: 72 is above the
    maximum, but 7.5 would need the sure 2 to be a 5. One digit read as its close second makes a
    valid mark: 12, still unsure, and 7.5 stays an alternative for the sum check."""
    digits = [_digit(0, ("7", 0.52), ("1", 0.45), ("9", 0.02)), _digit(1, ("2", 0.9999), ("3", 0.0001))]
    readings = mark_readings(digits, _within(15), FIELD)
    got, _ = readings[0]
    assert text_of(got) == "12"
    assert got[0].confidence <= 0.45 and got[1].confidence > 0.99
    assert [text_of(d) for d, _ in readings[1:]] == ["7.5"] and readings[1][1] < 0


def test_a_lost_point_before_a_five_is_still_the_half():
    """85 (maximum 10) with a sure 8 and a sure 5: no single misread makes a valid mark likelier
    than the half whose point the photo lost."""
    digits = [_digit(0, ("8", 0.98), ("3", 0.015), ("1", 0.005)), _digit(1, ("5", 0.99), ("3", 0.01))]
    got, _ = mark_readings(digits, _within(10), FIELD)[0]
    assert text_of(got) == "8.5"


def test_a_lost_point_before_a_zero_is_rarer_than_a_misread_one():
    """10 (maximum 10) with its 1 read as a 7 at 0.56 (1 at 0.31): 70 is above the maximum; 7.0
    needs a point lost before a 0 (half marks are written .5), 10 only the 1 as its second
    choice: 10 is read, unsure."""
    digits = [_digit(0, ("7", 0.56), ("1", 0.31), ("3", 0.06)), _digit(1, ("0", 0.9996), ("8", 0.0004))]
    got, _ = mark_readings(digits, _within(10), FIELD)[0]
    assert text_of(got) == "10" and got[0].confidence <= 0.31
