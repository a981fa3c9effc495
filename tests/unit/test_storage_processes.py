"""Reliability with real processes on a real SQLite file: SIGKILL mid-batch then rerun,
two writers at once. (The scan command itself is killed in tests/e2e/test_cli_db_scan.py.)"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from marksocr.storage import Database

HERE = Path(__file__).resolve().parent

WRITER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {here!r})
    from marksocr.storage import Database
    from test_storage_support import make_reading, make_template

    url, prefix, count, overlap, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    db = Database.open(url)
    t = db.register_template(make_template())
    big = {{f"Q{{i}}": os.urandom(30000) for i in (1, 2, 3)}}   # slow, fat transactions
    shas = [f"{{prefix}}-{{i:04d}}" for i in range(count)] + [f"shared-{{i:04d}}" for i in range(overlap)]
    for sha in shas:
        if db.has_sheet(sha, t.id):     # what scan does: skip pages already stored
            continue
        r = db.save_reading(make_reading(sha, roll=sha[-4:]), t.id, field_pngs=big, page_png=os.urandom(50000))
        print("saved", sha, r.created, flush=True)
        time.sleep(delay)
    print("done", flush=True)
""")


def _writer(tmp_path: Path) -> Path:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(here=str(HERE)))
    return script


def _check_consistent(path: Path, expected: int) -> None:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM sheets").fetchone()[0] == expected
        dup = con.execute("SELECT sha256, count(*) FROM sheets GROUP BY sha256, template_id HAVING count(*) > 1")
        assert dup.fetchall() == []
        partial = con.execute("SELECT s.id, count(f.id) FROM sheets s LEFT JOIN field_readings f ON f.sheet_id = s.id "
                              "GROUP BY s.id HAVING count(f.id) != 6").fetchall()
        assert partial == []  # every sheet has all its fields: one transaction per sheet
        scans = con.execute("SELECT count(*) FROM audit_log WHERE action = 'scan'").fetchone()[0]
        assert scans == expected
    finally:
        con.close()


def test_sigkill_mid_batch_then_rerun_completes_without_duplicates(tmp_path):
    path = tmp_path / "marks.db"
    script = _writer(tmp_path)
    args = [sys.executable, str(script), str(path), "kill", "40", "0", "0.05"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    seen = 0
    while seen < 8:
        line = proc.stdout.readline()
        assert line.startswith("saved"), line
        seen += 1
    os.kill(proc.pid, signal.SIGKILL)  # mid-batch, most likely mid-transaction
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as con:
        stored = con.execute("SELECT count(*) FROM sheets").fetchone()[0]
    assert 8 <= stored < 40
    _check_consistent(path, stored)
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.count("saved") == 40 - stored
    _check_consistent(path, 40)


def test_two_processes_writing_one_sqlite_file_at_once(tmp_path):
    path = tmp_path / "marks.db"
    script = _writer(tmp_path)
    procs = [subprocess.Popen([sys.executable, str(script), str(path), name, "25", "15", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.rstrip().endswith("done")
    _check_consistent(path, 25 + 25 + 15)
    created_shared = sum(line.endswith("True") for out, _ in outs for line in out.splitlines()
                         if line.startswith("saved shared"))
    assert created_shared == 15  # each shared page created exactly once across both
    with Database.open(path) as db:
        assert {s.roll_no for s in db.list_sheets()} >= {f"{i:04d}" for i in range(15)}
