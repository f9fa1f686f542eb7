"""The dashboard's SQL: each figure is one aggregate query over the events of a window.

Every query reads one project's events in ``[window.start, window.end)`` through the covering index
``ix_events_dashboard`` and groups in the database (by local day, by person, by state change), so a
dashboard over months of a team's log reads a few thousand grouped rows, not the log. The facts these
queries group by (``work``, ``created``, ``job_id``, the pass flows) are written with each event by
:mod:`labnb.event_log`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from labnb.clock import aware
from labnb.event_log import REVIEW_KINDS
from labnb.performance.ranges import Window, local_day
from labnb.store.database import in_batches
from labnb.store.tables import events, tasks

e, d = events, tasks

#: the additive daily and per-person sums, in the order the queries return them
SUMS = ("annotations", "reviews", "labelling_s", "review_s", "rework_s")


@dataclass(frozen=True)
class Scope:
    """Which events a dashboard counts: one project, a window, optionally one person and one job."""

    project_id: int
    window: Window
    user: str | None = None
    job_id: int | None = None
    #: count only events up to this id (a dashboard's build reads up to where its refreshes take over)
    upto: int | None = None


def _sums() -> list[Any]:
    seconds = sa.func.coalesce(e.c.duration, 0.0)
    made = sa.and_(e.c.kind == "annotation.create", e.c.work.in_(("label", "rework")))
    return [
        sa.func.coalesce(sa.func.sum(sa.case((made, sa.func.coalesce(e.c.created, 0)), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((e.c.kind.in_(REVIEW_KINDS), 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((e.c.work == "label", seconds), else_=0.0)), 0.0),
        sa.func.coalesce(sa.func.sum(sa.case((e.c.work == "review", seconds), else_=0.0)), 0.0),
        sa.func.coalesce(sa.func.sum(sa.case((e.c.work == "rework", seconds), else_=0.0)), 0.0),
    ]


def _in_window(scope: Scope, *, by_person: bool = True) -> list[Any]:
    """The WHERE of the events a scope counts (``by_person=False``: the person filter is on the pass's
    drawer, applied by the caller)."""
    w = scope.window
    cond = [e.c.project_id == scope.project_id, e.c.time >= _utc(w.start), e.c.time < _utc(w.end)]
    if by_person and scope.user is not None:
        cond.append(e.c.user == scope.user)
    if scope.job_id is not None:
        cond.append(e.c.job_id == scope.job_id)
    if scope.upto is not None:
        cond.append(e.c.id <= scope.upto)
    return cond


def _utc(stamp: datetime) -> datetime:
    return stamp.astimezone(timezone.utc)


def as_date(value: Any) -> date:
    """A day from either back end (SQLite returns ISO strings)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def day_person_sums(conn: sa.Connection, scope: Scope) -> dict[tuple[date, str], list[float]]:
    """Per local day and person: annotations made, reviews, labelling / review / rework seconds (one
    grouped scan serves the daily bars and the per-person table)."""
    day = local_day(e.c.time, scope.window, conn.dialect.name).label("day")
    q = sa.select(day, e.c.user, *_sums()).where(*_in_window(scope), e.c.work.is_not(None)).group_by(day, e.c.user)
    return {(as_date(r[0]), str(r[1])): [float(v) for v in r[2:]] for r in conn.execute(q)}


def image_seconds(conn: sa.Connection, scope: Scope) -> dict[tuple[str, int], float]:
    """Per (person, image): the labelling and rework seconds they spent on it (the images they drew on)."""
    seconds = sa.func.coalesce(sa.func.sum(sa.func.coalesce(e.c.duration, 0.0)), 0.0)
    q = (
        sa.select(e.c.user, e.c.asset_id, seconds)
        .where(*_in_window(scope), e.c.work.in_(("label", "rework")), e.c.asset_id.is_not(None))
        .group_by(e.c.user, e.c.asset_id)
    )
    return {(str(u), int(a)): float(s) for u, a, s in conn.execute(q)}


def flows(conn: sa.Connection, scope: Scope) -> dict[tuple[str, str], int]:
    """Per (from state, to state): how many draw passes changed so in the window (the Sankey's links)."""
    q = sa.select(e.c.flow_from, e.c.flow_to, sa.func.count()).where(
        *_in_window(scope, by_person=False), e.c.flow_from.is_not(None)
    )
    if scope.user is not None:
        q = q.join(d, d.c.id == e.c.pass_task_id).where(d.c.assignee == scope.user)
    q = q.group_by(e.c.flow_from, e.c.flow_to)
    return {(str(a), str(b)): int(n) for a, b, n in conn.execute(q)}


@dataclass(frozen=True)
class Decision:
    """A pass's first review decision: its kind, when, and who drew the pass."""

    kind: str
    time: datetime
    drawer: str | None
    job_id: int


def reviewed(conn: sa.Connection, scope: Scope) -> set[int]:
    """The passes with a review decision in the window."""
    q = sa.select(e.c.pass_task_id).where(
        *_in_window(scope, by_person=False), e.c.flow_from.is_not(None), e.c.kind.in_(REVIEW_KINDS)
    )
    return {int(r[0]) for r in conn.execute(q.distinct())}


