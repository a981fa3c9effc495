"""Sum-consistent decoding picks the most probable alternative reading passing every check."""

from __future__ import annotations

import math

import pytest

from marksocr.domain import DigitReading, FieldKind, FieldReading, FieldSpec, Template
from marksocr.pipeline.decoding import decode_marks, decode_roster, segmentation_for_sum, sum_posterior

TPL = Template(name="t", fields=(
    FieldSpec("Q1", FieldKind.MARK, (0.5, 0.3, 0.2, 0.05), max=10),
    FieldSpec("Q2", FieldKind.MARK, (0.5, 0.4, 0.2, 0.05), max=20),
    FieldSpec("total", FieldKind.TOTAL, (0.5, 0.6, 0.2, 0.05)),
))


def digit(*alts):
    return DigitReading(alts[0][0], alts[0][1], (0, 0, 10, 10), tuple(alts))


def field(name, kind, *digits):
    text = "".join(d.label for d in digits)
    return FieldReading(name, kind, text, min(d.confidence for d in digits), tuple(digits))


def test_consistent_sheet_needs_no_decoding():
    rs = [field("Q1", FieldKind.MARK, digit(("7", .99))), field("Q2", FieldKind.MARK, digit(("1", .99)), digit(("2", .99))),
          field("total", FieldKind.TOTAL, digit(("1", .99)), digit(("9", .99)))]
    assert decode_marks(TPL, rs) is None


def test_picks_the_most_probable_consistent_alternative():
    # read 7 + 12 = 18: either Q1 is 6 (p .30) or total is 19 (p .45) or Q2 is 11 (p .05)
    rs = [field("Q1", FieldKind.MARK, digit(("7", .60), ("6", .30), ("1", .05))),
          field("Q2", FieldKind.MARK, digit(("1", .99), ("7", .01)), digit(("2", .90), ("1", .05), ("7", .03))),
          field("total", FieldKind.TOTAL, digit(("1", .99), ("7", .01)), digit(("8", .50), ("9", .45), ("3", .03)))]
    dec = decode_marks(TPL, rs)
    assert dec is not None
    assert dec.texts == {"total": "19"}
    assert math.isclose(dec.log_prob - dec.current_log_prob, math.log(.45 / .50))


def test_mark_above_max_is_fixed_by_an_alternative():
    # Q1 read as 70 (> max 10) with total 82: the most probable fix is Q1 = 10
    rs = [field("Q1", FieldKind.MARK, digit(("7", .55), ("1", .44)), digit(("0", .99))),
          field("Q2", FieldKind.MARK, digit(("1", .99)), digit(("2", .99))),
          field("total", FieldKind.TOTAL, digit(("2", .99)), digit(("2", .99)))]
    dec = decode_marks(TPL, rs)
    assert dec is not None and dec.texts == {"Q1": "10"}


def test_a_spurious_decimal_point_can_be_dropped():
    rs = [field("Q1", FieldKind.MARK, digit(("7", .99))),
          field("Q2", FieldKind.MARK, digit(("1", .99)), digit((".", .4), ("", .6)), digit(("2", .99))),
          field("total", FieldKind.TOTAL, digit(("1", .99)), digit(("9", .99)))]
    dec = decode_marks(TPL, rs)
    assert dec is not None and dec.texts == {"Q2": "12"}


def test_no_suggestion_with_a_leading_zero():
    # 7 + 12 read with a total of 219: "019" would add up, but nobody writes a total that way;
    # the next consistent reading is the suggestion instead
    rs = [field("Q1", FieldKind.MARK, digit(("7", .99))),
          field("Q2", FieldKind.MARK, digit(("1", .99)), digit(("2", .99))),
          field("total", FieldKind.TOTAL, digit(("2", .60), ("0", .39), ("1", .01)), digit(("1", .99)), digit(("9", .99)))]
    dec = decode_marks(TPL, rs)
    assert dec is None or all(not (len(t) > 1 and t[0] == "0" and t[1].isdigit()) for t in dec.texts.values())
    # a mark written as 0.5 is still a fine suggestion
    rs = [field("Q1", FieldKind.MARK, digit(("0", .99)), digit((".", .99)), digit(("6", .55), ("5", .44))),
          field("Q2", FieldKind.MARK, digit(("1", .99)), digit(("2", .99))),
          field("total", FieldKind.TOTAL, digit(("1", .99)), digit(("2", .99)), digit((".", .99)), digit(("5", .99)))]
    dec = decode_marks(TPL, rs)
    assert dec is not None and dec.texts == {"Q1": "0.5"}


