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
