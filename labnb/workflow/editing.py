"""Applying the annotator's edits to the store: one project call (one transaction, one event) per edit.

Edits arrive in order, debounced, from the browser. Each one succeeds or fails on its own: a failed
edit is reported back to the widget with its reason and loses nothing else.

A create whose shape carries ``prediction_id`` commits a model's suggestion: the new annotation is an
ordinary one of the widget's source that records the model, version and score of the stored prediction
row (never what the browser says), and its ``annotation.create`` event says which prediction it came from
(payload ``assist``). That event is also how a widget later knows which prediction an annotation came
from (:func:`assist_origins`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from labnb.errors import LabnbError
from labnb.people import now, record_event
from labnb.store import database as db
from labnb.store.rows import ROW_COLUMNS
from labnb.store.tables import annotation_rows, events
from labnb.widgets.serializers import dto_to_shape

if TYPE_CHECKING:
    from labnb.project import Project


def apply_edits(
    project: Project,
    asset_id: int,
    edits: Sequence[Mapping[str, Any]],
    *,
    source: str = "human",
    task_id: int | None = None,
) -> list[dict[str, Any]]:
    """Apply create/update/delete/restore edits of one image; returns one result per edit, in order.

    Only annotations of ``source`` may be touched: an annotator working on human labels cannot edit
    ground truth (or a prediction) by sending its id. With ``task_id`` (a job's draw pass) only that pass's
    annotations, and only while the user may work on it (:func:`labnb.workflow.tasks.check_task_write`).
    """
    results: list[dict[str, Any]] = []
    for edit in edits:
        cid = str(edit.get("cid", ""))
        try:
            results.append({"cid": cid, "ok": True, **_apply(project, asset_id, edit, source, task_id)})
        except LabnbError as exc:
            results.append({"cid": cid, "ok": False, "message": str(exc)})
    return results


def _apply(
    project: Project, asset_id: int, edit: Mapping[str, Any], source: str, task_id: int | None
) -> dict[str, Any]:
    op = edit.get("op")
    duration = _seconds(edit.get("duration_ms"))
    if op == "create":
        prediction_id = _mapping(edit.get("shape")).get("prediction_id")
        if prediction_id is not None and task_id is None:
            return _commit_prediction(project, asset_id, edit["shape"], prediction_id, source, duration)
        shape = dto_to_shape(edit["shape"])
        (new_id,) = project.annotate(asset_id, [shape], source=source, duration=duration, task_id=task_id)
        return {"id": new_id, "revision": 1}
    annotation_id, score = _own_annotation(project, asset_id, edit.get("id"), source, task_id)
    if op == "update":
        shape = dto_to_shape(edit["shape"])
        shape.score = score  # the score is the model's and stays (the browser never sends one)
        revision = project.update_annotation(annotation_id, shape, duration=duration)
        return {"id": annotation_id, "revision": revision}
    if op == "delete":
        revision = project.delete_annotation(annotation_id, duration=duration)
    elif op == "restore":
        revision = project.restore_annotation(annotation_id)
    else:
        raise LabnbError(f"unknown edit {op!r}")
    return {"id": annotation_id, "revision": revision}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _commit_prediction(
    project: Project, asset_id: int, dto: Mapping[str, Any], prediction_id: Any, source: str, duration: float | None
) -> dict[str, Any]:
    """Create an annotation from a suggestion: checked to be a live prediction of this image, and recording
    the model, version and score of that prediction's row; the row, the check and the event in one
    transaction."""
    if not isinstance(prediction_id, int) or isinstance(prediction_id, bool):
        raise LabnbError(f"prediction_id must be an annotation id, got {prediction_id!r}")
    project.members.require("annotator", "annotate")
    if source == "ground_truth":
        project.members.require("reviewer", "write ground truth")
    shape = dto_to_shape(dto)
    target = project.asset(asset_id)
    stamp = now()
    row = dict(zip(ROW_COLUMNS, project._checked_row(shape, target, source, stamp), strict=True))
    a = annotation_rows
    with db.transaction(project._engine) as conn:
        pred = conn.execute(
            sa.select(a.c.asset_id, a.c.source, a.c.deleted, a.c.model, a.c.model_version, a.c.score).where(
                a.c.id == prediction_id, a.c.project_id == project.id
            )
        ).first()
        if pred is None or pred.source != "prediction" or pred.asset_id != asset_id or pred.deleted:
            raise LabnbError(f"annotation {prediction_id} is not a live prediction of image {asset_id}")
        row.update(model=pred.model, model_version=pred.model_version, score=pred.score)
        new_id = conn.execute(a.insert().values(row).returning(a.c.id)).scalar_one()
        assist = {
            "prediction_id": prediction_id,
            "model": pred.model,
            "version": pred.model_version,
            "score": pred.score,
        }
        record_event(
            conn,
            project.id,
            project.user,
            "annotation.create",
            asset_id=asset_id,
            annotation_id=new_id,
            duration=duration,
            payload={"annotation_ids": [new_id], "source": source, "assist": assist},
            time=stamp,
        )
    return {"id": int(new_id), "revision": 1}


def assist_origins(
    project: Project, asset_id: int, source: str, known: dict[int, int | None]
) -> dict[int, dict[str, Any]]:
    """The live ``source`` annotations of an image that record a model: {annotation id: {"model", "score",
    "prediction_id"}}, the prediction id read from the ``annotation.create`` event of a committed suggestion
    (None for one that was not). ``known`` caches the prediction ids (an annotation's origin never changes),
    so the events are read once per annotation."""
    a = annotation_rows
    with project._engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.id, a.c.model, a.c.score).where(
                a.c.asset_id == asset_id, a.c.source == source, a.c.model.is_not(None), a.c.deleted.is_(False)
            )
        ).all()
        missing = [int(r.id) for r in rows if r.id not in known]
        if missing:
            found = conn.execute(
                sa.select(events.c.annotation_id, events.c.payload).where(
                    events.c.project_id == project.id,
                    events.c.asset_id == asset_id,
                    events.c.kind == "annotation.create",
                    events.c.annotation_id.in_(missing),
                )
            ).all()
            for annotation_id, payload in found:
                assist = _mapping(orjson.loads(payload) if payload else None).get("assist")
                pid = _mapping(assist).get("prediction_id")
                known[int(annotation_id)] = pid if isinstance(pid, int) else None
            for m in missing:
                known.setdefault(m, None)
    return {int(r.id): {"model": r.model, "score": r.score, "prediction_id": known.get(int(r.id))} for r in rows}


def _own_annotation(
    project: Project, asset_id: int, annotation_id: Any, source: str, task_id: int | None = None
) -> tuple[int, float | None]:
    """The id, checked to belong to this image and source (a widget edits only what it shows), and to the
    task when there is one (which the user must still be allowed to work on), and its score."""
    from labnb.workflow.tasks import check_task_write  # noqa: PLC0415 - tasks imports the project layer

    if not isinstance(annotation_id, int):
        raise LabnbError(f"an update or delete needs the annotation id, got {annotation_id!r}")
    a = annotation_rows
    with project._engine.connect() as conn:
        row = conn.execute(
            sa.select(a.c.asset_id, a.c.source, a.c.score, a.c.task_id).where(
                a.c.id == annotation_id, a.c.project_id == project.id
            )
        ).first()
        if row is None or row.asset_id != asset_id or row.source != source:
            raise LabnbError(f"annotation {annotation_id} is not a {source} annotation of image {asset_id}")
        if task_id is not None:
            if row.task_id != task_id:
                raise LabnbError(f"annotation {annotation_id} is not part of task {task_id}")
            check_task_write(conn, project, task_id, asset_id)
    return annotation_id, row.score


def _seconds(ms: Any) -> float | None:
    if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
        return float(ms) / 1000.0
    return None
