"""Performance dashboard benchmark: a year of a 50-person team (1,000,000 events) and ``p.performance()``.

Measures, in one run on this machine:

- ``events_per_s_ingested``: events written per real second by the simulated team of
  :mod:`labnb.sample.team` (seven processes: annotators drawing through the Annotator's edit path, reviewers,
  a manager), everyone "at work" around the clock and the simulated clock so fast that nobody ever waits:
  the real write path (claims, edits, hand-ins, reviews, each its own transaction) saturated by seven
  concurrent writers on one SQLite file;
- ``plotly_import_s``: the first FigureWidget of a fresh interpreter (plotly's widget stack imports nbformat
  and jsonschema, whose format checkers compile grammars): paid once per kernel, by its first chart of any
  kind; the dashboard figures below are timed after it;
- ``dashboard_build_s``: ``p.performance()`` (default range, 30 days) from the call to the widget with its
  counts, tables and figures, over the year's 1,000,000 events: what a notebook shows at once;
  ``dashboard_build_12m_s`` the same with ``range="12m"``;
- ``quality_s`` / ``quality_12m_s``: the per-person agreement and F1 (shape comparisons over the images
  changed in the range), which a notebook computes in a worker thread after the counts show and a script
  waits for;
- ``refresh_ms`` / ``refresh_12m_ms``: ``dash.refresh()`` after 100 new events (annotations created through
  :func:`labnb.workflow.editing.apply_edits`) were written by another connection.

The year is made from the simulated run: its events, tasks and jobs are copied (ids offset, people
renamed to 50, payloads rewritten to match) onto the working days of the 12 months ending today, each copy
squeezed into one 8-hour working day, until there are 1,000,000 events (the copies of one week share that
week's jobs: the sample's batches are of 8 images, so one job per copy would make thousands); every column
the event log has (work class, rows created, job, pass flows) is copied from the real rows the run wrote.
Bulk-inserted, since writing them one transaction at a time is what ``events_per_s_ingested`` measures.

Usage: ``python benchmarks/performance.py [--events N] [--keep DIR]``, or ``--measure DIR/year.labnb`` to
time a year kept before. Progress goes to stderr; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from tqdm.auto import tqdm

import labnb as lb
from labnb.performance.quality import quality_columns
from labnb.sample.team import DEFAULT_TEAM, make_demo_team_project, simulate_team
from labnb.store.tables import events, job_assets, jobs, tasks
from labnb.widgets.serializers import shape_to_dto
from labnb.workflow.editing import apply_edits

PEOPLE = 50
DAY_SECONDS = 8 * 3600


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def simulate(work: Path, seconds: float) -> tuple[Path, float, int]:
    """The demo team, always at work, for ``seconds`` of real time at a speed where nobody waits; returns
    the project, the events written per real second, and how many."""
    path = work / "template.labnb"
    team = [replace(person, hours=(0, 24)) for person in DEFAULT_TEAM]
    p = make_demo_team_project(path, team)
    before = len(p.events)
    days = 2.0
    run = simulate_team(path, people=team, start=datetime(2026, 10, 5, tzinfo=timezone.utc), days=days,
                        speed=days * 86400 / seconds, seed=1)  # fmt: skip
    begun = run.real_start
    run.join(timeout=seconds + 120)
    elapsed = time.time() - begun
    written = len(p.events) - before
    p.close()
    return path, written / elapsed, written


def working_days(n_years_days: int = 365) -> list[date]:
    today = datetime.now(timezone.utc).date()
    days = [today - timedelta(days=i) for i in range(n_years_days)]
    return sorted(d for d in days if d.weekday() < 5)


def build_year(template: Path, target: Path, n_events: int) -> int:
    """Copy the template's history onto the working days of the last 12 months in ``target``."""
    src = sa.create_engine(f"sqlite:///{template}")
    with src.connect() as conn:
        ev = [dict(r._mapping) for r in conn.execute(sa.select(events).order_by(events.c.id))]
        task_rows = [dict(r._mapping) for r in conn.execute(sa.select(tasks))]
        job_rows = [dict(r._mapping) for r in conn.execute(sa.select(jobs))]
        ja_rows = [dict(r._mapping) for r in conn.execute(sa.select(job_assets))]
    src.dispose()
    work = [e for e in ev if e["task_id"] is not None or e["work"] is not None]  # the team's own events
    t0 = min(e["time"] for e in work)
    span = (max(e["time"] for e in work) - t0).total_seconds() or 1.0
    names = sorted({e["user"] for e in work} | {t["assignee"] for t in task_rows if t["assignee"]})
    max_task = max(t["id"] for t in task_rows)
    max_job = max(j["id"] for j in job_rows)
    days = working_days()
    copies = -(-n_events // len(work))
    log(f"template: {len(work)} events, {len(task_rows)} tasks; {copies} copies over {len(days)} working days")
    engine = sa.create_engine(f"sqlite:///{target}")
    written = 0
    with engine.begin() as conn:
        bar = tqdm(range(copies), desc="copying the year", file=sys.stderr, mininterval=5)
        used: Counter[date] = Counter()
        weeks: set[int] = set()
        batch: list[dict[str, Any]] = []
        for k in bar:
            # copies spread evenly over the working days, the last on today's; several a day take other people
            day = days[k * len(days) // copies]
            slot = used[day]
            used[day] += 1
            start = datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
            people = {n: f"p{(slot * len(names) + i + day.toordinal()) % PEOPLE:02d}" for i, n in enumerate(names)}
            # a week's copies share their jobs (a team runs a few batches a week, not one per person-day: the
            # sample has 8 images, so its batches are tiny); tasks and passes stay each copy's own
            week = (day - days[0]).days // 7
            dt, dj = (k + 1) * max_task, (week + 1) * max_job
            if week not in weeks:
                weeks.add(week)
                conn.execute(
                    jobs.insert(), [{**j, "id": j["id"] + dj, "name": f"{j['name']}-w{week}"} for j in job_rows]
                )
                conn.execute(job_assets.insert(), [{**a, "job_id": a["job_id"] + dj} for a in ja_rows])
            conn.execute(
                tasks.insert(),
                [
                    {
                        **t,
                        "id": t["id"] + dt,
                        "job_id": t["job_id"] + dj,
                        "draw_task_id": None if t["draw_task_id"] is None else t["draw_task_id"] + dt,
                        "assignee": people.get(t["assignee"], t["assignee"]),
                    }
                    for t in task_rows
                ],
            )
            for e in work:
                if written >= n_events:
                    break
                payload = orjson.loads(e["payload"]) if e["payload"] else None
                if isinstance(payload, dict):
                    if "draw_task" in payload:
                        payload["draw_task"] += dt
                    if "job" in payload and isinstance(payload["job"], int):
                        payload["job"] += dj
                    if "drawer" in payload:
                        payload["drawer"] = people.get(payload["drawer"], payload["drawer"])
                offset = (e["time"] - t0).total_seconds() / span * DAY_SECONDS
                row = {c: e[c] for c in e if c != "id"}
                row.update(
                    user=people.get(e["user"], e["user"]),
                    time=start + timedelta(seconds=offset),
                    payload=None if payload is None else orjson.dumps(payload).decode(),
                    task_id=None if e["task_id"] is None else e["task_id"] + dt,
                    job_id=None if e["job_id"] is None else e["job_id"] + dj,
                    pass_task_id=None if e["pass_task_id"] is None else e["pass_task_id"] + dt,
                )
                batch.append(row)
                written += 1
            if len(batch) >= 50_000:
                conn.execute(events.insert(), batch)
                batch = []
        if batch:
            conn.execute(events.insert(), batch)
    engine.dispose()
    return written


def _timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t


def _write_edits(target: Path, n: int) -> None:
    """``n`` annotations created by another person through the Annotator's edit path."""
    writer = lb.Project.open(target, user="p00")
    asset = int(writer.assets.df["asset_id"].iloc[0])
    for i in range(n):
        box = lb.Box(10 + i % 50, 10, 30, 30, label=writer.schema.classes[0].name)
        edit = {"op": "create", "cid": f"b{i}", "shape": shape_to_dto(box, f"b{i}"), "duration_ms": 4000}
        (res,) = apply_edits(writer, asset, [edit])
        assert res["ok"], res
    writer.close()


def measure(p: lb.Project, target: Path) -> dict[str, float]:
    """The figures a user feels: plotly's first import (once per kernel), the dashboard showing its counts
    (30 days and 12 months; what a notebook shows at once), the shape comparisons behind agreement and F1
    (a worker thread in a notebook; a script waits for them), and a poll after 100 new events."""
    first_chart = "import time; t = time.perf_counter(); import plotly.graph_objects as go; go.FigureWidget(); "
    first_chart += "print(time.perf_counter() - t)"
    plotly_s = float(
        subprocess.run([sys.executable, "-c", first_chart], capture_output=True, text=True, check=True).stdout
    )
    log(f"the first FigureWidget of a fresh interpreter: {plotly_s:.2f} s")
    import plotly.graph_objects as go  # noqa: PLC0415 - paid here, untimed, as a kernel's first chart would

    go.FigureWidget()
    out: dict[str, float] = {"plotly_import_s": round(plotly_s, 3)}
    for name, spec in (("", "30d"), ("_12m", "12m")):
        dash, build = _timed(lambda spec=spec: p.performance(range=spec, tz="UTC", poll=None, quality=False))
        log(f"p.performance({spec!r}): counts in {build:.2f} s; {len(dash.df['people'])} people")
        _, quality = _timed(lambda dash=dash: quality_columns(p, None, dash.window.start))
        log(f"  agreement and F1 per person: {quality:.2f} s")
        _write_edits(target, 100)
        read, refresh = _timed(dash.refresh)
        log(f"  refresh: {read} events in {refresh * 1000:.1f} ms")
        dash.close()
        out |= {f"dashboard_build{name}_s": round(build, 3), f"quality{name}_s": round(quality, 3),
                f"refresh{name}_ms": round(refresh * 1000, 1)}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--simulate-s", type=float, default=20.0)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--measure", type=Path, default=None, help="only measure a year.labnb kept before")
    args = parser.parse_args()
    if args.measure is not None:
        p = lb.Project.open(args.measure, user="owner")
        print(json.dumps({**measure(p, args.measure), "events": len(p.events), "jobs": len(p.jobs)}))
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="labnb-bench-perf-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"simulating the team for {args.simulate_s:g} s in {work}")
    template, rate, written = simulate(work, args.simulate_s)
    log(f"ingested {written} events, {rate:.1f} events/s")
    target = work / "year.labnb"
    staff = [replace(person, name=f"p{i:02d}") for i, person in enumerate(DEFAULT_TEAM * 8)][:PEOPLE]
    make_demo_team_project(target, staff).close()
    t = time.perf_counter()
    n = build_year(template, target, args.events)
    log(f"bulk-inserted {n} events in {time.perf_counter() - t:.1f} s")
    p = lb.Project.open(target, user="owner")
    measured = measure(p, target)
    print(
        json.dumps({**measured, "events_per_s_ingested": round(rate, 1), "events": len(p.events), "jobs": len(p.jobs)})
    )


if __name__ == "__main__":
    main()
