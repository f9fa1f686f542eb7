"""Applying the annotator's edits to the store: one project call (one transaction, one event) per edit.

Edits arrive in order, debounced, from the browser. Each one succeeds or fails on its own: a failed
edit is reported back to the widget with its reason and loses nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.errors import LabnbError
from labnb.store.tables import annotation_rows
from labnb.widgets.serializers import dto_to_shape

if TYPE_CHECKING:
    from labnb.project import Project


def apply_edits(
    project: Project, asset_id: int, edits: Sequence[Mapping[str, Any]], *, source: str = "human"
) -> list[dict[str, Any]]:
    """Apply create/update/delete/restore edits of one image; returns one result per edit, in order.

    Only annotations of ``source`` may be touched: an annotator working on human labels cannot edit
    ground truth (or a prediction) by sending its id.
    """
    results: list[dict[str, Any]] = []
    for edit in edits:
        cid = str(edit.get("cid", ""))
        try:
            results.append({"cid": cid, "ok": True, **_apply(project, asset_id, edit, source)})
        except LabnbError as exc:
            results.append({"cid": cid, "ok": False, "message": str(exc)})
    return results


def _apply(project: Project, asset_id: int, edit: Mapping[str, Any], source: str) -> dict[str, Any]:
    op = edit.get("op")
    duration = _seconds(edit.get("duration_ms"))
    if op == "create":
        (new_id,) = project.annotate(asset_id, [dto_to_shape(edit["shape"])], source=source, duration=duration)
        return {"id": new_id, "revision": 1}
    annotation_id = _own_annotation(project, asset_id, edit.get("id"), source)
    if op == "update":
        revision = project.update_annotation(annotation_id, dto_to_shape(edit["shape"]), duration=duration)
        return {"id": annotation_id, "revision": revision}
    if op == "delete":
        revision = project.delete_annotation(annotation_id, duration=duration)
    elif op == "restore":
        revision = project.restore_annotation(annotation_id)
    else:
        raise LabnbError(f"unknown edit {op!r}")
    return {"id": annotation_id, "revision": revision}


def _own_annotation(project: Project, asset_id: int, annotation_id: Any, source: str) -> int:
    """The id, checked to belong to this image and source: a widget edits only what it shows."""
    if not isinstance(annotation_id, int):
        raise LabnbError(f"an update or delete needs the annotation id, got {annotation_id!r}")
    with project._engine.connect() as conn:
        row = conn.execute(
            sa.select(annotation_rows.c.asset_id, annotation_rows.c.source).where(
                annotation_rows.c.id == annotation_id, annotation_rows.c.project_id == project.id
            )
        ).first()
    if row is None or row.asset_id != asset_id or row.source != source:
        raise LabnbError(f"annotation {annotation_id} is not a {source} annotation of image {asset_id}")
    return annotation_id


def _seconds(ms: Any) -> float | None:
    if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
        return float(ms) / 1000.0
    return None
