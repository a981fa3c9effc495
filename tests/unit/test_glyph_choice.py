"""Choosing between reading a wide glyph whole or cut (pipeline.glyphs), and cutting runs of
touching digits (imaging.segment) in fields whose digit count is known."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import sheet_fakes as sf  # noqa: E402

from marksocr.domain import FieldKind, FieldSpec, Template  # noqa: E402
from marksocr.imaging.fields import clean_crop  # noqa: E402
from marksocr.imaging.segment import Glyph, segment_field  # noqa: E402
from marksocr.pipeline.glyphs import (decide_glyphs, glyph_crops, one_digit_prior, stroke_readings,  # noqa: E402
                                     sum_split_crops, text_of)
from marksocr.pipeline.reader import _validator  # noqa: E402


def _g(x: int, w: int, splits=None) -> Glyph:
    return Glyph("digit", (x, 0, w, 40), np.full((44, 44), 255, np.uint8), splits=splits or [])


def _onehot(label: int, p: float) -> np.ndarray:
    row = np.full(10, (1.0 - p) / 9)
    row[label] = p
    return row


def test_known_count_cuts_every_run_that_needs_it():
    """Two wide glyphs, each two touching digits, in a 4-digit field: each cut alone would not
    reach 4 digits, so only the combination can be right (a per-cut length check, as the reader
    once passed, refused both cuts)."""
    a1, a2, b1, b2 = _g(0, 20), _g(20, 20), _g(60, 20), _g(80, 20)
    glyphs = [_g(0, 42, [[a1, a2]]), _g(60, 42, [[b1, b2]])]
    # rows follow glyph_crops: whole A, its parts, whole B, its parts
    probs = np.stack([_onehot(0, 0.95), _onehot(1, 0.9), _onehot(2, 0.9),
                      _onehot(8, 0.95), _onehot(3, 0.9), _onehot(4, 0.9)])
    assert len(glyph_crops(glyphs)) == len(probs)
    free = "".join(d.label for d in decide_glyphs(glyphs, probs, 0))
    assert free == "08"  # without a count the wide single digits win (ratio ~1)
    spec = FieldSpec("roll_no", FieldKind.ROLL_NO, (0.1, 0.1, 0.5, 0.05), extra={"digits": 4})
    valid = _validator(spec, Template(name="t", fields=(spec,)))  # what the reader passes
    digits = decide_glyphs(glyphs, probs, 0, count=(4, 4), valid=valid)
    assert "".join(d.label for d in digits) == "1234"
    assert max(d.confidence for d in digits) < 0.9  # a forced choice stays unsure


def test_cuts_that_read_the_same_are_no_rivals():
    """Two slightly different cuts giving the same digits must not halve the confidence."""
    a1, a2, b1, b2 = _g(0, 20), _g(20, 20), _g(0, 22), _g(22, 18)
    glyphs = [_g(0, 80, [[a1, a2], [b1, b2]])]
    probs = np.stack([_onehot(0, 0.12), _onehot(4, 0.999), _onehot(7, 0.999),
                      _onehot(4, 0.998), _onehot(7, 0.998)])
    digits = decide_glyphs(glyphs, probs, 0, count=(2, 2))
    assert "".join(d.label for d in digits) == "47"
    assert min(d.confidence for d in digits) > 0.9  # counting the other cut as a rival gives ~0.5


def test_shared_parts_are_classified_once():
    p, q, r = _g(0, 20), _g(20, 20), _g(40, 20)
    glyphs = [_g(0, 60, [[p, q], [p, r]])]
    assert len(glyph_crops(glyphs)) == 4


def test_run_of_three_touching_digits_in_a_field_of_known_length_gets_a_three_way_cut():
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    truth = [(100, 42), (130, 42), (160, 42)]  # x, width of a 4, a 0 and a 4 written into each other
    for ch, (x, w) in zip("404", truth):
        sf.draw_digit(img, ch, m + x, m + 20, w, 60)
    spec = FieldSpec("f", FieldKind.ROLL_NO, (0, 0, 1, 1))
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, expected=3)
    assert len(seg.glyphs) == 1
    centres = [m + x + w / 2 for x, w in truth]

    def fits(parts) -> bool:
        return len(parts) == 3 and all(abs(p.box[0] + p.box[2] / 2 - c) < 12 for p, c in zip(parts, centres))

    assert any(fits(parts) for parts in seg.glyphs[0].splits)


def test_one_digit_prior_knows_how_wide_each_digit_gets():
    """A glyph read whole as a 6 but 1.4 times as wide as high is rarely one 6 (a touching 50
    is likelier); a 2 that wide is common."""
    assert one_digit_prior(1.42, 6) < 0.6
    assert one_digit_prior(1.42, 2) == one_digit_prior(1.42) > 0.7  # only the general width prior


@pytest.mark.parametrize("ink, blur", [(0, 0), (150, 5)], ids=["dark", "pale-blurred"])
def test_a_one_written_tight_against_a_zero_reads_ten(classifier, ink, blur):
    """A straight 1 touching the left of a 0 makes a glyph no wider than a 0: the classifier reads
    it whole as a confident 0. A cut close to the left edge leaves the 1; it must win. Also in
    a blurred photo of pale ink, where no pixel of the 1 is darker than 160 (its straightness
    was once measured on those pixels only, found none, and the 1 was refused)."""
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    cv2.line(img, (m + 147, m + 22), (m + 147, m + 82), ink, 4, cv2.LINE_AA)
    cv2.ellipse(img, (m + 178, m + 52), (26, 31), 0, 0, 360, ink, 4, cv2.LINE_AA)  # touches the 1
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur / 3)
    spec = FieldSpec("Q1", FieldKind.MARK, (0, 0, 1, 1), max=20)
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)
    assert [g.kind for g in seg.glyphs] == ["digit"]  # one glyph: the 1 and the 0 touch
    probs = classifier.predict_proba(glyph_crops(seg.glyphs))
    valid = _validator(spec, Template(name="t", fields=(spec,)))
    digits = decide_glyphs(seg.glyphs, probs, 0, count=(1, 2), valid=valid)
    assert "".join(d.label for d in digits) == "10"



@pytest.mark.parametrize("shift, ink, blur", [(0, 0, 0), (2, 0, 0), (2, 150, 5)],
                         ids=["dark-touching", "dark-grazing", "pale-blurred"])
def test_a_one_written_against_the_loop_of_a_six_reads_sixty_one(classifier, shift, ink, blur):
    """A straight 1 leaning on the right of a 6's loop leaves the glyph hardly wider than a 6,
    and the classifier reads it whole as a 6 (a total ``61`` read ``6`` on a blurred photo of an
    unseen layout). A 6 has no straight stroke on its right, so the cut that leaves a straight,
    confident 1 there must win, though unsure."""
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    cv2.ellipse(img, (m + 160, m + 62), (22, 20), 0, 0, 360, ink, 4, cv2.LINE_AA)  # the loop
    cv2.ellipse(img, (m + 178, m + 62), (40, 42), 0, 180, 265, ink, 4, cv2.LINE_AA)  # its stem
    cv2.line(img, (m + 194 + shift, m + 28), (m + 180 + shift, m + 84), ink, 4, cv2.LINE_AA)
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur / 3)
    spec = FieldSpec("total", FieldKind.TOTAL, (0, 0, 1, 1), max=99)
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)
    assert [g.kind for g in seg.glyphs] == ["digit"]  # one glyph: the 1 touches the 6
    probs = classifier.predict_proba(glyph_crops(seg.glyphs))
    assert int(np.argmax(probs[0])) == 6  # read whole, it is a 6
    valid = _validator(spec, Template(name="t", fields=(spec,)))
    digits = decide_glyphs(seg.glyphs, probs, 0, count=(1, 2), valid=valid)
    assert "".join(d.label for d in digits) == "61"
    assert max(d.confidence for d in digits) < 0.9

def test_a_dotted_one_reads_one_but_is_never_sure(classifier):
    """A quick downstroke the pen skipped along leaves a column of specks, each too small for a
    digit: the reader joins them into a 1 (a mark of 11 was read 1), but the joining is a guess
    about ink it did not see, so that 1 stays below the threshold."""
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    sf.draw_digit(img, "1", m + 120, m + 20, 30, 60, thickness=4)
    for i in range(4):
        cv2.ellipse(img, (m + 200 - 3 * i, m + 24 + 18 * i), (3, 5), 0, 0, 360, 40, -1)
    spec = FieldSpec("Q1", FieldKind.MARK, (0, 0, 1, 1), max=20)
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)
    probs = classifier.predict_proba(glyph_crops(seg.glyphs))
    digits = decide_glyphs(seg.glyphs, probs, 0, count=(1, 2))
    assert text_of(digits) == "11"
    assert [g.pieced for g in seg.glyphs] == [False, True]
    assert probs[1].argmax() == 1 and probs[1].max() > 0.95  # the classifier is sure of the joined 1
    assert digits[1].confidence <= 0.9 < digits[0].confidence

def test_a_one_written_across_a_four_is_offered_to_the_sum_as_fourteen(classifier):
    """A 1 drawn through the bar of a 4 hardly widens it and no cut line separates them: the
    classifier reads the whole as a sure 4. The 1's straight full-height stroke is taken out, and
    14 is offered to the sum check (only: as a rival in the glyph's own reading it made plain
    0s unsure), with a low confidence."""
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    sf.draw_digit(img, "4", m + 150, m + 20, 40, 60)
    cv2.line(img, (m + 156, m + 18), (m + 152, m + 82), 0, 4, cv2.LINE_AA)  # the 1, across the bar
    spec = FieldSpec("Q1", FieldKind.MARK, (0, 0, 1, 1), max=20)
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True, sum_checked=True)
    assert [g.kind for g in seg.glyphs] == ["digit"] and seg.glyphs[0].sum_splits
    own = glyph_crops(seg.glyphs)
    probs = classifier.predict_proba(own + sum_split_crops(seg.glyphs))
    digits = decide_glyphs(seg.glyphs, probs, 0, count=(1, 2))
    assert "".join(d.label for d in digits) == "4" and digits[0].confidence > 0.99  # no rival
    others = {text_of(d): (d, gain) for d, gain in stroke_readings(seg.glyphs, probs, 0, len(own), digits)}
    assert "14" in others and others["14"][1] == max(gain for _, gain in others.values())  # the likeliest cut
    fourteen, gain = others["14"]
    assert max(d.confidence for d in fourteen) < 0.5 and gain > -6.9  # within the sum's reach


def test_plain_4_7_and_2_get_no_stroke_cut():
    """A 4, 7 or 2 alone has no full-height straight stroke at its left: no 1 is taken out of it
    (a 7's slanted stem must not become a 1 beside a stray bar)."""
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    for x, ch in ((60, "4"), (160, "7"), (260, "2")):
        sf.draw_digit(img, ch, m + x, m + 20, 40, 60)
    spec = FieldSpec("f", FieldKind.MARK, (0, 0, 1, 1))
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner)
    assert not any(g.sum_splits for g in seg.glyphs)


