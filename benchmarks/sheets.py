"""Sheet-reading benchmark: synthetic sheet photos -> read_sheet -> accuracy, auto rate, speed.

Generates (or reuses, cached under ``out/bench-sheets/``) sets of synthetic sheets with
``marksocr.sheets.synth`` per style (scan, photo, hard_photo) and per layout (ours: printed
sheet with ArUco markers; foreign: a layout with only a reference image), 2400x3200 photos,
MNIST *test* digits. Reads each with the shipped model and prints per set:

* raw field accuracy by field kind (text read == text written), and the field accuracy when the
  reader's suggestions (sum-consistent decoding, for sheets sent to review) are taken,
* share of sheets read fully right, share ``auto``, share of ``auto`` sheets with a wrong field,
* seconds per sheet (loading the file + read_sheet),

then the auto rate / wrong-auto rate over all sets at several thresholds (the verdict is
recomputed from the recorded confidences, so one reading pass serves every threshold).
Results are also written to ``benchmarks/RESULTS-sheets.md``.

    .venv/bin/python benchmarks/sheets.py --n 100            # full run
    .venv/bin/python benchmarks/sheets.py --n 10 --styles photo --layouts ours   # quick look

``--template PATH`` (repeatable) adds a layout from any template file, named after its folder,
e.g. a layout the reader was never tuned on (its sets are cached under a name that includes a
hash of the template and its reference image, so editing the layout makes fresh sets):

    .venv/bin/python benchmarks/sheets.py --template out/unseen/college/template.json --layouts college --no-write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marksocr.domain import FieldKind, SheetStatus  # noqa: E402
from marksocr.pipeline.checks import check_sheet  # noqa: E402
from marksocr.pipeline.decoding import sum_posterior  # noqa: E402
from marksocr.versions import versions_line  # noqa: E402

log = logging.getLogger("benchmarks.sheets")

STYLES = ("scan", "photo", "hard_photo")
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.997, 0.9975, 0.998, 0.999)


@dataclass
class SheetResult:
    fields_ok: dict[str, bool]
    kinds: dict[str, str]
    status: str
    min_conf: float
    checks_ok: bool
    seconds: float
    wrong: list[str] = field(default_factory=list)
    id_conf: float = 0.0
    """Lowest confidence in roll number / subject code fields (not protected by the sum check)."""
    mark_conf: float = 0.0
    """Lowest confidence in mark / total fields."""
    sum_conf: Optional[float] = None
    """Probability of the marks and total as read, given that they add up (``sum_posterior``)."""
    suggested_ok: Optional[dict[str, bool]] = None
    """Per field: right when the reader's suggestion (sum-consistent decoding) is taken where it
    made one. None in results saved before this was recorded."""
    blur: Optional[float] = None
    """Page blur (``SheetReading.blur``); None when not measured or in results saved before it was."""

    @property
    def all_ok(self) -> bool:
        return all(self.fields_ok.values())

    def auto_at(self, t: float, relief: float = 0.0, floor: Optional[float] = None) -> bool:
        """The reader's verdict at threshold ``t``, from the recorded confidences (mark/total
        fields need ``t - relief``, or ``floor`` when the sum posterior reaches ``t``). Field
        confidences stand in for digit confidences, so a field with ink left out counts as
        a low digit: close to, not exactly, what ``judge`` decides."""
        if not (self.checks_ok and self.id_conf >= t):
            return False
        verified = floor is not None and self.sum_conf is not None and self.sum_conf >= t
        return self.mark_conf >= (min(t - relief, floor) if verified else t - relief)

    def auto_at2(self, t_id: float, t_mark: float) -> bool:
        return self.checks_ok and self.id_conf >= t_id and self.mark_conf >= t_mark


def layouts() -> dict[str, Path]:
    """Template files: ``ours`` (markers) and every foreign layout (reference image, no markers)."""
    out = {"ours": ROOT / "resources" / "templates" / "marksocr_a4" / "template.json"}
    for p in sorted((ROOT / "resources" / "templates").glob("*/template.json")):
        raw = json.loads(p.read_text())
        if not raw.get("markers") and raw.get("reference_image"):
            out[p.parent.name] = p
    return out


def extra_layouts(paths: list[Path]) -> dict[str, Path]:
    """Layouts from ``--template`` files, each named after the template's folder (``.../college/template.json``)."""
    builtin = layouts()
    out: dict[str, Path] = {}
    for p in paths:
        p = p.resolve()
        if not p.is_file():
            raise SystemExit(f"--template {p}: no such file")
        name = p.parent.name
        taken = builtin.get(name) or out.get(name)
        if taken is not None and taken.resolve() != p:
            raise SystemExit(f"--template {p}: layout name {name!r} (its folder) is already used by {taken}")
        if builtin.get(name) is None:
            out[name] = p
    return out


