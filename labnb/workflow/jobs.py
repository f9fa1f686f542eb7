"""Jobs: a batch of images turned into draw and review tasks, and what happens as passes come in.

``p.jobs.create(...)`` writes a draft; ``job.launch()`` builds the task graph: ``passes_per_file`` draw
tasks per image (only one for the images outside ``overlap``, the share that gets every pass), each
``review_frequency``-th draw task also reviewed. When all planned passes of an image are drawn, their
agreement (:mod:`labnb.metrics.agreement`) is stored, and if it is under ``min_agreement`` one more draw
pass is added, up to ``max_extra_passes``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from labnb.annotations.writer import writing
from labnb.errors import LabnbError
from labnb.metrics.agreement import image_agreement
from labnb.metrics.scoring import score_table
from labnb.people import now, record_event
from labnb.schema import check_name
from labnb.store import database as db
from labnb.store.tables import annotation_rows, assets, job_assets, jobs, tasks
from labnb.workflow.consensus import merge
from labnb.workflow.guides import render_guide, warn_removed_images
from labnb.workflow.task_rows import next_seq, settle_job_state
from labnb.workflow.tasks import DRAWN, Task, load, task_shapes

if TYPE_CHECKING:
    from labnb.geometry import Shape
    from labnb.project import Project


class Job:
    """One job of a project (``p.jobs["name"]``). Fields are read at lookup; ``refresh()`` re-reads them."""

    def __init__(self, project: Project, row: Any) -> None:
        self.project = project
        self._load(row)

    def _load(self, r: Any) -> None:
        self.id: int = r.id
        self.name: str = r.name
        self.state: str = r.state
        self.passes_per_file: int = r.passes_per_file
        self.review_frequency: int = r.review_frequency
        self.overlap: float = r.overlap
        self.min_agreement: float | None = r.min_agreement
        self.max_extra_passes: int = r.max_extra_passes
        self.guide: str = r.guide
        self.review_guide: str = r.review_guide
        self.credentials: list[str] = orjson.loads(r.credentials)
        self.claim_minutes: float = r.claim_minutes

    def refresh(self) -> Job:
        with self.project._engine.connect() as conn:
            self._load(conn.execute(sa.select(jobs).where(jobs.c.id == self.id)).one())
        return self

    def __repr__(self) -> str:
        return f"<Job {self.id} '{self.name}' ({self.state})>"

    @property
    def guide_html(self) -> str:
        """The draw guide as sanitised HTML (what the annotator shows)."""
        return render_guide(self.guide, self.project)

    @property
    def review_guide_html(self) -> str:
        return render_guide(self.review_guide, self.project)

    @property
    def assets(self) -> list[int]:
        with self.project._engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(job_assets.c.asset_id)
                    .where(job_assets.c.job_id == self.id)
                    .order_by(job_assets.c.position)
                ).scalars()
            )

    def launch(self) -> Job:
        """Build the task graph (managers and owners only). Launching twice is refused."""
        p = self.project
        p.members.require("manager", f"launch job '{self.name}'")
        stamp = now()
        with db.transaction(p._engine) as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == self.id)).one()
            if row.state != "draft":
                raise LabnbError(f"job '{self.name}' is already {row.state}")
            planned = conn.execute(
                sa.select(job_assets.c.asset_id, job_assets.c.passes)
                .where(job_assets.c.job_id == self.id)
                .order_by(job_assets.c.position)
            ).all()
            values = []
            seq = 0
            # passes first over all images, then second passes: the first pass of every image is done before
            # anyone starts a second, so the job yields complete single-pass labels early
            for pass_index in range(max((r.passes for r in planned), default=0)):
                for r in planned:
                    if pass_index < r.passes:
                        seq += 1
                        values.append(
                            _draw_values(p.id, self.id, r.asset_id, pass_index, seq, self.review_frequency, stamp)
                        )
            if values:
                conn.execute(tasks.insert(), values)
            conn.execute(jobs.update().where(jobs.c.id == self.id).values(state="launched", launched_at=stamp))
            record_event(
                conn, p.id, p.user, "job.launch", payload={"job": self.id, "name": self.name, "draw_tasks": len(values)}
            )
        return self.refresh()

    def add_pass(self, asset: Any) -> Task:
        """Ask for one more independent pass over ``asset`` (an image of this launched job), e.g. a second
        opinion on a doubtful image. A completed job is launched again until the pass is done. Managers and
        owners; returns the new draw task."""
        p = self.project
        p.members.require("manager", f"add a pass to job '{self.name}'")
        a = p.asset(asset)
        stamp = now()
        with db.transaction(p._engine) as conn:
            job = conn.execute(sa.select(jobs).where(jobs.c.id == self.id)).one()
            if job.state not in ("launched", "completed"):
                raise LabnbError(f"job '{self.name}' is {job.state}; passes are added to a launched job")
            ja = conn.execute(
                sa.select(job_assets)
                .where(job_assets.c.job_id == self.id, job_assets.c.asset_id == a.id)
                .with_for_update()
            ).first()
            if ja is None:
                raise LabnbError(f"image {a.file_name!r} is not part of job '{self.name}'")
            _insert_pass(p, conn, job, ja, stamp, extra=False)
            record_event(conn, p.id, p.user, "job.add_pass", asset_id=a.id,
                         payload={"job": self.id, "pass": ja.passes + 1})  # fmt: skip
            settle_job_state(conn, p, self.id)
            new_id = conn.execute(
                sa.select(tasks.c.id).where(tasks.c.job_id == self.id).order_by(tasks.c.seq.desc()).limit(1)
            ).scalar_one()
        self.refresh()
        return load(p, int(new_id))

    @property
    def tasks(self) -> pd.DataFrame:
        """The job's tasks: task, asset, file_name, kind, pass (from 1), state, assignee, needs_review,
        draw_task, comment. Reviewers and above see all; an annotator sees only their own."""
        p = self.project
        role = p.members.require("annotator", "see tasks")
        t, s = tasks, assets
        q = (
            sa.select(
                t.c.id,
                t.c.asset_id,
                s.c.file_name,
                t.c.kind,
                t.c.pass_index,
                t.c.state,
                t.c.assignee,
                t.c.needs_review,
                t.c.draw_task_id,
                t.c.comment,
                t.c.updated_at,
            )
            .join(s, s.c.id == t.c.asset_id)
            .where(t.c.job_id == self.id)
            .order_by(t.c.seq)
        )
        if role == "annotator":
            q = q.where(t.c.assignee == p.user)
        with p._engine.connect() as conn:
            rows = conn.execute(q).all()
        cols = [
            "task",
            "asset",
            "file_name",
            "kind",
            "pass",
            "state",
            "assignee",
            "needs_review",
            "draw_task",
            "comment",
            "updated_at",
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
        frame["pass"] = frame["pass"] + 1  # numbered from 1, as the widgets and Task.pass_number say
        frame["draw_task"] = frame["draw_task"].astype("Int64")
        frame["needs_review"] = frame["needs_review"].astype(bool)
        return frame

    def task(self, task_id: int) -> Task:
        t = load(self.project, task_id)
        if t.job_id != self.id:
            raise LabnbError(f"task {task_id} is not a task of job '{self.name}'")
        return t

    @property
    def agreement(self) -> pd.DataFrame:
        """Per image: passes planned and drawn, extra passes added, agreement of the drawn passes (NaN until
        all planned passes are in, or with a single pass)."""
        with self.project._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    job_assets.c.asset_id,
                    assets.c.file_name,
                    job_assets.c.passes,
                    job_assets.c.extra_passes,
                    job_assets.c.agreement,
                )
                .join(assets, assets.c.id == job_assets.c.asset_id)
                .where(job_assets.c.job_id == self.id)
                .order_by(job_assets.c.position)
            ).all()
            drawn: dict[int, int] = dict(
                conn.execute(
                    sa.select(tasks.c.asset_id, sa.func.count())
                    .where(tasks.c.job_id == self.id, tasks.c.kind == "draw", tasks.c.state.in_(DRAWN))
                    .group_by(tasks.c.asset_id)
                ).all()
            )
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["asset", "file_name", "passes", "extra_passes", "agreement"])
        frame.insert(3, "drawn", [int(drawn.get(a, 0)) for a in frame.asset])
        frame["agreement"] = frame["agreement"].astype(float)
        return frame

    def passes(self, asset: Any) -> dict[str, list[Any]]:
        """The drawn passes of one image: {drawer: shapes}."""
        a = self.project.asset(asset)
        with self.project._engine.connect() as conn:
            rows = conn.execute(
                sa.select(tasks.c.id, tasks.c.assignee)
                .where(
                    tasks.c.job_id == self.id,
                    tasks.c.asset_id == a.id,
                    tasks.c.kind == "draw",
                    tasks.c.state.in_(DRAWN),
                )
                .order_by(tasks.c.pass_index)
            ).all()
        return {str(r.assignee): task_shapes(self.project, r.id) for r in rows}

    def _pass_tasks(self, completed_only: bool) -> dict[int, list[tuple[int, str]]]:
        states = ("completed",) if completed_only else DRAWN
        with self.project._engine.connect() as conn:
            rows = conn.execute(
                sa.select(tasks.c.asset_id, tasks.c.id, tasks.c.assignee, tasks.c.state)
                .where(tasks.c.job_id == self.id, tasks.c.kind == "draw")
                .order_by(tasks.c.asset_id, tasks.c.pass_index)
            ).all()
        out: dict[int, list[tuple[int, str]]] = {}
        unfinished = {r.asset_id for r in rows if r.state not in states}
        for r in rows:
            if (r.asset_id not in unfinished or not completed_only) and r.state in states:
                out.setdefault(r.asset_id, []).append((r.id, str(r.assignee)))
        return out

    def consensus(
        self, *, min_votes: int | None = None, threshold: float = 0.5, progress: bool = True
    ) -> dict[int, list[Shape]]:
        """The merged label set of every image whose passes are all completed: {asset id: shapes}
        (:func:`labnb.workflow.consensus.merge`; ``min_votes`` defaults to a majority of the passes)."""
        out: dict[int, list[Shape]] = {}
        done = self._pass_tasks(completed_only=True)
        for asset_id, passes in tqdm(done.items(), total=len(done), desc="consensus", unit="img", disable=not progress):
            a = self.project.asset(asset_id)
            out[asset_id] = merge(
                [task_shapes(self.project, t) for t, _ in passes],
                a.height,
                a.width,
                min_votes=min_votes,
                threshold=threshold,
            )
        return out

    def merge(self, *, min_votes: int | None = None, threshold: float = 0.5, progress: bool = True) -> pd.DataFrame:
        """Write the consensus of every completed image as the job's finished labels (source
        ``"consensus"``: ``p.get_annotations(asset, source="consensus")``, exports with
        ``sources=["consensus"]``), replacing what an earlier merge of the image wrote. Reviewers and above.
        Returns per image: asset, file_name, passes, shapes."""
        p = self.project
        p.members.require("reviewer", f"merge the passes of job '{self.name}'")
        merged = self.consensus(min_votes=min_votes, threshold=threshold, progress=progress)
        counts = {a: len(v) for a, v in self._pass_tasks(completed_only=True).items()}
        with writing(p) as w:
            for asset_id, shapes in merged.items():
                w.replace(
                    p.asset(asset_id),
                    shapes,
                    where=annotation_rows.c.source == "consensus",
                    source="consensus",
                    kind="annotation.merge",
                    payload={"job": self.id},
                )
            record_event(
                w.conn,
                p.id,
                p.user,
                "job.merge",
                payload={
                    "job": self.id,
                    "images": len(merged),
                    "shapes": sum(len(v) for v in merged.values()),
                    "min_votes": min_votes,
                },
            )
        rows = [(a, p.asset(a).file_name, counts.get(a, 0), len(v)) for a, v in merged.items()]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["asset", "file_name", "passes", "shapes"])
        return frame

    def score_annotators(
        self, *, truth: str = "ground_truth", threshold: float = 0.5, progress: bool = True
    ) -> pd.DataFrame:
        """Each annotator's drawn passes scored against the ``truth`` labels of the same images (images
        without any are left out): images, tp, fp, fn, precision, recall, f1, mean_iou (of the matches).
        Scored by :func:`labnb.metrics.scoring.score_table`, so a box pass over polygon or mask ground
        truth is compared with each object's bounding box."""
        self.project.members.require("reviewer", "score annotators")
        drawn = self._pass_tasks(completed_only=False)
        return score_table(self._scored_passes(drawn, truth, progress), threshold=threshold)

    def _scored_passes(
        self, drawn: dict[int, list[tuple[int, str]]], truth: str, progress: bool
    ) -> Iterator[tuple[str, list[Shape], list[Shape], int, int]]:
        """(drawer, truth shapes, pass shapes, height, width) of every drawn pass of an image with truth."""
        for asset_id, passes in tqdm(drawn.items(), total=len(drawn), desc="scoring", unit="img", disable=not progress):
            gt = self.project.get_annotations(asset_id, source=truth)
            if not gt:
                continue
            a = self.project.asset(asset_id)
            for task_id, user in passes:
                yield user, gt, task_shapes(self.project, task_id), a.height, a.width


