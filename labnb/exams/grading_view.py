"""What a grader sees of one image of an attempt: the trainee's shapes, the gold, the pre-score and the grade.

The grader widget (:mod:`labnb.widgets.exam_grader`) shows this; reading it is the one path by which gold
geometry leaves the store for a widget, so :func:`grading_item` checks the caller first
(:func:`labnb.exams.grading.check_grader`: a reviewer or above, never the attempt's own trainee) and only
then reads anything. The pre-score (``exam_scores.detail``) and the grade (``exam_grades``) are decoded here
so the widget deals in ids and numbers, not in JSON columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from labnb.clock import aware
from labnb.errors import LabnbError
from labnb.exams.gold import gold_shapes
from labnb.exams.grading import check_grader
from labnb.store.tables import exam_grades, exam_scores, tasks
from labnb.workflow.tasks import task_shapes

if TYPE_CHECKING:
    from labnb.exams.attempts import Attempt
    from labnb.exams.exam import Exam
    from labnb.geometry import Shape


@dataclass(frozen=True)
class SavedGrade:
    """A grader's stored verdict on one image (``exam_grades``), ids as ints."""

    stars: dict[int, int]
    missing: list[int]
    tags: dict[int, bool]
    comment: str | None
    grader: str
    graded_at: datetime


@dataclass(frozen=True)
class GradingItem:
    """One image of an attempt as its grader sees it.

    ``state``: ``drawing`` (not handed in: shown, not gradable), ``handed_in`` (scored, not graded yet) or
    ``graded``. ``detail`` is the pre-score (:mod:`labnb.exams.prescore`: ``gold`` and ``trainee`` entries),
    None before hand-in; ``grade`` the stored grade, None before grading."""

    asset_id: int
    file_name: str
    width: int
    height: int
    task_id: int
    state: str
    trainee: list[Shape] = field(default_factory=list)
    gold: list[Shape] = field(default_factory=list)
    detail: dict[str, Any] | None = None
    grade: SavedGrade | None = None

    @property
    def gradable(self) -> bool:
        return self.detail is not None


def _loads(value: Any, default: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else default


def grading_item(exam: Exam, attempt: Attempt, asset_id: int) -> GradingItem:
    """The image ``asset_id`` of ``attempt`` with its gold, for a grader. Refused (AccessDenied) before
    anything is read unless the current user may grade the attempt."""
    check_grader(exam, attempt)
    p = exam.project
    asset = p.asset(asset_id)
    t = tasks
    with p._engine.connect() as conn:
        mine = sa.and_(t.c.attempt_id == attempt.id, t.c.asset_id == asset_id, t.c.kind == "draw")
        draw = conn.execute(sa.select(t.c.id, t.c.state).where(mine)).first()
        if draw is None:
            raise LabnbError(f"image {asset_id} is not an image of the exam '{exam.name}'")
        score = conn.execute(sa.select(exam_scores.c.detail).where(exam_scores.c.task_id == draw.id)).first()
        row = conn.execute(sa.select(exam_grades).where(exam_grades.c.task_id == draw.id)).first()
        gold = gold_shapes(conn, exam.id, asset_id, p._classes_by_id())
        trainee = task_shapes(p, draw.id, conn)
    grade = None
    if row is not None:
        grade = SavedGrade(
            stars={int(k): int(v) for k, v in _loads(row.stars, {}).items()},
            missing=[int(g) for g in _loads(row.missing, [])],
            tags={int(k): bool(v) for k, v in _loads(row.tags, {}).items()},
            comment=row.comment,
            grader=str(row.grader),
            graded_at=aware(row.graded_at),
        )
    detail = _loads(score.detail, None) if score is not None else None
    state = "graded" if grade is not None else "handed_in" if detail is not None else "drawing"
    return GradingItem(asset.id, asset.file_name, asset.width, asset.height, int(draw.id), state, trainee, gold,
                       detail, grade)  # fmt: skip
