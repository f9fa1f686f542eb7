"""``p.jobs``: the project's jobs, created, looked up by name or id, and listed with their task counts."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from labnb.clock import now
from labnb.errors import LabnbError
from labnb.event_log import record_event
from labnb.schema import check_name
from labnb.store import database as db
from labnb.store.tables import job_assets, jobs, tasks
from labnb.workflow.guides import warn_removed_images
from labnb.workflow.jobs import Job

if TYPE_CHECKING:
    from labnb.project import Project


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
        gold_rate: float = 0.0,
        gold_exam: str | None = None,
        min_gold_f1: float | None = None,
        min_gold_images: int = 3,
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

        Continuous gold: with ``gold_rate`` r > 0 and ``gold_exam`` (an exam's name), about r of the draw
        tasks a worker claims are images of that exam, indistinguishable from the job's own, scored against
        the exam's gold when handed in, never reviewed as work nor merged into the job's labels
        (``job.gold_scores()``). With ``min_gold_f1``, a worker whose gold F1's 95 % Wilson interval lies
        wholly under it, after at least ``min_gold_images`` gold images, has the job's credentials suspended
        (so the job needs ``credentials``); a manager reinstates them with ``p.members.reinstate``.
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
        gold = self._gold_settings(gold_rate, gold_exam, min_gold_f1, min_gold_images, creds)
        values = {
            "passes_per_file": passes_per_file, "review_frequency": review_frequency, "overlap": overlap,
            "min_agreement": min_agreement, "max_extra_passes": max_extra_passes, "guide": guide,
            "review_guide": review_guide, "credentials": orjson.dumps(creds).decode(),
            "claim_minutes": claim_minutes, **gold,
        }  # fmt: skip
        with db.transaction(p._engine) as conn:
            job_id = insert_job(conn, p, name, ids, {a: passes_per_file if a in full else 1 for a in ids}, values)
        return self[job_id]

    def _gold_settings(
        self, rate: float, exam: str | None, min_f1: float | None, min_images: int, creds: Sequence[str]
    ) -> dict[str, Any]:
        """The continuous-gold columns of a new job, checked."""
        if not 0.0 <= rate <= 1.0 or math.isnan(rate):
            raise LabnbError(f"gold_rate must be between 0 and 1, got {rate}")
        if min_f1 is not None and not 0.0 <= min_f1 <= 1.0:
            raise LabnbError(f"min_gold_f1 must be between 0 and 1, got {min_f1}")
        if min_images < 1:
            raise LabnbError(f"min_gold_images must be at least 1, got {min_images}")
        if not rate:
            if exam is not None or min_f1 is not None:
                raise LabnbError("gold_exam and min_gold_f1 need a gold_rate above 0 (the share of gold tasks)")
            return {}
        if exam is None:
            raise LabnbError("gold_rate needs gold_exam: the exam whose images and gold are mixed in")
        if min_f1 is not None and not creds:
            raise LabnbError("min_gold_f1 suspends the job's credentials, so the job needs credentials=[...]")
        exam_id = self._p.exams[exam].id
        return {"gold_rate": rate, "gold_exam_id": exam_id, "min_gold_f1": min_f1, "min_gold_images": min_images}

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
            rows = conn.execute(
                sa.select(jobs).where(jobs.c.project_id == self._p.id, jobs.c.kind == "work").order_by(jobs.c.id)
            ).all()
        return iter([Job(self._p, r) for r in rows])

    def __len__(self) -> int:
        return len(list(iter(self)))

    @property
    def df(self) -> pd.DataFrame:
        """Jobs with their task counts by state."""
        with self._p._engine.connect() as conn:
            counts = conn.execute(
                sa.select(tasks.c.job_id, tasks.c.kind, tasks.c.state, sa.func.count())
                .where(tasks.c.project_id == self._p.id, tasks.c.gold.is_(False))
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


def insert_job(
    conn: sa.Connection, project: Project, name: str, ids: Sequence[int], passes: dict[int, int], values: dict[str, Any]
) -> int:
    """Insert a draft job (``values``: its columns beyond name and state) over images ``ids`` with their
    planned ``passes``, and its ``job.create`` event, in ``conn``; returns its id. Job names are unique per
    project, exams' jobs included."""
    if conn.execute(sa.select(jobs.c.id).where(jobs.c.project_id == project.id, jobs.c.name == name)).first():
        raise LabnbError(f"project '{project.name}' already has a job named '{name}'")
    job_id = int(
        conn.execute(
            jobs.insert()
            .values(
                project_id=project.id, name=name, state="draft", created_by=project.user, created_at=now(), **values
            )
            .returning(jobs.c.id)
        ).scalar_one()
    )
    conn.execute(
        job_assets.insert(),
        [
            {"job_id": job_id, "asset_id": a, "position": i, "extra_passes": 0, "passes": passes[a]}
            for i, a in enumerate(ids)
        ],
    )
    record_event(
        conn, project.id, project.user, "job.create", payload={"job": job_id, "name": name, "images": len(ids)}
    )
    return job_id
