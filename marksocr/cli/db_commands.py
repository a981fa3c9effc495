"""``marksocr scan / export / sheets / history / review / import-roster / db``: the marks database.

Contract: ``../shared/spec/interfaces.md`` section 2. Exit codes: 0 when everything
asked for was done, 1 when some input failed (each failure named), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from marksocr.domain import SheetStatus, TemplateError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2  # same values as marksocr.cli.main


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL or SQLite file (default: $MARKSOCR_DB, "
                                               "the settings file, then a file in your data folder)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the database commands to the ``marksocr`` parser."""
    p = subparsers.add_parser("scan", help="read sheet photos/PDFs into the database",
                              description="Read every image (JPEG, PNG, TIFF, BMP) or PDF page under PATH into "
                                          "the database. Pages already stored are skipped, so an interrupted "
                                          "scan is finished by running it again.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image or PDF files, or folders")
    p.add_argument("--template", type=Path, help="template JSON (default: the settings' default_template)")
    _db_arg(p)
    p.add_argument("--threshold", type=float, help="confidence below which a field needs review (0..1)")
    p.add_argument("--user", help="operator name for the audit log (default: settings, else login name)")
    p.add_argument("--no-page-images", action="store_true", help="do not store the aligned page images")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output, only failures and the summary")
    p.set_defaults(func=cmd_scan)

    p = subparsers.add_parser("export", help="write the marks CSV (and XLSX)",
                              description="Write the marks table: one row per sheet, current values "
                                          "(corrections first). Prints a completeness report on stderr.")
    _db_arg(p)
    p.add_argument("--csv", type=Path, metavar="OUT.csv", help="marks CSV to write")
    p.add_argument("--xlsx", type=Path, metavar="OUT.xlsx", help="also (or only) write an Excel workbook")
    p.add_argument("--subject", metavar="CODE", help="only sheets of this subject code")
    p.add_argument("--verified-only", action="store_true", help="only sheets an operator verified")
    p.add_argument("--exclude-failed", action="store_true",
                   help="leave out sheets that could not be read at all (by default they get a row with "
                        "empty values and status needs_review)")
    p.add_argument("--strict", action="store_true", help="exit 1 when the export is incomplete")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("sheets", help="list sheets with their status and reasons")
    _db_arg(p)
    p.add_argument("--status", choices=[s.value for s in SheetStatus], action="append",
                   help="only sheets with this status (repeatable)")
    p.add_argument("--subject", metavar="CODE")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_sheets)

    p = subparsers.add_parser("history", help="the audit log: who changed what, when (newest first)",
                              description="Every correction, confirmation, verification, undo and deletion, "
                                          "newest first, with the operator, the old and the new value.")
    _db_arg(p)
    p.add_argument("--sheet", type=int, metavar="ID", help="only this sheet (ids as in `marksocr sheets`)")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N entries (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_history)

    p = subparsers.add_parser("review", help="check doubtful fields in the terminal (keyboard only)",
                              description="Go through the sheets that need review. For each doubtful field: "
                                          "Enter accepts the proposed value, typing a number corrects it, "
                                          "'u' undoes, 's' skips the sheet, 'q' quits. Every answer is "
                                          "saved at once.")
    _db_arg(p)
    p.add_argument("--subject", metavar="CODE")
    p.add_argument("--user", help="operator name for the audit log")
    p.add_argument("--threshold", type=float, help="confidence below which a field is shown")
    p.set_defaults(func=cmd_review)

    p = subparsers.add_parser("import-roster", help="import students (roll number, name, subject) from a CSV")
    p.add_argument("file", type=Path, metavar="FILE.csv")
    _db_arg(p)
    p.set_defaults(func=cmd_import_roster)

    p = subparsers.add_parser("db", help="database maintenance")
    sub = p.add_subparsers(dest="db_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), EXIT_USAGE)[1])
    up = sub.add_parser("upgrade", help="create the database or migrate it to the current schema")
    _db_arg(up)
    up.set_defaults(func=cmd_db_upgrade)
    info = sub.add_parser("info", help="where the database is, its schema revision and sheet counts")
    _db_arg(info)
    info.set_defaults(func=cmd_db_info)


def _open(args: argparse.Namespace):
    from marksocr.settings import resolve_db_url
    from marksocr.storage import Database

    return Database.open(resolve_db_url(getattr(args, "db", None)))


# --------------------------------------------------------------------------- scan

class ProgressLine:
    """A one-line progress bar on stderr (a line per sheet when stderr is not a terminal)."""

    def __init__(self, stream: TextIO = sys.stderr, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()

    def __call__(self, ev) -> None:
        if self.quiet and ev.status != "failed":
            return
        total = max(ev.files_total, 1)
        width = 24
        filled = int(width * ev.files_done / total)
        bar = "#" * filled + "-" * (width - filled)
        text = f"[{bar}] {ev.files_done}/{ev.files_total} {ev.label}: {ev.status}"
        if ev.message and ev.status == "failed":
            text += f" ({ev.message})"
        if self.tty:
            self.stream.write("\r\x1b[K" + text[:200])
            if ev.status == "failed":
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()


def cmd_scan(args: argparse.Namespace) -> int:
    from marksocr.pipeline.batch import LazyClassifier, ScanOptions, scan_paths
    from marksocr.settings import load_settings
    from marksocr.template import load_template

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides the progress
    settings = load_settings()
    template_path = args.template or settings.default_template
    if template_path is None:
        print("marksocr scan: error: give --template T.json (or set default_template in the settings)",
              file=sys.stderr)
        return EXIT_USAGE
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        print(f"marksocr scan: error: --threshold must be between 0 and 1, got {args.threshold}", file=sys.stderr)
        return EXIT_USAGE
    try:
        template = load_template(template_path)
    except TemplateError as exc:
        print(f"marksocr scan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with _open(args) as db:
        roster = [s.roll_no for s in db.list_students()]
        options = ScanOptions(
            threshold=args.threshold if args.threshold is not None else settings.threshold,
            roll_numbers=roster or None,
            keep_page_images=not args.no_page_images,
            user=args.user or settings.operator,
        )
        bar = ProgressLine(quiet=args.quiet)
        try:
            summary = scan_paths(args.paths, template, db, LazyClassifier(), options, progress=bar)
        finally:
            bar.close()
        for line in summary.lines():
            print(line, file=sys.stderr)
        print(f"database: {db.description}", file=sys.stderr)
    return EXIT_OK if summary.ok else EXIT_SOME_FAILED


# --------------------------------------------------------------------------- export

def cmd_export(args: argparse.Namespace) -> int:
    if args.csv is None and args.xlsx is None:
        print("marksocr export: error: give --csv OUT.csv (and/or --xlsx OUT.xlsx)", file=sys.stderr)
        return EXIT_USAGE
    with _open(args) as db:
        report = None
        kw = dict(subject=args.subject, verified_only=args.verified_only, include_failed=not args.exclude_failed)
        if args.csv is not None:
            report = db.export_csv(args.csv, **kw)
            print(f"wrote {args.csv}", file=sys.stderr)
        if args.xlsx is not None:
            report = db.export_xlsx(args.xlsx, **kw)
            print(f"wrote {args.xlsx}", file=sys.stderr)
    assert report is not None
    for line in report.lines():
        print(line, file=sys.stderr)
    return EXIT_SOME_FAILED if args.strict and not report.is_complete else EXIT_OK


# --------------------------------------------------------------------------- sheets

def cmd_sheets(args: argparse.Namespace) -> int:
    with _open(args) as db:
        sheets = db.list_sheets(status=args.status, subject=args.subject)
    if args.json:
        out = [{
            "id": s.id, "sheet": s.label, "source": s.source, "page": s.page, "status": s.status.value,
            "roll_no": s.roll_no, "subject_code": s.subject_code, "min_confidence": round(s.min_confidence, 4),
            "reasons": list(s.reasons), "template": s.template_name,
        } for s in sheets]
        print(json.dumps(out, indent=2))
        return EXIT_OK
    if not sheets:
        print("no sheets", file=sys.stderr)
        return EXIT_OK
    print(f"{'id':>5}  {'status':<12}  {'sheet':<28}  {'roll_no':<10}  {'subject':<8}  {'conf':>5}  reasons")
    for s in sheets:
        print(f"{s.id:>5}  {s.status.value:<12}  {s.label[:28]:<28}  {s.roll_no[:10]:<10}  "
              f"{s.subject_code[:8]:<8}  {s.min_confidence:>5.2f}  {'; '.join(s.reasons)}")
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    with _open(args) as db:
        entries = db.history(sheet_id=args.sheet, limit=args.limit)
    if args.json:
        print(json.dumps([{
            "at": e.at.isoformat(), "user": e.user, "action": e.action, "sheet_id": e.sheet_id,
            "field": e.field_name, "old": e.old_value, "new": e.new_value, "undone": e.undone,
        } for e in entries], indent=2))
        return EXIT_OK
    if not entries:
        print("no changes logged" + (f" for sheet {args.sheet}" if args.sheet is not None else ""), file=sys.stderr)
        return EXIT_OK
    for e in entries:
        where = " ".join(x for x in (f"sheet {e.sheet_id}" if e.sheet_id is not None else "", e.field_name or "") if x)
        change = f"{e.old_value or ''} -> {e.new_value or ''}".strip() if (e.old_value or e.new_value) else ""
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.user:<12}  {e.action:<9}  {where:<22}  {change}"
              + ("  (undone)" if e.undone else ""))
    return EXIT_OK


# --------------------------------------------------------------------------- review, roster, db

def cmd_review(args: argparse.Namespace) -> int:
    from marksocr.cli.review_loop import ReviewLoop
    from marksocr.settings import load_settings

    settings = load_settings()
    threshold = args.threshold if args.threshold is not None else settings.threshold
    with _open(args) as db:
        loop = ReviewLoop(db, user=args.user or settings.operator, threshold=threshold)
        return loop.run(subject=args.subject)


def cmd_import_roster(args: argparse.Namespace) -> int:
    with _open(args) as db:
        result = db.import_roster(args.file)
        total = len(db.list_students())
    print(f"{result.path}: {result.added} student(s) added, {result.updated} updated, "
          f"{result.enrolments} enrolment(s); {total} in the roster", file=sys.stderr)
    for row in result.skipped_rows:
        print(f"skipped {row}", file=sys.stderr)
    return EXIT_SOME_FAILED if result.skipped_rows else EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    with _open(args) as db:  # opening migrates
        print(f"{db.description}: schema revision {db.schema_revision}", file=sys.stderr)
    return EXIT_OK


def cmd_db_info(args: argparse.Namespace) -> int:
    with _open(args) as db:
        counts = db.count_sheets()
        print(f"{db.description}")
        print(f"schema revision: {db.schema_revision}")
        print("sheets: " + ", ".join(f"{n} {s.value}" for s, n in counts.items()))
        print(f"students: {len(db.list_students())}, templates: {len(db.list_templates())}")
    return EXIT_OK