def _ring_crop(centres: list[int], width: int) -> np.ndarray:
    """Dark-on-light crop 80 px high with a ring (a written 0) around each x in ``centres``."""
    crop = np.full((80, width), 255, np.uint8)
    for cx in centres:
        cv2.ellipse(crop, (cx, 40), (16, 32), 0, 0, 360, 30, 5, cv2.LINE_AA)
    return crop


def test_a_cut_through_a_loop_loses_to_the_loop_and_a_cut_between_loops_does_not():
    """In a 9-digit roll number with one digit missing, a plain 0 cut into ``(`` and ``)`` was
    read as a sure 6 and 7 and beat the right cut of a touching ``00`` elsewhere. A cut that opens
    a closed loop is far less likely than one that keeps the loops whole."""
    from marksocr.imaging.segment import loop_count

    zero = Glyph("digit", (0, 0, 40, 80), _ring_crop([20], 40),
                 splits=[[Glyph("digit", (0, 0, 20, 80), _ring_crop([20], 40)[:, :20]),
                          Glyph("digit", (20, 0, 20, 80), _ring_crop([20], 40)[:, 20:])]])
    pair = _ring_crop([20, 52], 72)  # two 0s touching
    double = Glyph("digit", (60, 0, 72, 80), pair,
                   splits=[[Glyph("digit", (60, 0, 36, 80), pair[:, :36]), Glyph("digit", (96, 0, 36, 80), pair[:, 36:])]])
    assert [loop_count(g.crop) for g in (zero, *zero.splits[0], double, *double.splits[0])] == [1, 0, 0, 2, 1, 1]
    # rows: whole 0, its halves (sure 6 and 7), the touching pair read whole, its parts
    probs = np.stack([_onehot(0, 0.999), _onehot(6, 0.99), _onehot(7, 0.99),
                      _onehot(0, 0.95), _onehot(0, 0.9), _onehot(0, 0.9)])
    digits = decide_glyphs([zero, double], probs, 0, count=(3, 3))
    assert text_of(digits) == "000"


