"""An exam's gold: the trusted labels of its images, copied when the exam is created.

The copy (``exam_gold``) is what trainees are graded on, so later edits of the source labels (the ground
truth being corrected, a job merged again) never change an exam people have sat: each exam records the
snapshot's version and a SHA-256 of its rows. The rows live in their own table, never among the
annotations, so no annotation read (``p.annotations``, exports, a widget's state) can return them; only
:func:`gold_shapes` reads them, and its callers check the role first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from labnb.errors import LabnbError
from labnb.geometry import Shape
from labnb.store.rows import geometry_data, read_asset_shapes, row_to_shape
from labnb.store.tables import exam_gold

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.schema import LabelClass
    from labnb.workflow.jobs import Job

#: The sources an exam's gold may be taken from besides a job (whose consensus is taken).
GOLD_SOURCES = ("ground_truth", "consensus")


def source_name(gold: Any) -> str:
    """How ``exams.gold_source`` records where the gold came from."""
    return str(gold) if isinstance(gold, str) and gold in GOLD_SOURCES else f"job:{gold.id}"


def collect(project: Project, asset_ids: Sequence[int], gold: str | Job) -> dict[int, list[Shape]]:
    """The gold shapes of each image, from the project's ``ground_truth`` or ``consensus`` labels, or from
    a job (the consensus of its completed passes). Images without any are left out."""
    if isinstance(gold, str):
        if gold not in GOLD_SOURCES:
            raise LabnbError(f"gold must be one of {list(GOLD_SOURCES)} or a job, got {gold!r}")
        classes = project._classes_by_id()
        with project._engine.connect() as conn:
            found = {a: read_asset_shapes(conn, a, classes, (gold,)) for a in asset_ids}
    else:
        merged = gold.consensus(progress=False)
        found = {a: merged.get(a, []) for a in asset_ids}
    return {a: shapes for a, shapes in found.items() if shapes}


def gold_rows(project: Project, exam_id: int, gold: Mapping[int, Sequence[Shape]]) -> list[dict[str, Any]]:
    """The ``exam_gold`` rows of ``gold`` ({asset id: shapes}), in image then shape order."""
    schema = project.schema
    rows = []
    for asset_id, shapes in gold.items():
        for s in shapes:
            cls = schema.get(s.label) if s.label is not None and s.kind != "tag" else None
            x, y, w, h = s.bbox
            rows.append({
                "exam_id": exam_id, "asset_id": asset_id, "label_id": cls.id if cls else None, "kind": s.kind,
                "data": orjson.dumps(geometry_data(s, cls), option=orjson.OPT_SERIALIZE_NUMPY).decode(),
                "x": x, "y": y, "w": w, "h": h, "area": s.area, "iscrowd": bool(getattr(s, "iscrowd", False)),
                "attributes": orjson.dumps(s.attributes).decode() if s.attributes else None,
                "source_annotation_id": s.id,
            })  # fmt: skip
    return rows


def content_hash(rows: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of the snapshot's content (ids aside): equal hashes, equal gold."""
    keys = ("asset_id", "label_id", "kind", "data", "x", "y", "w", "h", "iscrowd", "attributes")
    body = [[r[k] for k in keys] for r in rows]
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


def gold_shapes(conn: sa.Connection, exam_id: int, asset_id: int, classes: Mapping[int, LabelClass]) -> list[Shape]:
    """The gold shapes of one image of an exam; their ``id`` is the gold instance's id (not an annotation's).
    Callers check that the reader may see the gold (reviewers and above)."""
    g = exam_gold
    rows = conn.execute(
        sa.select(
            g.c.id, g.c.asset_id, g.c.label_id, g.c.kind, g.c.data, g.c.x, g.c.y, g.c.w, g.c.h, g.c.iscrowd,
            g.c.attributes, sa.null().label("score"), sa.null().label("track_id"),
        )
        .where(g.c.exam_id == exam_id, g.c.asset_id == asset_id)
        .order_by(g.c.id)
    ).all()  # fmt: skip
    return [row_to_shape(r, classes) for r in rows]
