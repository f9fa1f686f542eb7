"""A job: a batch of images turned into draw and review tasks, and what it yields as passes come in.

``p.jobs.create(...)`` (:mod:`labnb.workflow.job_list`) writes a draft; ``job.launch()`` builds the task
graph: ``passes_per_file`` draw tasks per image (only one for the images outside ``overlap``, the share that
gets every pass), each ``review_frequency``-th draw task also reviewed. When all planned passes of an image
are drawn, their agreement (:mod:`labnb.metrics.agreement`) is stored, and if it is under ``min_agreement``
one more draw pass is added, up to ``max_extra_passes`` (:mod:`labnb.workflow.pass_plan`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from labnb.annotations.writer import writing
from labnb.clock import now
from labnb.errors import LabnbError
from labnb.event_log import record_event
from labnb.metrics.scoring import score_table
from labnb.store import database as db
from labnb.store.tables import annotation_rows, assets, job_assets, jobs, tasks
from labnb.workflow.consensus import merge
from labnb.workflow.guides import render_guide
from labnb.workflow.pass_plan import draw_values, insert_pass
from labnb.workflow.task_rows import settle_job_state
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
        #: "work", or "exam" for the job that holds an exam's attempts (labnb.exams)
        self.kind: str = r.kind
        self.gold_rate: float = r.gold_rate or 0.0
        self.min_gold_f1: float | None = r.min_gold_f1

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
                            draw_values(p.id, self.id, r.asset_id, pass_index, seq, self.review_frequency, stamp)
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
            insert_pass(p, conn, job, ja, stamp, extra=False)
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
        draw_task, comment, and for reviewers and above ``gold`` (a continuous-gold task, scored against an
        exam's gold rather than reviewed). Reviewers and above see all; an annotator sees only their own."""
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
                t.c.gold,
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
            "gold",
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
        frame["gold"] = frame["gold"].astype(bool)
        if role == "annotator":
            frame = frame.drop(columns="gold")  # a continuous-gold image must look like any other task
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
                    .where(tasks.c.gold.is_(False))
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
                    tasks.c.gold.is_(False),
                )
                .order_by(tasks.c.pass_index)
            ).all()
        return {str(r.assignee): task_shapes(self.project, r.id) for r in rows}

    def gold_scores(self) -> pd.DataFrame:
        """Continuous gold, per worker: the gold images they did in this job, tp, fp, fn, F1 against the
        exam's gold and its Wilson 95 % interval (f1_low, f1_high), and whether their credential for the job
        is suspended. Reviewers and above (:mod:`labnb.exams.continuous`)."""
        from labnb.exams.continuous import gold_scores  # noqa: PLC0415 - the exams layer sits above this one

        return gold_scores(self)

    def _pass_tasks(self, completed_only: bool) -> dict[int, list[tuple[int, str]]]:
        states = ("completed",) if completed_only else DRAWN
        with self.project._engine.connect() as conn:
            rows = conn.execute(
                sa.select(tasks.c.asset_id, tasks.c.id, tasks.c.assignee, tasks.c.state)
                .where(tasks.c.job_id == self.id, tasks.c.kind == "draw", tasks.c.gold.is_(False))
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