def _leaning_ten() -> np.ndarray:
    """A ``10`` whose 1 leans on the 0 and closes a small hole between them (crop 80 px high)."""
    crop = np.full((80, 72), 255, np.uint8)
    cv2.line(crop, (10, 8), (10, 72), 30, 4)  # the 1
    cv2.ellipse(crop, (44, 40), (16, 32), 0, 0, 360, 30, 4, cv2.LINE_AA)  # the 0
    cv2.line(crop, (10, 10), (40, 10), 30, 4)  # the 0's opening stroke, run on to the 1
    cv2.line(crop, (10, 26), (30, 26), 30, 4)  # ... and the 1 touching the 0 lower down
    return crop


def test_a_cut_that_opens_only_the_sliver_between_two_touching_digits_is_no_loop_cut():
    """A 1 leaning on a 0 closes a small hole between them, which the cut that parts them opens:
    ``10`` was read ``0`` (held-out seed 2000, ``ours``), the cut scored as if it cut through the 0.
    A cut that keeps the big loop whole is not a loop cut; one that opens the big loop still is."""
    from marksocr.imaging.segment import loop_areas

    ten = _leaning_ten()
    one, zero = ten[:, :14], ten[:, 14:]
    assert len(loop_areas(ten)) == 2 and loop_areas(zero) and not loop_areas(one)
    glyph = Glyph("digit", (0, 0, 72, 80), ten,
                  splits=[[Glyph("digit", (0, 0, 14, 80), one), Glyph("digit", (14, 0, 58, 80), zero)]])
    probs = np.stack([_onehot(0, 0.95), _onehot(1, 0.99), _onehot(0, 0.99)])  # whole, the 1, the 0
    assert text_of(decide_glyphs([glyph], probs, 0, count=(1, 2))) == "10"
    # the same glyph cut through the middle of the 0: it keeps the sliver, not the loop
    left, right = ten[:, :44], ten[:, 44:]
    assert len(loop_areas(left)) == 1 and not loop_areas(right)
    through = Glyph("digit", (0, 0, 72, 80), ten,
                    splits=[[Glyph("digit", (0, 0, 44, 80), left), Glyph("digit", (44, 0, 28, 80), right)]])
    assert text_of(decide_glyphs([through], probs, 0, count=(1, 2))) == "0"


