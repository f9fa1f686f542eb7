"""The schema is versioned: an older project is upgraded on open, a newer one refused with a clear error."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
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


def test_committed_suggestions_of_an_older_project_keep_their_prediction(backend_url: str) -> None:
    """Before 0006 the prediction a committed suggestion came from was only in its event's payload; the
    upgrade copies it into the annotation's ``prediction_id``, and revisions get their kind."""
    p = lb.Project.create(backend_url, labels=["cat"], user="alice")
    p.add_images([np.zeros((20, 30, 3), np.uint8)], progress=False)
    p.close()
    engine = db.make_engine(backend_url)
    db.upgrade(engine, "head")
    with engine.begin() as conn:
        from alembic import command  # noqa: PLC0415

        command.downgrade(db._config(conn), "0005")
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        for aid, source in ((1, "prediction"), (2, "human")):
            conn.execute(
                sa.text(
                    "INSERT INTO annotations (id, project_id, asset_id, label_id, kind, x, y, w, h, area, iscrowd, "
                    "source, model, model_version, score, revision, deleted, created_by, created_at, updated_by, "
                    "updated_at) VALUES (:id, 1, 1, 1, 'box', 1, 1, 5, 5, 25, false, :s, 'yolox', 'v1', 0.9, 2, "
                    "false, 'alice', :t, 'alice', :t)"
                ),
                {"id": aid, "s": source, "t": now},
            )
        conn.execute(
            sa.text(
                'INSERT INTO events (project_id, "user", kind, annotation_id, time, payload) VALUES '
                "(1, 'alice', 'annotation.create', 2, :t, :p)"
            ),
            {"t": now, "p": '{"annotation_ids": [2], "assist": {"prediction_id": 1, "model": "yolox"}}'},
        )
        conn.execute(
            sa.text(
                'INSERT INTO annotation_revisions (annotation_id, revision, action, "user", time, label_id, x, y, '
                "w, h, deleted) VALUES (2, 1, 'update', 'alice', :t, 1, 0, 0, 4, 4, false)"
            ),
            {"t": now},
        )
        # a box an older labnb edited into a polygon: its revision (the box) has no kind of its own
        conn.execute(
            sa.text(
                "INSERT INTO annotations (id, project_id, asset_id, label_id, kind, data, x, y, w, h, area, iscrowd, "
                "source, revision, deleted, created_by, created_at, updated_by, updated_at) VALUES (3, 1, 1, 1, "
                "'polygon', '[[1,1,9,1,5,8]]', 1, 1, 8, 7, 28, false, 'human', 2, false, 'alice', :t, 'alice', :t)"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text(
                'INSERT INTO annotation_revisions (annotation_id, revision, action, "user", time, label_id, x, y, '
                "w, h, deleted) VALUES (3, 1, 'update', 'alice', :t, 1, 2, 2, 5, 5, false)"
            ),
            {"t": now},
        )
        for kind, payload in (("task.submit", '{"job": 1, "pass": 0}'), ("job.extra_pass", '{"job": 1, "pass": 2}')):
            conn.execute(
                sa.text(
                    "INSERT INTO events (project_id, \"user\", kind, time, payload) VALUES (1, 'alice', :k, :t, :p)"
                ),
                {"k": kind, "t": now, "p": payload},
            )
    engine.dispose()
    q = lb.Project.open(backend_url, user="alice")
    df = q.annotations.df.set_index("annotation_id")
    assert df.prediction_id.dropna().to_dict() == {2: 1}
    assert (df.model[2], df.score[2]) == ("yolox", 0.9)
    assert [type(g).__name__ for g in q.history(2).geometry] == ["Box", "Box"]
    assert [type(g).__name__ for g in q.history(3).geometry] == ["Box", "Polygon"]
    assert q.history(3).geometry[0].bbox == (2, 2, 5, 5)
    passes = q.events.df.set_index("kind").payload
    assert (passes["task.submit"]["pass"], passes["job.extra_pass"]["pass"]) == (1, 3)  # counted from 1, as now
