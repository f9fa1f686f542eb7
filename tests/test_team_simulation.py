"""The simulated team (labnb.sample.team): seven spawned processes working the sample job on a real SQLite
file for three simulated working days, through the real API. What the dashboard will be checked against
must itself be a believable, consistent history: claims, edits with active time, hand-ins, rejections,
rework and reviews, spread over days and office hours, and task states that follow from the events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from labnb import Project
from labnb.errors import LabnbError
from labnb.sample.team import DEFAULT_TEAM, Person, make_demo_team_project, simulate_team

#: Monday 5 October 2026, 06:00 UTC: before anyone's working day in Europe, late evening in Shanghai.
START = datetime(2026, 10, 5, 6, tzinfo=timezone.utc)
DAYS = 3.0
#: Three simulated days in about nine real seconds.
SPEED = DAYS * 86400 / 9
#: Four of the demo team (four processes keep the test short): the best and the worst annotator, the
#: stricter reviewer, the manager.
TEAM = tuple(person for person in DEFAULT_TEAM if person.name in ("ana", "dev", "sam", "maya"))


@pytest.fixture(scope="module")
def team_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, pd.DataFrame]:
    path = tmp_path_factory.mktemp("team") / "team.labnb"
    p = make_demo_team_project(path, TEAM)
    run = simulate_team(path, people=TEAM, start=START, days=DAYS, speed=SPEED, seed=7)
    stats = run.join(timeout=120)  # raises with the traceback if any person's process failed
    return p, stats


def replay_states(events: pd.DataFrame, tasks: pd.DataFrame) -> dict[int, str]:
    """Every task's state, replayed from the events alone (the rules of docs/ARCHITECTURE.md)."""
    review_of = dict(zip(tasks["task"], tasks["draw_task"], strict=True))
    state = {int(t): "none" for t in tasks["task"]}
    for e in events.itertuples():
        if pd.isna(e.task_id) or int(e.task_id) not in state:
            continue
        t = int(e.task_id)
        draw = review_of.get(t)
        is_review = not pd.isna(draw)
        if e.kind == "task.submit":
            state[t] = e.payload["to"]
        elif e.kind == "task.claim" and is_review:
            state[t] = "review"
            state[int(draw)] = "review"
        elif e.kind == "task.release":
            state[t] = "none"
            if is_review:
                state[int(draw)] = "annotated"
        elif e.kind in ("review.accept", "review.fix", "review.reject"):
            state[t] = "completed"
            state[int(e.payload["draw_task"])] = "to_fix" if e.kind == "review.reject" else "completed"
    return state


def test_the_team_does_every_kind_of_work(team_run: tuple[Project, pd.DataFrame]) -> None:
    p, stats = team_run
    ev = p.events.df
    kinds = ev["kind"].value_counts()
    for kind in ("task.claim", "annotation.create", "annotation.update", "task.submit", "review.accept",
                 "review.reject", "review.fix"):  # fmt: skip
        assert kinds.get(kind, 0) > 0, f"no {kind} in {kinds.to_dict()}"
    submits = ev[ev["kind"] == "task.submit"]
    reworked = submits[[pl["from"] == "to_fix" for pl in submits["payload"]]]
    assert len(reworked) > 0, "no pass sent back was handed in again"
    creates = ev[ev["kind"] == "annotation.create"]
    assert (creates["duration"] > 0).all(), "every drawn shape carries the active time the widget measures"
    assert creates["duration"].median() < 60, "a box takes seconds, not minutes"
    people = {person.name for person in TEAM}
    assert set(stats.index) == people
    assert people <= set(ev["user"]), "everyone wrote something (the manager: the next batch)"
    # the worse annotators are rejected more: dev (skill 0.5) more than ana (0.95)
    rejects = ev[ev["kind"] == "review.reject"]
    drawers = pd.Series([pl["drawer"] for pl in rejects["payload"]]).value_counts()
    assert drawers.get("dev", 0) > drawers.get("ana", 0)


