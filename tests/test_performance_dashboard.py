"""The performance dashboard as a lead uses it: built from the event log in SQL, kept current by folding in
new events, filtered by range, person, job and time zone; the widget's controls and its access rule.

The numbers themselves are checked against an independent computation from ``p.events.df`` over a
simulated team's month in tests/test_performance.py; here the dashboard is held to itself (a refreshed
dashboard equals one built afresh) and to hand-checked facts of a small real history.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import labnb as lb
from labnb.clock import using_clock
from labnb.performance.quality import quality_columns
from tests.test_event_work import _work_a_job, small_team


@pytest.fixture
def url(backend_url: str, tmp_path: Path) -> str:
    return small_team(backend_url, tmp_path)


def _same(a: lb.Project, dash: object, **kwargs: object) -> None:
    """``dash`` (refreshed) shows what a dashboard built now shows."""
    fresh = a.performance(poll=None, **kwargs)  # type: ignore[arg-type]
    for name in ("daily", "people", "sankey"):
        pd.testing.assert_frame_equal(dash.df[name], fresh.df[name], check_dtype=False)  # type: ignore[attr-defined]


def test_a_small_history_reads_as_the_team_worked(url: str) -> None:
    _work_a_job(url)
    mona = lb.Project.open(url, user="mona")
    dash = mona.performance("7d", tz="UTC", poll=None)
    daily, people, flows = dash.df["daily"], dash.df["people"], dash.df["sankey"]
    today = datetime.now(timezone.utc).date()
    assert list(daily.index) == [today - timedelta(days=i) for i in range(6, -1, -1)]
    row = daily.loc[today]
    # alice drew 2 boxes in the widget and one outside jobs; bob's submit(shapes) is a replace, not counted
    assert row.annotations == 3
    assert row.reviews == 3  # reject, fix, accept
    assert row.labelling_s == pytest.approx(4.0 + 2.5 + 1.5 + 9.0)
    assert row.rework_s == pytest.approx(1.2 + 0.5)
    assert row.review_s == pytest.approx(3.0 + 0.8 + 2.0 + 1.0)
    assert row.images_completed == 2
    assert daily.drop(index=today).to_numpy().sum() == 0
    assert people.loc["alice", "first_review_acceptance"] == 0.0  # rejected at first
    assert people.loc["alice", "rework_rate"] == 1.0
    # bob's pass was claimed by carol, released, and fixed by dave: fixed is not accepted as drawn
    assert people.loc["bob", "first_review_acceptance"] == 0.0
    assert people.loc["bob", "rework_rate"] == 0.0
    assert people.loc["carol", "reviews"] == 2
    assert people.loc["alice", "images"] == 1  # her pass and her labelling outside jobs are on one image
    assert people.loc["alice", "active_hours"] == pytest.approx((4.0 + 2.5 + 1.5 + 1.2 + 0.5) / 3600)
    links = {(r.source, r.target): r["count"] for _, r in flows.iterrows()}
    assert links == {
        ("none", "annotated"): 2,
        ("annotated", "review"): 4,
        ("review", "to_fix"): 1,
        ("to_fix", "annotated"): 1,
        ("review", "annotated"): 1,
        ("review", "completed"): 2,
    }
    # the charts show the tables: today's annotations bar, the Sankey's links
    assert list(dash.figures["daily"].data[0].y)[-1] == 3
    assert sum(dash.figures["sankey"].data[0].link.value) == flows["count"].sum()


def test_a_refresh_folds_in_what_others_wrote_as_a_fresh_build_would(url: str) -> None:
    mona = lb.Project.open(url, user="mona")
    dash = mona.performance("30d", tz="Europe/Berlin", poll=None)
    assert dash.df["daily"].to_numpy().sum() == 0
    sankey = dash.figures["sankey"]
    # plotly.js cannot draw a Sankey without links: hidden, with a note, until passes move
    assert sankey.data[0].visible is False
    assert "No task" in sankey.layout.annotations[0].text
    _work_a_job(url)
    assert dash.refresh() > 0
    assert sankey.data[0].visible is True
    assert not sankey.layout.annotations
    _same(mona, dash, range="30d", tz="Europe/Berlin")
    assert dash.refresh() == 0  # nothing new
    for user in ("alice", "carol"):
        one = mona.performance("30d", user=user, poll=None)
        _same(mona, one, range="30d", user=user)


def test_filters_by_person_job_and_days_in_the_viewers_zone(url: str) -> None:
    mona = lb.Project.open(url, user="mona")
    # Saturday 23:30 UTC is Sunday 00:30 in Berlin; three minutes a step cross midnight UTC and, at 01:00 UTC,
    # Berlin's change to summer time
    start = datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc)
    ticks = iter(range(10_000))
    with using_clock(lambda: start + timedelta(minutes=3 * next(ticks))):
        _work_a_job(url)
    berlin = mona.performance(("2026-03-28", "2026-03-29"), tz="Europe/Berlin", poll=None).df["daily"]
    utc = mona.performance(("2026-03-28", "2026-03-29"), tz="UTC", poll=None).df["daily"]
    events = mona.events(kind=["annotation.create", "review.*"]).df
    local = events.time.dt.tz_convert("Europe/Berlin").dt.date.astype(str)
    # the first events fall on Saturday in UTC and Sunday in Berlin, and the log crosses the clock change
    assert local.iloc[0] == "2026-03-29"
    assert events.time.iloc[0].date().isoformat() == "2026-03-28"
    assert events.time.iloc[-1] > datetime(2026, 3, 29, 1, tzinfo=timezone.utc)
    assert berlin.annotations.sum() == utc.annotations.sum() == 3
    assert berlin.loc[berlin.index[0]].to_numpy().sum() == 0  # nothing on Saturday in Berlin
    assert utc.loc[utc.index[0]].to_numpy().sum() > 0
    assert list(berlin.index.astype(str)) == ["2026-03-28", "2026-03-29"]
    made = events[events.kind == "annotation.create"]
    by_day = made.assign(day=made.time.dt.tz_convert("Europe/Berlin").dt.date).groupby("day").created.sum()
    assert {str(k): int(v) for k, v in by_day.items()} == {str(k): int(v) for k, v in berlin.annotations.items() if v}
    job = mona.jobs["j"]
    in_job = mona.performance(("2026-03-28", "2026-03-29"), job=job, tz="Europe/Berlin", poll=None).df["daily"]
    assert in_job.annotations.sum() == 2  # the free labelling outside the job drops out
    bob = mona.performance(("2026-03-28", "2026-03-29"), user="bob", tz="Europe/Berlin", poll=None)
    assert list(bob.df["people"].index) == ["bob"]
    # bob's pass: handed in, claimed, released, claimed again, fixed
    assert bob.df["sankey"]["count"].sum() == 5
    assert mona.performance("7d", poll=None).df["daily"].annotations.sum() == 0  # March is long gone


def test_the_event_log_filters(url: str) -> None:
    _work_a_job(url)
    p = lb.Project.open(url, user="mona")
    every = p.events.df
    reviews = p.events(kind="review.*").df
    assert set(reviews.kind) == {"review.reject", "review.fix", "review.accept"}
    assert list(p.events(user="bob").df.event_id) == list(every[every.user == "bob"].event_id)
    assert len(p.events(range="7d", user=["carol", "dave"], kind=["task.claim"])) == 4
    assert len(p.events(range=("2020-01-01", "2020-01-31"))) == 0
    with pytest.raises(lb.LabnbError, match="range"):
        p.events(range="2w")
    with pytest.raises(lb.LabnbError, match="time zone"):
        p.performance(tz="Mars/Olympus", poll=None)


def test_an_annotator_sees_only_their_own_work(url: str) -> None:
    _work_a_job(url)
    alice = lb.Project.open(url, user="alice")
    mine = alice.performance(poll=None)
    assert list(mine.df["people"].index) == ["alice"]
    assert mine.df["people"]["f1_ground_truth"].isna().all()
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        alice.performance(user="bob", poll=None)
    with pytest.raises(lb.AccessDenied):
        lb.Project.open(url, user="mallory").performance(poll=None)


def test_the_widget_controls_rebuild_and_polling_stops_when_closed(url: str) -> None:
    _work_a_job(url)
    mona = lb.Project.open(url, user="mona")

    async def run() -> tuple[bool, bool]:
        dash = mona.performance("30d", poll=0.05)
        live = dash.live
        assert dash._person.label == "everyone"
        assert dash._job_box.label == "all jobs"
        dash._range_box.value = "7d"
        assert len(dash.df["daily"]) == 7
        dash._person.value = "carol"
        assert list(dash.df["people"].index) == ["carol"]
        dash._job_box.value = mona.jobs["j"].id
        assert dash.df["people"].loc["carol", "reviews"] == 2
        dash._range_box.value = "custom"
        assert dash._custom.layout.display == ""
        dash.close()
        await asyncio.sleep(0.2)
        return live, dash.live

    # a loop of its own, in a thread: in the full suite a browser test's loop may be running in this one
    with ThreadPoolExecutor(1) as pool:
        live, after = pool.submit(asyncio.run, run()).result()
    assert live
    assert not after


def test_the_table_shows_each_persons_agreement_and_f1_from_their_passes(url: str) -> None:
    mona = lb.Project.open(url, user="mona")
    first = next(iter(mona.assets))
    mona.annotate(first, [lb.Box(10, 10, 40, 40, label="cat")], source="ground_truth")
    mona.jobs.create("twice", assets=[first.id], passes_per_file=2, review_frequency=0).launch()
    for user, box in (("alice", lb.Box(10, 10, 40, 40, label="cat")), ("bob", lb.Box(14, 14, 40, 40, label="cat"))):
        task = lb.Project.open(url, user=user).next_task()
        assert task is not None
        task.submit([box])
    people = mona.performance(poll=None).df["people"]
    report = mona.agreement(by="annotator").df
    for user in ("alice", "bob"):
        assert people.loc[user, "agreement"] == pytest.approx(report.loc[user, "vs_others"])
        assert people.loc[user, "f1_ground_truth"] == pytest.approx(report.loc[user, "vs_ground_truth"])
    assert people.loc["alice", "f1_ground_truth"] == 1.0
    assert people.loc["bob", "f1_ground_truth"] == 1.0  # IoU 1296 / 1904 matches at 0.5
    assert people.loc["alice", "agreement"] == pytest.approx(1296 / 1904)
    # the table's agreement is over the images whose passes changed since the range began
    later = quality_columns(mona, None, since=datetime.now(timezone.utc) + timedelta(days=1))
    assert later["agreement"].isna().all()
    assert quality_columns(mona, None, since=None).loc["alice", "agreement"] == pytest.approx(1296 / 1904)
    quick = mona.performance(poll=None, quality=False).df["people"]
    assert quick[["agreement", "f1_ground_truth", "f1_gold"]].isna().all().all()
    pd.testing.assert_frame_equal(quick.iloc[:, :-3], people.iloc[:, :-3])
