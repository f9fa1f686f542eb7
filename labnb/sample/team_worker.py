"""The body of one simulated person's process (:mod:`labnb.sample.team`): their clock, their hours, and what
an annotator, a reviewer or a manager does, through the same calls the widgets make.

Kept apart from :mod:`labnb.sample.team` because it is what a spawned child imports and runs; the parent
only starts processes and reads their results.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from labnb.clock import set_clock
from labnb.errors import AccessDenied, LabnbError, TaskStateError
from labnb.geometry import Box, box_iou
from labnb.project import Project
from labnb.widgets.serializers import shape_to_dto
from labnb.workflow.editing import apply_edits

if TYPE_CHECKING:
    from labnb.sample.team import Person
    from labnb.workflow.tasks import Kind, Task


@dataclass(frozen=True)
class WorkerSpec:
    """What a child process needs to be one person of the team (picklable, for the spawn context)."""

    location: str
    project_name: str | None
    person: Person
    job: str | None
    days: float
    speed: float
    seed: int
    live_pause: tuple[float, float]


@dataclass(frozen=True)
class SimClock:
    """``sim_start + (real_now - real_start) * speed``: the same function in every process of a run, so the
    events they write stay in causal order (``real_now`` is the machine's wall clock, shared by all)."""

    sim_start: datetime
    real_start: float
    speed: float

    def __call__(self) -> datetime:
        return self.sim_start + timedelta(seconds=(time.time() - self.real_start) * self.speed)


class Finished(Exception):
    """The simulated period is over, or the run was stopped."""


class ClaimLost(LabnbError):
    """The task is no longer this person's to work on (the claim lapsed and was taken over)."""


class Schedule:
    """One person's time: office hours in their zone, and waiting (really sleeping) until the simulated
    clock reaches the end of what they are doing."""

    def __init__(self, spec: WorkerSpec, clock: SimClock, stop: Any, rng: random.Random) -> None:
        self.spec, self.clock, self.stop, self.rng = spec, clock, stop, rng
        self.sim_end = clock.sim_start + timedelta(days=spec.days)
        self.zone = ZoneInfo(spec.person.tz)
        self.live = spec.speed <= 1.0
        self.cursor = clock()

    def spend(self, seconds: float) -> None:
        """Take ``seconds`` of simulated time (an action's duration or a pause); returns when they are over."""
        if self.live:
            self._sleep_real(self.rng.uniform(*self.spec.live_pause))
            if self.clock() >= self.sim_end:
                raise Finished
            return
        self.cursor = max(self.cursor, self.clock()) + timedelta(seconds=seconds)
        self._sleep_until(self.cursor)

    def at_work(self) -> None:
        """Return at once during office hours; otherwise sleep until the next working morning."""
        if self.live:
            return
        start = self._next_start(max(self.cursor, self.clock()))
        if start > self.cursor:
            self.cursor = start
            self._sleep_until(start)

    def _next_start(self, t: datetime) -> datetime:
        h0, h1 = self.spec.person.hours
        local = t.astimezone(self.zone)
        if local.weekday() < 5 and h0 <= local.hour + local.minute / 60 < h1:
            return t
        day = local.date()
        for ahead in range(8):
            d = day + timedelta(days=ahead)
            begin = datetime(d.year, d.month, d.day, h0, tzinfo=self.zone) + timedelta(minutes=self.rng.uniform(0, 20))
            if d.weekday() < 5 and begin > t:
                return begin
        raise AssertionError("a working day always comes within a week")

    def _sleep_until(self, target: datetime) -> None:
        if target >= self.sim_end:
            self._sleep_real((self.sim_end - self.clock()).total_seconds() / self.spec.speed)
            raise Finished
        while True:
            left = (target - self.clock()).total_seconds() / self.spec.speed
            if left <= 0:
                return
            self._sleep_real(min(left, 0.25))

    def _sleep_real(self, seconds: float) -> None:
        if self.stop.is_set() or self.stop.wait(max(0.0, seconds)):
            raise Finished


def _seconds(rng: random.Random, median: float, pace: float) -> float:
    """A plausible human duration: log-normal around ``median`` seconds, scaled by the person's pace."""
    return round(pace * rng.lognormvariate(math.log(median), 0.35), 3)


class Worker:
    """One person at work: claims what their role takes, works it through the real API, counts it."""

    def __init__(self, p: Project, spec: WorkerSpec, schedule: Schedule) -> None:
        self.p, self.spec, self.schedule = p, spec, schedule
        self.person = spec.person
        self.stats: Counter[str] = Counter()
        self.rounds: Counter[int] = Counter()
        self._truth: dict[int, list[Box]] = {}
        self._labels = [c.name for c in p.schema.classes]

    # -- the person's own seeded choices ---------------------------------------------------------------
    def _rng(self, task: Task, what: str) -> random.Random:
        """Choices on one pass: seeded by the person, the job, the image and how often they came to it."""
        job = task.job.name
        name = self.p.asset(task.asset_id).file_name
        key = f"{self.spec.seed}|{self.person.name}|{what}|{job}|{name}|{task.pass_number}|{self.rounds[task.id]}"
        return random.Random(key)  # noqa: S311 - a simulation, not a secret

    def _truth_of(self, asset_id: int) -> list[Box]:
        """The image's ground truth as boxes (what a careful person would draw)."""
        if asset_id not in self._truth:
            shapes = self.p.get_annotations(asset_id, source="ground_truth")
            boxes = []
            for s in shapes:
                if s.label is None:
                    continue
                x, y, w, h = s.bbox
                if w > 1 and h > 1:
                    boxes.append(Box(x, y, w, h, label=s.label))
            self._truth[asset_id] = boxes
        return self._truth[asset_id]

    def _perturb(self, box: Box, rng: random.Random, skill: float, asset_id: int) -> Box:
        asset = self.p.asset(asset_id)
        sigma = 0.15 * (1.0 - skill)
        x = box.x + rng.gauss(0, sigma) * box.w
        y = box.y + rng.gauss(0, sigma) * box.h
        w = box.w * math.exp(rng.gauss(0, sigma))
        h = box.h * math.exp(rng.gauss(0, sigma))
        x, y = min(max(0.0, x), asset.width - 2.0), min(max(0.0, y), asset.height - 2.0)
        w, h = max(2.0, min(w, asset.width - x)), max(2.0, min(h, asset.height - y))
        label = box.label
        if rng.random() < 0.2 * (1.0 - skill) and len(self._labels) > 1:
            label = rng.choice([n for n in self._labels if n != box.label])
        return Box(x, y, w, h, label=label)

    def _edit(self, task: Task, asset_id: int, edit: dict[str, Any]) -> int:
        """Send one edit as the Annotator does (its dict, its active time) and return the annotation's id."""
        (result,) = apply_edits(self.p, asset_id, [edit], task_id=task.id if task.kind == "draw" else task.draw_task_id)
        if not result["ok"]:
            mine = self.p.task(task.id)
            if mine.assignee != self.person.name or mine.state not in ("none", "to_fix", "review"):
                raise ClaimLost(result["message"])
            raise LabnbError(f"{self.person.name}: edit of task {task.id} refused: {result['message']}")
        self.stats[f"edit_{edit['op']}"] += 1
        return int(result["id"])

    def _create(self, task: Task, box: Box, seconds: float) -> int:
        self.schedule.spend(seconds)
        cid = f"c{self.stats['edit_create']}"
        dto = shape_to_dto(box, cid)
        return self._edit(
            task, task.asset_id, {"op": "create", "cid": cid, "shape": dto, "duration_ms": seconds * 1000}
        )

    def _update(self, task: Task, annotation_id: int, box: Box, seconds: float) -> None:
        self.schedule.spend(seconds)
        dto = shape_to_dto(box, f"u{annotation_id}")
        dto["id"] = annotation_id
        edit = {"op": "update", "id": annotation_id, "cid": f"u{annotation_id}", "shape": dto}
        self._edit(task, task.asset_id, {**edit, "duration_ms": seconds * 1000})

    def _delete(self, task: Task, annotation_id: int, seconds: float) -> None:
        self.schedule.spend(seconds)
        edit = {"op": "delete", "id": annotation_id, "cid": f"d{annotation_id}", "duration_ms": seconds * 1000}
        self._edit(task, task.asset_id, edit)

    # -- annotators ------------------------------------------------------------------------------------
    def draw(self, task: Task) -> None:
        """A first pass: the truth, perturbed by skill (misses, jitter, wrong classes, a stray box deleted or
        left), some boxes adjusted after drawing, then the hand-in."""
        rng, skill, pace = self._rng(task, "draw"), self.person.skill, self.person.pace
        for box in self._truth_of(task.asset_id):
            if rng.random() < 0.25 * (1.0 - skill):
                continue  # missed
            drawn = self._perturb(box, rng, skill, task.asset_id)
            ident = self._create(task, drawn, _seconds(rng, 9.0, pace))
            if rng.random() < 0.3:
                better = self._perturb(box, rng, (1.0 + skill) / 2, task.asset_id)
                better.label = drawn.label
                self._update(task, ident, better, _seconds(rng, 4.0, pace))
        if rng.random() < 0.3 * (1.0 - skill) + 0.03:
            asset = self.p.asset(task.asset_id)
            stray = Box(rng.uniform(0, asset.width * 0.7), rng.uniform(0, asset.height * 0.7), 40.0, 40.0)
            stray.label = rng.choice(self._labels)
            ident = self._create(task, stray, _seconds(rng, 6.0, pace))
            if rng.random() < 0.5:
                self._delete(task, ident, _seconds(rng, 2.0, pace))
        self._submit(task, rng)

    def rework(self, task: Task) -> None:
        """A pass sent back to fix: extras deleted, wrong classes corrected, most misses drawn, handed in."""
        rng, skill, pace = self._rng(task, "rework"), (1.0 + self.person.skill) / 2, self.person.pace
        self.schedule.spend(_seconds(rng, 10.0, pace))  # reading the comment
        truth = self._truth_of(task.asset_id)
        drawn = task.shapes()
        pairs, extras, missed = _match(drawn, truth)
        for i in extras:
            ident = drawn[i].id
            assert ident is not None
            self._delete(task, ident, _seconds(rng, 2.0, pace))
        for i, j in pairs:
            ident = drawn[i].id
            assert ident is not None
            if drawn[i].label != truth[j].label:
                fixed = self._perturb(truth[j], rng, 1.0, task.asset_id)
                self._update(task, ident, fixed, _seconds(rng, 5.0, pace))
        for j in missed:
            if rng.random() < skill:
                self._create(task, self._perturb(truth[j], rng, skill, task.asset_id), _seconds(rng, 9.0, pace))
        self.stats["reworks"] += 1
        self._submit(task, rng)

    def _submit(self, task: Task, rng: random.Random) -> None:
        seconds = _seconds(rng, 3.0, self.person.pace)
        self.schedule.spend(seconds)
        task.submit(duration=seconds)
        self.stats["submits"] += 1
        self.rounds[task.id] += 1

    # -- reviewers -------------------------------------------------------------------------------------
    def review(self, task: Task) -> None:
        """Look at the pass, count its errors against the truth, and accept, fix or reject it: stricter
        reviewers (higher skill) reject more, and worse drawing is rejected more often."""
        rng, strict, pace = self._rng(task, "review"), self.person.skill, self.person.pace
        drawn = task.shapes()
        truth = self._truth_of(task.asset_id)
        pairs, extras, missed = _match(drawn, truth, iou=0.4 + 0.2 * strict)
        wrong = [(i, j) for i, j in pairs if drawn[i].label != truth[j].label]
        errors = len(extras) + len(missed) + len(wrong)
        look = _seconds(rng, 12.0 + 4.0 * len(drawn), pace)
        self.schedule.spend(look)
        if errors == 0 or rng.random() < 0.15 * (1.0 - strict):
            task.review("accept", duration=look)
            self.stats["accepts"] += 1
        elif errors == 1 and rng.random() < 0.6:
            self._fix(task, drawn, truth, wrong, extras, missed, rng, look)
            self.stats["fixes"] += 1
        elif rng.random() > 0.5 + 0.4 * strict:
            task.review("accept", duration=look)  # let through
            self.stats["accepts"] += 1
        else:
            parts = [f"{n} {what}" for n, what in ((len(missed), "missed"), (len(wrong), "wrong class"),
                                                     (len(extras), "extra")) if n]  # fmt: skip
            task.review("reject", comment="please fix: " + ", ".join(parts), duration=look)
            self.stats["rejects"] += 1

    def _fix(
        self,
        task: Task,
        drawn: list[Any],
        truth: list[Box],
        wrong: list[tuple[int, int]],
        extras: list[int],
        missed: list[int],
        rng: random.Random,
        look: float,
    ) -> None:
        """Fix a pass with one error: in the panel (edits on the pass, then "fix"), or as a whole set of
        corrected shapes handed to ``review("fix", shapes=...)``."""
        pace = self.person.pace
        if rng.random() < 0.5:
            for i, j in wrong:
                self._update(task, int(drawn[i].id), self._perturb(truth[j], rng, 1.0, task.asset_id), 4.0 * pace)
            for i in extras:
                self._delete(task, int(drawn[i].id), 2.0 * pace)
            for j in missed:
                self._create(task, self._perturb(truth[j], rng, 1.0, task.asset_id), _seconds(rng, 8.0, pace))
            task.review("fix", duration=look)
            return
        keep = {i for i, _ in wrong} | set(extras)
        shapes = [Box(*d.bbox, label=d.label) for i, d in enumerate(drawn) if i not in keep]
        shapes += [self._perturb(truth[j], rng, 1.0, task.asset_id) for _, j in wrong]
        shapes += [self._perturb(truth[j], rng, 1.0, task.asset_id) for j in missed]
        seconds = _seconds(rng, 10.0, pace)
        self.schedule.spend(seconds)
        task.review("fix", shapes=shapes, duration=look + seconds)

    # -- the manager -----------------------------------------------------------------------------------
    def manage(self) -> None:
        """When no launched job has a free pass left, create and launch the next batch over every image."""
        free = 0
        for job in self.p.jobs:
            if job.state == "launched":
                t = job.tasks
                free += int(((t["kind"] == "draw") & (t["state"] == "none") & t["assignee"].isna()).sum())
        if free == 0:
            from labnb.sample.team import JOB_OPTIONS  # noqa: PLC0415 - team imports this module lazily

            name = f"batch-{len(self.p.jobs) + 1}"
            self.p.jobs.create(name, **JOB_OPTIONS).launch()
            self.stats["jobs_created"] += 1

    # -- the day ---------------------------------------------------------------------------------------
    def run(self) -> None:
        role = self.person.role
        rng = self.schedule.rng
        while True:
            self.schedule.at_work()
            if role == "manager":
                self.manage()
                self.schedule.spend(rng.uniform(600, 1800))
                continue
            kind: Kind = "draw" if role == "annotator" else "review"
            self.schedule.spend(_seconds(rng, 3.0, self.person.pace))  # opening the next task
            self.schedule.at_work()  # nobody starts a task after hours
            task = self.p.next_task(kind, self.spec.job)
            if task is None:
                self.stats["idle"] += 1
                self.schedule.spend(rng.uniform(300, 1200))
                continue
            self.stats["claims"] += 1
            try:
                if kind == "review":
                    self.review(task)
                elif task.state == "to_fix":
                    self.rework(task)
                else:
                    self.draw(task)
            except (ClaimLost, TaskStateError, AccessDenied):
                # a claim that lapsed and was taken over: a person reads the message and moves on; counted,
                # so a run can show it never happened (any other refusal fails the run)
                self.stats["lost"] += 1
            self.schedule.spend(rng.expovariate(1 / 45.0) + 5.0)  # between tasks
            if rng.random() < 0.04:
                self.schedule.spend(rng.uniform(600, 1800))  # a coffee break


def _match(drawn: list[Any], truth: list[Box], iou: float = 0.5) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Greedy one-to-one matching of drawn shapes to the truth by box IoU (class ignored): the pairs, the
    drawn shapes matching nothing, and the truth nobody drew."""
    if not drawn or not truth:
        return [], list(range(len(drawn))), list(range(len(truth)))
    m = box_iou(np.array([d.bbox for d in drawn]), np.array([t.bbox for t in truth]))
    pairs: list[tuple[int, int]] = []
    for flat in np.argsort(-m, axis=None):
        i, j = divmod(int(flat), m.shape[1])
        if m[i, j] < iou:
            break
        if all(i != a and j != b for a, b in pairs):
            pairs.append((i, j))
    used_d, used_t = {i for i, _ in pairs}, {j for _, j in pairs}
    return pairs, [i for i in range(len(drawn)) if i not in used_d], [j for j in range(len(truth)) if j not in used_t]


def run_person(spec: WorkerSpec, origin: Any, go: Any, stop: Any, results: Any) -> None:
    """A spawned process's target: open the project as this person, wait for the common start, work until
    the period ends or the run is stopped, and report the counts (or the traceback) on ``results``."""
    name = spec.person.name
    p: Project | None = None
    try:
        p = Project.open(spec.location, name=spec.project_name, user=name)
        results.put(("ready", name, None))
        while not go.wait(0.25):
            if stop.is_set():
                return
        clock = SimClock(datetime.fromtimestamp(origin[1], timezone.utc), float(origin[0]), spec.speed)
        set_clock(clock)
        rng = random.Random(f"{spec.seed}|{name}|time")  # noqa: S311 - a simulation
        worker = Worker(p, spec, Schedule(spec, clock, stop, rng))
        begun = time.perf_counter()
        with contextlib.suppress(Finished):
            worker.run()
        stats: dict[str, Any] = dict(worker.stats)
        stats["busy_s"] = time.perf_counter() - begun
        results.put(("done", name, stats))
    except BaseException:
        results.put(("error", name, traceback.format_exc()))
    finally:
        if p is not None:
            p.close()


__all__ = ["Finished", "Schedule", "SimClock", "Worker", "WorkerSpec", "run_person"]
