"""Field cleaning and digit segmentation: borders, empty, broken, touching, decimal, comb."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import sheet_fakes as sf  # noqa: E402

from marksocr.domain import FieldKind, FieldSpec  # noqa: E402
from marksocr.imaging.fields import clean_crop  # noqa: E402
from marksocr.imaging.segment import segment_field  # noqa: E402

BOX_W, BOX_H, M = 360, 100, 18


def field_image(cells: int = 0, shade: bool = True) -> np.ndarray:
    """A printed box (with comb lines) on paper with a light gradient and noise."""
    img = np.full((BOX_H + 2 * M, BOX_W + 2 * M), 235, np.uint8)
    cv2.rectangle(img, (M, M), (M + BOX_W, M + BOX_H), 40, 2)
    for i in range(1, cells):
        x = M + int(round(i * BOX_W / cells))
        cv2.line(img, (x, M), (x, M + BOX_H), 40, 2)
    if shade:
        img = (img * np.linspace(0.6, 1.0, img.shape[1])[None, :]).astype(np.uint8)
    rng = np.random.default_rng(0)
    return np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)


def segment(img: np.ndarray, cells: int = 0, point: bool = False):
    spec = FieldSpec("f", FieldKind.MARK, (0, 0, 1, 1), cells=cells or None)
    fi = clean_crop(img, spec, (M, M, BOX_W, BOX_H), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, cells=fi.cells, allow_point=point)
    return fi, seg


def digit_boxes(seg):
    return [g for g in seg.glyphs if g.kind == "digit"]


def test_empty_box_reads_as_empty():
    img = field_image()
    for x, y in ((80, 60), (200, 90), (300, 40)):  # dust specks
        cv2.circle(img, (x, y), 1, 90, -1)
    fi, seg = segment(img)
    assert seg.glyphs == []
    assert seg.empty_confidence >= 0.9
    assert fi.clean.sum() < 20  # the box border is gone


def test_stray_mark_lowers_empty_confidence_but_not_a_digit():
    img = field_image()
    cv2.line(img, (150, 80), (162, 83), 60, 3)  # a short scribble
    _, seg = segment(img)
    assert digit_boxes(seg) == []
    assert seg.empty_confidence < 1.0


def test_two_separate_digits_and_a_one_beside_the_border():
    img = field_image()
    sf.draw_digit(img, "1", M + 8, M + 20, 30, 60)  # close to the left border
    sf.draw_digit(img, "7", M + 90, M + 20, 40, 60)
    _, seg = segment(img)
    boxes = digit_boxes(seg)
    assert len(boxes) == 2
    assert boxes[0].box[0] < boxes[1].box[0]
    assert all(b.box[3] >= 50 for b in boxes)


def test_a_one_written_a_little_inside_a_narrow_box_is_not_border_residue():
    """A table cell taller than wide (a 15 written in it): the 1 stands a few pixels inside the
    left rule, well within a tenth of the box height of it, and must survive the cleaning."""
    bw, bh = 128, 162
    img = np.full((bh + 2 * M, bw + 2 * M), 235, np.uint8)
    cv2.rectangle(img, (M, M), (M + bw, M + bh), 40, 2)
    sf.draw_digit(img, "1", M + 6, M + 40, 12, 80, thickness=7)
    sf.draw_digit(img, "5", M + 40, M + 30, 60, 90, thickness=7)
    spec = FieldSpec("f", FieldKind.MARK, (0, 0, 1, 1))
    fi = clean_crop(img, spec, (M, M, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)
    boxes = digit_boxes(seg)
    assert len(boxes) == 2
    assert boxes[0].box[3] >= 70  # the whole 1, not a sliver
    assert fi.clean[:, M - 3:M + 4].sum() == 0  # the rule itself is still gone


def test_a_small_decimal_point_in_a_tall_narrow_cell_is_not_dust():
    bw, bh = 128, 162
    img = np.full((bh + 2 * M, bw + 2 * M), 235, np.uint8)
    cv2.rectangle(img, (M, M), (M + bw, M + bh), 40, 2)
    sf.draw_digit(img, "4", M + 14, M + 50, 40, 60, thickness=4)
    cv2.circle(img, (M + 64, M + 106), 3, 0, -1)  # ~29 px of ink: less than (0.035 x 162)^2 = 32
    sf.draw_digit(img, "5", M + 74, M + 50, 40, 60, thickness=4)
    spec = FieldSpec("f", FieldKind.MARK, (0, 0, 1, 1))
    fi = clean_crop(img, spec, (M, M, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)
    assert [g.kind for g in seg.glyphs] == ["digit", "point", "digit"]


def test_small_digits_in_a_tall_cell_with_a_detached_flag_are_not_dust():
    """A 5.5 written small in a tall table cell: the second 5's body and its detached flag are each
    under 22 % of the box height. They are still a digit (the second 5 was lost: 5.5 read as 5)."""
    bw, bh = 128, 162
    img = np.full((bh + 2 * M, bw + 2 * M), 235, np.uint8)
    cv2.rectangle(img, (M, M), (M + bw, M + bh), 40, 2)
    sf.draw_digit(img, "5", M + 10, M + 64, 30, 38, thickness=3)
    cv2.circle(img, (M + 55, M + 98), 3, 0, -1)
    cv2.line(img, (M + 72, M + 67), (M + 96, M + 65), 0, 3)  # the flag of the second 5
    pts = np.int32([[M + 72, M + 73], [M + 70, M + 83], [M + 86, M + 85], [M + 90, M + 93], [M + 82, M + 99], [M + 68, M + 97]])
    cv2.polylines(img, [pts], False, 0, 3, cv2.LINE_AA)  # its body: 29 px high, under 0.22 x 162
    spec = FieldSpec("f", FieldKind.MARK, (0, 0, 1, 1))
    fi = clean_crop(img, spec, (M, M, bw, bh), (0, 0, img.shape[1], img.shape[0]))
    seg = segment_field(fi.clean, fi.cleaned, fi.inner, allow_point=True)
    assert [g.kind for g in seg.glyphs] == ["digit", "point", "digit"]
    assert seg.glyphs[2].box[1] <= M + 66  # the flag is part of the second 5


def test_broken_strokes_are_one_digit():
    img = field_image()
    sf.draw_digit(img, "5", M + 120, M + 20, 40, 60, thickness=4)
    img[M + 44:M + 49, M + 110:M + 170] = 235  # a gap across the digit (pen lifted)
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 1
    assert digit_boxes(seg)[0].box[3] >= 55



def test_a_pale_digit_broken_into_pieces_each_too_small_to_count_is_one_digit():
    """Pale ink broke a 6 into three bits, each shorter than the least piece of a digit: together
    they are one digit (they were all dropped as dust, and a roll number lost its 6)."""
    img = field_image()
    x, y = M + 120, M + 20  # a narrow 6: its tail and its loop
    cv2.line(img, (x + 16, y), (x + 2, y + 40), 60, 3)
    cv2.ellipse(img, (x + 10, y + 46), (8, 13), 0, 0, 360, 60, 3)
    sf.draw_digit(img, "7", M + 220, M + 20, 40, 60, thickness=4)
    for gap in (y + 18, y + 40):  # two gaps across it
        img[gap:gap + 4, x - 5:x + 30] = 235
    _, seg = segment(img)
    boxes = digit_boxes(seg)
    assert len(boxes) == 2
    six = boxes[0]
    assert six.box[3] >= 55 and six.pieced and not boxes[1].pieced


@pytest.mark.parametrize("specks, digits", [
    ([(M + 100 + 15 * i, M + 60) for i in range(8)], 0),  # a dashed line: specks in a row
    ([(M + 150, M + 25), (M + 150, M + 75)], 0),          # two specks, far apart, one above the other
    ([(M + 150 - 3 * i, M + 22 + 18 * i) for i in range(4)], 1),  # a dotted 1: a steep straight chain
], ids=["dashes", "two-specks", "dotted-one"])
def test_specks_make_a_digit_only_as_a_steep_straight_chain(specks, digits):
    img = field_image()
    for x, y in specks:
        cv2.ellipse(img, (x, y), (3, 5), 0, 0, 360, 50, -1)
    _, seg = segment(img)
    boxes = digit_boxes(seg)
    assert len(boxes) == digits
    if digits:
        assert boxes[0].pieced and boxes[0].box[3] >= 55


def test_specks_right_beside_a_digit_stay_with_it():
    """A chain of specks touching a 1 (dust, a pen tapped beside it) is no second digit: pieces
    that reach a digit are left to that digit."""
    img = field_image()
    sf.draw_digit(img, "1", M + 130, M + 20, 30, 60, thickness=4)
    for i in range(3):
        cv2.ellipse(img, (M + 159 - 2 * i, M + 24 + 20 * i), (3, 5), 0, 0, 360, 50, -1)
    _, seg = segment(img)
    boxes = digit_boxes(seg)
    assert len(boxes) == 1 and not boxes[0].pieced

@pytest.mark.parametrize("flag", [
    ((M + 173, M + 24), (M + 199, M + 22), 10),   # a heavy dash just right of the body
    ((M + 152, M + 31), (M + 214, M + 30), 4),    # a long one, sticking out far to the right
])
def test_detached_flag_of_a_five_stays_with_its_digit(flag):
    """Many people write a 5's flag as a separate dash, above and right of the body."""
    img = field_image()
    body = [(0.45, 0.0), (0.45, 0.45), (0.8, 0.5), (0.95, 0.75), (0.7, 1.0), (0.3, 1.0), (0.05, 0.85)]
    pts = np.int32([[M + 120 + px * 40, M + 30 + py * 50] for px, py in body])
    cv2.polylines(img, [pts], False, 0, 4, cv2.LINE_AA)
    cv2.line(img, flag[0], flag[1], 0, flag[2], cv2.LINE_AA)  # the flag, lifted off
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 1
    # while a real second digit beside it stays a digit of its own
    sf.draw_digit(img, "7", M + 230, M + 20, 40, 60, thickness=4)
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 2


