"""Several processes writing to one project at once lose nothing (SQLite WAL and PostgreSQL alike)."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from PIL import Image

import labnb as lb

WRITERS, EDITS = 4, 15


def _writer(location: str, user: str) -> int:
    p = lb.Project.open(location, user=user)
    done = 0
    for i in range(EDITS):
        (aid,) = p.annotate("a.png", lb.Box(1 + i, 1, 5, 5, label="duck"))
        p.update_annotation(aid, lb.Box(2 + i, 2, 5, 5, label="duck"))
        done += 1
    p.close()
    return done


def test_concurrent_writers_lose_nothing(backend_url: str, tmp_path: Path) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    p = lb.Project.create(backend_url, labels=["duck"], user="owner")
    p.add_images(tmp_path / "a.png")
    users = [f"user{i}" for i in range(WRITERS)]
    for u in users:
        p.members.add(u, role="annotator")
    with mp.get_context("spawn").Pool(WRITERS) as pool:
        done = pool.starmap(_writer, [(backend_url, u) for u in users])
    assert done == [EDITS] * WRITERS
    df = p.annotations.df
    assert len(df) == WRITERS * EDITS
    assert set(df.revision) == {2}
    assert df.groupby("created_by").size().to_dict() == dict.fromkeys(users, EDITS)
    events = p.events.df
    assert (events.kind == "annotation.update").sum() == WRITERS * EDITS
