"""A team working one job at once, as real processes: annotators and reviewers (some reviewers also draw)
each open the project as themselves and loop ``next_task`` → submit / review until nothing is left, on a
SQLite file and on a real PostgreSQL server. Afterwards the store must tell one consistent story: every
pass drawn and decided exactly once, no task held by two people at once, nobody drawing two passes of one
image or reviewing their own pass, every shape kept with its task, the event log agreeing with the states.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import labnb as lb
from labnb.store.tables import annotation_rows, job_assets

IMAGES, PASSES = 60, 2
H, W = 48, 80
JOB = "team"
ANNOTATORS = ["ann0", "ann1", "ann2", "ann3"]
REVIEWERS = ["rev0", "rev1", "rev2"]
#: who draws (reviewers may draw too; rev2 only reviews) and who reviews
DRAWERS = [*ANNOTATORS, "rev0", "rev1"]
DEADLINE_S = 90.0

_start: Any = None  # a Barrier, set in each worker by _init


def _init(barrier: Any) -> None:
    global _start  # noqa: PLW0603 - the pool initializer hands each worker process the shared barrier
    _start = barrier


BoxT = tuple[str, float, float, float, float]


def _drawn(asset_id: int, user: str, fixed: bool) -> list[BoxT]:
    """What ``user`` draws on an image: the image's objects, shifted by a per-user amount so passes agree
    more or less; some users miss the dog. A pass fixed after a rejection is drawn right."""
    k = 0 if fixed else DRAWERS.index(user)
    out: list[BoxT] = [("cat", 5.0 + asset_id % 7 + 1.5 * k, 6.0 + asset_id % 3, 24.0, 18.0)]
    if asset_id % 3 == 0 and not (k % 2 and asset_id % 2):
        out.append(("dog", 40.0 + k, 20.0, 20.0, 14.0 + k))
    return out


def _boxes(drawn: list[BoxT]) -> list[lb.Box]:
    return [lb.Box(x, y, w, h, label=label) for label, x, y, w, h in drawn]


def _as_tuples(shapes: list[Any]) -> list[BoxT]:
    return sorted((s.label, float(s.x), float(s.y), float(s.w), float(s.h)) for s in shapes)


def _user_number(user: str) -> int:
    return int(user[-1]) + (4 if user.startswith("rev") else 0)


def _job_done(p: lb.Project) -> bool:
    row = p.jobs.df.iloc[0]
    return bool(row.draw_tasks == row.completed)


def _worker(url: str, user: str) -> dict[str, Any]:
    """One person's session: claim, work, hand in, until the job has nothing left for them."""
    p = lb.Project.open(url, user=user)
    draws, reviews = user in DRAWERS, user in REVIEWERS
    log: dict[str, Any] = {"user": user, "submits": [], "decisions": [], "releases": []}
    released: set[int] = set()
    _start.wait()
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        did = False
        if reviews:
            r = p.next_task("review")
            if r is not None:
                did = True
                assert r.assignee == user
                assert r.state == "review"
                draw = p.task(r.draw_task_id) if r.draw_task_id is not None else None
                assert draw is not None
                assert draw.assignee != user
                shapes = _as_tuples(r.shapes())
                if draw.comment is None and draw.id % 5 == 0:
                    comment = f"{user}: the cat box of pass {draw.pass_index} is loose"
                    r.review("reject", comment=comment)
                    log["decisions"].append((r.id, draw.id, "reject", None))
                elif draw.id % 11 == 0:
                    fixed = [(label, x + 1, y, w, h) for label, x, y, w, h in shapes]
                    r.review("fix", shapes=_boxes(fixed))
                    log["decisions"].append((r.id, draw.id, "fix", sorted(fixed)))
                else:
                    r.review("accept")
                    log["decisions"].append((r.id, draw.id, "accept", None))
        if draws:
            t = p.next_task("draw")
            if t is not None:
                did = True
                assert t.assignee == user
                if t.state == "none" and t.id % 9 == _user_number(user) and t.id not in released:
                    released.add(t.id)  # give one back now and then; someone (maybe me) takes it again
                    t.release()
                    log["releases"].append(t.id)
                else:
                    fixing = t.state == "to_fix"
                    drawn = _drawn(t.asset_id, user, fixed=fixing)
                    t.submit(_boxes(drawn), duration=0.5)
                    log["submits"].append((t.id, t.asset_id, sorted(drawn), fixing))
        if not did:
            if _job_done(p):
                break
            time.sleep(0.03)
    else:
        raise AssertionError(f"{user}: the job was not finished after {DEADLINE_S}s")
    p.close()
    return log


