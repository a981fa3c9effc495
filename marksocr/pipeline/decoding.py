"""Sum-consistent decoding: the most probable reading that passes every check.

When the marks and the written total disagree (or a mark exceeds its maximum), some digit was
probably misread. Each digit carries its top-3 alternatives with probabilities; the search
tries the alternatives of the ``k`` least confident mark/total characters (a bounded search,
at most 3**k candidates) and keeps the candidate with the highest joint probability for which
every check of the marks and the total passes. A decimal point may also be dropped (a speck
read as a point). Roll numbers and subject codes are decoded against the known lists when
given: the most probable list entry of the right length, from the per-digit alternatives.

The result is only a *suggestion*: the sheet still goes to review.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Optional

from marksocr.domain import DigitReading, FieldKind, FieldReading, FieldSpec, Template, parse_number
from marksocr.pipeline.checks import check_field, check_sum

log = logging.getLogger(__name__)

MAX_SEARCH_DIGITS = 7
"""k: how many of the least confident characters may be changed (3**7 = 2187 candidates)."""
FLOOR_PROB = 1e-4
"""Probability assumed for a label outside a digit's top-3 alternatives."""


@dataclass(frozen=True)
class Decoded:
    """A consistent alternative reading: new texts of the changed fields and its log-probability."""

    texts: dict[str, str]
    log_prob: float
    current_log_prob: float


def _options(d) -> list[tuple[str, float]]:
    alts = list(d.alternatives) or [(d.label, d.confidence)]
    if d.label == "." and not any(a == "" for a, _ in alts):
        alts.append(("", max(FLOOR_PROB, 1.0 - d.confidence)))
    return [(a, max(p, FLOOR_PROB)) for a, p in alts[:3]]


def decode_marks(template: Template, readings: Sequence[FieldReading], k: int = MAX_SEARCH_DIGITS) -> Optional[Decoded]:
    """Most probable mark/total reading passing the max and sum checks, or None.

    Returns None when the current reading already passes, or no candidate within the search
    bound does.
    """
    by_name = {r.name: r for r in readings}
    specs = [f for f in template.fields if f.kind in (FieldKind.MARK, FieldKind.TOTAL) and f.name in by_name]
    texts = {f.name: by_name[f.name].text for f in template.fields if f.name in by_name}
    if _consistent(template, specs, texts):
        return None
    slots = [(f.name, i, d) for f in specs for i, d in enumerate(by_name[f.name].digits)]
    current = sum(math.log(max(d.confidence, FLOOR_PROB)) for _, _, d in slots)
    order = sorted(range(len(slots)), key=lambda s: slots[s][2].confidence)[:k]
    options = [sorted(_options(slots[s][2]), key=lambda o: -o[1]) for s in order]
    costs = [[-math.log(p) for _, p in opts] for opts in options]
    base = current - sum(math.log(max(slots[s][2].confidence, FLOOR_PROB)) for s in order)
    # best-first enumeration of the product of options: the first consistent one is the best
    start = (0,) * len(order)
    heap = [(sum(c[0] for c in costs), start)]
    seen = {start}
    for _ in range(3 ** len(order)):
        if not heap:
            break
        cost, idx = heapq.heappop(heap)
        chars = {s: options[j][i][0] for j, (s, i) in enumerate(zip(order, idx))}
        cand = dict(texts)
        for f in specs:
            cand[f.name] = "".join(chars.get(j, d.label) for j, (n, _, d) in enumerate(slots) if n == f.name)
        if _consistent(template, specs, cand) and not _adds_leading_zero(cand, texts):
            changed = {f.name: cand[f.name] for f in specs if cand[f.name] != texts[f.name]}
            best = Decoded(changed, base - cost, current)
            log.debug("decoding: %s (log p %.2f vs %.2f)", best.texts, best.log_prob, best.current_log_prob)
            return best
        for j in range(len(idx)):
            if idx[j] + 1 < len(options[j]):
                nxt = idx[:j] + (idx[j] + 1,) + idx[j + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (cost - costs[j][idx[j]] + costs[j][idx[j] + 1], nxt))
    return None


def _adds_leading_zero(cand: dict[str, str], texts: dict[str, str]) -> bool:
    """Would the candidate turn a mark into something like ``051`` or ``07``? Nobody writes a mark
    that way, so such a reading is no suggestion (``0.5`` is fine)."""
    return any(new != texts.get(name) and len(new) > 1 and new[0] == "0" and new[1].isdigit()
               for name, new in cand.items())