def cache_name(template: Path, layout: str) -> str:
    """``layout`` plus a short hash of the template file and its reference image (for ``--template`` layouts)."""
    h = hashlib.sha256(template.read_bytes())
    ref = json.loads(template.read_text()).get("reference_image")
    if ref and (template.parent / ref).is_file():
        h.update((template.parent / ref).read_bytes())
    return f"{layout}-{h.hexdigest()[:8]}"


def ensure_set(template: Path, layout: str, style: str, n: int, seed: int, cache: Path, workers: int = 1) -> Path:
    from marksocr.sheets.synth import GENERATOR_VERSION, make_sheet_set

    d = cache / f"{layout}-{style}-n{n}-s{seed}-g{GENERATOR_VERSION}"
    if not (d / "truth.json").is_file():
        t = time.perf_counter()
        make_sheet_set(template, d, n, style=style, seed=seed, workers=workers)
        log.warning("generated %s in %.0f s", d.name, time.perf_counter() - t)
    return d


def class_roster(d: Path, template, neighbours: int) -> list[str]:
    """A class list for the sheets in ``d``: each roll number written on them and its
    ``neighbours`` sequential numbers either side (real rosters are runs of numbers that differ
    in their last digits, which is what makes a misread last digit dangerous)."""
    names = [f.name for f in template.fields if f.kind == FieldKind.ROLL_NO]
    if not names:
        raise SystemExit(f"--roster: template {template.name!r} has no roll-number field")
    out: set[str] = set()
    for rec in json.loads((d / "truth.json").read_text()):
        for roll in (rec["values"].get(name, "") for name in names):
            if not roll.isdigit():
                continue
            for k in range(-neighbours, neighbours + 1):
                if 0 <= int(roll) + k < 10 ** len(roll):
                    out.add(f"{int(roll) + k:0{len(roll)}d}")
    return sorted(out)


