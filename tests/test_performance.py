"""The performance dashboard (``p.performance``) against the independent oracle (tests/performance_oracle.py)
on a simulated month of a real team (labnb.sample.team: one process per person, the real API), on a real
SQLite file and on PostgreSQL: every count exact, every time to 1e-6 s, for several ranges, time zones
(one with a DST change inside the range), a user filter and a job filter; the Sankey's flows are the
passes' own histories; ``dash.refresh()`` reads what another process wrote; ``p.events(...)`` filters."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from performance_oracle import PEOPLE_COLUMNS, compute, pass_histories, read_tables, resolve_range

from labnb import Box, Project
from labnb.sample import IMAGES
from labnb.sample.team import DEFAULT_TEAM, make_demo_team_project, simulate_team
from tests.conftest import _fresh_database

REPO = Path(__file__).resolve().parents[1]
#: another process creating boxes through the Annotator's edit path (3 s of active time each)
WRITER = REPO / "tests" / "event_writer.py"
#: Monday 5 October 2026, midnight UTC; 30 days: Central Europe leaves summer time on Sunday 25 October.
START = datetime(2026, 10, 5, tzinfo=timezone.utc)
DAYS = 30.0
#: A month in about 25 real seconds.
SPEED = DAYS * 86400 / 25
TEAM = tuple(person for person in DEFAULT_TEAM if person.name in ("ana", "chen", "dev", "sam", "maya"))
#: (range, tz): the whole month in three zones (Berlin's DST change on 25 October inside it), one week,
#: a span across the change, a single day, and ranges ending today (which reach back into the month or not).
CASES: list[tuple[Any, str]] = [
    ((date(2026, 10, 5), date(2026, 11, 4)), "UTC"),
    ((date(2026, 10, 5), date(2026, 11, 4)), "Europe/Berlin"),
    ((date(2026, 10, 5), date(2026, 11, 4)), "Asia/Shanghai"),
    ((date(2026, 10, 12), date(2026, 10, 18)), "UTC"),
    ((date(2026, 10, 22), date(2026, 10, 28)), "Europe/Berlin"),
    ((date(2026, 10, 25), date(2026, 10, 25)), "Europe/Berlin"),
    ("12m", "America/New_York"),
    ("30d", "UTC"),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def month(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A simulated month on a SQLite file, or on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        location = str(tmp_path_factory.mktemp("month") / "month.labnb")
        yield _simulated_month(location, None)
        return
    # one database for the module's tests (pg_url gives one per test: a month is too dear for that)
    with _fresh_database(request.getfixturevalue("pg_server")) as url:
        yield _simulated_month(url, "demo")


def _simulated_month(location: str, name: str | None) -> Project:
    p = make_demo_team_project(location, TEAM, name=name)
    run = simulate_team(location, people=TEAM, start=START, days=DAYS, speed=SPEED, seed=3, name=name)
    run.join(timeout=300)
    return p


def assert_same(dash: pd.DataFrame, oracle: pd.DataFrame, what: str) -> None:
    """Equal frames: same rows and columns, counts exact, seconds and rates to 1e-6."""
    assert list(dash.index) == list(oracle.index), f"{what}: rows differ"
    for column in oracle.columns:
        got, want = dash[column], oracle[column]
        if pd.api.types.is_integer_dtype(want):
            assert list(got.astype("int64")) == list(want), f"{what}.{column}"
        else:
            pd.testing.assert_series_equal(
                got.astype(float), want.astype(float), check_exact=False, atol=1e-6, rtol=0, check_names=False,
                obj=f"{what}.{column}",
            )  # fmt: skip


def sankey_flows(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(s, t): int(c) for s, t, c in frame[["source", "target", "count"]].itertuples(index=False) if c}


def check(p: Project, rng: Any, tz: str, **filters: Any) -> dict[str, pd.DataFrame]:
    start, end = resolve_range(rng, tz)
    want = compute(read_tables(p), start, end, tz, **filters)
    dash = p.performance(range=rng, tz=tz, **filters)
    try:
        got = dash.df
        assert_same(got["daily"][want["daily"].columns], want["daily"], "daily")
        assert_same(got["people"][PEOPLE_COLUMNS], want["people"], "people")
        assert sankey_flows(got["sankey"]) == sankey_flows(want["sankey"])
    finally:
        dash.close()
    return want


def test_the_month_is_a_real_history(month: Project) -> None:
    """What the comparisons rest on: a month of every kind of work, in the dashboard's range of days."""
    want = compute(read_tables(month), date(2026, 10, 5), date(2026, 11, 4), "UTC")
    daily = want["daily"]
    assert (daily["annotations"] > 0).sum() >= 15, "work on most working days"
    assert daily["rework_s"].sum() > 0
    assert daily["images_completed"].sum() > 0
    assert {"dev", "ana", "sam"} <= set(want["people"].index)


