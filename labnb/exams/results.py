"""Exam results: per attempt, per image and per class, from the stored automatic scores and grades.

Automatic figures (precision, recall, F1, mean IoU, extra and wrong-label counts) come from the
pre-score of every handed-in image (:mod:`labnb.exams.prescore`); graded ones (mean stars, missed) from
the graders' verdicts (``exam_grades``), over graded images only. Nothing here carries gold geometry,
so the same frames serve a trainee looking at their own attempts.

The pass rule: every criterion of the exam's ``pass_mark`` met, each with ``>=`` (``max_missed`` with
``<=``), so a score equal to the mark passes (Supervisely's strict ``>`` fails it). ``stars`` and
``max_missed`` are decided once every image is graded, ``f1`` once every image is handed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
import sqlalchemy as sa

from labnb.errors import AccessDenied
from labnb.exams.attempts import Attempt, active_seconds
from labnb.metrics.scoring import f1
from labnb.people import RANK
from labnb.store.tables import assets, exam_grades, exam_scores, tasks

if TYPE_CHECKING:
    from labnb.exams.exam import Exam

#: An attempt's result by its state; a handed-in attempt not yet decided is "pending".
RESULTS = {"started": "in progress", "passed": "passed", "failed": "failed"}
#: The criteria a pass mark may hold.
PASS_CRITERIA = ("stars", "f1", "max_missed")

ATTEMPT_COLUMNS = [
    "attempt", "user", "number", "state", "started", "submitted", "active_seconds", "images_graded", "images",
    "mean_stars", "missed", "extra", "wrong_label", "precision", "recall", "f1", "mean_iou", "mark_met",
    "result",
]  # fmt: skip
IMAGE_COLUMNS = [
    "attempt", "task", "asset", "file_name", "state", "tp", "fp", "fn", "wrong_label", "mean_iou",
    "proposed_stars", "graded", "mean_stars", "missed", "comment", "grader", "graded_at",
]  # fmt: skip


def _loads(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else {}


#: What :func:`_per_task` reads: (draw task rows with their image's file_name, scores and grades by task).
Loaded = tuple[list[Any], dict[int, Any], dict[int, Any]]


def _per_task(exam: Exam, attempts: Sequence[Attempt]) -> Loaded:
    """The attempts' draw tasks (each with its image's ``file_name``), their scores and grades, in three
    queries: every frame here is built from one such read."""
    ids = [a.id for a in attempts]
    t, s, g = tasks, exam_scores, exam_grades
    with exam.project._engine.connect() as conn:
        rows = list(
            conn.execute(
                sa.select(t, assets.c.file_name)
                .join(assets, assets.c.id == t.c.asset_id)
                .where(t.c.attempt_id.in_(ids), t.c.kind == "draw")
                .order_by(t.c.seq)
            ).all()
        )
        task_ids = [r.id for r in rows]
        scores = {r.task_id: r for r in conn.execute(sa.select(s).where(s.c.task_id.in_(task_ids)))}
        grades = {r.task_id: r for r in conn.execute(sa.select(g).where(g.c.task_id.in_(task_ids)))}
    return rows, scores, grades


def final_stars(score: Any, grade: Any) -> dict[int, int]:
    """The stars of every trainee instance (not tags) of one graded image: the grader's, else the proposal."""
    given = {int(k): int(v) for k, v in _loads(grade.stars).items()} if grade is not None else {}
    out = {}
    for e in _loads(score.detail).get("trainee", []):
        if e["kind"] != "tag":
            out[int(e["id"])] = given.get(int(e["id"]), int(e["stars"]))
    return out


