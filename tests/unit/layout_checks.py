"""Checks shared by the tests of generated sheet layouts (printable and foreign)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def overlapping(boxes: Iterable[tuple[str, Sequence[float]]]) -> list[tuple[str, str]]:
    """Pairs of named (x, y, w, h) boxes that overlap: a digit written in one would be read in both."""
    boxes = list(boxes)
    out = []
    for i, (n1, a) in enumerate(boxes):
        for n2, b in boxes[i + 1:]:
            apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
            if not apart:
                out.append((n1, n2))
    return out