def test_no_consistent_alternative_gives_none():
    rs = [field("Q1", FieldKind.MARK, digit(("7", .99), ("1", .01))),
          field("Q2", FieldKind.MARK, digit(("1", .99), ("7", .01)), digit(("2", .99), ("3", .01))),
          field("total", FieldKind.TOTAL, digit(("5", .99), ("6", .01)), digit(("0", .99), ("8", .01)))]
    assert decode_marks(TPL, rs) is None


def test_roster_decoding_picks_most_probable_entry():
    r = field("roll_no", FieldKind.ROLL_NO, digit(("2", .99)), digit(("1", .6), ("7", .39)), digit(("3", .99)))
    assert decode_roster(r, {"273", "213x", "873"}) == "273"
    assert decode_roster(r, {"999"}) is None  # far less probable than the reading: no guess


def test_another_segmentation_that_agrees_with_the_total_replaces_the_reading():
    """A 10 whose 1 ran into the 0 was read as 0; read as 10 (a cut, less probable), the marks
    add up to the written total, so the cut reading is taken, still with its low confidence."""
    zero = field("Q1", FieldKind.MARK, digit(("0", .9)))
    ten = field("Q1", FieldKind.MARK, digit(("1", .12)), digit(("0", .12)))
    q2 = field("Q2", FieldKind.MARK, digit(("7", .99)))
    total = field("total", FieldKind.TOTAL, digit(("1", .99)), digit(("7", .99)))
    other_total = field("total", FieldKind.TOTAL, digit(("1", .3)), digit(("1", .3)), digit(("7", .3)))
    options = [[(zero, 0.0), (ten, math.log(0.12))], [(q2, 0.0)], [(total, 0.0), (other_total, math.log(0.2))]]
    out = segmentation_for_sum(TPL, options)
    assert [r.text for r in out] == ["10", "7", "17"]
    assert out[0].confidence < 0.5


def test_segmentation_is_kept_when_no_alternative_agrees_or_none_is_needed():
    q1 = field("Q1", FieldKind.MARK, digit(("5", .9)))
    q1_alt = field("Q1", FieldKind.MARK, digit(("1", .2)), digit(("5", .2)))
    q2 = field("Q2", FieldKind.MARK, digit(("7", .99)))
    agree = field("total", FieldKind.TOTAL, digit(("1", .99)), digit(("2", .99)))
    disagree = field("total", FieldKind.TOTAL, digit(("3", .99)), digit(("0", .99)))
    for total in (agree, disagree):  # 5 + 7 = 12 needs nothing; 30 no segmentation can reach
        out = segmentation_for_sum(TPL, [[(q1, 0.0), (q1_alt, math.log(0.2))], [(q2, 0.0)], [(total, 0.0)]])
        assert out[0].text == "5"
    improbable = [[(q1, 0.0), (q1_alt, math.log(1e-5))], [(q2, 0.0)], [(field("total", FieldKind.TOTAL, digit(("2", .99)), digit(("2", .99))), 0.0)]]
    assert segmentation_for_sum(TPL, improbable)[0].text == "5"  # 15 + 7 = 22, but far too improbable


def test_sum_posterior_confirms_a_doubtful_mark_by_a_confident_total():
    # Q1 7 (.6) or 1 (.4); 7 + 12 = 19 and the total is read 19 at .9999 per digit: a Q1 of 1
    # would need a total of 13, and 3 is only a 1e-4 alternative of its second digit
    rs = [field("Q1", FieldKind.MARK, digit(("7", .60), ("1", .40))),
          field("Q2", FieldKind.MARK, digit(("1", .9999)), digit(("2", .9999))),
          field("total", FieldKind.TOTAL, digit(("1", .9999)), digit(("9", .9999), ("3", 1e-4)))]
    p = sum_posterior(TPL, rs)
    assert p is not None and p > 0.999
    # ... computed by hand: readings that add up are 7+12=19 and 1+12=13
    cur = .6 * .9999 ** 4
    other = .4 * .9999 ** 2 * .9999 * 1e-4
    assert math.isclose(p, cur / (cur + other), rel_tol=1e-9)


def test_sum_posterior_stays_low_when_two_doubtful_digits_can_trade():
    # Q1 7/6 and total 19/18 both doubtful: 6 + 12 = 18 adds up just as well
    rs = [field("Q1", FieldKind.MARK, digit(("7", .60), ("6", .40))),
          field("Q2", FieldKind.MARK, digit(("1", .9999)), digit(("2", .9999))),
          field("total", FieldKind.TOTAL, digit(("1", .9999)), digit(("9", .55), ("8", .45)))]
    p = sum_posterior(TPL, rs)
    assert p is not None
    assert math.isclose(p, (.6 * .55) / (.6 * .55 + .4 * .45), rel_tol=1e-6)
    assert p < 0.7