def image_rows(exam: Exam, attempts: Sequence[Attempt], loaded: Loaded | None = None) -> pd.DataFrame:
    """Per image of each attempt (columns :data:`IMAGE_COLUMNS`): state (drawing, handed_in, graded), the
    automatic counts and mean IoU, the mean proposed stars, and the grade's mean stars, missed count,
    comment, grader and time. ``loaded``: what :func:`_per_task` read already."""
    rows, scores, grades = loaded or _per_task(exam, attempts)
    out = []
    for r in rows:
        s, g = scores.get(r.id), grades.get(r.id)
        state = "graded" if g is not None else "handed_in" if s is not None else "drawing"
        tp, fp, fn, wl, miou, proposed = (math.nan,) * 6
        if s is not None:
            tp, fp, fn, wl = s.tp, s.fp, s.fn, s.wrong_label
            shapes = [e for e in _loads(s.detail).get("trainee", []) if e["kind"] != "tag"]
            matched = sum(1 for e in shapes if e["status"] == "tp")
            miou = s.iou_sum / matched if matched else math.nan
            proposed = sum(e["stars"] for e in shapes) / len(shapes) if shapes else math.nan
        stars = list(final_stars(s, g).values()) if g is not None and s is not None else []
        out.append((
            r.attempt_id, r.id, r.asset_id, r.file_name, state, tp, fp, fn, wl, miou, proposed,
            g is not None, sum(stars) / len(stars) if stars else math.nan,
            len(_loads(g.missing)) if g is not None else math.nan, g.comment if g is not None else None,
            g.grader if g is not None else None, g.graded_at if g is not None else None,
        ))  # fmt: skip
    frame: pd.DataFrame = pd.DataFrame(out, columns=IMAGE_COLUMNS)
    frame["graded_at"] = pd.to_datetime(frame["graded_at"], utc=True)
    return frame


def mark_met(pass_mark: Mapping[str, float], summary: Mapping[str, Any] | pd.Series) -> tuple[bool | None, list[str]]:
    """Whether an attempt's ``summary`` (a row of :func:`attempt_rows`) meets ``pass_mark``: (True/False, or
    None while undecidable, and what is unmet or missing, in words)."""
    unmet: list[str] = []
    undecided = False
    graded_all = summary["images_graded"] == summary["images"] and summary["images"] > 0
    handed_all = summary["state"] != "started"
    for key, mark in pass_mark.items():
        if key in ("stars", "max_missed") and not graded_all:
            undecided = True
            unmet.append(f"{summary['images'] - summary['images_graded']} of {summary['images']} images not graded")
            continue
        if key == "f1" and not handed_all:
            undecided = True
            unmet.append("not every image is handed in")
            continue
        value = summary["mean_stars" if key == "stars" else "missed" if key == "max_missed" else "f1"]
        ok = (value <= mark) if key == "max_missed" else (value >= mark)
        if math.isnan(float(value)) or not ok:
            what = {"stars": "mean stars", "max_missed": "missed", "f1": "F1"}[key]
            sign = "<=" if key == "max_missed" else ">="
            unmet.append(f"{what} {float(value):.2f}, the mark is {sign} {mark:g}")
    if undecided:
        return None, sorted(set(unmet))
    return not unmet, unmet


