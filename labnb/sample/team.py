"""A simulated labelling team: people working a real job through labnb's real API, each in a process of
their own, on a clock that can run a month in a minute.

Why: a performance dashboard, a benchmark or a demo needs a history that looks like a team's, written the
way a team writes it (claims, the Annotator's edits with their active time, hand-ins, reviews, rework), by
several processes at once, with days, nights and weekends in it. Nothing here writes rows directly: every
change goes through :func:`labnb.workflow.editing.apply_edits`, ``Task.submit``, ``Task.review`` and
``p.jobs``, as the widgets do.

Time: every process installs the same simulated clock (:mod:`labnb.clock`),
``sim_time = sim_start + (real_now - real_start) * speed``, with ``real_start`` and ``speed`` shared by all
of them, so events written by different processes stay in causal order. People work their office hours in
their own time zone, Monday to Friday, and wait through nights and weekends. ``speed=1`` with the default
start (now) is the live mode of the demo notebook: real time, everyone at work whatever the hour, an action
every second or two (the recorded durations stay those a person would take).

Seeds: each person's choices are drawn from generators seeded by ``(seed, person, job, image, round)``
(what is drawn, what a reviewer decides) and ``(seed, person)`` (pauses), so the same seed gives the same
person the same decisions on the same pass. Which person gets which pass depends on how the processes
interleave, which the operating system decides: two runs with one seed are alike, not identical.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from labnb.errors import LabnbError
from labnb.project import Project
from labnb.sample import demo_project


class SimulationError(LabnbError):
    """A simulated person's process failed (its traceback is in the message)."""


@dataclass(frozen=True)
class Person:
    """One simulated team member.

    ``skill`` (0-1) is how close an annotator's shapes are to the truth (jitter, misses, wrong classes); for
    a reviewer, how strict they are. ``pace`` multiplies every duration (1.5: half as fast again). Work is
    Monday to Friday from ``hours[0]`` to ``hours[1]`` o'clock in ``tz``.
    """

    name: str
    role: str = "annotator"
    skill: float = 0.8
    tz: str = "UTC"
    hours: tuple[int, int] = (9, 17)
    pace: float = 1.0

    def __post_init__(self) -> None:
        if self.role not in ("annotator", "reviewer", "manager"):
            raise LabnbError(f"person '{self.name}': role must be annotator, reviewer or manager, got {self.role!r}")
        if not 0.0 <= self.skill <= 1.0:
            raise LabnbError(f"person '{self.name}': skill must be between 0 and 1, got {self.skill!r}")
        if not 0 <= self.hours[0] < self.hours[1] <= 24:
            raise LabnbError(f"person '{self.name}': hours must be (start, end) within 0-24, got {self.hours!r}")


#: The demo team: four annotators of different skill in three time zones, two reviewers, a manager.
DEFAULT_TEAM: tuple[Person, ...] = (
    Person("ana", "annotator", skill=0.95, tz="Europe/Berlin", hours=(8, 16)),
    Person("ben", "annotator", skill=0.8, tz="Europe/London", hours=(9, 17)),
    Person("chen", "annotator", skill=0.65, tz="Asia/Shanghai", hours=(9, 18), pace=0.8),
    Person("dev", "annotator", skill=0.5, tz="America/New_York", hours=(9, 17), pace=1.3),
    Person("rita", "reviewer", skill=0.7, tz="Europe/Berlin", hours=(9, 17)),
    Person("sam", "reviewer", skill=0.9, tz="America/New_York", hours=(8, 16)),
    Person("maya", "manager", skill=1.0, tz="Europe/Berlin", hours=(8, 18)),
)

#: The options of every job the simulated manager creates: two passes per image, every second pass reviewed.
JOB_OPTIONS: dict[str, Any] = {"passes_per_file": 2, "review_frequency": 2, "claim_minutes": 240.0}


def make_demo_team_project(
    path_or_url: str | Path,
    people: Sequence[Person] = DEFAULT_TEAM,
    *,
    job: str = "batch-1",
    name: str | None = None,
    owner: str = "owner",
    overwrite: bool = True,
) -> Project:
    """The sample project (8 photos, their COCO labels as ground truth) with ``people`` as members in their
    roles and a launched job ``job`` over every image (:data:`JOB_OPTIONS`). Returns it opened as ``owner``.

    With a database URL, ``name`` is the project's name in that database (default ``"demo"``)."""
    if name is not None and "://" not in str(path_or_url):
        raise LabnbError("name= is for a database URL; a SQLite file holds one project")
    p = demo_project(path_or_url, overwrite=overwrite, user=owner)
    if name is not None and name != p.name:
        raise LabnbError(f"the sample project is named '{p.name}', not '{name}'")
    for person in people:
        p.members.add(person.name, role=person.role)
    p.jobs.create(job, **JOB_OPTIONS).launch()
    return p