def read_set(d: Path, template, classifier, options, open_lengths: bool = False) -> list[SheetResult]:
    """Read every sheet of set ``d``. ``open_lengths``: as ``marksocr scan`` reads with a template
    that gives no length for its free-written ids (their ``digits`` keys left out): lengths from
    the roster, else learned from the first sheets (``pipeline.lengths``); seconds per sheet are
    then the set's average."""
    from marksocr.imaging.io import Page, load_image
    from marksocr.pipeline import read_sheet
    from marksocr.pipeline.batch import LengthReader, ScanOptions
    from marksocr.pipeline.reader import GOOD_REGISTRATION

    records = json.loads((d / "truth.json").read_text())
    readings = []
    if open_lengths:
        template = without_lengths(template)
        reader = LengthReader(template, classifier, ScanOptions(threshold=options.threshold,
                                                               roll_numbers=options.roll_numbers))
        t0 = time.perf_counter()
        for rec in records:
            page = Page(str(d / rec["sheet"]), None, "", load_image(d / rec["sheet"]), None)
            readings += [r for r, _ in reader.read(page, None)]
        readings += [r for r, _ in reader.finish()]
        template = reader.template  # the lengths it gave, for the checks below
        secs = [(time.perf_counter() - t0) / max(1, len(records))] * len(records)
        if reader.found:
            log.warning("%s: lengths %s", d.name, reader.found)
    else:
        secs = []
        for rec in records:
            t0 = time.perf_counter()
            img = load_image(d / rec["sheet"])
            readings.append(read_sheet(img, template, classifier, source=str(d / rec["sheet"]), options=options))
            secs.append(time.perf_counter() - t0)
    results = []
    for rec, r, sec in zip(records, readings, secs):
        truth = rec["values"]
        got = {f.name: f.text for f in r.fields}
        ok = {f.name: got.get(f.name) == truth.get(f.name, "") and r.status != SheetStatus.FAILED for f in template.fields}
        suggested = {f.name: f.text if f.suggestion is None else f.suggestion for f in r.fields}
        suggested_ok = {f.name: suggested.get(f.name) == truth.get(f.name, "") and r.status != SheetStatus.FAILED
                        for f in template.fields}
        confs = [f.confidence for f in r.fields]
        ids = [f.confidence for f in r.fields if f.kind in (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE)]
        marks = [f.confidence for f in r.fields if f.kind not in (FieldKind.ROLL_NO, FieldKind.SUBJECT_CODE)]
        sum_conf = sum_posterior(template, r.fields) if r.status != SheetStatus.FAILED else None
        checks_ok = (r.status != SheetStatus.FAILED and r.registration_quality >= GOOD_REGISTRATION
                     and not options.too_blurred(r.blur) and not check_sheet(template, got))
        wrong = [f"{n}: {got.get(n)!r} != {truth.get(n, '')!r}" for n, v in ok.items() if not v]
        res = SheetResult(ok, {f.name: str(getattr(f.kind, "value", f.kind)) for f in template.fields}, r.status.value,
                          min(confs, default=1.0) if r.status != SheetStatus.FAILED else 0.0, checks_ok, sec, wrong,
                          min(ids, default=1.0), min(marks, default=1.0), sum_conf, suggested_ok, r.blur)
        if res.status == "auto" and not res.all_ok:
            log.warning("WRONG AUTO %s/%s: %s", d.name, rec["sheet"], wrong)
        elif wrong:
            log.info("%s/%s %s: %s %s", d.name, rec["sheet"], r.status.value, wrong, r.reasons[:3])
        results.append(res)
    return results


def without_lengths(template):
    """``template`` without the optional ``digits`` keys of its free-written fields, as a template
    drawn in the editor or written from the contract alone may be."""
    from dataclasses import replace

    return replace(template, fields=tuple(replace(f, extra={k: v for k, v in f.extra.items() if k != "digits"})
                                          for f in template.fields))


def summarize(name: str, rs: list[SheetResult]) -> dict:
    from marksocr.pipeline import ReadOptions

    by_kind: dict[str, list[bool]] = defaultdict(list)
    for r in rs:
        for n, ok in r.fields_ok.items():
            by_kind[r.kinds[n]].append(ok)
    autos = [r for r in rs if r.status == "auto"]
    return {
        "set": name, "sheets": len(rs),
        "fields": 100.0 * sum(sum(v) for v in by_kind.values()) / max(1, sum(len(v) for v in by_kind.values())),
        "suggested": (None if any(r.suggested_ok is None for r in rs) else
                      100.0 * sum(sum(r.suggested_ok.values()) for r in rs) / max(1, sum(len(r.suggested_ok) for r in rs))),
        **{k: 100.0 * sum(v) / len(v) for k, v in sorted(by_kind.items())},
        "fully_right": 100.0 * sum(r.all_ok for r in rs) / max(1, len(rs)),
        "auto": 100.0 * len(autos) / max(1, len(rs)),
        "wrong_auto": 100.0 * sum(not r.all_ok for r in autos) / max(1, len(autos)),
        "failed": sum(r.status == "failed" for r in rs),
        "blurred": sum(ReadOptions().too_blurred(r.blur) for r in rs),
        "s_per_sheet": sum(r.seconds for r in rs) / max(1, len(rs)),
    }


