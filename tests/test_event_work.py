"""The work class and pass flows every event records (labnb.event_log), as a team produces them through
the API and the Annotator's edit path, and migration 0009's replay of an older log giving the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from PIL import Image

import labnb as lb
from labnb.store import database as db

TEAM = {"alice": "annotator", "bob": "annotator", "carol": "reviewer", "dave": "reviewer", "mona": "manager"}
COLUMNS = ["id", "user", "kind", "work", "created", "job_id", "flow_from", "flow_to", "pass_task_id"]


@pytest.fixture
def url(backend_url: str, tmp_path: Path) -> str:
    return small_team(backend_url, tmp_path)


def small_team(backend_url: str, tmp_path: Path) -> str:
    """A project of two images and :data:`TEAM`, owned by olga."""
    p = lb.Project.create(backend_url, labels=["cat", "dog"], user="olga", overwrite=True)
    for i in range(2):
        Image.fromarray(np.full((100, 200, 3), 60 * i, np.uint8)).save(tmp_path / f"im{i}.png")
    p.add_images(sorted(tmp_path.glob("im*.png")), progress=False)
    for user, role in TEAM.items():
        p.members.add(user, role)
    return backend_url


def _box(cid: str, x: float) -> dict[str, object]:
    return {"id": None, "cid": cid, "label": "cat", "attributes": {}, "track_id": None,
            "geometry": {"kind": "box", "x": x, "y": 10, "w": 20, "h": 20}}  # fmt: skip


def _edit(widget: object, edits: list[dict[str, object]]) -> None:
    w = widget
    w._on_message(w, {"type": "edits", "batch": 1, "asset_id": w.asset.id, "edits": edits}, [])  # type: ignore[attr-defined]
    assert w.error == ""  # type: ignore[attr-defined]


def _work_a_job(url: str) -> None:
    """One image drawn in the widget, rejected, reworked, released by one reviewer and fixed by another; a
    second image drawn through task.submit(shapes) and accepted."""
    mona = lb.Project.open(url, user="mona")
    mona.jobs.create("j", review_frequency=1).launch()
    alice, bob = lb.Project.open(url, user="alice"), lb.Project.open(url, user="bob")
    carol, dave = lb.Project.open(url, user="carol"), lb.Project.open(url, user="dave")
    ta = alice.next_task()
    assert ta is not None
    wa = ta.annotator()
    _edit(wa, [{"op": "create", "cid": "a1", "shape": _box("a1", 10), "duration_ms": 4000}])
    _edit(wa, [{"op": "create", "cid": "a2", "shape": _box("a2", 60), "duration_ms": 2500}])
    ta.submit(duration=1.5)
    tb = bob.next_task()
    assert tb is not None
    tb.submit([lb.Box(5, 5, 10, 10, label="dog")], duration=9.0)
    r1 = carol.next_task("review")
    assert r1 is not None
    r1.review("reject", comment="too loose", duration=3.0)
    again = alice.next_task()
    assert again is not None
    assert again.id == ta.id
    wa = again.annotator()
    (first, _) = wa.shapes
    moved = {**_box(first["cid"], 12), "id": first["id"]}
    _edit(wa, [{"op": "update", "id": first["id"], "cid": first["cid"], "shape": moved, "duration_ms": 1200}])
    again.submit(duration=0.5)
    r2 = carol.next_task("review")
    assert r2 is not None
    r2.release()
    r3 = dave.next_task("review")
    assert r3 is not None
    wr = r3.annotator()
    dto = wr.shapes[0]
    fixed = {**_box(dto["cid"], 14), "id": dto["id"]}
    _edit(wr, [{"op": "update", "id": dto["id"], "cid": dto["cid"], "shape": fixed, "duration_ms": 800}])
    r3.review("fix", duration=2.0)
    r4 = carol.next_task("review")
    assert r4 is not None
    r4.review("accept", duration=1.0)
    alice.annotate(next(iter(alice.assets)), [lb.Box(1, 1, 5, 5, label="cat")])  # free labelling, no task


def _columns(url: str) -> pd.DataFrame:
    engine = db.make_engine(url)
    with engine.connect() as conn:
        cols = ", ".join(f'"{c}"' if c == "user" else c for c in COLUMNS)
        frame = pd.DataFrame(conn.execute(sa.text(f"SELECT {cols} FROM events ORDER BY id")).all(), columns=COLUMNS)
    engine.dispose()
    return frame


def test_events_say_what_work_they_were_and_which_pass_they_moved(url: str) -> None:
    _work_a_job(url)
    e = _columns(url)
    alice_edits = e[(e.user == "alice") & e.kind.str.startswith("annotation.")]
    # two creates in the widget (label), one update after the rejection (rework), one free tag-less create
    assert list(alice_edits.work) == ["label", "label", "rework", "label"]
    assert list(alice_edits.created.fillna(0).astype(int)) == [1, 1, 0, 1]
    submits = e[e.kind == "task.submit"]
    assert list(zip(submits.user, submits.work, submits.flow_from, submits.flow_to, strict=True)) == [
        ("alice", "label", "none", "annotated"),
        ("bob", "label", "none", "annotated"),
        ("alice", "rework", "to_fix", "annotated"),
    ]
    # bob's submit(shapes) writes its rows as one replace event: label work, one row created
    bob = e[(e.user == "bob") & (e.kind == "annotation.replace")]
    assert list(bob.work) == ["label"]
    assert list(bob.created) == [1]
    # dave's edit of alice's pass in review is review work, as are all review decisions
    assert set(e[e.user.isin(["carol", "dave"]) & e.kind.str.startswith(("annotation.", "review."))].work) == {"review"}
    flows = e.dropna(subset=["flow_from"])
    assert list(zip(flows.kind, flows.flow_from, flows.flow_to, strict=True)) == [
        ("task.submit", "none", "annotated"),
        ("task.submit", "none", "annotated"),
        ("task.claim", "annotated", "review"),
        ("review.reject", "review", "to_fix"),
        ("task.submit", "to_fix", "annotated"),
        ("task.claim", "annotated", "review"),
        ("task.release", "review", "annotated"),
        ("task.claim", "annotated", "review"),
        ("review.fix", "review", "completed"),
        ("task.claim", "annotated", "review"),
        ("review.accept", "review", "completed"),
    ]
    job_events = e[e.kind.isin(["task.submit", "task.claim", "review.fix"])]
    assert job_events.job_id.notna().all()
    assert e[e.kind.isin(["import", "member.add", "job.launch"])].work.isna().all()


def test_the_upgrade_replays_an_older_log_into_the_same_facts(url: str) -> None:
    """Events written before migration 0009 get the work class and flows the live code writes now."""
    _work_a_job(url)
    live = _columns(url)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        command.downgrade(db._config(conn), "0008")
    with engine.begin() as conn:
        command.upgrade(db._config(conn), "head")
    engine.dispose()
    replayed = _columns(url)
    pd.testing.assert_frame_equal(replayed, live)


def test_the_annotators_hand_in_carries_the_time_since_the_last_edit(url: str) -> None:
    """Checking an image before Submit is labelling time too (an image with nothing to draw has only
    that): the widget's hand-in message carries it; a malformed value is unknown, not an error."""
    lb.Project.open(url, user="mona").jobs.create("j", review_frequency=0).launch()
    alice = lb.Project.open(url, user="alice")
    for ms, expected in ((2500, 2.5), (float("nan"), None)):
        task = alice.next_task()
        assert task is not None
        widget = task.annotator()
        widget._on_message(widget, {"type": "submit_task", "duration_ms": ms}, [])
        assert task.refresh().state == "completed"
        submit = alice.events(kind="task.submit").df.iloc[-1]
        assert submit.task_id == task.id
        assert (None if pd.isna(submit.duration) else submit.duration) == expected
