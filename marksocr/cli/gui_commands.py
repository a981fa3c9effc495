"""``marksocr gui``: start the desktop application."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gui`` sub-command."""
    p = subparsers.add_parser("gui", help="start the desktop application",
                              description="Open the marksocr window: scan a class, review the doubtful marks, export.")
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL or SQLite file (else $MARKSOCR_DB, else the settings file)")
    p.set_defaults(func=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    """Import Qt only now, so other commands stay quick and Qt-free."""
    from marksocr.gui.app import main

    return main(argv=["--verbose"] if getattr(args, "verbose", 0) >= 2 else [], db_url=args.db)
