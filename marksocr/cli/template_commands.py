"""``marksocr template ...``: make a printable sheet, check a template, make synthetic sheet photos."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``template`` command group to the ``marksocr`` parser."""
    parser = subparsers.add_parser("template", help="make, check and exercise sheet templates",
                                   description="Make, check and exercise sheet templates.")
    sub = parser.add_subparsers(dest="template_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    _register_new(sub)
    _register_check(sub)
    _register_foreign(sub)
    _register_synth(sub)


# --------------------------------------------------------------------------- new

def _register_new(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="generate a printable A4 answer-sheet cover and its template",
                       description="Write blank.png, blank.pdf (A4, print it at 100%) and template.json "
                                   "for a marksocr answer-sheet cover with alignment markers.")
    p.add_argument("--out", required=True, type=Path, help="folder to write into (created if needed)")
    p.add_argument("--name", help="name of the template, printed under the title")
    p.add_argument("--questions", type=int, help="number of questions (default: 10, or as many as --max gives)")
    p.add_argument("--max", dest="max_marks", type=_max_list, metavar="M[,M...]",
                   help="maximum mark of each question, e.g. 10,10,5 (one value: the same for all)")
    p.add_argument("--roll-cells", type=int, default=8, help="digits in the roll number (default 8)")
    p.add_argument("--subject-cells", type=int, default=5, help="digits in the subject code (default 5)")
    p.set_defaults(func=_cmd_new)


def _max_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one maximum")
    return values


def _cmd_new(args: argparse.Namespace) -> int:
    from marksocr.domain import TemplateError
    from marksocr.sheets.printable import make_spec, write_sheet

    try:
        spec = make_spec(name=args.name, questions=args.questions, max_marks=args.max_marks,
                         roll_cells=args.roll_cells, subject_cells=args.subject_cells)
    except TemplateError as exc:
        print(f"marksocr template new: error: {exc}", file=sys.stderr)
        return 2
    path = write_sheet(args.out, spec)
    print(f"wrote {path} ({spec.questions} questions, total {sum(spec.max_marks):g})")
    print(f"print {args.out / 'blank.pdf'} on A4 at 100% (no 'fit to page')")
    return 0


# --------------------------------------------------------------------------- check

def _register_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="validate a template file and describe it")
    p.add_argument("template", type=Path, help="template JSON file")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from marksocr.template import load_template

    t = load_template(args.template)
    print(f"{args.template}: OK - {t.name!r}, {len(t.fields)} fields")
    if t.reference_image:
        print(f"  reference image: {t.reference_image}")
    if t.markers:
        print(f"  markers: {t.markers['dictionary']}, ids {', '.join(sorted(t.markers['positions']))}")
    if t.page_size:
        print(f"  page size: {t.page_size[0]} x {t.page_size[1]} px")
    from marksocr.pipeline.checks import expected_digits
    from marksocr.pipeline.lengths import open_fields

    for f in t.fields:
        kind = f.kind.value if hasattr(f.kind, "value") else f.kind
        extra = f", {f.cells} cells" if f.cells else ""
        extra += f", {expected_digits(f)} digits" if not f.cells and expected_digits(f) else ""
        extra += f", max {f.max:g}" if f.max is not None else ""
        print(f"  {f.name:<14} {kind:<13} box {', '.join(f'{v:.3f}' for v in f.box)}{extra}")
    for f in open_fields(t):
        print(f"  note: {f.name} is written freely with no digit count; a scan takes it from the roster or "
              f"from what most of its sheets read. Add \"digits\": N to the field to fix it.")
    return 0


# --------------------------------------------------------------------------- foreign

def _register_foreign(sub: argparse._SubParsersAction) -> None:
    from marksocr.sheets.foreign import VARIANTS

    p = sub.add_parser("foreign", help="write a non-marksocr sample cover (no markers) and its template",
                       description="Write blank.png and template.json of a sample answer-book cover that "
                                   "marksocr did not design (no alignment markers; registered by its "
                                   "reference image). For tests, benchmarks and demonstrations.")
    p.add_argument("--out", required=True, type=Path, help="folder to write into")
    p.add_argument("--variant", choices=VARIANTS, default="university",
                   help="which cover (default university); college (US Letter) and bluebook (A4, blue print) "
                        "are held-out layouts, kept out of resources/templates")
    p.set_defaults(func=_cmd_foreign)


def _cmd_foreign(args: argparse.Namespace) -> int:
    from marksocr.sheets.foreign import write_foreign

    path = write_foreign(args.out, args.variant)
    print(f"wrote {path} and {args.out / 'blank.png'}")
    return 0


# --------------------------------------------------------------------------- synth

def _register_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="make synthetic filled-in sheet photos with ground truth (tests, benchmarks)",
                       description="Fill a template's fields with MNIST test digits and simulate scans or "
                                   "phone photos; writes the images plus truth.csv and truth.json.")
    p.add_argument("--template", required=True, type=Path, help="template JSON file")
    p.add_argument("--out", required=True, type=Path, help="folder to write into")
    p.add_argument("-n", type=int, default=20, help="number of sheets (default 20)")
    p.add_argument("--style", choices=("scan", "photo", "hard_photo"), default="photo")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--inconsistent", type=float, default=0.1,
                   help="fraction of sheets whose written total is wrong or a field is empty (default 0.1)")
    p.add_argument("--mnist", type=Path, help="MNIST folder (default: $MARKSOCR_MNIST or ../shared/data/mnist)")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (default 1; same output)")
    p.set_defaults(func=_cmd_synth)


def _cmd_synth(args: argparse.Namespace) -> int:
    from marksocr.sheets.synth import make_sheet_set

    if args.n < 1:
        raise SystemExit("marksocr: error: -n must be at least 1")
    rows = make_sheet_set(args.template, args.out, args.n, style=args.style, seed=args.seed,
                          mnist_dir=args.mnist, anomaly_rate=args.inconsistent, workers=args.workers)
    print(f"wrote {len(rows)} {args.style} sheets, truth.csv and truth.json in {args.out}")
    return 0