@dataclass
class TeamRun:
    """The running team (from :func:`simulate_team`): ``join()`` waits for the simulated period to end,
    ``stop()`` ends it early. Both return the per-person counts as a DataFrame and raise
    :class:`SimulationError` when a person's process failed."""

    people: tuple[Person, ...]
    sim_start: datetime
    sim_end: datetime
    speed: float
    real_start: float
    _processes: list[Any] = field(repr=False)
    _stop: Any = field(repr=False)
    _results: Any = field(repr=False)
    _stats: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _errors: dict[str, str] = field(default_factory=dict, repr=False)

    def sim_now(self) -> datetime:
        """The simulated time now (what every person's clock reads)."""
        return self.sim_start + timedelta(seconds=(time.time() - self.real_start) * self.speed)

    @property
    def running(self) -> bool:
        return any(proc.is_alive() for proc in self._processes)

    def join(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait (up to ``timeout`` real seconds) until every person is done; the per-person counts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for proc in self._processes:
            proc.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._collect()
        if self.running:
            raise SimulationError(f"the team is still working after {timeout} s; call stop() to end it")
        return self._report()

    def stop(self, timeout: float = 60.0) -> pd.DataFrame:
        """Ask everyone to stop after their current action and wait for them (up to ``timeout`` s)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for proc in self._processes:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self._processes:
            if proc.is_alive():  # only our own children, by handle
                proc.terminate()
                proc.join(5)
        self._collect()
        return self._report()

    def _collect(self) -> None:
        while True:
            try:
                what, name, value = self._results.get_nowait()
            except queue.Empty:
                return
            if what == "done":
                self._stats[name] = value
            elif what == "error":
                self._errors[name] = value

    def _report(self) -> pd.DataFrame:
        if self._errors:
            raise SimulationError(
                "simulated people failed:\n" + "\n".join(f"--- {n} ---\n{tb}" for n, tb in self._errors.items())
            )
        for proc, person in zip(self._processes, self.people, strict=True):
            if proc.exitcode not in (0, None) and person.name not in self._stats:
                raise SimulationError(f"person '{person.name}''s process ended with exit code {proc.exitcode}")
        frame: pd.DataFrame = pd.DataFrame.from_dict(self._stats, orient="index").fillna(0)
        frame.index.name = "user"
        return frame


def simulate_team(
    path_or_url: str | Path,
    *,
    job: str | None = None,
    people: Sequence[Person] = DEFAULT_TEAM,
    start: datetime | None = None,
    days: float = 30.0,
    speed: float = 1.0,
    seed: int = 0,
    name: str | None = None,
    live_pause: tuple[float, float] = (1.0, 2.0),
    ready_timeout: float = 120.0,
) -> TeamRun:
    """Start ``people`` working on the project at ``path_or_url`` (``name``: its name in a database), each in
    a spawned process of their own opening the project as themselves; returns at once with a
    :class:`TeamRun`.

    The simulated period runs from ``start`` (aware; default now) for ``days``, ``speed`` simulated seconds
    per real second (``speed=1``: live, real time). Annotators take ``job``'s draw tasks (default: any
    launched job), reviewers its reviews; the manager, when nothing is left to draw, creates and launches
    the next batch (``batch-2``, ...) over every image. In live mode (``speed <= 1``) people work whatever
    the hour and pause ``live_pause`` real seconds between actions."""
    if speed <= 0:
        raise LabnbError(f"speed must be positive, got {speed!r}")
    if days <= 0:
        raise LabnbError(f"days must be positive, got {days!r}")
    if start is not None and start.tzinfo is None:
        raise LabnbError(f"start must be timezone-aware, got {start!r}")
    names = [person.name for person in people]
    if len(set(names)) != len(names):
        raise LabnbError(f"people must have different names, got {names}")
    if not people:
        raise LabnbError("simulate_team needs at least one person")
    from labnb.sample.team_worker import WorkerSpec, run_person  # noqa: PLC0415 - spawned children import it

    ctx = mp.get_context("spawn")
    stop, go, results = ctx.Event(), ctx.Event(), ctx.Queue()
    #: [real_start, sim_start] as epoch seconds, written once everyone is ready (the live default start is
    #: that moment, so a live run's times are the real ones)
    origin = ctx.Array("d", 2)
    sim_start = (start or datetime.now(timezone.utc)).astimezone(timezone.utc)
    sim_end = sim_start + timedelta(days=days)
    processes = []
    for person in people:
        spec = WorkerSpec(
            location=str(path_or_url),
            project_name=name,
            person=person,
            job=job,
            days=float(days),
            speed=float(speed),
            seed=seed,
            live_pause=live_pause,
        )
        proc = ctx.Process(
            target=run_person, args=(spec, origin, go, stop, results), name=f"labnb-{person.name}", daemon=True
        )
        proc.start()
        processes.append(proc)
    ready: set[str] = set()
    deadline = time.monotonic() + ready_timeout
    early: list[tuple[str, str, Any]] = []
    while len(ready) < len(people):
        try:
            what, who, value = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            stop.set()
            raise SimulationError(f"only {sorted(ready)} were ready after {ready_timeout} s") from None
        if what == "ready":
            ready.add(who)
        else:
            early.append((what, who, value))
            if what == "error":
                stop.set()
                go.set()
                raise SimulationError(f"person '{who}' failed while starting:\n{value}")
    real_start = time.time()  # one origin for every clock, taken when everyone is ready
    if start is None:
        sim_start = datetime.fromtimestamp(real_start, timezone.utc)
        sim_end = sim_start + timedelta(days=days)
    origin[0], origin[1] = real_start, sim_start.timestamp()
    go.set()
    run = TeamRun(tuple(people), sim_start, sim_end, float(speed), real_start, processes, stop, results)
    for item in early:
        results.put(item)
    return run
