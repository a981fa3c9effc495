"""Alembic environment for marksocr: always run programmatically by ``marksocr.storage``.

The caller passes an open SQLAlchemy connection in ``config.attributes["connection"]``
(already inside a transaction that holds the database's write lock), so no
``alembic.ini`` and no URL are needed here.
"""

from __future__ import annotations

from alembic import context

from marksocr.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("marksocr migrations run through marksocr.storage (marksocr db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
