"""The :class:`Database` the CLI and the GUI use: core + operator edits + roster/export."""

from __future__ import annotations

from marksocr.storage.editing import EditingMixin
from marksocr.storage.exchange import ExchangeMixin


class Database(EditingMixin, ExchangeMixin):
    """A marks database (SQLite file or any SQLAlchemy URL), migrated on open.

    ``Database.open(url=None)`` -> use, then ``close()`` (or ``with Database.open() as db``).
    See the methods of :class:`~marksocr.storage.core.DatabaseCore`,
    :class:`~marksocr.storage.editing.EditingMixin` and
    :class:`~marksocr.storage.exchange.ExchangeMixin`.
    """