def test_a_hasty_five_whose_flag_is_as_long_as_its_body_is_one_digit():
    """A wide, low 5 with its flag lifted off just right of the body and nearly as long: together
    wider than the usual cap, but a dash level with a digit's top is no digit (unseen ``bluebook``
    scans: ``12.5`` read ``12.57``, the flag as a 7)."""
    img = field_image()
    body = [(0.45, 0.0), (0.45, 0.45), (0.8, 0.5), (0.95, 0.75), (0.7, 1.0), (0.3, 1.0), (0.05, 0.85)]
    pts = np.int32([[M + 120 + px * 50, M + 40 + py * 40] for px, py in body])
    cv2.polylines(img, [pts], False, 0, 4, cv2.LINE_AA)
    cv2.line(img, (M + 171, M + 41), (M + 214, M + 40), 0, 3, cv2.LINE_AA)  # the flag, lifted off
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 1 and digit_boxes(seg)[0].box[2] >= 90


def test_a_flag_thick_against_the_broken_pieces_of_its_five_stays_with_it():
    """A 5 written in two strokes (its stem apart from its bowl) and a heavy flag level with its top:
    the median piece is short, so the flag is measured against its whole 5, which it sits on, not
    against the pieces."""
    img = field_image()
    cv2.line(img, (M + 122, M + 30), (M + 122, M + 54), 0, 6)                       # the stem
    bowl = np.int32([[M + 120, M + 63], [M + 138, M + 63], [M + 150, M + 72], [M + 146, M + 86],
                     [M + 132, M + 90], [M + 118, M + 86]])
    cv2.polylines(img, [bowl], False, 0, 6, cv2.LINE_AA)                            # the bowl
    cv2.line(img, (M + 162, M + 40), (M + 200, M + 31), 0, 10)                      # the flag, apart
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 1
    assert digit_boxes(seg)[0].box[2] >= 85


