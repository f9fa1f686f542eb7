"""``p.exams``: create exams from trusted labels, look them up, list them, and start one's own attempt."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from labnb.clock import now
from labnb.errors import LabnbError
from labnb.event_log import record_event
from labnb.exams.attempts import Attempt
from labnb.exams.exam import Exam, exam_row
from labnb.exams.gold import GOLD_SOURCES, collect, content_hash, gold_rows, source_name
from labnb.exams.results import PASS_CRITERIA
from labnb.schema import check_name
from labnb.store import database as db
from labnb.store.tables import exam_gold, exams, jobs
from labnb.workflow.guides import warn_removed_images
from labnb.workflow.job_list import insert_job

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job

#: How many names an error lists before it says "and N more".
_NAMED = 10


def check_pass_mark(pass_mark: Mapping[str, Any] | None) -> dict[str, float]:
    """The pass mark checked: known criteria only (the error lists them), each a number in its range."""
    mark = dict(pass_mark or {})
    unknown = sorted(set(mark) - set(PASS_CRITERIA))
    if unknown:
        raise LabnbError(f"pass_mark: unknown criteria {unknown}; the criteria are {list(PASS_CRITERIA)}")
    ranges = {"stars": (1.0, 5.0), "f1": (0.0, 1.0), "max_missed": (0.0, math.inf)}
    out = {}
    for key, value in mark.items():
        low, high = ranges[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise LabnbError(f"pass_mark {key!r} must be a number from {low:g} to {high:g}, got {value!r}")
        out[key] = float(value)
    return out


class Exams:
    """``p.exams``: ``create``, ``p.exams["name"]``, ``p.exams.df``, ``p.exams.start("name")``."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def create(
        self,
        name: str,
        assets: Sequence[Any] | pd.Series | None = None,
        *,
        gold: str | Job | int = "ground_truth",
        grants: Sequence[str] = (),
        pass_mark: Mapping[str, float] | None = None,
        guide: str = "",
        review_guide: str = "",
        max_attempts: int | None = None,
        retake_after: timedelta | float | None = None,
        auto_pass: bool = False,
        iou: float = 0.5,
        show_graded: bool = False,
    ) -> Exam:
        """A new exam over ``assets`` (default: every image that has gold), graded against ``gold``: the
        project's ``"ground_truth"`` or ``"consensus"`` labels, or a job (the consensus of its completed
        passes). The gold is copied now, with a version and content hash, so later edits of those labels do
        not change the exam. Managers and owners.

        ``grants``: credentials passing grants; ``pass_mark``: any of ``{"stars": mean stars, "f1":
        automatic F1, "max_missed": gold instances missed}`` (``>=``, and ``<=`` for max_missed);
        ``guide``/``review_guide``: markdown for trainees and graders; ``max_attempts`` per person;
        ``retake_after`` (a timedelta, or seconds) between one attempt's decision and the next attempt;
        ``auto_pass``: pass as soon as every image is graded and the mark is met; ``iou``: the IoU (OKS for
        keypoints) at which a trainee instance matches a gold one; ``show_graded``: trainees see their own
        graded instances (never the gold). An image without gold is refused by name.
        """
        p = self._p
        p.members.require("manager", f"create the exam '{name}'")
        name = check_name(name, "exam name")
        mark = check_pass_mark(pass_mark)
        creds = [check_name(c, "credential") for c in grants]
        if not 0.0 < iou <= 1.0 or math.isnan(iou):
            raise LabnbError(f"iou must be above 0 and at most 1, got {iou}")
        if max_attempts is not None and (isinstance(max_attempts, bool) or int(max_attempts) < 1):
            raise LabnbError(f"max_attempts must be at least 1 (or None: no limit), got {max_attempts}")
        wait = retake_after.total_seconds() if isinstance(retake_after, timedelta) else retake_after
        if wait is not None and (not isinstance(wait, (int, float)) or wait < 0 or math.isnan(wait)):
            raise LabnbError(f"retake_after must be a timedelta or seconds (0 or more), got {retake_after!r}")
        source = self._gold_source(gold)
        for text, what in ((guide, "guide"), (review_guide, "review guide")):
            warn_removed_images(text, p, f"exam '{name}' {what}")
        ids = None if assets is None else [p._asset_id(int(a) if isinstance(a, np.integer) else a) for a in assets]
        pool = ids if ids is not None else [a.id for a in p.assets]
        if ids is not None and len(set(ids)) != len(ids):
            raise LabnbError(f"exam '{name}': some images are listed twice")
        found = collect(p, pool, source)
        if ids is not None:
            self._refuse_without_gold(name, ids, found, source)
        ids = [a for a in pool if a in found]
        if not ids:
            raise LabnbError(f"exam '{name}': no image has {source_name(source).replace('_', ' ')} labels to grade on")
        with db.transaction(p._engine) as conn:
            if conn.execute(sa.select(exams.c.id).where(exams.c.project_id == p.id, exams.c.name == name)).first():
                raise LabnbError(f"project '{p.name}' already has an exam named '{name}'")
            values = {
                "kind": "exam", "passes_per_file": 1, "review_frequency": 1, "overlap": 1.0, "max_extra_passes": 0,
                "guide": guide, "review_guide": review_guide, "credentials": "[]", "claim_minutes": 60.0,
            }  # fmt: skip
            job_id = insert_job(conn, p, f"exam: {name}", ids, dict.fromkeys(ids, 1), values)
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(state="launched", launched_at=now()))
            exam_id = int(
                conn.execute(
                    exams.insert()
                    .values(
                        project_id=p.id, job_id=job_id, name=name, gold_source=source_name(source),
                        grants=orjson.dumps(creds).decode(), pass_mark=orjson.dumps(mark).decode(),
                        max_attempts=max_attempts, retake_after=wait, auto_pass=bool(auto_pass), iou=float(iou),
                        show_graded=bool(show_graded), gold_version=1, gold_hash="", created_by=p.user,
                        created_at=now(),
                    )
                    .returning(exams.c.id)
                ).scalar_one()
            )  # fmt: skip
            rows = gold_rows(p, exam_id, {a: found[a] for a in ids})
            conn.execute(exam_gold.insert(), rows)
            digest = content_hash(rows)
            conn.execute(exams.update().where(exams.c.id == exam_id).values(gold_hash=digest))
            record_event(conn, p.id, p.user, "exam.create", payload={
                "exam": exam_id, "name": name, "images": len(ids), "gold": len(rows), "gold_hash": digest,
                "source": source_name(source)})  # fmt: skip
        return self[exam_id]

    def _gold_source(self, gold: str | Job | int) -> str | Job:
        if isinstance(gold, str) and gold in GOLD_SOURCES:
            return gold
        if isinstance(gold, (str, int)) or hasattr(gold, "consensus"):
            try:
                return self._p.jobs[gold]
            except LabnbError:
                raise LabnbError(
                    f"gold must be one of {list(GOLD_SOURCES)} or a job, and there is no job {gold!r}"
                ) from None
        raise LabnbError(f"gold must be one of {list(GOLD_SOURCES)} or a job, got {gold!r}")

    def _refuse_without_gold(self, name: str, ids: Sequence[int], found: Mapping[int, Any], source: Any) -> None:
        bare = [self._p.asset(a).file_name for a in ids if a not in found]
        if not bare:
            return
        more = f" and {len(bare) - _NAMED} more" if len(bare) > _NAMED else ""
        listed = ", ".join(repr(b) for b in bare[:_NAMED]) + more
        where = source_name(source).replace("_", " ")
        raise LabnbError(
            f"exam '{name}': {len(bare)} of {len(ids)} images have no {where} labels to grade against: {listed}"
        )

    def __getitem__(self, key: int | str | Exam) -> Exam:
        if isinstance(key, Exam):
            return key
        return Exam(self._p, exam_row(self._p, key))

    def __iter__(self) -> Iterator[Exam]:
        with self._p._engine.connect() as conn:
            rows = conn.execute(sa.select(exams).where(exams.c.project_id == self._p.id).order_by(exams.c.id)).all()
        return iter([Exam(self._p, r) for r in rows])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def start(self, name: str | int | Exam) -> Attempt:
        """Start (or return, if one is open) the current user's attempt at the exam ``name``
        (:meth:`Exam.start`); then ``p.work()`` opens its images."""
        return self[name].start()

    @property
    def df(self) -> pd.DataFrame:
        """Exams: exam, name, images, grants, pass_mark, max_attempts, attempts and passed (everyone's for
        reviewers and above, one's own for a trainee), created_by, created_at."""
        rows = []
        for e in self:
            mine = e.attempts()
            with self._p._engine.connect() as conn:
                meta = conn.execute(sa.select(exams.c.created_by, exams.c.created_at).where(exams.c.id == e.id)).one()
            rows.append((e.id, e.name, len(e.assets), e.grants, e.pass_mark, e.max_attempts, len(mine),
                         sum(a.state == "passed" for a in mine), meta.created_by, meta.created_at))  # fmt: skip
        cols = ["exam", "name", "images", "grants", "pass_mark", "max_attempts", "attempts", "passed", "created_by",
                "created_at"]  # fmt: skip
        frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def __repr__(self) -> str:
        return f"<Exams of '{self._p.name}': {len(self)}>"
