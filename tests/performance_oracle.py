"""An independent computation of the performance dashboard's tables (``daily``, ``people``, ``sankey``) from
the raw event log and the tasks, following docs (the dashboard contract) word by word, in plain pandas.

Why a second implementation: the dashboard's author cannot check their own reading of the definitions. This
module never looks at the ``work`` column the dashboard writes: it derives each event's work class from the
sequence of events (who claimed a pass, when it was sent back to fix) and the tasks table. It is slow and
simple on purpose: one pass over the events in id order.

Readings of the contract this oracle makes (where the words leave a choice):

- Work classes apply to annotation edits, ``task.submit`` and ``review.*`` only; ``task.claim`` and
  ``task.release`` are NULL whatever their task (the NULL list names them).
- The drawer of a pass at an event is whoever last claimed that draw task before it (the assignee of the
  tasks table when no claim is in the log).
- ``annotation.update/delete/restore`` events carry no task; their task is the annotation's (``annotations``
  table), and an edit whose annotation lies on a review task's pass is of that pass.
- Images completed and the Sankey consider ordinary jobs' draw passes only (no exam attempts, no
  continuous-gold tasks); with ``user=``, images with a pass drawn by that person (day: the latest
  completing event, by anyone).
- A person is active in the range when they have a label, review or rework event in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from labnb import Project
from labnb.store.tables import annotation_rows, jobs, tasks

EDITS = ("annotation.create", "annotation.update", "annotation.delete", "annotation.restore", "annotation.replace")
DECISIONS = ("review.accept", "review.reject", "review.fix")
RANGE_DAYS = {"3m": 90, "6m": 182, "12m": 365}
DAILY_COLUMNS = ["annotations", "reviews", "labelling_s", "review_s", "rework_s", "images_completed"]
PEOPLE_COLUMNS = [
    "annotations",
    "images",
    "active_hours",
    "annotations_per_hour",
    "median_s_per_image",
    "reviews",
    "first_review_acceptance",
    "rework_rate",
]


@dataclass
class Tables:
    """What the oracle reads: the event log as ``p.events.df`` gives it, and direct reads of the tasks, the
    jobs and which task each annotation row belongs to."""

    events: pd.DataFrame
    tasks: pd.DataFrame
    jobs: pd.DataFrame
    annotation_task: dict[int, int]


def read_tables(p: Project) -> Tables:
    """Read everything the oracle needs from a project, once."""
    t = tasks
    with p._engine.connect() as conn:
        task_rows = conn.execute(
            sa.select(
                t.c.id, t.c.job_id, t.c.asset_id, t.c.kind, t.c.state, t.c.assignee, t.c.draw_task_id,
                t.c.attempt_id, t.c.gold,
            ).where(t.c.project_id == p.id)
        ).all()  # fmt: skip
        job_rows = conn.execute(sa.select(jobs.c.id, jobs.c.name, jobs.c.kind).where(jobs.c.project_id == p.id)).all()
        a = annotation_rows
        ann = conn.execute(sa.select(a.c.id, a.c.task_id).where(a.c.project_id == p.id, a.c.task_id.is_not(None)))
        annotation_task = {int(i): int(tk) for i, tk in ann}
    task_frame = pd.DataFrame(
        task_rows,
        columns=["task", "job", "asset", "kind", "state", "assignee", "draw_task", "attempt_id", "gold"],
    ).set_index("task")
    job_frame = pd.DataFrame(job_rows, columns=["job", "name", "kind"]).set_index("job")
    return Tables(p.events.df, task_frame, job_frame, annotation_task)


def resolve_range(value: str | tuple[Any, Any], tz: str, today: date | None = None) -> tuple[date, date]:
    """``"7d"``, ``"30d"``, ``"3m"``, ``"6m"``, ``"12m"`` (ending today, local in ``tz``) or ``(start, end)``."""
    if isinstance(value, tuple):
        start, end = (pd.Timestamp(v).date() for v in value)
        return start, end
    today = today or datetime.now(ZoneInfo(tz)).date()
    days = RANGE_DAYS.get(value) or int(value.removesuffix("d"))
    return today - timedelta(days=days - 1), today


def classify(tables: Tables) -> pd.DataFrame:
    """The events with the oracle's own columns: ``work_class``, ``pass_task`` (the draw pass the event is
    about, if any), ``job_id`` (the job it belongs to, if any), ``drawer`` (of that pass, then)."""
    ev = tables.events.sort_values("event_id").reset_index(drop=True)
    tk = tables.tasks
    job_kind = tables.jobs["kind"].to_dict()
    kind_of = tk["kind"].to_dict()
    draw_of = tk["draw_task"].to_dict()
    job_of = tk["job"].to_dict()
    exam_task = {
        int(i)
        for i, r in tk.iterrows()
        if bool(r["gold"]) or not pd.isna(r["attempt_id"]) or job_kind.get(r["job"]) == "exam"
    }
    claimant: dict[int, str] = {}
    to_fix: set[int] = set()
    work, passes, job_ids, drawers = [], [], [], []
    for e in ev.itertuples(index=False):
        task = None if pd.isna(e.task_id) else int(e.task_id)
        if task is None and e.kind in EDITS and not pd.isna(e.annotation_id):
            task = tables.annotation_task.get(int(e.annotation_id))
        payload: Mapping[str, Any] = e.payload if isinstance(e.payload, Mapping) else {}
        pass_task: int | None = None
        if task is not None and task in kind_of:
            pass_task = task if kind_of[task] == "draw" else int(draw_of[task])
        elif e.kind in DECISIONS and "draw_task" in payload:
            pass_task = int(payload["draw_task"])
        job_id = job_of.get(task) if task is not None else payload.get("job")
        drawer = claimant.get(pass_task, tk["assignee"].get(pass_task)) if pass_task is not None else None
        cls: str | None = None
        if e.kind in DECISIONS:
            cls = "review"
        elif e.kind in EDITS or e.kind == "task.submit":
            if task is not None and kind_of.get(task) == "review":
                cls = "review"
            elif pass_task is not None and (pass_task in exam_task or (task is not None and task in exam_task)):
                cls = "exam"
            elif pass_task is not None and e.user != drawer:
                cls = "review"
            elif pass_task is not None and pass_task in to_fix:
                cls = "rework"
            else:
                cls = "label"
        # then the pass's state moves on
        if e.kind == "task.claim" and task is not None and kind_of.get(task) == "draw":
            claimant[task] = e.user
        elif e.kind == "review.reject" and pass_task is not None:
            to_fix.add(pass_task)
        elif e.kind == "task.submit" and pass_task is not None:
            to_fix.discard(pass_task)
        work.append(cls)
        passes.append(pass_task)
        job_ids.append(job_id)
        drawers.append(drawer)
    ev["work_class"] = work
    ev["pass_task"] = pd.array(passes, dtype="Int64")
    ev["job_id"] = pd.array(job_ids, dtype="Int64")
    ev["drawer"] = drawers
    return ev


def _local_day(times: pd.Series, tz: str) -> pd.Series:
    return times.dt.tz_convert(ZoneInfo(tz)).dt.date


def _created(ev: pd.DataFrame) -> pd.Series:
    """Annotation rows each event created (``annotation.create`` only; 0 for any other kind)."""
    out = []
    for kind, payload, annotation_id in zip(ev["kind"], ev["payload"], ev["annotation_id"], strict=True):
        if kind != "annotation.create":
            out.append(0)
        elif isinstance(payload, Mapping) and payload.get("annotation_ids") is not None:
            out.append(len(payload["annotation_ids"]))
        else:
            out.append(0 if pd.isna(annotation_id) else 1)
    return pd.Series(out, index=ev.index, dtype="int64")


def compute(
    tables: Tables,
    start: date,
    end: date,
    tz: str,
    *,
    user: str | None = None,
    job: Any = None,
) -> dict[str, pd.DataFrame]:
    """``daily``, ``people`` and ``sankey`` for local days ``start``..``end`` (inclusive) in ``tz``; ``job`` a
    job's id, name or Job."""
    ev = classify(tables)
    ev["day"] = _local_day(ev["time"], tz)
    ev["seconds"] = ev["duration"].fillna(0.0).astype(float)
    ev["created"] = _created(ev)
    job_id = None
    if job is not None:
        job = getattr(job, "id", job)
        job_id = int(job) if not isinstance(job, str) else int(tables.jobs.index[tables.jobs["name"] == job][0])
    in_range = (ev["day"] >= start) & (ev["day"] <= end)
    scoped = ev[in_range]
    if job_id is not None:
        scoped = scoped[scoped["job_id"] == job_id]
    mine = scoped if user is None else scoped[scoped["user"] == user]
    return {
        "daily": _daily(ev, mine, tables, start, end, tz, user, job_id),
        "people": _people(ev, mine, start, end, job_id),
        "sankey": _sankey(ev, tables, start, end, user, job_id),
    }


