"""The automatic score of an exam image: the trainee's shapes matched to the gold when the image is handed in.

Matching is :func:`labnb.metrics.agreement.match_shapes` (Hungarian, per class, at the exam's ``iou``),
the rule every comparison in labnb uses; a trainee shape left over that matches a left-over gold shape of
another class at that IoU is a *wrong label* (it counts as a false positive and its gold as missed, as in
COCO evaluation, and is reported apart). Tags are right when the gold has the same (group, value).

Each matched instance gets a proposed star rating from its IoU (OKS for keypoints), shown in the grader
as a proposal until a grader confirms or changes it:

=============  =====
IoU / OKS      stars
=============  =====
>= 0.9         5
>= 0.8         4
>= 0.7         3
>= exam's iou  2
unmatched      1 (a false positive or a wrong label)
=============  =====

The score is stored (``exam_scores``) in the hand-in's own transaction, so the grader opens pre-filled and
results need no recomputation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from labnb.event_log import record_event
from labnb.exams.gold import gold_shapes
from labnb.geometry import Shape, Tag
from labnb.metrics.agreement import match_shapes
from labnb.store.tables import exam_attempts, exam_scores, exams, jobs, tasks
from labnb.workflow.tasks import task_shapes

if TYPE_CHECKING:
    from labnb.project import Project

#: (lowest IoU, stars) from the top; a match under 0.7 (but at the exam's iou) gets 2, no match 1.
STAR_STEPS = ((0.9, 5), (0.8, 4), (0.7, 3))


def proposed_stars(similarity: float | None) -> int:
    """The stars proposed for a trainee instance with this IoU/OKS to its gold (None: unmatched)."""
    if similarity is None:
        return 1
    for lowest, stars in STAR_STEPS:
        if similarity >= lowest:
            return stars
    return 2


@dataclass
class ImageScore:
    """One image's match: counts, the summed IoU of the true positives, and every instance's fate."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    wrong_label: int = 0
    iou_sum: float = 0.0
    #: per gold instance: id, label, kind, status (matched / missed / wrong_label), match, iou
    gold: list[dict[str, Any]] = field(default_factory=list)
    #: per trainee instance: id, label, kind, status (tp / fp / wrong_label), gold, iou, stars (proposed)
    trainee: list[dict[str, Any]] = field(default_factory=list)

    @property
    def detail(self) -> dict[str, Any]:
        return {"gold": self.gold, "trainee": self.trainee}


def _entry(s: Shape, **fields: Any) -> dict[str, Any]:
    label = (f"{s.group}:{s.value}" if s.group else s.value) if isinstance(s, Tag) else s.label
    return {"id": s.id, "label": label, "kind": s.kind, **fields}


def score_image(gold: Sequence[Shape], drawn: Sequence[Shape], height: int, width: int, iou: float) -> ImageScore:
    """Match ``drawn`` to ``gold`` on one image (see the module docstring)."""
    out = ImageScore()
    g_shapes = [s for s in gold if not isinstance(s, Tag)]
    d_shapes = [s for s in drawn if not isinstance(s, Tag)]
    pairs = match_shapes(g_shapes, d_shapes, height, width, threshold=iou)
    by_gold: dict[int, tuple[int | None, float | None, str]] = {p.a: (p.b, p.similarity, "matched") for p in pairs}
    by_drawn: dict[int, tuple[int | None, float | None, str]] = {p.b: (p.a, p.similarity, "tp") for p in pairs}
    left_g = [i for i in range(len(g_shapes)) if i not in by_gold]
    left_d = [j for j in range(len(d_shapes)) if j not in by_drawn]
    if left_g and left_d:
        # the same object under another class: match the leftovers with labels set aside
        anon_g = [dataclasses.replace(g_shapes[i], label="?") for i in left_g]
        anon_d = [dataclasses.replace(d_shapes[j], label="?") for j in left_d]
        for p in match_shapes(anon_g, anon_d, height, width, threshold=iou):
            i, j = left_g[p.a], left_d[p.b]
            by_gold[i] = (j, p.similarity, "wrong_label")
            by_drawn[j] = (i, p.similarity, "wrong_label")
    for gi, g in enumerate(g_shapes):
        dj, sim, status = by_gold.get(gi, (None, None, "missed"))
        match = d_shapes[dj].id if dj is not None else None
        out.gold.append(_entry(g, status=status, match=match, iou=sim))
    for dj, d in enumerate(d_shapes):
        gi_, sim, status = by_drawn.get(dj, (None, None, "fp"))
        gold_id = g_shapes[gi_].id if gi_ is not None else None
        stars = proposed_stars(sim if status == "tp" else None)
        out.trainee.append(_entry(d, status=status, gold=gold_id, iou=sim, stars=stars))
        if status == "tp":
            out.tp += 1
            out.iou_sum += float(sim or 0.0)
        else:
            out.fp += 1
            out.wrong_label += status == "wrong_label"
    out.fn = len(g_shapes) - out.tp
    gold_tags = {(s.group, s.value): s for s in gold if isinstance(s, Tag)}
    drawn_tags = {(s.group, s.value) for s in drawn if isinstance(s, Tag)}
    for tag in drawn:
        if isinstance(tag, Tag):
            right = (tag.group, tag.value) in gold_tags
            out.tp += right
            out.fp += not right
            status = "tp" if right else "fp"
            out.trainee.append(_entry(tag, status=status, gold=None, iou=None, stars=None, right=right))
    for key, gold_tag in gold_tags.items():
        found = key in drawn_tags
        out.fn += not found
        out.gold.append(_entry(gold_tag, status="matched" if found else "missed", match=None, iou=None))
    return out