@pytest.mark.parametrize(("rng", "tz"), CASES, ids=[f"{r}-{z}" for r, z in CASES])
def test_dashboard_equals_the_oracle(month: Project, rng: Any, tz: str) -> None:
    check(month, rng, tz)


@pytest.mark.parametrize("user", ["dev", "sam"])
def test_a_user_filter(month: Project, user: str) -> None:
    want = check(month, (date(2026, 10, 5), date(2026, 11, 4)), "Europe/Berlin", user=user)
    assert list(want["people"].index) in ([user], [])


def test_a_job_filter(month: Project) -> None:
    job = month.jobs["batch-2"]
    check(month, (date(2026, 10, 5), date(2026, 11, 4)), "UTC", job="batch-2")
    check(month, (date(2026, 10, 5), date(2026, 11, 4)), "UTC", job=job.id)
    check(month, (date(2026, 10, 5), date(2026, 11, 4)), "UTC", job=job)


def test_sankey_flows_are_the_pass_histories(month: Project) -> None:
    """Over a range covering all of time, the Sankey's flows are exactly the steps of every pass's history."""
    steps: Counter[tuple[str, str]] = Counter()
    for states in pass_histories(read_tables(month)).values():
        steps.update(itertools.pairwise(states))
    dash = month.performance(range=(date(2026, 1, 1), date.today() + timedelta(days=1)), tz="UTC")
    try:
        assert sankey_flows(dash.df["sankey"]) == dict(steps)
    finally:
        dash.close()


def test_refresh_reads_what_another_process_wrote(month: Project) -> None:
    dash = month.performance(range="7d", tz="UTC")
    try:
        today = datetime.now(ZoneInfo("UTC")).date()
        before = int(dash.df["daily"].loc[today, "annotations"])
        seconds = float(dash.df["daily"].loc[today, "labelling_s"])
        location = month.location
        name = "demo" if "://" in location else ""
        subprocess.run([sys.executable, str(WRITER), location, name, "5"], check=True, cwd=REPO, timeout=120)
        assert dash.refresh() >= 5
        assert int(dash.df["daily"].loc[today, "annotations"]) == before + 5
        assert float(dash.df["daily"].loc[today, "labelling_s"]) == pytest.approx(seconds + 15.0, abs=1e-6)
        assert dash.refresh() == 0, "nothing new: nothing read"
    finally:
        dash.close()


def test_events_filters(month: Project) -> None:
    everything = month.events.df
    start, end = date(2026, 10, 12), date(2026, 10, 18)
    tz = "Europe/Berlin"
    day = everything["time"].dt.tz_convert(ZoneInfo(tz)).dt.date
    in_range = everything[(day >= start) & (day <= end)]
    got = month.events(range=(start, end), tz=tz).df
    assert list(got["event_id"]) == list(in_range["event_id"])
    got = month.events(range=(start, end), tz=tz, user="dev").df
    assert list(got["event_id"]) == list(in_range[in_range["user"] == "dev"]["event_id"])
    got = month.events(range=(start, end), tz=tz, kind="review.*").df
    assert list(got["event_id"]) == list(in_range[in_range["kind"].str.startswith("review.")]["event_id"])
    assert set(got["kind"]) == {"review.accept", "review.reject", "review.fix"} & set(got["kind"])
    assert len(got) > 0
    got = month.events(range=(start, end), tz=tz, kind="task.submit").df
    assert list(got["event_id"]) == list(in_range[in_range["kind"] == "task.submit"]["event_id"])


def test_ground_truth_drawn_by_a_person_counts_as_labelling(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "gt.labnb", labels=["cat"], user="boss")
    p.add_images([sorted(IMAGES.glob("*.jpg"))[0]], progress=False)
    asset = int(p.assets.df["asset_id"].iloc[0])
    p.annotate(asset, [Box(1, 1, 20, 20, label="cat")], duration=4.0)
    p.annotate(asset, [Box(5, 5, 20, 20, label="cat")], source="ground_truth", duration=6.0)
    today = datetime.now(timezone.utc).date()
    want = compute(read_tables(p), today, today, "UTC")["daily"]
    assert list(want["annotations"]) == [2]
    dash = p.performance(range=(today, today), tz="UTC", poll=None)
    try:
        assert_same(dash.df["daily"][want.columns], want, "daily")
    finally:
        dash.close()
