"""Engines, SQLite pragmas, migrations on open, and clear errors for broken databases.

SQLite: foreign keys ON, WAL journal, a busy timeout, and write transactions that start
with ``BEGIN IMMEDIATE`` so two processes writing at once queue on the lock instead of
failing with "database is locked" when a read transaction upgrades to a write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Optional

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from marksocr.domain import StorageError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_BUSY_TIMEOUT = 30.0
_PG_MIGRATION_LOCK = 0x6D61726B  # "mark": advisory lock id serialising migrations


def describe_url(url: str) -> str:
    """A safe human name for a database: the file for SQLite, host/db for servers (no password)."""
    try:
        u = make_url(url)
    except ArgumentError:
        return url
    if u.get_backend_name() == "sqlite":
        return f"database file {u.database}" if u.database else "in-memory database"
    return f"{u.get_backend_name()} database {u.database} on {u.host or 'localhost'}:{u.port or 'default port'}"


def sqlite_path(url: str) -> Optional[Path]:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def translate_error(exc: BaseException, url: str, doing: str = "") -> StorageError:
    """Turn a driver error into a :class:`StorageError` a user can act on."""
    where = describe_url(url)
    orig = getattr(exc, "orig", exc)
    msg = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = msg.lower()
    what = f" while {doing}" if doing else ""
    if "database is locked" in low or "database table is locked" in low:
        text_ = f"{where} is locked by another program{what}; close it (or wait) and try again"
    elif "readonly" in low or "read-only" in low or "read only" in low:
        text_ = f"{where} is read-only{what}: check the file's permissions (and its folder's)"
    elif "disk is full" in low or "no space left" in low or "disk full" in low:
        text_ = f"{where}: the disk is full{what}; free some space and try again"
    elif "not a database" in low or "malformed" in low or "file is encrypted" in low:
        text_ = f"{where} is corrupt or not a marksocr database ({msg})"
    elif "unable to open database" in low:
        text_ = f"cannot open {where}{what}: the folder is missing or not writable ({msg})"
    elif "connection" in low and ("refused" in low or "failed" in low or "timeout" in low):
        text_ = f"cannot connect to {where}{what}: {msg}"
    else:
        text_ = f"{where}: {msg}" + (f" ({doing})" if doing else "")
    return StorageError(text_)


def _sqlite_on_connect(busy_timeout: float, immediate: bool):
    def on_connect(dbapi_conn: sqlite3.Connection, _record) -> None:
        # We issue BEGIN ourselves (see on_begin); pysqlite's implicit transactions get in the way.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cur.execute("PRAGMA foreign_keys = ON")
        try:
            mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                cur.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            # Read-only files cannot switch to WAL; reading still works, writing will say why.
            log.debug("cannot enable WAL: %s", exc)
        cur.close()

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return on_connect, on_begin


def create_engines(url: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> tuple[Engine, Engine]:
    """``(read_engine, write_engine)``; the same engine twice for server databases."""
    if url.startswith("postgres://"):  # the short form many hosting services print
        url = "postgresql://" + url[len("postgres://"):]
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"not a database URL or file path: {url!r} ({exc})") from None
    if u.drivername == "postgresql":  # psycopg 3 is the driver we ship, not SQLAlchemy's default psycopg2
        u = u.set(drivername="postgresql+psycopg")
    try:
        if u.get_backend_name() != "sqlite":
            connect_args = {"connect_timeout": 10} if u.get_backend_name() == "postgresql" else {}
            engine = create_engine(u, pool_pre_ping=True, connect_args=connect_args)
            return engine, engine
        path = sqlite_path(url)
        if path is None:  # in-memory: one connection shared by everything, or each would see its own DB
            from sqlalchemy.pool import StaticPool

            eng = create_engine(u, poolclass=StaticPool, connect_args={"check_same_thread": False})
            on_connect, on_begin = _sqlite_on_connect(busy_timeout, immediate=False)
            event.listen(eng, "connect", on_connect)
            event.listen(eng, "begin", on_begin)
            return eng, eng
        if path is not None:
            if path.is_dir():
                raise StorageError(f"database file {path} is a folder, not a file")
            if not path.parent.is_dir():
                raise StorageError(f"cannot create database file {path}: folder {path.parent} does not exist")
        engines = []
        for immediate in (False, True):
            eng = create_engine(u, connect_args={"timeout": busy_timeout})
            on_connect, on_begin = _sqlite_on_connect(busy_timeout, immediate)
            event.listen(eng, "connect", on_connect)
            event.listen(eng, "begin", on_begin)
            engines.append(eng)
        return engines[0], engines[1]
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise StorageError(f"unsupported database URL {describe_url(url)}: {exc}") from None


def _alembic_config(connection: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> Optional[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(read_engine: Engine, write_engine: Engine, url: str) -> bool:
    """Apply pending migrations; True when something was applied.

    Checks the version first without taking a write lock (read-only files that are up to
    date open fine), then migrates inside one write transaction holding the database lock
    (SQLite ``BEGIN IMMEDIATE``, PostgreSQL advisory lock), so concurrent first opens are safe.
    """
    from alembic import command

    try:
        head = head_revision()
        if current_revision(read_engine) == head:
            return False
        with write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            command.upgrade(_alembic_config(conn), "head")
        log.info("migrated %s to revision %s", describe_url(url), head)
        return True
    except StorageError:
        raise
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        raise translate_error(exc, url, "opening it") from exc
    except Exception as exc:  # alembic raises its own errors for unknown revisions
        if "Can't locate revision" in str(exc):
            raise StorageError(
                f"{describe_url(url)} was written by a newer marksocr (unknown schema revision); "
                f"upgrade marksocr to open it"
            ) from exc
        raise


def check_not_corrupt(url: str) -> None:
    """Reject an existing SQLite file that is obviously not a database before opening it."""
    path = sqlite_path(url)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with open(path, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise StorageError(f"cannot read database file {path}: {exc.strerror}") from None
    if header != b"SQLite format 3\x00":
        raise StorageError(f"database file {path} is corrupt or not a SQLite database (bad header)")


def is_writable_sqlite(url: str) -> bool:
    path = sqlite_path(url)
    return path is None or not path.exists() or os.access(path, os.W_OK)


__all__ = [
    "create_engines",
    "describe_url",
    "translate_error",
    "upgrade",
    "check_not_corrupt",
]