def test_a_long_flag_over_a_small_bowl_is_one_five():
    """A 5 whose flag reaches far beyond its small bowl: wider than a digit usually is, but one piece
    sits above the other, as no two digits of a number do."""
    img = field_image()
    bowl = np.int32([[M + 120, M + 58], [M + 140, M + 58], [M + 156, M + 68], [M + 152, M + 82],
                     [M + 134, M + 88], [M + 118, M + 84]])
    cv2.polylines(img, [bowl], False, 0, 4, cv2.LINE_AA)
    cv2.polylines(img, [np.int32([[M + 128, M + 50], [M + 134, M + 26], [M + 236, M + 22]])], False, 0, 4,
                  cv2.LINE_AA)                                                      # stem and long flag
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 1
    assert digit_boxes(seg)[0].box[2] >= 110


def test_touching_digits_get_a_split_alternative():
    img = field_image()
    sf.draw_digit(img, "4", M + 100, M + 20, 42, 60)
    sf.draw_digit(img, "0", M + 138, M + 20, 42, 60)  # overlaps the 4
    _, seg = segment(img)
    boxes = digit_boxes(seg)
    if len(boxes) == 1:
        g = boxes[0]
        assert g.splits, "a wide glyph must offer a cut into two digits"
        best = g.splits[0]
        assert len(best) == 2 and best[0].box[0] < best[1].box[0]
    else:
        assert len(boxes) == 2


