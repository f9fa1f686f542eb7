"""The performance oracle (tests/performance_oracle.py) on a history small enough to count by hand: two
annotators, one reviewer, one image with two passes, over two days; a rejection, rework, an accept and a
reviewer's fix in the panel. Every expected figure below is worked out in the comments from the actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from performance_oracle import compute, pass_histories, read_tables, resolve_range

from labnb import Box, Project
from labnb.clock import using_clock
from labnb.sample import IMAGES
from labnb.widgets.serializers import shape_to_dto
from labnb.workflow.editing import apply_edits

DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)


def at(day: date, hour: int, minute: int = 0) -> object:
    stamp = datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)
    return using_clock(lambda: stamp)


def create(p: Project, task_id: int, asset: int, box: Box, seconds: float) -> int:
    (r,) = apply_edits(
        p, asset, [{"op": "create", "cid": "c", "shape": shape_to_dto(box, "c"), "duration_ms": seconds * 1000}],
        task_id=task_id,
    )  # fmt: skip
    assert r["ok"], r
    return int(r["id"])


def edit(p: Project, task_id: int, asset: int, op: str, ident: int, seconds: float, box: Box | None = None) -> None:
    change: dict[str, object] = {"op": op, "id": ident, "cid": "e", "duration_ms": seconds * 1000}
    if box is not None:
        change["shape"] = {**shape_to_dto(box, "e"), "id": ident}
    (r,) = apply_edits(p, asset, [change], task_id=task_id)
    assert r["ok"], r


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Project]:
    path = tmp_path / "tiny.labnb"
    with at(DAY1, 8):
        p = Project.create(path, labels=["cat", "dog"], user="boss")
        p.add_images([IMAGES / "000000278528.jpg"], progress=False)
        for name, role in (("ann1", "annotator"), ("ann2", "annotator"), ("rev", "reviewer")):
            p.members.add(name, role=role)
        p.jobs.create("j", passes_per_file=2, review_frequency=1).launch()
    a1, a2, rv = (Project.open(path, user=u) for u in ("ann1", "ann2", "rev"))
    asset = int(p.assets.df["asset_id"].iloc[0])
    # day 1: ann1 draws pass 1 (2 boxes 10 s + 10 s, an update 5 s, the hand-in 3 s: 28 s of labelling)
    with at(DAY1, 9):
        d1 = a1.next_task("draw")
    assert d1 is not None
    with at(DAY1, 9, 1):
        b1 = create(a1, d1.id, asset, Box(10, 10, 50, 50, label="cat"), 10)
        create(a1, d1.id, asset, Box(100, 100, 40, 40, label="dog"), 10)
    with at(DAY1, 9, 2):
        edit(a1, d1.id, asset, "update", b1, 5, Box(12, 10, 50, 50, label="cat"))
    with at(DAY1, 9, 3):
        d1.submit(duration=3)
    # rev rejects it (30 s of review)
    with at(DAY1, 10):
        r1 = rv.next_task("review")
    assert r1 is not None
    with at(DAY1, 10, 1):
        r1.review("reject", comment="the dog is too small", duration=30)
    # day 2, 00:30 UTC (still day 1 in Los Angeles): ann2 draws pass 2 (one box 12 s, hand-in 2 s)
    with at(DAY2, 0, 30):
        d2 = a2.next_task("draw")
        assert d2 is not None
        create(a2, d2.id, asset, Box(11, 11, 50, 50, label="cat"), 12)
    with at(DAY2, 0, 31):
        d2.submit(duration=2)
    # day 2, 09:00: ann1 reworks pass 1 (a box 8 s, a delete 2 s, the hand-in 4 s: 14 s of rework)
    with at(DAY2, 9):
        again = a1.next_task("draw")
        assert again is not None
        assert again.id == d1.id
        assert again.state == "to_fix"
        create(a1, d1.id, asset, Box(200, 200, 30, 30, label="dog"), 8)
    with at(DAY2, 9, 3):
        edit(a1, d1.id, asset, "delete", b1, 2)
    with at(DAY2, 9, 5):
        again.submit(duration=4)
    # 11:00 rev takes pass 2's review (queued first), fixes it in the panel (an update 6 s) and says "fix"
    # (15 s); 11:05 accepts pass 1 (20 s): 41 s of review on day 2
    with at(DAY2, 11):
        r2 = rv.next_task("review")
        assert r2 is not None
        assert r2.draw_task_id == d2.id
        (ann2_box,) = [s.id for s in d2.shapes()]
        assert ann2_box is not None
        edit(rv, d2.id, asset, "update", ann2_box, 6, Box(10, 10, 50, 50, label="cat"))
    with at(DAY2, 11, 2):
        r2.review("fix", duration=15)
    with at(DAY2, 11, 5):
        r3 = rv.next_task("review")
        assert r3 is not None
        assert r3.draw_task_id == d1.id
        r3.review("accept", duration=20)
    yield p
    for q in (a1, a2, rv, p):
        q.close()


def test_daily_by_hand(history: Project) -> None:
    got = compute(read_tables(history), DAY1, DAY2, "UTC")["daily"]
    want = pd.DataFrame(
        {
            "annotations": [2, 2],  # day 1: ann1's two; day 2: ann1's rework box and ann2's box
            "reviews": [1, 2],
            "labelling_s": [28.0, 14.0],  # day 2: ann2's 12 + 2
            "review_s": [30.0, 41.0],  # 6 (the panel's edit by a non-drawer) + 15 + 20
            "rework_s": [0.0, 14.0],
            "images_completed": [0, 1],  # both passes completed on day 2
        },
        index=pd.Index([DAY1, DAY2], name="day"),
    )
    pd.testing.assert_frame_equal(got, want)


def test_daily_in_another_zone(history: Project) -> None:
    # Los Angeles (UTC-8 in March): ann2's 00:30 UTC work of day 2 is 16:30 on day 1; range of 3 local days
    got = compute(read_tables(history), date(2026, 3, 1), DAY2, "America/Los_Angeles")["daily"]
    assert got.loc[DAY1, "annotations"] == 3
    assert got.loc[DAY1, "labelling_s"] == 42.0
    assert got.loc[DAY2, "annotations"] == 1
    assert got.loc[date(2026, 3, 1)].sum() == 0  # every other local day of the range is there, all zero


def test_people_by_hand(history: Project) -> None:
    got = compute(read_tables(history), DAY1, DAY2, "UTC")["people"]
    assert list(got.index) == ["ann1", "ann2", "rev"]
    ann1, ann2, rev = got.loc["ann1"], got.loc["ann2"], got.loc["rev"]
    assert (ann1["annotations"], ann1["images"], ann1["reviews"]) == (3, 1, 0)
    assert ann1["active_hours"] == pytest.approx(42 / 3600)
    assert ann1["annotations_per_hour"] == pytest.approx(3 / (42 / 3600))
    assert ann1["median_s_per_image"] == 42.0
    assert (ann1["first_review_acceptance"], ann1["rework_rate"]) == (0.0, 1.0)  # rejected first
    assert ann2["annotations_per_hour"] == pytest.approx(1 / (14 / 3600))
    assert (ann2["first_review_acceptance"], ann2["rework_rate"]) == (0.0, 0.0)  # a fix is not an accept
    assert (rev["annotations"], rev["images"], rev["reviews"]) == (0, 0, 3)
    assert rev["active_hours"] == pytest.approx(71 / 3600)
    assert np.isnan(rev["annotations_per_hour"])
    assert np.isnan(rev["median_s_per_image"])
    assert np.isnan(rev["first_review_acceptance"])
    # over day 2 alone, pass 1's first decision (day 1) is outside the range
    day2 = compute(read_tables(history), DAY2, DAY2, "UTC")["people"]
    assert np.isnan(day2.loc["ann1", "first_review_acceptance"])
    assert np.isnan(day2.loc["ann1", "rework_rate"])
    assert day2.loc["ann1", "annotations"] == 1


def flows(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(s, t): int(c) for s, t, c in frame[["source", "target", "count"]].itertuples(index=False)}


def test_sankey_by_hand(history: Project) -> None:
    tables = read_tables(history)
    assert flows(compute(tables, DAY1, DAY2, "UTC")["sankey"]) == {
        ("none", "annotated"): 2,
        ("annotated", "review"): 3,
        ("review", "to_fix"): 1,
        ("to_fix", "annotated"): 1,
        ("review", "completed"): 2,
    }
    assert flows(compute(tables, DAY2, DAY2, "UTC")["sankey"]) == {
        ("none", "annotated"): 1,
        ("to_fix", "annotated"): 1,
        ("annotated", "review"): 2,
        ("review", "completed"): 2,
    }
    assert flows(compute(tables, DAY1, DAY2, "UTC", user="ann1")["sankey"]) == {
        ("none", "annotated"): 1,
        ("annotated", "review"): 2,
        ("review", "to_fix"): 1,
        ("to_fix", "annotated"): 1,
        ("review", "completed"): 1,
    }
    histories = sorted(pass_histories(tables).values())
    assert histories == [
        ["none", "annotated", "review", "completed"],
        ["none", "annotated", "review", "to_fix", "annotated", "review", "completed"],
    ]


def test_user_and_job_filters(history: Project) -> None:
    tables = read_tables(history)
    mine = compute(tables, DAY1, DAY2, "UTC", user="ann1")["daily"]
    assert list(mine["annotations"]) == [2, 1]
    assert list(mine["review_s"]) == [0.0, 0.0]
    assert list(mine["images_completed"]) == [0, 1]  # ann1 drew a pass of the completed image
    assert compute(tables, DAY1, DAY2, "UTC", job="j")["daily"].equals(compute(tables, DAY1, DAY2, "UTC")["daily"])


def test_ranges_end_today() -> None:
    assert resolve_range("7d", "UTC", today=DAY2) == (date(2026, 2, 25), DAY2)
    assert resolve_range("3m", "UTC", today=DAY2) == (date(2025, 12, 4), DAY2)
    assert resolve_range("12m", "UTC", today=DAY2)[0] == date(2025, 3, 4)
    assert resolve_range((DAY1, DAY2), "UTC") == (DAY1, DAY2)