def _consistent(template: Template, specs, texts: dict[str, str]) -> bool:
    for f in specs:
        if any(i.kind in ("max", "number", "count") for i in check_field(f, texts.get(f.name, ""))):
            return False
    return not check_sum(template, texts)


MIN_SEGMENTATION_GAIN = math.log(1e-3)
"""Another segmentation is taken for the sum only when at most this much less probable."""


def segmentation_for_sum(template: Template, options: Sequence[Sequence[tuple[FieldReading, float]]]) -> list[FieldReading]:
    """Per field, its reading; but where the marks and the total disagree and another
    segmentation of one or two mark/total fields (a ``10`` read whole as ``0``, a ``44`` read
    as one ``4``) makes every mark/total check pass, that segmentation.

    ``options`` holds per field ``(reading, log score relative to the best)``, the best first.
    Unlike digit decoding (:func:`decode_marks`, a suggestion only) this changes the reading:
    which ink is one digit is a question of segmentation, and the written total is evidence for
    it. The changed glyphs keep their low confidence, so the sheet still goes to review.
    """
    best = [opts[0][0] for opts in options]
    specs = [f for f in template.fields if f.kind in (FieldKind.MARK, FieldKind.TOTAL)]
    texts = {r.name: r.text for r in best}
    if not specs or not any(f.kind == FieldKind.TOTAL for f in specs) or _consistent(template, specs, texts):
        return best
    swaps = [(i, k, opts[k][0].text, opts[k][1]) for i, opts in enumerate(options) for k in range(1, len(opts))
             if best[i].kind in (FieldKind.MARK, FieldKind.TOTAL) and opts[k][1] >= MIN_SEGMENTATION_GAIN]
    found: Optional[tuple[float, tuple[tuple[int, int], ...]]] = None
    for a in range(len(swaps)):
        for b in range(a, len(swaps)):
            pair = (swaps[a],) if a == b else (swaps[a], swaps[b])
            if len({s[0] for s in pair}) < len(pair):
                continue
            gain = sum(s[3] for s in pair)
            if gain < MIN_SEGMENTATION_GAIN or (found is not None and gain <= found[0]):
                continue
            cand = dict(texts)
            cand.update({best[s[0]].name: s[2] for s in pair})
            if _consistent(template, specs, cand):
                found = (gain, tuple((s[0], s[1]) for s in pair))
    if found is None:
        return best
    out = list(best)
    for i, k in found[1]:
        out[i] = options[i][k][0]
        log.debug("segmentation for the sum: %s read as %r instead of %r", out[i].name, out[i].text, best[i].text)
    return out


def decode_roster(reading: FieldReading, known: Collection[str], min_ratio: float = 1e-3) -> Optional[str]:
    """The most probable entry of ``known`` given the per-digit alternatives, or None.

    Only entries with as many digits as were read are considered; the best must be at least
    ``min_ratio`` times as probable as the reading itself (else it is a guess, not a fix).
    """
    digits = reading.digits
    if not digits or reading.text in known:
        return None
    probs = [dict(d.alternatives) or {d.label: d.confidence} for d in digits]
    current = sum(math.log(max(d.confidence, FLOOR_PROB)) for d in digits)
    best, best_lp = None, -math.inf
    for entry in known:
        if len(entry) != len(digits):
            continue
        lp = sum(math.log(max(p.get(c, FLOOR_PROB), FLOOR_PROB)) for p, c in zip(probs, entry))
        if lp > best_lp:
            best, best_lp = entry, lp
    if best is None or best_lp < current + math.log(min_ratio):
        return None
    return best


def roster_posterior(reading: FieldReading, known: Collection[str]) -> Optional[float]:
    """P(the id is ``reading.text`` | it is one of ``known``), from each digit's alternatives.

    Each entry of the list with as many digits as were read is scored by the product of its
    digits' probabilities (a label outside a digit's top alternatives shares what they leave);
    the answer is the reading's share of all entries. None when the reading is not in the list.
    A 3 at 0.8 against an 8 is settled in a class of random roll numbers, but not in one where
    the roll number with an 8 there exists too (sequential roll numbers).
    """
    digits = reading.digits
    if not digits or reading.text not in known or not all(d.label.isdigit() for d in digits):
        return None
    tables = [_label_probs(d) for d in digits]
    scores = [sum(math.log(t[int(c)]) for t, c in zip(tables, entry))
              for entry in known if len(entry) == len(digits) and entry.isdigit()]
    own = sum(math.log(t[int(c)]) for t, c in zip(tables, reading.text))
    top = max(scores)
    return math.exp(own - top) / math.fsum(math.exp(x - top) for x in scores)


