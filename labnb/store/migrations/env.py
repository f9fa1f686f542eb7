"""Alembic environment: labnb always passes an open connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from labnb.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
)
with context.begin_transaction():
    context.run_migrations()