def test_decimal_point_between_digits():
    img = field_image()
    sf.draw_digit(img, "7", M + 100, M + 20, 40, 60)
    cv2.circle(img, (M + 155, M + 75), 4, 30, -1)
    sf.draw_digit(img, "5", M + 170, M + 20, 40, 60)
    _, seg = segment(img, point=True)
    kinds = [g.kind for g in seg.glyphs]
    assert kinds == ["digit", "point", "digit"]
    assert seg.glyphs[1].point_confidence > 0.5


def test_no_point_in_fields_that_do_not_allow_one():
    img = field_image()
    sf.draw_digit(img, "7", M + 100, M + 20, 40, 60)
    cv2.circle(img, (M + 155, M + 75), 4, 30, -1)
    sf.draw_digit(img, "5", M + 170, M + 20, 40, 60)
    _, seg = segment(img, point=False)
    assert [g.kind for g in seg.glyphs] == ["digit", "digit"]


def test_comb_one_digit_per_cell_and_empty_cells():
    img = field_image(cells=6)
    cw = BOX_W / 6
    for i, ch in ((0, "2"), (1, "1"), (2, "0"), (4, "9")):
        sf.draw_digit(img, ch, int(M + i * cw + 15), M + 20, 30, 60)
    fi, seg = segment(img, cells=6)
    assert [g.cell for g in seg.glyphs] == [0, 1, 2, 4]
    # comb lines are not ink: the empty cell 3 and the line between cells 4 and 5 are clean
    assert fi.clean[M + 5:M + BOX_H - 5, fi.cells[5][0] - 2:fi.cells[5][0] + 3].sum() == 0
    cut = fi.clean[:, int(M + 3 * cw) - 2:int(M + 3 * cw) + 3]
    assert cut.sum() == 0


def test_crops_are_dark_on_light_with_paper_margin():
    img = field_image()
    sf.draw_digit(img, "1", M + 150, M + 20, 30, 60)
    _, seg = segment(img)
    crop = digit_boxes(seg)[0].crop
    assert crop.dtype == np.uint8 and crop.ndim == 2
    assert crop[0].min() == 255 and crop[:, 0].min() == 255  # paper all around
    assert crop.min() < 120  # dark ink


def test_comb_digit_overflowing_into_next_cell_stays_whole():
    img = field_image(cells=6)
    cw = BOX_W / 6
    sf.draw_digit(img, "0", int(M + 1 * cw + 20), M + 20, 58, 60)  # 0 runs ~18 px into cell 2
    _, seg = segment(img, cells=6)
    assert len(seg.glyphs) == 1 and seg.glyphs[0].cell == 1
    assert seg.glyphs[0].box[2] >= 50  # both sides of the comb line belong to the digit


def test_speck_on_a_comb_line_does_not_break_rejoining():
    """A speck narrower than the tolerance sits at both sides of a comb line: it is no digit to join with itself."""
    from marksocr.imaging.segment import _Group, _rejoin_across_lines

    mask = np.zeros((40, 120), np.uint8)
    mask[15:19, 39:42] = 1  # speck on the line at x=40
    cv2.line(mask, (50, 8), (52, 32), 1, 3)  # a 1 in the second cell
    speck = _Group.of(np.where(np.arange(120) < 45, mask, 0).astype(np.uint8))
    one = _Group.of(np.where(np.arange(120) >= 45, mask, 0).astype(np.uint8))
    out = _rejoin_across_lines([speck, one], [(0, 40), (40, 80), (80, 120)])
    assert len(out) == 2 and any(g is one for g in out)