def _daily(
    ev: pd.DataFrame,
    mine: pd.DataFrame,
    tables: Tables,
    start: date,
    end: date,
    tz: str,
    user: str | None,
    job_id: int | None,
) -> pd.DataFrame:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    frame = pd.DataFrame(0, index=pd.Index(days, name="day"), columns=DAILY_COLUMNS)
    frame[["labelling_s", "review_s", "rework_s"]] = 0.0
    counted = mine[mine["work_class"].isin(["label", "rework"])]
    frame["annotations"] = counted.groupby("day")["created"].sum().reindex(days, fill_value=0).astype("int64")
    frame["reviews"] = mine[mine["kind"].isin(DECISIONS)].groupby("day").size().reindex(days, fill_value=0)
    for cls, col in (("label", "labelling_s"), ("review", "review_s"), ("rework", "rework_s")):
        sums = mine[mine["work_class"] == cls].groupby("day")["seconds"].sum()
        frame[col] = sums.reindex(days, fill_value=0.0).astype(float)
    frame["images_completed"] = _images_completed(ev, tables, tz, user, job_id).reindex(days, fill_value=0)
    frame["reviews"] = frame["reviews"].astype("int64")
    frame["images_completed"] = frame["images_completed"].astype("int64")
    return frame


def _work_passes(tables: Tables) -> pd.DataFrame:
    """Draw passes of ordinary jobs (no exam attempt, no continuous gold)."""
    tk = tables.tasks
    work_jobs = set(tables.jobs.index[tables.jobs["kind"] == "work"])
    keep = (tk["kind"] == "draw") & tk["attempt_id"].isna() & ~tk["gold"].astype(bool) & tk["job"].isin(work_jobs)
    return tk[keep]


