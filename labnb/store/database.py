"""Engines, schema versions and bulk writes for SQLite files and PostgreSQL servers.

A plain path is a SQLite file in WAL mode (readers never block the writer, so a widget can read while
an import writes); anything with ``://`` is a SQLAlchemy URL (``postgresql+psycopg://...``).
The schema version is Alembic's: creating a project upgrades an empty database to the head revision,
opening one upgrades an older file (after a backup copy for SQLite) and refuses a newer one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from labnb.errors import ProjectError, SchemaVersionError

MIGRATIONS = Path(__file__).parent / "migrations"
#: Row count from which a bulk insert into an empty SQLite table rebuilds its indexes afterwards.
BULK_REBUILD_INDEXES = 50_000


def is_url(target: str | Path) -> bool:
    return "://" in str(target)


def make_engine(target: str | Path) -> Engine:
    """An engine for a SQLite path or a database URL, configured for labnb's access pattern."""
    if is_url(target):
        url = sa.make_url(str(target))
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url.database or "")
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return _sqlite_engine(str(target))


def _sqlite_engine(path: str) -> Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The database's revision, or ``None`` when it holds no labnb schema at all."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def ensure_current(engine: Engine, where: str, *, create: bool) -> None:
    """Bring the schema to the head revision, or explain why it cannot be.

    ``create`` allows initialising an empty database; opening requires an existing labnb schema.
    """
    try:
        with engine.connect() as conn:
            rev = current_revision(conn)
            tables = sa.inspect(conn).get_table_names()
    except sa.exc.DatabaseError as exc:
        reason = getattr(exc, "orig", exc)
        raise ProjectError(f"{where}: cannot be opened as a labnb project ({reason})") from exc
    head = head_revision()
    if rev == head:
        return
    if rev is None:
        if tables and "projects" not in tables:
            raise ProjectError(f"{where}: the database has other tables and no labnb schema")
        if not create:
            raise ProjectError(f"{where}: not a labnb project (no labnb schema found)")
        upgrade(engine)
        return
    known = {s.revision for s in _scripts().walk_revisions()}
    if rev not in known:
        raise SchemaVersionError(
            f"{where}: the project was written by a newer labnb (schema revision {rev!r}; this labnb "
            f"knows up to {head!r}). Upgrade labnb with `pip install -U labnb` to open it."
        )
    if engine.dialect.name == "sqlite" and engine.url.database:
        src = Path(engine.url.database)
        backup = src.with_name(f"{src.name}.rev{rev}.bak")
        engine.dispose()  # checkpoint WAL so the copy is complete
        shutil.copy2(src, backup)
    upgrade(engine)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; SQLite takes the write lock at BEGIN so concurrent writers queue, not fail."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        else:
            with conn.begin():
                yield conn


def in_batches(values: Iterable[Any], size: int = 5_000) -> Iterator[list[Any]]:
    """The distinct ``values``, sorted, in lists of at most ``size``: IN lists that stay under SQLite's and
    psycopg's bound-parameter limits whatever the number of ids."""
    items = sorted(set(values))
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows of plain tuples as fast as the backend allows.

    SQLite: the DBAPI ``executemany``; PostgreSQL: ``COPY``. Both bypass per-row SQLAlchemy work, which
    dominates when importing a million annotations.
    """
    if not rows:
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cols = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    # Filling an empty table is the first import of a new project: building its indexes once afterwards
    # is much faster than updating them row by row (about 35 % of the load at a million rows).
    rebuild = (
        len(rows) >= BULK_REBUILD_INDEXES and conn.execute(sa.select(1).select_from(table).limit(1)).first() is None
    )
    if rebuild:
        for index in table.indexes:
            index.drop(conn)
    cur = dbapi.cursor()
    try:
        cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', rows)  # noqa: S608
    finally:
        cur.close()
    if rebuild:
        for index in table.indexes:
            index.create(conn)


def dbapi_datetime(conn: Connection, value: datetime) -> Any:
    """``value`` as the DBAPI driver must receive it for a ``DateTime`` column.

    :func:`bulk_insert` bypasses SQLAlchemy's type processing; SQLite stores datetimes as the text
    SQLAlchemy itself writes, so rows written either way read back the same.
    """
    process = sa.DateTime(timezone=True).dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


def reserve_ids(conn: Connection, table: sa.Table, count: int) -> int:
    """First of ``count`` consecutive new ids for ``table`` (inside the caller's write transaction).

    Bulk loads need ids up front (annotations point at assets); on PostgreSQL the serial sequence is
    advanced past the block so later ordinary inserts do not collide.
    """
    if conn.dialect.name == "postgresql":
        seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        conn.execute(sa.text(f'LOCK TABLE "{table.name}" IN EXCLUSIVE MODE'))
        start = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1
        conn.execute(sa.text("SELECT setval(:s, :v)"), {"s": seq, "v": start + count})
        return start
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1
