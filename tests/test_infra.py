"""Both storage back ends handed out by ``backend_url`` are real databases."""

from __future__ import annotations

import sqlalchemy as sa


def test_backend_round_trip(backend_url: str) -> None:
    is_pg = backend_url.startswith("postgresql")
    engine = sa.create_engine(backend_url if is_pg else f"sqlite:///{backend_url}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, label TEXT NOT NULL)"))
            conn.execute(sa.text("INSERT INTO probe (id, label) VALUES (1, :label)"), {"label": "cat 🐈"})
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT label FROM probe WHERE id = 1")).scalar_one() == "cat 🐈"
        assert engine.dialect.name == ("postgresql" if is_pg else "sqlite")
    finally:
        engine.dispose()