def _images_completed(ev: pd.DataFrame, tables: Tables, tz: str, user: str | None, job_id: int | None) -> pd.Series:
    passes = _work_passes(tables)
    done = passes.groupby(["job", "asset"])["state"].apply(lambda s: bool((s == "completed").all()))
    done = done[done]
    if job_id is not None:
        done = done[done.index.get_level_values("job") == job_id]
    if user is not None:
        drew = set(passes.loc[passes["assignee"] == user, ["job", "asset"]].itertuples(index=False, name=None))
        done = done[[key in drew for key in done.index]]
    to_completed = pd.Series([isinstance(p, Mapping) and p.get("to") == "completed" for p in ev["payload"]], ev.index)
    completing = ev[((ev["kind"] == "task.submit") & to_completed) | ev["kind"].isin(["review.accept", "review.fix"])]
    completing = completing[completing["pass_task"].notna()]
    completing = completing.assign(
        job=completing["pass_task"].map(passes["job"]), asset=completing["pass_task"].map(passes["asset"])
    ).dropna(subset=["job", "asset"])
    last = completing.groupby(["job", "asset"])["time"].max()
    last.index = pd.MultiIndex.from_arrays([last.index.get_level_values(0).astype(int),
                                            last.index.get_level_values(1).astype(int)])  # fmt: skip
    last = last.reindex(done.index).dropna()
    days = _local_day(pd.to_datetime(last, utc=True).reset_index(drop=True), tz)
    return days.value_counts()


