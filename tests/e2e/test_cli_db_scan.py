"""``marksocr scan`` end to end on synthetic sheets with the shipped model: SIGKILL mid-batch,
rerun, export; the same into PostgreSQL. Needs MNIST (for the synthetic handwriting) and
models/digits.keras; skips with the reason otherwise."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_storage_support import fresh_pg_database, pg_server  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "resources" / "templates" / "marksocr_a4" / "template.json"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sheet_set(tmp_path_factory, mnist_dir):
    from PIL import Image

    from marksocr.paths import default_model_path
    from marksocr.sheets.synth import make_sheet_set

    if not default_model_path().is_file():
        pytest.skip(f"no shipped model at {default_model_path()}")
    if not TEMPLATE.is_file():
        pytest.skip(f"no sample template at {TEMPLATE}")
    folder = tmp_path_factory.mktemp("sheets")
    made = make_sheet_set(TEMPLATE, folder, 6, style="scan", seed=11, mnist_dir=mnist_dir, anomaly_rate=0.0)
    truth = {}
    for path, record in made[:4]:
        truth[path.name] = record["values"]
    # the last two sheets become the pages of one PDF
    pages = [Image.open(p).convert("L") for p, _ in made[4:]]
    pages[0].save(folder / "batch.pdf", save_all=True, append_images=pages[1:], resolution=200)
    for i, (path, record) in enumerate(made[4:], start=1):
        truth[f"batch.pdf#{i}"] = record["values"]
        path.unlink()
    for extra in ("truth.csv", "truth.json"):
        (folder / extra).unlink(missing_ok=True)
    return folder, truth


def scan_cmd(folder: Path, db: str) -> list[str]:
    return [sys.executable, "-m", "marksocr", "scan", "--template", str(TEMPLATE), "--db", db, str(folder)]


def export(db: str, out: Path) -> list[dict[str, str]]:
    proc = subprocess.run([sys.executable, "-m", "marksocr", "export", "--db", db, "--csv", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def check_against_truth(table: list[dict[str, str]], truth: dict[str, dict[str, str]]) -> None:
    assert sorted(r["sheet"] for r in table) == sorted(truth)  # one row per page, no duplicates
    header = list(table[0])
    assert header[:3] == ["sheet", "roll_no", "subject_code"] and header[-2:] == ["total", "status"]
    for row in table:
        assert row["status"] in ("auto", "needs_review")
        if row["status"] == "auto":  # what the reader calls sure must be right
            expected = truth[row["sheet"]]
            assert {k: row[k] for k in expected} == expected, row["sheet"]


def test_scan_killed_mid_batch_then_rerun_gives_a_complete_consistent_database(sheet_set, tmp_path):
    folder, truth = sheet_set
    db_file = tmp_path / "marks.db"
    proc = subprocess.Popen(scan_cmd(folder, str(db_file)), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.rstrip().endswith((": auto", ": needs_review")):
            break  # at least one sheet is committed; the next is being read
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db_file) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = con.execute("SELECT count(*) FROM sheets").fetchone()[0]
    assert 1 <= stored < len(truth)

    rerun = subprocess.run(scan_cmd(folder, str(db_file)), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{stored} already scanned" in rerun.stderr
    table = export(str(db_file), tmp_path / "marks.csv")
    check_against_truth(table, truth)

    again = subprocess.run(scan_cmd(folder, str(db_file)), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"{len(truth)} already scanned" in again.stderr
    with sqlite3.connect(db_file) as con:
        assert con.execute("SELECT count(*) FROM sheets").fetchone()[0] == len(truth)
        assert con.execute("SELECT count(*) FROM field_readings WHERE crop_png IS NULL").fetchone()[0] == 0


@pytest.mark.postgres
def test_scan_into_postgresql(sheet_set, tmp_path, pg_server):
    folder, truth = sheet_set
    url, drop = fresh_pg_database(pg_server)
    try:
        first = subprocess.run(scan_cmd(folder, url), capture_output=True, text=True, timeout=600)
        assert first.returncode == 0, first.stderr
        check_against_truth(export(url, tmp_path / "pg.csv"), truth)
        again = subprocess.run(scan_cmd(folder, url), capture_output=True, text=True, timeout=600)
        assert again.returncode == 0 and f"{len(truth)} already scanned" in again.stderr
        assert len(export(url, tmp_path / "pg2.csv")) == len(truth)
    finally:
        drop()


SCANNER = '''
import sys
import numpy as np
from marksocr.pipeline.batch import ScanOptions, scan_paths
from marksocr.storage import Database
from marksocr.template import load_template


class InkClassifier:
    """A stand-in for the CNN (no TensorFlow): a real object the real reader calls."""

    version = "ink-stand-in"
    card = {}

    def predict_proba(self, crops):
        out = np.full((len(crops), 10), 0.02)
        for i, c in enumerate(crops):
            out[i, int(np.mean(np.asarray(c) < 128) * 100) % 10] = 0.82
        return out


template, db_url, folder = sys.argv[1:4]
db = Database.open(db_url)
s = scan_paths([folder], load_template(template), db, InkClassifier(), ScanOptions(user=sys.argv[4]))
print("counts", s.counts, "skipped", s.skipped, "saved", s.saved, "failures", len(s.failures), flush=True)
sys.exit(0 if s.ok else 1)
'''


def test_two_processes_scanning_the_same_folder_into_one_sqlite_file(sheet_set, tmp_path):
    folder, truth = sheet_set
    script = tmp_path / "scanner.py"
    script.write_text(SCANNER)
    db_file = tmp_path / "shared.db"
    procs = [subprocess.Popen([sys.executable, str(script), str(TEMPLATE), str(db_file), str(folder), who],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("ann", "bob")]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, out + err
    saved = sum(int(out.split("saved ")[1].split()[0]) for out, _ in results)
    assert saved == len(truth)  # every page stored once, by one of the two
    with sqlite3.connect(db_file) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        labels = [r[0] for r in con.execute("SELECT label FROM sheets")]
        assert sorted(labels) == sorted(truth)
        assert con.execute("SELECT count(DISTINCT model_version) FROM sheets").fetchone()[0] == 1
