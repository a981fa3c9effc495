"""Shared helpers for the storage tests: database fixtures (SQLite and PostgreSQL) and
small real domain objects (templates and readings built directly from the data types)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from marksocr.domain import DigitReading, FieldReading, FieldSpec, SheetReading, SheetStatus, Template

REPO = Path(__file__).resolve().parents[2]


def pg_base_url() -> Optional[str]:
    url = os.environ.get("MARKSOCR_TEST_PG_URL")
    if not url:
        f = REPO / ".ci" / "pg_url"
        url = f.read_text().strip() if f.is_file() else None
    return url or None


def _pg_reachable(url: str) -> Optional[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                             dbname=u.database, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = pg_base_url()
    if url is None:
        pytest.skip("no PostgreSQL server: set MARKSOCR_TEST_PG_URL or run .ci/postgres.sh (writes .ci/pg_url)")
    problem = _pg_reachable(url)
    if problem:
        pytest.skip(f"PostgreSQL at {url} not reachable ({problem}); run .ci/postgres.sh")
    return url


def fresh_pg_database(base_url: str) -> tuple[str, callable]:
    """Create an empty database on the server; returns its URL and a drop function."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(base_url)
    name = "t_" + uuid.uuid4().hex[:12]
    kw = dict(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database, autocommit=True)
    with psycopg.connect(**kw) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(**kw) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return u.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "marks.sqlite3")
        return
    base = request.getfixturevalue("pg_server")
    url, drop = fresh_pg_database(base)
    yield url
    drop()


@pytest.fixture
def db(db_url):
    from marksocr.storage import Database

    database = Database.open(db_url)
    yield database
    database.close()


def make_template(name: str = "Cover", marks: tuple[str, ...] = ("Q1", "Q2", "Q3"), max_mark: float = 10) -> Template:
    fields = [
        FieldSpec("roll_no", "roll_no", (0.3, 0.1, 0.4, 0.05), cells=8),
        FieldSpec("subject_code", "subject_code", (0.3, 0.2, 0.25, 0.05), cells=5),
        *[FieldSpec(m, "mark", (0.5, 0.3 + 0.05 * i, 0.2, 0.04), max=max_mark) for i, m in enumerate(marks)],
        FieldSpec("total", "total", (0.5, 0.85, 0.2, 0.04)),
    ]
    return Template(name=name, fields=tuple(fields))


def field(name: str, kind: str, text: str, conf: float = 0.99, suggestion: Optional[str] = None,
          reasons: tuple[str, ...] = (), crop: bool = False) -> FieldReading:
    digits = tuple(
        DigitReading(ch, conf, (10 * i, 0, 10, 20), ((ch, conf), ("1" if ch != "1" else "7", 1 - conf)))
        for i, ch in enumerate(text)
    )
    img = np.full((20, 60), 255, np.uint8) if crop else None
    return FieldReading(name, kind, text, conf if text else 1.0, digits, box=(1, 2, 60, 20), crop=img,
                        suggestion=suggestion, reasons=reasons)


def make_reading(sha: str, roll: str = "20230001", subject: str = "10101", marks: tuple[str, ...] = ("7", "8", "9"),
                 total: Optional[str] = None, status: SheetStatus = SheetStatus.AUTO, source: Optional[str] = None,
                 page: Optional[int] = None, template: Optional[Template] = None, low: Optional[str] = None,
                 reasons: tuple[str, ...] = ()) -> SheetReading:
    template = template or make_template()
    names = [f.name for f in template.mark_fields]
    if total is None:
        total = f"{sum(float(m) for m in marks if m):g}"
    fields = [field("roll_no", "roll_no", roll), field("subject_code", "subject_code", subject)]
    for n, m in zip(names, marks):
        fields.append(field(n, "mark", m, 0.5 if n == low else 0.99, reasons=("low confidence",) if n == low else ()))
    fields.append(field("total", "total", total))
    return SheetReading(source=source or f"/photos/{sha}.jpg", page=page, sha256=sha, template_name=template.name,
                        status=status, reasons=reasons, registration_quality=0.95, fields=tuple(fields),
                        model_version="test-1")


def failed_reading(sha: str, reason: str = "page not found: no markers", source: Optional[str] = None) -> SheetReading:
    return SheetReading(source=source or f"/photos/{sha}.jpg", page=None, sha256=sha, template_name="Cover",
                        status=SheetStatus.FAILED, reasons=(reason,))
