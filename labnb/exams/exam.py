"""One exam (``p.exams["name"]``): its gold, its attempts, grading, results and the pass decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
import sqlalchemy as sa

from labnb.clock import now
from labnb.errors import AccessDenied, LabnbError
from labnb.event_log import record_event
from labnb.exams import attempts as _attempts
from labnb.exams.attempts import Attempt, attempt_from_row, visible_attempts
from labnb.exams.gold import gold_shapes
from labnb.exams.results import attempt_rows, image_rows, label_rows, mark_met
from labnb.store import database as db
from labnb.store.tables import assets, exam_attempts, exam_gold, exams, label_classes

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.geometry import Shape
    from labnb.project import Project
    from labnb.workflow.jobs import Job


class Exam:
    """An exam: a job of kind ``exam`` over images whose gold was snapshotted at creation. Trainees sit it
    with :meth:`start`; reviewers grade it (:meth:`grade`, or the ``p.exam_grader`` widget) and decide it
    (:meth:`passed`, :meth:`fail`); :meth:`results` reports it."""

    def __init__(self, project: Project, row: Any) -> None:
        self.project = project
        self.id: int = row.id
        self.name: str = row.name
        self.job_id: int = row.job_id
        self.gold_source: str = row.gold_source
        self.grants: list[str] = orjson.loads(row.grants)
        self.pass_mark: dict[str, float] = orjson.loads(row.pass_mark)
        self.max_attempts: int | None = row.max_attempts
        self.retake_after: timedelta | None = None if row.retake_after is None else timedelta(seconds=row.retake_after)
        self.auto_pass: bool = bool(row.auto_pass)
        self.iou: float = float(row.iou)
        self.show_graded: bool = bool(row.show_graded)
        self.gold_version: int = row.gold_version
        self.gold_hash: str = row.gold_hash

    def __repr__(self) -> str:
        return f"<Exam '{self.name}': {len(self.assets)} images, grants {self.grants}>"

    @property
    def job(self) -> Job:
        """The exam's job (kind ``exam``): its guide and review guide, its tasks."""
        return self.project.jobs[self.job_id]

    @property
    def assets(self) -> list[int]:
        """The exam's images, in order."""
        return self.job.assets

    # -- the gold ---------------------------------------------------------------------------------
    def _require_gold_reader(self) -> None:
        self.project.members.require("reviewer", f"see the gold of the exam '{self.name}'")

    @property
    def gold(self) -> pd.DataFrame:
        """The snapshotted gold, one row per instance (reviewers and above): gold, asset, file_name, label,
        kind, x, y, w, h, source_annotation (the annotation it was copied from)."""
        self._require_gold_reader()
        g, c, s = exam_gold, label_classes, assets
        with self.project._engine.connect() as conn:
            rows = conn.execute(
                sa.select(g.c.id, g.c.asset_id, s.c.file_name, c.c.name, g.c.kind, g.c.data, g.c.x, g.c.y, g.c.w,
                          g.c.h, g.c.source_annotation_id)
                .join(s, s.c.id == g.c.asset_id)
                .outerjoin(c, c.c.id == g.c.label_id)
                .where(g.c.exam_id == self.id)
                .order_by(g.c.id)
            ).all()  # fmt: skip
        out = []
        for r in rows:
            label = r.name
            if r.kind == "tag":
                tag = orjson.loads(r.data)
                label = f"{tag.get('group')}:{tag['value']}" if tag.get("group") else tag["value"]
            out.append((r.id, r.asset_id, r.file_name, label, r.kind, r.x, r.y, r.w, r.h, r.source_annotation_id))
        cols = ["gold", "asset", "file_name", "label", "kind", "x", "y", "w", "h", "source_annotation"]
        frame: pd.DataFrame = pd.DataFrame(out, columns=cols)
        frame["source_annotation"] = frame["source_annotation"].astype("Int64")
        return frame

    def gold_shapes(self, asset: int | str | Asset) -> list[Shape]:
        """The gold shapes of one exam image (reviewers and above); their ids are gold ids."""
        self._require_gold_reader()
        asset_id = self.project._asset_id(asset)
        with self.project._engine.connect() as conn:
            return gold_shapes(conn, self.id, asset_id, self.project._classes_by_id())

    # -- attempts ---------------------------------------------------------------------------------
    def start(self) -> Attempt:
        """Start (or return, if one is open) the current user's attempt: their own blank draw task for every
        exam image, handed out by ``p.work()`` in the Annotator with the exam's guide. Refused after passing,
        while an attempt awaits grading, past ``max_attempts``, or before ``retake_after`` has passed since
        the last attempt was decided (the message says when)."""
        return _attempts.start(self)

    def attempts(self) -> list[Attempt]:
        """The attempts the current user may see: all of them for reviewers and above, else their own."""
        with self.project._engine.connect() as conn:
            return [attempt_from_row(self, r) for r in conn.execute(visible_attempts(self)).all()]

    def attempt(self, ref: int | Attempt | None = None, *, user: str | None = None) -> Attempt:
        """An attempt by id; or ``user``'s latest (default: the current user's). A trainee finds only their
        own."""
        if isinstance(ref, Attempt):
            ref = ref.id
        found = self.attempts()
        if ref is not None:
            found = [a for a in found if a.id == ref]
        else:
            found = [a for a in found if a.user == (user or self.project.user)][-1:]
        if not found:
            who = f"attempt {ref}" if ref is not None else f"attempt by '{user or self.project.user}'"
            raise LabnbError(f"the exam '{self.name}' has no {who}")
        return found[0]

    # -- grading and results ----------------------------------------------------------------------
    def grade(
        self,
        attempt: int | Attempt,
        asset: int | str | Asset,
        *,
        stars: Mapping[int, int] | None = None,
        missing: Sequence[int] | None = None,
        tags: Mapping[int, bool] | None = None,
        comment: str | None = None,
    ) -> pd.Series:
        """Grade one handed-in image of an attempt (reviewers and above, never the attempt's trainee).

        ``stars``: {trainee annotation id: 1-5} (0 or a missing id keeps the automatic proposal); ``missing``:
        the gold ids the trainee missed (default: the gold no trainee instance matched); ``tags``: {tag
        annotation id: right?} (default: right when the gold has it); ``comment`` for the trainee. Grading
        again replaces the grade. One transaction and one ``exam.grade`` event; the image's review task is
        completed. With ``auto_pass``, the last grade that meets the mark passes the attempt. Returns the
        image's row of ``attempt.images``."""
        from labnb.exams.grading import grade  # noqa: PLC0415 - grading builds on this module

        # the role first: a trainee's lookup of someone else's attempt says "no attempt", hiding the real reason
        self.project.members.require("reviewer", f"grade the exam '{self.name}'")
        a = self.attempt(attempt)
        grade(self, a, self.project._asset_id(asset), stars=stars, missing=missing, tags=tags, comment=comment)
        if self.auto_pass:
            self._auto_pass(a.id)
        frame = image_rows(self, [a])
        row: pd.Series = frame[frame.asset == self.project._asset_id(asset)].iloc[0]
        return row

    def results(self, attempt: int | Attempt | None = None, *, by: str | None = None) -> Any:
        """Per attempt (the current user's own, for a trainee): attempt, user, number, state, started,
        submitted, active_seconds, images_graded, images, mean_stars, missed (gold marked missing by graders),
        extra (automatic false positives), wrong_label, automatic precision, recall, f1 and mean_iou against
        the gold, mark_met (None until decidable) and result (passed, failed, pending, in progress).

        ``by="label"``: the automatic figures per class instead. ``results(attempt)``: that attempt, whose
        ``.images`` has one row per image. The pass rule is ``>=`` on every criterion of ``pass_mark``
        (``<=`` for ``max_missed``): a score equal to the mark passes."""
        if by not in (None, "label"):
            raise LabnbError(f"by must be None or 'label', got {by!r}")
        if attempt is not None:
            return self.attempt(attempt)
        found = self.attempts()
        return label_rows(self, found) if by == "label" else attempt_rows(self, found)

    def passed(self, attempt: int | Attempt) -> Attempt:
        """Pass an attempt whose results meet the mark (reviewers and above, not the trainee) and grant the
        exam's credentials (source "exam", recording who, when and which attempt). Refused, with what is
        unmet, when the mark is not met or not decidable yet."""
        self.project.members.require("reviewer", f"pass attempts at the exam '{self.name}'")
        a = self.attempt(attempt)
        self._require_decider(a, "pass")
        summary = attempt_rows(self, [a]).iloc[0]
        met, unmet = mark_met(self.pass_mark, summary)
        if not met:
            raise LabnbError(f"attempt {a.number} of '{a.user}' does not meet the pass mark: {'; '.join(unmet)}")
        self._decide(a, "passed")
        return a.refresh()

    def fail(self, attempt: int | Attempt) -> Attempt:
        """Record an attempt as failed (reviewers and above, not the trainee); the trainee may retake the exam
        within its limits."""
        self.project.members.require("reviewer", f"fail attempts at the exam '{self.name}'")
        a = self.attempt(attempt)
        self._require_decider(a, "fail")
        self._decide(a, "failed")
        return a.refresh()

    def _require_decider(self, a: Attempt, verb: str) -> None:
        self.project.members.require("reviewer", f"{verb} attempts at the exam '{self.name}'")
        if a.user == self.project.user:
            raise AccessDenied(f"'{a.user}' cannot {verb} their own attempt")
        if a.state != "submitted":
            raise LabnbError(f"attempt {a.number} of '{a.user}' is {a.state}; only a handed-in attempt is decided")

    def _decide(self, a: Attempt, state: str, *, quiet: bool = False) -> None:
        """Record the decision, unless someone decided meanwhile (an error, or nothing when ``quiet``: two
        graders' last grades may both find the mark met)."""
        p = self.project
        x = exam_attempts
        with db.transaction(p._engine) as conn:
            current = conn.execute(sa.select(x.c.state).where(x.c.id == a.id).with_for_update()).scalar_one()
            if current != "submitted":
                if quiet:
                    return
                raise LabnbError(f"attempt {a.number} of '{a.user}' was {current} meanwhile")
            conn.execute(x.update().where(x.c.id == a.id).values(state=state, decided_by=p.user, decided_at=now()))
            if state == "passed":
                for credential in self.grants:
                    p.members._grant(a.user, credential, by=p.user, conn=conn, source="exam", exam_id=self.id,
                                     attempt_id=a.id)  # fmt: skip
            kind = "exam.pass" if state == "passed" else "exam.fail"
            record_event(conn, p.id, p.user, kind, payload={"exam": self.id, "attempt": a.id, "member": a.user})

    def _auto_pass(self, attempt_id: int) -> None:
        a = self.attempt(attempt_id)
        if a.state != "submitted":
            return
        met, _ = mark_met(self.pass_mark, attempt_rows(self, [a]).iloc[0])
        if met:
            self._decide(a, "passed", quiet=True)


def exam_row(project: Project, key: int | str) -> Any:
    q = sa.select(exams).where(exams.c.project_id == project.id)
    q = q.where(exams.c.id == key) if isinstance(key, int) else q.where(exams.c.name == key)
    with project._engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise LabnbError(f"project '{project.name}' has no exam {key!r}")
    return row
