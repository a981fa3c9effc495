"""Core of :class:`marksocr.storage.Database`: opening, transactions, templates, sheets.

The one object the CLI and the GUI use to store and edit marks.

Every public method runs in its own short transaction and returns frozen records
(``marksocr.storage.records``), never ORM objects. Driver errors come out as
:class:`~marksocr.domain.StorageError` with a message naming the database file.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Optional, TypeVar

from sqlalchemy import Engine, case, func, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from marksocr.domain import MarksocrError, SheetReading, SheetStatus, StorageError, Template
from marksocr.storage import convert, engine as eng
from marksocr.storage.models import AuditRow, FieldRow, SheetRow, TemplateRow
from marksocr.storage.records import SaveResult, SheetRecord, TemplateRecord

log = logging.getLogger(__name__)
T = TypeVar("T")
_D = TypeVar("_D", bound="DatabaseCore")

_WRITE_ATTEMPTS = 6
_STATUS_ORDER = {"needs_review": 0, "failed": 1, "auto": 2, "verified": 3}
UNDOABLE_ACTIONS = ("correct", "confirm", "verify")
_MARK_RE = re.compile(r"^(\d+(\.\d+)?)?$")
_CODE_RE = re.compile(r"^[0-9A-Za-z]*$")


class RecordNotFound(StorageError):
    """A sheet, field or template id/name that is not in the database."""


class InvalidEdit(MarksocrError):
    """A correction or status change that is not allowed (bad value, failed sheet...)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _is_locked(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "deadlock detected" in text or "could not serialize" in text


class DatabaseCore:
    """A marks database (SQLite file or any SQLAlchemy URL), migrated to the current schema.

    Open with :meth:`open`; use as a context manager or call :meth:`close`. Thread-safe
    in the sense that each call uses its own session; share one instance per process.
    """

    def __init__(self, url: str, read_engine: Engine, write_engine: Engine) -> None:
        self.url = url
        self._read_engine = read_engine
        self._write_engine = write_engine
        self._read = sessionmaker(read_engine, expire_on_commit=False)
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls: type[_D],
        url: "str | os.PathLike[str] | None" = None,
        *,
        migrate: bool = True,
        busy_timeout: float = eng.DEFAULT_BUSY_TIMEOUT,
    ) -> _D:
        """Open (creating if needed) the database and apply pending migrations.

        ``url``: SQLAlchemy URL or SQLite file path; None resolves ``$MARKSOCR_DB``, the
        settings file, then the default SQLite file in the user's data directory.
        ``busy_timeout``: seconds to wait for another process's write lock (SQLite).
        """
        from marksocr.settings import normalize_db_url, resolve_db_url

        url = normalize_db_url(url) if url else resolve_db_url(None)
        try:
            eng.check_not_corrupt(url)
            read_engine, write_engine = eng.create_engines(url, busy_timeout)
        except OSError as exc:
            raise StorageError(f"cannot open {eng.describe_url(url)}: {exc.strerror or exc}") from None
        db = cls(url, read_engine, write_engine)
        try:
            if migrate:
                eng.upgrade(read_engine, write_engine, url)
            else:
                db._read_tx(lambda s: s.execute(select(1)).all(), "opening it")
        except BaseException:
            db.close()
            raise
        log.debug("opened %s", eng.describe_url(url))
        return db

    def upgrade(self) -> bool:
        """Apply pending schema migrations; True when something was applied."""
        return eng.upgrade(self._read_engine, self._write_engine, self.url)

    @property
    def description(self) -> str:
        """Human name of the database (file path or server/db, never a password)."""
        return eng.describe_url(self.url)

    @property
    def schema_revision(self) -> Optional[str]:
        return eng.current_revision(self._read_engine)

    def close(self) -> None:
        self._read_engine.dispose()
        if self._write_engine is not self._read_engine:
            self._write_engine.dispose()

    def __enter__(self: _D) -> _D:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------
    def _read_tx(self, fn: Callable[[Session], T], doing: str) -> T:
        try:
            with self._read() as session, session.begin():
                return fn(session)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise eng.translate_error(exc, self.url, doing) from exc

    def _write_tx(self, fn: Callable[[Session], T], doing: str) -> T:
        """Run ``fn`` in one write transaction; retry on lock contention and unique races."""
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self._write() as session, session.begin():
                    return fn(session)
            except IntegrityError as exc:
                # Another process inserted the same row between our check and insert
                # (PostgreSQL); the retry sees it and does the idempotent thing.
                if attempt < 1:
                    log.debug("integrity race while %s, retrying: %s", doing, exc.orig)
                    continue
                raise eng.translate_error(exc, self.url, doing) from exc
            except OperationalError as exc:
                if _is_locked(exc) and attempt < _WRITE_ATTEMPTS - 1 and self._retry_locked():
                    time.sleep(0.05 * (2**attempt) + random.random() * 0.05)
                    continue
                raise eng.translate_error(exc, self.url, doing) from exc
            except (SQLAlchemyError, sqlite3.Error) as exc:
                raise eng.translate_error(exc, self.url, doing) from exc
        raise AssertionError("unreachable")

    def _retry_locked(self) -> bool:
        # SQLite already waited busy_timeout seconds; retrying then only doubles the wait
        # a user sees for a database another program holds. PostgreSQL deadlocks: retry.
        return self._write_engine.dialect.name != "sqlite"

    # -- templates -----------------------------------------------------------------------
    def register_template(self, template: Template) -> TemplateRecord:
        """Store ``template`` (upsert by the checksum of its JSON) and return its record."""
        canonical, checksum, ref, fields = convert.template_document(template)

        def run(s: Session) -> TemplateRecord:
            row = s.scalar(select(TemplateRow).where(TemplateRow.checksum == checksum))
            if row is None:
                row = TemplateRow(
                    name=template.name, checksum=checksum, reference_checksum=ref,
                    json=canonical, fields=fields, created_at=_now(),
                )
                s.add(row)
                s.flush()
            return convert.template_record(row)

        return self._write_tx(run, "registering a template")

    def get_template(self, template_id: int) -> TemplateRecord:
        """The registered template with this id (:class:`RecordNotFound` if none)."""
        def run(s: Session) -> TemplateRecord:
            row = s.get(TemplateRow, template_id)
            if row is None:
                raise RecordNotFound(f"no template {template_id} in {self.description}")
            return convert.template_record(row)

        return self._read_tx(run, "reading a template")

    def template_json(self, template_id: int) -> str:
        """The template's JSON document as registered."""
        def run(s: Session) -> str:
            row = s.get(TemplateRow, template_id)
            if row is None:
                raise RecordNotFound(f"no template {template_id} in {self.description}")
            return row.json

        return self._read_tx(run, "reading a template")

    def list_templates(self) -> list[TemplateRecord]:
        """All registered templates, oldest first."""
        return self._read_tx(
            lambda s: [convert.template_record(r) for r in s.scalars(select(TemplateRow).order_by(TemplateRow.id))],
            "listing templates",
        )

    # -- sheets --------------------------------------------------------------------------
    def has_sheet(self, sha256: str, template_id: int) -> bool:
        """True when this page (same sha256) is stored for this template, whatever its status."""
        return self.sheet_status(sha256, template_id) is not None

    def sheet_status(self, sha256: str, template_id: int) -> Optional[SheetStatus]:
        """The status of this page for this template, None when it was never stored."""
        def run(s: Session) -> Optional[SheetStatus]:
            status = s.scalar(
                select(SheetRow.status).where(SheetRow.sha256 == sha256, SheetRow.template_id == template_id)
            )
            return SheetStatus(status) if status is not None else None

        return self._read_tx(run, "looking up a sheet")

    def field_values(self, template_id: int, names: Iterable[str]) -> dict[str, list[str]]:
        """The current values (the operator's correction, else the reading) of the named fields on
        this template's stored sheets that are not ``failed``, oldest sheet first; empty ones left out."""
        wanted = list(names)

        def run(s: Session) -> dict[str, list[str]]:
            rows = s.execute(
                select(FieldRow.name, FieldRow.text, FieldRow.corrected_value)
                .join(SheetRow, FieldRow.sheet_id == SheetRow.id)
                .where(SheetRow.template_id == template_id, SheetRow.status != SheetStatus.FAILED.value,
                       FieldRow.name.in_(wanted))
                .order_by(SheetRow.id)
            )
            out: dict[str, list[str]] = {n: [] for n in wanted}
            for name, text, corrected in rows:
                value = corrected if corrected is not None else text
                if value:
                    out[name].append(value)
            return out

        return self._read_tx(run, "reading stored field values") if wanted else {}

    def save_reading(
        self,
        reading: SheetReading,
        template_id: int,
        *,
        field_pngs: Optional[Mapping[str, bytes]] = None,
        page_png: Optional[bytes] = None,
        user: Optional[str] = None,
    ) -> SaveResult:
        """Store one sheet and its fields in ONE transaction; idempotent.

        If the page (sha256 + template) is already stored and not ``failed``, nothing is
        written and ``created`` is False: a rerun never duplicates or overwrites a sheet
        (nor an operator's corrections). A stored ``failed`` sheet is replaced by the new
        reading (that is how a rerun retries failed pages). ``field_pngs`` maps field
        names to PNG bytes of their crops (see ``marksocr.pipeline.batch.encode_png``).
        """
        user = user or _operator()
        pngs = dict(field_pngs or {})

        def run(s: Session) -> SaveResult:
            now = _now()
            row = s.scalar(
                select(SheetRow)
                .where(SheetRow.sha256 == reading.sha256, SheetRow.template_id == template_id)
                .options(selectinload(SheetRow.fields))
            )
            if row is not None and row.status != SheetStatus.FAILED.value:
                return SaveResult(row.id, created=False)
            if s.get(TemplateRow, template_id) is None:
                raise RecordNotFound(f"no template {template_id} in {self.description}")
            replaced = row is not None
            old_status = row.status if row is not None else None
            if row is None:
                row = SheetRow(template_id=template_id, created_at=now)
                s.add(row)
            else:
                row.fields.clear()
                s.flush()  # delete old fields before inserting same-named new ones
            convert.fill_sheet_row(row, reading, pngs, page_png, now)
            s.flush()
            s.add(AuditRow(
                at=now, user=user, action="replace" if replaced else "scan", sheet_id=row.id,
                old_value=old_status, new_value=row.status, undone=False,
            ))
            return SaveResult(row.id, created=True, replaced_failed=replaced)

        return self._write_tx(run, f"saving sheet {reading.sheet_label}")

    def list_sheets(
        self,
        status: "SheetStatus | str | Iterable[SheetStatus | str] | None" = None,
        subject: Optional[str] = None,
        template_id: Optional[int] = None,
        limit: Optional[int] = None,
    ) -> list[SheetRecord]:
        """Sheets (without fields), most doubtful first.

        Order: ``needs_review``, ``failed``, ``auto``, ``verified``; within a status, lowest
        digit confidence first; then oldest first. ``status`` filters by one or several
        statuses, ``subject`` by the current subject code.
        """
        statuses: Optional[list[str]] = None
        if status is not None:
            items = [status] if isinstance(status, (str, SheetStatus)) else list(status)
            statuses = [SheetStatus(x).value for x in items]

        def run(s: Session) -> list[SheetRecord]:
            rank = case(_STATUS_ORDER, value=SheetRow.status, else_=9)
            q = select(SheetRow, TemplateRow.name).join(TemplateRow, SheetRow.template_id == TemplateRow.id)
            if statuses is not None:
                q = q.where(SheetRow.status.in_(statuses))
            if subject is not None:
                q = q.where(SheetRow.subject_code == subject)
            if template_id is not None:
                q = q.where(SheetRow.template_id == template_id)
            q = q.order_by(rank, SheetRow.min_confidence, SheetRow.id)
            if limit is not None:
                q = q.limit(limit)
            return [convert.sheet_record(row, name) for row, name in s.execute(q)]

        return self._read_tx(run, "listing sheets")

    def count_sheets(self) -> dict[SheetStatus, int]:
        """Number of sheets per status (every status present, 0 when none)."""
        def run(s: Session) -> dict[SheetStatus, int]:
            counts = {st: 0 for st in SheetStatus}
            for status, n in s.execute(select(SheetRow.status, func.count()).group_by(SheetRow.status)):
                counts[SheetStatus(status)] = n
            return counts

        return self._read_tx(run, "counting sheets")

    def get_sheet(self, sheet_id: int) -> SheetRecord:
        """One sheet with its fields in template order (:class:`RecordNotFound` if none)."""
        return self._read_tx(lambda s: self._sheet_record(s, sheet_id), "reading a sheet")

    def get_page_png(self, sheet_id: int) -> Optional[bytes]:
        """The registered page image (PNG) stored with the sheet, if the scanner kept one."""
        def run(s: Session) -> Optional[bytes]:
            self._sheet_row(s, sheet_id)
            return s.scalar(select(SheetRow.page_png).where(SheetRow.id == sheet_id))

        return self._read_tx(run, "reading a page image")

    def delete_sheet(self, sheet_id: int, user: Optional[str] = None) -> None:
        """Remove a sheet (e.g. a page scanned twice by mistake); logged, not undoable."""
        def run(s: Session) -> None:
            row = self._sheet_row(s, sheet_id)
            s.add(AuditRow(at=_now(), user=user or _operator(), action="delete", sheet_id=None,
                           old_value=f"sheet {row.id} {row.label} ({row.status})", new_value=None, undone=False))
            s.delete(row)

        self._write_tx(run, f"deleting sheet {sheet_id}")

    # -- helpers used by the editing mixin ------------------------------------------------
    def _sheet_row(self, s: Session, sheet_id: int, lock: bool = False) -> SheetRow:
        q = select(SheetRow).where(SheetRow.id == sheet_id).options(
            selectinload(SheetRow.fields).undefer(FieldRow.crop_png))
        if lock and s.bind is not None and s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        row = s.scalar(q)
        if row is None:
            raise RecordNotFound(f"no sheet {sheet_id} in {self.description}")
        return row

    def _sheet_record(self, s: Session, sheet_id: int) -> SheetRecord:
        row = self._sheet_row(s, sheet_id)
        name = s.scalar(select(TemplateRow.name).where(TemplateRow.id == row.template_id)) or ""
        return convert.sheet_record(row, name, with_fields=True)


def _operator() -> str:
    from marksocr.settings import load_settings

    try:
        return load_settings().operator
    except MarksocrError:
        from marksocr.settings import default_operator

        return default_operator()
