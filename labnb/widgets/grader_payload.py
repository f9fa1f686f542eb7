"""What the exam grader's traits hold, built from the store's rows: the open image's instances (trainee and
gold, with the pre-score's verdicts and geometry in the browser's wire format), the attempt's images, its
summary line and its decision state.

Every name sent (labels, users, file names) goes through :func:`labnb.widgets.serializers.safe_text`; the
browser inserts text only. NaN (an image without instances has no mean) travels as None: JSON has no NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from labnb.exams.results import mark_met
from labnb.geometry import Tag
from labnb.widgets.grader_draft import UNMATCHED
from labnb.widgets.serializers import safe_text, shape_to_dto

if TYPE_CHECKING:
    from labnb.exams.attempts import Attempt
    from labnb.exams.exam import Exam
    from labnb.exams.grading_view import GradingItem

#: Why an image cannot be graded, by its state.
NOT_GRADABLE = "not handed in yet: it cannot be graded until the trainee hands it in"


def plain(value: Any) -> Any:
    """A value from a frame row as JSON: NaN and NaT as None, numpy scalars as Python ones."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return plain(value.item())
    return value


def _tag_label(s: Tag) -> str:
    return safe_text(f"{s.group}:{s.value}" if s.group else s.value)


def item_payload(item: GradingItem, index: int, count: int, shown: int, locked: str = "") -> dict[str, Any]:
    """The ``item`` trait: the open image, its trainee instances, gold instances and tags. ``locked``: why the
    attempt takes no more grades (it is decided; :func:`locked_text`): the image is then not ``gradable``
    (``scored`` still says it was handed in: its verdicts are shown) and ``note`` says why.

    ``trainee``: ``id``, ``label``, ``kind``, ``status`` (tp / fp / wrong_label; None before hand-in),
    ``gold`` (the gold id it matched), ``iou``, ``proposed`` (stars), ``shape`` (a ShapeDTO, cid ``t<id>``).
    ``gold``: ``id``, ``label``, ``kind``, ``status`` (matched / missed / wrong_label), ``match`` (the
    trainee id), ``iou``, ``markable`` (may be marked Missing), ``proposed_missing``, ``shape`` (cid
    ``g<id>``). ``tags``: the trainee's tags (``id``, ``label``, ``status``, ``proposed``: right?);
    ``gold_tags``: the gold's (``label``, ``found``)."""
    detail = item.detail or {"gold": [], "trainee": []}
    scored = {int(e["id"]): e for e in detail["trainee"]}
    judged = {int(e["id"]): e for e in detail["gold"] if e["kind"] != "tag"}
    trainee, tags = [], []
    for s in item.trainee:
        e: Mapping[str, Any] = scored.get(int(s.id or 0), {})
        if isinstance(s, Tag):
            tags.append({"id": s.id, "label": _tag_label(s), "status": e.get("status"), "proposed": e.get("right")})
            continue
        trainee.append({
            "id": s.id, "label": safe_text(s.label or ""), "kind": s.kind, "status": e.get("status"),
            "gold": e.get("gold"), "iou": e.get("iou"), "proposed": e.get("stars"),
            "shape": {**shape_to_dto(s, f"t{s.id}"), "label": safe_text(s.label or "")},
        })  # fmt: skip
    gold, gold_tags = [], []
    for g in item.gold:
        if isinstance(g, Tag):
            # the pre-score's rule: the trainee set the same (group, value)
            found = any(isinstance(t, Tag) and (t.group, t.value) == (g.group, g.value) for t in item.trainee)
            gold_tags.append({"label": _tag_label(g), "found": found})
            continue
        e = judged.get(int(g.id or 0), {})
        status = e.get("status")
        gold.append({
            "id": g.id, "label": safe_text(g.label or ""), "kind": g.kind, "status": status, "match": e.get("match"),
            "iou": e.get("iou"), "markable": status in UNMATCHED, "proposed_missing": status == "missed",
            "shape": {**shape_to_dto(g, f"g{g.id}"), "label": safe_text(g.label or "")},
        })  # fmt: skip
    saved = item.grade
    note = safe_text(locked) if locked else "" if item.gradable else f"{safe_text(item.file_name)} is {NOT_GRADABLE}"
    return {
        "asset_id": item.asset_id, "file_name": safe_text(item.file_name), "state": item.state,
        "scored": item.gradable, "gradable": item.gradable and not locked, "note": note,
        "index": index, "count": count, "shown": shown, "trainee": trainee, "gold": gold, "tags": tags,
        "gold_tags": gold_tags, "grader": safe_text(saved.grader) if saved else None,
        "graded_at": saved.graded_at.isoformat() if saved else None,
    }  # fmt: skip