def _setup(url: str) -> lb.Project:
    p = lb.Project.create(url, labels=["cat", "dog"], user="olga", overwrite=True)
    rng = np.random.default_rng(0)
    p.add_images([rng.integers(0, 255, (H, W, 3), dtype=np.uint8) for _ in range(IMAGES)], progress=False)
    for u in ANNOTATORS:
        p.members.add(u, "annotator")
    for u in REVIEWERS:
        p.members.add(u, "reviewer")
    p.members.add("mona", "manager")
    mona = lb.Project.open(url, user="mona")
    mona.jobs.create(JOB, passes_per_file=PASSES, review_frequency=1, guide="Box every *cat* and *dog*").launch()
    mona.close()
    return p


def test_a_team_works_one_job_at_once(backend_url: str) -> None:
    p = _setup(backend_url)
    users = [*ANNOTATORS, *REVIEWERS]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(users))
    with ctx.Pool(len(users), initializer=_init, initargs=(barrier,)) as pool:
        logs = pool.starmap(_worker, [(backend_url, u) for u in users])

    job = p.jobs[JOB]
    t = job.tasks.set_index("task")
    draw, review = t[t.kind == "draw"], t[t.kind == "review"]
    ev = p.events.df
    ev = ev[ev.task_id.notna()].astype({"task_id": int})

    # every pass drawn and completed; every draw task reviewed, every review task decided
    assert len(draw) == IMAGES * PASSES
    assert (draw.state == "completed").all()
    assert (review.state == "completed").all()
    assert set(review.draw_task) == set(draw.index)
    decisions = ev[ev.kind.str.startswith("review.")]
    assert Counter(decisions.task_id) == dict.fromkeys(review.index, 1)  # each review decided exactly once
    final = decisions[decisions.kind.isin(["review.accept", "review.fix"])]
    assert sorted(d["draw_task"] for d in final.payload) == sorted(draw.index)  # each pass finished once
    rejects = decisions[decisions.kind == "review.reject"]
    assert len(review) == len(draw) + len(rejects)
    assert all(str(d["comment"]).strip() for d in rejects.payload)

    # the workers' own records add up to the store's
    submits = [s for log in logs for s in log["submits"]]
    made = [d for log in logs for d in log["decisions"]]
    assert len(made) == len(review)
    assert sorted(d[0] for d in made) == sorted(review.index)
    assert len(submits) == len(draw) + len(rejects)
    assert sum(1 for s in submits if s[3]) == len(rejects)  # every rejected pass was fixed by its drawer
    assert {d[2] for d in made} == {"accept", "reject", "fix"}
    for log in logs:
        assert all(draw.assignee[s[0]] == log["user"] for s in log["submits"])
        assert all(review.assignee[d[0]] == log["user"] for d in log["decisions"])
    assert sum(len(log["releases"]) for log in logs) > 0  # some claims were given back and taken again

    # nobody held a task someone else held: replay claims, releases and hand-ins per task, in commit order
    for task_id, rows in ev.sort_values("event_id").groupby("task_id"):
        holder: str | None = None
        for user, kind in zip(rows.user, rows.kind, strict=True):
            if kind == "task.claim":
                assert holder is None, f"task {task_id} claimed by {user} while {holder} held it"
                holder = user
            else:
                assert holder == user, f"task {task_id}: {kind} by {user} while {holder} held it"
                if kind == "task.release":
                    holder = None
        assert holder == t.assignee[task_id]
    claims = ev[ev.kind == "task.claim"]
    releases = ev[ev.kind == "task.release"]
    assert len(claims) == len(t) + len(releases)  # one claim per task, one more per give-back
    assert sum(len(log["releases"]) for log in logs) == len(releases)

    # nobody drew two passes of one image, nobody reviewed their own pass
    assert (draw.groupby("asset").assignee.nunique() == PASSES).all()
    assert set(draw.assignee) <= set(DRAWERS)
    assert set(review.assignee) <= set(REVIEWERS)
    drawer_of = draw.assignee.to_dict()
    assert all(review.assignee[r] != drawer_of[d] for r, d in review.draw_task.items())
    assert all(user != d["drawer"] for user, d in zip(decisions.user, decisions.payload, strict=True))

    # per pass, the log alternates: submit, decision, (resubmit, decision)..., ending accepted or fixed
    for d_id in draw.index:
        steps = [
            ("submit", e)
            for e in ev[(ev.task_id == d_id) & (ev.kind == "task.submit")].event_id
        ] + [(k, e) for k, e, pl in zip(decisions.kind, decisions.event_id, decisions.payload, strict=True)
             if pl["draw_task"] == d_id]  # fmt: skip
        kinds = [k for k, _ in sorted(steps, key=lambda s: s[1])]
        n = len(kinds) // 2
        assert kinds[0::2] == ["submit"] * n
        assert kinds[1::2] == ["review.reject"] * (n - 1) + [kinds[-1]]
        assert kinds[-1] in ("review.accept", "review.fix")

    # nothing lost: every version handed in is stored under its task (old ones kept, deleted), the live
    # shapes of a pass are its last version: the drawer's last submit, or the reviewer's fix
    with p._engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                annotation_rows.c.task_id,
                annotation_rows.c.deleted,
                annotation_rows.c.created_by,
                annotation_rows.c.x,
                annotation_rows.c.y,
                annotation_rows.c.w,
                annotation_rows.c.h,
            ).where(annotation_rows.c.task_id.is_not(None))
        ).all()
        agreement = dict(
            conn.execute(
                sa.select(job_assets.c.asset_id, job_assets.c.agreement).where(job_assets.c.job_id == job.id)
            ).all()
        )
    stored: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        stored[r.task_id].append(r)
    fixes = {d[1]: d[3] for d in made if d[2] == "fix"}
    last: dict[int, list[BoxT]] = {}
    versions: Counter[int] = Counter()
    for task_id, _asset, drawn, _fixing in submits:
        last[task_id] = drawn  # one drawer per task: their submits are in order
        versions[task_id] += len(drawn)
    for task_id, shapes in fixes.items():
        last[task_id] = shapes
        versions[task_id] += len(shapes)
    assert set(stored) == set(draw.index)
    for task_id in draw.index:
        assert len(stored[task_id]) == versions[task_id]
        live = sorted((r.x, r.y, r.w, r.h) for r in stored[task_id] if not r.deleted)
        assert live == sorted((x, y, w, h) for _, x, y, w, h in last[task_id])
        live_by = {r.created_by for r in stored[task_id] if not r.deleted}
        assert live_by == ({review.assignee[review.draw_task == task_id].iloc[-1]} if task_id in fixes
                           else {drawer_of[task_id]})  # fmt: skip
        assert _as_tuples(job.task(task_id).shapes()) == sorted(last[task_id])

    # agreement was stored for every image once both passes were in (also when they were handed in at the
    # same moment), and it differs between images as the drawers do
    assert len(agreement) == IMAGES
    assert all(v is not None and 0 <= v <= 1 for v in agreement.values()), agreement
    assert len({round(v, 6) for v in agreement.values()}) > 3
    assert job.agreement.agreement.notna().all()
    p.close()