def _people(ev: pd.DataFrame, scoped: pd.DataFrame, start: date, end: date, job_id: int | None) -> pd.DataFrame:
    worked = scoped[scoped["work_class"].isin(["label", "review", "rework"])]
    users = sorted(set(worked["user"]))
    rows = []
    decisions = ev[ev["kind"].isin(DECISIONS) & ev["pass_task"].notna()]
    if job_id is not None:
        decisions = decisions[decisions["job_id"] == job_id]
    first = decisions.sort_values("event_id").groupby("pass_task").first()
    first_in = first[(first["day"] >= start) & (first["day"] <= end)]
    rejected_in = set(
        decisions[(decisions["kind"] == "review.reject") & (decisions["day"] >= start) & (decisions["day"] <= end)][
            "pass_task"
        ]
    )
    for u in users:
        m = scoped[scoped["user"] == u]
        lab = m[m["work_class"].isin(["label", "rework"])]
        annotations = int(lab["created"].sum())
        label_s = float(lab["seconds"].sum())
        per_image = lab.dropna(subset=["asset_id"]).groupby("asset_id")["seconds"].sum()
        passes = first_in[[(p or {}).get("drawer") == u for p in first_in["payload"]]]
        n = len(passes)
        rows.append(
            {
                "user": u,
                "annotations": annotations,
                "images": int(lab["asset_id"].dropna().nunique()),
                "active_hours": float(m[m["work_class"].isin(["label", "review", "rework"])]["seconds"].sum()) / 3600,
                "annotations_per_hour": annotations / (label_s / 3600) if label_s > 0 else np.nan,
                "median_s_per_image": float(per_image.median()) if len(per_image) else np.nan,
                "reviews": int(m["kind"].isin(DECISIONS).sum()),
                "first_review_acceptance": float((passes["kind"] == "review.accept").mean()) if n else np.nan,
                "rework_rate": float(np.mean([p in rejected_in for p in passes.index])) if n else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["user", *PEOPLE_COLUMNS]).set_index("user")


def _sankey(
    ev: pd.DataFrame, tables: Tables, start: date, end: date, user: str | None, job_id: int | None
) -> pd.DataFrame:
    passes = _work_passes(tables)
    state: dict[int, str] = {}
    flows: list[tuple[str, str, date, int]] = []
    kind_of = tables.tasks["kind"].to_dict()
    for e in ev.itertuples(index=False):
        pt = None if pd.isna(e.pass_task) else int(e.pass_task)
        if pt is None or pt not in passes.index:
            continue
        task = None if pd.isna(e.task_id) else int(e.task_id)
        on_review = task is not None and kind_of.get(task) == "review"
        before = state.get(pt, "none")
        after = None
        if e.kind == "task.submit" and not on_review:
            before, after = e.payload["from"], e.payload["to"]
            before = "none" if before == "none" else before
        elif e.kind == "task.claim" and on_review:
            if before != "review":
                before, after = "annotated", "review"
        elif e.kind == "task.release" and on_review:
            before, after = "review", "annotated"
        elif e.kind in ("review.accept", "review.fix"):
            before, after = "review", "completed"
        elif e.kind == "review.reject":
            before, after = "review", "to_fix"
        if after is None:
            continue
        state[pt] = after
        flows.append((before, after, e.day, pt))
    frame = pd.DataFrame(flows, columns=["source", "target", "day", "pass_task"])
    frame = frame[(frame["day"] >= start) & (frame["day"] <= end)]
    if user is not None:
        frame = frame[frame["pass_task"].map(passes["assignee"]) == user]
    if job_id is not None:
        frame = frame[frame["pass_task"].map(passes["job"]) == job_id]
    counts = frame.groupby(["source", "target"]).size().rename("count").reset_index()
    return counts.sort_values(["source", "target"]).reset_index(drop=True)


def pass_histories(tables: Tables) -> dict[int, list[str]]:
    """Each ordinary draw pass's states in order, from the events (for checking the Sankey's flows)."""
    ev = classify(tables)
    out: dict[int, list[str]] = {}
    kind_of = tables.tasks["kind"].to_dict()
    for e in ev.itertuples(index=False):
        if pd.isna(e.pass_task):
            continue
        pt = int(e.pass_task)
        seq = out.setdefault(pt, ["none"])
        on_review = not pd.isna(e.task_id) and kind_of.get(int(e.task_id)) == "review"
        if e.kind == "task.submit" and not on_review:
            seq.append(e.payload["to"])
        elif e.kind == "task.claim" and on_review and seq[-1] != "review":
            seq.append("review")
        elif e.kind == "task.release" and on_review:
            seq.append("annotated")
        elif e.kind in ("review.accept", "review.fix"):
            seq.append("completed")
        elif e.kind == "review.reject":
            seq.append("to_fix")
    return out