def _draw_values(
    project_id: int, job_id: int, asset_id: int, pass_index: int, seq: int, frequency: int, stamp: datetime
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "job_id": job_id,
        "asset_id": asset_id,
        "kind": "draw",
        "pass_index": pass_index,
        "seq": seq,
        "state": "none",
        "needs_review": frequency > 0 and seq % frequency == 0,
        "created_at": stamp,
        "updated_at": stamp,
    }


def after_pass_drawn(project: Project, conn: sa.Connection, job: Any, asset_id: int, stamp: datetime) -> None:
    """A pass of ``asset_id`` was handed in: once all planned passes are, store their agreement, and add a
    pass when it is under the job's ``min_agreement`` (inside the submitting transaction)."""
    # The image's row is locked first (PostgreSQL; SQLite's writer lock already serialises): two passes
    # handed in at once would otherwise each count only their own as drawn, and neither store the agreement.
    ja = conn.execute(
        sa.select(job_assets).where(job_assets.c.job_id == job.id, job_assets.c.asset_id == asset_id).with_for_update()
    ).one()
    drawn = (
        conn.execute(
            sa.select(tasks.c.id).where(
                tasks.c.job_id == job.id, tasks.c.asset_id == asset_id, tasks.c.kind == "draw", tasks.c.state.in_(DRAWN)
            )
        )
        .scalars()
        .all()
    )
    if len(drawn) < ja.passes or ja.passes < 2:
        return
    asset = project.asset(asset_id)
    passes = [task_shapes(project, tid, conn) for tid in drawn]
    score = image_agreement(passes, asset.height, asset.width)
    conn.execute(
        job_assets.update()
        .where(job_assets.c.job_id == job.id, job_assets.c.asset_id == asset_id)
        .values(agreement=score)
    )
    if job.min_agreement is None or not score < job.min_agreement or ja.extra_passes >= job.max_extra_passes:
        return
    _insert_pass(project, conn, job, ja, stamp, extra=True)
    record_event(
        conn,
        project.id,
        project.user,
        "job.extra_pass",
        asset_id=asset_id,
        payload={"job": job.id, "agreement": score, "min_agreement": job.min_agreement, "pass": ja.passes + 1},
    )


