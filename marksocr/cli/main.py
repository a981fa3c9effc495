"""The ``marksocr`` command line: one sub-command module per group of commands.

Each module in ``marksocr.cli`` named in ``_COMMAND_MODULES`` exposes
``register(subparsers)`` which adds its sub-commands; each sub-command sets
``func`` (taking the parsed ``argparse.Namespace``, returning an exit code).
Modules must import cheaply: TensorFlow, Qt and OpenCV are imported inside ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from marksocr import __version__
from marksocr.domain import MarksocrError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2

_COMMAND_MODULES = (
    "marksocr.cli.model_commands",     # train, evaluate
    "marksocr.cli.read_commands",      # read
    "marksocr.cli.template_commands",  # template new / check
    "marksocr.cli.db_commands",        # scan, export, sheets, review, import-roster, db
    "marksocr.cli.gui_commands",       # gui
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marksocr",
        description="Read handwritten marks from photos of answer sheets into a database.",
    )
    parser.add_argument("--version", action="version", version=f"marksocr {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # command group not built yet
        module.register(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except MarksocrError as exc:
        print(f"marksocr: error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    except KeyboardInterrupt:
        print("marksocr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
