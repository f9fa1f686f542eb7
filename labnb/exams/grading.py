"""Grading one image of an attempt: the grader's stars, Missing marks, tag verdicts and comment, checked
against what the trainee drew and the gold, saved in one transaction with its event.

A grade starts from the automatic pre-score (:mod:`labnb.exams.prescore`): what the grader leaves alone
keeps its proposal, so a grade is always complete. Ids are checked: stars only for the trainee instances of
this image of this attempt, Missing only for gold instances of this image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from labnb.clock import now
from labnb.errors import AccessDenied, LabnbError
from labnb.event_log import record_event
from labnb.store import database as db
from labnb.store.tables import exam_attempts, exam_grades, exam_scores, tasks
from labnb.workflow.task_rows import locked, set_values

if TYPE_CHECKING:
    from labnb.exams.attempts import Attempt
    from labnb.exams.exam import Exam


def image_task(conn: sa.Connection, exam: Exam, attempt: Attempt, asset_id: int) -> Any:
    """The attempt's draw task on ``asset_id``, locked; refused when the image is not the exam's."""
    task_id = conn.execute(
        sa.select(tasks.c.id).where(
            tasks.c.attempt_id == attempt.id, tasks.c.asset_id == asset_id, tasks.c.kind == "draw"
        )
    ).scalar()
    if task_id is None:
        raise LabnbError(f"image {asset_id} is not an image of the exam '{exam.name}'")
    return locked(conn, task_id)


def check_grader(exam: Exam, attempt: Attempt) -> None:
    """The current user may grade ``attempt``: a reviewer or above, and not its trainee."""
    p = exam.project
    p.members.require("reviewer", f"grade the exam '{exam.name}'")
    if attempt.user == p.user:
        raise AccessDenied(f"'{p.user}' cannot grade their own attempt at the exam '{exam.name}'")


def _ids(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise LabnbError(f"{what} must be an id, got {value!r}")
    return int(value)


def grade(
    exam: Exam,
    attempt: Attempt,
    asset_id: int,
    *,
    stars: Mapping[int, int] | None,
    missing: Sequence[int] | None,
    tags: Mapping[int, bool] | None,
    comment: str | None,
) -> None:
    """See :meth:`labnb.exams.exam.Exam.grade`."""
    check_grader(exam, attempt)
    p = exam.project
    name = p.asset(asset_id).file_name
    stamp = now()
    with db.transaction(p._engine) as conn:
        # checked in this transaction, the attempt's row locked: a decision made meanwhile is never regraded
        x = exam_attempts
        state = conn.execute(sa.select(x.c.state).where(x.c.id == attempt.id).with_for_update()).scalar_one()
        if state in ("passed", "failed"):
            raise LabnbError(
                f"attempt {attempt.number} of '{attempt.user}' is {state}; a decided attempt is not graded again"
            )
        draw = image_task(conn, exam, attempt, asset_id)
        if draw.state in ("none", "to_fix"):
            raise LabnbError(
                f"image '{name}' of attempt {attempt.number} by '{attempt.user}' is not handed in yet; only a "
                "handed-in image can be graded"
            )
        score = conn.execute(sa.select(exam_scores).where(exam_scores.c.task_id == draw.id)).one()
        detail = orjson.loads(score.detail)
        shapes = {int(e["id"]): e for e in detail["trainee"] if e["kind"] != "tag"}
        tag_ids = {int(e["id"]): e for e in detail["trainee"] if e["kind"] == "tag"}
        gold_ids = {int(e["id"]) for e in detail["gold"] if e["kind"] != "tag"}
        given: dict[int, int] = {}
        for key, value in (stars or {}).items():
            i = _ids(key, "a stars key")
            if i not in shapes:
                raise LabnbError(f"annotation {i} is not an instance the trainee drew on image '{name}'")
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
                raise LabnbError(f"annotation {i}: stars must be a whole number from 1 to 5 (0 clears), got {value!r}")
            if value:
                given[i] = value
        final = {i: given.get(i, int(e["stars"])) for i, e in shapes.items()}
        if missing is None:
            marked = sorted(int(e["id"]) for e in detail["gold"] if e["kind"] != "tag" and e["status"] == "missed")
        else:
            marked = sorted({_ids(m, "a missing gold id") for m in missing})
            stray = [m for m in marked if m not in gold_ids]
            if stray:
                raise LabnbError(f"gold {stray[0]} is not a gold instance of image '{name}' in the exam '{exam.name}'")
        verdicts = {i: bool(e.get("right")) for i, e in tag_ids.items()}
        for key, right in (tags or {}).items():
            i = _ids(key, "a tags key")
            if i not in tag_ids:
                raise LabnbError(f"annotation {i} is not a tag the trainee set on image '{name}'")
            verdicts[i] = bool(right)
        text = None if comment is None else str(comment)
        values = {
            "attempt_id": attempt.id, "asset_id": asset_id, "grader": p.user, "comment": text, "graded_at": stamp,
            "stars": orjson.dumps({str(k): v for k, v in final.items()}).decode(),
            "missing": orjson.dumps(marked).decode(),
            "tags": orjson.dumps({str(k): v for k, v in verdicts.items()}).decode(),
        }  # fmt: skip
        conn.execute(exam_grades.delete().where(exam_grades.c.task_id == draw.id))
        conn.execute(exam_grades.insert().values(task_id=draw.id, **values))
        review = conn.execute(sa.select(tasks).where(tasks.c.draw_task_id == draw.id)).first()
        if review is not None:
            set_values(conn, review.id, stamp, state="completed", assignee=review.assignee or p.user,
                       expires_at=None, comment=text)  # fmt: skip
        set_values(conn, draw.id, stamp, state="completed", expires_at=None)
        mean = sum(final.values()) / len(final) if final else None
        record_event(
            conn, p.id, p.user, "exam.grade", asset_id=asset_id, task_id=review.id if review is not None else draw.id,
            payload={"exam": exam.id, "attempt": attempt.id, "draw_task": draw.id, "mean_stars": mean,
                     "missing": len(marked), "trainee": attempt.user},
        )  # fmt: skip
