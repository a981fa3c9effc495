"""GUI timings: window start-up in a fresh process, and "open image" -> "ready to review".

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_startup.py [--runs 3]

1. Start-up: a fresh interpreter imports the app, builds the main window and shows it;
   measured from just before the process is spawned to the first painted frame (and,
   for information, until the digit model has loaded in the background).
2. Open -> review: with the model and database ready, one synthetic sheet photo is
   opened (``marksocr.sheets.synth``, needs MNIST) and timed until the review panel
   shows its first field.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_STARTUP_CHILD = r"""
import json, sys, time
t_import = time.time()
from PySide6.QtCore import QEventLoop
from marksocr.gui.app import create_application
app = create_application()
from marksocr.gui.main_window import MainWindow
w = MainWindow(db_url=sys.argv[1])
w.show()
app.processEvents()
w.grab()  # the first frame is painted
t_shown = time.time()
w.start_background_loading()
while w.state.classifier is None and w.state.classifier_error is None:
    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    time.sleep(0.01)
t_model = time.time()
print(json.dumps({"import_start": t_import, "shown": t_shown, "model": t_model,
                  "model_error": w.state.classifier_error}))
w.close()
"""


def startup_once(db: Path) -> dict[str, float]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", _STARTUP_CHILD, f"sqlite:///{db}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {"window_from_launch": r["shown"] - t0, "window_from_interpreter": r["shown"] - r["import_start"],
            "reading_available_from_launch": r["model"] - t0}


def open_to_review(runs: int, tmp: Path) -> list[float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QEventLoop

    from marksocr.gui.app import create_application
    from marksocr.gui.main_window import MainWindow
    from marksocr.paths import resources_dir
    from marksocr.sheets.synth import make_sheet_set

    template = resources_dir() / "templates" / "marksocr_a4" / "template.json"
    images = [p for p, _ in make_sheet_set(template, tmp / "sheets", runs, style="scan", seed=3)]
    app = create_application()

    def wait(cond, timeout=300.0):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("timed out")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)

    window = MainWindow(db_url=f"sqlite:///{tmp / 'review.sqlite3'}")
    window.show()
    window.start_background_loading()
    wait(lambda: window.state.classifier is not None and window.state.database is not None)
    times = []
    for image in images:
        window.scanner.last_summary = None
        t0 = time.perf_counter()
        window.menus.scan([str(image)], template)
        # Ready to review: the sheet is on screen in the review panel (its fields, or why it failed).
        wait(lambda: window.review.sheet is not None and window.review.sheet.label == image.name)
        times.append(time.perf_counter() - t0)
        wait(lambda: window.scanner.last_summary is not None)
    window.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marksocr-gui-bench-") as d:
        tmp = Path(d)
        starts = [startup_once(tmp / f"start{i}.sqlite3") for i in range(args.runs)]
        for key in ("window_from_launch", "window_from_interpreter", "reading_available_from_launch"):
            values = [s[key] for s in starts]
            print(f"{key:32s} median {statistics.median(values):6.2f} s  (runs: "
                  + ", ".join(f"{v:.2f}" for v in values) + ")")
        reviews = open_to_review(args.runs, tmp)
        print(f"{'open_image_to_ready_to_review':32s} median {statistics.median(reviews):6.2f} s  (runs: "
              + ", ".join(f"{v:.2f}" for v in reviews) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