def test_a_pale_thin_one_among_dark_digits_is_kept():
    """A thin 1 blurred by the camera never gets as dark as the other digits (176 against ~110 on
    a hard photo): it is still a digit, not paper (a roll number lost its 1)."""
    img = field_image(cells=4, shade=False)
    cw = BOX_W // 4
    for i, ch in enumerate("8015"):
        if ch != "1":
            sf.draw_digit(img, ch, M + i * cw + 30, M + 20, 30, 60, thickness=4)
    pale = np.full_like(img, 255)
    cv2.line(pale, (M + 2 * cw + 45, M + 22), (M + 2 * cw + 40, M + 80), 0, 4, cv2.LINE_AA)
    pale = cv2.GaussianBlur(pale, (0, 0), 1.0)
    img = np.minimum(img, (165 + (pale.astype(np.float32) / 255.0) * 80).astype(np.uint8))
    fi, seg = segment(img, cells=4)
    one = fi.normalized[M + 22:M + 80, M + 2 * cw + 35:M + 2 * cw + 50]
    assert 150 < int(one.min()) < 195  # paler than strong ink anywhere
    assert [g.cell for g in digit_boxes(seg)] == [0, 1, 2, 3]  # the pale 1 in cell 2 is found too


def test_a_pale_one_lighter_in_the_middle_stays_one_stroke():
    """Blur makes a thin 1 paler where the pen was lighter: at the weak-ink level 212 it falls
    into two short pieces, neither tall enough for a digit. It is still one stroke."""
    img = field_image(cells=4, shade=False)
    cw = BOX_W // 4
    for i, ch in enumerate("8015"):
        if ch != "1":
            sf.draw_digit(img, ch, M + i * cw + 30, M + 20, 30, 60, thickness=4)
    x = M + 2 * cw + 42
    img[M + 22:M + 48, x - 2:x + 2] = 172  # upper part (about 187 once the paper is normalised to 255)
    img[M + 48:M + 54, x - 2:x + 2] = 201  # the light middle (about 218): weak ink stops here
    img[M + 54:M + 80, x - 2:x + 2] = 172  # lower part
    fi, seg = segment(img, cells=4)
    assert [g.cell for g in digit_boxes(seg)] == [0, 1, 2, 3]
    one = next(g for g in digit_boxes(seg) if g.cell == 2)
    assert one.box[3] >= 50  # the whole stroke, not one half


def test_a_pale_thin_digit_beside_a_dark_one_in_a_tall_cell_is_kept():
    """A mark ``45`` a third of a tall table cell high: the 5 dark and thick, the 4 thin and pale
    (about 180, never as dark as strong ink). The 4 is shorter than 0.4 of the cell, the old rule
    for pale strokes, but as tall as the writing beside it: a digit, not a smudge."""
    img = field_image(shade=False)
    sf.draw_digit(img, "5", M + 200, M + 35, 22, 32, thickness=5)
    pale = np.full_like(img, 255)
    sf.draw_digit(pale, "4", M + 160, M + 35, 22, 32, thickness=2)
    pale = cv2.GaussianBlur(pale, (0, 0), 0.8)
    img = np.minimum(img, (150 + (pale.astype(np.float32) / 255.0) * 95).astype(np.uint8))
    fi, seg = segment(img)
    four = fi.normalized[M + 35:M + 68, M + 158:M + 184]
    assert 150 < int(four.min()) < 195  # paler than strong ink anywhere
    boxes = sorted(g.box[0] for g in digit_boxes(seg))
    assert len(boxes) == 2 and boxes[0] < M + 180 < boxes[1]  # the 4 is found left of the 5


def test_a_pale_one_written_close_to_the_found_border_is_kept():
    """A pale thin ``1`` a few pixels inside the box's left border, which is printed dark and found
    as a line: it lies in the band where pieces of a pale border are looked for, but clear of
    the border found there, so it is writing (a mark ``14.5`` in a tall table cell was read
    ``4.5``). The pale border piece of the next test is dropped all the same."""
    img = field_image(shade=False)
    x = M + 8  # the border's inner side is at M + 1
    img[M + 30:M + 72, x - 1:x + 2] = 175  # pale: no pixel as dark as strong ink
    sf.draw_digit(img, "4", M + 40, M + 30, 26, 42, thickness=4)
    sf.draw_digit(img, "5", M + 80, M + 30, 26, 42, thickness=4)
    fi, seg = segment(img)
    assert 150 < int(fi.normalized[M + 30:M + 72, x - 1:x + 2].min()) < 195
    boxes = sorted(g.box[0] for g in digit_boxes(seg))
    assert len(boxes) == 3 and boxes[0] <= x + 1  # the 1, then the 4 and the 5