def attempt_rows(exam: Exam, attempts: Sequence[Attempt]) -> pd.DataFrame:
    """One row per attempt (columns :data:`ATTEMPT_COLUMNS`); see :meth:`Exam.results`."""
    loaded = _per_task(exam, attempts)
    _, scores, grades = loaded
    images = image_rows(exam, attempts, loaded)
    with exam.project._engine.connect() as conn:
        seconds = active_seconds(conn, [a.id for a in attempts])
    out = []
    for a in attempts:
        mine = images[images.attempt == a.id]
        handed = mine[mine.state != "drawing"]
        graded = mine[mine.graded]
        tp, fp, fn = (int(handed[c].sum()) for c in ("tp", "fp", "fn"))
        precision, recall, f = f1(tp, fp, fn)
        iou_sum = sum(float(scores[t].iou_sum) for t in handed.task)
        shape_tp = sum(_shape_tp(scores[t]) for t in handed.task)
        stars = [v for t in graded.task for v in final_stars(scores[t], grades[t]).values()]
        summary = {
            "attempt": a.id, "user": a.user, "number": a.number, "state": a.state, "started": a.started_at,
            "submitted": a.submitted_at, "active_seconds": seconds.get(a.id, 0.0),
            "images_graded": len(graded), "images": len(mine),
            "mean_stars": sum(stars) / len(stars) if stars else math.nan,
            "missed": int(graded.missed.sum()), "extra": fp, "wrong_label": int(handed.wrong_label.sum()),
            "precision": precision, "recall": recall, "f1": f,
            "mean_iou": iou_sum / shape_tp if shape_tp else math.nan,
        }  # fmt: skip
        met, _ = mark_met(exam.pass_mark, summary)
        result = RESULTS.get(a.state, "pending")
        out.append({**summary, "mark_met": met, "result": result})
    frame: pd.DataFrame = pd.DataFrame(out, columns=ATTEMPT_COLUMNS)
    frame["mark_met"] = frame["mark_met"].astype(object)  # True, False, or None while undecidable
    for c in ("started", "submitted"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame


def _shape_tp(score: Any) -> int:
    return sum(1 for e in _loads(score.detail).get("trainee", []) if e["kind"] != "tag" and e["status"] == "tp")


def label_rows(exam: Exam, attempts: Sequence[Attempt]) -> pd.DataFrame:
    """Per attempt and class: tp, fp, fn, wrong_label, precision, recall, f1, mean_iou of the handed-in
    images (a wrong label is a false positive of the class drawn and a miss of the gold's class)."""
    rows, scores, _ = _per_task(exam, attempts)
    acc: dict[tuple[int, str], list[float]] = {}
    for r in rows:
        s = scores.get(r.id)
        if s is None:
            continue
        detail = _loads(s.detail)
        for e in detail.get("trainee", []):
            c = acc.setdefault((r.attempt_id, str(e["label"])), [0, 0, 0, 0, 0.0])
            if e["status"] == "tp":
                c[0] += 1
                c[4] += float(e["iou"] or 0.0) if e["kind"] != "tag" else 0.0
            else:
                c[1] += 1
                c[3] += e["status"] == "wrong_label"
        for e in detail.get("gold", []):
            if e["status"] != "matched":
                acc.setdefault((r.attempt_id, str(e["label"])), [0, 0, 0, 0, 0.0])[2] += 1
    users = {a.id: (a.user, a.number) for a in attempts}
    out = []
    for (attempt_id, label), (tp, fp, fn, wl, iou) in sorted(acc.items()):
        precision, recall, f = f1(int(tp), int(fp), int(fn))
        out.append((attempt_id, *users[attempt_id], label, int(tp), int(fp), int(fn), int(wl), precision, recall, f,
                    iou / tp if tp else math.nan))  # fmt: skip
    cols = ["attempt", "user", "number", "label", "tp", "fp", "fn", "wrong_label", "precision", "recall", "f1",
            "mean_iou"]  # fmt: skip
    frame: pd.DataFrame = pd.DataFrame(out, columns=cols)
    return frame


def graded_instances(exam: Exam, attempt: Attempt) -> pd.DataFrame:
    """See :meth:`labnb.exams.attempts.Attempt.graded`."""
    p = exam.project
    role = p.members.role()
    reviewer = role is not None and RANK[role] >= RANK["reviewer"]
    if not reviewer and not exam.show_graded:
        raise AccessDenied(f"the exam '{exam.name}' does not show graded instances to trainees; see exam.results()")
    rows, scores, grades = _per_task(exam, [attempt])
    out = []
    for r in rows:
        s = scores.get(r.id)
        if s is None:
            continue
        g = grades.get(r.id)
        stars = final_stars(s, g) if g is not None else {}
        tag_verdicts = {int(k): bool(v) for k, v in _loads(g.tags).items()} if g is not None else {}
        for e in _loads(s.detail).get("trainee", []):
            i = int(e["id"])
            right = tag_verdicts.get(i, e.get("right")) if e["kind"] == "tag" else None
            out.append((i, r.asset_id, r.file_name, e["label"], e["kind"], e["status"], e["iou"],
                        stars.get(i) if g is not None else None, right, g is not None))  # fmt: skip
    cols = ["annotation", "asset", "file_name", "label", "kind", "status", "iou", "stars", "right", "graded"]
    frame: pd.DataFrame = pd.DataFrame(out, columns=cols)
    return frame
