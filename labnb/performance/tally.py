"""What a dashboard shows, as running totals: built from the SQL aggregates once, then kept current by
folding in each new event read by id, so a refresh costs the new events, not the range.

Everything the figures and tables show derives from a :class:`Tally` (:meth:`Tally.daily`,
:meth:`Tally.people`, :meth:`Tally.sankey`); the fold (:meth:`Tally.add`) applies the same definitions
to one event that the queries of :mod:`labnb.performance.queries` apply to many, and the tests hold the
two to each other and to an independent computation from ``p.events.df``.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from labnb.clock import aware
from labnb.event_log import REVIEW_KINDS
from labnb.performance import queries as q
from labnb.performance.queries import Decision, Scope

#: draw-pass states in the order the Sankey lays them out
STATES = ("none", "annotated", "review", "to_fix", "completed")
#: how far back (in event ids) a refresh looks again: on PostgreSQL a transaction holding a lower id can
#: commit after one holding a higher id; ids already counted are skipped
LOOKBACK = 500

DAILY_COLUMNS = [*q.SUMS, "images_completed"]
PEOPLE_COLUMNS = [
    "annotations", "images", "active_hours", "annotations_per_hour", "median_s_per_image", "reviews",
    "first_review_acceptance", "rework_rate", "agreement", "f1_ground_truth", "f1_gold",
]  # fmt: skip


class Tally:
    """The running totals of one :class:`~labnb.performance.queries.Scope`."""

    def __init__(self, conn: sa.Connection, scope: Scope) -> None:
        pid, win = scope.project_id, scope.window
        self.high = q.last_event_id(conn, pid)  # the build counts up to here; refreshes fold in the rest
        self.scope = scope = replace(scope, upto=self.high)
        self.seen = {int(r.id) for r in q.new_events(conn, pid, max(0, self.high - LOOKBACK)) if r.id <= self.high}
        self.days: dict[date, list[float]] = {day: [0.0] * len(q.SUMS) for day in win.days}
        self.persons: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(q.SUMS))
        for (day, user), sums in q.day_person_sums(conn, scope).items():
            if day in self.days:
                self.days[day] = [a + b for a, b in zip(self.days[day], sums, strict=True)]
                self.persons[user] = [a + b for a, b in zip(self.persons[user], sums, strict=True)]
        self.image_s: dict[str, dict[int, float]] = defaultdict(dict)  # person -> image -> seconds
        for (user, asset), seconds in q.image_seconds(conn, scope).items():
            self.image_s[user][asset] = seconds
        self.links: Counter[tuple[str, str]] = Counter(q.flows(conn, scope))
        #: the per-person rows last shown, and the people whose row must be made again (None: everyone)
        self._rows: dict[str, dict[str, Any]] = {}
        self._stale: set[str] | None = None
        self.rejected = q.rejected(conn, scope)
        self.first: dict[int, Decision] = {}
        #: drawer -> {pass: accepted at its first review}, for the passes first reviewed in the range
        self.decided: dict[str, dict[int, bool]] = defaultdict(dict)
        for pass_id, dec in q.first_decisions(conn, pid, q.reviewed(conn, scope)).items():
            self._note_first(pass_id, dec)
        self.passes: dict[int, tuple[str | None, int, int]] = {}
        self.quality: pd.DataFrame | None = None
        self._completed_days: Counter[date] | None = None
        self._completions(conn)

    def _note_first(self, pass_id: int, dec: Decision) -> None:
        if pass_id in self.first:
            return
        self.first[pass_id] = dec
        s = self.scope
        if dec.drawer is not None and s.window.holds(dec.time) and (s.job_id is None or dec.job_id == s.job_id):
            self.decided[dec.drawer][pass_id] = dec.kind == "review.accept"
            self._touch(dec.drawer)

    def _touch(self, user: str | None) -> None:
        if user is not None and self._stale is not None:
            self._stale.add(user)

    def _completions(self, conn: sa.Connection) -> None:
        s = self.scope
        self.completed = q.completions(conn, s.project_id, q.completed_in(conn, s))
        self.drawn = None if s.user is None else q.drawn_by(conn, s.project_id, s.user)
        self._completed_days = None

    def _recheck(self, conn: sa.Connection, images: set[tuple[int, int]]) -> None:
        """Ask again whether the images (job, asset) whose passes moved are completed now, and since when."""
        s = self.scope
        if s.job_id is not None:
            images = {i for i in images if i[0] == s.job_id}
        self.completed = {k: t for k, t in self.completed.items() if k not in images}
        self.completed.update(q.completions(conn, s.project_id, images))
        self._completed_days = None
        if self.drawn is not None:
            self.drawn |= {(job, asset) for drawer, job, asset in self.passes.values() if drawer == s.user}

    # -- folding in new events -----------------------------------------------------------------------
    def refresh(self, conn: sa.Connection) -> tuple[int, set[str]]:
        """Fold in the events written since the last read; returns how many were new and which parts
        changed ("daily", "people", "sankey")."""
        rows = [
            r for r in q.new_events(conn, self.scope.project_id, max(0, self.high - LOOKBACK)) if r.id not in self.seen
        ]
        if not rows:
            return 0, set()
        flows = [int(r.pass_task_id) for r in rows if r.pass_task_id is not None and r.pass_task_id not in self.passes]
        self.passes.update(q.pass_facts(conn, flows))
        # a review decision of a pass not seen yet: its first one may be older than the window (or this one)
        unseen = {int(r.pass_task_id) for r in rows if r.kind in REVIEW_KINDS and int(r.pass_task_id) not in self.first}
        for pass_id, dec in q.first_decisions(conn, self.scope.project_id, unseen).items():
            self._note_first(pass_id, dec)
        changed: set[str] = set()
        for r in rows:
            changed |= self.add(r)
        moved = {
            (self.passes[int(r.pass_task_id)][1], self.passes[int(r.pass_task_id)][2])
            for r in rows
            if r.pass_task_id is not None and int(r.pass_task_id) in self.passes
        }
        if moved:
            self._recheck(conn, moved)
            changed |= {"daily"}
        self.high = max(self.high, *(int(r.id) for r in rows))
        self.seen = {i for i in self.seen if i > self.high - LOOKBACK} | {int(r.id) for r in rows}
        return len(rows), changed

    def add(self, r: Any) -> set[str]:
        """Fold one event row (the columns of :data:`~labnb.performance.queries.NEW_COLUMNS`) in."""
        s, changed = self.scope, set()
        stamp = aware(r.time)
        day = s.window.day_of(stamp)
        in_window = day in self.days
        in_job = s.job_id is None or r.job_id == s.job_id
        if r.work is not None and in_window and in_job and (s.user is None or r.user == s.user):
            sums = _contribution(r)
            self.days[day] = [a + b for a, b in zip(self.days[day], sums, strict=True)]
            self.persons[r.user] = [a + b for a, b in zip(self.persons[r.user], sums, strict=True)]
            if r.work in ("label", "rework") and r.asset_id is not None:
                mine = self.image_s[r.user]
                mine[int(r.asset_id)] = mine.get(int(r.asset_id), 0.0) + float(r.duration or 0.0)
            self._touch(r.user)
            changed |= {"daily", "people"}
        if r.pass_task_id is not None:
            pass_id = int(r.pass_task_id)
            drawer, job_id, _ = self.passes.get(pass_id, (None, r.job_id, 0))
            if in_window and in_job and (s.user is None or drawer == s.user):
                self.links[(str(r.flow_from), str(r.flow_to))] += 1
                changed.add("sankey")
            if r.kind in REVIEW_KINDS:
                # refresh() read the pass's first decision from the log already; this is for a lone add()
                self._note_first(pass_id, Decision(str(r.kind), stamp, drawer, int(job_id)))
                if r.kind == "review.reject" and in_window and in_job:
                    self.rejected.add(pass_id)
                if in_window:
                    self._touch(drawer)
                    changed.add("people")
        return changed

    # -- what the dashboard shows --------------------------------------------------------------------
    def daily(self) -> pd.DataFrame:
        """One row per local day of the range (see the dashboard's docstring for each column)."""
        frame: pd.DataFrame = pd.DataFrame.from_dict(self.days, orient="index", columns=list(q.SUMS))
        frame.index.name = "day"
        frame[["annotations", "reviews"]] = frame[["annotations", "reviews"]].astype(int)
        if self._completed_days is None:
            self._completed_days = Counter(
                self.scope.window.day_of(t) for key, t in self.completed.items() if self._counts(key)
            )
        frame["images_completed"] = [int(self._completed_days.get(day, 0)) for day in frame.index]
        return frame

    def _counts(self, image: tuple[int, int]) -> bool:
        return self.drawn is None or image in self.drawn

    def sankey(self) -> pd.DataFrame:
        """The flows between draw-pass states in the range: source, target, count."""
        order = {state: i for i, state in enumerate(STATES)}
        rows = sorted(self.links.items(), key=lambda kv: (order.get(kv[0][0], 99), order.get(kv[0][1], 99)))
        frame: pd.DataFrame = pd.DataFrame(
            [(a, b, n) for (a, b), n in rows if n], columns=["source", "target", "count"]
        )
        return frame

    def people(self) -> pd.DataFrame:
        """One row per person active in the range (or whose passes had their first review in it). Rows are
        made again only for the people whose numbers changed since the last call."""
        s = self.scope
        users = {u for u, sums in self.persons.items() if any(sums)} | set(self.decided) | set(self.image_s)
        if s.user is not None:
            users &= {s.user}
        stale = users if self._stale is None else (self._stale & users) | (users - set(self._rows))
        for user in stale:
            self._rows[user] = self._row(user)
        self._stale = set()
        rows = [self._rows[u] for u in sorted(users)]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["user", *PEOPLE_COLUMNS[:-3]]).set_index("user")
        quality = self.quality if self.quality is not None else pd.DataFrame(columns=PEOPLE_COLUMNS[-3:])
        for column in PEOPLE_COLUMNS[-3:]:
            values = quality[column] if column in quality else pd.Series(dtype=float)
            frame[column] = [float(values.get(u, np.nan)) for u in frame.index]
        return frame

    def _row(self, user: str) -> dict[str, Any]:
        made, reviews, label_s, review_s, rework_s = self.persons.get(user, [0.0] * len(q.SUMS))
        drawing_h = (label_s + rework_s) / 3600
        images = list(self.image_s.get(user, {}).values())
        decided = self.decided.get(user, {})
        return {
            "user": user,
            "annotations": int(made),
            "images": len(images),
            "active_hours": (label_s + review_s + rework_s) / 3600,
            "annotations_per_hour": made / drawing_h if drawing_h > 0 else math.nan,
            "median_s_per_image": statistics.median(images) if images else math.nan,
            "reviews": int(reviews),
            "first_review_acceptance": _share(decided.values()),
            "rework_rate": _share(p in self.rejected for p in decided),
        }


def _contribution(r: Any) -> list[float]:
    """One event's part of the sums (the order of :data:`~labnb.performance.queries.SUMS`)."""
    seconds = float(r.duration or 0.0)
    made = float(r.created or 0) if r.kind == "annotation.create" and r.work in ("label", "rework") else 0.0
    return [
        made,
        1.0 if r.kind in REVIEW_KINDS else 0.0,
        seconds if r.work == "label" else 0.0,
        seconds if r.work == "review" else 0.0,
        seconds if r.work == "rework" else 0.0,
    ]


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else math.nan