def test_work_spreads_over_days_and_office_hours(team_run: tuple[Project, pd.DataFrame]) -> None:
    p, _ = team_run
    ev = p.events.df
    work = ev[ev["kind"].isin(["annotation.create", "task.submit", "review.accept", "review.reject"])]
    assert work["time"].min() >= START
    assert work["time"].max() <= START + timedelta(days=DAYS)
    assert work["time"].dt.date.nunique() >= 3, work["time"].dt.date.value_counts()
    for person in TEAM:
        mine = work[work["user"] == person.name]
        if person.role == "manager":
            continue
        assert len(mine) > 0, f"{person.name} did nothing"
        local = mine["time"].dt.tz_convert(ZoneInfo(person.tz))
        # nothing before the working day starts, nothing at the weekend (a task begun before the end of the
        # day is finished, however long the machine makes it take)
        assert (local.dt.hour >= person.hours[0]).all(), (person.name, local.min())
        claims = ev[(ev["kind"] == "task.claim") & (ev["user"] == person.name)]
        hour = claims["time"].dt.tz_convert(ZoneInfo(person.tz))
        hour = hour.dt.hour + hour.dt.minute / 60
        # taken during office hours: stamped when the claim's write runs, which at this speed (one real
        # millisecond is 20 simulated seconds) can land up to an hour after the decision on a busy machine
        assert ((hour >= person.hours[0]) & (hour < person.hours[1] + 1)).all(), "a task taken at night"
        assert (local.dt.day_of_week < 5).all()


def test_each_persons_events_are_in_causal_order(team_run: tuple[Project, pd.DataFrame]) -> None:
    p, _ = team_run
    ev = p.events.df
    for user, mine in ev[ev["time"] >= START].groupby("user"):
        assert mine["time"].is_monotonic_increasing, f"{user}'s events go back in time"
    # across processes: a review decision comes after the hand-in it decides
    submitted = {}
    for e in ev.itertuples():
        if e.kind == "task.submit":
            submitted.setdefault(int(e.task_id), e.time)
        elif e.kind.startswith("review."):
            assert e.time >= submitted[int(e.payload["draw_task"])]


def test_task_states_follow_from_the_events(team_run: tuple[Project, pd.DataFrame]) -> None:
    p, _ = team_run
    ev = p.events.df
    for job in p.jobs:
        tasks = job.tasks
        replayed = replay_states(ev, tasks)
        actual = dict(zip(tasks["task"].astype(int), tasks["state"], strict=True))
        assert replayed == actual, {t: (replayed[t], s) for t, s in actual.items() if replayed[t] != s}
    assert len(list(p.jobs)) >= 2, "the manager opens the next batch when the first runs out"


def test_bad_people_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(LabnbError, match="person 'x': skill must be between 0 and 1"):
        Person("x", skill=1.5)
    with pytest.raises(LabnbError, match="role must be annotator, reviewer or manager"):
        Person("y", role="owner")
    with pytest.raises(LabnbError, match="start must be timezone-aware"):
        simulate_team(tmp_path / "none.labnb", start=datetime(2026, 1, 1))


def _drawn(tmp_path: Path, seed: int) -> dict[tuple[str, int], list[tuple[Any, ...]]]:
    """One annotator alone for four simulated hours: the boxes of each pass, by (image, pass)."""
    ana = Person("ana", skill=0.6, tz="UTC", hours=(0, 24))
    path = tmp_path / f"run-{seed}-{len(list(tmp_path.iterdir()))}.labnb"
    p = make_demo_team_project(path, [ana])
    hours = 4
    simulate_team(path, people=[ana], start=START, days=hours / 24, speed=hours * 3600 / 3, seed=seed).join(120)
    drawn = {}
    for _, t in p.jobs["batch-1"].tasks.iterrows():
        if t["kind"] == "draw" and t["state"] != "none":
            shapes = p.task(int(t["task"])).shapes()
            drawn[t["file_name"], int(t["pass"])] = sorted((s.label, *(round(v, 6) for v in s.bbox)) for s in shapes)
    p.close()
    return drawn


def test_the_same_seed_makes_the_same_decisions(tmp_path: Path) -> None:
    """Alone (nothing to interleave with), one person given one seed draws the same boxes on every pass, with
    the same misses and wrong classes; another seed, other ones."""
    first, again, other = _drawn(tmp_path, 5), _drawn(tmp_path, 5), _drawn(tmp_path, 6)
    assert len(first) == 8, "every image's first pass drawn"
    assert first == again
    assert other != first