def test_a_pale_smudge_beside_short_dark_writing_is_not_a_digit():
    """The lowered height for pale strokes still leaves a small pale mark out."""
    img = field_image(shade=False)
    sf.draw_digit(img, "5", M + 200, M + 35, 22, 32, thickness=5)
    cv2.line(img, (M + 150, M + 50), (M + 160, M + 55), 180, 2)  # pale, 6 px tall
    _, seg = segment(img)
    assert len(digit_boxes(seg)) == 1


def test_pale_box_lines_of_a_pale_field_are_removed():
    """A blurred photo of a table cell: the printed lines and the writing are both pale (no pixel
    of either reaches strong ink), so the field's own, lower thresholds find the ink. The box
    lines they find are printed lines too: none of them may be left for the digits."""
    img = np.full((BOX_H + 2 * M, BOX_W + 2 * M), 255, np.uint8)
    cv2.rectangle(img, (M + 8, M + 8), (M + BOX_W - 8, M + BOX_H - 8), 0, 8)  # the cell, inside the field box
    sf.draw_digit(img, "2", M + 140, M + 25, 30, 55, thickness=6)
    sf.draw_digit(img, "5", M + 190, M + 25, 30, 55, thickness=6)
    img = cv2.GaussianBlur(img, (0, 0), 2.5)
    img = (175 + img.astype(np.float32) / 255.0 * 70).astype(np.uint8)  # darkest ink about 175
    fi, seg = segment(img)
    assert fi.normalized[M + 25:M + 80, M + 140:M + 220].min() > 150  # too pale for the fixed levels
    border = np.zeros_like(fi.clean)
    cv2.rectangle(border, (M + 8, M + 8), (M + BOX_W - 8, M + BOX_H - 8), 1, 16)
    assert (fi.clean & border).sum() == 0
    assert len(digit_boxes(seg)) == 2


@pytest.mark.parametrize("lost", [0, 45], ids=["whole-edge", "piece-of-edge"])
def test_a_pale_box_edge_beside_dark_writing_is_not_a_digit(lost):
    """A thin printed border blurred by the camera is paler than the ink levels, so it is not
    found as a printed line; a pale stroke the height of the box at its right edge was read as
    a 1 (``10`` became ``101``). With parts of the edge lost to glare, the piece left is too short
    to be found as a line: a thin sliver along the edge, no digit either."""
    img = np.full((BOX_H + 2 * M, BOX_W + 2 * M), 255, np.uint8)
    e = M + BOX_W - 6  # the printed cell lies a little inside the field's box
    cv2.rectangle(img, (M + 6, M + 6), (e, M + BOX_H - 6), 0, 2)
    if lost:  # the top of the edge lost to glare, and its foot: the piece left touches no other line
        img[M:M + lost, e - 3:e + 3] = 255
        img[M + BOX_H - 12:M + BOX_H, e - 3:e + 3] = 255
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    img = (130 + img.astype(np.float32) / 255.0 * 115).astype(np.uint8)  # the border fades to about 185
    sf.draw_digit(img, "7", M + 150, M + 20, 35, 60, thickness=6)
    fi, seg = segment(img)
    edge = fi.normalized[M + lost + 5:M + BOX_H - 15, e - 4:e + 4]
    assert 150 < int(edge.min()) < 195  # the edge: no strong ink, dark enough for a pale stroke
    assert fi.clean[:, e - 8:].sum() == 0
    assert len(digit_boxes(seg)) == 1