def first_decisions(conn: sa.Connection, project_id: int, pass_ids: Iterable[int]) -> dict[int, Decision]:
    """The first review decision of each pass (whenever it was: whether a decision in the window is the
    pass's *first* depends on what came before it)."""
    out: dict[int, Decision] = {}
    for chunk in in_batches(pass_ids):
        first = (
            sa.select(e.c.pass_task_id, sa.func.min(e.c.id).label("first_id"))
            .where(e.c.project_id == project_id, e.c.pass_task_id.in_(chunk), e.c.kind.in_(REVIEW_KINDS))
            .group_by(e.c.pass_task_id)
            .subquery()
        )
        q = (
            sa.select(e.c.pass_task_id, e.c.kind, e.c.time, d.c.assignee, d.c.job_id)
            .join(first, first.c.first_id == e.c.id)
            .join(d, d.c.id == e.c.pass_task_id)
        )
        out.update({int(p): Decision(str(k), aware(t), a, int(j)) for p, k, t, a, j in conn.execute(q)})
    return out


def rejected(conn: sa.Connection, scope: Scope) -> set[int]:
    """The passes rejected at least once in the window."""
    q = sa.select(e.c.pass_task_id).where(
        *_in_window(scope, by_person=False), e.c.flow_from.is_not(None), e.c.kind == "review.reject"
    )
    return {int(r[0]) for r in conn.execute(q.distinct())}


def completed_in(conn: sa.Connection, scope: Scope) -> set[tuple[int, int]]:
    """The images (job, asset) with a pass completed in the window: the only ones that can count as
    completed on one of its days."""
    q = (
        sa.select(d.c.job_id, d.c.asset_id)
        .select_from(e)
        .join(d, d.c.id == e.c.pass_task_id)
        .where(*_in_window(scope, by_person=False), e.c.flow_from.is_not(None), e.c.flow_to == "completed")
    )
    return {(int(j), int(a)) for j, a in conn.execute(q.distinct())}


def completions(
    conn: sa.Connection, project_id: int, images: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], datetime]:
    """Per image of a job (job, asset) among ``images`` that is completed now (every draw pass completed):
    when its last pass was completed."""
    wanted = set(images)
    by_job: dict[int, list[int]] = {}
    for job_id, asset_id in wanted:
        by_job.setdefault(job_id, []).append(asset_id)
    out: dict[tuple[int, int], datetime] = {}
    for job_ids in in_batches(by_job, 500):
        assets_of = sorted({a for j in job_ids for a in by_job[j]})
        for asset_ids in in_batches(assets_of):
            done = (
                sa.select(d.c.job_id, d.c.asset_id)
                .where(
                    d.c.project_id == project_id,
                    d.c.job_id.in_(job_ids),
                    d.c.asset_id.in_(asset_ids),
                    d.c.kind == "draw",
                    d.c.gold.is_(False),
                    d.c.attempt_id.is_(None),
                )
                .group_by(d.c.job_id, d.c.asset_id)
                .having(sa.func.sum(sa.case((d.c.state != "completed", 1), else_=0)) == 0)
                .subquery()
            )
            q = (
                sa.select(d.c.job_id, d.c.asset_id, sa.func.max(e.c.time))
                .select_from(done)
                .join(d, sa.and_(d.c.job_id == done.c.job_id, d.c.asset_id == done.c.asset_id, d.c.kind == "draw"))
                .join(e, sa.and_(e.c.pass_task_id == d.c.id, e.c.project_id == project_id))
                .where(e.c.flow_from.is_not(None), e.c.flow_to == "completed")
                .group_by(d.c.job_id, d.c.asset_id)
            )
            for j, a, t in conn.execute(q):
                if (int(j), int(a)) in wanted:
                    out[(int(j), int(a))] = aware(t)
    return out


def drawn_by(conn: sa.Connection, project_id: int, user: str) -> set[tuple[int, int]]:
    """The (job, asset) images of which ``user`` drew a pass."""
    q = sa.select(d.c.job_id, d.c.asset_id).where(
        d.c.project_id == project_id, d.c.kind == "draw", d.c.assignee == user
    )
    return {(int(j), int(a)) for j, a in conn.execute(q.distinct())}


def pass_facts(conn: sa.Connection, pass_ids: Sequence[int]) -> dict[int, tuple[str | None, int, int]]:
    """Drawer, job and image of draw passes."""
    if not pass_ids:
        return {}
    q = sa.select(d.c.id, d.c.assignee, d.c.job_id, d.c.asset_id).where(d.c.id.in_(list(pass_ids)))
    return {int(i): (a, int(j), int(s)) for i, a, j, s in conn.execute(q)}


#: the columns :func:`new_events` reads
NEW_COLUMNS = (
    "id", "time", "user", "kind", "work", "duration", "created", "asset_id", "job_id", "flow_from", "flow_to",
    "pass_task_id",
)  # fmt: skip


def new_events(conn: sa.Connection, project_id: int, after: int) -> list[Any]:
    """The project's events with id above ``after`` that a dashboard counts (work or a pass flow)."""
    q = (
        sa.select(*(e.c[c] for c in NEW_COLUMNS))
        .where(e.c.project_id == project_id, e.c.id > after)
        .where(sa.or_(e.c.work.is_not(None), e.c.flow_from.is_not(None)))
        .order_by(e.c.id)
    )
    return list(conn.execute(q))


def last_event_id(conn: sa.Connection, project_id: int) -> int:
    q = sa.select(sa.func.coalesce(sa.func.max(e.c.id), 0)).where(e.c.project_id == project_id)
    return int(conn.execute(q).scalar_one())