def exam_of_task(conn: sa.Connection, row: Any) -> Any:
    """The exam row a handed-in exam image (an attempt's task, or a continuous-gold task) is scored against."""
    if row.attempt_id is not None:
        exam_id = conn.execute(sa.select(exam_attempts.c.exam_id).where(exam_attempts.c.id == row.attempt_id))
    else:
        exam_id = conn.execute(sa.select(jobs.c.gold_exam_id).where(jobs.c.id == row.job_id))
    return conn.execute(sa.select(exams).where(exams.c.id == exam_id.scalar_one())).one()


def after_exam_image(project: Project, conn: sa.Connection, row: Any, stamp: datetime) -> None:
    """Draw task ``row``, an exam image, was handed in (inside the hand-in's transaction): store its score;
    an attempt whose every image is in becomes ``submitted``; a continuous-gold score may suspend the worker
    (:func:`labnb.exams.continuous.check_worker`)."""
    exam = exam_of_task(conn, row)
    asset = project.asset(row.asset_id)
    gold = gold_shapes(conn, exam.id, row.asset_id, project._classes_by_id())
    drawn = task_shapes(project, row.id, conn)
    score = score_image(gold, drawn, asset.height, asset.width, float(exam.iou))
    conn.execute(exam_scores.delete().where(exam_scores.c.task_id == row.id))
    conn.execute(
        # a dict, not keywords: the column "fn" would clash with values()' own parameter of that name
        exam_scores.insert().values({
            "task_id": row.id, "exam_id": exam.id, "asset_id": row.asset_id, "user": row.assignee, "tp": score.tp,
            "fp": score.fp, "fn": score.fn, "wrong_label": score.wrong_label, "iou_sum": score.iou_sum,
            "detail": orjson.dumps(score.detail).decode(), "scored_at": stamp,
        })
    )  # fmt: skip
    if row.attempt_id is not None:
        # the attempt's row is locked first: two images handed in at once (two notebooks) would otherwise each
        # count the other's as still open, and neither mark the attempt submitted
        conn.execute(sa.select(exam_attempts.c.id).where(exam_attempts.c.id == row.attempt_id).with_for_update())
        left = conn.execute(
            sa.select(sa.func.count()).where(
                tasks.c.attempt_id == row.attempt_id, tasks.c.kind == "draw", tasks.c.state.in_(("none", "to_fix"))
            )
        ).scalar_one()
        if not left:
            a = exam_attempts
            conn.execute(a.update().where(a.c.id == row.attempt_id).values(state="submitted", submitted_at=stamp))
            record_event(conn, project.id, project.user, "exam.submit",
                         payload={"exam": exam.id, "attempt": row.attempt_id})  # fmt: skip
    else:
        from labnb.exams.continuous import check_worker  # noqa: PLC0415 - it imports this module

        check_worker(project, conn, row.job_id, str(row.assignee))