def test_a_pale_corner_of_the_box_beside_short_writing_is_not_a_digit():
    """Short dark writing in a tall box lowers the height a pale stroke needs; a pale corner of
    the printed box (an L of its bottom and right edges, the rest lost to glare) then passed as a
    stroke and a total ``52`` was read ``52.5``. Ink lying mostly along the box edges is print."""
    img = np.full((BOX_H + 2 * M, BOX_W + 2 * M), 255, np.uint8)
    e, b = M + BOX_W - 6, M + BOX_H - 6  # the printed cell's right and bottom edges
    cv2.line(img, (e - 40, b), (e, b), 0, 2)
    cv2.line(img, (e, b - 30), (e, b), 0, 2)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    img = (130 + img.astype(np.float32) / 255.0 * 115).astype(np.uint8)
    sf.draw_digit(img, "5", M + 230, M + 40, 20, 35, thickness=5)
    sf.draw_digit(img, "2", M + 260, M + 40, 20, 35, thickness=5)
    fi, seg = segment(img, point=True)
    assert 150 < int(fi.normalized[b - 25:b + 2, e - 2:e + 3].min()) < 195  # pale, dark enough for a stroke
    assert fi.clean[M + 78:, e - 45:].sum() == 0
    assert len(seg.glyphs) == 2


def test_a_seven_whose_bar_reaches_over_its_neighbours_is_cut_after_its_stem():
    """A run of three touching digits whose first is a 7 with a long top bar: the evenly spaced
    cut crossed only the thin bar, leaving a flat sliver (no digit) and a 7 stem glued to the
    next digit. Each part of a cut must be digit-tall, so the first cut falls after the stem."""
    from marksocr.imaging.segment import PIECE_HEIGHT, _Group, _projection_split

    mask = np.zeros((120, 260), np.uint8)
    cv2.line(mask, (10, 12), (95, 12), 1, 6)                      # the 7's bar, over half the run
    cv2.line(mask, (95, 12), (78, 100), 1, 6)                      # its stem
    cv2.ellipse(mask, (118, 58), (22, 42), 0, 0, 360, 1, 6)        # a 0 touching the stem
    cv2.ellipse(mask, (172, 58), (22, 42), 0, 0, 360, 1, 6)        # another 0 touching it
    parts = _projection_split(_Group.of(mask), 3)
    assert len(parts) == 3
    assert all(p.h >= PIECE_HEIGHT * 100 for p in parts), [(p.x, p.w, p.h) for p in parts]
    seven = parts[0]  # the bar's left end and the stem's foot in one part
    assert seven.mask[12, 10] and seven.mask[100, 78]


def test_a_cut_between_touching_digits_crosses_one_stroke_a_cut_through_one_digit_more():
    """Touching digits meet at one place; a line through a single digit (a 5, a 0) crosses two
    or three strokes. ``Glyph.split_strokes`` counts the strokes beyond one per cut line."""
    from marksocr.imaging.segment import _cut, _extra_strokes, _Group

    pair = np.zeros((100, 140), np.uint8)
    cv2.ellipse(pair, (40, 50), (26, 40), 0, 0, 360, 1, 6)
    cv2.ellipse(pair, (96, 50), (26, 40), 0, 0, 360, 1, 6)   # touches the first at one place
    g = _Group.of(pair)
    assert _extra_strokes(g, _cut(g, [68])) == 0
    five = np.zeros((100, 80), np.uint8)
    cv2.line(five, (20, 10), (65, 10), 1, 6)                   # the 5's flag
    cv2.line(five, (20, 10), (18, 45), 1, 6)                   # its stem
    cv2.ellipse(five, (38, 64), (26, 26), 0, -160, 150, 1, 6)  # its bowl
    g = _Group.of(five)
    assert _extra_strokes(g, _cut(g, [40])) >= 2               # flag, top and bottom of the bowl


def test_cut_candidates_prefer_lines_that_cross_one_stroke():
    """A thick 1 pressed against a wide, thin-stroked 0: the line between them crosses more ink
    than a line through the middle of the 0 (only its thin top and bottom), but fewer strokes.
    Ranked by ink alone, the three candidates all went through the 0; ranked by strokes crossed
    first, the 1|0 cut is offered."""
    from marksocr.imaging.segment import _cut_candidates, _Group

    mask = np.zeros((90, 150), np.uint8)
    cv2.line(mask, (24, 10), (20, 76), 1, 8)                 # the 1
    cv2.ellipse(mask, (56, 43), (30, 32), 0, 0, 360, 1, 3)   # the 0, touching it
    cuts = _cut_candidates(_Group.of(mask))
    assert any(a.x + a.w < 34 and b.mask[11, 56] and b.mask[43, 86] for a, b in cuts), \
        [[(p.x, p.w) for p in c] for c in cuts]
