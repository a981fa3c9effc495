"""Entry point of the desktop application: ``marksocr gui`` / ``python main.py``.

Sets up logging (Qt's own messages included), an exception hook that shows a
readable dialog instead of a traceback, and the main window. The window appears
at once; the digit model (TensorFlow) and the database open in the background.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from marksocr import __version__

log = logging.getLogger(__name__)

APP_NAME = "marksocr"
ORGANISATION = "marksocr"

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def log_file_path() -> Path:
    """Where the application log goes (the user's log directory)."""
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False)) / "marksocr-gui.log"


def configure_logging(verbose: bool = False) -> Path | None:
    """Log to a rotating file in the user's log directory and to stderr."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if verbose:  # our own debug output, not that of every library
        logging.getLogger("marksocr").setLevel(logging.DEBUG)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(fmt)
    root.addHandler(console)
    path: Path | None = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(fmt)
        root.addHandler(handler)
    except OSError as exc:
        log.warning("cannot write the log file %s: %s", path, exc)
        path = None
    return path


def _qt_message_handler(mode: QtMsgType, context, message: str) -> None:  # noqa: ANN001 (QMessageLogContext)
    logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)


def route_qt_messages_to_logging():  # noqa: ANN201 (returns Qt's previous handler)
    """Send Qt's own warnings (qWarning & co.) to the ``qt`` logger; returns the previous handler."""
    return qInstallMessageHandler(_qt_message_handler)


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    log.error("unhandled error", exc_info=(exc_type, exc, tb))
    from marksocr.gui.errors import show_error

    show_error(None, exc, tb)


def install_exception_hook() -> None:
    """Unhandled exceptions on the UI thread become a readable dialog plus a log entry."""
    sys.excepthook = _excepthook


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest (Qt's own, such as ``-platform offscreen``)."""
    parser = argparse.ArgumentParser(prog="marksocr gui", description="The marksocr desktop application.")
    parser.add_argument("--db", metavar="URL", default=None, help="database URL or SQLite file (else $MARKSOCR_DB, else settings)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug output on the console")
    return parser.parse_known_args(list(argv) if argv is not None else sys.argv[1:])


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The ``QApplication`` (or the existing one), named so QSettings finds its file."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("marksocr")
    return app  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None, db_url: str | None = None) -> int:
    """Start the desktop application and run it until the window closes."""
    t0 = time.perf_counter()
    args, qt_args = parse_args(argv)
    log_path = configure_logging(args.verbose)
    route_qt_messages_to_logging()
    install_exception_hook()
    app = create_application(qt_args)
    from marksocr.gui.main_window import MainWindow

    window = MainWindow(db_url=db_url or args.db)
    window.show()
    log.info("window shown %.2f s after start (log file: %s)", time.perf_counter() - t0, log_path)
    window.start_background_loading()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
