"""Conversion between shapes and annotation rows, and the per-image read path.

Kept apart from the Project so that bulk imports, the annotator and the workflow share one definition
of how a shape is stored. Keypoints are stored flat in the class's point order, so the label's
keypoint names are needed both ways.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labnb.errors import GeometryError
from labnb.geometry import Box, Keypoints, Mask, Polygon, Shape, Tag
from labnb.schema import LabelClass
from labnb.store.tables import annotation_rows

#: Where an annotation comes from; "consensus" is written only by a job's merge of its passes.
SOURCES = ("human", "ground_truth", "prediction", "consensus")

#: Columns of an annotation row written by :func:`shape_row`, in this order.
ROW_COLUMNS = (
    "project_id",
    "asset_id",
    "label_id",
    "kind",
    "data",
    "x",
    "y",
    "w",
    "h",
    "area",
    "iscrowd",
    "attributes",
    "source",
    "model",
    "model_version",
    "score",
    "track_id",
    "revision",
    "deleted",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
)

READ_COLUMNS = (
    annotation_rows.c.id,
    annotation_rows.c.asset_id,
    annotation_rows.c.label_id,
    annotation_rows.c.kind,
    annotation_rows.c.data,
    annotation_rows.c.x,
    annotation_rows.c.y,
    annotation_rows.c.w,
    annotation_rows.c.h,
    annotation_rows.c.iscrowd,
    annotation_rows.c.attributes,
    annotation_rows.c.score,
    annotation_rows.c.track_id,
)


def dumps(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def geometry_data(shape: Shape, cls: LabelClass | None) -> Any:
    """The JSON-able geometry of ``shape`` (``None`` for a box, whose bbox columns say it all)."""
    if isinstance(shape, Keypoints):
        if cls is None:
            raise GeometryError(f"{shape._name()}: keypoints need a label with keypoint names")
        if not cls.keypoints:
            raise GeometryError(f"{shape._name()}: label '{cls.name}' has no keypoints in the schema")
        return shape.to_flat(cls.keypoints)
    return shape.to_data()


def shape_row(
    shape: Shape,
    *,
    project_id: int,
    asset_id: int,
    cls: LabelClass | None,
    user: str,
    now: datetime,
    source: str = "human",
    model: str | None = None,
    model_version: str | None = None,
    area: float | None = None,
) -> tuple[Any, ...]:
    """One row tuple in :data:`ROW_COLUMNS` order."""
    x, y, w, h = shape.bbox
    return (
        project_id,
        asset_id,
        cls.id if cls else None,
        shape.kind,
        dumps(geometry_data(shape, cls)),
        x,
        y,
        w,
        h,
        shape.area if area is None else area,
        bool(getattr(shape, "iscrowd", False)),
        dumps(shape.attributes) if shape.attributes else None,
        source,
        model,
        model_version,
        shape.score,
        shape.track_id,
        1,
        False,
        user,
        now,
        user,
        now,
    )


def row_to_shape(row: Any, classes_by_id: Mapping[int, LabelClass]) -> Shape:
    """Build the shape of a stored row (a SQLAlchemy Row with the :data:`READ_COLUMNS`)."""
    cls = classes_by_id.get(row.label_id) if row.label_id is not None else None
    common: dict[str, Any] = {
        "label": cls.name if cls else None,
        "attributes": orjson.loads(row.attributes) if row.attributes else {},
        "track_id": row.track_id,
        "score": row.score,
        "id": row.id,
    }
    data: Any = orjson.loads(row.data) if row.data is not None else None
    kind = row.kind
    if kind == "box":
        return Box(row.x, row.y, row.w, row.h, **common)
    if kind == "polygon":
        return Polygon(data, **common)
    if kind == "keypoints":
        assert cls is not None
        return Keypoints.from_flat(data, cls.keypoints, **common)
    if kind == "mask":
        return Mask(data, iscrowd=bool(row.iscrowd), **common)
    if kind == "tag":
        common.pop("label")
        return Tag(data["value"], group=data.get("group"), **common)
    raise GeometryError(f"annotation {row.id}: unknown kind {kind!r}")


def read_asset_shapes(
    conn: Connection,
    asset_id: int,
    classes_by_id: Mapping[int, LabelClass],
    sources: Sequence[str] = ("human", "ground_truth"),
    model: tuple[str, str] | None = None,
    *,
    outside_jobs: bool = False,
    hidden: Any = None,
) -> list[Shape]:
    """The live (not deleted) shapes of one image, oldest first; ``model`` = (name, version) keeps only
    what that model version wrote (its predictions); ``outside_jobs`` leaves out the passes of jobs (each
    person's blind work, opened through its task); ``hidden``, a condition on the rows, those the reader may
    not see (:func:`labnb.annotations.visibility.hidden_rows`)."""
    query = (
        sa.select(*READ_COLUMNS)
        .where(annotation_rows.c.asset_id == asset_id, annotation_rows.c.deleted.is_(False))
        .where(annotation_rows.c.source.in_(list(sources)))
        .order_by(annotation_rows.c.id)
    )
    if model is not None:
        query = query.where(annotation_rows.c.model == model[0], annotation_rows.c.model_version == model[1])
    if outside_jobs:
        query = query.where(annotation_rows.c.task_id.is_(None))
    if hidden is not None:
        query = query.where(sa.not_(hidden))
    rows = conn.execute(query).all()
    return [row_to_shape(r, classes_by_id) for r in rows]