def _insert_pass(project: Project, conn: sa.Connection, job: Any, ja: Any, stamp: datetime, *, extra: bool) -> None:
    """One more draw pass of the image of job-asset row ``ja``, at the end of the job's queue."""
    seq = next_seq(conn, job.id)
    conn.execute(
        tasks.insert().values(
            _draw_values(project.id, job.id, ja.asset_id, ja.passes, seq, job.review_frequency, stamp)
        )
    )
    conn.execute(
        job_assets.update()
        .where(job_assets.c.job_id == job.id, job_assets.c.asset_id == ja.asset_id)
        .values(passes=ja.passes + 1, extra_passes=ja.extra_passes + int(extra))
    )


class Jobs:
    """``p.jobs``: create jobs, look them up by name or id, list them."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def create(
        self,
        name: str,
        assets: Sequence[Any] | pd.Series | None = None,
        *,
        passes_per_file: int = 1,
        review_frequency: int = 1,
        guide: str = "",
        review_guide: str = "",
        credentials: Sequence[str] = (),
        min_agreement: float | None = None,
        max_extra_passes: int = 0,
        overlap: float = 1.0,
        claim_minutes: float = 60.0,
    ) -> Job:
        """A new job over ``assets`` (ids, file names, Assets, or a DataFrame column such as
        ``p.next_to_label(...).asset``; default: every image), as a draft until :meth:`Job.launch`.

        ``passes_per_file`` independent draw passes per image (by different people); ``overlap`` the share of
        images that get all of them (the rest get one; chosen at random, reproducibly per job name);
        ``review_frequency`` k: every k-th draw task is reviewed (1: all, 0: none); ``guide`` and
        ``review_guide`` are markdown shown (sanitised) in the annotator and the review panel;
        ``credentials`` a worker must hold (``p.members.grant``); with ``min_agreement``, an image whose passes
        agree less gets another pass, up to ``max_extra_passes``. A claim not handed in within
        ``claim_minutes`` lapses. Managers and owners only.
        """
        p = self._p
        p.members.require("manager", f"create job '{name}'")
        name = check_name(name, "job name")
        if passes_per_file < 1:
            raise LabnbError(f"passes_per_file must be at least 1, got {passes_per_file}")
        if review_frequency < 0:
            raise LabnbError(f"review_frequency must be 0 (no review) or more, got {review_frequency}")
        if not 0.0 <= overlap <= 1.0 or math.isnan(overlap):
            raise LabnbError(f"overlap must be between 0 and 1, got {overlap}")
        if min_agreement is not None and not 0.0 <= min_agreement <= 1.0:
            raise LabnbError(f"min_agreement must be between 0 and 1, got {min_agreement}")
        if max_extra_passes < 0:
            raise LabnbError(f"max_extra_passes must be 0 or more, got {max_extra_passes}")
        if claim_minutes <= 0:
            raise LabnbError(f"claim_minutes must be positive, got {claim_minutes}")
        creds = [check_name(c, "credential") for c in credentials]
        ids = (
            [p._asset_id(a if not isinstance(a, np.integer) else int(a)) for a in assets]
            if assets is not None
            else [a.id for a in p.assets]
        )
        if len(set(ids)) != len(ids):
            raise LabnbError(f"job '{name}': some images are listed twice")
        if not ids:
            raise LabnbError(f"job '{name}' has no images")
        for text, what in ((guide, "guide"), (review_guide, "review guide")):
            # a guide that cannot be rendered is refused now, not in a worker's notebook; the images it will
            # show as removed are named to its author now
            warn_removed_images(text, p, f"job '{name}' {what}")
        chooser = random.Random(name)  # noqa: S311 - a reproducible choice per job, not a secret
        full = set(chooser.sample(ids, round(overlap * len(ids))))
        stamp = now()
        with db.transaction(p._engine) as conn:
            if conn.execute(sa.select(jobs.c.id).where(jobs.c.project_id == p.id, jobs.c.name == name)).first():
                raise LabnbError(f"project '{p.name}' already has a job named '{name}'")
            job_id = conn.execute(
                jobs.insert()
                .values(
                    project_id=p.id,
                    name=name,
                    state="draft",
                    passes_per_file=passes_per_file,
                    review_frequency=review_frequency,
                    overlap=overlap,
                    min_agreement=min_agreement,
                    max_extra_passes=max_extra_passes,
                    guide=guide,
                    review_guide=review_guide,
                    credentials=orjson.dumps(creds).decode(),
                    claim_minutes=claim_minutes,
                    created_by=p.user,
                    created_at=stamp,
                )
                .returning(jobs.c.id)
            ).scalar_one()
            conn.execute(
                job_assets.insert(),
                [
                    {
                        "job_id": job_id,
                        "asset_id": a,
                        "position": i,
                        "extra_passes": 0,
                        "passes": passes_per_file if a in full else 1,
                    }
                    for i, a in enumerate(ids)
                ],
            )
            record_event(conn, p.id, p.user, "job.create", payload={"job": job_id, "name": name, "images": len(ids)})
        return self[job_id]

    def __getitem__(self, key: int | str | Job) -> Job:
        if isinstance(key, Job):
            return key
        q = sa.select(jobs).where(jobs.c.project_id == self._p.id)
        q = q.where(jobs.c.id == key) if isinstance(key, int) else q.where(jobs.c.name == key)
        with self._p._engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            raise LabnbError(f"project '{self._p.name}' has no job {key!r}")
        return Job(self._p, row)

    def __iter__(self) -> Iterator[Job]:
        with self._p._engine.connect() as conn:
            rows = conn.execute(sa.select(jobs).where(jobs.c.project_id == self._p.id).order_by(jobs.c.id)).all()
        return iter([Job(self._p, r) for r in rows])

    def __len__(self) -> int:
        return len(list(iter(self)))

    @property
    def df(self) -> pd.DataFrame:
        """Jobs with their task counts by state."""
        with self._p._engine.connect() as conn:
            counts = conn.execute(
                sa.select(tasks.c.job_id, tasks.c.kind, tasks.c.state, sa.func.count())
                .where(tasks.c.project_id == self._p.id)
                .group_by(tasks.c.job_id, tasks.c.kind, tasks.c.state)
            ).all()
        rows = []
        for j in self:
            mine = {(k, s): n for jid, k, s, n in counts if jid == j.id}
            rows.append(
                {
                    "job": j.id,
                    "name": j.name,
                    "state": j.state,
                    "images": len(j.assets),
                    "draw_tasks": sum(n for (k, _), n in mine.items() if k == "draw"),
                    "completed": mine.get(("draw", "completed"), 0),
                    "to_fix": mine.get(("draw", "to_fix"), 0),
                    "in_review": mine.get(("draw", "review"), 0),
                    "awaiting_review": mine.get(("draw", "annotated"), 0),
                }
            )
        frame: pd.DataFrame = pd.DataFrame(
            rows,
            columns=[
                "job",
                "name",
                "state",
                "images",
                "draw_tasks",
                "completed",
                "to_fix",
                "in_review",
                "awaiting_review",
            ],
        )
        return frame
