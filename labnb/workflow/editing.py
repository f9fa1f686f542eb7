"""Applying the annotator's edits to the store: one project call (one transaction, one event) per edit.

Edits arrive in order, debounced, from the browser. Each one succeeds or fails on its own: a failed
edit is reported back to the widget with its reason and loses nothing else.

A create whose shape carries ``prediction_id`` commits a model's suggestion: the new annotation is an
ordinary one of the widget's source that records the model, version and score of the stored prediction
row (never what the browser says) and the prediction's id (``prediction_id``, read back by
:func:`assist_origins`); its ``annotation.create`` event says so too (payload ``assist``). Every write goes
through :mod:`labnb.annotations.writer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.annotations.passes import check_pass_write
from labnb.annotations.visibility import visible
from labnb.annotations.writer import writing
from labnb.errors import LabnbError
from labnb.store.tables import annotation_rows
from labnb.widgets.serializers import dto_to_shape, ms_to_seconds

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
    duration = ms_to_seconds(edit.get("duration_ms"))
    if op == "create":
        shape = dto_to_shape(edit["shape"])
        prediction_id = _mapping(edit.get("shape")).get("prediction_id")
        project.members.require("annotator", "annotate")
        with writing(project) as w:
            (new_id,) = w.create(
                project.asset(asset_id),
                [shape],
                source=source,
                task_id=task_id,
                duration=duration,
                prediction_id=prediction_id,
            )
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


def assist_origins(project: Project, asset_id: int, source: str) -> dict[int, dict[str, Any]]:
    """The live ``source`` annotations of an image that record a model: {annotation id: {"model", "score",
    "prediction_id"}} (the prediction a committed suggestion came from; None for model output imported or
    written otherwise)."""
    a = annotation_rows
    with project._engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.id, a.c.model, a.c.score, a.c.prediction_id).where(
                a.c.asset_id == asset_id,
                a.c.source == source,
                a.c.model.is_not(None),
                a.c.deleted.is_(False),
                visible(project),
            )
        ).all()
    return {int(r.id): {"model": r.model, "score": r.score, "prediction_id": r.prediction_id} for r in rows}


def _own_annotation(
    project: Project, asset_id: int, annotation_id: Any, source: str, task_id: int | None = None
) -> tuple[int, float | None]:
    """The id, checked to belong to this image and source (a widget edits only what it shows), and to the
    task when there is one (which the user must still be allowed to work on), and its score."""
    if not isinstance(annotation_id, int):
        raise LabnbError(f"an update or delete needs the annotation id, got {annotation_id!r}")
    a = annotation_rows
    with project._engine.connect() as conn:
        row = conn.execute(
            sa.select(a.c.asset_id, a.c.source, a.c.score, a.c.task_id).where(
                a.c.id == annotation_id, a.c.project_id == project.id, visible(project)
            )
        ).first()
        if row is None or row.asset_id != asset_id or row.source != source:
            raise LabnbError(f"annotation {annotation_id} is not a {source} annotation of image {asset_id}")
        if task_id is not None:
            if row.task_id != task_id:
                raise LabnbError(f"annotation {annotation_id} is not part of task {task_id}")
            check_pass_write(conn, project, task_id, asset_id)
    return annotation_id, row.score