def test_two_ones_leaning_together_are_offered_to_the_sum_as_eleven(classifier):
    """``11`` written as a narrow ``Λ`` (the tops touching) is one glyph too narrow to cut in its
    own reading, read whole as a ``1``. In a mark field its best cut is also offered to the sum
    check, with a low confidence."""
    bw, bh, m = 360, 100, 18
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    cv2.line(img, (m + 150, m + 82), (m + 172, m + 18), 0, 4, cv2.LINE_AA)
    cv2.line(img, (m + 174, m + 18), (m + 196, m + 82), 0, 4, cv2.LINE_AA)
    spec = FieldSpec("Q1", FieldKind.MARK, (0, 0, 1, 1), max=20)
    fi = clean_crop(img, spec, (m, m, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    plain = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)  # no sum check: at most a 1's stroke taken out
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True, sum_checked=True)
    assert [g.kind for g in seg.glyphs] == ["digit"]
    assert len(seg.glyphs[0].sum_splits) == len(plain.glyphs[0].sum_splits) + 1
    own = glyph_crops(seg.glyphs)
    probs = classifier.predict_proba(own + sum_split_crops(seg.glyphs))
    digits = decide_glyphs(seg.glyphs, probs, 0, count=(1, 2))
    assert len(digits) == 1
    others = stroke_readings(seg.glyphs, probs, 0, len(own), digits)
    assert "11" in [text_of(d) for d, _ in others]
    eleven = next(d for d, _ in others if text_of(d) == "11")
    assert max(d.confidence for d in eleven) < 0.9