def _submit_both_at_once(url: str, hold: Callable[[Callable[..., None]], Callable[..., None]]) -> None:
    """Two annotators hand in the two passes of one image in the same instant (threads of one process;
    ``hold`` wraps the after-submit hook so both transactions have written before either goes on)."""
    import labnb.workflow.pass_plan as pass_plan  # noqa: PLC0415

    original = pass_plan.after_pass_drawn
    pass_plan.after_pass_drawn = hold(original)
    people = [lb.Project.open(url, user=u) for u in ("ann0", "ann1")]
    try:
        tasks = [person.next_task() for person in people]
        errors: list[BaseException] = []

        def go(i: int) -> None:
            try:
                task = tasks[i]
                assert task is not None
                task.submit(_boxes(_drawn(task.asset_id, f"ann{i}", fixed=False)))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not errors, errors
    finally:
        pass_plan.after_pass_drawn = original
        for person in people:
            person.close()


def test_passes_handed_in_at_once_still_get_their_agreement(pg_url: str) -> None:
    """PostgreSQL, read committed: two passes of one image submitted in the same instant each saw only
    their own pass as drawn, so neither stored the image's agreement (nor added the extra pass a low one
    calls for). The image's row is now locked while its passes are counted."""
    p = lb.Project.create(pg_url, labels=["cat", "dog"], user="olga")
    p.add_images([np.full((H, W, 3), 7, np.uint8)], progress=False)
    for u in ("ann0", "ann1"):
        p.members.add(u, "annotator")
    job = p.jobs.create("pair", passes_per_file=2, review_frequency=0, min_agreement=0.99, max_extra_passes=1)
    job.launch()
    barrier = threading.Barrier(2, timeout=20)

    def hold(original: Callable[..., None]) -> Callable[..., None]:
        def held(*args: Any, **kwargs: Any) -> None:
            barrier.wait()  # both submits have updated their task rows, neither has committed
            original(*args, **kwargs)

        return held

    _submit_both_at_once(pg_url, hold)
    ag = job.agreement
    assert ag.drawn[0] == 2
    assert not pd.isna(ag.agreement[0])
    assert ag.agreement[0] < 0.99
    assert ag.passes[0] == 3  # the low agreement asked for one more pass
    assert (p.events.df.kind == "job.extra_pass").sum() == 1
    p.close()