def table(rows: list[dict]) -> str:
    kinds = ["roll_no", "subject_code", "mark", "total"]
    head = ["set", "sheets", "fields %", "with suggestions %", *[f"{k} %" for k in kinds], "fully right %", "auto %", "wrong auto %", "failed", "too blurred", "s/sheet"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        sug = "-" if r.get("suggested") is None else f"{r['suggested']:.2f}"
        vals = [r["set"], str(r["sheets"]), f"{r['fields']:.2f}", sug, *[f"{r[k]:.2f}" if k in r else "-" for k in kinds],
                f"{r['fully_right']:.1f}", f"{r['auto']:.1f}", f"{r['wrong_auto']:.2f}", str(r["failed"]), str(r.get("blurred", "-")), f"{r['s_per_sheet']:.2f}"]
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def sweep(rs: list[SheetResult], relief: float, floor: Optional[float] = None) -> str:
    lines = ["| threshold | auto % | wrong auto % | wrong auto sheets |", "|---|---|---|---|"]
    for t in THRESHOLDS:
        autos = [r for r in rs if r.auto_at(t, relief, floor)]
        wrong = sum(not r.all_ok for r in autos)
        lines.append(f"| {t:g} | {100.0 * len(autos) / max(1, len(rs)):.1f} | {100.0 * wrong / max(1, len(autos)):.2f} | {wrong} / {len(autos)} |")
    return "\n".join(lines)


def sweep2(rs: list[SheetResult]) -> str:
    """Auto % / wrong-auto % with separate thresholds for identity fields and marks."""
    t_marks = (0.5, 0.7, 0.75, 0.8, 0.9, 0.95)
    lines = ["| id threshold \\ marks threshold | " + " | ".join(f"{t:.2f}" for t in t_marks) + " |",
             "|---|" + "---|" * len(t_marks)]
    for t_id in (0.95, 0.98, 0.99, 0.995, 0.997, 0.9975, 0.998, 0.999):
        cells = []
        for t_m in t_marks:
            autos = [r for r in rs if r.auto_at2(t_id, t_m)]
            wrong = sum(not r.all_ok for r in autos)
            cells.append(f"{100.0 * len(autos) / max(1, len(rs)):.1f} / {100.0 * wrong / max(1, len(autos)):.2f}")
        lines.append(f"| {t_id:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="sheets per set (default 100)")
    ap.add_argument("--seed", type=int, default=1000, help="generator seed (default 1000)")
    ap.add_argument("--styles", default=",".join(STYLES))
    ap.add_argument("--layouts", default="all",
                    help="comma-separated layout names (ours, foreign_..., or a --template's), or all (the built-in "
                         "layouts and every --template)")
    ap.add_argument("--template", type=Path, action="append", default=[], metavar="PATH",
                    help="also offer the layout of this template file, named after its folder (repeatable)")
    ap.add_argument("--cache", type=Path, default=ROOT / "out" / "bench-sheets")
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--workers", type=int, default=1, help="processes generating sheets (default 1)")
    ap.add_argument("--generate-only", action="store_true", help="only make (cache) the sheet sets")
    ap.add_argument("--threshold", type=float, default=None, help="verdict threshold (default: the pipeline's)")
    ap.add_argument("--write", type=Path, default=ROOT / "benchmarks" / "RESULTS-sheets.md")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--results", type=Path, default=None,
                    help="save per-sheet results here (JSON); with --rerender, load them instead of reading")
    ap.add_argument("--rerender", nargs="*", type=Path, default=None, metavar="RESULTS",
                    help="recompute the tables at --threshold from saved results files (several are merged)")
    ap.add_argument("--roster", type=int, default=None, metavar="K",
                    help="read each set with a class roster: every sheet's roll number and its K sequential "
                         "neighbours either side (0: just the set's roll numbers); the sweeps ignore it")
    ap.add_argument("--open-lengths", action="store_true",
                    help="read as a template without the digit counts of its free-written ids (their digits keys "
                         "left out) is read by marksocr scan: lengths from the roster, else learned from the first sheets")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    from marksocr.pipeline import ReadOptions
    from marksocr.pipeline.reader import DEFAULT_THRESHOLD, SUM_CHECK_RELIEF, SUM_VERIFIED_FLOOR
    from marksocr.recognition import DigitClassifier
    from marksocr.template import load_template

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if args.rerender is not None:
        by_set, versions, libraries = {}, set(), set()
        for path in args.rerender or [args.results]:
            saved = json.loads(path.read_text())
            versions.add(saved["model"])
            libraries.add(saved.get("libraries", "libraries not recorded"))
            args.seed, args.n = saved.get("seed", args.seed), saved.get("n", args.n)
            by_set.update({k: [SheetResult(**r) for r in v] for k, v in saved["sets"].items()})
        version, libraries_line = ", ".join(sorted(versions)), "; ".join(sorted(libraries))
        for rs in by_set.values():  # the verdict at this threshold, from the recorded confidences
            for r in rs:
                if r.status != "failed":
                    r.status = "auto" if r.auto_at(threshold, SUM_CHECK_RELIEF, SUM_VERIFIED_FLOOR) else "needs_review"
    else:
        clf = None if args.generate_only else DigitClassifier.load(args.model)
        version = None if clf is None else clf.version
        libraries_line = versions_line()
        by_set = {}
        extra = extra_layouts(args.template)
        available = {**layouts(), **extra}
        for layout in (list(available) if args.layouts == "all" else args.layouts.split(",")):
            if layout not in available:
                print(f"layout {layout!r} not available (no template found), skipped")
                continue
            template = load_template(available[layout])
            cached_as = cache_name(available[layout], layout) if layout in extra else layout
            for style in args.styles.split(","):
                d = ensure_set(available[layout], cached_as, style, args.n, args.seed, args.cache, args.workers)
                if args.generate_only:
                    continue
                roster = class_roster(d, template, args.roster) if args.roster is not None else None
                by_set[f"{layout}/{style}"] = rs = read_set(d, template, clf,
                                                            ReadOptions(threshold=threshold, roll_numbers=roster),
                                                            open_lengths=args.open_lengths)
                print(table([summarize(f"{layout}/{style}", rs)]).splitlines()[-1], flush=True)
        if args.generate_only:
            return 0
        if args.results:
            args.results.write_text(json.dumps({"model": version, "seed": args.seed, "n": args.n,
                                                "libraries": libraries_line,
                                                "templates": {k: str(v) for k, v in extra.items()},
                                                "sets": {k: [r.__dict__ for r in v] for k, v in by_set.items()}}))
    rows = [summarize(k, v) for k, v in by_set.items()]
    everything = [r for v in by_set.values() for r in v]
    rows.append(summarize("all", everything))
    roster_note = ("" if args.roster is None else
                   f", roster: each roll number and its {args.roster} neighbours either side (the sweeps ignore it)")
    out = (f"model `{version}`, threshold {threshold}, {args.n} sheets per set, seed {args.seed}, 2400x3200{roster_note}\n"
           f"read with {libraries_line}\n\n"
           f"{table(rows)}\n\nThreshold sweep (all sets; mark/total digits need threshold - {SUM_CHECK_RELIEF}, "
           f"or {SUM_VERIFIED_FLOOR} when the marks and total add up with a posterior >= threshold):\n\n"
           f"{sweep(everything, SUM_CHECK_RELIEF, SUM_VERIFIED_FLOOR)}\n\n"
           f"Without the sum posterior (mark/total digits always need threshold - {SUM_CHECK_RELIEF}):\n\n"
           f"{sweep(everything, SUM_CHECK_RELIEF)}\n\n"
           f"Same threshold for every digit:\n\n{sweep(everything, 0.0)}\n\n"
           f"Separate thresholds (cells: auto % / wrong auto %):\n\n{sweep2(everything)}\n")
    print()
    print(out)
    if not args.no_write:
        args.write.write_text("# Sheet-reading benchmark (benchmarks/sheets.py)\n\n" + out + _kept_notes(args.write),
                              encoding="utf-8")
    return 0


def _kept_notes(results: Path) -> str:
    """The hand-written notes of an existing results file (from its first ``## Notes`` heading),
    kept below the new tables."""
    old = results.read_text(encoding="utf-8") if results.is_file() else ""
    at = old.find("\n## Notes")
    return "\n" + old[at + 1:] if at >= 0 else ""


if __name__ == "__main__":
    sys.exit(main())
