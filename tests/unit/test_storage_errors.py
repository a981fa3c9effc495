"""Broken databases give one clear StorageError naming the file: corrupt, locked,
read-only, full, missing folder, unreachable server. Real files, real processes."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import textwrap
import time

import pytest

from marksocr.domain import StorageError
from marksocr.storage import Database
from test_storage_support import make_reading, make_template, pg_server  # noqa: F401


def _populated(path, n=3) -> None:
    with Database.open(path) as db:
        t = db.register_template(make_template())
        for i in range(n):
            db.save_reading(make_reading(f"{i:064x}"), t.id)


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "marks.db"
    path.write_bytes(b"this is a spreadsheet, not a database" * 100)
    with pytest.raises(StorageError, match=f"{path}.*corrupt"):
        Database.open(path)


def test_a_database_with_damaged_pages(tmp_path):
    path = tmp_path / "marks.db"
    _populated(path, n=20)
    data = bytearray(path.read_bytes())
    assert len(data) > 8192
    data[4096:] = b"\xa5" * (len(data) - 4096)  # everything after the first page is garbage
    path.write_bytes(bytes(data))
    for name in ("marks.db-wal", "marks.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with pytest.raises(StorageError, match=f"{path}.*(corrupt|malformed)"):
        with Database.open(path) as db:
            db.list_sheets()


def test_a_database_locked_by_another_process(tmp_path):
    path = tmp_path / "marks.db"
    _populated(path, n=1)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        c = sqlite3.connect({str(path)!r}, isolation_level=None)
        c.execute("BEGIN EXCLUSIVE")
        c.execute("INSERT INTO subjects (code) VALUES ('held')")
        print("locked", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with Database.open(path, busy_timeout=0.3) as db:
            assert len(db.list_sheets()) == 1  # readers are not blocked (WAL)
            t0 = time.monotonic()
            with pytest.raises(StorageError, match=f"{path} is locked by another program"):
                db.save_reading(make_reading("ff" * 32), db.list_templates()[0].id)
            assert time.monotonic() - t0 < 10
    finally:
        holder.kill()
        holder.wait()
    with Database.open(path) as db:  # once the other program is gone, writing works
        assert db.save_reading(make_reading("ff" * 32), db.list_templates()[0].id).created


def _as_unprivileged(fn):
    """Run ``fn()`` in a forked child as ``nobody`` (root ignores file permissions)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        try:
            nobody = pwd.getpwnam("nobody")
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            result = ["ok", fn()]
        except BaseException as exc:  # noqa: BLE001 - report everything to the parent
            result = [type(exc).__name__, str(exc)]
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as fh:
        return json.loads(fh.read())


@pytest.fixture
def open_folder():
    """A folder other users can reach (pytest's own temp root is private to root)."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="marksocr-ro-")
    os.chmod(folder, 0o755)
    yield __import__("pathlib").Path(folder)
    os.chmod(folder, 0o755)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("folder_writable", [False, True])
def test_a_read_only_database_file(open_folder, folder_writable):
    folder = open_folder
    path = folder / "marks.db"
    _populated(path, n=2)
    with Database.open(path) as db:  # warm up every lazy import before dropping privileges
        db.list_sheets()
    os.chmod(path, 0o444)
    os.chmod(folder, 0o777 if folder_writable else 0o555)
    try:
        def attempt():
            with Database.open(path) as db:
                db.save_reading(make_reading("ee" * 32), db.list_templates()[0].id)
            return "saved"

        if os.geteuid() == 0:
            kind, message = _as_unprivileged(attempt)
        else:
            try:
                kind, message = "ok", attempt()
            except Exception as exc:  # noqa: BLE001
                kind, message = type(exc).__name__, str(exc)
    finally:
        os.chmod(folder, 0o755)
        os.chmod(path, 0o644)
    assert kind == "StorageError", message
    assert str(path) in message and ("read-only" in message or "not writable" in message)
    with Database.open(path) as db:
        assert len(db.list_sheets()) == 2  # nothing was damaged


def test_a_full_disk(tmp_path):
    from sqlalchemy import event

    path = tmp_path / "marks.db"
    _populated(path, n=1)
    db = Database.open(path)
    db._write_engine.dispose()
    # A real SQLITE_FULL: cap the file at its current size (what a full disk does to SQLite).
    event.listen(db._write_engine, "connect",
                 lambda c, _r: c.execute(f"PRAGMA max_page_count = {path.stat().st_size // 4096 + 1}"))
    t = db.list_templates()[0].id
    big = {f"Q{i}": os.urandom(20000) for i in range(1, 4)}
    with pytest.raises(StorageError, match=f"{path}: the disk is full"):
        for i in range(50):
            db.save_reading(make_reading(f"{i + 100:064x}"), t, field_pngs=big)
    db.close()
    with Database.open(path) as again:  # the failed transaction left no half-written sheet
        for s in again.list_sheets():
            assert len(again.get_sheet(s.id).fields) == 6


def test_a_missing_folder_and_a_folder_instead_of_a_file(tmp_path):
    with pytest.raises(StorageError, match="does not exist"):
        Database.open(tmp_path / "nowhere" / "marks.db")
    with pytest.raises(StorageError, match="is a folder"):
        Database.open(tmp_path)


def test_an_unreachable_postgresql_server():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t0 = time.monotonic()
    with pytest.raises(StorageError, match=f"cannot connect to postgresql database marks on 127.0.0.1:{port}"):
        Database.open(f"postgresql+psycopg://u:secret@127.0.0.1:{port}/marks")
    assert time.monotonic() - t0 < 15


def test_plain_postgresql_urls_use_the_shipped_psycopg_driver(pg_server):
    from sqlalchemy.engine import make_url

    url = make_url(pg_server).set(drivername="postgresql").render_as_string(hide_password=False)
    with Database.open(url) as db:
        assert db._write_engine.dialect.driver == "psycopg"
    with Database.open(url.replace("postgresql://", "postgres://", 1)) as db:
        assert db.schema_revision == "0001"


def test_password_never_appears_in_errors():
    with pytest.raises(StorageError) as err:
        Database.open("postgresql+psycopg://u:hunter2@127.0.0.1:1/marks")
    assert "hunter2" not in str(err.value)


def test_a_database_from_a_newer_marksocr_is_refused_clearly(tmp_path):
    import sqlite3

    path = tmp_path / "marks.db"
    _populated(path, n=1)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StorageError, match=f"{path} was written by a newer marksocr"):
        Database.open(path)