def attempt_payload(a: Attempt) -> dict[str, Any]:
    """An attempt as the select and the head show it."""
    return {"id": a.id, "user": safe_text(a.user), "number": a.number, "state": a.state}


def images_payload(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``images`` trait: per image of the attempt, its state and grade figures (``attempt.images``)."""
    cols = ("asset", "file_name", "state", "graded", "mean_stars", "missed", "proposed_stars", "tp", "fp", "fn")
    out = []
    for r in frame.itertuples(index=False):
        row = {c: plain(getattr(r, c)) for c in cols}
        row["asset_id"] = row.pop("asset")
        row["file_name"] = safe_text(str(row["file_name"]))
        out.append(row)
    return out


def summary_payload(row: pd.Series) -> dict[str, Any]:
    """The ``summary`` trait: the attempt's line of ``exam.results()``."""
    cols = ("images_graded", "images", "mean_stars", "missed", "extra", "wrong_label", "precision", "recall", "f1",
            "mean_iou", "mark_met", "result", "state")  # fmt: skip
    return {c: plain(row[c]) for c in cols}


def locked_text(a: Attempt) -> str:
    """Why a decided attempt takes no more grades in the grader ("" while it is not decided)."""
    if a.state not in ("passed", "failed"):
        return ""
    by = f" by '{a.decided_by}'" if a.decided_by else ""
    return f"attempt {a.number} of '{a.user}' was {a.state}{by}: it is read-only, no more grading"


def mark_text(pass_mark: Mapping[str, float]) -> str:
    """The pass mark in words: "mean stars >= 3, F1 >= 0.5, missed <= 2"."""
    words = {"stars": "mean stars >=", "f1": "F1 >=", "max_missed": "missed <="}
    return ", ".join(f"{words.get(k, k)} {v:g}" for k, v in pass_mark.items()) or "none (any handed-in attempt)"


def decision_payload(exam: Exam, a: Attempt, row: pd.Series) -> dict[str, Any]:
    """The ``decision`` trait: the open attempt's decision state and what the pass mark makes of its results.

    ``state`` (started, submitted, passed, failed), ``decided_by``, ``decided_at``, ``decidable`` (handed in
    and not decided: Fail may be pressed), ``mark_met`` (True / False / None while undecidable, as
    :func:`labnb.exams.results.mark_met`), ``unmet`` (what is unmet or missing, in words), ``auto_met``
    (the automatic criteria, F1, are met: grading alone can still meet the mark), ``mark`` (the pass mark in
    words), ``grants`` (the credentials passing grants) and ``locked`` (:func:`locked_text`)."""
    met, unmet = mark_met(exam.pass_mark, row)
    auto = {k: v for k, v in exam.pass_mark.items() if k == "f1"}
    return {
        "state": a.state, "decided_by": safe_text(a.decided_by) if a.decided_by else None,
        "decided_at": a.decided_at.isoformat() if a.decided_at else None, "decidable": a.state == "submitted",
        "mark_met": met, "unmet": [safe_text(u) for u in unmet],
        "auto_met": mark_met(auto, row)[0] is True,
        "mark": mark_text(exam.pass_mark), "grants": [safe_text(g) for g in exam.grants], "locked": locked_text(a),
    }  # fmt: skip