def _label_probs(d: DigitReading) -> list[float]:
    """Probabilities of the ten labels for one digit: its alternatives, the rest shared evenly."""
    listed = {a: p for a, p in d.alternatives if a.isdigit() and len(a) == 1} or {d.label: d.confidence}
    rest = max(0.0, 1.0 - math.fsum(listed.values())) / max(1, 10 - len(listed))
    return [max(listed.get(str(k), rest), FLOOR_PROB) for k in range(10)]


SUM_POSTERIOR_PRUNE = 1e-12
"""Candidate readings less probable than this (relative to the best) are dropped from the sum."""
_MAX_CHARS_ENUMERATED = 6
"""A mark/total field with more characters is not enumerated (no posterior for the sheet)."""


def sum_posterior(template: Template, readings: Sequence[FieldReading]) -> Optional[float]:
    """How probable the marks and total as read are, given that they add up: ``P(reading) /
    P(any reading of the marks and total that passes the max and sum checks)``.

    Each character's top-3 alternatives give the probability of every candidate reading of a
    field (digits independent, as the classifier sees them). A misread mark must be matched by a
    misread total (or another mark) to keep the sum: when those compensating alternatives are
    improbable, the sum confirms even a doubtful digit (a ``7`` at 0.6 against a ``1`` at 0.4 is
    settled by a total read at 0.9999). When they are probable (two doubtful digits that can
    trade places), the posterior stays low.

    None when the template has no single total, the current reading does not pass the checks,
    or a field is too long to enumerate. What it does not see: segmentation errors (a digit lost
    or split) that happen to keep the sum; those need a second error that compensates exactly.
    """
    totals = [f for f in template.fields if f.kind == FieldKind.TOTAL]
    marks = template.mark_fields
    by_name = {r.name: r for r in readings}
    if len(totals) != 1 or not marks or any(f.name not in by_name for f in (*marks, *totals)):
        return None
    specs = [*marks, totals[0]]
    texts = {f.name: by_name[f.name].text for f in specs}
    if not _consistent(template, specs, texts):
        return None
    current = 1.0
    dists: list[dict[int, float]] = []
    for spec in specs:
        dist, p_cur = _value_distribution(spec, by_name[spec.name])
        if dist is None:
            return None
        current *= p_cur
        dists.append(dist)
    sums: dict[int, float] = {0: 1.0}
    for dist in dists[:-1]:
        sums = _prune(_convolve(sums, dist))
    z = sum(p * sums.get(v, 0.0) for v, p in dists[-1].items())
    if z <= 0.0 or current > z * (1.0 + 1e-9):
        return None  # the current reading itself was pruned: it is far from the most probable one
    return float(current / z)


def _value_distribution(spec: FieldSpec, reading: FieldReading) -> tuple[Optional[dict[int, float]], float]:
    """Probability of each value (in hundredths) the field may hold, over the candidate readings
    that pass its own checks; and the probability of the current reading."""
    digits = reading.digits
    if not digits:
        return {0: 1.0}, 1.0  # empty: an unanswered question (an empty total fails the checks before)
    if len(digits) > _MAX_CHARS_ENUMERATED:
        return None, 0.0
    options = [_options(d) for d in digits]
    p_cur = 1.0
    for d, opts in zip(digits, options):
        p_cur *= dict(opts).get(d.label, max(d.confidence, FLOOR_PROB))
    dist: dict[int, float] = {}
    for combo in itertools.product(*options):
        text = "".join(c for c, _ in combo)
        if not text or any(i.kind in ("max", "number", "count") for i in check_field(spec, text)):
            continue
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            continue  # nobody writes a mark as 07
        value = parse_number(text)
        if value is None:
            continue
        p = math.prod(q for _, q in combo)
        key = round(value * 100)
        dist[key] = dist.get(key, 0.0) + p
    return dist, p_cur


def _convolve(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for va, pa in a.items():
        for vb, pb in b.items():
            out[va + vb] = out.get(va + vb, 0.0) + pa * pb
    return out


def _prune(dist: dict[int, float]) -> dict[int, float]:
    if not dist:
        return dist
    floor = max(dist.values()) * SUM_POSTERIOR_PRUNE
    return {v: p for v, p in dist.items() if p >= floor}