def test_sum_posterior_counts_only_readings_within_the_maxima():
    # Q2 (max 20) 12 or 32, total 19 or 39: 7 + 32 = 39 would add up, but 32 is above Q2's max
    rs = [field("Q1", FieldKind.MARK, digit(("7", .9999))),
          field("Q2", FieldKind.MARK, digit(("1", .60), ("3", .40)), digit(("2", .9999))),
          field("total", FieldKind.TOTAL, digit(("1", .60), ("3", .40)), digit(("9", .9999)))]
    p = sum_posterior(TPL, rs)
    assert p is not None and math.isclose(p, 1.0, rel_tol=1e-9)
    # with a max of 40 the other reading counts: (.6 * .6) / (.6 * .6 + .4 * .4)
    roomy = Template(name="t", fields=(TPL.fields[0], FieldSpec("Q2", FieldKind.MARK, (0.5, 0.4, 0.2, 0.05), max=40),
                                       TPL.fields[2]))
    assert math.isclose(sum_posterior(roomy, rs), .36 / (.36 + .16), rel_tol=1e-6)


def test_sum_posterior_is_none_when_the_sheet_does_not_add_up_or_has_no_total():
    rs = [field("Q1", FieldKind.MARK, digit(("7", .99))),
          field("Q2", FieldKind.MARK, digit(("1", .99)), digit(("2", .99))),
          field("total", FieldKind.TOTAL, digit(("1", .99)), digit(("8", .99)))]
    assert sum_posterior(TPL, rs) is None
    no_total = Template(name="t", fields=TPL.fields[:2])
    assert sum_posterior(no_total, rs[:2]) is None


def test_sum_posterior_of_empty_marks_and_half_marks():
    rs = [FieldReading("Q1", FieldKind.MARK, "", 1.0, ()),
          field("Q2", FieldKind.MARK, digit(("7", .9)), digit((".", .8)), digit(("5", .99))),
          field("total", FieldKind.TOTAL, digit(("7", .99)), digit((".", .99)), digit(("5", .99)))]
    p = sum_posterior(TPL, rs)
    # the point may be a speck (".": .8, "": .2): "75" is above Q2's max 20, so it cannot be
    assert p is not None and math.isclose(p, 1.0, rel_tol=1e-6)


def _id(text: str, confs: dict[int, tuple[float, str]]) -> FieldReading:
    """A roll number read as ``text``; digit i at confs[i] = (p, the runner-up label)."""
    digits = []
    for i, c in enumerate(text):
        p, alt = confs.get(i, (0.999, "1" if c != "1" else "7"))
        digits.append(DigitReading(c, p, (10 * i, 0, 10, 20), ((c, p), (alt, 1 - p))))
    return FieldReading("roll_no", "roll_no", text, min(d.confidence for d in digits), tuple(digits))


def test_roster_posterior_by_hand():
    from marksocr.pipeline.decoding import roster_posterior

    r = _id("1234", {3: (0.8, "9")})
    # Only 1234 fits: certain. Labels outside the top two share nothing (0.999 + 0.001 = 1).
    assert roster_posterior(r, {"1234", "5678"}) == pytest.approx(1.0, abs=1e-6)
    # 1239 is a student too: 0.8 against 0.2 (the other digits agree).
    assert roster_posterior(r, {"1234", "1239"}) == pytest.approx(0.8, abs=1e-6)
    # 1235: its 5 is not among the digit's alternatives, which take all the mass: floor only.
    assert roster_posterior(r, {"1234", "1235"}) == pytest.approx(0.8 / (0.8 + 1e-4), rel=1e-6)
    # A reading that is not in the list, or not as long as it, has no posterior.
    assert roster_posterior(r, {"1239"}) is None
    assert roster_posterior(r, {"12345", "1234"}) == pytest.approx(1.0, abs=1e-6)


def test_roster_posterior_shares_what_the_alternatives_leave():
    from marksocr.pipeline.decoding import roster_posterior

    digits = (DigitReading("4", 0.6, (0, 0, 10, 20), (("4", 0.6), ("9", 0.2), ("1", 0.1))),)
    r = FieldReading("roll_no", "roll_no", "4", 0.6, digits)
    # 0.1 left for the 7 other labels: 0.1 / 7 each
    assert roster_posterior(r, {"4", "0"}) == pytest.approx(0.6 / (0.6 + 0.1 / 7), rel=1e-6)
    assert roster_posterior(r, {"4", "9", "0"}) == pytest.approx(0.6 / (0.6 + 0.2 + 0.1 / 7), rel=1e-6)
