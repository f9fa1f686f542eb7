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
from datetime import date, timezone
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

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
        for day, sums in q.daily_sums(conn, scope).items():
            if day in self.days:
                self.days[day] = sums
        self.persons: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(q.SUMS), q.person_sums(conn, scope))
        self.image_s: dict[tuple[str, int], float] = defaultdict(float, q.image_seconds(conn, scope))
        self.links: Counter[tuple[str, str]] = Counter(q.flows(conn, scope))
        self.first: dict[int, Decision] = q.first_decisions(conn, pid, q.reviewed(conn, scope))
        self.rejected = q.rejected(conn, scope)
        self.passes: dict[int, tuple[str | None, int, int]] = {}
        self.quality: pd.DataFrame | None = None
        self._completions(conn)

    def _completions(self, conn: sa.Connection) -> None:
        s = self.scope
        self.completed = q.completions(conn, s.project_id, s.job_id, q.completed_in(conn, s))
        self.drawn = None if s.user is None else q.drawn_by(conn, s.project_id, s.user)

    def _recheck(self, conn: sa.Connection, assets: list[int]) -> None:
        """Ask again whether the images whose passes moved are completed now, and since when."""
        s = self.scope
        self.completed = {k: t for k, t in self.completed.items() if k[1] not in set(assets)}
        self.completed.update(q.completions(conn, s.project_id, s.job_id, assets))
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
        self.first.update(q.first_decisions(conn, self.scope.project_id, unseen))
        changed: set[str] = set()
        for r in rows:
            changed |= self.add(r)
        moved = {
            self.passes[int(r.pass_task_id)][2]
            for r in rows
            if r.pass_task_id is not None and int(r.pass_task_id) in self.passes
        }
        if moved:
            self._recheck(conn, sorted(moved))
            changed |= {"daily"}
        self.high = max(self.high, *(int(r.id) for r in rows))
        self.seen = {i for i in self.seen if i > self.high - LOOKBACK} | {int(r.id) for r in rows}
        return len(rows), changed

    def add(self, r: Any) -> set[str]:
        """Fold one event row (the columns of :data:`~labnb.performance.queries.NEW_COLUMNS`) in."""
        s, changed = self.scope, set()
        stamp = r.time if r.time.tzinfo else r.time.replace(tzinfo=timezone.utc)
        day = s.window.day_of(stamp)
        in_window = day in self.days
        in_job = s.job_id is None or r.job_id == s.job_id
        if r.work is not None and in_window and in_job and (s.user is None or r.user == s.user):
            sums = _contribution(r)
            self.days[day] = [a + b for a, b in zip(self.days[day], sums, strict=True)]
            self.persons[r.user] = [a + b for a, b in zip(self.persons[r.user], sums, strict=True)]
            if r.work in ("label", "rework") and r.asset_id is not None:
                self.image_s[(r.user, int(r.asset_id))] += float(r.duration or 0.0)
            changed |= {"daily", "people"}
        if r.pass_task_id is not None:
            pass_id = int(r.pass_task_id)
            drawer, job_id, _ = self.passes.get(pass_id, (None, r.job_id, 0))
            if in_window and in_job and (s.user is None or drawer == s.user):
                self.links[(str(r.flow_from), str(r.flow_to))] += 1
                changed.add("sankey")
            if r.kind in REVIEW_KINDS:
                # refresh() read the pass's first decision from the log already; this is for a lone add()
                self.first.setdefault(pass_id, Decision(str(r.kind), stamp, drawer, int(job_id)))
                if in_window:
                    changed.add("people")
                if r.kind == "review.reject" and in_window and in_job:
                    self.rejected.add(pass_id)
        return changed

    # -- what the dashboard shows --------------------------------------------------------------------
    def daily(self) -> pd.DataFrame:
        """One row per local day of the range (see the dashboard's docstring for each column)."""
        frame: pd.DataFrame = pd.DataFrame.from_dict(self.days, orient="index", columns=list(q.SUMS))
        frame.index.name = "day"
        frame[["annotations", "reviews"]] = frame[["annotations", "reviews"]].astype(int)
        counts = Counter(self.scope.window.day_of(t) for key, t in self.completed.items() if self._counts(key))
        frame["images_completed"] = [int(counts.get(day, 0)) for day in frame.index]
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
        """One row per person active in the range (or whose passes had their first review in it)."""
        s = self.scope
        reviewed: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        for pass_id, dec in self.first.items():
            if dec.drawer is None or not s.window.holds(dec.time) or (s.job_id is not None and dec.job_id != s.job_id):
                continue
            reviewed[dec.drawer].append((dec.kind == "review.accept", pass_id in self.rejected))
        per_image: dict[str, list[float]] = defaultdict(list)
        for (user, _), seconds in self.image_s.items():
            per_image[user].append(seconds)
        users = {u for u, sums in self.persons.items() if any(sums)} | set(reviewed) | set(per_image)
        if s.user is not None:
            users &= {s.user}
        rows = []
        for user in sorted(users):
            made, reviews, label_s, review_s, rework_s = self.persons.get(user, [0.0] * len(q.SUMS))
            drawing_h = (label_s + rework_s) / 3600
            decided = reviewed.get(user, [])
            rows.append(
                {
                    "user": user,
                    "annotations": int(made),
                    "images": len(per_image.get(user, [])),
                    "active_hours": (label_s + review_s + rework_s) / 3600,
                    "annotations_per_hour": made / drawing_h if drawing_h > 0 else math.nan,
                    "median_s_per_image": statistics.median(per_image[user]) if per_image.get(user) else math.nan,
                    "reviews": int(reviews),
                    "first_review_acceptance": _share(a for a, _ in decided),
                    "rework_rate": _share(r for _, r in decided),
                }
            )
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["user", *PEOPLE_COLUMNS[:-3]]).set_index("user")
        quality = self.quality if self.quality is not None else pd.DataFrame(columns=PEOPLE_COLUMNS[-3:])
        for column in PEOPLE_COLUMNS[-3:]:
            values = quality[column] if column in quality else pd.Series(dtype=float)
            frame[column] = [float(values.get(u, np.nan)) for u in frame.index]
        return frame


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