def _run_of_mnist_digits(mnist_dir: Path, rng: np.random.Generator, n: int, overlap: float) -> tuple[str, np.ndarray]:
    """A field image with ``n`` MNIST test digits written left to right so close that each
    overlaps the next by ``overlap`` of its ink width (they touch: one long run of ink)."""
    from marksocr.recognition.mnist import load_mnist

    test = load_mnist("test", mnist_dir)
    bw, bh, m, h = 700, 110, 18, 66
    img = np.full((bh + 2 * m, bw + 2 * m), 235, np.uint8)
    cv2.rectangle(img, (m, m), (m + bw, m + bh), 40, 2)
    text, x = "", m + 60
    for i in rng.choice(len(test.labels), n, replace=False):
        digit = cv2.resize(255 - test.images[i], (h, h), interpolation=cv2.INTER_AREA)
        cols = np.nonzero((digit < 128).any(axis=0))[0]
        digit = digit[:, cols[0]:cols[-1] + 1]
        y = m + 22
        region = img[y:y + h, x:x + digit.shape[1]]
        np.minimum(region, np.where(digit < 235, digit, 255).astype(np.uint8), out=region)
        text += str(int(test.labels[i]))
        x += int(digit.shape[1] * (1.0 - overlap))
    return text, img


def test_a_long_run_of_touching_handwritten_digits_is_cut_where_the_classifier_finds_digits(classifier, mnist_dir):
    """Free-written codes whose digits run into each other (6 touching MNIST test digits, each
    overlapping the next by 15 % of its width), in a field known to hold 6 digits: the ink profile
    alone places the cuts of such runs badly, and runs of more than 4 digits were not cut at all
    (0 of these 12 read right before the cut lattice, 9 with it). Wrong readings stay unsure."""
    rng = np.random.default_rng(5)
    spec = FieldSpec("roll_no", FieldKind.ROLL_NO, (0, 0, 1, 1), extra={"digits": 6})
    valid = _validator(spec, Template(name="t", fields=(spec,)))
    right = []
    for _ in range(12):
        text, img = _run_of_mnist_digits(mnist_dir, rng, 6, overlap=0.15)
        fi = clean_crop(img, spec, (18, 18, img.shape[1] - 36, img.shape[0] - 36), (0, 0, img.shape[1], img.shape[0]))
        seg = segment_field(fi.clean, fi.cleaned, fi.inner, expected=6)
        probs = classifier.predict_proba(glyph_crops(seg.glyphs))
        digits = decide_glyphs(seg.glyphs, probs, 0, count=(6, 6), valid=valid)
        right.append(text_of(digits) == text)
        if not right[-1]:
            assert min(d.confidence for d in digits) < 0.9, (text, text_of(digits))
    assert sum(right) >= 8, right


def test_a_mark_without_a_maximum_still_has_the_form_of_a_mark():
    """A template need not give maxima: a cut or a speck that makes ``0.57`` or ``01`` is still no
    mark (seen on tuning scans read with the maxima left out: a half mark read 0.57, a 0 read 01)."""
    q = FieldSpec("Q1", FieldKind.MARK, (0.5, 0.3, 0.2, 0.05))
    total = FieldSpec("total", FieldKind.TOTAL, (0.5, 0.6, 0.2, 0.05))
    template = Template(name="t", fields=(q, total))
    for spec in (q, total):
        valid = _validator(spec, template)
        assert valid is not None
        assert valid("0.5") and valid("7") and valid("125") and valid("0")
        assert not valid("0.57") and not valid("01") and not valid("4.")
    assert _validator(FieldSpec("roll_no", FieldKind.ROLL_NO, (0.1, 0.1, 0.4, 0.05)), template) is None
