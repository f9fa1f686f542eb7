"""The schema is versioned: an older project is upgraded on open, a newer one refused with a clear error."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import labnb as lb
from labnb.store import database as db
from labnb.store.tables import metadata


def test_migrations_build_exactly_the_declared_tables(backend_url: str) -> None:
    engine = db.make_engine(backend_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_older_project_is_upgraded_on_open(backend_url: str) -> None:
    engine = db.make_engine(backend_url)
    db.upgrade(engine, "0001")  # a project written by labnb before image sequences existed
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO projects (id, name, created_at, created_by, settings) VALUES (1, 'old', :t, 'alice', '{}')"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text(
                'INSERT INTO members (project_id, "user", role, added_at, added_by) '
                "VALUES (1, 'alice', 'owner', :t, 'alice')"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO assets (id, project_id, uri, file_name, width, height, meta, added_at, added_by) "
                "VALUES (1, 1, 'x.jpg', 'x.jpg', 10, 10, '{}', :t, 'alice')"
            ),
            {"t": now},
        )
    engine.dispose()
    p = lb.Project.open(backend_url, user="alice")
    with p._engine.connect() as conn:
        assert db.current_revision(conn) == db.head_revision()
    assert p.assets.df.file_name.tolist() == ["x.jpg"]
    assert p.assets.df.sequence.isna().all()  # the new column exists and is empty
    p.add_label("cat")
    p.annotate(1, lb.Box(1, 1, 2, 2, label="cat", track_id=5))
    assert p.annotations.df.track_id.tolist() == [5]
    if "://" not in backend_url:
        assert Path(f"{backend_url}.rev0001.bak").exists()  # a copy of the file before the upgrade


def test_newer_project_is_refused_clearly(backend_url: str) -> None:
    lb.Project.create(backend_url, labels=["a"], user="alice").close()
    engine = db.make_engine(backend_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(lb.SchemaVersionError, match=r"newer labnb.*'0099'.*Upgrade labnb"):
        lb.Project.open(backend_url, user="alice")
